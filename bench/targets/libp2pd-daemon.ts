/**
 * One libp2pd process for the benchmark: spawned from `bin/libp2pd.js` (needs `npm run
 * build`) with both control planes on unix sockets in a private directory and TCP + noise +
 * yamux on loopback, the same stack as the baselines. Also a minimal JSON client for its HTTP
 * API over the unix socket, with keep-alive as a real program would use.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { Agent, request } from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { killChild, track } from '../child.ts'
import { DAEMON_NODE_FLAGS } from '../../src/client/spawn-args.ts'

/**
 * The built daemon entry point; `LIBP2PD_BENCH_BIN` points at another build (e.g. a
 * snapshot of one commit, so that rebuilds of the checkout cannot change it mid-run).
 */
export const BIN = process.env.LIBP2PD_BENCH_BIN ?? fileURLToPath(new URL('../../bin/libp2pd.js', import.meta.url))

/** A running daemon and what its banner said. */
export interface Daemon {
  child: ChildProcess
  pid: number
  /** Unix path of the p2pd control socket. */
  control: string
  /** Unix path of the HTTP API. */
  http: string
  peerId: string
  addrs: string[]
  close: () => Promise<void>
}

/** Extra node flags for the daemons, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (profiling). */
const NODE_ARGS = (process.env.LIBP2PD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
/** Extra daemon flags, e.g. to try another yamux window. */
const DAEMON_ARGS = (process.env.LIBP2PD_BENCH_DAEMON_ARGS ?? '').split(' ').filter(Boolean)
/** Extra environment for the daemons only, e.g. `MALLOC_ARENA_MAX=2` (space-separated `NAME=value`). */
const DAEMON_ENV = Object.fromEntries((process.env.LIBP2PD_BENCH_DAEMON_ENV ?? '').split(' ').filter(Boolean).map(kv => {
  const eq = kv.indexOf('=')
  if (eq <= 0) throw new Error(`LIBP2PD_BENCH_DAEMON_ENV: expected NAME=value, got ${JSON.stringify(kv)}`)
  return [kv.slice(0, eq), kv.slice(eq + 1)]
}))

function unixPath (multiaddr: string): string {
  if (!multiaddr.startsWith('/unix/')) throw new Error(`expected a /unix multiaddr, got ${multiaddr}`)
  return decodeURIComponent(multiaddr.slice('/unix'.length))
}

/** Spawn a daemon with its sockets in `dir`/`name`-*.sock and wait (bounded) for its banner. */
export async function startDaemon (dir: string, name: string, signal: AbortSignal): Promise<Daemon> {
  const args = [
    '-listen', `/unix${path.join(dir, `${name}-p2pd.sock`)}`,
    '-httpListen', `/unix${path.join(dir, `${name}-http.sock`)}`,
    '-hostAddrs', '/ip4/127.0.0.1/tcp/0',
    '-tls=false', '-plaintext=false', '-logLevel', 'warn',
    ...DAEMON_ARGS
  ]
  // the daemon as it ships (`npm start`, the client's spawnDaemon); NODE_ARGS come later and win
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, ...NODE_ARGS, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...DAEMON_ENV } })
  track(child)
  let out = ''
  let err = ''
  child.stderr?.on('data', (d: Buffer) => { if (err.length < 10_000) err += d.toString() })
  try {
    // 'HTTP API:' is the last banner line we need; the addresses come before it
    await Promise.race([
      new Promise<void>((resolve) => {
        child.stdout?.on('data', (d: Buffer) => {
          out += d.toString()
          if (/^HTTP API: .*\n/m.test(out)) resolve()
        })
      }),
      once(child, 'exit', { signal }).then(([code]) => { throw new Error(`libp2pd exited (${String(code)}) before its banner: ${err.slice(0, 500)}`) })
    ])
  } catch (e) {
    await killChild(child)
    throw e
  }
  // keep draining stdout so the daemon never blocks on a full pipe
  child.stdout?.resume()
  const line = (head: string): string => new RegExp(`^${head}: (\\S+)`, 'm').exec(out)?.[1] ?? ''
  const addrs = (out.split('Peer Addrs:\n')[1] ?? '').split('\n').filter((l) => l.startsWith('/ip4/'))
  return {
    child,
    pid: child.pid ?? 0,
    control: unixPath(line('Control socket')),
    http: unixPath(line('HTTP API')),
    peerId: line('Peer ID'),
    addrs,
    close: async () => { await killChild(child, 5000) }
  }
}

/** JSON over the daemon's HTTP API on its unix socket. */
export class HttpApi {
  // keep-alive: one connection reused across requests, as a long-lived program would
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 })

  constructor (private readonly socketPath: string) {}

  /** Send one request; resolves with the parsed body, rejects on a non-2xx status. */
  async call<T = unknown> (method: string, urlPath: string, body: unknown, signal: AbortSignal): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    return await new Promise<T>((resolve, reject) => {
      const req = request({
        socketPath: this.socketPath,
        method,
        path: urlPath,
        agent: this.agent,
        signal,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.byteLength }
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString()
          const status = res.statusCode ?? 0
          if (status < 200 || status >= 300) { reject(new Error(`HTTP ${method} ${urlPath}: ${status} ${text.slice(0, 200)}`)); return }
          try {
            resolve((text === '' ? undefined : JSON.parse(text)) as T)
          } catch (e) {
            reject(e)
          }
        })
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(payload)
    })
  }

  close (): void {
    this.agent.destroy()
  }
}
