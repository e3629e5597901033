/**
 * Named errors of the client. Every failure of a call is a `Libp2pdError` carrying the
 * daemon's stable `code` and HTTP `status`; well-known codes get their own subclass so
 * programs can branch with `instanceof`. Failures that never reached the daemon have
 * status 0.
 */

/** Base class of every error the client reports. */
export class Libp2pdError extends Error {
  /** Stable machine-readable code, e.g. `ERR_PEER_NOT_FOUND`. */
  readonly code: string
  /** HTTP status of the daemon's answer; 0 when there was none. */
  readonly status: number

  constructor (message: string, code: string, status: number, options?: { cause?: unknown }) {
    super(message, options)
    // subclasses are named after themselves: `err.name` says what happened
    this.name = new.target.name
    this.code = code
    this.status = status
  }
}

type ErrorClass = new (message: string, code: string, status: number, options?: { cause?: unknown }) => Libp2pdError

/** 400: the request was malformed (bad peer ID, multiaddr, protocol, base64...). */
export class BadRequestError extends Libp2pdError {}
/** 401/403: missing or wrong token, or a forbidden operation. */
export class UnauthorizedError extends Libp2pdError {}
/** 404 `ERR_PEER_NOT_FOUND`. */
export class PeerNotFoundError extends Libp2pdError {}
/** 404 `ERR_STREAM_NOT_FOUND`. */
export class StreamNotFoundError extends Libp2pdError {}
/** 404 `ERR_HANDLER_NOT_FOUND`. */
export class HandlerNotFoundError extends Libp2pdError {}
/** 404 for anything else (e.g. a DHT key without a value). */
export class NotFoundError extends Libp2pdError {}
/** 409 `ERR_*_NOT_ENABLED`: the daemon runs without the DHT, pubsub or connection manager. */
export class ServiceNotEnabledError extends Libp2pdError {}
/** 409 other conflicts. */
export class ConflictError extends Libp2pdError {}
/** 429: a limit of the daemon or of libp2p was reached. */
export class LimitReachedError extends Libp2pdError {}
/** 502 `ERR_DIAL_FAILED`: the daemon could not connect to the peer. */
export class DialFailedError extends Libp2pdError {}
/** 502 `ERR_PROTOCOL_NOT_SUPPORTED`: the peer speaks none of the protocols asked for. */
export class ProtocolNotSupportedError extends Libp2pdError {}
/** 502 `ERR_STREAM_RESET`. */
export class StreamResetError extends Libp2pdError {}
/** 504 from the daemon, or the call's own `timeout` elapsed (status 0). */
export class TimeoutError extends Libp2pdError {}
/** The caller's `AbortSignal` aborted the call (status 0, code `ABORT_ERR`). */
export class AbortError extends Libp2pdError {}
/** The daemon could not be reached at all (not running, wrong socket path or port). */
export class DaemonUnreachableError extends Libp2pdError {}

const BY_CODE: Record<string, ErrorClass> = {
  ERR_UNAUTHORIZED: UnauthorizedError,
  ERR_FORBIDDEN: UnauthorizedError,
  ERR_PEER_NOT_FOUND: PeerNotFoundError,
  ERR_STREAM_NOT_FOUND: StreamNotFoundError,
  ERR_HANDLER_NOT_FOUND: HandlerNotFoundError,
  ERR_DHT_NOT_ENABLED: ServiceNotEnabledError,
  ERR_PUBSUB_NOT_ENABLED: ServiceNotEnabledError,
  ERR_DIAL_FAILED: DialFailedError,
  ERR_PROTOCOL_NOT_SUPPORTED: ProtocolNotSupportedError,
  ERR_STREAM_RESET: StreamResetError,
  ERR_TIMEOUT: TimeoutError
}

const BY_STATUS: Record<number, ErrorClass> = {
  400: BadRequestError,
  401: UnauthorizedError,
  403: UnauthorizedError,
  404: NotFoundError,
  409: ConflictError,
  429: LimitReachedError,
  504: TimeoutError
}

/**
 * The error for a daemon answer: `body` is the parsed `{error, code}` if there was one.
 * Unknown codes fall back to a class by status, then to `Libp2pdError`.
 */
export function errorFromResponse (status: number, body: unknown): Libp2pdError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as { error?: unknown, code?: unknown }
  const code = typeof b.code === 'string' ? b.code : `ERR_HTTP_${status}`
  const message = typeof b.error === 'string' ? b.error : `the daemon answered HTTP ${status}`
  // own keys only: a code such as "__proto__" or "toString" names no class of ours
  const Cls = (Object.hasOwn(BY_CODE, code) ? BY_CODE[code] : undefined) ??
    (Object.hasOwn(BY_STATUS, status) ? BY_STATUS[status] : undefined) ?? Libp2pdError
  return new Cls(message, code, status)
}

/** True if `value` is exactly the `{error, code}` object the daemon sends as an error. */
export function isErrorBody (value: unknown): value is { error: string, code: string } {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return typeof v.error === 'string' && typeof v.code === 'string' && Object.keys(v).length === 2
}

/** The error for a call its caller aborted. */
export function abortError (signal: AbortSignal): AbortError {
  return new AbortError('the operation was aborted', 'ABORT_ERR', 0, { cause: signal.reason })
}

/** The error for a call whose own timeout elapsed. */
export function timeoutError (ms: number): TimeoutError {
  return new TimeoutError(`no answer from the daemon within ${ms} ms`, 'ERR_TIMEOUT', 0)
}

/** The error for a request that never got an answer because of a network error. */
export function unreachableError (where: string, cause: unknown): DaemonUnreachableError {
  const c = cause as { code?: string, message?: string }
  return new DaemonUnreachableError(`cannot reach the daemon at ${where}: ${c?.code ?? c?.message ?? String(cause)}`, 'ERR_DAEMON_UNREACHABLE', 0, { cause })
}
