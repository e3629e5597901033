/**
 * Faults around callbacks and restarts: a program's callback server that is down, that
 * answers 500, that never answers (the daemon gives up after its 10 s callback timeout),
 * while a healthy handler keeps serving; and a daemon restarted with `-id` and
 * `-datastore` that comes back with the same peer ID and the peers it knew.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { spawnDaemon, spawnDaemons } from './helpers/daemon.js'
import { request } from './helpers/http.js'
import { echo, startCallbackServer } from './helpers/program.js'
import { assertNoLeak, connectSocket, exchange, fdCount, openStream, resetAfter, sleep, waitFor } from './fuzz-harness.ts'
import type { SpawnedDaemon } from './helpers/daemon.js'
import type { CallbackServer } from './helpers/program.js'

const KEYGEN = fileURLToPath(new URL('../../bin/libp2pd-keygen.js', import.meta.url))

/** A loopback port nobody listens on. */
async function closedPort (): Promise<number> {
  const srv = createServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as { port: number }).port
  await new Promise<void>(resolve => srv.close(() => { resolve() }))
  return port
}

describe('faults: callbacks down or slow, restarts', () => {
  let a: SpawnedDaemon
  let b: SpawnedDaemon
  let baseFds = 0
  const dir = mkdtempSync('/tmp/lpd-fcb-')
  const sdir = join(dir, 's')
  const servers: CallbackServer[] = []
  const survived: string[] = []

  const register = async (protocol: string, callback: string): Promise<void> => {
    const res = await request(a.httpAddr ?? '', 'POST', '/api/daemon/handlers', { body: { protocols: [protocol], callback } })
    assert.equal(res.status, 204, res.body.toString())
  }
  /** B opens a stream to A; resolves with how long until B's program sees it end (-1: never). */
  const openFromB = async (protocol: string, waitMs: number): Promise<{ ms: number, status: number }> => {
    const res = await request(b.httpAddr ?? '', 'POST', `/api/daemon/peers/${a.peerId}/streams`, { body: { protocol, timeout: 5 } })
    if (res.status !== 201) return { ms: 0, status: res.status }
    // (reset before we connected counts: the socket is already gone, which is how a program is told)
    return { ms: await resetAfter(res.json().socketPath, waitMs), status: 201 }
  }

  before(async () => {
    [a, b] = await spawnDaemons([['-socketDir', sdir], []])
    const res = await request(b.httpAddr ?? '', 'POST', '/api/daemon/peers', { body: { peerID: a.peerId, addresses: a.addrs } })
    assert.equal(res.status, 204, res.body.toString())
    const healthy = await startCallbackServer('unix', () => ({ run: echo }), dir)
    servers.push(healthy)
    await register('/healthy/1', healthy.url)
    await sleep(300)
    baseFds = fdCount(a.proc.pid ?? 0)
  })
  after(async () => {
    console.log(`# faults survived: ${survived.join('; ')}`)
    await Promise.all(servers.map(async s => { await s.close() }))
    await Promise.all([a?.stop(), b?.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  const healthyEcho = async (): Promise<void> => {
    const st = await openStream(b, a, '/healthy/1')
    const s = await connectSocket(st.socketPath)
    assert.equal((await exchange(s, Buffer.from('ok?'))).toString(), 'ok?')
  }

  for (const kind of ['tcp', 'unix'] as const) {
    it(`callback server down (${kind}): the opener's stream is reset, nothing leaks`, async () => {
      const cb = kind === 'tcp' ? `http://127.0.0.1:${await closedPort()}` : `unix:${join(dir, 'nobody.sock')}`
      await register(`/down-${kind}/1`, cb)
      const r = await openFromB(`/down-${kind}/1`, 10_000)
      assert.ok(r.status !== 201 || r.ms >= 0, 'the opener was never told')
      await healthyEcho()
      survived.push(`callback down (${kind}): opener told in ${r.ms} ms, healthy handler echoed`)
      await assertNoLeak(a, baseFds, sdir)
    })
  }

  it('callback server answers 500: stream reset', async () => {
    const cb = await startCallbackServer('tcp', () => ({ status: 500 }))
    servers.push(cb)
    await register('/fails/1', cb.url)
    const r = await openFromB('/fails/1', 10_000)
    assert.ok(r.status !== 201 || r.ms >= 0, 'the opener was never told')
    assert.equal(cb.calls.length, 1)
    await healthyEcho()
    survived.push(`callback 500: opener told in ${r.ms} ms`)
    await assertNoLeak(a, baseFds, sdir)
  })

  it('callback server that never answers: the daemon gives up after 10 s, meanwhile others are served', async () => {
    const cb = await startCallbackServer('tcp', () => ({ noAnswer: true }))
    servers.push(cb)
    await register('/slow/1', cb.url)
    const t0 = Date.now()
    const pending = openFromB('/slow/1', 20_000)
    await waitFor(() => cb.calls.length === 1, 5000, 'the callback')
    await healthyEcho()
    const r = await pending
    const took = Date.now() - t0
    assert.ok(r.status !== 201 || (r.ms >= 0 && took < 16_000), `opener told after ${took} ms`)
    await cb.close()
    survived.push(`callback never answering: opener told after ${took} ms, healthy handler served meanwhile`)
    await assertNoLeak(a, baseFds, sdir)
  })

  it('restart with -id and -datastore keeps the peer ID and the peerstore', async () => {
    const key = join(dir, 'identity.key')
    execFileSync(process.execPath, [KEYGEN, '-f', key])
    const store = join(dir, 'datastore')
    const args = ['-id', key, '-datastore', store]
    const first = await spawnDaemon(args)
    const res = await request(first.httpAddr ?? '', 'POST', '/api/daemon/peers', { body: { peerID: b.peerId, addresses: b.addrs } })
    assert.equal(res.status, 204, res.body.toString())
    await waitFor(async () => (await request(first.httpAddr ?? '', 'GET', `/api/daemon/peerstore/${b.peerId}`)).status === 200, 5000, 'B in the peerstore')
    const id = first.peerId
    assert.equal(await first.stop(), 143, 'orderly shutdown on SIGTERM')
    const second = await spawnDaemon(args)
    try {
      assert.equal(second.peerId, id, 'identity changed across the restart')
      const known = await request(second.httpAddr ?? '', 'GET', `/api/daemon/peerstore/${b.peerId}`)
      assert.equal(known.status, 200, known.body.toString())
      assert.ok(JSON.stringify(known.json()).includes(b.addrs[0].split('/p2p/')[0]), known.body.toString())
      // B's addresses came back from disk: connecting by ID alone works
      const conn = await request(second.httpAddr ?? '', 'POST', `/api/daemon/peers/${b.peerId}/connect`, { body: { timeout: 10 } })
      assert.equal(conn.status, 204, conn.body.toString())
      survived.push('restart: same peer ID, peerstore entry kept, reconnect by ID alone')
    } finally {
      await second.stop()
    }
  })
})
