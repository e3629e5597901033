/**
 * Runs real `bin/libp2pd.js` daemons inside the namespaces of a {@link Topology} (build
 * first: `npm run build`). Each daemon gets its p2pd control socket and HTTP API socket in
 * a private temporary directory; unix sockets are filesystem objects, so the test process
 * in the root namespace drives the daemons through them.
 *
 *   const fleet = new DaemonFleet(topo)
 *   try {
 *     const a = await fleet.start('a', ['-hostAddrs', `/ip4/${topo.ip('a')}/tcp/4001`])
 *     await apiJson(a, 'GET', '/api/daemon/identity')
 *   } finally { await fleet.close() }
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'
import type { Topology } from './topology.js'

/**
 * Path of the daemon executable: `bin/libp2pd.js` of this checkout (which runs `dist/`), or
 * `$LIBP2PD_BIN` to test another build (e.g. a snapshot while `dist/` is being rebuilt).
 */
export const DAEMON_BIN = process.env.LIBP2PD_BIN ?? fileURLToPath(new URL('../../bin/libp2pd.js', import.meta.url))

/** A daemon running inside a namespace. */
export interface NetDaemon {
  /** The topology host it runs in. */
  host: string
  peerId: string
  /** `Peer Addrs:` of the banner (without `/p2p`). */
  addrs: string[]
  /** Path of the HTTP API unix socket. */
  api: string
  /** The p2pd control endpoint (`/unix/...` multiaddr). */
  control: string
  proc: ChildProcess
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Whether the process still runs. */
  alive: () => boolean
  /** The last 64 KiB the daemon wrote on stderr. */
  stderr: () => string
}

/** Options of {@link DaemonFleet.start}. */
export interface StartOptions {
  /** Give up waiting for the banner after this long; default 60 s (start-up is CPU-bound). */
  timeoutMs?: number
  signal?: AbortSignal
}

const STDERR_KEEP = 64 * 1024

/**
 * Owns the daemons of one scenario and their temporary directory. The processes are
 * started through `topo.spawn`, so `topo.destroy()` (and the topology's exit hooks) kill
 * them too; `close()` stops them gracefully first and removes the directory.
 */
