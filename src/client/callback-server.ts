/**
 * The program's own HTTP server that the daemon calls for every incoming stream
 * (`POST <callback>/api/client/peers/<remote id>/streams`, the spec's client route). It
 * answers 204 at once, connects to the stream's socket and runs the protocol's handler;
 * streams are handled concurrently and a handler that throws resets only its stream.
 *
 * It listens on a unix socket in a private (0700) temp directory, or on loopback TCP under
 * a random path prefix so other local users cannot inject streams. Servers start on first
 * use; `close()` stops them, removes the directory and resets streams still open.
 */
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectStream } from './stream-socket.js'
import type { Libp2pdStream, StreamOps } from './stream-socket.js'
import type { StreamInfo } from './types.js'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

/** Called for every incoming stream of a protocol; may be async. Owns the stream. */
export type StreamHandler = (stream: Libp2pdStream, info: StreamInfo) => void | Promise<void>

/** How the daemon reaches the callback server. */
export type CallbackKind = 'unix' | 'tcp'

/** Reports failures that have no caller to reject (a handler threw, a socket was gone). */
export type ErrorReporter = (err: Error, info?: StreamInfo) => void

interface Listening {
  server: Server
  /** Base URL as the daemon wants it: `unix:/path` or `http://127.0.0.1:<port>/<secret>`. */
  base: string
  /** Path prefix of accepted requests. */
  prefix: string
  dir?: string
}

const MAX_CALLBACK_BODY = 64 << 10
const ROUTE = /^\/api\/client\/peers\/[^/]+\/streams$/

/** The callback servers of one client and the handlers they dispatch to. */
export class CallbackServers {
  private readonly listening = new Map<CallbackKind, Promise<Listening>>()
  private readonly handlers = new Map<string, StreamHandler>()
  private readonly open = new Set<Libp2pdStream>()
  private closed = false

  constructor (private readonly ops: StreamOps, private readonly report: ErrorReporter) {}

  /** The base URL of the server of `kind`, starting it if needed. */
  async base (kind: CallbackKind): Promise<string> {
    if (this.closed) throw new Error('the client is closed')
    let l = this.listening.get(kind)
    if (l === undefined) {
      l = this.listen(kind)
      this.listening.set(kind, l)
      l.catch(() => { this.listening.delete(kind) })
    }
    return (await l).base
  }

  /** Sets the handler of a protocol (replacing any earlier one of this client). */
  set (protocol: string, handler: StreamHandler): void {
    this.handlers.set(protocol, handler)
  }

  /** Removes a protocol's handler; streams already running continue. */
  delete (protocol: string): void {
    this.handlers.delete(protocol)
  }

  /** Protocols with a handler. */
  protocols (): string[] {
    return [...this.handlers.keys()]
  }

  /** Stops the servers, removes their files and resets streams still open. */
  async close (): Promise<void> {
    this.closed = true
    this.handlers.clear()
    for (const s of this.open) s.destroy()
    const all = await Promise.allSettled(this.listening.values())
    this.listening.clear()
    await Promise.all(all.map(async r => {
      if (r.status !== 'fulfilled') return
      const { server, dir } = r.value
      await new Promise<void>(resolve => { server.close(() => { resolve() }); server.closeAllConnections() })
      if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    }))
  }

  private async listen (kind: CallbackKind): Promise<Listening> {
    const server = createServer({ requestTimeout: 10_000, headersTimeout: 10_000 }, (req, res) => { this.onRequest(req, res, prefix) })
    let prefix = ''
    if (kind === 'unix') {
      const dir = await mkdtemp(join(tmpdir(), 'libp2pd-cb-'))
      const path = join(dir, 'callback.sock')
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen({ path }, () => { server.off('error', reject); resolve() })
        })
      } catch (err) {
        await rm(dir, { recursive: true, force: true })
        throw err
      }
      return { server, base: `unix:${path}`, prefix, dir }
    }
    prefix = `/${randomBytes(16).toString('hex')}`
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: '127.0.0.1', port: 0 }, () => { server.off('error', reject); resolve() })
    })
    const { port } = server.address() as { port: number }
    return { server, base: `http://127.0.0.1:${port}${prefix}`, prefix }
  }

  private onRequest (req: IncomingMessage, res: ServerResponse, prefix: string): void {
    const path = (req.url ?? '').split('?')[0]
    if (req.method !== 'POST' || !path.startsWith(prefix) || !ROUTE.test(path.slice(prefix.length))) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'no such route', code: 'ERR_ROUTE_NOT_FOUND' }))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.byteLength
      if (size > MAX_CALLBACK_BODY) req.destroy()
      else chunks.push(c)
    })
    req.on('end', () => {
      let info: StreamInfo
      try {
        info = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        if (typeof info?.socketPath !== 'string' || typeof info.id !== 'string' || typeof info.protocol !== 'string') throw new Error('not a Stream')
      } catch (err: any) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.message, code: 'ERR_BAD_REQUEST' }))
        return
      }
      const handler = this.handlers.get(info.protocol)
      if (handler === undefined || this.closed) {
        // the daemon resets the stream: nobody here wants it
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no handler for ${info.protocol}`, code: 'ERR_HANDLER_NOT_FOUND' }))
        return
      }
      // answer first: the daemon waits for this before it expects the socket connection
      res.writeHead(204).end()
      void this.run(info, handler)
    })
  }

  private async run (info: StreamInfo, handler: StreamHandler): Promise<void> {
    let stream: Libp2pdStream
    try {
      stream = await connectStream(info, this.ops, AbortSignal.timeout(10_000))
    } catch (err: any) {
      this.report(err, info)
      return
    }
    if (this.closed) { stream.destroy(); return }
    this.open.add(stream)
    stream.once('close', () => { this.open.delete(stream) })
    // an error nobody listens for would crash the program: report it instead
    stream.on('error', (err: Error) => { if (stream.listenerCount('error') === 1) this.report(err, info) })
    try {
      await handler(stream, info)
    } catch (err: any) {
      this.report(err instanceof Error ? err : new Error(String(err)), info)
      stream.destroy()
    }
  }
}
