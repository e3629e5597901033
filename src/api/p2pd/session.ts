/**
 * One control connection of the p2pd plane and what a request handler works with. The
 * session owns its socket: whoever ends the request loop (the server, or a handler that
 * took the connection over) ends the socket through it.
 */
import { setMaxListeners } from 'node:events'
import { withoutStack } from '../../errors.js'
import { Response } from '../../proto/p2pd.js'
import { readDelimited, writeDelimited } from './framing.js'
import { timeoutMs } from './responses.js'
import type { CoreContext } from '../../core/context.js'
import type { Request } from '../../proto/p2pd.js'
import type { Socket } from 'node:net'

/** State shared by every session of one p2pd plane. */
export interface PlaneState {
  ctx: CoreContext
  /** Largest accepted control message (`-persistentConnMaxMsgSize`, 4 MiB by default). */
  maxMessageSize: number
  /** Open sessions, closed when the plane closes. */
  sessions: Set<Session>
  /** Feeds still running: the plane's close waits for them, so they end before the host stops. */
  feeds: Set<Promise<void>>
  /** Aborts when the plane closes. */
  signal: AbortSignal
  /** Hooks of the hivemind persistent connections (idle-timeout accounting). */
  persistentOpened: () => void
  persistentClosed: () => void
}

let nextSessionId = 1

/** A control connection. */
export class Session {
  readonly id: string
  /** Aborts when the control connection closes (the client went away) or the plane closes. */
  readonly signal: AbortSignal
  private readonly controller = new AbortController()

  constructor (readonly socket: Socket, readonly plane: PlaneState) {
    this.id = `c${nextSessionId++}`
    // one signal per connection that follows the plane's (a listener, not AbortSignal.any:
    // a stream per request opens a control connection per request, see core/deadline.ts)
    this.signal = this.controller.signal
    // concurrent calls on one connection (unary calls, requests) each follow it
    setMaxListeners(Infinity, this.signal)
    const onPlaneClosing = (): void => { this.controller.abort(plane.signal.reason) }
    if (plane.signal.aborted) onPlaneClosing()
    else plane.signal.addEventListener('abort', onPlaneClosing, { once: true })
    socket.once('close', () => {
      plane.signal.removeEventListener('abort', onPlaneClosing)
      // (no stack: a stream per request over p2pd closes a control connection per stream)
      this.controller.abort(withoutStack(() => new Error('control connection closed')))
    })
    // errors (ECONNRESET, EPIPE) surface through reads and writes; never as an uncaught event
    socket.on('error', () => {})
  }

  get ctx (): CoreContext {
    return this.plane.ctx
  }

  get closed (): boolean {
    return this.controller.signal.aborted || this.socket.destroyed
  }

  /**
   * Reads one varint-delimited message; `undefined` at a clean EOF. With `timeout` (ms) the
   * whole message must arrive in that time (slow or stalled senders get FramingTimeoutError).
   */
  async read (signal?: AbortSignal, timeout?: number): Promise<Uint8Array | undefined> {
    return await readDelimited(this.socket, { maxMessageSize: this.plane.maxMessageSize, signal, timeout })
  }

  /** Writes one varint-delimited message, waiting for drain when the client reads slowly. */
  async send (bytes: Uint8Array): Promise<void> {
    await writeDelimited(this.socket, bytes, { signal: this.plane.signal })
  }

  /** Writes one `Response`. */
  async respond (res: Partial<Response>): Promise<void> {
    await this.send(Response.encode(res))
  }

  /** Ends the connection gracefully: queued bytes are flushed first. */
  end (): void {
    if (this.socket.destroyed) return
    this.socket.destroySoon()
  }

  /** Tears the connection down at once. */
  destroy (): void {
    this.socket.destroy()
  }
}

/** What a request handler gets besides the request. */
export interface RequestContext {
  session: Session
  ctx: CoreContext
  /** The request's timeout in ms (its `timeout` field, or 60 s). */
  timeoutMs: number
  /** Aborts after `timeoutMs` or when the client goes away (created on first use). */
  readonly signal: AbortSignal
  /** Releases the timer; the server calls it when the handler has returned. */
  dispose: () => void
}

/**
 * Builds the context of one request; `seconds` is the request's `timeout` field, if any.
 * The timer is cleared as soon as the request is answered, so a busy connection does not
 * pile up 60 s timers.
 */
export function requestContext (session: Session, seconds?: bigint | number): RequestContext {
  const ms = timeoutMs(seconds)
  let controller: AbortController | undefined
  let timer: NodeJS.Timeout | undefined
  const onSessionAbort = (): void => { controller?.abort(session.signal.reason) }
  return {
    session,
    ctx: session.ctx,
    timeoutMs: ms,
    get signal () {
      if (controller === undefined) {
        const c = new AbortController()
        controller = c
        timer = setTimeout(() => { c.abort(new DOMException(`the request timed out after ${ms} ms`, 'TimeoutError')) }, ms)
        timer.unref()
        if (session.signal.aborted) c.abort(session.signal.reason)
        else session.signal.addEventListener('abort', onSessionAbort, { once: true })
      }
      return controller.signal
    },
    dispose () {
      clearTimeout(timer)
      session.signal.removeEventListener('abort', onSessionAbort)
    }
  }
}

/**
 * What a handler returns: a response for the server to write; `'done'` when the handler
 * wrote everything itself and the connection takes the next request; `'taken'` when the
 * connection now belongs to the handler (a stream, a feed, a persistent connection).
 */
export type Reply = Partial<Response> | 'done' | 'taken'

/** A request handler. */
export type Handler = (rc: RequestContext, req: Request) => Promise<Reply>
