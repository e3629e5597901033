/**
 * Child-process entry that runs B's application side for targets where each stream costs a
 * socket, so those sockets do not count against the worker's file-descriptor limit.
 *
 * IPC requests (each answered with `{ id, port? , error? }`):
 *  - `{ id, op: 'tcp', kind }`: listen on 127.0.0.1:0, serve every connection with `kind`.
 *  - `{ id, op: 'unix', kind, path }`: listen on the unix socket `path`, serve every
 *    connection with `kind`.
 *  - `{ id, op: 'p2pd', path }`: listen on the unix socket `path` as a p2pd stream handler
 *    (StreamInfo first), dispatching on its protocol.
 *  - `{ id, op: 'route', protocol, kind }`: serve `protocol` on the p2pd (and HTTP callback)
 *    listener with `kind`.
 *  - `{ id, op: 'http', path }`: listen on the unix socket `path` as a libp2pd HTTP callback
 *    server: each POSTed `Stream` is answered 204, and its `socketPath` connected and served.
 *  - `{ id, op: 'unary', control, protocol }`: open a hivemind persistent connection to the
 *    p2pd control socket `control` and answer every unary call on `protocol` with its data.
 */
import net from 'node:net'
import http from 'node:http'
import { once } from 'node:events'
import { exitWithParent } from './child.ts'
import { PersistentConnection } from './p2pd-wire.ts'
import { serveHandler } from './handlers.ts'
import { socketPipe } from './pipes.ts'
import { readStreamInfo } from './stream-info.ts'
import type { HandlerKind } from './target.ts'

type HostRequest = { id: number } & (
  { op: 'tcp', kind: HandlerKind } | { op: 'unix', kind: HandlerKind, path: string } | { op: 'p2pd', path: string } | { op: 'route', protocol: string, kind: HandlerKind } |
  { op: 'http', path: string } | { op: 'unary', control: string, protocol: string })

exitWithParent()

const routes = new Map<string, HandlerKind>()

function listener (onSocket: (socket: net.Socket) => void): net.Server {
  const server = net.createServer({ noDelay: true }, onSocket)
  server.maxConnections = 1 << 20
  return server
}

/** Persistent connections kept open for the unary plane (closed when this process exits). */
const persistent: PersistentConnection[] = []

/** The program side of an inbound HTTP-plane stream: connect to its socket and serve it. */
function serveStreamSocket (socketPath: string, kind: HandlerKind): void {
  const socket = net.connect({ path: socketPath, allowHalfOpen: true })
  socket.setNoDelay(true)
  void serveHandler(kind, socketPipe(socket))
}

/** A libp2pd HTTP callback server: answers 204 at once, then takes the stream. */
function callbackServer (): http.Server {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        const stream = JSON.parse(Buffer.concat(chunks).toString()) as { protocol: string, socketPath: string }
        const kind = routes.get(stream.protocol)
        if (kind == null) throw new Error(`no handler for ${stream.protocol}`)
        res.writeHead(204).end()
        serveStreamSocket(stream.socketPath, kind)
      } catch (err) {
        res.writeHead(500).end((err as Error).message)
      }
    })
  })
  server.maxConnections = 1 << 20
  return server
}

async function handle (request: HostRequest): Promise<{ port?: number }> {
  if (request.op === 'http') {
    const server = callbackServer()
    server.listen({ path: request.path, backlog: 4096 })
    await once(server, 'listening')
    return {}
  }
  if (request.op === 'unary') {
    const conn = await PersistentConnection.open(request.control, AbortSignal.timeout(10_000))
    persistent.push(conn)
    await conn.serve(request.protocol, (data) => data)
    return {}
  }
  if (request.op === 'route') {
    routes.set(request.protocol, request.kind)
    return {}
  }
  if (request.op === 'tcp' || request.op === 'unix') {
    const { kind } = request
    const server = listener((socket) => { void serveHandler(kind, socketPipe(socket)) })
    if (request.op === 'unix') server.listen({ path: request.path, backlog: 4096 })
    else server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 })
    await once(server, 'listening')
    return request.op === 'unix' ? {} : { port: (server.address() as net.AddressInfo).port }
  }
  const server = listener((socket) => {
    readStreamInfo(socket, AbortSignal.timeout(10_000)).then(async (proto) => {
      const kind = routes.get(proto)
      if (kind == null) throw new Error(`no handler for ${proto}`)
      await serveHandler(kind, socketPipe(socket))
    }).catch(() => socket.destroy())
  })
  server.listen({ path: request.path, backlog: 4096 })
  await once(server, 'listening')
  return {}
}

process.on('message', (request: HostRequest) => {
  handle(request).then(
    (reply) => process.send?.({ id: request.id, ...reply }),
    (err: Error) => process.send?.({ id: request.id, error: err.message })
  )
})
process.send?.({ ready: true })
