/**
 * Child-process entry for the `relay` target: a process that only forwards bytes. Two of
 * them stand where the two daemons stand (program → A over a unix socket, A → B over TCP,
 * B → handler over a unix socket), so a stream crosses the same processes and sockets as
 * through libp2pd, with no security, muxing or control plane: the floor of the daemon
 * design on this machine (docs/performance.md, "What limits the open goals").
 *
 * IPC request (answered with `{ id, port?, error? }`):
 *  - `{ id, op: 'forward', listen: { path } | { port: 0 }, to: { path } | { port } }`:
 *    listen on a unix path or on 127.0.0.1; forward every accepted connection to `to`
 *    over a connection of its own, both ways, half-close and errors included.
 */
import net from 'node:net'
import { once } from 'node:events'
import { exitWithParent } from './child.ts'

/** A unix socket path, or a TCP port on 127.0.0.1 (`0` to listen on any free port). */
type Place = { path: string } | { port: number }

interface ForwardRequest { id: number, op: 'forward', listen: Place, to: Place }

exitWithParent()

/**
 * Joins two sockets as the daemon's bridge joins a socket and a stream: each chunk is
 * written on as it comes, a full side pauses the other until it drains, an end is carried
 * as a half-close, and an error or abrupt close on one side destroys the other.
 */
function join (a: net.Socket, b: net.Socket): void {
  const oneWay = (from: net.Socket, to: net.Socket): void => {
    from.on('data', (chunk: Buffer) => { if (!to.write(chunk)) from.pause() })
    to.on('drain', () => { from.resume() })
    from.on('end', () => { to.end() })
  }
  oneWay(a, b)
  oneWay(b, a)
  const teardown = (): void => { a.destroy(); b.destroy() }
  for (const s of [a, b]) {
    s.on('error', teardown)
    s.on('close', () => { if (!(s.readableEnded && s.writableFinished)) teardown() })
  }
}

function connectTo (to: Place): net.Socket {
  return 'path' in to
    ? net.connect({ path: to.path, allowHalfOpen: true })
    : net.connect({ host: '127.0.0.1', port: to.port, allowHalfOpen: true, noDelay: true })
}

async function forward (request: ForwardRequest): Promise<{ port?: number }> {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (inbound) => {
    join(inbound, connectTo(request.to))
  })
  server.maxConnections = 1 << 20
  const { listen } = request
  if ('path' in listen) server.listen({ path: listen.path, backlog: 4096 })
  else server.listen({ host: '127.0.0.1', port: listen.port, backlog: 4096 })
  await once(server, 'listening')
  return 'path' in listen ? {} : { port: (server.address() as net.AddressInfo).port }
}

process.on('message', (request: ForwardRequest) => {
  forward(request).then(
    (reply) => process.send?.({ id: request.id, ...reply }),
    (err: Error) => process.send?.({ id: request.id, error: err.message })
  )
})
process.send?.({ ready: true })
