/**
 * The DHT through the client on three daemons (`-dhtServer`) on 127.0.0.1: put/get under
 * the daemon's `/v/` namespace, value search, closest peers, find-peer, provide and
 * find-providers; searches are async iterables that end cleanly on abort and `break`.
 */
import { strict as assert } from 'node:assert'
import { after, before, describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { NotFoundError, spawnDaemon } from '../../src/client/index.js'
import type { SpawnedDaemon } from '../../src/client/index.js'

async function collect<T> (it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

describe('client: DHT on three daemons', { timeout: 150_000 }, () => {
  let d: SpawnedDaemon[] = []

  before(async () => {
    d = await Promise.all([0, 1, 2].map(async () => await spawnDaemon({ dht: 'server' })))
    // a triangle, so every routing table has both others
    await d[0].client.connect(d[1].peerId, d[1].addrs)
    await d[1].client.connect(d[2].peerId, d[2].addrs)
    await d[2].client.connect(d[0].peerId, d[0].addrs)
    // give identify time to tell each DHT that the others are servers
    await new Promise(resolve => setTimeout(resolve, 1000))
  })
  after(async () => { await Promise.all(d.map(async x => { await x.stop() })) })

  it('put on one daemon, get and search on another', async () => {
    const key = `/v/client-test-${Date.now()}`
    await d[0].client.dht.putValue(key, 'value one', { timeout: 20_000 })
    const got = await d[2].client.dht.getValue(key, { timeout: 20_000 })
    assert.equal(new TextDecoder().decode(got), 'value one')
    const found = await collect(d[1].client.dht.searchValue(key, { timeout: 20_000 }))
    assert.ok(found.length >= 1)
    assert.ok(found.every(v => new TextDecoder().decode(v) === 'value one'))
  })

  it('a missing key is NotFoundError (404 ERR_NOT_FOUND per the contract)', async () => {
    await assert.rejects(d[1].client.dht.getValue(`/v/client-test-missing-${Date.now()}`, { timeout: 5000 }), NotFoundError)
  })

  it('find-peer, closest peers and the public key', async () => {
    const p = await d[0].client.dht.findPeer(d[2].peerId, { timeout: 20_000 })
    assert.equal(p.peerID, d[2].peerId)
    assert.ok(p.addresses.some(a => d[2].addrs.includes(a)))
    const closest = await collect(d[0].client.dht.getClosestPeers('some key', { timeout: 20_000 }))
    assert.ok(closest.includes(d[1].peerId) || closest.includes(d[2].peerId), JSON.stringify(closest))
    const pk = await d[0].client.dht.getPublicKey(d[1].peerId, { timeout: 20_000 })
    assert.ok(pk.byteLength > 0)
  })

  it('provide, then find the provider from another daemon; break ends the search', async () => {
    const cid = CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`client-test ${Date.now()}`))).toString()
    await d[1].client.dht.provide(cid, { timeout: 20_000 })
    let provider: string | undefined
    for await (const p of d[2].client.dht.findProviders(cid, { timeout: 20_000 })) {
      provider = p.peerID
      break
    }
    assert.equal(provider, d[1].peerId)
    const counted = await collect(d[0].client.dht.findProviders(cid, { count: 1, timeout: 20_000 }))
    assert.deepEqual(counted.map(p => p.peerID), [d[1].peerId])
  })

  it('abort ends a search cleanly', async () => {
    const ac = new AbortController()
    ac.abort()
    assert.deepEqual(await collect(d[0].client.dht.getClosestPeers('k', { signal: ac.signal })), [])
    const ac2 = new AbortController()
    const search = collect(d[0].client.dht.searchValue(`/v/client-test-none-${Date.now()}`, { signal: ac2.signal }))
    setTimeout(() => { ac2.abort() }, 50)
    assert.ok(Array.isArray(await search))
    // the daemon is fine afterwards
    assert.equal((await d[0].client.identity()).peerID, d[0].peerId)
  })
})
