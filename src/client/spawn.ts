/**
 * Starting and owning a `libp2pd` process from a program: p2pd-style flags built from typed
 * options, the banner parsed (`Peer ID:`, `Peer Addrs:`, `HTTP API:`), a client connected,
 * and `stop()` that ends it (SIGTERM, then SIGKILL after a grace period). Each daemon gets
 * a private temp directory for its control and HTTP sockets, so many can run side by side.
 */
import { spawn } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient } from './client.js'
import { Libp2pdError, TimeoutError, abortError } from './errors.js'
import { DAEMON_NODE_FLAGS, daemonArgs } from './spawn-args.js'
import type { Libp2pdClient } from './client.js'
import type { SpawnOptions } from './spawn-args.js'
import type { ChildProcess } from 'node:child_process'

export { DAEMON_NODE_FLAGS, daemonArgs } from './spawn-args.js'
export type { SpawnOptions } from './spawn-args.js'

/** A daemon started by `spawnDaemon`. */
export interface SpawnedDaemon {
  client: Libp2pdClient
  peerId: string
  /** Listen addresses from the banner (without `/p2p/`). */
  addrs: string[]
  /** The banner's `HTTP API:` multiaddr. */
  httpAddress: string
  /** The banner's `Control socket:` multiaddr (p2pd protocol). */
  controlAddress?: string
  process: ChildProcess
  /** The last lines the daemon wrote to stderr (unless `stderr: 'inherit'`). */
  stderrTail: () => string
  /** Closes the client, stops the daemon and removes its temp directory. Idempotent. */
  stop: () => Promise<void>
}

/** Banner fields. */
interface Banner { peerId?: string, addrs: string[], http?: string, control?: string }

/** Daemons still running, with the temp directory each one owns. */
const alive = new Map<ChildProcess, string>()
let exitHookInstalled = false

/** The longest banner line accepted: a daemon that writes without newlines is not libp2pd. */
const MAX_BANNER_LINE = 64 << 10

/**
 * Daemons must not outlive the program that owns them, even if it exits abruptly (an
 * uncaught error runs `exit` hooks too); their directories go with them.
 */
function track (child: ChildProcess, dir: string): void {
  alive.set(child, dir)
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const [c, d] of alive) {
      c.kill('SIGKILL')
      try { rmSync(d, { recursive: true, force: true }) } catch {}
    }
  })
}

/** The command that runs libp2pd: this package's `bin/libp2pd.js`, else `libp2pd` on PATH. */
export function defaultDaemonCommand (): string {
  // from src/client/ (tsx) and from dist/src/client/ (built) respectively
  for (const rel of ['../../bin/libp2pd.js', '../../../bin/libp2pd.js']) {
    const p = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(p)) return p
  }
  return 'libp2pd'
}

/**
 * Starts a daemon, waits for its banner (`startTimeout`, default 30 s) and connects a
 * client. Rejects (and leaves nothing running) if the daemon exits or times out first.
 */
