/**
 * Pubsub between three daemons (`-pubsub -pubsubRouter=floodsub`) in a line A - B - C: messages cross
 * the middle daemon, subscriptions are async iterables that end cleanly on abort, `break`
 * or `close()`, and the daemon unsubscribes when they end.
 * The last test checks the default router (gossipsub) between two daemons.
 */
import { strict as assert } from 'node:assert'
import { after, before, describe, it } from 'node:test'
import { spawnDaemon } from '../../src/client/index.js'
import type { PubsubMessage, SpawnedDaemon, Subscription } from '../../src/client/index.js'

async function until (what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

/** The next message of a subscription, or a failure after `ms`. */
async function nextMessage (it: AsyncIterator<PubsubMessage>, ms = 15_000): Promise<PubsubMessage> {
  let timer: NodeJS.Timeout | undefined
  try {
    const r = await Promise.race([it.next(), new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error('no message')) }, ms) })])
    if (r.done === true) throw new Error('subscription ended')
    return r.value
  } finally {
    clearTimeout(timer)
  }
}

describe('client: pubsub between three daemons', { timeout: 120_000 }, () => {
  let d: SpawnedDaemon[] = []
  const topic = 'client-test/chat'

  before(async () => {
    d = await Promise.all([0, 1, 2].map(async () => await spawnDaemon({ pubsub: true, pubsubRouter: 'floodsub' })))
    await d[0].client.connect(d[1].peerId, d[1].addrs)
    await d[1].client.connect(d[2].peerId, d[2].addrs)
  })
  after(async () => { await Promise.all(d.map(async x => { await x.stop() })) })

  it('a message published at one end reaches both others, with sender and data', async () => {
    const subs: Array<Subscription<PubsubMessage>> = d.map(x => x.client.pubsub.subscribe(topic))
    await Promise.all(subs.map(async s => { await s.ready() }))
    const its = subs.map(s => s[Symbol.asyncIterator]())
    assert.ok((await d[0].client.pubsub.topics()).includes(topic))
    // gossipsub needs to learn who is subscribed before it forwards
    await until('topic peers', async () => (await d[1].client.pubsub.peers(topic)).length === 2 && (await d[0].client.pubsub.peers(topic)).length === 1)

    await d[0].client.pubsub.publish(topic, 'hello from A')
    for (const i of [1, 2]) {
      const m = await nextMessage(its[i])
      assert.equal(new TextDecoder().decode(m.data), 'hello from A')
      assert.equal(m.from, d[0].peerId)
      assert.equal(m.topic, topic)
      assert.ok(m.seqno instanceof Uint8Array)
    }
    await d[2].client.pubsub.publish(topic, new Uint8Array([0, 1, 2, 255]))
    const back = await nextMessage(its[0])
    assert.deepEqual([...back.data], [0, 1, 2, 255])
    assert.equal(back.from, d[2].peerId)
    subs.forEach(s => { s.close() })
    for (const it of its) assert.equal((await it.next()).done, true, 'a closed subscription ends without error')
  })

  it('abort ends a subscription cleanly and the daemon unsubscribes', async () => {
    const ac = new AbortController()
    const sub = d[2].client.pubsub.subscribe('client-test/abort', { signal: ac.signal })
    await sub.ready()
    assert.ok((await d[2].client.pubsub.topics()).includes('client-test/abort'))
    const received: PubsubMessage[] = []
    const loop = (async () => { for await (const m of sub) received.push(m) })()
    setTimeout(() => { ac.abort() }, 100)
    await loop // no error
    assert.deepEqual(received, [])
    await until('unsubscribe', async () => !(await d[2].client.pubsub.topics()).includes('client-test/abort'), 5000)
  })

  it('break ends a subscription and frees it', async () => {
    const sub = d[0].client.pubsub.subscribe('client-test/break')
    await sub.ready()
    await until('topic peers', async () => (await d[1].client.pubsub.peers('client-test/break')).length === 1)
    await d[1].client.pubsub.publish('client-test/break', 'first')
    let got = ''
    for await (const m of sub) {
      got = new TextDecoder().decode(m.data)
      break
    }
    assert.equal(got, 'first')
    await until('unsubscribe', async () => !(await d[0].client.pubsub.topics()).includes('client-test/break'), 5000)
  })
})

describe('client: pubsub with the default router (gossipsub)', { timeout: 60_000 }, () => {
  it('delivers between two daemons', async () => {
    const g = await Promise.all([0, 1].map(async () => await spawnDaemon({ pubsub: true })))
    try {
      await g[0].client.connect(g[1].peerId, g[1].addrs)
      const subs = g.map(x => x.client.pubsub.subscribe('client-test/gossip'))
      await Promise.all(subs.map(async s => { await s.ready() }))
      await until('topic peers', async () => (await g[0].client.pubsub.peers('client-test/gossip')).length === 1, 5000)
      await g[0].client.pubsub.publish('client-test/gossip', 'hi')
      const m = await nextMessage(subs[1][Symbol.asyncIterator](), 5000)
      assert.equal(new TextDecoder().decode(m.data), 'hi')
      subs.forEach(s => { s.close() })
    } finally {
      await Promise.all(g.map(async x => { await x.stop() }))
    }
  })
})
