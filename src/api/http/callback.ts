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

/** Posts `Stream` objects to callback servers. One per plane; `close` aborts what is in flight. */
export class CallbackClient {
  // a fresh connection per callback: no keep-alive race with a program closing idle sockets
  private readonly agent = new Agent({ keepAlive: false, maxSockets: Infinity })

  constructor (private readonly closing: AbortSignal) {}

  /** POSTs `body` to `<cb>/api/client/peers/<remoteId>/streams`; resolves on a 2xx answer. */
  async post (cb: CallbackAddress, remoteId: string, body: unknown): Promise<void> {
    const payload = Buffer.from(JSON.stringify(body))
    const signal = AbortSignal.any([this.closing, AbortSignal.timeout(CALLBACK_TIMEOUT_MS)])
    const path = `${cb.basePath}/api/client/peers/${encodeURIComponent(remoteId)}/streams`
    await new Promise<void>((resolve, reject) => {
      const req = request({
        ...(cb.kind === 'unix' ? { socketPath: cb.path } : { host: cb.host, port: cb.port }),
        method: 'POST',
        path,
        agent: this.agent,
        signal,
        headers: { 'content-type': 'application/json', 'content-length': payload.byteLength }
      }, res => {
        res.resume()
        const status = res.statusCode ?? 0
        if (status >= 200 && status < 300) resolve()
        else reject(Errors.callbackFailed(`callback ${cb.text} answered ${status}`))
      })
      req.on('error', (err: Error) => {
        const why = signal.aborted && !this.closing.aborted ? `no answer within ${CALLBACK_TIMEOUT_MS} ms` : err.message
        reject(Errors.callbackFailed(`callback ${cb.text} failed: ${why}`, { cause: err }))
      })
      req.end(payload)
    })
  }

  /** Drops pooled sockets. */
  close (): void {
    this.agent.destroy()
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
