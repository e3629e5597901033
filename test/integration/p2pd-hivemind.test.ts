// The hivemind dialect against two real libp2pd processes: persistent connections
// (PERSISTENT_CONN_UPGRADE), unary handlers and calls both ways, cancellation reaching the
// handler side, removal, balanced handlers, the exact peer-to-peer wire format, and
// balanced / removable stream handlers (REMOVE_STREAM_HANDLER).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { readDelimited, writeDelimited } from '../../src/api/p2pd/framing.ts'
import { HivemindRequest, PersistentConnectionRequest as PCRequest, Request, Response, StreamInfo } from '../../src/proto/p2pd.ts'
import { Persistent, rawConnect, readResponse, roundTrip, spawnDaemon, waitFor } from './p2pd-helpers.ts'
import type { TestDaemon } from './p2pd-helpers.ts'
import type { Server } from 'node:net'

const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex')
const text = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString()
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('p2pd hivemind dialect', () => {
  let a: TestDaemon
  let b: TestDaemon
  const open: Persistent[] = []
  const persistent = async (d: TestDaemon): Promise<Persistent> => { const p = await Persistent.open(d); open.push(p); return p }

  before(async () => {
    [a, b] = await Promise.all([spawnDaemon(), spawnDaemon()])
    await a.client.connect(b.peerId, b.addrs)
  })
  after(async () => {
    for (const p of open) p.close()
    await Promise.all([a?.stop(), b?.stop()])
  })

  it('unary calls both ways; the handler sees the caller\'s peer ID; errors pass through', async () => {
    const pa = await persistent(a)
    const pb = await persistent(b)
    const ackB = await pb.request({ addUnaryHandler: { proto: '/u/upper', balanced: false } })
    assert.equal(ackB.daemonError, undefined)
    assert.equal(ackB.callUnaryResponse, undefined)
    const ackA = await pa.request({ addUnaryHandler: { proto: '/u/reverse', balanced: false } })
    assert.equal(ackA.daemonError, undefined)

    // a -> b: answer by hand to check what the handler is given
    const call = pa.request({ callUnary: { peer: b.peerId.toMultihash().bytes, proto: '/u/upper', data: bytes('hello') } })
    const inbound = await pb.next(r => r.requestHandling !== undefined)
    assert.equal(inbound.requestHandling?.proto, '/u/upper')
    assert.equal(text(inbound.requestHandling?.data), 'hello')
    assert.equal(hex(inbound.requestHandling?.peer), hex(a.peerId.toMultihash().bytes))
    await pb.sendOnly({ callId: inbound.callId, unaryResponse: { response: bytes('HELLO') } })
    const res = await call
    assert.equal(text(res.callUnaryResponse?.response), 'HELLO')

    // b -> a
    pa.serve(d => Uint8Array.from(d).reverse())
    const back = await pb.request({ callUnary: { peer: a.peerId.toMultihash().bytes, proto: '/u/reverse', data: bytes('abc') } })
    assert.equal(text(back.callUnaryResponse?.response), 'cba')

    // an application error travels as CallUnaryResponse.error
    const errCall = pa.request({ callUnary: { peer: b.peerId.toMultihash().bytes, proto: '/u/upper', data: bytes('x') } })
    const inbound2 = await pb.next(r => r.requestHandling !== undefined)
    await pb.sendOnly({ callId: inbound2.callId, unaryResponse: { error: bytes('no way') } })
    assert.equal(text((await errCall).callUnaryResponse?.error), 'no way')
  })

  it('an answer larger than the stream\'s send window arrives whole before the FIN', async () => {
    const pa = await persistent(a)
    const pb = await persistent(b)
    assert.equal((await pb.request({ addUnaryHandler: { proto: '/u/big', balanced: false } })).daemonError, undefined)
    // four times yamux's initial 256 KiB window: the answer waits for window, and the
    // stream's close waits for the answer
    const big = randomBytes(1 << 20)
    pb.serve(() => big)
    const res = await pa.request({ callUnary: { peer: b.peerId.toMultihash().bytes, proto: '/u/big', data: bytes('?') } })
    assert.equal(res.daemonError, undefined)
    assert.ok(Buffer.from(res.callUnaryResponse?.response ?? []).equals(big), 'the whole answer')
  })

  it('the peer-to-peer wire format is hivemind\'s: one delimited PersistentConnectionRequest each way', async () => {
    // caller side: a stream handler on b sees exactly what daemon a writes for callUnary
    const seen: PCRequest[] = []
    const server: Server = createServer({ allowHalfOpen: true }, sock => {
      void (async () => {
        StreamInfo.decode((await readDelimited(sock, { timeout: 5000 }))!)
        const req = PCRequest.decode((await readDelimited(sock, { timeout: 5000 }))!)
        seen.push(req)
        await writeDelimited(sock, PCRequest.encode({ callId: req.callId, unaryResponse: { response: bytes('raw ok') } }))
      })().catch(() => sock.destroy())
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    try {
      const port = (server.address() as { port: number }).port
      const sh = await rawConnect(b)
      await writeDelimited(sh, HivemindRequest.encode({ type: HivemindRequest.Type.STREAM_HANDLER, streamHandler: { addr: multiaddr(`/ip4/127.0.0.1/tcp/${port}`).bytes, proto: ['/u/wire'], balanced: false } }))
      assert.equal((await readResponse(sh)).type, Response.Type.OK)
      sh.destroy()
      const pa = await persistent(a)
      const callId = randomBytes(16)
      const res = await pa.request({ callUnary: { peer: b.peerId.toMultihash().bytes, proto: '/u/wire', data: bytes('d') } }, callId)
      assert.equal(text(res.callUnaryResponse?.response), 'raw ok')
      assert.equal(hex(seen[0].callId), hex(callId))
      assert.equal(seen[0].callUnary?.proto, '/u/wire')
      assert.equal(text(seen[0].callUnary?.data), 'd')
    } finally {
      server.close()
    }

    // handler side: a raw libp2p stream from a into b's unary handler
    const pb = await persistent(b)
    assert.equal((await pb.request({ addUnaryHandler: { proto: '/u/rawhandler', balanced: false } })).daemonError, undefined)
    pb.serve(d => Uint8Array.from([...d, 0x21]))
    const stream = await a.client.openStream(b.peerId, '/u/rawhandler')
    const lp = lpStream(stream)
    const callId = randomBytes(16)
    await lp.write(PCRequest.encode({ callId, callUnary: { peer: new Uint8Array(0), proto: '/u/rawhandler', data: bytes('hey') } }))
    const answer = PCRequest.decode(await lp.read({ signal: AbortSignal.timeout(5000) }))
    assert.equal(hex(answer.callId), hex(callId))
    assert.equal(text(answer.unaryResponse?.response), 'hey!')
    await stream.close()
  })

  it('cancelling a call answers cancel to the caller and reaches the handler\'s client', async () => {
    const pa = await persistent(a)
    const pb = await persistent(b)
    assert.equal((await pb.request({ addUnaryHandler: { proto: '/u/slow', balanced: false } })).daemonError, undefined)
    const callId = randomBytes(16)
    const call = pa.request({ callUnary: { peer: b.peerId.toMultihash().bytes, proto: '/u/slow', data: bytes('wait') } }, callId)
    const inbound = await pb.next(r => r.requestHandling !== undefined)
    await pa.sendOnly({ callId, cancel: {} })
    const res = await call
    assert.ok(res.cancel !== undefined, JSON.stringify(res))
    // the handler side learns the caller gave up, under the callId it was given
    const cancelled = await pb.next(r => r.cancel !== undefined)
    assert.equal(hex(cancelled.callId), hex(inbound.callId))
  })

  it('a second call under a callId still in progress is refused, and the first is answered', async () => {
    const pa = await persistent(a)
    const pb = await persistent(b)
    assert.equal((await pb.request({ addUnaryHandler: { proto: '/u/dup', balanced: false } })).daemonError, undefined)
    const callId = randomBytes(16)
    const peer = b.peerId.toMultihash().bytes
    // (the helper matches answers by callId: the refusal of the second is what `first` sees)
    const first = pa.request({ callUnary: { peer, proto: '/u/dup', data: bytes('one') } }, callId)
    const inbound = await pb.next(r => r.requestHandling !== undefined)
    await pa.sendOnly({ callId, callUnary: { peer, proto: '/u/dup', data: bytes('two') } })
    assert.match((await first).daemonError?.message ?? '', /already in progress/)
    await pb.sendOnly({ callId: inbound.callId, unaryResponse: { response: bytes('R-one') } })
    const answer = await pa.next(r => r.callUnaryResponse !== undefined)
    assert.equal(hex(answer.callId), hex(callId))
    assert.equal(text(answer.callUnaryResponse?.response), 'R-one')
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.equal(pb.inbox.filter(r => r.requestHandling !== undefined).length, 0, 'the handler saw one call')
  })

  it('removeUnaryHandler, exclusive registration and cleanup when the connection closes', async () => {
    const pa = await persistent(a)
    const pb1 = await persistent(b)
    const pb2 = await persistent(b)
    assert.equal((await pb1.request({ addUnaryHandler: { proto: '/u/only', balanced: false } })).daemonError, undefined)
    const dup = await pb2.request({ addUnaryHandler: { proto: '/u/only', balanced: false } })
    assert.match(dup.daemonError?.message ?? '', /already set/)
    assert.match((await pb2.request({ removeUnaryHandler: { proto: '/u/only' } })).daemonError?.message ?? '', /no handler/)
    assert.equal((await pb1.request({ removeUnaryHandler: { proto: '/u/only' } })).daemonError, undefined)
    const gone = await pa.request({ callUnary: { peer: b.peerId.toMultihash().bytes, proto: '/u/only', data: bytes('?') } })
    assert.ok(gone.daemonError !== undefined, JSON.stringify(gone))
    // the request went out optimistically with the proposal: the peer's 'na' still names the problem
    assert.match(gone.daemonError?.message ?? '', /not support/, gone.daemonError?.message)

    // a handler disappears with its persistent connection
    assert.equal((await pb2.request({ addUnaryHandler: { proto: '/u/closing', balanced: false } })).daemonError, undefined)
    pb2.close()
    await new Promise(resolve => setTimeout(resolve, 300))
    const after = await pa.request({ callUnary: { peer: b.peerId.toMultihash().bytes, proto: '/u/closing', data: bytes('?') } })
    assert.ok(after.daemonError !== undefined, JSON.stringify(after))
  })

  it('balanced unary handlers share calls round-robin', async () => {
    const pa = await persistent(a)
    const workers = [await persistent(b), await persistent(b)]
    const counts = [0, 0]
    for (const [i, w] of workers.entries()) {
      assert.equal((await w.request({ addUnaryHandler: { proto: '/u/balanced', balanced: true } })).daemonError, undefined)
      w.serve(d => { counts[i]++; return d })
    }
    for (let i = 0; i < 6; i++) {
      const r = await pa.request({ callUnary: { peer: b.peerId.toMultihash().bytes, proto: '/u/balanced', data: bytes(`${i}`) } })
      assert.equal(text(r.callUnaryResponse?.response), `${i}`)
    }
    assert.deepEqual(counts, [3, 3])
  })

  it('a unary call to a known peer with no open connection dials it; a call to ourselves answers an error', async () => {
    const pa = await persistent(a)
    const pb = await persistent(b)
    assert.equal((await pb.request({ addUnaryHandler: { proto: '/u/redial', balanced: false } })).daemonError, undefined)
    pb.serve(d => d)
    const disconnected = await roundTrip(a, { type: Request.Type.DISCONNECT, disconnect: { peer: b.peerId.toMultihash().bytes } })
    assert.equal(disconnected.type, Response.Type.OK, disconnected.error?.msg)
    await waitFor(async () => (await a.client.listPeers()).every(p => !p.equals(b.peerId)), 5000, 'A to drop B')

    // no connection to lend its muxer: the call dials B from the peer store, then negotiates
    const res = await pa.request({ callUnary: { peer: b.peerId.toMultihash().bytes, proto: '/u/redial', data: bytes('again') } })
    assert.equal(text(res.callUnaryResponse?.response), 'again', JSON.stringify(res))
    assert.ok((await a.client.listPeers()).some(p => p.equals(b.peerId)), 'the call left A connected to B')

    const started = Date.now()
    const self = await pa.request({ callUnary: { peer: a.peerId.toMultihash().bytes, proto: '/u/reverse', data: bytes('me') } })
    assert.ok(self.daemonError !== undefined, JSON.stringify(self))
    assert.ok(Date.now() - started < 5000, `a call to ourselves took ${Date.now() - started} ms to fail`)
  })

  it('a persistent connection drops malformed messages and bad call IDs and goes on; an inbound stream without a callUnary is reset before the handler', async () => {
    const pa = await persistent(a)
    const pb = await persistent(b)
    assert.equal((await pb.request({ addUnaryHandler: { proto: '/u/robust', balanced: false } })).daemonError, undefined)
    let served = 0
    pb.serve(d => { served++; return d })

    // not a protobuf (a truncated varint tag), then a call ID of the wrong length: both dropped
    await writeDelimited(pa.socket, Uint8Array.of(0xff, 0xff, 0xff))
    await pa.sendOnly({ callId: Uint8Array.of(1, 2, 3), callUnary: { peer: b.peerId.toMultihash().bytes, proto: '/u/robust', data: bytes('short id') } })
    const ok = await pa.request({ callUnary: { peer: b.peerId.toMultihash().bytes, proto: '/u/robust', data: bytes('still here') } })
    assert.equal(text(ok.callUnaryResponse?.response), 'still here', JSON.stringify(ok))
    assert.equal(served, 1, 'only the well-formed call reached the handler')

    // a peer that opens the unary protocol and sends something else than a call
    const stream = await a.client.openStream(b.peerId, '/u/robust')
    const lp = lpStream(stream)
    await lp.write(PCRequest.encode({ callId: randomBytes(16), cancel: {} }))
    await assert.rejects(lp.read({ signal: AbortSignal.timeout(5000) }), (err: Error) => err.name !== 'TimeoutError' && err.name !== 'AbortError')
    assert.equal(served, 1)
    // and the plane still serves calls
    const again = await pa.request({ callUnary: { peer: b.peerId.toMultihash().bytes, proto: '/u/robust', data: bytes('after') } })
    assert.equal(text(again.callUnaryResponse?.response), 'after')
  })

  it('balanced STREAM_HANDLER round-robins; REMOVE_STREAM_HANDLER removes one address', async () => {
    const hits = [0, 0]
    const servers: Server[] = []
    const addrs: Uint8Array[] = []
    for (let i = 0; i < 2; i++) {
      const srv = createServer({ allowHalfOpen: true }, sock => {
        hits[i]++
        void readDelimited(sock, { timeout: 5000 }).then(() => { sock.pipe(sock) }, () => sock.destroy())
      })
      await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
      servers.push(srv)
      addrs.push(multiaddr(`/ip4/127.0.0.1/tcp/${(srv.address() as { port: number }).port}`).bytes)
    }
    const hiveRequest = async (req: HivemindRequest): Promise<Response> => {
      const s = await rawConnect(b)
      try {
        await writeDelimited(s, HivemindRequest.encode(req))
        return await readResponse(s)
      } finally { s.destroy() }
    }
    const echoOnce = async (): Promise<void> => {
      const stream = await a.client.openStream(b.peerId, '/s/balanced')
      const lp = lpStream(stream)
      await lp.write(bytes('ping'))
      assert.equal(text((await lp.read({ signal: AbortSignal.timeout(5000) })).subarray()), 'ping')
      await stream.close()
    }
    try {
      for (const addr of addrs) {
        const r = await hiveRequest({ type: HivemindRequest.Type.STREAM_HANDLER, streamHandler: { addr, proto: ['/s/balanced'], balanced: true } })
        assert.equal(r.type, Response.Type.OK, r.error?.msg)
      }
      for (let i = 0; i < 4; i++) await echoOnce()
      assert.deepEqual(hits, [2, 2])

      const rm = await hiveRequest({ type: HivemindRequest.Type.REMOVE_STREAM_HANDLER, removeStreamHandler: { addr: addrs[0], proto: ['/s/balanced'] } })
      assert.equal(rm.type, Response.Type.OK, rm.error?.msg)
      const again = await hiveRequest({ type: HivemindRequest.Type.REMOVE_STREAM_HANDLER, removeStreamHandler: { addr: addrs[0], proto: ['/s/balanced'] } })
      assert.equal(again.type, Response.Type.ERROR)
      for (let i = 0; i < 2; i++) await echoOnce()
      assert.deepEqual(hits, [2, 4])

      // non-balanced registration next to another address is refused (the fork's rule)
      const excl = await hiveRequest({ type: HivemindRequest.Type.STREAM_HANDLER, streamHandler: { addr: addrs[0], proto: ['/s/balanced'], balanced: false } })
      assert.equal(excl.type, Response.Type.ERROR)
      // removing the last address unregisters the protocol
      assert.equal((await hiveRequest({ type: HivemindRequest.Type.REMOVE_STREAM_HANDLER, removeStreamHandler: { addr: addrs[1], proto: ['/s/balanced'] } })).type, Response.Type.OK)
      await assert.rejects(a.client.openStream(b.peerId, '/s/balanced'))
    } finally {
      for (const s of servers) s.close()
    }
  })
})
