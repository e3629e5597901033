/**
 * floodsub told twice about one connection while its first outbound stream negotiates
 * (the registrar does that on two quick `peer:identify` events) opens one stream, not two,
 * and a subscription sent afterwards reaches the peer (src/host/floodsub-connect-once.ts).
 * Real nodes over TCP with the daemon's floodsub (`buildPubsub`). The test makes the two
 * calls itself as soon as the dial returns, before identify has run (identify's own call,
 * later, finds the stream there). With `UNPATCHED=1` it runs without the fix: A opens two
 * streams, B resets the second, and A's subscription, written into that one, never arrives.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { connectFloodsubOnce } from '../../src/host/floodsub-connect-once.js'
import { buildPubsub } from '../../src/host/pubsub.js'
import { eventually } from '../integration/helpers/program.js'
import type { DaemonConfig } from '../../src/config/index.js'

const PATCHED = process.env.UNPATCHED === undefined
const FLOODSUB = '/floodsub/1.0.0'

async function node (router: 'floodsub' | 'gossipsub'): Promise<any> {
  const config = { pubsub: { enabled: true, sign: true, router, heartbeatIntervalMs: 0 } } as unknown as DaemonConfig
  return await createLibp2p({
    start: false,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ...(await buildPubsub(config)) } as any
  })
}

describe('floodsub: one outbound stream per connection', () => {
  it('two quick onConnect calls for one connection open one stream; a subscription then arrives', async () => {
    const a = await node('floodsub')
    const b = await node('floodsub')
    if (PATCHED) assert.equal(connectFloodsubOnce(a.services.pubsub), true, 'the installed floodsub has another shape')
    await a.start()
    await b.start()
    try {
      const connection = await a.dial(b.getMultiaddrs()[0])
      const [topology] = a.components.registrar.getTopologies(FLOODSUB)
      assert.ok(topology?.onConnect !== undefined, 'floodsub registered no topology')
      // (a stream B resets leaves `connection.streams`: count the opens instead)
      let opened = 0
      const newStream = connection.newStream.bind(connection)
      connection.newStream = async (protocols: string | string[], options?: unknown) => {
        if ([protocols].flat().includes(FLOODSUB)) opened++
        return await newStream(protocols, options)
      }
      // both before identify's call, the second while the first one's stream is still negotiating
      await Promise.all([topology.onConnect(b.peerId, connection), topology.onConnect(b.peerId, connection)])
      assert.equal(opened, 1, `${String(opened)} floodsub streams opened on one connection`)
      a.services.pubsub.subscribe('t')
      const bSees = (): boolean => b.services.pubsub.getSubscribers('t').some((p: any) => p.equals(a.peerId))
      assert.ok(await eventually(bSees, 3000), 'B never saw A subscribe')
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  it('leaves gossipsub and a missing router alone', async () => {
    const g = await node('gossipsub')
    assert.equal(connectFloodsubOnce(g.services.pubsub), false)
    assert.equal(connectFloodsubOnce(undefined), false)
  })
})
