/**
 * Long-lived NDJSON answers that start with a marker line once the daemon is listening
 * (pubsub `{"subscribed": topic}`, events `{"type": "READY"}`). The request is sent at
 * once, `ready()` resolves when the marker arrived, and iteration yields what follows.
 * Iteration ends cleanly on `close()`, on the caller's abort or on `break`; each of those
 * closes the connection, which is how the daemon learns to unsubscribe.
 */
import { Libp2pdError, TimeoutError } from './errors.js'
import { mapLine, openNdjson } from './ndjson.js'
import type { NdjsonSession } from './ndjson.js'
import type { HttpTransport, RequestSpec } from './transport.js'

/** An active subscription; iterate it, and `close()` it (or abort, or `break`) when done. */
export class Subscription<T> implements AsyncIterable<T> {
  private readonly closer = new AbortController()
  private readonly session: Promise<NdjsonSession | undefined>
  private readonly started: Promise<NdjsonSession | undefined>
  private iterated = false

  constructor (transport: HttpTransport, spec: RequestSpec, signal: AbortSignal | undefined, isMarker: (line: any) => boolean, private readonly map: (line: any) => T) {
    const combined = signal === undefined ? this.closer.signal : AbortSignal.any([signal, this.closer.signal])
    this.session = openNdjson(transport, spec, { signal: combined })
    this.started = this.session.then(async s => {
      if (s === undefined) return undefined
      // the marker says the daemon listens; one that never comes is a daemon gone wrong
      const wait = transport.defaultTimeout
      let markerLate = false
      const timer = wait > 0 && Number.isFinite(wait) ? setTimeout(() => { markerLate = true; s.close() }, wait) : undefined
      let first: unknown
      try {
        first = await s.next()
      } finally {
        clearTimeout(timer)
      }
      if (markerLate) throw new TimeoutError(`the daemon did not confirm the subscription within ${wait} ms`, 'ERR_TIMEOUT', 0)
      if (first === undefined) {
        // closed or aborted by the program: a clean end; ended by the daemon: it never confirmed
        if (combined.aborted) return undefined
        throw new Libp2pdError('the daemon ended the answer before confirming the subscription', 'ERR_BAD_RESPONSE', 200)
      }
      if (!isMarker(first)) {
        s.close()
        throw new Libp2pdError(`unexpected first line from the daemon: ${JSON.stringify(first).slice(0, 200)}`, 'ERR_BAD_RESPONSE', 200)
      }
      return s
    })
    // failures surface through ready() or iteration; never as an unhandled rejection
    this.started.catch(() => {})
  }

  /** Resolves once the daemon confirmed the subscription; rejects with its error if it failed. */
  async ready (): Promise<void> {
    await this.started
  }

  /** Ends the subscription and frees its connection. */
  close (): void {
    this.closer.abort()
    this.session.then(s => { s?.close() }, () => {})
  }

  async * [Symbol.asyncIterator] (): AsyncIterator<T> {
    if (this.iterated) throw new Error('a subscription can be iterated once')
    this.iterated = true
    try {
      const s = await this.started
      if (s === undefined) return
      while (true) {
        const line = await s.next()
        if (line === undefined) return
        yield mapLine(this.map, line)
      }
    } finally {
      this.close()
    }
  }
}
