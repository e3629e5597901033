/**
 * Protocol merges answered from memory (src/host/protocol-merges.ts), on a real js-libp2p
 * node's peer store over a datastore that counts its reads. A merge that adds nothing must
 * not reach the datastore; anything that changes or removes the record must be seen.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p } from 'libp2p'
import { shortcutProtocolMerges } from '../../src/host/protocol-merges.js'
import type { Libp2p, PeerId } from '@libp2p/interface'

let node: Libp2p
let reads: number
let undo: () => void
let remote: PeerId

beforeEach(async () => {
  const datastore = new MemoryDatastore()
  const get = datastore.get.bind(datastore)
  reads = 0
  datastore.get = async (...args: Parameters<typeof get>) => { reads++; return await get(...args) }
  node = await createLibp2p({ datastore, start: false })
  undo = shortcutProtocolMerges(node.peerStore, node, 200)
  remote = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
})

afterEach(async () => {
  undo()
  await node.stop()
})

/** Datastore reads caused by `fn`. */
async function readsOf (fn: () => Promise<unknown>): Promise<number> {
  const before = reads
  await fn()
  return reads - before
}

describe('protocol merges from memory', () => {
  it('a merge that adds nothing does not reach the store; a new protocol does', async () => {
    await node.peerStore.merge(remote, { protocols: ['/a/1'] })
    await node.peerStore.merge(remote, { protocols: ['/a/1'] })
    assert.equal(await readsOf(async () => await node.peerStore.merge(remote, { protocols: ['/a/1'] })), 0)
    assert.ok(await readsOf(async () => await node.peerStore.merge(remote, { protocols: ['/b/1'] })) > 0)
    assert.deepEqual((await node.peerStore.get(remote)).protocols, ['/a/1', '/b/1'])
  })

  it('a patch that removes the protocol is seen: the next merge adds it back', async () => {
    await node.peerStore.merge(remote, { protocols: ['/a/1'] })
    await node.peerStore.merge(remote, { protocols: ['/a/1'] })
    await node.peerStore.patch(remote, { protocols: ['/other/1'] })
    await node.peerStore.merge(remote, { protocols: ['/a/1'] })
    assert.deepEqual((await node.peerStore.get(remote)).protocols, ['/a/1', '/other/1'])
  })

  it('a deleted peer is stored again by the next merge', async () => {
    await node.peerStore.merge(remote, { protocols: ['/a/1'] })
    await node.peerStore.merge(remote, { protocols: ['/a/1'] })
    await node.peerStore.delete(remote)
    await node.peerStore.merge(remote, { protocols: ['/a/1'] })
    assert.deepEqual((await node.peerStore.get(remote)).protocols, ['/a/1'])
  })

  it('a remembered record is trusted for the TTL only', async () => {
    await node.peerStore.merge(remote, { protocols: ['/a/1'] })
    await node.peerStore.merge(remote, { protocols: ['/a/1'] })
    await new Promise(resolve => setTimeout(resolve, 250))
    assert.ok(await readsOf(async () => await node.peerStore.merge(remote, { protocols: ['/a/1'] })) > 0)
  })

  it('merges of anything besides protocols always reach the store', async () => {
    await node.peerStore.merge(remote, { protocols: ['/a/1'] })
    await node.peerStore.merge(remote, { protocols: ['/a/1'] })
    assert.ok(await readsOf(async () => await node.peerStore.merge(remote, { protocols: ['/a/1'], tags: { t: { value: 1 } } })) > 0)
  })

  it('undo restores the stock merge', async () => {
    await node.peerStore.merge(remote, { protocols: ['/a/1'] })
    await node.peerStore.merge(remote, { protocols: ['/a/1'] })
    undo()
    undo = () => {}
    assert.ok(await readsOf(async () => await node.peerStore.merge(remote, { protocols: ['/a/1'] })) > 0)
  })
})
