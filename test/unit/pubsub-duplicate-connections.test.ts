/**
 * Pubsub across duplicate connections, with the routers the daemon ships (`buildPubsub`)
 * and `reattachPubsub` (src/host/pubsub-reattach.ts). Two peers with two connections
 * between them lose pubsub in the stock routers when the one carrying their pubsub streams
 * closes: floodsub drops the peer on both sides, gossipsub keeps the peer without an
 * outbound stream, and neither opens new streams on the connection that is left, so a
 * subscription or message sent afterwards never arrives. With `UNPATCHED=1` the tests run
 * without the fix and fail that way.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { buildPubsub } from '../../src/host/pubsub.js'
import { reattachPubsub } from '../../src/host/pubsub-reattach.js'
import { eventually, sleep } from '../integration/helpers/program.js'
import type { DaemonConfig } from '../../src/config/index.js'

const PATCHED = process.env.UNPATCHED === undefined

async function node (router: 'floodsub' | 'gossipsub', patched: boolean): Promise<any> {
  const config = { pubsub: { enabled: true, sign: true, router, heartbeatIntervalMs: 0 } } as unknown as DaemonConfig
  const n: any = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ...(await buildPubsub(config)) } as any
  })
  if (patched) assert.equal(reattachPubsub(n, n.services.pubsub).installed, true)
  return n
}

describe('pubsub across duplicate connections', () => {
  for (const router of ['floodsub', 'gossipsub'] as const) {
    it(`${router}: a subscription reaches the peer after the first of two connections closed`, async () => {
      const a = await node(router, PATCHED)
      const b = await node(router, PATCHED)
      const aSees = (topic: string): boolean => a.services.pubsub.getSubscribers(topic).some((p: any) => p.equals(b.peerId))
      try {
        const first = await a.dial(b.getMultiaddrs()[0])
        b.services.pubsub.subscribe('before')
        assert.ok(await eventually(() => aSees('before'), 5000), 'the set-up failed: A never saw B subscribe')
        const second = await a.dial(b.getMultiaddrs()[0], { force: true })
        assert.notEqual(second.id, first.id)
        await sleep(300)
        await first.close()
        await sleep(300)
        assert.equal(a.getConnections(b.peerId).length, 1)
        b.services.pubsub.subscribe('after')
        assert.ok(await eventually(() => aSees('after'), 3000), 'A never saw B subscribe over the remaining connection')
        // and messages flow the other way too
        const received: string[] = []
        b.services.pubsub.addEventListener('message', (evt: any) => { received.push(new TextDecoder().decode(evt.detail.data)) })
        await a.services.pubsub.publish('after', new TextEncoder().encode('still here'))
        assert.ok(await eventually(() => received.includes('still here'), 3000), 'B never received A\'s message')
      } finally {
        await a.stop()
        await b.stop()
      }
    })
  }
})
