// libp2pd's p2pd extensions against real processes: VERSION (20), STREAM_RESET (21) with
// the StreamInfo.id (field 20) it names, and the EVENTS feed (22).
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { readDelimited } from '../../src/api/p2pd/framing.ts'
import { Event, Request, Response, StreamInfo } from '../../src/proto/p2pd.ts'
import { closedWithin, rawConnect, readMsg, readResponse, roundTrip, send, spawnDaemon } from './p2pd-helpers.ts'
import type { TestDaemon } from './p2pd-helpers.ts'
import type { Server, Socket } from 'node:net'

describe('p2pd extensions', () => {
  let a: TestDaemon
  let b: TestDaemon

  before(async () => {
    [a, b] = await Promise.all([spawnDaemon(), spawnDaemon()])
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()])
  })

  it('VERSION names the daemon, its version and the protocol version', async () => {
    const r = await roundTrip(a, { type: Request.Type.VERSION })
    assert.equal(r.type, Response.Type.OK)
    assert.equal(r.version?.name, 'libp2pd')
    assert.match(r.version?.version ?? '', /^\d+\.\d+\.\d+/)
    assert.match(r.version?.protocolVersion ?? '', /^p2pd\//)
  })

  it('EVENTS reports connections and streams as they happen, until the client closes', async () => {
    const feed = await rawConnect(a)
    await send(feed, { type: Request.Type.EVENTS })
    assert.equal((await readResponse(feed)).type, Response.Type.OK)
    const next = async (): Promise<Event> => Event.decode(await readMsg(feed))

    await a.client.connect(b.peerId, b.addrs)
    const connected = await next()
    assert.equal(connected.type, Event.Type.CONNECTED)
    assert.deepEqual(Buffer.from(connected.peer ?? []), Buffer.from(b.peerId.toMultihash().bytes))
    assert.ok(connected.addr !== undefined && multiaddr(connected.addr).toString().startsWith('/ip4/127.0.0.1/tcp/'))

    const stream = await a.client.openStream(b.peerId, '/echo/1.0.0')
    const opened = await next()
    assert.equal(opened.type, Event.Type.STREAM_OPENED)
    assert.equal(opened.proto, '/echo/1.0.0')
    assert.ok((opened.streamId ?? '') !== '')
    await stream.close()
    const closed = await next()
    assert.equal(closed.type, Event.Type.STREAM_CLOSED)
    assert.equal(closed.streamId, opened.streamId)

    assert.equal((await roundTrip(a, { type: Request.Type.DISCONNECT, disconnect: { peer: b.peerId.toMultihash().bytes } })).type, Response.Type.OK)
    let ev = await next()
    while (ev.type !== Event.Type.DISCONNECTED) ev = await next()
    assert.deepEqual(Buffer.from(ev.peer ?? []), Buffer.from(b.peerId.toMultihash().bytes))
    feed.destroy()
  })

  it('STREAM_RESET resets the stream named by its StreamInfo.id: both ends see it', async () => {
    // b hands the inbound stream to a local handler that keeps it open
    let handlerSocket: Socket | undefined
    let inboundInfo: StreamInfo | undefined
    const handler: Server = createServer({ allowHalfOpen: true }, sock => {
      handlerSocket = sock
      void readDelimited(sock, { timeout: 5000 }).then(m => { inboundInfo = StreamInfo.decode(m!) })
    })
    await new Promise<void>(resolve => handler.listen(0, '127.0.0.1', resolve))
    try {
      const port = (handler.address() as { port: number }).port
      const protocol = '/libp2pd-test/reset/1.0.0'
      assert.equal((await roundTrip(b, { type: Request.Type.STREAM_HANDLER, streamHandler: { addr: multiaddr(`/ip4/127.0.0.1/tcp/${port}`).bytes, proto: [protocol] } })).type, Response.Type.OK)
      await a.client.connect(b.peerId, b.addrs)

      const s = await rawConnect(a)
      await send(s, { type: Request.Type.STREAM_OPEN, streamOpen: { peer: b.peerId.toMultihash().bytes, proto: [protocol] } })
      const opened = await readResponse(s)
      assert.equal(opened.type, Response.Type.OK, opened.error?.msg)
      const id = opened.streamInfo?.id ?? ''
      assert.ok(id !== '')
      for (let i = 0; i < 50 && inboundInfo === undefined; i++) await new Promise(resolve => setTimeout(resolve, 50))
      assert.ok((inboundInfo?.id ?? '') !== '', 'the inbound StreamInfo carries its id too')

      const r = await roundTrip(a, { type: Request.Type.STREAM_RESET, streamReset: { id } })
      assert.equal(r.type, Response.Type.OK, r.error?.msg)
      assert.ok(await closedWithin(s, 3000), 'the stream socket on a closes')
      assert.ok(handlerSocket !== undefined && await closedWithin(handlerSocket, 3000), 'the remote handler socket on b closes')
      s.destroy()

      const unknown = await roundTrip(a, { type: Request.Type.STREAM_RESET, streamReset: { id } })
      assert.equal(unknown.type, Response.Type.ERROR)
    } finally {
      handler.close()
    }
  })
})
