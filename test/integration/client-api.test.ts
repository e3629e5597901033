/**
 * Every non-stream route through the client against real daemons, and errors surfaced as
 * the named classes: unknown peer, bad input, protocol not supported, service not enabled,
 * unknown stream/handler, timeouts and a daemon that is down.
 */
import { strict as assert } from 'node:assert'
import { after, before, describe, it } from 'node:test'
import {
  AbortError, BadRequestError, DaemonUnreachableError, DialFailedError, HandlerNotFoundError, Libp2pdError, PeerNotFoundError,
  ProtocolNotSupportedError, ServiceNotEnabledError, StreamNotFoundError, TimeoutError, attach, createClient, spawnDaemon
} from '../../src/client/index.js'
import type { DaemonEvent, SpawnedDaemon } from '../../src/client/index.js'

const GHOST = '12D3KooWGzh9Vxv3tVQuvPMe3NHTMsJrQWs8HT4iaYhoWTrzr2Ua'

async function next (it: AsyncIterator<DaemonEvent>, pred: (e: DaemonEvent) => boolean): Promise<DaemonEvent> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const r = await it.next()
    if (r.done === true) break
    if (pred(r.value)) return r.value
  }
  throw new Error('event did not come')
}

describe('client: API routes and named errors', { timeout: 120_000 }, () => {
  let a: SpawnedDaemon
  let b: SpawnedDaemon

  before(async () => {
    [a, b] = await Promise.all([spawnDaemon({ connManager: { low: 1, high: 2 } }), spawnDaemon({ http: 'tcp' })])
  })
  after(async () => { await Promise.all([a?.stop(), b?.stop()]) })

  it('identity, version and the OpenAPI document', async () => {
    const id = await a.client.identity()
    assert.equal(id.peerID, a.peerId)
    assert.deepEqual(id.addresses, a.addrs)
    assert.ok(id.protocols.includes('/echo/1.0.0'))
    const v = await a.client.version()
    assert.equal(v.name, 'libp2pd')
    assert.match(v.version, /^\d+\.\d+\.\d+/)
    const doc = await b.client.openapi()
    assert.match(String(doc.openapi), /^3\./)
    assert.ok(Object.keys(doc.paths as object).includes('/api/daemon/peers/{id}/streams'))
  })

  it('peers: add, list, get; connect, connections, events, disconnect', async () => {
    const events = a.client.events()
    await events.ready()
    const it = events[Symbol.asyncIterator]()
    await a.client.peers.add(b.peerId, b.addrs)
    const got = await a.client.peers.get(b.peerId)
    assert.deepEqual(got.addresses, b.addrs)
    assert.equal(got.connected, false)
    assert.ok((await a.client.peers.list()).some(p => p.peerID === b.peerId))
    await a.client.connect(b.peerId)
    const connected = await next(it, e => e.type === 'PEER_CONNECTED' && e.peerID === b.peerId)
    assert.match(connected.at ?? '', /^\d{4}-\d\d-\d\dT/)
    assert.equal((await a.client.peers.get(b.peerId)).connected, true)
    const conns = await a.client.connections()
    assert.ok(conns.some(c => c.peerID === b.peerId && c.direction === 'OUTGOING'))
    assert.ok((await b.client.connections()).some(c => c.peerID === a.peerId && c.direction === 'INCOMING'))
    await a.client.disconnect(b.peerId)
    await next(it, e => e.type === 'PEER_DISCONNECTED' && e.peerID === b.peerId)
    events.close()
    // after close the iterator ends without error
    assert.equal((await it.next()).done, true)
  })

  it('connect with explicit addresses (p2pd style) works for an unknown peer', async () => {
    const c = await spawnDaemon()
    try {
      await c.client.connect(b.peerId, b.addrs)
      assert.ok((await c.client.connections()).some(x => x.peerID === b.peerId))
    } finally {
      await c.stop()
    }
  })

  it('streams: list, get and reset by id', async () => {
    const s = await a.client.openStream(b.peerId, '/echo/1.0.0')
    s.on('error', () => {})
    const listed = await a.client.streams.list()
    assert.ok(listed.some(x => x.id === s.info.id))
    assert.equal((await a.client.streams.get(s.info.id)).protocol, '/echo/1.0.0')
    const closed = new Promise(resolve => s.once('close', resolve))
    await a.client.streams.reset(s.info.id)
    await closed
    await assert.rejects(a.client.streams.get(s.info.id), StreamNotFoundError)
  })

  it('peerstore and connection manager', async () => {
    await a.client.connect(b.peerId)
    const rec = await a.client.peerstore.get(b.peerId)
    assert.equal(rec.peerID, b.peerId)
    assert.ok(rec.publicKey instanceof Uint8Array && rec.publicKey.byteLength > 0)
    // identify has run by the time the peerstore knows the key; protocols follow
    assert.ok((await a.client.peerstore.protocols(b.peerId)).includes('/echo/1.0.0'))
    await a.client.connmgr.tag(b.peerId, 'keep', 42)
    assert.equal((await a.client.peerstore.get(b.peerId)).tags.keep, 42)
    await a.client.connmgr.untag(b.peerId, 'keep')
    assert.equal((await a.client.peerstore.get(b.peerId)).tags.keep, undefined)
    await a.client.connmgr.protect(b.peerId, 'important')
    assert.equal(typeof await a.client.connmgr.trim(), 'number')
    await a.client.connmgr.unprotect(b.peerId, 'important')
  })

  it('unknown peer: PeerNotFoundError (404) and DialFailedError (502)', async () => {
    const err = await a.client.peers.get(GHOST).catch((e: unknown) => e)
    assert.ok(err instanceof PeerNotFoundError)
    assert.ok(err instanceof Libp2pdError)
    assert.equal(err.status, 404)
    assert.equal(err.code, 'ERR_PEER_NOT_FOUND')
    assert.equal(err.name, 'PeerNotFoundError')
    const dial = await a.client.openStream(GHOST, '/echo/1.0.0').catch((e: unknown) => e)
    assert.ok(dial instanceof DialFailedError, String(dial))
    assert.equal(dial.status, 502)
  })

  it('bad input: BadRequestError (400) with the daemon code', async () => {
    const badId = await a.client.peers.get('not-a-peer-id').catch((e: unknown) => e)
    assert.ok(badId instanceof BadRequestError)
    assert.equal(badId.code, 'ERR_INVALID_PEER_ID')
    const badProto = await a.client.openStream(b.peerId, 'has spaces in it').catch((e: unknown) => e)
    assert.ok(badProto instanceof BadRequestError)
    assert.equal(badProto.code, 'ERR_INVALID_PROTOCOL')
    const badAddr = await a.client.peers.add(b.peerId, ['not/a/multiaddr']).catch((e: unknown) => e)
    assert.ok(badAddr instanceof BadRequestError)
    assert.equal(badAddr.status, 400)
  })

  it('protocol not supported, handler and stream not found, service not enabled', async () => {
    await assert.rejects(a.client.openStream(b.peerId, '/nobody/speaks/this'), ProtocolNotSupportedError)
    await assert.rejects(a.client.unhandle('/never/registered'), HandlerNotFoundError)
    await assert.rejects(a.client.streams.reset('no-such-stream'), StreamNotFoundError)
    const dht = await a.client.dht.getValue('/v/x').catch((e: unknown) => e)
    assert.ok(dht instanceof ServiceNotEnabledError)
    assert.equal(dht.code, 'ERR_DHT_NOT_ENABLED')
    assert.equal(dht.status, 409)
    await assert.rejects(a.client.pubsub.topics(), ServiceNotEnabledError)
    const sub = a.client.pubsub.subscribe('t')
    await assert.rejects(sub.ready(), ServiceNotEnabledError)
  })

  it('timeouts: TimeoutError from the daemon (504) and abort as AbortError', async () => {
    const { createServer } = await import('node:net')
    const conns: Array<import('node:net').Socket> = []
    const silent = createServer(c => { conns.push(c) })
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
    const address = `/ip4/127.0.0.1/tcp/${(silent.address() as { port: number }).port}`
    try {
      const t = await a.client.openStream(GHOST, '/x/1', { address, timeout: 500 }).catch((e: unknown) => e)
      assert.ok(t instanceof TimeoutError, String(t))
      assert.equal(t.status, 504)
      await assert.rejects(a.client.connect(GHOST, [address], { signal: AbortSignal.timeout(200) }), AbortError)
    } finally {
      for (const c of conns) c.destroy()
      silent.close()
    }
  })

  it('daemon down: DaemonUnreachableError, for a wrong socket, a closed port and a stopped daemon', async () => {
    const nowhere = createClient({ socketPath: '/tmp/libp2pd-client-test-no-such.sock' })
    const e1 = await nowhere.identity().catch((e: unknown) => e)
    assert.ok(e1 instanceof DaemonUnreachableError)
    assert.equal(e1.status, 0)
    await nowhere.close()
    await assert.rejects(attach({ url: 'http://127.0.0.1:1' }), DaemonUnreachableError)
    const c = await spawnDaemon()
    const { client } = await attach({ url: c.httpAddress })
    assert.equal((await client.identity()).peerID, c.peerId)
    await c.stop()
    await assert.rejects(client.identity(), DaemonUnreachableError)
    // an event stream of a daemon that goes away ends with the same error
    await client.close()
  })

  it('an event stream fails with DaemonUnreachableError when its daemon dies', async () => {
    const c = await spawnDaemon()
    const events = c.client.events()
    await events.ready()
    const failed = (async () => { for await (const _ of events) { /* drain */ } })().then(() => undefined, (e: unknown) => e)
    c.process.kill('SIGKILL')
    const err = await failed
    assert.ok(err instanceof DaemonUnreachableError, `got ${String(err)}`)
    await c.stop()
  })
})
