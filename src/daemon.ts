/**
 * The daemon as a library: one libp2p host, the stream table and handler registry, and the
 * control planes over them. Start and stop it in-process (tests do); process concerns
 * (argv, signals, exit codes, banner) live in `src/cli`.
 */
import { rmSync } from 'node:fs'
import { pino } from 'pino'
import { startHttpPlane } from './api/http/index.js'
import { startP2pdPlane } from './api/p2pd/index.js'
import { configFromOptions } from './config/index.js'
import { createHost } from './host/index.js'
import { startMetricsServer } from './metrics.js'
import { parseEndpoint } from './net/endpoint.js'
import { OwnEndpoints } from './net/own-endpoints.js'
import { HandlerRegistry } from './streams/handlers.js'
import { SocketDir } from './streams/socket-dir.js'
import { StreamTable } from './streams/table.js'
import type { ControlPlane } from './api/plane.js'
import type { DaemonConfig } from './config/index.js'
import type { CoreContext } from './core/context.js'
import type { HostHandle } from './host/index.js'
import type { Connection, PrivateKey } from '@libp2p/interface'
import type { Logger } from 'pino'

/** Options of `createDaemon`. */
export interface DaemonOptions {
  /** A logger; by default pino to stderr at `config.logLevel`. */
  logger?: Logger
  /** Use this key instead of `config.identityFile`. */
  privateKey?: PrivateKey
}

/** A running daemon. */
export interface Daemon {
  readonly context: CoreContext
  /** The p2pd control endpoint actually bound, or undefined if disabled. */
  readonly controlAddress?: string
  /** The HTTP API endpoint actually bound, or undefined if disabled. */
  readonly httpAddress?: string
  /** The metrics URL, if `-metricsAddr` was given. */
  readonly metricsAddress?: string
  /** Stops everything in order: planes, streams, socket files, host. Idempotent. */
  stop(): Promise<void>
  /**
   * Removes at once the files this daemon made: the unix sockets of its planes and the
   * per-stream socket directory it created. For a process that exits before `stop()` is done
   * (a second signal, a stop over its time bound); `stop()` removes them itself.
   */
  removeFilesSync(): void
}

/** Creates the default logger: JSON lines on stderr (stdout is for the banner). */
export function createLogger (level: string): Logger {
  return pino({ level, base: { name: 'libp2pd' } }, pino.destination({ dest: 2, sync: false }))
}

/** Starts a daemon; on failure everything started so far is stopped again. */
export async function createDaemon (config: DaemonConfig = configFromOptions(), options: DaemonOptions = {}): Promise<Daemon> {
  const log = options.logger ?? createLogger(config.logLevel)
  const cleanups: Array<() => Promise<void>> = []
  const stopAll = async (): Promise<void> => {
    while (cleanups.length > 0) {
      const fn = cleanups.pop()
      try { await fn?.() } catch (err: any) { log.warn({ err: err.message }, 'error while stopping') }
    }
  }

  try {
    // validate endpoints before anything binds, so a bad flag fails fast
    const controlEp = config.listen !== '' ? parseEndpoint(config.listen) : undefined
    const httpEp = config.httpListen !== '' ? parseEndpoint(config.httpListen) : undefined

    const socketDir = await SocketDir.open(config.socketDir)
    // (for a start that fails; a running daemon's stop removes it earlier, see below)
    cleanups.push(async () => { await socketDir.close() })

    // (the registry is made once the node runs; until then no protocol is handled here)
    const made: { handlers?: HandlerRegistry } = {}
    const host: HostHandle = await createHost(config, {
      privateKey: options.privateKey,
      holdAnswerFor: (protocol) => made.handlers?.answersEveryStream(protocol) === true
    })
    cleanups.push(async () => { await host.close() })
    const node = host.node
    await node.start()
    cleanups.push(async () => { await node.stop() })

    const { maxStreams, maxStreamsPerPeer, maxStreamsPerProtocol } = config.limits
    const streams = new StreamTable({ maxStreams, maxStreamsPerPeer, maxStreamsPerProtocol })
    const handlers = new HandlerRegistry(node, log, { streams })
    made.handlers = handlers
    const ownEndpoints = new OwnEndpoints()
    const context: CoreContext = { node, config, streams, handlers, socketDir, log, ownEndpoints }
    // the socket files go as soon as no stream uses them: a stopping host can take seconds,
    // and a process killed meanwhile must not leave a directory behind
    cleanups.push(async () => { await socketDir.close() })
    cleanups.push(async () => { streams.resetAll() })
    const onConnectionClose = (evt: CustomEvent<Connection>): void => { streams.closeConnection(evt.detail) }
    node.addEventListener('connection:close', onConnectionClose)
    cleanups.push(async () => { node.removeEventListener('connection:close', onConnectionClose) })

    let control: ControlPlane | undefined
    let http: ControlPlane | undefined
    if (controlEp !== undefined) {
      control = await startP2pdPlane(context, controlEp)
      ownEndpoints.add(parseEndpoint(control.address))
      cleanups.push(async () => { await control?.close() })
    }
    if (httpEp !== undefined) {
      http = await startHttpPlane(context, httpEp)
      ownEndpoints.add(parseEndpoint(http.address))
      cleanups.push(async () => { await http?.close() })
    }
    let metricsAddress: string | undefined
    if (config.metricsAddr !== '') {
      const metrics = await startMetricsServer(context, config.metricsAddr)
      metricsAddress = metrics.address
      cleanups.push(async () => { await metrics.close() })
    }

    const unixPaths = [controlEp, httpEp].flatMap(ep => ep?.kind === 'unix' ? [ep.path] : [])
    let stopping: Promise<void> | undefined
    return {
      context,
      controlAddress: control?.address,
      httpAddress: http?.address,
      metricsAddress,
      async stop () {
        stopping ??= stopAll().finally(() => { log.flush?.() })
        await stopping
      },
      removeFilesSync () {
        for (const path of unixPaths) rmSync(path, { force: true })
        socketDir.removeSync()
      }
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}
