/**
 * Daemons stopped in the middle of work: streams over both planes, subscriptions held on
 * both planes, DHT queries, a registered handler. Each SIGTERM must end in exit 143. The
 * first daemon crashed here every time (exit 1) while a p2pd pubsub feed was open.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { createClient as createP2pdClient } from '@libp2p/daemon-client'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { spawnDaemon } from '../../src/client/index.js'
import type { SpawnedDaemon } from '../../src/client/index.js'

const CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

/** Reads `source` to its end. */
async function drain (source: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of source) { /* only the end matters */ }
}

const p2pdClient = (d: SpawnedDaemon): ReturnType<typeof createP2pdClient> =>
  createP2pdClient(multiaddr(`/unix/${encodeURIComponent((d.controlAddress ?? '').replace(/^\/unix/, ''))}`))

for (const pubsubRouter of ['gossipsub', 'floodsub'] as const) {
  it(`busy daemons stop with exit 143 (${pubsubRouter})`, { timeout: 90_000 }, async () => {
    const [a, b] = await Promise.all([0, 1].map(async () => await spawnDaemon({ dht: 'server', pubsub: true, pubsubRouter })))
    // the load loops run until this is false: the finally ends them on a failure too
    let running = true
    try {
      await a.client.connect(b.peerId, b.addrs)
      for (const protocol of ['/echo/1.0.0', '/busy/1.0.0']) await b.client.handle(protocol, async s => { s.pipe(s) })
      const [pa, pb] = [p2pdClient(a), p2pdClient(b)]
      const loops: Array<Promise<void>> = []
      // streams that carried their bytes before the stop: the load must really have run
      const echoed = { http: 0, p2pd: 0 }
      // every failure is expected once a daemon stops; the loop just tries again
      const loop = (fn: () => Promise<unknown>): void => {
        loops.push((async () => { while (running) await fn().catch(async () => { await new Promise(resolve => setTimeout(resolve, 20)) }) })())
      }
      for (const protocol of ['/echo/1.0.0', '/busy/1.0.0']) {
        loop(async () => {
          const s = await a.client.openStream(b.peerId, protocol)
          s.end(Buffer.alloc(64 << 10))
          await drain(s)
          echoed.http++
        })
      }
      loop(async () => {
        const s = await pa.openStream(peerIdFromString(b.peerId), '/echo/1.0.0')
        s.send(new Uint8Array(1024))
        let got = 0
        for await (const chunk of s) if ((got += chunk.byteLength) >= 1024) break
        await s.close()
        echoed.p2pd++
      })
      for (const [d, p] of [[a, pa], [b, pb]] as const) {
        loop(async () => { await drain(d.client.dht.findProviders(CID, { timeout: 2000 })) })
        loop(async () => { await d.client.dht.provide(CID, { timeout: 2000 }) })
        loop(async () => { await p.pubsub.publish('busy', new Uint8Array(3)) })
      }
      const held = [a.client.pubsub.subscribe('busy'), b.client.pubsub.subscribe('busy')]
      await Promise.all(held.map(async s => { await s.ready() }))
      const heldP2pd = [await pa.pubsub.subscribe('busy'), await pb.pubsub.subscribe('busy')]
      await new Promise(resolve => setTimeout(resolve, 1500))
      assert.ok(echoed.http > 0 && echoed.p2pd > 0, `streams echoed before the stop: ${JSON.stringify(echoed)}`)

      await a.stop()
      await b.stop()
      running = false
      held.forEach(s => { s.close() })
      await Promise.allSettled(heldP2pd.map(async s => { await s.cancel() }))
      await Promise.allSettled(loops)
      assert.equal(a.process.exitCode, 143, a.stderrTail())
      assert.equal(b.process.exitCode, 143, b.stderrTail())
    } finally {
      running = false
      await Promise.all([a.stop(), b.stop()])
    }
  })
}
