/**
 * Long results (DHT searches, pubsub subscriptions, events) as NDJSON, or as Server-Sent
 * Events when the client asks for `text/event-stream`. The source is an async iterable
 * made for one response with an `AbortSignal`; the signal aborts when the client goes away
 * or the plane closes, which is how DHT queries stop and subscriptions are released.
 * Writes respect the socket's backpressure: a client that stops reading stops the source.
 */
import { httpErrorOf } from './errors.js'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ServerResponse } from 'node:http'

/** Produces the items of one streaming response; must stop when `signal` aborts. */
export type StreamSource = (signal: AbortSignal) => AsyncIterable<unknown>

/** True if the client asked for Server-Sent Events. */
export function wantsSse (req: FastifyRequest): boolean {
  return (req.headers.accept ?? '').includes('text/event-stream')
}

function frame (item: unknown, sse: boolean): string {
  const json = JSON.stringify(item)
  return sse ? `data: ${json}\n\n` : `${json}\n`
}

async function drained (res: ServerResponse, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>(resolve => {
    const done = (): void => {
      res.off('drain', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    res.on('drain', done)
    signal.addEventListener('abort', done)
  })
}

/**
 * Streams `source` to the client. Resolves when the response has ended (source finished,
 * failed, client gone, or `closing` aborted). An error after the headers were sent is the
 * last line, `{"error", "code"}`.
 */
export async function sendStream (req: FastifyRequest, reply: FastifyReply, source: StreamSource, closing: AbortSignal): Promise<void> {
  const sse = wantsSse(req)
  const res = reply.raw
  const ac = new AbortController()
  const onGone = (): void => { ac.abort(new Error('client went away')) }
  res.on('close', onGone)
  closing.addEventListener('abort', onGone)
  reply.hijack()
  try {
    res.writeHead(200, {
      'content-type': sse ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff'
    })
    res.flushHeaders()
    try {
      for await (const item of source(ac.signal)) {
        if (ac.signal.aborted) break
        if (!res.write(frame(item, sse))) await drained(res, ac.signal)
      }
    } catch (err) {
      if (!ac.signal.aborted && !res.destroyed) {
        const e = httpErrorOf(err)
        res.write(frame({ error: e.message, code: e.code }, sse))
      }
    }
  } finally {
    res.off('close', onGone)
    closing.removeEventListener('abort', onGone)
    if (!ac.signal.aborted) ac.abort(new Error('response ended'))
    if (!res.destroyed && !res.writableEnded) res.end()
  }
}

/**
 * A bounded queue that turns callbacks (pubsub messages, events) into an async iterable
 * for `sendStream`. Iteration ends when `signal` aborts; pushing beyond `limit` unread
 * items fails the iteration with `overflow()` rather than letting memory grow.
 */
export class BoundedQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = []
  private waiter?: () => void
  private error?: Error
  private ended = false

  constructor (private readonly signal: AbortSignal, private readonly limit: number, private readonly overflow: () => Error) {
    signal.addEventListener('abort', () => { this.wake() }, { once: true })
  }

  /** Adds an item; fails the queue if the reader is `limit` items behind. */
  push (item: T): void {
    if (this.ended || this.error !== undefined) return
    if (this.items.length >= this.limit) {
      this.error = this.overflow()
      this.items.length = 0
    } else {
      this.items.push(item)
    }
    this.wake()
  }

  /** Ends the iteration after the queued items. */
  end (): void {
    this.ended = true
    this.wake()
  }

  private wake (): void {
    const w = this.waiter
    this.waiter = undefined
    w?.()
  }

  async * [Symbol.asyncIterator] (): AsyncIterator<T> {
    while (true) {
      if (this.signal.aborted) return
      if (this.items.length > 0) {
        yield this.items.shift() as T
        continue
      }
      if (this.error !== undefined) throw this.error
      if (this.ended) return
      await new Promise<void>(resolve => { this.waiter = resolve })
    }
  }
}
