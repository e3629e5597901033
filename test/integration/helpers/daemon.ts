/**
 * Spawns the real `bin/libp2pd.js` binary (run `npm run build` first) and waits for its
 * startup banner. Every spawned daemon is killed when the test process exits, even if a
 * test forgets `stop()`.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'

/** Path of the daemon executable. */
export const DAEMON_BIN = fileURLToPath(new URL('../../../bin/libp2pd.js', import.meta.url))

/** A running daemon process. */
export interface SpawnedDaemon {
  peerId: string
  /** p2pd control endpoint as printed (`/unix/...`), if enabled. */
  controlAddr?: string
  /** HTTP API unix socket path (or `host:port` for a TCP endpoint), if enabled. */
  httpAddr?: string
  /** The HTTP API endpoint as printed (multiaddr). */
  httpMultiaddr?: string
  /** Listen addresses from the banner (without /p2p). */
  addrs: string[]
  /** A private temporary directory for this daemon (removed by `stop`). */
  dir: string
  proc: ChildProcess
  /** Everything the daemon wrote on stderr so far. */
  stderr: () => string
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code. Idempotent. */
  stop: () => Promise<number | null>
}

/** Options of `spawnDaemon`. */
export interface SpawnOptions {
  /** Give up waiting for the banner after this long. @default 30000 */
  timeoutMs?: number
  /** Extra environment variables. */
  env?: Record<string, string>
}

const live = new Set<ChildProcess>()
const killAll = (): void => { for (const p of live) p.kill('SIGKILL') }
process.once('exit', killAll)
// the test runner stops a timed-out file with a signal: take the daemons along
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => { killAll(); process.exit(128 + (sig === 'SIGTERM' ? 15 : 2)) })
}

function hasFlag (args: string[], name: string): boolean {
  return args.some(a => a === `-${name}` || a === `--${name}` || a.startsWith(`-${name}=`) || a.startsWith(`--${name}=`))
}

/**
 * Starts a daemon. Unless given in `args`, it gets a control socket, an HTTP socket and its
 * stream socket directory in a fresh temp directory and listens on `/ip4/127.0.0.1/tcp/0`. Do not pass `-q`.
 */
export async function spawnDaemon (args: string[] = [], options: SpawnOptions = {}): Promise<SpawnedDaemon> {
  const dir = mkdtempSync('/tmp/lpd-')
  const full = [...args]
  if (!hasFlag(args, 'listen')) full.push('-listen', `/unix${join(dir, 'p2pd.sock')}`)
  if (!hasFlag(args, 'httpListen')) full.push('-httpListen', `/unix${join(dir, 'http.sock')}`)
  if (!hasFlag(args, 'hostAddrs')) full.push('-hostAddrs', '/ip4/127.0.0.1/tcp/0')
  if (!hasFlag(args, 'logLevel')) full.push('-logLevel', 'warn')
  // stream sockets inside `dir` too, so a daemon a test SIGKILLs leaves nothing in /tmp
  if (!hasFlag(args, 'socketDir')) full.push('-socketDir', join(dir, 'streams'))
  const proc = spawn(process.execPath, [DAEMON_BIN, ...full], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } })
  live.add(proc)
  let out = ''
  let err = ''
  proc.stderr?.on('data', (d: Buffer) => { if (err.length < 1_000_000) err += d.toString() })
  let exitCode: number | null | undefined
  const exited = new Promise<number | null>(resolve => {
    // 'close' (after stdout and stderr have ended), so `stderr()` is complete once it resolves
    proc.once('close', code => { exitCode = code; live.delete(proc); resolve(code) })
  })
  let stopping: Promise<number | null> | undefined
  const stop = async (): Promise<number | null> => {
    stopping ??= (async () => {
      try {
        if (exitCode === undefined) {
          proc.kill('SIGTERM')
          const timer = setTimeout(() => { proc.kill('SIGKILL') }, 5000)
          await exited
          clearTimeout(timer)
          // SIGTERM must end in an orderly stop: any other code is a crash while stopping
          // (null: it needed the SIGKILL, which a loaded machine can explain)
          if (exitCode !== 143 && exitCode !== null) throw new Error(`daemon exited with ${String(exitCode)} on SIGTERM: ${err.slice(-2000)}`)
        }
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
      return exitCode ?? null
    })()
    return await stopping
  }

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`no banner within ${options.timeoutMs ?? 30000} ms; stdout: ${out} stderr: ${err.slice(-2000)}`)) }, options.timeoutMs ?? 30000)
      const onData = (d: Buffer): void => {
        out += d.toString()
        // the banner is written at once; it ends with the HTTP API line when HTTP is on
        const complete = out.includes('Peer ID:') && out.endsWith('\n') && (out.includes('HTTP API:') || full.includes('-httpListen=') || full[full.indexOf('-httpListen') + 1] === '')
        if (complete) { clearTimeout(timer); proc.stdout?.off('data', onData); resolve() }
      }
      proc.stdout?.on('data', onData)
      void exited.then(code => { clearTimeout(timer); reject(new Error(`daemon exited with ${String(code)} before its banner; stderr: ${err.slice(-2000)}`)) })
    })
  } catch (e) {
    await stop()
    throw e
  }
  proc.stdout?.resume()
  // a daemon a test forgot must not keep the test process alive (the exit hook kills it)
  proc.unref()
  for (const s of [proc.stdout, proc.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.()

  const lines = out.split('\n').map(l => l.trim())
  const value = (prefix: string): string | undefined => lines.find(l => l.startsWith(prefix))?.slice(prefix.length).trim()
  const addrs: string[] = []
  for (let i = lines.indexOf('Peer Addrs:') + 1; i > 0 && i < lines.length && lines[i].startsWith('/'); i++) addrs.push(lines[i])
  const httpMultiaddr = value('HTTP API:')
  let httpAddr: string | undefined
  if (httpMultiaddr?.startsWith('/unix/') === true) httpAddr = httpMultiaddr.slice('/unix'.length)
  else if (httpMultiaddr !== undefined) {
    const m = /^\/ip[46]\/([^/]+)\/tcp\/(\d+)$/.exec(httpMultiaddr)
    if (m != null) httpAddr = `${m[1]}:${m[2]}`
  }
  return {
    peerId: value('Peer ID:') ?? '',
    controlAddr: value('Control socket:'),
    httpAddr,
    httpMultiaddr,
    addrs,
    dir,
    proc,
    stderr: () => err,
    stop
  }
}

/** Reads the resident set size of a process in KiB (`VmRSS` of /proc/<pid>/status), 0 if gone. */
export function rssKiB (pid: number): number {
  let text = ''
  try { text = readFileSync(`/proc/${pid}/status`, 'utf8') } catch {}
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(text)
  return m == null ? 0 : Number(m[1])
}

/**
 * Starts several daemons at once; if any fails to start, the others are stopped again
 * (so a failing `before` hook leaks nothing).
 */
export async function spawnDaemons (argsList: string[][], options: SpawnOptions = {}): Promise<SpawnedDaemon[]> {
  const results = await Promise.allSettled(argsList.map(async args => await spawnDaemon(args, options)))
  const failed = results.find(r => r.status === 'rejected')
  if (failed !== undefined) {
    await Promise.all(results.map(async r => { if (r.status === 'fulfilled') await r.value.stop() }))
    throw (failed as PromiseRejectedResult).reason
  }
  return results.map(r => (r as PromiseFulfilledResult<SpawnedDaemon>).value)
}
