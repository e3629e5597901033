/**
 * Typed options of a spawned daemon and the p2pd-style command line they become
 * (`-name=value`, as Go's flag package reads it).
 */
import { join } from 'node:path'
import type { ErrorReporter } from './callback-server.js'

/**
 * Node flags the daemon is meant to run with (`npm start` passes the same; a unit test keeps
 * them equal). A 4 MB young-generation semi-space (V8's default is 16 MB) lets scavenges free
 * the buffers a stream moves before they pile up into full collections: on a 1 GiB transfer
 * each daemon ran 2–20 full GCs instead of 47, with less CPU per GB and 20–40 MB lower peak
 * and idle RSS; stream-heavy scenarios were unchanged (docs/performance.md). Node reads them
 * at start-up only, so they cannot be set from inside the daemon.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4']

/** Options of `spawnDaemon`. */
export interface SpawnOptions {
  /** The libp2pd executable, or a `.js` file run with this Node. @default this package's bin/libp2pd.js, else `libp2pd` on PATH */
  bin?: string
  /** Node flags when `bin` is a `.js` file (an executable is run as it is). @default DAEMON_NODE_FLAGS */
  nodeFlags?: readonly string[]
  /** libp2p listen addresses. @default ['/ip4/127.0.0.1/tcp/0'] (loopback only) */
  hostAddrs?: string[]
  /** Addresses to announce instead of the listen addresses. */
  announceAddrs?: string[]
  /** Serve the HTTP API on a unix socket in the daemon's temp dir, or on loopback TCP. @default 'unix' */
  http?: 'unix' | 'tcp'
  /** Run the kad-DHT: `true` (automatic mode), `'client'` or `'server'`. */
  dht?: boolean | 'client' | 'server'
  /** Run pubsub. */
  pubsub?: boolean
  pubsubRouter?: 'gossipsub' | 'floodsub'
  /** Run the connection manager with these water marks. */
  connManager?: { low?: number, high?: number, grace?: string }
  /** Private key file (`-id`); an ephemeral key if not given. */
  identity?: string
  /** Bootstrap peers (multiaddrs with `/p2p/`); sets `-b`. */
  bootstrapPeers?: string[]
  /** Serve /echo/1.0.0. @default the daemon's default (true) */
  echo?: boolean
  /** Reset a stream nobody connects to within this Go duration, e.g. `'10s'`. */
  streamAcceptTimeout?: string
  /** The daemon's log level on stderr. @default 'warn' */
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'
  /** Any other flag, by its p2pd name: `{ natPortMap: true, connLo: 10 }`. */
  flags?: Record<string, string | number | boolean>
  /** Environment of the daemon. @default this process's */
  env?: NodeJS.ProcessEnv
  /** Milliseconds to wait for the banner. @default 30000 */
  startTimeout?: number
  /** Milliseconds between SIGTERM and SIGKILL on `stop()`. @default 5000 */
  stopTimeout?: number
  /** `'inherit'` shows the daemon's log; by default the last lines are kept for error messages. */
  stderr?: 'inherit' | 'pipe'
  /** API token: the daemon requires it (`-apiToken`) and the client sends it. */
  token?: string
  /** Failures of stream handlers of the client (see `ClientOptions.onError`). */
  onError?: ErrorReporter
  /** Aborts the start. */
  signal?: AbortSignal
}

/** The command line for `options`; `dir` is the daemon's private temp directory. */
export function daemonArgs (options: SpawnOptions, dir: string): string[] {
  const flags: Record<string, string | number | boolean> = {
    listen: `/unix${join(dir, 'p2pd.sock')}`,
    httpListen: options.http === 'tcp' ? '/ip4/127.0.0.1/tcp/0' : `/unix${join(dir, 'http.sock')}`,
    // stream sockets too: removing the directory cleans up even after a daemon was killed
    socketDir: join(dir, 'streams'),
    hostAddrs: (options.hostAddrs ?? ['/ip4/127.0.0.1/tcp/0']).join(','),
    logLevel: options.logLevel ?? 'warn'
  }
  if (options.announceAddrs !== undefined) flags.announceAddrs = options.announceAddrs.join(',')
  if (options.dht === true) flags.dht = true
  else if (options.dht === 'client') flags.dhtClient = true
  else if (options.dht === 'server') flags.dhtServer = true
  if (options.pubsub === true) flags.pubsub = true
  if (options.pubsubRouter !== undefined) flags.pubsubRouter = options.pubsubRouter
  if (options.connManager !== undefined) {
    flags.connManager = true
    if (options.connManager.low !== undefined) flags.connLo = options.connManager.low
    if (options.connManager.high !== undefined) flags.connHi = options.connManager.high
    if (options.connManager.grace !== undefined) flags.connGrace = options.connManager.grace
  }
  if (options.identity !== undefined) flags.id = options.identity
  if (options.bootstrapPeers !== undefined) {
    flags.b = true
    flags.bootstrapPeers = options.bootstrapPeers.join(',')
  }
  if (options.token !== undefined) flags.apiToken = options.token
  if (options.echo !== undefined) flags.echo = options.echo
  if (options.streamAcceptTimeout !== undefined) flags.streamAcceptTimeout = options.streamAcceptTimeout
  Object.assign(flags, options.flags)
  return Object.entries(flags).map(([name, value]) => `-${name}=${String(value)}`)
}
