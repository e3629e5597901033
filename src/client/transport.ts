/**
 * HTTP to the daemon over a unix socket or loopback TCP, with a keep-alive agent, per-call
 * timeouts and abort signals, and every failure mapped to a named error. JSON calls read
 * the whole answer; streaming calls hand back the response once its headers arrived.
 */
import { Agent, request } from 'node:http'
import { Libp2pdError, TimeoutError, abortError, errorFromResponse, timeoutError, unreachableError } from './errors.js'
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http'

/** Where the daemon's HTTP API listens. */
export type Endpoint =
  | { kind: 'unix', path: string }
  | { kind: 'tcp', host: string, port: number }

/** One request to the daemon. */
export interface RequestSpec {
  method: 'GET' | 'POST' | 'DELETE'
  /** Path with already-encoded segments, e.g. `/api/daemon/peers/<id>`. */
  path: string
  query?: Record<string, string | undefined>
  /** JSON body; no body (and no content type) when undefined. */
  body?: unknown
  /** `Accept` header. @default application/json */
  accept?: string
}

/** Options of a single request. */
export interface CallLimits {
  signal?: AbortSignal
  /** Milliseconds; 0 or Infinity for none; below 0 (a deadline already past) fails at once. */
  timeout?: number
}

/** Methods safe to send twice: only these are resent after a pooled socket fails. */
const IDEMPOTENT = new Set(['GET', 'DELETE'])

/** The largest JSON answer accepted, so a confused server cannot exhaust memory. */
const MAX_BODY = 64 << 20

/**
 * Parses the daemon address forms the client accepts: `http://host:port`, `unix:/path`,
 * or the multiaddrs the banner prints (`/unix/<path>`, `/ip4/<ip>/tcp/<port>`,
 * `/ip6/<ip>/tcp/<port>`, `/dns*\/<name>/tcp/<port>`).
 */
export function parseEndpoint (text: string): Endpoint {
  if (text.startsWith('unix:')) return { kind: 'unix', path: text.slice('unix:'.length) }
  if (text.startsWith('/unix/')) return { kind: 'unix', path: decodeURIComponent(text.slice('/unix'.length)) }
  const ma = /^\/(ip4|ip6|dns|dns4|dns6)\/([^/]+)\/tcp\/(\d+)\/?$/.exec(text)
  if (ma !== null) return { kind: 'tcp', host: ma[2], port: Number(ma[3]) }
  let url: URL
  try { url = new URL(text) } catch { throw new TypeError(`not a daemon address: ${text}`) }
  if (url.protocol !== 'http:') throw new TypeError(`the daemon speaks plain http on loopback, not ${url.protocol}`)
  return { kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port === '' ? 80 : url.port) }
}

/** A printable form of an endpoint, for messages. */
export function formatEndpoint (ep: Endpoint): string {
  return ep.kind === 'unix' ? `unix:${ep.path}` : `http://${ep.host.includes(':') ? `[${ep.host}]` : ep.host}:${ep.port}`
}

/** The HTTP connection to one daemon. */
export class HttpTransport {
  /** Idle sockets are dropped before the daemon's 5 s keep-alive timeout closes them. */
  private readonly agent = new Agent({ keepAlive: true, timeout: 4000, maxSockets: Infinity })
  readonly where: string

  /** @param defaultTimeout ms for a call that gives none (0 or Infinity: none) */
  constructor (readonly endpoint: Endpoint, private readonly token: string | undefined, readonly defaultTimeout: number) {
    this.where = formatEndpoint(endpoint)
  }

  /** Sends a request and parses the JSON answer (`undefined` for 204); a non-2xx answer throws its named error. */
  async json<T> (spec: RequestSpec, options: CallLimits = {}): Promise<T> {
    const res = await this.send(spec, options, false)
    const { status, body } = res as { status: number, body: unknown }
    if (status >= 200 && status < 300) return body as T
    throw errorFromResponse(status, body)
  }

  /**
   * Sends a request whose answer is a stream. Resolves with the live response once a 200
   * arrived (the timeout covers only the wait for it); other answers throw their error.
   * The caller owns the response and must destroy it.
   */
  async stream (spec: RequestSpec, options: CallLimits = {}): Promise<IncomingMessage> {
    return await this.send(spec, options, true) as IncomingMessage
  }

