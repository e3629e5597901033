/**
 * The `libp2pd` process: flags, config file, banner, signals, exit codes. Everything else
 * is the daemon library.
 *
 * Exit codes: 0 after --help/--version, 2 for a bad command line or config (as Go's flag
 * package), 1 when the daemon cannot start, 128+signal after SIGINT/SIGTERM.
 */
import { readFile } from 'node:fs/promises'
import { writeFileSync } from 'node:fs'
import { ConfigError, OPTIONS, OPTIONS_BY_NAME, configFromOptions } from '../config/index.js'
import { optionsFromJsonConfig } from '../config/json-config.js'
import { VERSION } from '../host/version.js'
import { banner } from './banner.js'
import { FlagError, parseFlags } from './flags.js'
import { usage } from './usage.js'
import type { OptionValues } from '../config/index.js'
import type { Daemon } from '../daemon.js'

const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const

async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

async function loadOptions (argv: string[]): Promise<Partial<OptionValues> | number> {
  const parsed = parseFlags(argv)
  if (parsed.help) { process.stdout.write(usage()); return 0 }
  if (parsed.values.version === true) { process.stdout.write(`libp2pd ${VERSION}\n`); return 0 }
  if (parsed.rest.length > 0) throw new FlagError(`unexpected argument: ${parsed.rest[0]}`)
  let base: Partial<OptionValues> = {}
  if (parsed.values.f !== '' || parsed.values.i === true) {
    const text = parsed.values.f !== ''
      ? await readFile(parsed.values.f as string, 'utf8').catch((err: any) => { throw new ConfigError(`cannot read config file ${String(parsed.values.f)}: ${err.code ?? err.message}`) })
      : await readStdin()
    let json: unknown
    try { json = JSON.parse(text) } catch (err: any) { throw new ConfigError(`config is not valid JSON: ${err.message}`) }
    base = optionsFromJsonConfig(json)
  }
  // flags given explicitly win over the config file (p2pd applies -listen the same way)
  const explicit = Object.fromEntries([...parsed.given].filter(k => k !== 'f' && k !== 'i').map(k => [k, parsed.values[k]]))
  return { ...base, ...explicit }
}

/** Runs the daemon process; resolves with the exit code once it has stopped. */
export async function main (argv: string[]): Promise<number> {
  // Signals are caught from the first moment: Node would otherwise open the inspector on
  // SIGUSR1, and a SIGTERM during start-up would skip the socket cleanup.
  let daemon: Daemon | undefined
  const dump = (): void => {
    if (daemon === undefined) { process.stderr.write('{"starting":true}\n'); return }
    import('./diagnostics.js').then(async m => await m.diagnostics(daemon as Daemon))
      .then(d => { process.stderr.write(JSON.stringify(d) + '\n') })
      .catch((err: any) => { process.stderr.write(`libp2pd: diagnostics failed: ${String(err?.message)}\n`) })
  }
  process.on('SIGUSR1', dump)
  // One listener per signal for the whole run, never `once`: a signal left without listeners
  // gets its default action back, so a second SIGTERM that came before the shutdown
  // listened again killed the process with its socket directory left behind (`timeout` and
  // `pkill -f` together send two at once).
  const signals: SignalState = { first: undefined, repeated: false, onRepeat: undefined }
  let resolveStop: (s: keyof typeof SIGNALS) => void = () => {}
  const stopSignal = new Promise<keyof typeof SIGNALS>(resolve => { resolveStop = resolve })
  const onSignal = (s: keyof typeof SIGNALS): void => {
    if (signals.first === undefined) { signals.first = s; resolveStop(s); return }
    signals.repeated = true
    signals.onRepeat?.()
  }
  const listeners = (Object.keys(SIGNALS) as Array<keyof typeof SIGNALS>).map(s => [s, () => { onSignal(s) }] as const)
  for (const [s, fn] of listeners) process.on(s, fn)
  try {
    return await runDaemon(argv, stopSignal, d => { daemon = d }, signals)
  } finally {
    process.off('SIGUSR1', dump)
    for (const [s, fn] of listeners) process.off(s, fn)
  }
}

/** The stop signals seen so far; `onRepeat` is what a further one does (set by the shutdown). */
interface SignalState {
  first: keyof typeof SIGNALS | undefined
  repeated: boolean
  onRepeat: (() => void) | undefined
}

