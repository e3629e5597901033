/**
 * Every route of the HTTP API besides stream transfer, against two real daemons over TCP on
 * 127.0.0.1 with DHT and pubsub on, driven by plain HTTP on the unix sockets.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { sha256 as sha256Hasher } from 'multiformats/hashes/sha2'
import { spawnDaemons } from './helpers/daemon.js'
import { openLines, request } from './helpers/http.js'
import { sleep, startCallbackServer } from './helpers/program.js'
import type { SpawnedDaemon } from './helpers/daemon.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')
const DHT_FLAGS = ['-dhtServer', '-pubsub', '-pubsubRouter', 'floodsub']

describe('HTTP API routes', () => {
  let a: SpawnedDaemon
  let b: SpawnedDaemon
  const A = async (method: string, path: string, body?: unknown): Promise<any> => await request(a.httpAddr ?? '', method, path, { body })
  const B = async (method: string, path: string, body?: unknown): Promise<any> => await request(b.httpAddr ?? '', method, path, { body })

  before(async () => {
    ;[a, b] = await spawnDaemons([DHT_FLAGS, DHT_FLAGS])
  })
  after(async () => { await Promise.all([a?.stop(), b?.stop()]) })

  it('GET /api/daemon/identity and /version', async () => {
    const id = (await A('GET', '/api/daemon/identity')).json()
    assert.equal(id.peerID, a.peerId)
    assert.deepEqual(id.addresses, a.addrs)
    assert.ok(id.protocols.includes('/ipfs/id/1.0.0'))
    assert.match(id.agentVersion, /^libp2pd\//)
    const v = (await A('GET', '/api/daemon/version')).json()
    assert.equal(v.name, 'libp2pd')
    assert.equal(v.version, id.version)
  })

  it('peers: POST adds, GET lists and gets, unknown is 404', async () => {
    const unknown = (await B('GET', `/api/daemon/peers/${a.peerId}`))
    assert.equal(unknown.status, 404)
    assert.equal(unknown.json().code, 'ERR_PEER_NOT_FOUND')
    assert.equal((await A('POST', '/api/daemon/peers', { peerID: b.peerId, addresses: b.addrs })).status, 204)
    const one = (await A('GET', `/api/daemon/peers/${b.peerId}`)).json()
    assert.equal(one.peerID, b.peerId)
    assert.deepEqual(one.addresses, b.addrs)
    assert.equal(one.connected, false)
    assert.deepEqual(one.streams, [])
    const all = (await A('GET', '/api/daemon/peers')).json()
    assert.ok(all.some((p: any) => p.peerID === b.peerId))
  })

  it('connect, connections, events, disconnect', async () => {
    const events = await openLines(a.httpAddr ?? '', 'GET', '/api/daemon/events')
    assert.equal(events.headers['content-type']?.startsWith('application/x-ndjson'), true)
    assert.equal((await events.next()).type, 'READY')
    assert.equal((await A('POST', `/api/daemon/peers/${b.peerId}/connect`, { addresses: b.addrs, timeout: 10 })).status, 204)
    const ev = await events.waitFor(e => e.type === 'PEER_CONNECTED' && e.peerID === b.peerId)
    assert.ok(typeof ev.at === 'string')
    const conns = (await A('GET', '/api/daemon/connections')).json()
    const c = conns.find((x: any) => x.peerID === b.peerId)
    assert.equal(c.direction, 'OUTGOING')
    assert.equal(c.limited, false)
    assert.equal((await A('GET', `/api/daemon/peers/${b.peerId}`)).json().connected, true)
    assert.equal((await A('POST', `/api/daemon/peers/${b.peerId}/disconnect`)).status, 204)
    await events.waitFor(e => e.type === 'PEER_DISCONNECTED' && e.peerID === b.peerId)
    events.close()
    assert.equal((await A('POST', `/api/daemon/peers/${b.peerId}/connect`)).status, 204) // from the peerstore
  })

  it('events as Server-Sent Events', async () => {
    const sse = await openLines(a.httpAddr ?? '', 'GET', '/api/daemon/events', { sse: true })
    assert.equal(sse.headers['content-type']?.startsWith('text/event-stream'), true)
    assert.equal((await sse.next()).type, 'READY')
    sse.close()
  })

  it('peerstore: record and protocols', async () => {
    await sleep(500) // identify runs after connecting
    const r = (await A('GET', `/api/daemon/peerstore/${b.peerId}`)).json()
    assert.equal(r.peerID, b.peerId)
    assert.ok(r.protocols.includes('/ipfs/id/1.0.0'))
    assert.ok(typeof r.publicKey === 'string' && r.publicKey.length > 0)
    assert.match(r.agentVersion ?? '', /^libp2pd\//)
    const p = (await A('GET', `/api/daemon/peerstore/${b.peerId}/protocols`)).json()
    assert.deepEqual(p.protocols, r.protocols)
  })

  it('connection manager: tag, untag, protect, unprotect, trim', async () => {
    assert.equal((await A('POST', '/api/daemon/connmgr/tag', { peerID: b.peerId, tag: 'app', weight: 42 })).status, 204)
    assert.equal((await A('GET', `/api/daemon/peerstore/${b.peerId}`)).json().tags.app, 42)
    assert.equal((await A('POST', '/api/daemon/connmgr/untag', { peerID: b.peerId, tag: 'app' })).status, 204)
    assert.equal((await A('GET', `/api/daemon/peerstore/${b.peerId}`)).json().tags.app, undefined)
    assert.equal((await A('POST', '/api/daemon/connmgr/protect', { peerID: b.peerId, tag: 'keep' })).status, 204)
    assert.ok(Object.keys((await A('GET', `/api/daemon/peerstore/${b.peerId}`)).json().tags).some(t => t.endsWith('keep')))
    assert.equal((await A('POST', '/api/daemon/connmgr/unprotect', { peerID: b.peerId, tag: 'keep' })).status, 204)
    const trim = await A('POST', '/api/daemon/connmgr/trim')
    assert.equal(trim.status, 200)
    assert.equal(typeof trim.json().closed, 'number')
  })

  it('handlers: register, list, remove one callback, remove protocol, 404 after', async () => {
    const cb1 = await startCallbackServer('tcp', () => ({}))
    const cb2 = await startCallbackServer('unix', () => ({}), b.dir)
    try {
      assert.equal((await B('POST', '/api/daemon/handlers', { protocols: ['/h/1', '/h/2'], callback: cb1.url })).status, 204)
      assert.equal((await B('POST', '/api/daemon/handlers', { protocols: ['/h/1'], callback: cb2.url, balanced: true })).status, 204)
      let list = (await B('GET', '/api/daemon/handlers')).json()
      assert.deepEqual(list.find((h: any) => h.protocol === '/h/1').callbacks, [cb1.url, cb2.url])
      assert.deepEqual(list.find((h: any) => h.protocol === '/h/2').callbacks, [cb1.url])
      assert.ok((await B('GET', '/api/daemon/identity')).json().protocols.includes('/h/1'))
      assert.equal((await B('DELETE', `/api/daemon/handlers/${encodeURIComponent('/h/1')}?callback=${encodeURIComponent(cb1.url)}`)).status, 204)
      list = (await B('GET', '/api/daemon/handlers')).json()
      assert.deepEqual(list.find((h: any) => h.protocol === '/h/1').callbacks, [cb2.url])
      assert.equal((await B('DELETE', `/api/daemon/handlers/${encodeURIComponent('/h/1')}`)).status, 204)
      assert.equal((await B('DELETE', `/api/daemon/handlers/${encodeURIComponent('/h/2')}`)).status, 204)
      const again = await B('DELETE', `/api/daemon/handlers/${encodeURIComponent('/h/2')}`)
      assert.equal(again.status, 404)
      assert.equal(again.json().code, 'ERR_HANDLER_NOT_FOUND')
      assert.ok(!(await B('GET', '/api/daemon/identity')).json().protocols.includes('/h/1'))
    } finally {
      await cb1.close()
      await cb2.close()
    }
  })

  it('streams: list and get include open streams; peer shows them', async () => {
    const cb = await startCallbackServer('tcp', () => ({ run: s => { s.resume() } }))
    try {
      await B('POST', '/api/daemon/handlers', { protocols: ['/list/1'], callback: cb.url })
      const s = (await A('POST', `/api/daemon/peers/${b.peerId}/streams`, { protocol: '/list/1' })).json()
      const list = (await A('GET', '/api/daemon/streams')).json()
      assert.deepEqual(list.find((x: any) => x.id === s.id), s)
      assert.deepEqual((await A('GET', `/api/daemon/streams/${s.id as string}`)).json(), s)
      const peer = (await A('GET', `/api/daemon/peers/${b.peerId}`)).json()
      assert.ok(peer.streams.some((x: any) => x.id === s.id))
      assert.equal((await A('DELETE', `/api/daemon/streams/${s.id as string}`)).status, 204)
    } finally {
      await cb.close()
    }
  })

  it('pubsub: subscribe (NDJSON), publish, topics, topic peers; leaving on disconnect', async () => {
    const sub = await openLines(b.httpAddr ?? '', 'POST', `/api/daemon/pubsub/topics/${encodeURIComponent('news/1')}/subscribe`)
    assert.deepEqual(await sub.next(), { subscribed: 'news/1' })
    assert.deepEqual((await B('GET', '/api/daemon/pubsub/topics')).json().topics, ['news/1'])
    // A must know B is in the topic before publishing reaches it
    const sub2 = await openLines(a.httpAddr ?? '', 'POST', `/api/daemon/pubsub/topics/${encodeURIComponent('news/1')}/subscribe`, { sse: true })
    assert.deepEqual(await sub2.next(), { subscribed: 'news/1' })
    const deadline = Date.now() + 10_000
    while (!(await A('GET', `/api/daemon/pubsub/topics/${encodeURIComponent('news/1')}/peers`)).json().peers.includes(b.peerId)) {
      assert.ok(Date.now() < deadline, 'B never showed up as a topic peer')
      await sleep(100)
    }
    assert.equal((await A('POST', `/api/daemon/pubsub/topics/${encodeURIComponent('news/1')}/publish`, { data: b64('hello pubsub') })).status, 204)
    const msg = await sub.waitFor(m => m.data !== undefined)
    assert.equal(Buffer.from(msg.data, 'base64').toString(), 'hello pubsub')
    assert.equal(msg.topic, 'news/1')
    assert.equal(msg.from, a.peerId)
    assert.ok(typeof msg.seqno === 'string')
    // and the other way, received as Server-Sent Events
    assert.equal((await B('POST', `/api/daemon/pubsub/topics/${encodeURIComponent('news/1')}/publish`, { data: b64('hello back') })).status, 204)
    const back = await sub2.waitFor(m => m.data !== undefined)
    assert.equal(Buffer.from(back.data, 'base64').toString(), 'hello back')
    assert.equal(back.from, b.peerId)
    sub.close()
    sub2.close()
    const until = Date.now() + 5000
    while ((await B('GET', '/api/daemon/pubsub/topics')).json().topics.length > 0) {
      assert.ok(Date.now() < until, 'B did not unsubscribe after the client left')
      await sleep(50)
    }
  })

  it('DHT: provide/find-providers, put/get/search value, find-peer, public-key, closest-peers', async () => {
    // a pair of its own: the pair above went through a disconnect and reconnect, after which
    // js-libp2p's registrar can skip the DHT's onConnect (its async disconnect handler races
    // the new identify), leaving a routing table without the other peer for a while
    const [a, b] = await spawnDaemons([DHT_FLAGS, DHT_FLAGS])
    const A = async (method: string, path: string, body?: unknown): Promise<any> => await request(a.httpAddr ?? '', method, path, { body })
    const B = async (method: string, path: string, body?: unknown): Promise<any> => await request(b.httpAddr ?? '', method, path, { body })
    try {
      // make sure both routing tables know each other
      assert.equal((await A('POST', `/api/daemon/peers/${b.peerId}/connect`, { addresses: b.addrs })).status, 204)
      await sleep(1000)
      const cid = CID.createV1(0x55, await sha256Hasher.digest(Buffer.from(`libp2pd ${Date.now()}`))).toString()
      // a two-node DHT's routing tables can be briefly empty under load (then the provide
      // reaches nobody and the search asks nobody): provide and look up to three times
      let first: any
      for (let attempt = 0; attempt < 3 && first === undefined; attempt++) {
        if (attempt > 0) await sleep(1000)
        const prov = await B('POST', '/api/daemon/dht/provide', { cid, timeout: 20 })
        assert.equal(prov.status, 204, prov.body.toString())
        const fp = await openLines(a.httpAddr ?? '', 'POST', '/api/daemon/dht/find-providers', { body: { cid, count: 1, timeout: 20 } })
        assert.equal(fp.status, 200)
        first = await fp.next(25_000)
        if (first !== undefined) assert.equal(await fp.next(5000), undefined, 'the stream ends after count results')
      }
      assert.equal(first?.peerID, b.peerId, JSON.stringify(first))

      const key = b64(`/v/libp2pd-${Date.now()}`)
      const put = await A('POST', '/api/daemon/dht/put-value', { key, value: b64('v1'), timeout: 20 })
      assert.equal(put.status, 204, put.body.toString())
      const got = await B('POST', '/api/daemon/dht/get-value', { key, timeout: 20 })
      assert.equal(got.status, 200, got.body.toString())
      assert.equal(Buffer.from(got.json().value, 'base64').toString(), 'v1')
      const search = await openLines(b.httpAddr ?? '', 'POST', '/api/daemon/dht/search-value', { body: { key, timeout: 10 } })
      const v = await search.next(15_000)
      assert.equal(Buffer.from(v.value, 'base64').toString(), 'v1')
      search.close()

      const fpeer = await A('POST', '/api/daemon/dht/find-peer', { peerID: b.peerId, timeout: 10 })
      assert.equal(fpeer.status, 200, fpeer.body.toString())
      assert.equal(fpeer.json().peerID, b.peerId)
      const pk = await A('POST', '/api/daemon/dht/public-key', { peerID: b.peerId })
      assert.equal(pk.status, 200)
      assert.ok(pk.json().publicKey.length > 0)
      // a two-node DHT's routing table can be briefly empty under load: ask up to three times
      const peers: string[] = []
      for (let attempt = 0; attempt < 3 && !peers.includes(b.peerId); attempt++) {
        const closest = await openLines(a.httpAddr ?? '', 'POST', '/api/daemon/dht/closest-peers', { body: { key: b64('some key'), timeout: 10 } })
        for (let p = await closest.next(15_000); p !== undefined; p = await closest.next(15_000)) {
          if (p.peerID !== undefined) peers.push(p.peerID)
        }
      }
      assert.ok(peers.includes(b.peerId), JSON.stringify(peers))
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('GET /api/openapi.json documents every route', async () => {
    const doc = (await A('GET', '/api/openapi.json')).json()
    assert.match(doc.openapi, /^3\./)
    const paths = Object.keys(doc.paths)
    for (const p of [
      '/api/daemon/peers', '/api/daemon/peers/{id}', '/api/daemon/peers/{id}/streams', '/api/daemon/identity', '/api/daemon/version',
      '/api/daemon/connections', '/api/daemon/peers/{id}/connect', '/api/daemon/peers/{id}/disconnect', '/api/daemon/handlers',
      '/api/daemon/handlers/{protocol}', '/api/daemon/streams', '/api/daemon/streams/{id}', '/api/daemon/dht/find-peer',
      '/api/daemon/dht/find-providers', '/api/daemon/dht/closest-peers', '/api/daemon/dht/public-key', '/api/daemon/dht/get-value',
      '/api/daemon/dht/search-value', '/api/daemon/dht/put-value', '/api/daemon/dht/provide', '/api/daemon/pubsub/topics',
      '/api/daemon/pubsub/topics/{topic}/peers', '/api/daemon/pubsub/topics/{topic}/publish', '/api/daemon/pubsub/topics/{topic}/subscribe',
      '/api/daemon/connmgr/tag', '/api/daemon/connmgr/untag', '/api/daemon/connmgr/protect', '/api/daemon/connmgr/unprotect',
      '/api/daemon/connmgr/trim', '/api/daemon/peerstore/{id}', '/api/daemon/peerstore/{id}/protocols', '/api/daemon/events'
    ]) assert.ok(paths.includes(p), `missing ${p}`)
    const open = doc.paths['/api/daemon/peers/{id}/streams'].post
    assert.ok(open.responses['201'])
    assert.ok(open.requestBody.content['application/json'].schema.properties.protocol)
  })
})
