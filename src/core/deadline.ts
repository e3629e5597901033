/**
 * Deadlines for the per-request paths, without `AbortSignal.timeout` and `AbortSignal.any`.
 *
 * In Node 20 each of those costs 10–18 µs: a weakly held timer, a FinalizationRegistry
 * entry and WeakRef bookkeeping per signal, which the garbage collector then has to process
 * as well. A unary call made five of them on each side and a stream open three, where the
 * operation they guard takes a few hundred µs of CPU. A `Deadline` is one AbortController,
 * one unref'd timer and one listener per parent signal (about 4 µs), and its owner releases
 * them with `clear()` when the operation is over.
 *
 * Use it where the owner knows when the operation ends; `withTimeout` (context.ts) stays for
 * the rare calls (DHT, connect) whose signal js-libp2p may keep using afterwards.
 */

/** A signal that aborts on any parent's abort or when the time is up. */
export interface Deadline {
  /** Aborts with a parent's reason, or with a `TimeoutError` `DOMException` after `ms`. */
  readonly signal: AbortSignal
  /** Stops the timer and detaches from the parents: the signal never aborts after this. */
  clear: () => void
  /** Aborts the signal now with `reason` (and clears the deadline), e.g. on a cancellation. */
  abort: (reason: unknown) => void
}

/**
 * Starts a deadline of `ms` milliseconds (at most 2^31-1; `undefined`: no time limit, only
 * the parents) that also follows `parents`. The timer does not keep the process alive.
 */
export function deadline (ms: number | undefined, ...parents: Array<AbortSignal | undefined>): Deadline {
  const controller = new AbortController()
  const signal = controller.signal
  const followed: AbortSignal[] = []
  const clear = (): void => {
    clearTimeout(timer)
    for (const parent of followed) parent.removeEventListener('abort', onParentAbort)
    followed.length = 0
  }
  const abort = (reason: unknown): void => {
    clear()
    controller.abort(reason)
  }
  // the same reason (name and message) as AbortSignal.timeout's, so error mapping is unchanged
  const timer = ms === undefined ? undefined : setTimeout(() => { abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')) }, ms)
  timer?.unref()
  const onParentAbort = (evt: Event): void => { abort((evt.target as AbortSignal).reason) }
  for (const parent of parents) {
    if (parent === undefined) continue
    if (parent.aborted) {
      abort(parent.reason)
      break
    }
    followed.push(parent)
    parent.addEventListener('abort', onParentAbort, { once: true })
  }
  return { signal, clear, abort }
}
