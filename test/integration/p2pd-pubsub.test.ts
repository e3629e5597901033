// Pubsub over the p2pd plane: two `-pubsub` libp2pd processes on loopback, driven by
// @libp2p/daemon-client (publish, subscribe, getTopics, getSubscribers), plus the feed
// ending (unsubscribe) when the client closes its connection.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import { Request, Response } from '../../src/proto/p2pd.ts'
import { roundTrip, spawnDaemon, waitFor } from './p2pd-helpers.ts'
import type { TestDaemon } from './p2pd-helpers.ts'

for (const router of ['gossipsub', 'floodsub']) {
  describe(`p2pd pubsub (${router})`, () => {
    let a: TestDaemon
    let b: TestDaemon

    before(async () => {
      [a, b] = await Promise.all([spawnDaemon(['-pubsub', `-pubsubRouter=${router}`]), spawnDaemon(['-pubsub', `-pubsubRouter=${router}`])])
      await a.client.connect(b.peerId, b.addrs)
    })
    after(async () => {
      await Promise.all([a?.stop(), b?.stop()])
    })

    it('subscribe on b, publish on a: b gets the message with from, seqno and topic', async () => {
      const topic = `t-${router}`
      const sub = await b.client.pubsub.subscribe(topic)
      // a must learn that b subscribed before publishing reaches b
      await waitFor(async () => (await a.client.pubsub.getSubscribers(topic)).some(p => p.equals(b.peerId)), 10_000, 'a to see b subscribed')
      assert.deepEqual(await b.client.pubsub.getTopics(), [topic])

      const data = new TextEncoder().encode(`hello ${router}`)
      await a.client.pubsub.publish(topic, data)
      const it = sub.messages()[Symbol.asyncIterator]()
      const first = await Promise.race([
        it.next(),
        new Promise<never>((_resolve, reject) => setTimeout(() => { reject(new Error('no message within 10 s')) }, 10_000))
      ])
      const msg = first.value
      assert.equal(Buffer.from(msg.data ?? []).toString(), `hello ${router}`)
      assert.deepEqual(msg.topicIDs, [topic])
      assert.ok(peerIdFromMultihash(Digest.decode(msg.from ?? new Uint8Array())).equals(a.peerId))
      assert.equal(msg.seqno?.byteLength, 8)

      // closing the feed connection unsubscribes
      await sub.cancel()
      await waitFor(async () => (await b.client.pubsub.getTopics()).length === 0, 5000, 'b to unsubscribe')
      await waitFor(async () => !(await a.client.pubsub.getSubscribers(topic)).some(p => p.equals(b.peerId)), 10_000, 'a to see b leave')
    })

    it('a daemon stopped while a client is subscribed exits 143, not with a crash', async () => {
      // the feed ends when the control plane closes, which can be after the pubsub service
      // stopped; leaving the topic then threw and killed the process (exit 1, files left)
      const c = await spawnDaemon(['-pubsub', `-pubsubRouter=${router}`])
      const sub = await c.client.pubsub.subscribe(`stopping-${router}`)
      const exited = new Promise<number | null>(resolve => c.proc.once('exit', code => { resolve(code) }))
      await c.stop()
      assert.equal(await exited, 143, c.stderr())
      assert.doesNotMatch(c.stderr(), /error while ending a feed/)
      await sub.cancel().catch(() => {})
    })

    it('two subscriptions to one topic: closing one keeps the other', async () => {
      const topic = `shared-${router}`
      const s1 = await b.client.pubsub.subscribe(topic)
      const s2 = await b.client.pubsub.subscribe(topic)
      await s1.cancel()
      await new Promise(resolve => setTimeout(resolve, 300))
      assert.deepEqual(await b.client.pubsub.getTopics(), [topic])
      await s2.cancel()
      await waitFor(async () => (await b.client.pubsub.getTopics()).length === 0, 5000, 'b to leave the topic')
    })

    it('LIST_PEERS needs a topic; PUBLISH with empty data is accepted', async () => {
      const r1 = await roundTrip(a, { type: Request.Type.PUBSUB, pubsub: { type: 'LIST_PEERS' as any } })
      assert.equal(r1.type, Response.Type.ERROR)
      const r2 = await roundTrip(a, { type: Request.Type.PUBSUB, pubsub: { type: 'PUBLISH' as any, topic: 'x' } })
      assert.equal(r2.type, Response.Type.OK)
    })
  })
}

describe('p2pd pubsub disabled', () => {
  it('answers ERROR "PubSub not enabled"', async () => {
    const d = await spawnDaemon()
    try {
      await assert.rejects(d.client.pubsub.getTopics(), /PubSub not enabled/)
    } finally {
      await d.stop()
    }
  })
})
