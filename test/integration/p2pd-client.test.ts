// js-libp2p's own @libp2p/daemon-client driving two real libp2pd processes over loopback TCP:
// identify, connect, listPeers, openStream + registerStreamHandler (echo).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { lpStream } from '@libp2p/utils'
import { connectPair, spawnDaemon, waitFor } from './p2pd-helpers.ts'
import type { TestDaemon } from './p2pd-helpers.ts'

describe('p2pd plane with @libp2p/daemon-client', () => {
  let a: TestDaemon
  let b: TestDaemon

  before(async () => {
    [a, b] = await Promise.all([spawnDaemon(), spawnDaemon()])
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()])
  })

  it('identify returns the banner peer ID and its addresses without /p2p', async () => {
    const id = await a.client.identify()
    assert.ok(id.peerId.equals(a.peerId))
    assert.ok(id.addrs.length > 0)
    assert.deepEqual(id.addrs.map(x => x.toString()).sort(), a.addrs.map(x => x.toString()).sort())
    for (const addr of id.addrs) assert.ok(!addr.toString().includes('/p2p/'))
  })

  it('listPeers is empty, then connect, then both sides list each other', async () => {
    assert.deepEqual(await a.client.listPeers(), [])
    await connectPair(a, b)
    const fromA = await a.client.listPeers()
    assert.ok(fromA.some(p => p.equals(b.peerId)))
    await waitFor(async () => (await b.client.listPeers()).some(p => p.equals(a.peerId)), 5000, 'b to list a')
  })

  it('connect to an unreachable address fails with an error message', async () => {
    const c = await spawnDaemon()
    const gone = c.peerId
    const addrs = c.addrs
    await c.stop()
    await assert.rejects(a.client.connect(gone, addrs), (err: Error) => err.message.length > 0)
  })

  it('openStream to a registerStreamHandler echo handler carries bytes both ways', async () => {
    const protocol = '/libp2pd-test/echo/1.0.0'
    await b.client.registerStreamHandler(protocol, async stream => {
      for await (const chunk of stream) stream.send(chunk)
      await stream.close()
    })
    const stream = await a.client.openStream(b.peerId, protocol)
    const lp = lpStream(stream)
    const input = new TextEncoder().encode('hello over p2pd')
    await lp.write(input)
    const output = await lp.read({ signal: AbortSignal.timeout(5000) })
    assert.equal(Buffer.from(output.subarray()).toString(), 'hello over p2pd')
    await stream.close()
  })

  it('openStream on a protocol the remote does not serve is an error', async () => {
    await assert.rejects(a.client.openStream(b.peerId, '/nobody/serves/this'), (err: Error) => /protocol|negotiat|supported/i.test(err.message))
  })
})
