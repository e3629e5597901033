/**
 * libp2pd as a library: start a daemon in-process. The HTTP client is `libp2pd/client`.
 */
import './polyfill.js'
export { createDaemon } from './daemon.js'
export type { Daemon, DaemonOptions } from './daemon.js'
export { configFromOptions } from './config/index.js'
export type { DaemonConfig } from './config/index.js'
export { DaemonError, Errors } from './errors.js'
