/**
 * Incoming streams for the HTTP plane: the handler-registry target that gives each stream a
 * socket of its own and POSTs the spec's `Stream` to the program's callback server at
 * `<base>/api/client/peers/<remote id>/streams`. Callbacks must be local: loopback TCP
 * (`http://127.0.0.1:<port>`, `http://[::1]:<port>`) or a unix socket (`unix:/abs/path`).
 * The POST has a 10 s timeout and follows no redirects; if it fails the registry resets
 * the stream (the socket server then closes and its file is removed).
 */
import { Agent, request } from 'node:http'
import { isAbsolute } from 'node:path'
import { deadline } from '../../core/deadline.js'
import { exposeStreamSocket } from '../../core/streams.js'
import { Errors } from '../../errors.js'
import { checkUnixPathLength, isLoopbackHost } from '../../net/endpoint.js'
import { streamJson } from './views.js'
import type { CoreContext } from '../../core/context.js'
import type { HandlerTarget } from '../../streams/handlers.js'
import type { Connection, Stream } from '@libp2p/interface'

/** How long the program's server has to answer the callback POST. */
export const CALLBACK_TIMEOUT_MS = 10_000

/** A parsed callback base address. */
export type CallbackAddress =
  | { kind: 'tcp', host: string, port: number, basePath: string, text: string }
  | { kind: 'unix', path: string, basePath: '', text: string }

/**
 * Parses and checks a callback base address.
 *
 * @throws ERR_BAD_REQUEST for anything but a loopback HTTP URL or an absolute unix path
 */
export function parseCallback (text: string): CallbackAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length)
    if (!isAbsolute(path) || path.includes('\0')) throw Errors.badRequest(`callback ${JSON.stringify(text.slice(0, 200))}: unix: needs an absolute socket path`)
    checkUnixPathLength(path)
    return { kind: 'unix', path, basePath: '', text }
  }
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw Errors.badRequest(`callback ${JSON.stringify(text.slice(0, 200))} is not a URL (use http://127.0.0.1:<port>, http://[::1]:<port> or unix:/path)`)
  }
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (url.protocol !== 'http:') throw Errors.badRequest(`callback must use http: (got ${url.protocol})`)
  if (!isLoopbackHost(host)) throw Errors.badRequest(`callback host ${url.hostname} is not a loopback address (127.0.0.0/8 or [::1])`)
  if (url.port === '') throw Errors.badRequest('callback needs an explicit port')
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw Errors.badRequest('callback must not carry credentials, a query or a fragment')
  }
  return { kind: 'tcp', host, port: Number(url.port), basePath: url.pathname.replace(/\/+$/, ''), text }
}

/**
 * How long an idle pooled connection to a callback server is kept. Far below the idle
 * timeouts servers use (Node 5 s, Go and Python longer), so the daemon drops an idle
 * connection before the program's server does, and Node's agent also honours a shorter
 * `Keep-Alive: timeout=` hint from the server.
 */
export const CALLBACK_IDLE_MS = 1_000

/** Errors that mean "the pooled connection was already closed by the server". */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED'])

/**
 * Posts `Stream` objects to callback servers. One per plane; `close` aborts what is in flight.
 *
 * Connections are kept alive between callbacks: a stream per request otherwise pays a
 * connect, an accept and a close on both sides for every stream (about 10% of the rate in
 * `bench/`, stream-per-request over HTTP). The known hazard of keep-alive is the server
 * closing an idle connection just as a request is written on it; such a request fails
 * before any answer and was never read, so it is sent once more on a fresh connection.
 */
export class CallbackClient {
  private readonly agent = new Agent({ keepAlive: true, timeout: CALLBACK_IDLE_MS, maxSockets: Infinity })

  constructor (private readonly closing: AbortSignal) {}

  /** POSTs `body` to `<cb>/api/client/peers/<remoteId>/streams`; resolves on a 2xx answer. */
  async post (cb: CallbackAddress, remoteId: string, body: unknown): Promise<void> {
    const payload = Buffer.from(JSON.stringify(body))
    const limit = deadline(CALLBACK_TIMEOUT_MS, this.closing)
    const path = `${cb.basePath}/api/client/peers/${encodeURIComponent(remoteId)}/streams`
    try {
      await this.send(cb, path, payload, limit.signal, this.agent)
    } catch (err: any) {
      if (!(err instanceof StaleConnectionError)) throw err
      // a fresh connection, outside the pool: the pool may hold more stale ones
      await this.send(cb, path, payload, limit.signal, false)
    } finally {
      limit.clear()
    }
  }

  private async send (cb: CallbackAddress, path: string, payload: Buffer, signal: AbortSignal, agent: Agent | false): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const req = request({
        ...(cb.kind === 'unix' ? { socketPath: cb.path } : { host: cb.host, port: cb.port }),
        method: 'POST',
        path,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': payload.byteLength }
      }, res => {
        signal.removeEventListener('abort', onAbort)
        res.resume()
        const status = res.statusCode ?? 0
        if (status >= 200 && status < 300) resolve()
        else reject(Errors.callbackFailed(`callback ${cb.text} answered ${status}`))
      })
      // the deadline destroys the request itself: `request`'s own `signal` option goes through
      // Node's addAbortSignal machinery, 20 µs of daemon CPU per inbound stream (perf, tenth session)
      const onAbort = (): void => { req.destroy(signal.reason) }
      req.on('error', (err: NodeJS.ErrnoException) => {
        signal.removeEventListener('abort', onAbort)
        // no answer yet on a reused connection that the server had already closed
        if (req.reusedSocket && !signal.aborted && STALE_CONNECTION.has(err.code ?? '')) {
          reject(new StaleConnectionError(err))
          return
        }
        const why = signal.aborted && !this.closing.aborted ? `no answer within ${CALLBACK_TIMEOUT_MS} ms` : err.message
        reject(Errors.callbackFailed(`callback ${cb.text} failed: ${why}`, { cause: err }))
      })
      // already past the deadline: nothing is written, the 'error' above reports it
      if (signal.aborted) { onAbort(); return }
      signal.addEventListener('abort', onAbort, { once: true })
      req.end(payload)
    })
  }

  /** Drops pooled sockets. */
  close (): void {
    this.agent.destroy()
  }
}

/** A request lost to a pooled connection the server closed: safe to send again. */
class StaleConnectionError extends Error {
  constructor (cause: Error) {
    super('pooled callback connection was closed by the server', { cause })
  }
}

/**
 * A handler target for the registry: each inbound stream becomes a stream socket, then
 * the program is told about it. Rejects (and so gets the stream reset) if the POST fails.
 */
export function callbackTarget (ctx: CoreContext, client: CallbackClient, cb: CallbackAddress): HandlerTarget {
  return {
    key: cb.text,
    kind: 'http',
    address: cb.text,
    async deliver (stream: Stream, connection: Connection): Promise<void> {
      const entry = await exposeStreamSocket(ctx, stream, connection, 'INCOMING')
      await client.post(cb, entry.remoteID, streamJson(entry))
    }
  }
}