  /** Drops pooled connections. */
  close (): void {
    this.agent.destroy()
  }

  private async send (spec: RequestSpec, options: CallLimits, streaming: boolean, retried = false): Promise<IncomingMessage | { status: number, body: unknown }> {
    const { signal } = options
    const timeout = options.timeout ?? this.defaultTimeout
    if (signal?.aborted === true) throw abortError(signal)
    if (typeof timeout !== 'number' || Number.isNaN(timeout)) throw new TypeError(`timeout must be a number of milliseconds, not ${String(timeout)}`)
    if (timeout < 0) throw new TimeoutError(`the call's deadline had passed before it started (timeout ${timeout} ms)`, 'ERR_TIMEOUT', 0)
    const started = Date.now()
    const payload = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body))
    const headers: Record<string, string | number> = { accept: spec.accept ?? 'application/json' }
    if (payload !== undefined) {
      headers['content-type'] = 'application/json'
      headers['content-length'] = payload.byteLength
    }
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`
    const query = Object.entries(spec.query ?? {}).filter(([, v]) => v !== undefined) as Array<[string, string]>
    const path = spec.path + (query.length > 0 ? `?${new URLSearchParams(query).toString()}` : '')
    // (one object, not `{ ...target, more }`: V8 adds properties after a spread on a slow
    // path, ~1 µs each)
    // streaming responses get a connection of their own: they may last for hours
    const target: RequestOptions = { method: spec.method, path, headers, agent: streaming ? false : this.agent }
    if (this.endpoint.kind === 'unix') target.socketPath = this.endpoint.path
    else { target.host = this.endpoint.host; target.port = this.endpoint.port }

    return await new Promise((resolve, reject) => {
      let settled = false
      let timer: NodeJS.Timeout | undefined
      const req: ClientRequest = request(target)
      const onAbort = (): void => { finish(abortError(signal as AbortSignal)) }
      const finish = (err: Error | undefined, value?: IncomingMessage | { status: number, body: unknown }, keep = false): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        if (err !== undefined) {
          if (!keep) req.destroy()
          reject(err)
        } else {
          resolve(value as IncomingMessage)
        }
      }
      if (timeout > 0 && Number.isFinite(timeout)) timer = setTimeout(() => { finish(timeoutError(timeout)) }, timeout)
      signal?.addEventListener('abort', onAbort, { once: true })

      req.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return
        // a pooled socket the daemon closed just as we reused it. The request may still
        // have arrived (a daemon that took it and then went away looks the same), so only
        // a method that is safe to repeat is sent again, within what is left of the timeout
        if (req.reusedSocket && !retried && IDEMPOTENT.has(spec.method) && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          settled = true
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          const left = timeout > 0 && Number.isFinite(timeout) ? Math.max(1, timeout - (Date.now() - started)) : timeout
          this.send(spec, { signal, timeout: left }, streaming, true).then(resolve, reject)
          return
        }
        finish(unreachableError(this.where, err))
      })
      req.on('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0
        if (streaming && status === 200) { finish(undefined, res); return }
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (c: Buffer) => {
          size += c.byteLength
          if (size > MAX_BODY) finish(errorFromResponse(status, { error: `answer larger than ${MAX_BODY} bytes`, code: 'ERR_PAYLOAD_TOO_LARGE' }))
          else chunks.push(c)
        })
        res.on('error', (err: Error) => { finish(unreachableError(this.where, err)) })
        res.on('aborted', () => { finish(unreachableError(this.where, new Error('connection closed mid-answer'))) })
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let body: unknown
          if (text.length > 0) {
            try {
              body = JSON.parse(text)
            } catch {
              // a success must be JSON; an error page of some other server keeps its text
              if (status < 400) { finish(new Libp2pdError(`the daemon answered HTTP ${status} with a body that is not JSON`, 'ERR_BAD_RESPONSE', status)); return }
              body = { error: text.slice(0, 500) }
            }
          }
          if (streaming) finish(errorFromResponse(status, body))
          else finish(undefined, { status, body })
        })
      })
      req.end(payload)
    })
  }
}
