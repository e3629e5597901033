/**
 * Streams through the HTTP API between two real daemons over TCP on 127.0.0.1: echo over
 * both callback forms, big transfers with checksums, half-close, 100 concurrent streams,
 * resets, balanced handlers, callbacks that fail. Driven by plain HTTP on the unix socket.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { access } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { spawnDaemon, spawnDaemons } from './helpers/daemon.js'
import { openLines, request } from './helpers/http.js'
import { closed, connectStream, echo, readAll, sha256, sleep, startCallbackServer, writeAllAndEnd } from './helpers/program.js'
import type { SpawnedDaemon } from './helpers/daemon.js'
import type { CallbackServer } from './helpers/program.js'
import type { Socket } from 'node:net'

describe('HTTP API streams between two daemons', () => {
  let a: SpawnedDaemon
  let b: SpawnedDaemon
  const servers: CallbackServer[] = []

  const post = async (d: SpawnedDaemon, path: string, body?: unknown): Promise<any> => await request(d.httpAddr ?? '', 'POST', path, { body })
  const open = async (protocol: string): Promise<any> => {
    const res = await post(a, `/api/daemon/peers/${b.peerId}/streams`, { protocol })
    assert.equal(res.status, 201, res.body.toString())
    return res.json()
  }
  const handle = async (protocols: string[], cb: CallbackServer, balanced = false): Promise<void> => {
    const res = await post(b, '/api/daemon/handlers', { protocols, callback: cb.url, balanced })
    assert.equal(res.status, 204, res.body.toString())
  }

  before(async () => {
    [a, b] = await spawnDaemons([[], []])
    const res = await post(a, '/api/daemon/peers', { peerID: b.peerId, addresses: b.addrs })
    assert.equal(res.status, 204, res.body.toString())
  })
  after(async () => {
    await Promise.all(servers.map(async s => { await s.close() }))
    await Promise.all([a?.stop(), b?.stop()])
  })

  for (const kind of ['tcp', 'unix'] as const) {
    it(`echo round trip, ${kind} callback`, async () => {
      const cb = await startCallbackServer(kind, () => ({ run: echo }), b.dir)
      servers.push(cb)
      await handle([`/echo-${kind}/1`], cb)
      const s = await open(`/echo-${kind}/1`)
      assert.equal(s.direction, 'OUTGOING')
      assert.equal(s.remoteID, b.peerId)
      assert.equal(s.localID, a.peerId)
      assert.equal(s.protocol, `/echo-${kind}/1`)
      assert.ok(!Number.isNaN(Date.parse(s.createdAt)))
      const sock = connectStream(s.socketPath)
      const reply = readAll(sock)
      await writeAllAndEnd(sock, Buffer.from('hello libp2pd'))
      assert.equal((await reply).toString(), 'hello libp2pd')
      // the program's server got the spec's Stream, INCOMING, at /api/client/peers/<A>/streams
      const call = cb.calls.at(-1)
      assert.equal(call?.remoteFromUrl, a.peerId)
      assert.equal(call?.stream.direction, 'INCOMING')
      assert.equal(call?.stream.remoteID, a.peerId)
      assert.equal(call?.stream.protocol, `/echo-${kind}/1`)
      for (const k of ['id', 'localAddr', 'localID', 'remoteAddr', 'remoteID', 'createdAt', 'direction', 'socketPath', 'protocol']) assert.ok(k in call?.stream, k)
    })
  }

  it('moves 16 MiB each way with matching sha256 (and reports throughput)', async () => {
    const size = 16 * 1024 * 1024
    const toB = randomBytes(size)
    const fromB = randomBytes(size)
    let gotAtB: Promise<Buffer> | undefined
    const cb = await startCallbackServer('tcp', () => ({
      run: s => {
        gotAtB = readAll(s)
        void writeAllAndEnd(s, fromB)
      }
    }))
    servers.push(cb)
    await handle(['/bulk/1'], cb)
    const s = await open('/bulk/1')
    const sock = connectStream(s.socketPath)
    const t0 = process.hrtime.bigint()
    const got = readAll(sock, 120_000)
    await writeAllAndEnd(sock, toB)
    const gotAtA = await got
    const atB = await (gotAtB as Promise<Buffer>)
    const secs = Number(process.hrtime.bigint() - t0) / 1e9
    assert.equal(atB.length, size)
    assert.equal(sha256(atB), sha256(toB))
    assert.equal(gotAtA.length, size)
    assert.equal(sha256(gotAtA), sha256(fromB))
    console.log(`# bulk: ${2 * size / 1048576} MiB in ${secs.toFixed(2)} s = ${(2 * size / 1048576 / secs).toFixed(1)} MiB/s (both directions at once)`)
  })

  it('half-close: send, shut down writing, still read the answer', async () => {
    const cb = await startCallbackServer('tcp', () => ({
      run: s => { void readAll(s).then(data => { s.end(Buffer.from(`${data.length}:${data.toString().toUpperCase()}`)) }) }
    }))
    servers.push(cb)
    await handle(['/upper/1'], cb)
    const s = await open('/upper/1')
    const sock = connectStream(s.socketPath)
    const answer = readAll(sock)
    sock.write('hello ')
    sock.write('half-close')
    sock.end()
    assert.equal((await answer).toString(), '16:HELLO HALF-CLOSE')
  })

  it('100 concurrent streams, 256 KiB each, echo with checksums', async () => {
    const cb = await startCallbackServer('unix', () => ({ run: echo }), b.dir)
    servers.push(cb)
    await handle(['/echo-many/1'], cb)
    const t0 = Date.now()
    const results = await Promise.all(Array.from({ length: 100 }, async () => {
      const s = await open('/echo-many/1')
      const data = randomBytes(256 * 1024)
      const sock = connectStream(s.socketPath)
      const back = readAll(sock, 120_000)
      await writeAllAndEnd(sock, data)
      return { ok: sha256(await back) === sha256(data), id: s.id as string }
    }))
    assert.equal(results.filter(r => r.ok).length, 100)
    assert.equal(new Set(results.map(r => r.id)).size, 100)
    console.log(`# 100 concurrent streams x 256 KiB echoed in ${Date.now() - t0} ms`)
    // every stream is gone from both tables once done
    await waitFor(async () => (await request(a.httpAddr ?? '', 'GET', '/api/daemon/streams')).json().length === 0)
    await waitFor(async () => (await request(b.httpAddr ?? '', 'GET', '/api/daemon/streams')).json().length === 0)
  })

  it('balanced handlers share incoming streams round-robin', async () => {
    const counts = [0, 0]
    const mk = async (i: number): Promise<CallbackServer> => await startCallbackServer('tcp', () => { counts[i]++; return { run: s => { s.end(`server${i}`) } } })
    const cb0 = await mk(0)
    const cb1 = await mk(1)
    servers.push(cb0, cb1)
    await handle(['/rr/1'], cb0, true)
    await handle(['/rr/1'], cb1, true)
    const list = (await request(b.httpAddr ?? '', 'GET', '/api/daemon/handlers')).json()
    assert.deepEqual(list.find((h: any) => h.protocol === '/rr/1').callbacks.sort(), [cb0.url, cb1.url].sort())
    const seen: string[] = []
    for (let i = 0; i < 6; i++) {
      const s = await open('/rr/1')
      const sock = connectStream(s.socketPath)
      sock.end()
      seen.push((await readAll(sock)).toString())
    }
    assert.deepEqual(counts, [3, 3])
    assert.deepEqual(seen.slice(0, 2).sort(), ['server0', 'server1'])
    // a non-balanced registration replaces both
    await handle(['/rr/1'], cb0)
    const after = (await request(b.httpAddr ?? '', 'GET', '/api/daemon/handlers')).json()
    assert.deepEqual(after.find((h: any) => h.protocol === '/rr/1').callbacks, [cb0.url])
  })

  it('DELETE /api/daemon/streams/:id resets the stream and the remote sees it', async () => {
    let remoteSocket: Socket | undefined
    const cb = await startCallbackServer('tcp', () => ({ run: s => { remoteSocket = s; s.resume() } }))
    servers.push(cb)
    await handle(['/hold/1'], cb)
    const events = await openLines(b.httpAddr ?? '', 'GET', '/api/daemon/events')
    assert.equal((await events.next()).type, 'READY')
    const s = await open('/hold/1')
    const sock = connectStream(s.socketPath)
    sock.write('x')
    const opened = await events.waitFor(e => e.type === 'STREAM_OPENED' && e.protocol === '/hold/1')
    assert.equal((await request(a.httpAddr ?? '', 'GET', `/api/daemon/streams/${s.id as string}`)).status, 200)
    const del = await request(a.httpAddr ?? '', 'DELETE', `/api/daemon/streams/${s.id as string}`)
    assert.equal(del.status, 204)
    await closed(sock)
    const closedEvt = await events.waitFor(e => e.type === 'STREAM_CLOSED' && e.streamId === opened.streamId)
    assert.ok(typeof closedEvt.error === 'string' && closedEvt.error.length > 0, 'B saw a reset, not a clean close')
    await waitFor(() => remoteSocket !== undefined)
    await closed(remoteSocket as Socket)
    events.close()
    assert.equal((await request(a.httpAddr ?? '', 'GET', `/api/daemon/streams/${s.id as string}`)).status, 404)
    assert.equal((await request(a.httpAddr ?? '', 'DELETE', `/api/daemon/streams/${s.id as string}`)).json().code, 'ERR_STREAM_NOT_FOUND')
  })

  it('a program that never connects gets the stream reset after -streamAcceptTimeout, and the remote sees it', async () => {
    const c = await spawnDaemon(['-streamAcceptTimeout', '1s'])
    try {
      const cb = await startCallbackServer('tcp', () => ({ connect: false }))
      servers.push(cb)
      assert.equal((await post(c, '/api/daemon/handlers', { protocols: ['/never/1'], callback: cb.url })).status, 204)
      const events = await openLines(a.httpAddr ?? '', 'GET', '/api/daemon/events')
      assert.equal((await events.next()).type, 'READY')
      const t0 = Date.now()
      const res = await post(a, `/api/daemon/peers/${c.peerId}/streams`, { protocol: '/never/1', address: c.addrs[0] })
      assert.equal(res.status, 201, res.body.toString())
      const s = res.json()
      const sock = connectStream(s.socketPath)
      await closed(sock, 10_000)
      const ms = Date.now() - t0
      const evt = await events.waitFor(e => e.type === 'STREAM_CLOSED' && e.streamId === s.id)
      assert.ok(evt.error !== undefined, 'A saw a reset')
      assert.ok(ms >= 900 && ms < 8000, `reset after ${ms} ms`)
      events.close()
      // C forgot the stream and removed its socket file
      await waitFor(async () => (await request(c.httpAddr ?? '', 'GET', '/api/daemon/streams')).json().length === 0)
      assert.equal(cb.calls.length, 1)
      await assert.rejects(access(cb.calls[0].stream.socketPath))
    } finally {
      await c.stop()
    }
  })

  for (const [name, mk] of [
    ['a callback server that is down (TCP)', async () => { const cb = await startCallbackServer('tcp', () => ({})); await cb.close(); return cb.url }],
    ['a callback unix socket that does not exist', async () => `unix:${b.dir}/nobody-here.sock`],
    ['a callback that answers 500', async () => { const cb = await startCallbackServer('tcp', () => ({ status: 500 })); servers.push(cb); return cb.url }]
  ] as const) {
    it(`${name}: the stream is reset, nothing wedges`, async () => {
      const url = await mk()
      const proto = `/down-${Math.random().toString(36).slice(2, 8)}/1`
      const res = await post(b, '/api/daemon/handlers', { protocols: [proto], callback: url })
      assert.equal(res.status, 204)
      const events = await openLines(a.httpAddr ?? '', 'GET', '/api/daemon/events')
      assert.equal((await events.next()).type, 'READY')
      const s = await open(proto)
      const sock = connectStream(s.socketPath)
      sock.write('anyone?')
      await closed(sock, 10_000)
      const evt = await events.waitFor(e => e.type === 'STREAM_CLOSED' && e.streamId === s.id)
      assert.ok(evt.error !== undefined)
      events.close()
      await waitFor(async () => (await request(b.httpAddr ?? '', 'GET', '/api/daemon/streams')).json().length === 0)
      // the daemon still serves: an echo stream works right after
      const again = await open('/echo-tcp/1')
      const s2 = connectStream(again.socketPath)
      const back = readAll(s2)
      s2.end('still alive')
      assert.equal((await back).toString(), 'still alive')
    })
  }

  it('a callback that never answers: reset after the 10 s callback timeout', async () => {
    const cb = await startCallbackServer('tcp', () => ({ noAnswer: true }))
    servers.push(cb)
    await handle(['/silent/1'], cb)
    const s = await open('/silent/1')
    const sock = connectStream(s.socketPath)
    const t0 = Date.now()
    await closed(sock, 20_000)
    const ms = Date.now() - t0
    assert.ok(ms > 8_000 && ms < 15_000, `reset after ${ms} ms, expected ~10 s`)
    assert.equal(cb.calls.length, 1)
  })

  it('opening a stream on a protocol the remote does not serve fails with 502', async () => {
    const res = await post(a, `/api/daemon/peers/${b.peerId}/streams`, { protocol: '/nobody/1' })
    assert.equal(res.status, 502)
    assert.equal(res.json().code, 'ERR_PROTOCOL_NOT_SUPPORTED')
  })

  it('?protocol= with an empty body, and protocols[] picking the first supported', async () => {
    const r1 = await request(a.httpAddr ?? '', 'POST', `/api/daemon/peers/${b.peerId}/streams?protocol=${encodeURIComponent('/echo-tcp/1')}`)
    assert.equal(r1.status, 201, r1.body.toString())
    await request(a.httpAddr ?? '', 'DELETE', `/api/daemon/streams/${r1.json().id as string}`)
    const r2 = await post(a, `/api/daemon/peers/${b.peerId}/streams`, { protocols: ['/nobody/1', '/echo-unix/1'] })
    assert.equal(r2.status, 201, r2.body.toString())
    assert.equal(r2.json().protocol, '/echo-unix/1')
    await request(a.httpAddr ?? '', 'DELETE', `/api/daemon/streams/${r2.json().id as string}`)
  })
})

async function waitFor (cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(50)
  }
}