async function runDaemon (argv: string[], stopSignal: Promise<keyof typeof SIGNALS>, started: (d: Daemon) => void, signals: SignalState): Promise<number> {
  let options: Partial<OptionValues>
  try {
    const loaded = await loadOptions(argv)
    if (typeof loaded === 'number') return loaded
    options = loaded
  } catch (err: any) {
    if (err instanceof FlagError || err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      if (err instanceof FlagError) process.stderr.write(usage())
      return 2
    }
    throw err
  }
  let config
  try {
    config = configFromOptions(options)
  } catch (err: any) {
    process.stderr.write(`${err.message}\n`)
    return 2
  }
  for (const name of OPTIONS.filter(o => o.noEffect === true).map(o => o.name)) {
    if (options[name] !== undefined && options[name] !== OPTIONS_BY_NAME.get(name)?.default) {
      process.stderr.write(`libp2pd: -${name} is accepted for compatibility and has no effect (see --help)\n`)
    }
  }

  // libp2p is loaded only now, so --help, --version and flag errors answer at once
  const { createDaemon, createLogger } = await import('../daemon.js')
  const { connectBootstrapPeers, keepBootstrapped } = await import('../host/bootstrap.js')
  const log = createLogger(config.logLevel)
  // Node's own warnings (deprecations, a library's listener-leak hint) become log lines
  // too: stderr stays JSON lines for whatever collects the logs
  process.removeAllListeners('warning')
  process.on('warning', w => { log.warn({ warning: w.name, code: (w as { code?: string }).code, stack: w.stack }, w.message) })
  let daemon: Daemon
  try {
    daemon = await createDaemon(config, { logger: log })
  } catch (err: any) {
    process.stderr.write(`libp2pd: cannot start: ${err.message}\n`)
    log.flush()
    return 1
  }
  started(daemon)
  const shutdown = async (signal: keyof typeof SIGNALS): Promise<number> => {
    log.info({ signal }, 'shutting down')
    // a second signal, or a shutdown that takes too long, exits at once (files removed first)
    const exitNow = (): void => {
      try {
        daemon.removeFilesSync()
      } catch (err: any) {
        writeFileSync(2, `libp2pd: could not remove socket files: ${String(err.message)}\n`)
      }
      process.exit(128 + SIGNALS[signal])
    }
    // a second signal during start-up counts as soon as there is something to stop
    if (signals.repeated) exitNow()
    const force = setTimeout(exitNow, 10_000)
    force.unref()
    signals.onRepeat = exitNow
    await daemon.stop()
    return 128 + SIGNALS[signal]
  }

  if (config.bootstrap.enabled) {
    const abort = new AbortController()
    void stopSignal.then(() => { abort.abort() })
    try {
      const result = await connectBootstrapPeers(daemon.context.node, config.bootstrap.peers, { signal: abort.signal })
      log.info({ connected: result.connected, failed: result.failed }, 'bootstrap done')
      const stopTopUp = keepBootstrapped(daemon.context.node, config.bootstrap.peers, r => {
        if (r instanceof Error) log.warn({ err: r.message }, 'bootstrap top-up failed')
        else log.info({ connected: r.connected }, 'bootstrap top-up')
      })
      void stopSignal.then(stopTopUp)
    } catch (err: any) {
      const early = signals.first
      if (early !== undefined) return await shutdown(early)
      process.stderr.write(`libp2pd: cannot start: ${err.message}\n`)
      await daemon.stop()
      return 1
    }
  }
  const early = signals.first
  if (early !== undefined) return await shutdown(early)

  // p2pd lists the configured bootstrap peers (not the default ones), whichever connected
  if (!config.quiet) process.stdout.write(banner(daemon, config.bootstrap.enabled ? config.bootstrap.peers : []))
  log.info({ peerId: daemon.context.node.peerId.toString(), control: daemon.controlAddress, http: daemon.httpAddress, metrics: daemon.metricsAddress }, 'daemon started')

  return await shutdown(await stopSignal)
}
/** Entry point used by the bin shim. */
export function run (): void {
  main(process.argv.slice(2)).then(code => {
    process.exitCode = code
    // libp2p may keep timers alive; the daemon is stopped, so leave now
    setImmediate(() => process.exit(code))
  }, (err: Error) => {
    try { writeFileSync(2, `libp2pd: fatal: ${err.stack ?? err.message}\n`) } catch {}
    process.exit(1)
  })
}