export async function spawnDaemon (options: SpawnOptions = {}): Promise<SpawnedDaemon> {
  const dir = await mkdtemp(join(tmpdir(), 'libp2pd-spawn-'))
  const bin = options.bin ?? defaultDaemonCommand()
  const args = daemonArgs(options, dir)
  const isScript = /\.(c|m)?js$/.test(bin)
  const child = spawn(isScript ? process.execPath : bin, isScript ? [...(options.nodeFlags ?? DAEMON_NODE_FLAGS), bin, ...args] : args, {
    stdio: ['ignore', 'pipe', options.stderr === 'inherit' ? 'inherit' : 'pipe'],
    env: options.env ?? process.env
  })
  track(child, dir)
  const tail: string[] = []
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    tail.push(...text.split('\n').filter(l => l !== ''))
    if (tail.length > 50) tail.splice(0, tail.length - 50)
  })
  const stderrTail = (): string => tail.join('\n')

  let stopped: Promise<void> | undefined
  let client: Libp2pdClient | undefined
  const stop = async (): Promise<void> => {
    stopped ??= (async () => {
      await client?.close().catch(() => {})
      await terminate(child, options.stopTimeout ?? 5000)
      // a process the daemon left behind (a `bin` script that did not `exec` it) may still
      // hold the other ends of these pipes: ours must not keep the program alive
      child.stdout?.destroy()
      child.stderr?.destroy()
      alive.delete(child)
      await rm(dir, { recursive: true, force: true })
    })()
    await stopped
  }

  try {
    const banner = await readBanner(child, options.startTimeout ?? 30_000, options.signal, stderrTail)
    client = createClient({ url: banner.http as string, token: options.token, onError: options.onError })
    return {
      client,
      peerId: banner.peerId as string,
      addrs: banner.addrs,
      httpAddress: banner.http as string,
      controlAddress: banner.control,
      process: child,
      stderrTail,
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}

async function readBanner (child: ChildProcess, timeoutMs: number, signal: AbortSignal | undefined, stderrTail: () => string): Promise<Banner> {
  const banner: Banner = { addrs: [] }
  let inAddrs = false
  let partial = ''
  return await new Promise<Banner>((resolve, reject) => {
    const finish = (err?: Error): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      child.off('exit', onExit)
      child.off('error', onError)
      child.stdout?.off('data', onData)
      // keep draining stdout so a chatty daemon never blocks on a full pipe
      child.stdout?.resume()
      if (err !== undefined) reject(err)
      else resolve(banner)
    }
    const onData = (text: string): void => {
      const lines = (partial + text).split('\n')
      partial = lines.pop() as string
      if (partial.length > MAX_BANNER_LINE) {
        finish(new Libp2pdError(`the daemon wrote more than ${MAX_BANNER_LINE} bytes without a newline before its banner ended`, 'ERR_BAD_BANNER', 0))
        return
      }
      for (const line of lines.map(l => l.trim())) {
        if (line.startsWith('Control socket:')) banner.control = line.slice('Control socket:'.length).trim()
        else if (line.startsWith('Peer ID:')) banner.peerId = line.slice('Peer ID:'.length).trim()
        else if (line === 'Peer Addrs:') inAddrs = true
        else if (line.startsWith('HTTP API:')) {
          banner.http = line.slice('HTTP API:'.length).trim()
          if (banner.peerId === undefined) { finish(new Libp2pdError('the daemon banner has no Peer ID line', 'ERR_BAD_BANNER', 0)); return }
          finish()
          return
        } else if (inAddrs && line.startsWith('/')) banner.addrs.push(line)
        else inAddrs = false
      }
    }
    const onExit = (code: number | null, sig: string | null): void => {
      finish(new Libp2pdError(`libp2pd exited (${code ?? sig}) before it was ready: ${stderrTail().slice(-2000)}`, 'ERR_DAEMON_EXITED', 0))
    }
    const onError = (err: Error): void => { finish(new Libp2pdError(`cannot start libp2pd: ${err.message}`, 'ERR_DAEMON_SPAWN', 0, { cause: err })) }
    const onAbort = (): void => { finish(abortError(signal as AbortSignal)) }
    const timer = setTimeout(() => {
      finish(new TimeoutError(`libp2pd printed no banner within ${timeoutMs} ms: ${stderrTail().slice(-2000)}`, 'ERR_TIMEOUT', 0))
    }, timeoutMs)
    if (signal?.aborted === true) { onAbort(); return }
    signal?.addEventListener('abort', onAbort, { once: true })
    child.once('exit', onExit)
    child.once('error', onError)
    child.stdout?.setEncoding('utf8').on('data', onData)
  })
}

/** SIGTERM, then SIGKILL if the process has not exited within `graceMs`. */
async function terminate (child: ChildProcess, graceMs: number): Promise<void> {
  // never started (spawn failed) or already gone: there is nothing to wait for
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  child.kill('SIGTERM')
  const timer = setTimeout(() => { child.kill('SIGKILL') }, graceMs)
  await exited
  clearTimeout(timer)
}

/** Connects to a daemon that already runs, checking that it answers; resolves with its identity. */
export async function attach (options: Parameters<typeof createClient>[0] & { signal?: AbortSignal }): Promise<{ client: Libp2pdClient, peerId: string, addrs: string[] }> {
  const client = createClient(options)
  try {
    const id = await client.identity({ signal: options.signal })
    return { client, peerId: id.peerID, addrs: id.addresses }
  } catch (err) {
    await client.close()
    throw err
  }
}