export class DaemonFleet {
  readonly daemons: NetDaemon[] = []
  private started = 0
  private readonly dir: string
  private readonly removeDir = (): void => { rmSync(this.dir, { recursive: true, force: true }) }
  // the topology's hooks re-raise SIGINT/SIGTERM only when no other listener is left: do the same
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.removeDir()
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
  }

  constructor (private readonly topo: Topology) {
    // short: unix socket paths must stay under 108 bytes
    this.dir = mkdtempSync(join(tmpdir(), 'lpnet-'))
    process.once('exit', this.removeDir)
    process.once('SIGINT', this.onSignal)
    process.once('SIGTERM', this.onSignal)
  }

  /** Starts libp2pd in `host`'s namespace with `args` and waits for its banner. */
  async start (host: string, args: string[], opts: StartOptions = {}): Promise<NetDaemon> {
    const timeoutMs = opts.timeoutMs ?? 60_000
    const dir = join(this.dir, `${host}-${this.started++}`)
    mkdirSync(dir)
    const api = join(dir, 'http.sock')
    // stream sockets inside `dir` too, so a daemon a scenario SIGKILLs leaves nothing in /tmp
    const full = ['-listen', `/unix${join(dir, 'p2pd.sock')}`, '-httpListen', `/unix${api}`, '-socketDir', join(dir, 'streams'), '-logLevel', 'warn', ...args]
    const proc = this.topo.spawn(host, process.execPath, [DAEMON_BIN, ...full], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    proc.stderr?.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-STDERR_KEEP) })
    const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
      // 'close' (after stderr has ended), so an error report carries the whole of it
      proc.once('close', (code, signal) => { resolve({ code, signal }) })
      proc.once('error', () => { resolve({ code: null, signal: null }) })
    })
    const banner = await readBanner(proc, exited, timeoutMs, opts.signal, () => err).catch((e: Error) => {
      proc.kill('SIGKILL')
      throw new Error(`libp2pd on ${host}: ${e.message}`)
    })
    const lines = banner.split('\n').map(l => l.trim())
    const value = (prefix: string): string => lines.find(l => l.startsWith(prefix))?.slice(prefix.length).trim() ?? ''
    const addrs: string[] = []
    for (let i = lines.indexOf('Peer Addrs:') + 1; i > 0 && lines[i]?.startsWith('/'); i++) addrs.push(lines[i])
    const d: NetDaemon = {
      host,
      peerId: value('Peer ID:'),
      addrs,
      api,
      control: value('Control socket:'),
      proc,
      exited,
      alive: () => proc.exitCode === null && proc.signalCode === null,
      stderr: () => err
    }
    this.daemons.push(d)
    return d
  }

  /**
   * Starts `specs` in batches of `batchSize` (start-up is CPU-heavy: a whole fleet at once
   * would only make every banner late). Rejects at the first failure; `close()` cleans up.
   */
  async startBatches (specs: Array<{ host: string, args: string[] | ((started: NetDaemon[]) => string[]) }>, batchSize: number, opts: StartOptions = {}): Promise<NetDaemon[]> {
    const out: NetDaemon[] = []
    for (let i = 0; i < specs.length; i += batchSize) {
      const batch = specs.slice(i, i + batchSize)
      const started = await Promise.all(batch.map(async s => await this.start(s.host, typeof s.args === 'function' ? s.args(out) : s.args, opts)))
      out.push(...started)
    }
    return out
  }

  /** Stops one daemon: SIGTERM, SIGKILL after `graceMs`. Resolves once it exited (bounded). */
  async stop (d: NetDaemon, graceMs = 5000): Promise<void> {
    if (!d.alive()) return
    const kill = setTimeout(() => { d.proc.kill('SIGKILL') }, graceMs)
    d.proc.kill('SIGTERM')
    // the topology's destroy() is the backstop if even SIGKILL is not reported
    const end = await Promise.race([d.exited, new Promise<undefined>(resolve => setTimeout(resolve, graceMs + 2000))])
    clearTimeout(kill)
    // SIGTERM must end in an orderly stop: any other code is a crash while stopping
    // (a null code: it needed the SIGKILL, which a loaded machine can explain)
    if (end !== undefined && end.code !== 143 && end.code !== null) throw new Error(`daemon exited with ${String(end.code)} on SIGTERM: ${d.stderr().slice(-2000)}`)
  }

  /** Stops every daemon and removes the directory, even when one crashed. Idempotent. */
  async close (graceMs = 5000): Promise<void> {
    const stopped = await Promise.allSettled(this.daemons.map(async d => { await this.stop(d, graceMs) }))
    this.removeDir()
    process.removeListener('exit', this.removeDir)
    process.removeListener('SIGINT', this.onSignal)
    process.removeListener('SIGTERM', this.onSignal)
    const crashed = stopped.find(r => r.status === 'rejected')
    if (crashed !== undefined) throw crashed.reason
  }
}

/** Reads stdout until the banner is complete (it ends with the `HTTP API:` line). */
async function readBanner (proc: ChildProcess, exited: Promise<unknown>, timeoutMs: number, signal: AbortSignal | undefined, stderr: () => string): Promise<string> {
  let out = ''
  return await new Promise<string>((resolve, reject) => {
    const fail = (why: string): void => {
      cleanup()
      reject(new Error(`${why}; stdout: ${out.slice(-500)} stderr: ${stderr().slice(-2000)}`))
    }
    const timer = setTimeout(() => { fail(`no banner within ${timeoutMs} ms`) }, timeoutMs)
    const onAbort = (): void => { fail('aborted') }
    const onData = (d: Buffer): void => {
      out += d.toString()
      if (/HTTP API: \S+\n/.test(out)) {
        cleanup()
        // keep draining stdout so a chatty daemon never blocks on a full pipe
        proc.stdout?.resume()
        resolve(out)
      }
    }
    function cleanup (): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      proc.stdout?.off('data', onData)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    proc.stdout?.on('data', onData)
    void exited.then(() => { fail('exited before its banner') })
  })
}
