/**
 * Shared by the fuzz, fault, soak and security tests: what a daemon process holds (open
 * file descriptors, socket files, RSS), raw p2pd control connections, and an echo round
 * trip through an HTTP-plane stream socket. Everything measures the real process from
 * outside, through /proc and the filesystem.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { readDelimited, writeDelimited } from '../../src/api/p2pd/framing.ts'
import { Request, Response } from '../../src/proto/p2pd.ts'
import { request } from './helpers/http.js'
import type { SpawnedDaemon } from './helpers/daemon.js'
import type { Socket } from 'node:net'

/** Open file descriptors of a process (`/proc/<pid>/fd`), -1 if it is gone. */
export function fdCount (pid: number): number {
  try { return readdirSync(`/proc/${pid}/fd`).length } catch { return -1 }
}

/** Resident set size of a process in KiB, 0 if it is gone. */
export function rssKiB (pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m == null ? 0 : Number(m[1])
  } catch { return 0 }
}

/** Entries of a directory (empty if it does not exist). */
export function filesIn (dir: string): string[] {
  try { return readdirSync(dir) } catch { return [] }
}

/** Polls `fn` every 50 ms until it returns true; throws after `ms`. */
export async function waitFor (fn: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (true) {
    if (await fn()) return
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(50)
  }
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** The daemon still answers a normal request: GET /api/daemon/identity is 200 with its ID. */
export async function assertAlive (d: SpawnedDaemon): Promise<void> {
  assert.equal(d.proc.exitCode, null, `daemon exited: ${d.stderr().slice(-2000)}`)
  const res = await request(d.httpAddr ?? '', 'GET', '/api/daemon/identity', { timeoutMs: 10_000 })
  assert.equal(res.status, 200, res.body.toString())
  assert.equal(res.json().peerID, d.peerId)
}

/**
 * Waits until the daemon is back to `base` file descriptors (+`slack`), has no open stream
 * and no socket file in `socketDir`; fails with the numbers if it does not within `ms`.
 */
export async function assertNoLeak (d: SpawnedDaemon, base: number, socketDir: string, slack = 2, ms = 15_000): Promise<void> {
  let streams = -1
  try {
    await waitFor(async () => {
      streams = (await request(d.httpAddr ?? '', 'GET', '/api/daemon/streams')).json().length
      return streams === 0 && filesIn(socketDir).length === 0 && fdCount(d.proc.pid ?? 0) <= base + slack
    }, ms, 'fds, streams and socket files back to baseline')
  } catch (err) {
    throw new Error(`${(err as Error).message}: fds ${fdCount(d.proc.pid ?? 0)} (baseline ${base}), open streams ${streams}, socket files ${filesIn(socketDir).join(',')}`)
  }
}

/** A raw p2pd control connection to the daemon's unix control socket. */
export async function rawControl (d: SpawnedDaemon): Promise<Socket> {
  const s = connect({ path: (d.controlAddr ?? '').replace(/^\/unix/, ''), allowHalfOpen: true })
  await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
  s.on('error', () => {})
  return s
}

/** One request on a fresh control connection; returns the response and closes. */
export async function roundTrip (d: SpawnedDaemon, req: Partial<Request>): Promise<Response> {
  const s = await rawControl(d)
  try {
    await writeDelimited(s, Request.encode(req))
    const bytes = await readDelimited(s, { timeout: 10_000 })
    if (bytes === undefined) throw new Error('EOF instead of a response')
    return Response.decode(bytes)
  } finally {
    s.destroy()
  }
}

/** Resolves with the time (ms) until the other side closes `s`, or -1 after `ms`. */
export async function closedAfter (s: Socket, ms: number): Promise<number> {
  const start = Date.now()
  if (s.destroyed || s.readableEnded) return 0
  s.resume()
  return await new Promise(resolve => {
    const t = setTimeout(() => { resolve(-1) }, ms)
    const done = (): void => { clearTimeout(t); resolve(Date.now() - start) }
    s.once('end', done)
    s.once('close', done)
  })
}

/**
 * How long until the stream behind `socketPath` is reset, in ms: its socket closes, or 0 if it
 * was gone before we could connect (no file, nobody listening, or reset while connecting: the
 * daemon removes a reset stream's socket at once); -1 if nothing happened within `ms`. Other
 * connect errors are thrown.
 */
export async function resetAfter (socketPath: string, ms: number): Promise<number> {
  let s
  try {
    s = await connectSocket(socketPath)
  } catch (err: any) {
    if (['ENOENT', 'ECONNREFUSED', 'ECONNRESET'].includes(err.code)) return 0
    throw err
  }
  s.on('error', () => {})
  try {
    return await closedAfter(s, ms)
  } finally {
    s.destroy()
  }
}

/** Whether the stream behind `socketPath` is reset within `ms` (see `resetAfter`). */
export async function resetWithin (socketPath: string, ms: number): Promise<boolean> {
  return await resetAfter(socketPath, ms) >= 0
}

/** Connects to a stream socket. */
export async function connectSocket (path: string): Promise<Socket> {
  const s = connect({ path, allowHalfOpen: true })
  await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
  return s
}

/** Opens an HTTP-plane stream from `a` to `b` on `protocol`; returns the `Stream` JSON. */
export async function openStream (a: SpawnedDaemon, b: SpawnedDaemon, protocol: string): Promise<any> {
  const res = await request(a.httpAddr ?? '', 'POST', `/api/daemon/peers/${b.peerId}/streams`, { body: { protocol } })
  assert.equal(res.status, 201, res.body.toString())
  return res.json()
}

/** Writes `data`, half-closes, and resolves with everything read until EOF (rejects on timeout). */
export async function exchange (s: Socket, data: Buffer, timeoutMs = 10_000): Promise<Buffer> {
  const chunks: Buffer[] = []
  return await new Promise<Buffer>((resolve, reject) => {
    const t = setTimeout(() => { s.destroy(); reject(new Error(`no EOF within ${timeoutMs} ms`)) }, timeoutMs)
    s.on('data', (c: Buffer) => chunks.push(c))
    s.once('end', () => { clearTimeout(t); s.end(); resolve(Buffer.concat(chunks)) })
    s.once('error', (err) => { clearTimeout(t); reject(err) })
    s.end(data)
  })
}

/**
 * The daemon's own memory figures (`process.memoryUsage()`), from the SIGUSR1 diagnostics
 * line it writes on stderr.
 */
export async function memoryOf (d: SpawnedDaemon): Promise<{ rss: number, heapUsed: number, heapTotal: number }> {
  const from = d.stderr().length
  d.proc.kill('SIGUSR1')
  let line: any
  await waitFor(() => {
    const text = d.stderr().slice(from)
    const m = /^\{"time".*$/m.exec(text)
    if (m == null) return false
    line = JSON.parse(m[0])
    return true
  }, 10_000, 'the SIGUSR1 diagnostics line')
  return line.memory
}
