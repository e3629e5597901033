// The @libp2p/interop relay scenario with three libp2pd processes, driven by
// @libp2p/daemon-client: b reserves a slot on the relay over a p2pd stream, a dials b through
// the relay, and an echo stream runs over the limited (relayed) connection.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { pbStream, lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { spawnDaemon } from './p2pd-helpers.ts'
import type { TestDaemon } from './p2pd-helpers.ts'

const HOP = '/libp2p/circuit/relay/0.2.0/hop'
// the interop suite's own relay v2 codecs (not in the package's exports map)
const { HopMessage, Status } = await import(new URL('../../node_modules/@libp2p/interop/dist/src/relay/pb/index.js', import.meta.url).href)

describe('p2pd over a circuit relay (interop relay scenario)', () => {
  let a: TestDaemon
  let b: TestDaemon
  let relay: TestDaemon

  before(async () => {
    [a, b, relay] = await Promise.all([
      spawnDaemon(['-noListenAddrs']),
      spawnDaemon(['-noListenAddrs']),
      spawnDaemon(['-relay'])
    ])
    await b.client.connect(relay.peerId, relay.addrs)
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), relay?.stop()])
  })

  // src/host gives -noListenAddrs daemons a /p2p-circuit listen address, so b reserves a slot
  // by itself as soon as it connects to the relay (go's p2pd does not): reported to the host owner
  it('connect without a reservation fails with NO_RESERVATION', async () => {
    const viaRelay = multiaddr(`${relay.addrs[0].toString()}/p2p/${relay.peerId.toString()}/p2p-circuit/p2p/${b.peerId.toString()}`)
    await assert.rejects(a.client.connect(b.peerId, [viaRelay]), (err: Error) => /NO_RESERVATION/.test(err.message))
  })

  it('reserve, connect through the relay, listPeers, echo over the relayed connection', async () => {
    const stream = await b.client.openStream(relay.peerId, HOP)
    const pb = pbStream(stream)
    await pb.write({ type: HopMessage.Type.RESERVE }, HopMessage)
    const reserved: any = await pb.read(HopMessage)
    assert.equal(reserved.status, Status.OK)

    const viaRelay = multiaddr(`${relay.addrs[0].toString()}/p2p/${relay.peerId.toString()}/p2p-circuit/p2p/${b.peerId.toString()}`)
    await a.client.connect(b.peerId, [viaRelay])
    const peers = await a.client.listPeers()
    assert.equal(peers.filter(p => p.equals(b.peerId)).length, 1)

    await b.client.registerStreamHandler('/echo/1.0.0', async s => {
      for await (const chunk of s) s.send(chunk)
      await s.close()
    })
    const echo = await a.client.openStream(b.peerId, '/echo/1.0.0')
    const lp = lpStream(echo)
    await lp.write(new TextEncoder().encode('test'))
    assert.equal(Buffer.from((await lp.read({ signal: AbortSignal.timeout(5000) })).subarray()).toString(), 'test')
    await echo.close()
  })
})
