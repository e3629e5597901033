/**
 * Every limit answers with a clear error instead of falling over: concurrent streams (total,
 * per peer, per protocol; outbound on both planes and inbound), pending accepts (they hold
 * a stream place until the accept timeout frees it), connections (`-maxConnections`),
 * subscriptions and event streams (`-maxSubscriptions`), HTTP bodies (`-httpBodyLimit`) and
 * p2pd messages (`-persistentConnMaxMsgSize`). Freed places can be used again.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { encodeVarint, readDelimited, writeDelimited } from '../../src/api/p2pd/framing.ts'
import { Request, Response } from '../../src/proto/p2pd.ts'
import { spawnDaemons } from './helpers/daemon.js'
import { openLines, request } from './helpers/http.js'
import { echo, startCallbackServer } from './helpers/program.js'
import { closedAfter, connectSocket, rawControl, resetWithin, roundTrip, sleep, waitFor } from './fuzz-harness.ts'
import type { SpawnedDaemon } from './helpers/daemon.js'
import type { CallbackServer } from './helpers/program.js'
import type { LineStream } from './helpers/http.js'
import type { Socket } from 'node:net'

describe('limits', () => {
  let a: SpawnedDaemon
  let b: SpawnedDaemon
  let c: SpawnedDaemon
  let d: SpawnedDaemon
  const servers: CallbackServer[] = []
  const held: Array<Socket | LineStream> = []

  const post = async (from: SpawnedDaemon, path: string, body?: unknown): Promise<any> => await request(from.httpAddr ?? '', 'POST', path, { body })
  const open = async (from: SpawnedDaemon, to: SpawnedDaemon, protocol: string): Promise<any> => await post(from, `/api/daemon/peers/${to.peerId}/streams`, { protocol })
  /** Opens a stream and keeps a program connected to it. */
  const hold = async (from: SpawnedDaemon, to: SpawnedDaemon, protocol: string): Promise<string> => {
    const res = await open(from, to, protocol)
    assert.equal(res.status, 201, res.body.toString())
    const s = await connectSocket(res.json().socketPath)
    s.on('error', () => {})
    held.push(s)
    return res.json().id
  }
  const refused = (res: any, flag: string): void => {
    assert.equal(res.status, 429, res.body.toString())
    assert.equal(res.json().code, 'ERR_LIMIT_REACHED')
    assert.ok(res.json().error.includes(flag), res.json().error)
  }
  const releaseAll = async (): Promise<void> => {
    for (const h of held.splice(0)) { if ('destroy' in h) h.destroy(); else h.close() }
    try {
      await waitFor(async () => (await request(a.httpAddr ?? '', 'GET', '/api/daemon/streams')).json().length === 0, 10_000, 'streams to close')
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${(await request(a.httpAddr ?? '', 'GET', '/api/daemon/streams')).body.toString()}`)
    }
  }

  before(async () => {
    [a, b, c, d] = await spawnDaemons([
      ['-maxStreams', '4', '-maxStreamsPerPeer', '3', '-maxStreamsPerProtocol', '2', '-maxConnections', '2', '-maxSubscriptions', '2',
        '-pubsub', '-httpBodyLimit', '4096', '-persistentConnMaxMsgSize', '2048', '-streamAcceptTimeout', '1s'],
      [], [], []
    ])
    for (const peer of [b, c]) {
      const res = await post(a, '/api/daemon/peers', { peerID: peer.peerId, addresses: peer.addrs })
      assert.equal(res.status, 204, res.body.toString())
    }
    const cb = await startCallbackServer('tcp', () => ({ run: echo }))
    servers.push(cb)
    for (const peer of [b, c]) {
      const res = await post(peer, '/api/daemon/handlers', { protocols: ['/lim/a/1', '/lim/b/1'], callback: cb.url })
      assert.equal(res.status, 204, res.body.toString())
    }
  })
  after(async () => {
    for (const h of held) { if ('destroy' in h) h.destroy(); else h.close() }
    await Promise.all(servers.map(async s => { await s.close() }))
    await Promise.all([a, b, c, d].map(async x => await x?.stop()))
  })

  it('outbound streams: per protocol, per peer, total; p2pd STREAM_OPEN too; freed places reused', async () => {
    await hold(a, b, '/echo/1.0.0')
    await hold(a, b, '/echo/1.0.0')
    refused(await open(a, c, '/echo/1.0.0'), '-maxStreamsPerProtocol')
    await hold(a, b, '/lim/a/1')
    refused(await open(a, b, '/lim/b/1'), '-maxStreamsPerPeer')
    await hold(a, c, '/lim/a/1')
    refused(await open(a, c, '/lim/b/1'), '-maxStreams')
    const r = await roundTrip(a, { type: Request.Type.STREAM_OPEN, streamOpen: { peer: peerIdFromString(c.peerId).toMultihash().bytes, proto: ['/lim/b/1'] } })
    assert.equal(r.type, Response.Type.ERROR)
    assert.match(r.error?.msg ?? '', /limit/)
    await releaseAll()
    await hold(a, c, '/lim/b/1')
    await releaseAll()
  })

  it('pending accepts hold a place until the accept timeout frees it', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await open(a, b, '/lim/a/1')).status, 201)
    assert.equal((await open(a, c, '/lim/b/1')).status, 201)
    assert.equal((await open(a, c, '/lim/b/1')).status, 201)
    refused(await open(a, c, '/echo/1.0.0'), '-maxStreams')
    await waitFor(async () => (await open(a, c, '/echo/1.0.0')).status === 201, 5000, 'the accept timeout to free places')
    await waitFor(async () => (await request(a.httpAddr ?? '', 'GET', '/api/daemon/streams')).json().length === 0, 5000, 'streams to go')
  })

  it('inbound streams respect the limits too: the opener is reset, the program never called', async () => {
    const cb = await startCallbackServer('tcp', () => ({ run: () => {} }))
    servers.push(cb)
    assert.equal((await post(a, '/api/daemon/handlers', { protocols: ['/lim/in/1'], callback: cb.url })).status, 204)
    await hold(b, a, '/lim/in/1')
    await hold(c, a, '/lim/in/1')
    await waitFor(() => cb.calls.length === 2, 5000, 'two callbacks')
    const res = await open(b, a, '/lim/in/1')
    if (res.status === 201) assert.ok(await resetWithin(res.json().socketPath, 5000), 'the refused inbound stream was not reset')
    await sleep(300)
    assert.equal(cb.calls.length, 2, 'the program was called for a stream beyond the limit')
    // both ends' programs go away (a program that only closed looks like a half-close)
    await cb.close()
    await releaseAll()
  })

  it('-maxConnections: a third connection is refused with 429, both ways', async () => {
    const res = await post(a, `/api/daemon/peers/${d.peerId}/connect`, { addresses: d.addrs })
    refused(res, '-maxConnections')
    // inbound: js-libp2p refuses the connection above the same limit
    const back = await post(d, `/api/daemon/peers/${a.peerId}/connect`, { addresses: a.addrs, timeout: 5 })
    assert.notEqual(back.status, 204, 'an inbound connection beyond -maxConnections was accepted')
    await sleep(300)
    const conns = (await request(a.httpAddr ?? '', 'GET', '/api/daemon/connections')).json()
    assert.ok(conns.length <= 2, `${conns.length} connections`)
  })

  it('-maxSubscriptions: pubsub subscriptions and event streams share the cap, on both planes', async () => {
    const s1 = await openLines(a.httpAddr ?? '', 'POST', '/api/daemon/pubsub/topics/t1/subscribe')
    held.push(s1)
    await s1.next()
    const e1 = await openLines(a.httpAddr ?? '', 'GET', '/api/daemon/events')
    held.push(e1)
    await e1.next()
    refused(await post(a, '/api/daemon/pubsub/topics/t2/subscribe'), '-maxSubscriptions')
    refused(await request(a.httpAddr ?? '', 'GET', '/api/daemon/events'), '-maxSubscriptions')
    const r = await roundTrip(a, { type: Request.Type.PUBSUB, pubsub: { type: 'SUBSCRIBE' as any, topic: 't3' } as any })
    assert.equal(r.type, Response.Type.ERROR)
    assert.match(r.error?.msg ?? '', /maxSubscriptions/)
    s1.close()
    await waitFor(async () => {
      const again = await openLines(a.httpAddr ?? '', 'POST', '/api/daemon/pubsub/topics/t2/subscribe')
      const ok = again.status === 200
      again.close()
      return ok
    }, 5000, 'a freed subscription place')
    e1.close()
  })

  it('body and message sizes: 413 over HTTP, ERROR then close over p2pd', async () => {
    const big = await post(a, '/api/daemon/peers', { peerID: b.peerId, addresses: ['/ip4/127.0.0.1/tcp/1/' + 'x'.repeat(5000)] })
    assert.equal(big.status, 413)
    assert.equal(big.json().code, 'ERR_PAYLOAD_TOO_LARGE')
    const s = await rawControl(a)
    await writeDelimited(s, Request.encode({ type: Request.Type.PUBSUB, pubsub: { type: 'PUBLISH' as any, topic: 't', data: new Uint8Array(3000) } as any }))
    const res = Response.decode((await readDelimited(s, { timeout: 5000 })) ?? new Uint8Array())
    assert.equal(res.type, Response.Type.ERROR)
    assert.match(res.error?.msg ?? '', /exceeds the limit/)
    assert.ok(await closedAfter(s, 5000) >= 0)
    s.destroy()
    // a length prefix alone is refused before any body is read or allocated
    const t = await rawControl(a)
    t.write(encodeVarint(1 << 30))
    const r2 = Response.decode((await readDelimited(t, { timeout: 5000 })) ?? new Uint8Array())
    assert.equal(r2.type, Response.Type.ERROR)
    t.destroy()
  })
})
