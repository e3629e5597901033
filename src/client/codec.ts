/**
 * Small conversions between the program's values and the JSON the daemon speaks: bytes as
 * base64, path segments, and call timeouts handed on to the daemon.
 */
import type { BytesLike, CallOptions } from './types.js'
import type { CallLimits } from './transport.js'

/** Bytes of a `BytesLike` (strings as UTF-8). */
export function toBytes (value: BytesLike): Uint8Array {
  return typeof value === 'string' ? new TextEncoder().encode(value) : value
}

/** Standard base64 of bytes or of a string's UTF-8. */
export function toBase64 (value: BytesLike): string {
  const b = toBytes(value)
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')
}

/** Bytes of a base64 string (standard or URL alphabet), as a plain `Uint8Array`. */
export function fromBase64 (text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'))
}

/** Bytes of an optional base64 string. */
export function fromBase64Opt (text: string | undefined): Uint8Array | undefined {
  return text === undefined ? undefined : fromBase64(text)
}

/** One URL path segment. */
export function seg (value: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError('expected a non-empty string')
  return encodeURIComponent(value)
}

/** The daemon's limit on request timeouts, in seconds. */
const MAX_DAEMON_TIMEOUT_S = 600
/** How much longer the client waits than the daemon, so the daemon's typed 504 arrives first. */
const GRACE_MS = 2000
/** The daemon's default operation timeout, in milliseconds. */
const DAEMON_DEFAULT_MS = 60_000

/**
 * Splits a call's `timeout` for an operation the daemon bounds itself: the seconds to send
 * to the daemon (if any) and the client-side limits of the HTTP request. `whole` is false
 * for searches, whose answer streams for as long as the program takes to read it: they
 * get a bound on each wait for the next line (`idle`) instead of one on the whole answer.
 */
export function daemonBounded (options: CallOptions, whole = true): { seconds?: number, limits: CallLimits & { idle?: number } } {
  const { signal, timeout } = options
  if (timeout === undefined) {
    // the daemon applies its own default; wait a little longer than that
    return whole
      ? { limits: { signal, timeout: DAEMON_DEFAULT_MS + GRACE_MS } }
      : { limits: { signal, idle: DAEMON_DEFAULT_MS + GRACE_MS } }
  }
  // a deadline already past fails at once (the transport says so); NaN is the transport's to refuse
  if (!(timeout >= 0)) return { limits: { signal, timeout } }
  // 0 or Infinity: no timeout of the client's own, the daemon's longest
  if (timeout === 0 || !Number.isFinite(timeout)) return { seconds: MAX_DAEMON_TIMEOUT_S, limits: { signal, timeout: 0 } }
  const seconds = Math.min(MAX_DAEMON_TIMEOUT_S, Math.max(0.001, timeout / 1000))
  return { seconds, limits: { signal, timeout: timeout + GRACE_MS } }
}
