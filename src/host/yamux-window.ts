/**
 * Yamux with window updates only when they matter. `@chainsafe/libp2p-yamux` 8 answers
 * every data frame it receives with a window update, however small the frame. For a
 * request and its response that is two more frames on the wire, each its own noise message
 * and, on loopback, its own `writev` that also runs the receiver's TCP stack: in a trace of
 * 1,000 unary calls, 30-byte frames were most of each daemon's TCP writes.
 *
 * hashicorp/yamux and go-yamux (the peers of most p2pd users) grant new window only once
 * half of it has been consumed, or when a flag (SYN, ACK) has to go out anyway. This
 * applies the same rule to js-libp2p's streams. No sender can stall on it: a sender is
 * blocked only when its window is zero, and then the whole window is consumed, which is
 * more than half. Window auto-tuning is untouched: it runs whenever an update is sent.
 *
 * Once the window has grown to half its largest size or more, bytes the stream's reader has
 * taken but the program has not read yet (its backlog, `src/streams/backlog.ts`) do not count
 * as consumed either, as in go-yamux, which grants in `Read`: a stream resumed with a whole
 * window still waiting for a slow program does not invite a second window behind it. No
 * sender stalls on this either: a backlog is granted when the program reads it, and the
 * bridge resumes (so grants) at each drain of the program's socket.
 *
 * A new stream's SYN (a stream we open) or ACK (one we accept) waits for the first data
 * frame, which usually follows within the same turn (a protocol proposal, its echo) and
 * carries the flag through yamux's own `getSendFlags`: one frame less at each end of every
 * stream. When no data has gone by the next turn (`setImmediate`), or the stream is paused
 * first (a paused stream no longer remembers that it owes a flag), the flag leaves at once,
 * alone, as before: yamux peers refuse new streams past 256 unacknowledged ones. The one
 * exception is an accepted stream whose multistream answer is held for an optimistic dialer
 * (`multistream-echo.ts`): its ACK leaves with that answer, within `OPTIMISTIC_HOLD_MS`.
 *
 * Like `tcp-coalesce.ts`, it wraps the stock muxer without changing it: each stream the
 * muxer creates gets a guarded `sendWindowUpdate`. A yamux release of another shape is left
 * as it is (`patchWindowUpdates` returns false; a unit test pins the installed shape).
 */
import { yamux } from '@chainsafe/libp2p-yamux'
import { backlogOf } from '../streams/backlog.js'
import { holdNegotiationAnswer, holdsAnswer } from './multistream-echo.js'
import type { HoldAnswerOptions } from './multistream-echo.js'
import type { YamuxMuxerInit } from '@chainsafe/libp2p-yamux'

// @chainsafe/libp2p-yamux's StreamState: a stream in these states still owes a SYN or ACK
const INIT = 0
const SYN_RECEIVED = 2

/** The parts of `YamuxStream` this module touches. */
interface YamuxStreamWindow {
  state: number
  recvWindow: number
  recvWindowCapacity: number
  maxStreamWindowSize: number
  sendWindowUpdate: () => void
  sendPause: () => void
}

/**
 * Makes `stream` grant window only once half of it is consumed, and send its SYN or ACK
 * with its first data frame (or alone by the next turn). Returns false, changing nothing,
 * when `stream` is not shaped like a yamux 8 stream.
 */
export function patchWindowUpdates (stream: unknown): boolean {
  const s = stream as Partial<YamuxStreamWindow> | null
  if (s == null || typeof s.sendWindowUpdate !== 'function' || typeof s.sendPause !== 'function' ||
    typeof s.state !== 'number' || typeof s.recvWindow !== 'number' || typeof s.recvWindowCapacity !== 'number' ||
    typeof s.maxStreamWindowSize !== 'number') return false
  const sendWindowUpdate = s.sendWindowUpdate
  const sendPause = s.sendPause
  const owesFlag = (stream: YamuxStreamWindow): boolean => stream.state === INIT || stream.state === SYN_RECEIVED
  // The backlog (received, not yet read by the program) counts as unconsumed only once the
  // window has grown to half its largest size (its last doubling), so a stream never holds
  // more than the largest window. Below that, a program that lags for a moment behind a
  // burst (a whole window arriving at once, read a few ms later) would turn the transfer into
  // stop-and-wait, one round trip per window, and stop yamux from growing the window, which
  // it does only when grants come quickly: over a 40 ms path that halved an echo's rate.
  const backlog = (stream: YamuxStreamWindow): number =>
    stream.recvWindow * 2 < stream.maxStreamWindowSize ? 0 : backlogOf(stream)
  // Grants what was consumed: yamux grants up to a full window, so the backlog counts as
  // capacity still open while it computes the update
  const grant = (stream: YamuxStreamWindow): void => {
    const held = Math.min(backlog(stream), stream.recvWindow - stream.recvWindowCapacity)
    if (held <= 0) {
      sendWindowUpdate.call(stream)
      return
    }
    stream.recvWindowCapacity += held
    try {
      sendWindowUpdate.call(stream)
    } finally {
      stream.recvWindowCapacity -= held
    }
  }
  let flagScheduled = false
  s.sendWindowUpdate = function (this: YamuxStreamWindow): void {
    if (owesFlag(this)) {
      if (!flagScheduled) {
        flagScheduled = true
        setImmediate(() => {
          flagScheduled = false
          // an answer held for an optimistic dialer carries the ACK when it leaves (bounded)
          if (owesFlag(this) && !holdsAnswer(this)) grant(this)
        })
      }
      return
    }
    const consumed = this.recvWindow - this.recvWindowCapacity
    if (consumed < this.recvWindow / 2) return
    // what the program has not read yet is not consumed (go-yamux grants in Read); asked only
    // here, so a frame that cannot bring an update (most of them) costs no lookup
    if (consumed - backlog(this) < this.recvWindow / 2) return
    grant(this)
  }
  s.sendPause = function (this: YamuxStreamWindow): void {
    if (owesFlag(this)) grant(this)
    sendPause.call(this)
  }
  return true
}

type AnyFn = (...args: any[]) => any

/**
 * `@chainsafe/libp2p-yamux` whose streams send window updates as go-yamux does, and whose
 * accepted streams answer multistream-select in one frame (`multistream-echo.ts`).
 */
export function leanYamux (init: YamuxMuxerInit = {}, options: HoldAnswerOptions = {}): () => any {
  const make = yamux(init)
  return () => {
    const factory = make() as any
    const createStreamMuxer = (factory.createStreamMuxer as AnyFn).bind(factory)
    factory.createStreamMuxer = (...args: unknown[]) => {
      const muxer = createStreamMuxer(...args)
      // every stream, inbound or outbound, is made here before its first frame is handled
      const newStream = muxer._newStream as AnyFn | undefined
      if (typeof newStream === 'function') {
        muxer._newStream = (...streamArgs: unknown[]) => {
          const stream = newStream.apply(muxer, streamArgs)
          patchWindowUpdates(stream)
          holdNegotiationAnswer(stream, options.holdAnswerFor)
          return stream
        }
      }
      return muxer
    }
    return factory
  }
}
