// Raw protobuf against real libp2pd processes, for what @libp2p/daemon-client never sends:
// DISCONNECT, CONNMANAGER, PEERSTORE, several requests per connection, the timeout field,
// the message size limit, garbage, unknown types, and STREAM_HANDLER serving many streams.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { encodeVarint, readDelimited } from '../../src/api/p2pd/framing.ts'
import { Request, Response, StreamInfo } from '../../src/proto/p2pd.ts'
import { closedWithin, rawConnect, readResponse, roundTrip, send, spawnDaemon, waitFor } from './p2pd-helpers.ts'
import type { TestDaemon } from './p2pd-helpers.ts'
import type { Server, Socket } from 'node:net'

const OK = Response.Type.OK
const ERROR = Response.Type.ERROR

describe('p2pd raw protocol', () => {
  let a: TestDaemon
  let b: TestDaemon

  before(async () => {
    [a, b] = await Promise.all([
      spawnDaemon(['-connManager', '-connLo=0', '-connHi=1', '-connGrace=0s']),
      spawnDaemon()
    ])
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()])
  })

  const connectAB = async (): Promise<void> => {
    const r = await roundTrip(a, { type: Request.Type.CONNECT, connect: { peer: b.peerId.toMultihash().bytes, addrs: b.addrs.map(x => x.bytes) } })
    assert.equal(r.type, OK, r.error?.msg)
  }
  const peersOf = async (d: TestDaemon): Promise<string[]> =>
    (await roundTrip(d, { type: Request.Type.LIST_PEERS })).peers.map(p => Buffer.from(p.id).toString('hex'))
  const hexId = (d: TestDaemon): string => Buffer.from(d.peerId.toMultihash().bytes).toString('hex')

  it('several requests on one connection, answered in order', async () => {
    const s = await rawConnect(a)
    try {
      for (let i = 0; i < 5; i++) {
        await send(s, { type: Request.Type.IDENTIFY })
        const r = await readResponse(s)
        assert.equal(r.type, OK)
        assert.deepEqual(Buffer.from(r.identify?.id ?? []), Buffer.from(a.peerId.toMultihash().bytes))
      }
      // pipelined: three requests written at once
      await send(s, { type: Request.Type.IDENTIFY })
      await send(s, { type: Request.Type.LIST_PEERS })
      await send(s, { type: Request.Type.VERSION })
      assert.ok((await readResponse(s)).identify !== undefined)
      assert.equal((await readResponse(s)).type, OK)
      assert.equal((await readResponse(s)).version?.name, 'libp2pd')
    } finally {
      s.destroy()
    }
  })

  it('CONNECT then DISCONNECT: the peer leaves LIST_PEERS', async () => {
    await connectAB()
    assert.ok((await peersOf(a)).includes(hexId(b)))
    const r = await roundTrip(a, { type: Request.Type.DISCONNECT, disconnect: { peer: b.peerId.toMultihash().bytes } })
    assert.equal(r.type, OK, r.error?.msg)
    await waitFor(async () => !(await peersOf(a)).includes(hexId(b)), 5000, 'disconnect')
  })

  it('two CONNECTs at once, one with a bad address: the one with the right address connects', async () => {
    const [c, d] = await Promise.all([spawnDaemon(), spawnDaemon()])
    try {
      const peer = d.peerId.toMultihash().bytes
      // the first starts a dial to a port nobody listens on; the second joins it (js-libp2p
      // merges dials to one peer and does not try addresses added once a dial has started)
      const bad = roundTrip(c, { type: Request.Type.CONNECT, connect: { peer, addrs: [multiaddr('/ip4/127.0.0.1/tcp/1').bytes], timeout: 10n } })
      const good = roundTrip(c, { type: Request.Type.CONNECT, connect: { peer, addrs: d.addrs.map(x => x.bytes), timeout: 10n } })
      const [rBad, rGood] = await Promise.all([bad, good])
      assert.equal(rGood.type, OK, rGood.error?.msg)
      assert.ok(rBad.type === ERROR || rBad.type === OK, 'the first may fail, or find the connection the second made')
      // an address that names another peer is never dialed for this one
      const e = await spawnDaemon()
      try {
        const elsewhere = e.addrs.map(x => x.encapsulate(`/p2p/${e.peerId.toString()}`).bytes)
        const f = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
        const r = await roundTrip(c, { type: Request.Type.CONNECT, connect: { peer: f.toMultihash().bytes, addrs: elsewhere, timeout: 5n } })
        assert.equal(r.type, ERROR)
        assert.ok(!(await peersOf(c)).includes(hexId(e)), 'not connected to the peer the address named')
      } finally {
        await e.stop()
      }
    } finally {
      await Promise.all([c.stop(), d.stop()])
    }
  })

  it('PEERSTORE GET_PROTOCOLS and GET_PEER_INFO (JS dialect) after identify', async () => {
    await connectAB()
    const id = b.peerId.toMultihash().bytes
    let protos: string[] = []
    await waitFor(async () => {
      protos = (await roundTrip(a, { type: Request.Type.PEERSTORE, peerStore: { type: 'GET_PROTOCOLS' as any, id, protos: [] } })).peerStore?.protos ?? []
      // protocols negotiated on streams land first; identify's full list brings /echo/1.0.0
      return protos.includes('/ipfs/id/1.0.0') && protos.includes('/echo/1.0.0')
    }, 20_000, 'identify to fill the peerstore')
    assert.ok(protos.includes('/echo/1.0.0'), protos.join(','))
    const info = await roundTrip(a, { type: Request.Type.PEERSTORE, peerStore: { type: 'GET_PEER_INFO' as any, id, protos: [] } })
    assert.equal(info.type, OK, info.error?.msg)
    assert.deepEqual(Buffer.from(info.peerStore?.peer?.id ?? []), Buffer.from(id))
    const addrs = (info.peerStore?.peer?.addrs ?? []).map(x => multiaddr(x).toString())
    assert.ok(addrs.includes(b.addrs[0].toString()), addrs.join(','))
  })

  it('CONNMANAGER TAG_PEER/UNTAG_PEER/TRIM; TRIM closes connections above the low water mark', async () => {
    await connectAB()
    const peer = b.peerId.toMultihash().bytes
    assert.equal((await roundTrip(a, { type: Request.Type.CONNMANAGER, connManager: { type: 'TAG_PEER' as any, peer, tag: 'keep', weight: 10n } })).type, OK)
    assert.equal((await roundTrip(a, { type: Request.Type.CONNMANAGER, connManager: { type: 'UNTAG_PEER' as any, peer, tag: 'keep' } })).type, OK)
    const noTag = await roundTrip(a, { type: Request.Type.CONNMANAGER, connManager: { type: 'TAG_PEER' as any, peer, weight: 1n } })
    assert.equal(noTag.type, ERROR)
    assert.equal((await roundTrip(a, { type: Request.Type.CONNMANAGER, connManager: { type: 'TRIM' as any } })).type, OK)
    await waitFor(async () => !(await peersOf(a)).includes(hexId(b)), 5000, 'trim to close the connection')
  })

  it('the timeout field is honoured: CONNECT to a silent listener fails after ~1 s, not 60 s', async () => {
    const silent: Server = createServer(() => {})
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as { port: number }).port
    try {
      // a peer nobody is connected to, "listening" where nothing ever answers
      const stranger = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      const started = Date.now()
      const r = await roundTrip(b, {
        type: Request.Type.CONNECT,
        connect: { peer: stranger.toMultihash().bytes, addrs: [multiaddr(`/ip4/127.0.0.1/tcp/${port}`).bytes], timeout: 1n }
      })
      const took = Date.now() - started
      assert.equal(r.type, ERROR)
      assert.ok(took >= 900 && took < 8000, `took ${took} ms`)
    } finally {
      silent.close()
    }
  })

  it('malformed protobuf, unknown type and missing payload get ERROR and the connection stays usable', async () => {
    const s = await rawConnect(a)
    try {
      s.write(Buffer.concat([encodeVarint(3), Buffer.from([0xff, 0xff, 0xff])])) // not protobuf
      assert.equal((await readResponse(s)).type, ERROR)
      s.write(Buffer.concat([encodeVarint(2), Buffer.from([0x08, 0x63])])) // type 99
      assert.equal((await readResponse(s)).type, ERROR)
      await send(s, { type: Request.Type.CONNECT }) // no connect payload
      const r = await readResponse(s)
      assert.equal(r.type, ERROR)
      assert.match(r.error?.msg ?? '', /Malformed request/)
      await send(s, { type: Request.Type.IDENTIFY })
      assert.equal((await readResponse(s)).type, OK)
    } finally {
      s.destroy()
    }
  })

  it('a message above 4 MiB gets ERROR and the connection is closed; the daemon lives on', async () => {
    const s = await rawConnect(a)
    s.write(encodeVarint((4 << 20) + 1))
    const r = await readResponse(s)
    assert.equal(r.type, ERROR)
    assert.match(r.error?.msg ?? '', /exceeds the limit/)
    assert.ok(await closedWithin(s, 3000))
    s.destroy()
    assert.equal((await roundTrip(a, { type: Request.Type.IDENTIFY })).type, OK)
  })

  it('garbage bytes and a bad varint never take the daemon down', async () => {
    const s = await rawConnect(a)
    s.write(Buffer.alloc(11, 0xff)) // an 11-byte varint
    const r = await readResponse(s)
    assert.equal(r.type, ERROR)
    assert.ok(await closedWithin(s, 3000))
    s.destroy()
    const s2 = await rawConnect(a)
    s2.end(Buffer.from([0x05, 0x01])) // EOF in the middle of a message
    assert.ok(await closedWithin(s2, 3000))
    s2.destroy()
    assert.equal((await roundTrip(a, { type: Request.Type.IDENTIFY })).type, OK)
  })

  it('STREAM_OPEN: stream bytes sent right behind the request are not lost (no over-read)', async () => {
    await connectAB()
    const s = await rawConnect(a)
    try {
      const req = Request.encode({ type: Request.Type.STREAM_OPEN, streamOpen: { peer: b.peerId.toMultihash().bytes, proto: ['/echo/1.0.0'] } })
      // request and the first stream bytes in one write
      s.write(Buffer.concat([encodeVarint(req.byteLength), req, Buffer.from('early bytes')]))
      const r = await readResponse(s)
      assert.equal(r.type, OK, r.error?.msg)
      assert.equal(r.streamInfo?.proto, '/echo/1.0.0')
      s.end()
      const chunks: Buffer[] = []
      for await (const c of s) chunks.push(c as Buffer)
      assert.equal(Buffer.concat(chunks).toString(), 'early bytes')
    } finally {
      s.destroy()
    }
  })

  it('STREAM_OPEN carries 16 MiB both ways intact (echo, with backpressure)', async () => {
    await connectAB()
    const s = await rawConnect(a)
    try {
      await send(s, { type: Request.Type.STREAM_OPEN, streamOpen: { peer: b.peerId.toMultihash().bytes, proto: ['/echo/1.0.0'] } })
      assert.equal((await readResponse(s)).type, OK)
      const payload = randomBytes(16 << 20)
      const received = (async () => {
        const hash = createHash('sha256')
        let n = 0
        for await (const c of s) { hash.update(c as Buffer); n += (c as Buffer).byteLength }
        return { n, digest: hash.digest('hex') }
      })()
      for (let off = 0; off < payload.byteLength; off += 64 * 1024) {
        if (!s.write(payload.subarray(off, off + 64 * 1024))) await new Promise(resolve => s.once('drain', resolve))
      }
      s.end()
      const got = await received
      assert.equal(got.n, payload.byteLength)
      assert.equal(got.digest, createHash('sha256').update(payload).digest('hex'))
    } finally {
      s.destroy()
    }
  })

  it('STREAM_HANDLER delivers EVERY inbound stream: bare StreamInfo, then bytes', async () => {
    await connectAB()
    const protocol = '/libp2pd-test/many/1.0.0'
    const infos: StreamInfo[] = []
    const handler: Server = createServer({ allowHalfOpen: true }, (sock: Socket) => {
      void (async () => {
        const info = StreamInfo.decode((await readDelimited(sock, { timeout: 5000 }))!)
        infos.push(info)
        sock.pipe(sock) // echo
      })().catch(() => sock.destroy())
    })
    await new Promise<void>(resolve => handler.listen(0, '127.0.0.1', resolve))
    const port = (handler.address() as { port: number }).port
    try {
      const r = await roundTrip(b, { type: Request.Type.STREAM_HANDLER, streamHandler: { addr: multiaddr(`/ip4/127.0.0.1/tcp/${port}`).bytes, proto: [protocol] } })
      assert.equal(r.type, OK, r.error?.msg)
      const N = 8
      const replies = await Promise.all(Array.from({ length: N }, async (_, i) => {
        const stream = await a.client.openStream(b.peerId, protocol)
        const lp = lpStream(stream)
        await lp.write(new TextEncoder().encode(`msg ${i}`))
        const out = Buffer.from((await lp.read({ signal: AbortSignal.timeout(5000) })).subarray()).toString()
        await stream.close()
        return out
      }))
      assert.deepEqual(replies, Array.from({ length: N }, (_, i) => `msg ${i}`))
      assert.equal(infos.length, N)
      for (const info of infos) {
        assert.equal(info.proto, protocol)
        assert.deepEqual(Buffer.from(info.peer), Buffer.from(a.peerId.toMultihash().bytes))
        assert.ok(multiaddr(info.addr).toString().startsWith('/ip4/127.0.0.1/tcp/'))
      }
    } finally {
      handler.close()
    }
  })
})
