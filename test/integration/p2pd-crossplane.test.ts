// One handler registry and one stream table for both planes: two in-process daemons on
// loopback. A protocol registered over p2pd shows up in the shared registry next to an
// HTTP-kind target, the remote reaches whichever is registered, and p2pd streams are in the
// shared stream table (so the HTTP plane lists and resets them).
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { createClient } from '@libp2p/daemon-client'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { pino } from 'pino'
import { readDelimited } from '../../src/api/p2pd/framing.ts'
import { configFromOptions } from '../../src/config/index.ts'
import { Request, Response } from '../../src/proto/p2pd.ts'
import { createDaemon } from '../../src/daemon.ts'
import type { Daemon } from '../../src/daemon.ts'
import type { DaemonClient } from '@libp2p/daemon-client'
import type { Server } from 'node:net'

const start = async (): Promise<Daemon> => await createDaemon(configFromOptions({
  listen: '/ip4/127.0.0.1/tcp/0', httpListen: '', hostAddrs: '/ip4/127.0.0.1/tcp/0', logLevel: 'silent'
}), { logger: pino({ level: 'silent' }) })

describe('p2pd and the other plane share the registry and the stream table', () => {
  let a: Daemon
  let b: Daemon
  let ca: DaemonClient
  let cb: DaemonClient

  before(async () => {
    [a, b] = await Promise.all([start(), start()])
    ca = createClient(multiaddr(a.controlAddress ?? ''))
    cb = createClient(multiaddr(b.controlAddress ?? ''))
    const bid = await cb.identify()
    await ca.connect(bid.peerId, bid.addrs)
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()])
  })

  it('a p2pd STREAM_HANDLER is a p2pd target in the shared registry, and its streams are in the shared table', async () => {
    const protocol = '/xplane/p2pd/1.0.0'
    let release: () => void = () => {}
    const held = new Promise<void>(resolve => { release = resolve })
    const handler: Server = createServer({ allowHalfOpen: true }, sock => {
      void readDelimited(sock, { timeout: 5000 }).then(async () => {
        sock.write('from p2pd handler')
        await held
        sock.end()
      })
    })
    await new Promise<void>(resolve => handler.listen(0, '127.0.0.1', resolve))
    try {
      const port = (handler.address() as { port: number }).port
      // a raw registration at our own listener (the daemon client's listener serves one stream only)
      // our codec's enums are the upstream ones by value, not by TypeScript type
      const res = await cb.send({ type: Request.Type.STREAM_HANDLER, streamHandler: { addr: multiaddr(`/ip4/127.0.0.1/tcp/${port}`).bytes, proto: [protocol] } } as any)
      assert.equal((await res.read(Response)).type, Response.Type.OK)
      await res.unwrap().close()

      const listing = b.context.handlers.list().find(h => h.protocol === protocol)
      assert.deepEqual(listing?.targets, [{ kind: 'p2pd', address: `/ip4/127.0.0.1/tcp/${port}` }])

      const stream = await ca.openStream(b.context.node.peerId, protocol)
      const first = await stream[Symbol.asyncIterator]().next()
      assert.equal(Buffer.from(first.value.subarray()).toString(), 'from p2pd handler')
      const inB = b.context.streams.list().filter(e => e.protocol === protocol)
      assert.equal(inB.length, 1)
      assert.equal(inB[0].plane, 'p2pd')
      assert.equal(inB[0].direction, 'INCOMING')
      assert.ok(a.context.streams.list().some(e => e.protocol === protocol && e.direction === 'OUTGOING' && e.plane === 'p2pd'))
      release()
      await stream.close()
    } finally {
      release()
      handler.close()
    }
  })

  it('a protocol registered by the other plane (an http-kind target) is served to p2pd STREAM_OPEN', async () => {
    const protocol = '/xplane/http/1.0.0'
    // what the HTTP plane does for a registration: a target in the same registry
    await b.context.handlers.add([protocol], {
      key: 'http://127.0.0.1:1/callback',
      kind: 'http',
      address: 'http://127.0.0.1:1/callback',
      deliver: async stream => {
        const lp = lpStream(stream)
        const msg = await lp.read({ signal: AbortSignal.timeout(5000) })
        await lp.write(Uint8Array.from([...msg.subarray(), 0x3f]))
        await stream.close()
      }
    }, 'replace')
    const stream = await ca.openStream(b.context.node.peerId, protocol)
    const lp = lpStream(stream)
    await lp.write(new TextEncoder().encode('who'))
    assert.equal(Buffer.from((await lp.read({ signal: AbortSignal.timeout(5000) })).subarray()).toString(), 'who?')

    // and a p2pd registration replaces it, as p2pd's STREAM_HANDLER overwrites
    const handler: Server = createServer(sock => { sock.destroy() })
    await new Promise<void>(resolve => handler.listen(0, '127.0.0.1', resolve))
    try {
      const res = await cb.send({ type: Request.Type.STREAM_HANDLER, streamHandler: { addr: multiaddr(`/ip4/127.0.0.1/tcp/${(handler.address() as { port: number }).port}`).bytes, proto: [protocol] } } as any)
      assert.equal((await res.read(Response)).type, Response.Type.OK)
      await res.unwrap().close()
      assert.deepEqual(b.context.handlers.list().find(h => h.protocol === protocol)?.targets.map(t => t.kind), ['p2pd'])
    } finally {
      handler.close()
    }
  })
})
