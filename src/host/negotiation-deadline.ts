/**
 * Inbound protocol negotiation with a deadline that ends with its stream. js-libp2p's
 * connection guards the multistream-select negotiation of every inbound stream with
 * `AbortSignal.timeout(10 s)` (`Connection.onIncomingStream`). In Node 20 such a signal
 * cannot be cancelled, and its WeakRef keeps it through every young-generation GC, so it
 * lives until the next full GC. In a busy daemon that is usually more than 10 s away: the
 * timer then fires on a live signal and builds a `DOMException` with a stack trace. In the
 * responding daemon's `perf` profile (stream per request over p2pd, tenth session) the
 * firing alone was 35 µs per stream, 3.5% of that daemon's CPU, on top of the signal's
 * 10–18 µs of set-up (src/core/deadline.ts).
 *
 * The connection registers its listener for the muxer's `stream` event. This wraps that
 * registration: while the listener runs its synchronous start, the first call to
 * `AbortSignal.timeout` (the connection's, its first statement) answers with a `Deadline`
 * instead, whose timer is cleared when the stream closes, however it closes. A stream still
 * negotiating after the same 10 s is aborted with the same `TimeoutError` as before. Any other
 * call to `AbortSignal.timeout` is left alone: the original is back before the listener's
 * first `await`, and after its first call.
 */
import { deadline } from '../core/deadline.js'

type Listener = (this: unknown, evt: Event) => unknown

/** The parts of a stream this reads: its `close` event (also sent on abort and reset). */
interface ClosingStream {
  addEventListener: (type: 'close', listener: () => void, options: { once: true }) => void
}

/** The parts of a muxer this patches. */
interface StreamSource {
  addEventListener: (type: string, listener: unknown, options?: unknown) => void
}

/**
 * Makes `muxer`'s `stream` listeners negotiate under a deadline that is cleared when the
 * stream closes. Returns false, changing nothing, when `muxer` has no `addEventListener`.
 */
export function endNegotiationDeadlinesWithStreams (muxer: unknown): boolean {
  const m = muxer as Partial<StreamSource> | null
  if (m == null || typeof m.addEventListener !== 'function') return false
  const add = m.addEventListener
  m.addEventListener = function (type: string, listener: unknown, options?: unknown) {
    if (type !== 'stream' || typeof listener !== 'function') { add.call(this, type, listener, options); return }
    const wrapped: Listener = function (this: unknown, evt: Event) {
      return withStreamDeadline((evt as CustomEvent).detail, () => (listener as Listener).call(this, evt))
    }
    add.call(this, type, wrapped, options)
  }
  return true
}

/**
 * Runs `fn` with the first `AbortSignal.timeout` call it makes synchronously answered by a
 * deadline that `stream`'s close clears. Exported for the unit test.
 */
export function withStreamDeadline<T> (stream: unknown, fn: () => T): T {
  const s = stream as Partial<ClosingStream> | null
  if (s == null || typeof s.addEventListener !== 'function') return fn()
  const original = AbortSignal.timeout
  AbortSignal.timeout = (ms: number): AbortSignal => {
    AbortSignal.timeout = original
    const d = deadline(ms)
    ;(s as ClosingStream).addEventListener('close', d.clear, { once: true })
    return d.signal
  }
  try {
    return fn()
  } finally {
    AbortSignal.timeout = original
  }
}

/**
 * A stream muxer module (`yamux()`, `mplex()`) whose muxers get
 * `endNegotiationDeadlinesWithStreams`. A factory of another shape is returned as it is.
 */
export function withStreamNegotiationDeadlines<F extends (...args: any[]) => any> (make: F): F {
  return ((...args: unknown[]) => {
    const factory = make(...args)
    const create = factory?.createStreamMuxer
    if (typeof create !== 'function') return factory
    factory.createStreamMuxer = (...muxerArgs: unknown[]) => {
      const muxer = create.apply(factory, muxerArgs)
      endNegotiationDeadlinesWithStreams(muxer)
      return muxer
    }
    return factory
  }) as F
}
