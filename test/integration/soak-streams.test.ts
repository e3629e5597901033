/**
 * Soak: stream open / transfer / close cycles through the HTTP plane between two real
 * daemons (a program on each side: the opener on A, an echo program behind B's callback), as many as fit in the budget (10,000 by default, `SOAK_CYCLES`, `SOAK_BUDGET_MS`),
 * with faults mixed in: every 20th stream is reset by the program mid-transfer, every 20th
 * program vanishes after writing, every 50th never connects (the accept timeout resets it).
 * Before and after, the daemon's open fds (/proc/<pid>/fd), socket files in its socket
 * directory, open streams and RSS are measured and printed; they must return to baseline.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { spawnDaemons } from './helpers/daemon.js'
import { request } from './helpers/http.js'
import { echo, startCallbackServer } from './helpers/program.js'
import { closedAfter, connectSocket, exchange, fdCount, filesIn, memoryOf, rssKiB, sleep, waitFor } from './fuzz-harness.ts'
import type { SpawnedDaemon } from './helpers/daemon.js'
import type { CallbackServer } from './helpers/program.js'

const CYCLES = Number(process.env.SOAK_CYCLES ?? 10_000)
const BUDGET_MS = Number(process.env.SOAK_BUDGET_MS ?? 110_000)
const WORKERS = 32
const PROTOCOL = '/soak/echo/1'
const HEAP_MB = 160

describe('soak: stream cycles with faults', () => {
  let a: SpawnedDaemon
  let b: SpawnedDaemon
  let echoServer: CallbackServer | undefined
  const dir = mkdtempSync('/tmp/lpd-soak-')
  const sdir = join(dir, 's')

  before(async () => {
    // a small heap makes the collector run often, so what stays is what is really held; a
    // leak of a few KiB per stream would exhaust it within the run (and the daemon would die)
    [a, b] = await spawnDaemons([['-socketDir', sdir, '-streamAcceptTimeout', '1s'], []], { env: { NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` } })
    const res = await request(a.httpAddr ?? '', 'POST', '/api/daemon/peers', { body: { peerID: b.peerId, addresses: b.addrs } })
    assert.equal(res.status, 204, res.body.toString())
    // B's side is a program too (js-libp2p's own /echo/1.0.0 allows only 32 streams per connection)
    echoServer = await startCallbackServer('unix', () => ({ run: echo }), dir)
    const h = await request(b.httpAddr ?? '', 'POST', '/api/daemon/handlers', { body: { protocols: [PROTOCOL], callback: echoServer.url } })
    assert.equal(h.status, 204, h.body.toString())
  })
  after(async () => {
    await echoServer?.close()
    await Promise.all([a?.stop(), b?.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  const counts = { echo: 0, reset: 0, vanished: 0, neverConnected: 0, bytes: 0 }

  async function cycle (i: number): Promise<void> {
    const res = await request(a.httpAddr ?? '', 'POST', `/api/daemon/peers/${b.peerId}/streams`, { body: { protocol: PROTOCOL } })
      .catch((err: Error) => { throw new Error(`cycle ${i}: open failed: ${err.message}`) })
    assert.equal(res.status, 201, res.body.toString())
    const st = res.json()
    if (i % 50 === 29) { counts.neverConnected++; return }
    const s = await connectSocket(st.socketPath)
    s.on('error', () => {})
    const data = randomBytes(1024 + (i % 4) * 1024)
    if (i % 20 === 7) {
      s.write(data)
      const del = await request(a.httpAddr ?? '', 'DELETE', `/api/daemon/streams/${st.id as string}`)
      // 404 if the echo already finished and the stream closed on its own
      assert.ok(del.status === 204 || del.status === 404, `reset: ${del.status}`)
      assert.ok(await closedAfter(s, 10_000) >= 0, 'reset did not close the socket')
      counts.reset++
      return
    }
    if (i % 20 === 13) { s.write(data); s.destroy(); counts.vanished++; return }
    const back = await exchange(s, data).catch((err: Error) => { throw new Error(`cycle ${i}: echo of ${data.length} bytes failed: ${err.message}`) })
    assert.equal(Buffer.compare(back, data), 0, `cycle ${i}: echo differs (${back.length} of ${data.length} bytes back)`)
    counts.echo++
    counts.bytes += data.length
  }

  async function run (n: number, budgetMs: number): Promise<number> {
    let next = 0
    const end = Date.now() + budgetMs
    await Promise.all(Array.from({ length: WORKERS }, async () => {
      while (next < n && Date.now() < end) await cycle(next++)
    }))
    return next
  }

  const settle = async (): Promise<void> => {
    await waitFor(async () => (await request(a.httpAddr ?? '', 'GET', '/api/daemon/streams')).json().length === 0 && filesIn(sdir).length === 0, 20_000, 'open streams and socket files to drain')
    await sleep(2000)
  }

  it(`${CYCLES} cycles: fds, socket files and RSS return to baseline`, async () => {
    const pidA = a.proc.pid ?? 0
    const pidB = b.proc.pid ?? 0
    const measure = async (): Promise<{ fdsA: number, fdsB: number, socketFiles: number, rssA: number, heapA: number }> =>
      ({ fdsA: fdCount(pidA), fdsB: fdCount(pidB), socketFiles: filesIn(sdir).length, rssA: rssKiB(pidA), heapA: (await memoryOf(a)).heapUsed / 1024 })
    const mib = (kib: number): string => (kib / 1024).toFixed(1)
    // warm up first, so lazily created pools and JIT code are part of the baseline
    await run(300, 30_000)
    await settle()
    for (const k of Object.keys(counts) as Array<keyof typeof counts>) counts[k] = 0
    const base = await measure()
    const t0 = Date.now()
    // two halves: memory that grows per stream keeps growing in the second half too
    const first = await run(Math.floor(CYCLES / 2), BUDGET_MS / 2)
    const peak1 = rssKiB(pidA)
    await settle()
    const half = await measure()
    const second = await run(CYCLES - first, BUDGET_MS / 2)
    const peak2 = rssKiB(pidA)
    await settle()
    const end = await measure()
    const done = first + second
    const seconds = (Date.now() - t0) / 1000
    console.log(`# soak: ${done} cycles in ${seconds.toFixed(1)} s (${(done / seconds).toFixed(0)}/s): ${counts.echo} echoed (${counts.bytes} bytes), ${counts.reset} reset by the program, ${counts.vanished} programs vanished, ${counts.neverConnected} never connected (accept timeout)`)
    console.log(`# soak: daemon A fds ${base.fdsA} -> ${half.fdsA} -> ${end.fdsA}; daemon B fds ${base.fdsB} -> ${half.fdsB} -> ${end.fdsB}; socket files ${base.socketFiles} -> ${end.socketFiles}`)
    console.log(`# soak: daemon A RSS ${mib(base.rssA)} MiB before, ${mib(peak1)} peak / ${mib(half.rssA)} settled at half, ${mib(peak2)} peak / ${mib(end.rssA)} settled at the end; V8 heap used ${mib(base.heapA)} -> ${mib(half.heapA)} -> ${mib(end.heapA)} MiB (limit ${HEAP_MB} MiB)`)
    assert.ok(done >= Math.min(CYCLES, 2000), `only ${done} cycles ran`)
    assert.ok(end.fdsA <= base.fdsA + 2, `A fds ${base.fdsA} -> ${end.fdsA}`)
    assert.ok(end.fdsB <= base.fdsB + 2, `B fds ${base.fdsB} -> ${end.fdsB}`)
    assert.equal(end.socketFiles, 0)
    // the garbage collector is lazy, so RSS is allowed to rise once; a per-stream leak would
    // also rise through the second half
    assert.equal(a.proc.exitCode, null, 'the daemon died (out of memory?)')
    assert.ok(end.rssA < base.rssA + 128 * 1024, `rss ${base.rssA} -> ${end.rssA} KiB`)
    assert.ok(end.heapA < base.heapA + 32 * 1024, `heap used ${base.heapA} -> ${end.heapA} KiB`)
    const still = await request(a.httpAddr ?? '', 'GET', '/api/daemon/identity')
    assert.equal(still.status, 200)
  })
})
