import type { DaemonConfig } from '../config/index.js'
import type { Host } from '../host/index.js'
import type { OwnEndpoints } from '../net/own-endpoints.js'
import type { HandlerRegistry } from '../streams/handlers.js'
import type { SocketDir } from '../streams/socket-dir.js'
import type { StreamTable } from '../streams/table.js'
import type { Logger } from 'pino'

/**
 * What every core operation works with. Both control planes hold the same context, so an
 * operation exists once and behaves the same on each plane.
 */
export interface CoreContext {
  node: Host
  config: DaemonConfig
  streams: StreamTable
  handlers: HandlerRegistry
  socketDir: SocketDir
  log: Logger
  /** The control planes' own endpoints: never a place to deliver streams to. */
  ownEndpoints: OwnEndpoints
}

/** Options every operation that waits on the network takes. */
export interface OperationOptions {
  signal?: AbortSignal
}

/** The default timeout of a network operation (p2pd's `DefaultTimeout`). */
export const DEFAULT_TIMEOUT_MS = 60_000

/** A signal that aborts on the caller's signal or after `ms` (default 60 s). */
export function withTimeout (signal: AbortSignal | undefined, ms = DEFAULT_TIMEOUT_MS): AbortSignal {
  const timeout = AbortSignal.timeout(ms)
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout])
}
