/**
 * The program side of the HTTP API, written as any program would with node:http and
 * node:net: a callback server that receives `Stream` objects (over loopback TCP or a unix
 * socket) and connects to their `socketPath`, plus small socket utilities.
 */
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import type { Server } from 'node:http'
import type { Socket } from 'node:net'

/** What a callback receives: the `Stream` JSON and the remote peer from the URL. */
export interface CallbackCall {
  stream: any
  remoteFromUrl: string
  path: string
}

/** Decides the answer to a callback: a status (default 204) and what to do with the stream. */
export type CallbackBehaviour = (call: CallbackCall) => { status?: number, noAnswer?: boolean, run?: (socket: Socket) => void, connect?: boolean }

/** A running callback server. */
export interface CallbackServer {
  /** The `callback` value to register: `http://127.0.0.1:<port>` or `unix:<path>`. */
  url: string
  calls: CallbackCall[]
  close: () => Promise<void>
}

/** Starts a callback server on loopback TCP (`kind: 'tcp'`) or a unix socket in `dir`. */
export async function startCallbackServer (kind: 'tcp' | 'unix', behaviour: CallbackBehaviour, dir = '/tmp'): Promise<CallbackServer> {
  const calls: CallbackCall[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const m = /^\/api\/client\/peers\/([^/]+)\/streams$/.exec(req.url ?? '')
      if (req.method !== 'POST' || m == null) { res.writeHead(404).end(); return }
      const call: CallbackCall = { stream: JSON.parse(Buffer.concat(chunks).toString()), remoteFromUrl: decodeURIComponent(m[1]), path: req.url ?? '' }
      calls.push(call)
      const b = behaviour(call)
      if (b.noAnswer === true) return
      res.writeHead(b.status ?? 204).end()
      if (b.connect !== false && (b.status ?? 204) < 300) {
        const s = connectStream(call.stream.socketPath)
        sockets.add(s)
        s.on('close', () => sockets.delete(s))
        b.run?.(s)
      }
    })
  })
  server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  let url: string
  if (kind === 'tcp') {
    await new Promise<void>(resolve => server.listen({ host: '127.0.0.1', port: 0 }, resolve))
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  } else {
    const path = join(dir, `cb-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`)
    await new Promise<void>(resolve => server.listen({ path }, resolve))
    url = `unix:${path}`
  }
  return {
    url,
    calls,
    async close () {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

/** Connects to a stream socket (half-open allowed, so `end()` is a half-close). */
export function connectStream (socketPath: string): Socket {
  const s = connect({ path: socketPath, allowHalfOpen: true })
  s.on('error', () => {})
  return s
}

/** Echoes everything back and half-closes after the remote half-closed. */
export function echo (s: Socket): void {
  s.pipe(s)
}

/** Reads until EOF; resolves with the bytes (rejects after `timeoutMs`, default 60 s). */
export async function readAll (s: Socket, timeoutMs = 60_000): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const t = setTimeout(() => { reject(new Error(`readAll: no EOF within ${timeoutMs} ms (${chunks.reduce((n, c) => n + c.length, 0)} bytes)`)) }, timeoutMs)
    s.on('data', (c: Buffer) => chunks.push(c))
    s.once('end', () => { clearTimeout(t); resolve(Buffer.concat(chunks)) })
    s.once('close', () => { clearTimeout(t); resolve(Buffer.concat(chunks)) })
  })
}

/**
 * Resolves when the daemon has closed the socket: EOF on the read side or a full close.
 * (A reset reaches the program as EOF with writes failing; the event feed says "reset".)
 */
export async function closed (s: Socket, timeoutMs = 30_000): Promise<void> {
  if (s.destroyed || s.readableEnded) return
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => { reject(new Error(`socket not closed within ${timeoutMs} ms`)) }, timeoutMs)
    const done = (): void => { clearTimeout(t); resolve() }
    s.once('close', done)
    s.once('end', done)
    s.resume()
  })
}

/** Writes `data` respecting backpressure, then half-closes; rejects if the socket closes first. */
export async function writeAllAndEnd (s: Socket, data: Buffer, chunk = 64 * 1024): Promise<void> {
  const gone = (): Error => new Error(`socket closed after ${s.bytesWritten} of ${data.length} bytes were written`)
  for (let i = 0; i < data.length; i += chunk) {
    if (s.destroyed) throw gone()
    if (!s.write(data.subarray(i, i + chunk))) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => { s.off('close', onClose); resolve() }
        const onClose = (): void => { s.off('drain', onDrain); reject(gone()) }
        s.once('drain', onDrain)
        s.once('close', onClose)
      })
    }
  }
  await new Promise<void>((resolve, reject) => { s.end((err?: Error) => { if (err != null) reject(err); else resolve() }) })
}

/** sha256 hex. */
export function sha256 (data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Resolves after `ms`. */
export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Polls `check` every 20 ms until it holds or `ms` have passed; returns its last answer. */
export async function eventually (check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (check()) return true
    await sleep(20)
  }
  return check()
}
