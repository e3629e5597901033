/**
 * libp2pd in the place of the Go daemon: one `node bin/libp2pd.js` process per interop peer,
 * started with the p2pd flags js-libp2p's interop runner passes to `p2pd`, ready once it has
 * printed `Control socket: <multiaddr>`, driven through `@libp2p/daemon-client`.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { createClient } from '@libp2p/daemon-client'
import { UnsupportedError } from '@libp2p/interop'
import { multiaddr } from '@multiformats/multiaddr'
import { TIMEOUT_SCALE } from './mocha-globals.js'
import type { Daemon, SpawnOptions } from '@libp2p/interop'

/** The daemon binary (it loads `dist/`, so `npm run build` first); INTEROP_LIBP2PD_BIN runs another build. */
export const LIBP2PD_BIN = process.env.INTEROP_LIBP2PD_BIN ?? fileURLToPath(new URL('../../bin/libp2pd.js', import.meta.url))

/** How long a daemon may take to print its banner on a busy 2-core machine (scaled like the suite's timeouts). */
const STARTUP_TIMEOUT_MS = 20_000 * TIMEOUT_SCALE
/** How long `stop()` waits after SIGTERM before it sends SIGKILL. */
const STOP_GRACE_MS = 5_000
/** How much of the daemon's stderr is kept for error messages. */
const STDERR_TAIL_CHARS = 4_000

/**
 * Every daemon process not yet exited. A test file can end (or be cut off by the runner's
 * timeout) while a spawn is still in flight; the daemons must not outlive it.
 */
const live = new Set<ReturnType<typeof spawn>>()
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})
// the test runner ends a file that overran its timeout with SIGTERM, which skips 'exit' handlers
process.once('SIGTERM', () => {
  for (const child of live) child.kill('SIGKILL')
  process.exit(143)
})

/**
 * The command line for `options`, as js-libp2p's runner builds it for p2pd, except that the
 * control endpoint is `tcp/0` (libp2pd prints the bound port, so no guessed port can collide)
 * and the encryption named by the suite is the only one enabled (libp2pd, like p2pd, enables
 * noise, TLS and plaintext by default, which would let the pair pick another one).
 * Two libp2pd-only flags keep concurrent daemons apart and the test honest: `-httpListen=`
 * turns off the HTTP plane (its default is a fixed unix socket path), `-echo=false` removes
 * the built-in `/echo/1.0.0` handler so the echo tests go through the client's STREAM_HANDLER.
 */
export function libp2pdArgs (options: SpawnOptions): string[] {
  const args = ['-listen=/ip4/127.0.0.1/tcp/0', '-httpListen=', '-echo=false', `-logLevel=${process.env.INTEROP_LIBP2PD_LOG ?? 'warn'}`]
  if (options.noListen === true) {
    args.push('-noListenAddrs')
  } else if (options.transport === undefined || options.transport === 'tcp') {
    args.push('-hostAddrs=/ip4/127.0.0.1/tcp/0')
  } else {
    throw new UnsupportedError(`libp2pd has no ${options.transport} transport`)
  }
  if (options.encryption !== undefined) {
    for (const e of ['noise', 'tls', 'plaintext']) args.push(`-${e}=${String(e === options.encryption)}`)
  }
  if (options.dht === true) args.push('-dhtServer')
  if (options.relay === true) args.push('-relay')
  if (options.pubsub === true) args.push('-pubsub')
  if (options.pubsubRouter !== undefined) args.push(`-pubsubRouter=${options.pubsubRouter}`)
  if (options.key !== undefined) args.push(`-id=${options.key}`)
  args.push(`-muxer=${options.muxer === 'mplex' ? 'mplex' : 'yamux'}`)
  return args
}

/** Starts a libp2pd process for `options` and returns it once its control socket is up. */
export async function spawnLibp2pdPeer (options: SpawnOptions): Promise<Daemon> {
  const args = libp2pdArgs(options)
  // the bundle: half the CPU to start, and the suite starts ~300 daemons (docs/interop.md)
  const env = { ...process.env, LIBP2PD_BUNDLE: process.env.LIBP2PD_BUNDLE ?? '1' }
  const child = spawn(process.execPath, [LIBP2PD_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (s: string) => { stderr = (stderr + s).slice(-STDERR_TAIL_CHARS) })
  live.add(child)
  const exited = once(child, 'exit')
  void exited.finally(() => live.delete(child))

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
    let code: number | null
    try { [code] = await exited } finally { clearTimeout(timer) }
    // SIGTERM must end in an orderly stop: any other code is a crash while stopping
    // (null: it needed the SIGKILL, which a loaded machine can explain)
    if (code !== 143 && code !== null) throw new Error(`libp2pd exited with ${String(code)} on SIGTERM: ${stderr}`)
  }

  try {
    const control = await readControlAddress(child, () => stderr, AbortSignal.timeout(STARTUP_TIMEOUT_MS))
    return { client: createClient(multiaddr(control)), stop }
  } catch (err: any) {
    await stop()
    err.message = `libp2pd ${args.join(' ')}: ${String(err.message)}`
    throw err
  }
}

/** Resolves with the multiaddr of the `Control socket:` banner line. */
async function readControlAddress (child: ReturnType<typeof spawn>, stderr: () => string, signal: AbortSignal): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let buffered = ''
    const cleanup = (): void => {
      child.stdout?.off('data', onData)
      child.off('exit', onExit)
      signal.removeEventListener('abort', onAbort)
      // keep draining stdout so a chatty daemon never blocks on a full pipe
      child.stdout?.resume()
    }
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8')
      const match = /^Control socket: (\S+)$/m.exec(buffered)
      if (match !== null) { cleanup(); resolve(match[1]) }
    }
    const onExit = (code: number | null, sig: string | null): void => {
      cleanup()
      reject(new Error(`exited (${code ?? sig}) before printing "Control socket:"; stderr: ${stderr()}`))
    }
    const onAbort = (): void => {
      cleanup()
      reject(new Error(`no "Control socket:" line within ${STARTUP_TIMEOUT_MS} ms; stdout: ${buffered}; stderr: ${stderr()}`))
    }
    child.stdout?.on('data', onData)
    child.on('exit', onExit)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
