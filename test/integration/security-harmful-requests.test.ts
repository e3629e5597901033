/**
 * Requests a local program can send that used to hurt the daemon (found by fuzzing it):
 * a stream handler aimed at the daemon's own control socket, which handed remote peers its
 * control plane; inputs that held the event loop for seconds to hours (a huge DHT key, too
 * many protocols or addresses); DHT records nobody could read back; and errors that had no
 * `code` or read as daemon bugs. Each is now refused at once with a named error, and the
 * daemon keeps answering.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { DHTRequest, Request, Response } from '../../src/proto/p2pd.ts'
import { spawnDaemons } from './helpers/daemon.js'
import { request } from './helpers/http.js'
import { assertAlive, roundTrip } from './fuzz-harness.ts'
import type { SpawnedDaemon } from './helpers/daemon.js'

const unixAddr = (path: string): ReturnType<typeof multiaddr> => multiaddr(`/unix/${encodeURIComponent(path)}`)

describe('requests that would hurt the daemon', () => {
  let a: SpawnedDaemon
  let b: SpawnedDaemon
  const post = async (d: SpawnedDaemon, path: string, body: unknown): Promise<any> => await request(d.httpAddr ?? '', 'POST', path, { body })

  before(async () => {
    [a, b] = await spawnDaemons([['-dht'], []])
    const res = await post(b, `/api/daemon/peers/${a.peerId}/connect`, { addresses: a.addrs })
    assert.equal(res.status, 204, res.body.toString())
  })
  after(async () => { await Promise.all([a?.stop(), b?.stop()]) })

  it("a stream handler at the daemon's own control socket is refused; remote peers never reach the control plane", async () => {
    const own = unixAddr((a.controlAddr ?? '').replace(/^\/unix/, ''))
    const res = await roundTrip(a, { type: Request.Type.STREAM_HANDLER, streamHandler: { addr: own.bytes, proto: ['/own/1'] } })
    assert.equal(res.type, Response.Type.ERROR)
    assert.match(res.error?.msg ?? '', /own control endpoint/)
    // the protocol is not handled, so a remote peer cannot open it
    const open = await post(b, `/api/daemon/peers/${a.peerId}/streams`, { protocol: '/own/1', timeout: 5 })
    assert.equal(open.status, 502, open.body.toString())
  })

  it('a DHT key over 6144 bytes is refused at once on both planes (it used to hold the event loop)', async () => {
    const started = Date.now()
    const key = new Uint8Array(96 * 1024).fill(0x61)
    for (const type of [DHTRequest.Type.GET_CLOSEST_PEERS, DHTRequest.Type.GET_VALUE, DHTRequest.Type.PUT_VALUE]) {
      const res = await roundTrip(a, { type: Request.Type.DHT, dht: { type, key, value: new Uint8Array(1), timeout: 2n } })
      assert.equal(res.type, Response.Type.ERROR, String(type))
      assert.match(res.error?.msg ?? '', /6144/)
    }
    assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`)
    await assertAlive(a)
  })

  it('a record its namespace cannot validate is refused, not kept where nobody can read it', async () => {
    const b64 = (s: string): string => Buffer.from(s).toString('base64')
    const unknown = await post(a, '/api/daemon/dht/put-value', { key: b64('/x/some-app-key'), value: b64('v'), timeout: 5 })
    assert.equal(unknown.status, 400, unknown.body.toString())
    assert.match(unknown.json().error, /no validator for the DHT namespace "x"/)
    const badPk = await post(a, '/api/daemon/dht/put-value', { key: b64('/pk/not-a-key'), value: b64('junk'), timeout: 5 })
    assert.equal(badPk.status, 400, badPk.body.toString())
    assert.match(badPk.json().error, /does not validate/)
  })

  it('over 64 protocols in one registration, or over 1024 handled, is refused', async () => {
    const many = Array.from({ length: 65 }, (_, i) => `/many/${i}`)
    const res = await roundTrip(a, { type: Request.Type.STREAM_HANDLER, streamHandler: { addr: unixAddr('/tmp/nobody.sock').bytes, proto: many } })
    assert.equal(res.type, Response.Type.ERROR)
    assert.match(res.error?.msg ?? '', /at most 64/)
    let registered = 0
    let refused: Response | undefined
    for (let round = 0; round < 20 && refused === undefined; round++) {
      const proto = Array.from({ length: 64 }, (_, i) => `/fill/${round}/${i}`)
      const r = await roundTrip(a, { type: Request.Type.STREAM_HANDLER, streamHandler: { addr: unixAddr('/tmp/nobody.sock').bytes, proto } })
      if (r.type === Response.Type.OK) registered += 64
      else refused = r
    }
    assert.equal(registered, 1024)
    assert.match(refused?.error?.msg ?? '', /at most 1024/)
    await assertAlive(a)
  })

  it('over 256 addresses in one CONNECT, or over 1024 kept for one peer, is refused', async () => {
    const other = '12D3KooWHoEkjEqHDUUVjXbbfq3G8mcsySk5Nxku6fV4vrMUwGRd'
    const addrs = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `/ip4/127.0.${Math.floor((from + i) / 250)}.${((from + i) % 250) + 1}/tcp/4001`)
    const res = await roundTrip(a, { type: Request.Type.CONNECT, connect: { peer: peerIdFromString(other).toMultihash().bytes, addrs: addrs(0, 257).map(s => multiaddr(s).bytes), timeout: 1n } })
    assert.equal(res.type, Response.Type.ERROR)
    assert.match(res.error?.msg ?? '', /at most 256/)
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await post(a, '/api/daemon/peers', { peerID: other, addresses: addrs(i * 256, 256) })).status)
    assert.deepEqual(statuses, [204, 204, 204, 204, 429])
    await assertAlive(a)
  })

  it("find-peer with the daemon's own ID is a bad request, not an internal error", async () => {
    const res = await post(a, '/api/daemon/dht/find-peer', { peerID: a.peerId, timeout: 2 })
    assert.equal(res.status, 400, res.body.toString())
    assert.equal(res.json().code, 'ERR_BAD_REQUEST')
    assert.doesNotMatch(a.stderr(), /"level":50/, 'nothing logged as an error')
  })

  it('headers over 16 KiB and bytes that are not HTTP get the {error, code} shape', async () => {
    const raw = async (text: string): Promise<string> => await new Promise((resolve, reject) => {
      const s = connect(a.httpAddr ?? '')
      let got = ''
      s.on('data', d => { got += d.toString() })
      s.on('close', () => { resolve(got) })
      s.on('error', reject)
      s.write(text)
    })
    const big = await raw(`GET /api/daemon/identity HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
    assert.match(big, /^HTTP\/1.1 431 /)
    assert.deepEqual(JSON.parse(big.split('\r\n\r\n')[1]), { error: 'the request headers exceed 16 KiB', code: 'ERR_HEADERS_TOO_LARGE' })
    const junk = await raw('\x00\x01 not http\r\n\r\n')
    assert.match(junk, /^HTTP\/1.1 400 /)
    assert.equal(JSON.parse(junk.split('\r\n\r\n')[1]).code, 'ERR_BAD_REQUEST')
    await assertAlive(a)
  })
})
