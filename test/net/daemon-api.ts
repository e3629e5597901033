/**
 * Driving a {@link NetDaemon} through its HTTP API (unix socket) from the root namespace:
 * bounded JSON calls, stream sockets, checksummed echo transfers and figures.
 * Raw node:http (via the integration tests' helper), so the wire API itself is exercised.
 */
import { createHash, randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { openLines, request } from '../integration/helpers/http.js'
import type { LineStream } from '../integration/helpers/http.js'
import type { NetDaemon } from './daemons.js'

export type { LineStream } from '../integration/helpers/http.js'

/** An HTTP API call answered with a status other than the expected one. */
export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) {
    super(message)
    this.name = 'ApiError'
  }
}

/**
 * One HTTP API call; resolves with the parsed JSON body (undefined for 204) and rejects with
 * an {@link ApiError} for any status ≥ 300. Bounded by `timeoutMs` (default 30 s).
 */
export async function apiJson (d: NetDaemon, method: string, path: string, body?: unknown, opts: { timeoutMs?: number, signal?: AbortSignal } = {}): Promise<any> {
  const res = await request(d.api, method, path, { body, timeoutMs: opts.timeoutMs ?? 30_000, signal: opts.signal })
  const json = res.json()
  if (res.status >= 300) {
    throw new ApiError(res.status, json?.code ?? '', `${method} ${path} on ${d.host}: ${res.status} ${JSON.stringify(json)}`)
  }
  return json
}

/** Opens an NDJSON response (events, subscriptions, DHT streams); the caller closes it. */
export async function apiLines (d: NetDaemon, method: string, path: string, body?: unknown): Promise<LineStream> {
  const lines = await openLines(d.api, method, path, { body })
  if (lines.status !== 200) {
    const first = await lines.next(5000).catch(() => undefined)
    lines.close()
    throw new ApiError(lines.status, first?.code ?? '', `${method} ${path} on ${d.host}: ${lines.status} ${JSON.stringify(first)}`)
  }
  return lines
}

/** Connects `from` to `to` (dialing `addrs`, default `to`'s banner addresses). */
export async function connectPeers (from: NetDaemon, to: NetDaemon, addrs: string[] = to.addrs, timeoutS = 20): Promise<void> {
  await apiJson(from, 'POST', `/api/daemon/peers/${to.peerId}/connect`, { addresses: addrs, timeout: timeoutS }, { timeoutMs: (timeoutS + 10) * 1000 })
}

/** Opens a stream from `from` to peer `peerId` and connects to its socket. */
export async function openStreamSocket (from: NetDaemon, peerId: string, protocol: string, timeoutS = 30): Promise<{ info: any, socket: Socket }> {
  const info = await apiJson(from, 'POST', `/api/daemon/peers/${peerId}/streams`, { protocol, timeout: timeoutS }, { timeoutMs: (timeoutS + 10) * 1000 })
  const socket = connect(info.socketPath)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  return { info, socket }
}

/** What an echo transfer measured. */
export interface EchoResult {
  bytes: number
  received: number
  sha256Sent: string
  sha256Received: string
  ms: number
  /** Application throughput of one direction, in Mbit/s. */
  mbitPerS: number
}

/**
 * Writes `bytes` random bytes to an echo stream's socket (respecting backpressure),
 * half-closes, and reads the echo until EOF, hashing both. Rejects (and destroys the
 * socket) after `timeoutMs` or on a socket error.
 */
export async function echoTransfer (socket: Socket, bytes: number, timeoutMs: number): Promise<EchoResult> {
  const sent = createHash('sha256')
  const got = createHash('sha256')
  let received = 0
  const start = performance.now()
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`echo of ${bytes} bytes not done within ${timeoutMs} ms (${received} back)`)) }, timeoutMs)
    socket.on('data', (c: Buffer) => { received += c.byteLength; got.update(c) })
    socket.once('end', () => { clearTimeout(timer); resolve() })
    socket.once('error', (err) => { clearTimeout(timer); reject(err) })
  })
  const writing = (async () => {
    const chunk = 64 * 1024
    for (let off = 0; off < bytes && !socket.destroyed; off += chunk) {
      const buf = randomBytes(Math.min(chunk, bytes - off))
      sent.update(buf)
      if (!socket.write(buf)) await drainOrClose(socket)
    }
    socket.end()
  })()
  await Promise.all([done, writing])
  const ms = performance.now() - start
  return { bytes, received, sha256Sent: sent.digest('hex'), sha256Received: got.digest('hex'), ms, mbitPerS: bytes * 8 / ms / 1000 }
}

/** Resolves at the socket's next 'drain' or 'close', leaving no listener behind. */
async function drainOrClose (socket: Socket): Promise<void> {
  await new Promise<void>(resolve => {
    const done = (): void => {
      socket.off('drain', done)
      socket.off('close', done)
      resolve()
    }
    socket.once('drain', done)
    socket.once('close', done)
  })
}

/** Polls `fn` every `everyMs` until it returns a value other than undefined; rejects after `timeoutMs`. */
export async function pollUntil<T> (what: string, timeoutMs: number, fn: () => Promise<T | undefined>, everyMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < end) {
    try {
      const v = await fn()
      if (v !== undefined) return v
    } catch (err) { last = err }
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last !== undefined ? ` (last error: ${String(last)})` : ''}`)
}

/** The `q`-quantile (0..1) of `values` (nearest rank); NaN for none. */
export function quantile (values: number[], q: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

/** "ok/total (pct%), p50 x ms, p99 y ms" for a list of timed outcomes. */
export function summarize (results: Array<{ ok: boolean, ms: number }>): string {
  const ok = results.filter(r => r.ok)
  const ms = ok.map(r => r.ms)
  const pct = results.length === 0 ? 0 : 100 * ok.length / results.length
  return `${ok.length}/${results.length} ok (${pct.toFixed(0)}%), p50 ${quantile(ms, 0.5).toFixed(0)} ms, p99 ${quantile(ms, 0.99).toFixed(0)} ms, max ${Math.max(...ms, 0).toFixed(0)} ms`
}

/** Base64 of a UTF-8 string (DHT keys and values travel as base64). */
export function b64 (s: string | Uint8Array): string {
  return Buffer.from(s).toString('base64')
}
