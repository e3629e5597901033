/**
 * The `libp2pd` process: flags, config file, banner, signals, exit codes. Everything else
 * is the daemon library.
 *
 * Exit codes: 0 after --help/--version, 2 for a bad command line or config (as Go's flag
 * package), 1 when the daemon cannot start, 128+signal after SIGINT/SIGTERM.
 */
import { readFile } from 'node:fs/promises'
import { writeFileSync } from 'node:fs'
import { ConfigError, configFromOptions } from '../config/index.js'
import { optionsFromJsonConfig } from '../config/json-config.js'
import { createDaemon, createLogger } from '../daemon.js'
import { VERSION } from '../host/version.js'
import { banner } from './banner.js'
import { diagnostics } from './diagnostics.js'
import { FlagError, parseFlags } from './flags.js'
import { usage } from './usage.js'
import type { OptionValues } from '../config/index.js'

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

  const log = createLogger(config.logLevel)
  let daemon
  try {
    daemon = await createDaemon(config, { logger: log })
  } catch (err: any) {
    process.stderr.write(`libp2pd: cannot start: ${err.message}\n`)
    log.flush()
    return 1
  }

  if (!config.quiet) process.stdout.write(banner(daemon))
  log.info({ peerId: daemon.context.node.peerId.toString(), control: daemon.controlAddress, http: daemon.httpAddress }, 'daemon started')

  const dump = (): void => { process.stderr.write(JSON.stringify(diagnostics(daemon)) + '\n') }
  process.on('SIGUSR1', dump)

  const signal = await new Promise<keyof typeof SIGNALS>(resolve => {
    for (const s of Object.keys(SIGNALS) as Array<keyof typeof SIGNALS>) process.once(s, () => { resolve(s) })
  })
  log.info({ signal }, 'shutting down')
  // a second signal, or a shutdown that takes too long, exits at once
  const force = setTimeout(() => { process.exit(128 + SIGNALS[signal]) }, 10_000)
  force.unref()
  for (const s of Object.keys(SIGNALS)) process.once(s, () => { process.exit(128 + SIGNALS[signal]) })
  await daemon.stop()
  process.off('SIGUSR1', dump)
  return 128 + SIGNALS[signal]
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
