/**
 * js-libp2p's component logger, made free when nobody reads it. The stock logger
 * (`@libp2p/logger`) builds two `debug` instances for every scope it is asked for, and each
 * one asks whether stderr is a terminal (four syscalls). Yamux asks for a scope per stream,
 * so every stream paid for loggers that, without `DEBUG=libp2p:*`, print nothing.
 *
 * Without `DEBUG` in the environment the daemon hands js-libp2p one shared disabled logger;
 * with it, the stock logger runs as before (docs/operations.md).
 */
import { defaultLogger } from '@libp2p/logger'
import type { ComponentLogger, Logger } from '@libp2p/interface'

function disabledLogger (): Logger {
  const noop = (): void => {}
  const log = Object.assign(noop, { enabled: false, error: noop, trace: noop }) as unknown as Logger
  ;(log as any).newScope = () => log
  ;(log.error as any).enabled = false
  ;(log.trace as any).enabled = false
  return log
}

const DISABLED = disabledLogger()

/** The logger js-libp2p gets: the stock one if `DEBUG` is set, else a shared no-op. */
export function componentLogger (env: NodeJS.ProcessEnv = process.env): ComponentLogger {
  if (env.DEBUG !== undefined && env.DEBUG !== '') return defaultLogger()
  return { forComponent: () => DISABLED }
}
