// The p2pd request loop (src/api/p2pd/server.ts and friends) over a real unix socket, with a
// stub host: framing of replies, errors that keep or close the connection, the dialect
// split, feeds ending on EOF, the -idleTimeout watch, and the golden bytes docs/p2pd-compat.md shows.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { pino } from 'pino'
import { startP2pdPlane } from '../../src/api/p2pd/index.ts'
import { encodeDelimited, encodeVarint, readDelimited, writeDelimited } from '../../src/api/p2pd/framing.ts'
import { describeError, peerInfo, timeoutMs } from '../../src/api/p2pd/responses.ts'
import { Errors } from '../../src/errors.ts'
import { HivemindRequest, PersistentConnectionRequest, PersistentConnectionResponse, Request, Response } from '../../src/proto/p2pd.ts'
import { OwnEndpoints } from '../../src/net/own-endpoints.ts'
import { HandlerRegistry } from '../../src/streams/handlers.ts'
import { StreamTable } from '../../src/streams/table.ts'
import type { CoreContext } from '../../src/core/context.ts'
import type { ControlPlane } from '../../src/api/plane.ts'
import type { Socket } from 'node:net'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const log = pino({ level: 'silent' })

async function stubContext (overrides: { maxMessageSize?: number, idleTimeoutMs?: number } = {}): Promise<CoreContext> {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const node: any = {
    peerId,
    getMultiaddrs: () => [multiaddr(`/ip4/127.0.0.1/tcp/4001/p2p/${peerId.toString()}`)],
    getProtocols: () => [],
    getConnections: () => [],
    services: {},
    handle: async () => {},
    unhandle: async () => {}
  }
  return {
    node,
    config: { maxMessageSize: overrides.maxMessageSize ?? 1024, idleTimeoutMs: overrides.idleTimeoutMs ?? 0 } as any,
    streams: new StreamTable(),
    handlers: new HandlerRegistry(node, log),
    socketDir: undefined as any,
    ownEndpoints: new OwnEndpoints(),
    log
  }
}

let dir: string
before(async () => { dir = await mkdtemp(join(tmpdir(), 'p2pd-server-')) })
after(async () => { await rm(dir, { recursive: true, force: true }) })

async function dial (plane: ControlPlane): Promise<Socket> {
  const s = connect({ path: plane.address.slice('/unix'.length), allowHalfOpen: true })
  await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
  return s
}
const response = async (s: Socket): Promise<Response> => Response.decode((await readDelimited(s, { timeout: 5000 }))!)

describe('p2pd server loop (stub host)', () => {
  let ctx: CoreContext
  let plane: ControlPlane
  before(async () => {
    ctx = await stubContext()
    plane = await startP2pdPlane(ctx, { kind: 'unix', path: join(dir, 'c.sock') })
  })
  after(async () => { await plane.close() })

  it('IDENTIFY: golden request bytes 02 08 00; the answer drops /p2p from addresses', async () => {
    const frame = encodeDelimited(Request.encode({ type: Request.Type.IDENTIFY }))
    assert.equal(frame.toString('hex'), '020800')
    const s = await dial(plane)
    s.write(frame)
    const r = await response(s)
    assert.equal(r.type, Response.Type.OK)
    assert.equal(hex(r.identify!.id), hex(ctx.node.peerId.toMultihash().bytes))
    assert.deepEqual(r.identify!.addrs.map(a => multiaddr(a).toString()), ['/ip4/127.0.0.1/tcp/4001'])
    s.destroy()
  })

  it('requests on one connection: ERROR keeps it open when the framing is intact', async () => {
    const s = await dial(plane)
    s.write(Buffer.from([0x01, 0xff])) // one byte that is no protobuf
    assert.equal((await response(s)).type, Response.Type.ERROR)
    await writeDelimited(s, Request.encode({ type: Request.Type.DHT, dht: { type: 'GET_VALUE' as any, key: new Uint8Array([1]) } }))
    assert.equal((await response(s)).error?.msg, 'DHT not enabled')
    await writeDelimited(s, Request.encode({ type: Request.Type.PUBSUB, pubsub: { type: 'GET_TOPICS' as any } }))
    assert.equal((await response(s)).error?.msg, 'PubSub not enabled')
    await writeDelimited(s, new Uint8Array(0)) // empty message: no type
    assert.equal((await response(s)).type, Response.Type.ERROR)
    await writeDelimited(s, Request.encode({ type: Request.Type.VERSION }))
    assert.equal((await response(s)).version?.name, 'libp2pd')
    s.end()
    assert.equal(await readDelimited(s, { timeout: 5000 }), undefined, 'the daemon closes after the client\'s EOF')
  })

  it('200 concurrent control connections are each answered, without a listener-leak warning', async () => {
    // each session follows the plane's signal: Node warns of a leak past 10 unless told not to
    const warnings: string[] = []
    const onWarning = (w: Error): void => { warnings.push(`${w.name}: ${w.message}`) }
    process.on('warning', onWarning)
    try {
      // all 200 stay open until every one has been answered
      const sockets = await Promise.all(Array.from({ length: 200 }, async () => await dial(plane)))
      try {
        const answers = await Promise.all(sockets.map(async s => {
          await writeDelimited(s, Request.encode({ type: Request.Type.IDENTIFY }))
          return (await response(s)).type
        }))
        assert.deepEqual(new Set(answers), new Set([Response.Type.OK]))
      } finally {
        for (const s of sockets) s.destroy()
      }
      await new Promise(resolve => setImmediate(resolve))
    } finally {
      process.off('warning', onWarning)
    }
    assert.deepEqual(warnings.filter(w => w.includes('MaxListeners')), [])
  })

  it('over the message limit: ERROR then close', async () => {
    const s = await dial(plane)
    s.write(encodeVarint(1025))
    const r = await response(s)
    assert.equal(r.type, Response.Type.ERROR)
    assert.match(r.error?.msg ?? '', /1025 bytes exceeds the limit of 1024/)
    assert.equal(await readDelimited(s, { timeout: 5000 }), undefined)
    s.destroy()
  })

  it('hivemind REMOVE_STREAM_HANDLER of an unknown protocol is an ERROR, decoded by the hivemind shape', async () => {
    const s = await dial(plane)
    await writeDelimited(s, HivemindRequest.encode({ type: HivemindRequest.Type.REMOVE_STREAM_HANDLER, removeStreamHandler: { addr: multiaddr('/ip4/127.0.0.1/tcp/1').bytes, proto: ['/x'] } }))
    const r = await response(s)
    assert.equal(r.type, Response.Type.ERROR)
    assert.match(r.error?.msg ?? '', /no handler for protocol \/x/)
    s.destroy()
  })

  it('a persistent connection acknowledges with the bare callId and drops bad call IDs', async () => {
    const s = await dial(plane)
    await writeDelimited(s, HivemindRequest.encode({ type: HivemindRequest.Type.PERSISTENT_CONN_UPGRADE }))
    assert.equal((await response(s)).type, Response.Type.OK)
    // a 3-byte call ID is dropped silently; the 16-byte one after it is answered
    await writeDelimited(s, PersistentConnectionRequest.encode({ callId: new Uint8Array(3), removeUnaryHandler: { proto: '/a' } }))
    const id = new Uint8Array(16).fill(7)
    await writeDelimited(s, PersistentConnectionRequest.encode({ callId: id, removeUnaryHandler: { proto: '/a' } }))
    const r = PersistentConnectionResponse.decode((await readDelimited(s, { timeout: 5000 }))!)
    assert.equal(hex(r.callId!), hex(id))
    assert.match(r.daemonError?.message ?? '', /no handler/)
    s.destroy()
  })

  it('a protocol served only by unary handlers is known to answer every stream (the host holds optimistic answers for it)', async () => {
    const s = await dial(plane)
    await writeDelimited(s, HivemindRequest.encode({ type: HivemindRequest.Type.PERSISTENT_CONN_UPGRADE }))
    assert.equal((await response(s)).type, Response.Type.OK)
    const id = new Uint8Array(16).fill(9)
    await writeDelimited(s, PersistentConnectionRequest.encode({ callId: id, addUnaryHandler: { proto: '/unary/1', balanced: true } }))
    assert.equal(hex(PersistentConnectionResponse.decode((await readDelimited(s, { timeout: 5000 }))!).callId!), hex(id))
    assert.equal(ctx.handlers.answersEveryStream('/unary/1'), true)
    assert.equal(ctx.handlers.answersEveryStream('/other/1'), false)
    // a stream handler of a program next to it: its streams need not carry a response
    const program = { key: 'program', kind: 'p2pd' as const, address: 'program', deliver: async () => {} }
    await ctx.handlers.add(['/unary/1'], program, 'balanced')
    assert.equal(ctx.handlers.answersEveryStream('/unary/1'), false)
    await ctx.handlers.remove(['/unary/1'], 'program')
    assert.equal(ctx.handlers.answersEveryStream('/unary/1'), true)
    // the handler goes with its connection
    s.destroy()
    const until = Date.now() + 5000
    while (ctx.handlers.answersEveryStream('/unary/1') && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 10))
    assert.equal(ctx.handlers.answersEveryStream('/unary/1'), false)
  })
})

describe('p2pd -idleTimeout', () => {
  it('fires when no persistent connection opens in time', async () => {
    const ctx = await stubContext({ idleTimeoutMs: 150 })
    let fired = 0
    const plane = await startP2pdPlane(ctx, { kind: 'unix', path: join(dir, 'i1.sock') }, { onIdle: () => { fired++ } })
    await new Promise(resolve => setTimeout(resolve, 400))
    assert.equal(fired, 1)
    await plane.close()
  })

  it('waits while a persistent connection is open and fires when the last one closes', async () => {
    const ctx = await stubContext({ idleTimeoutMs: 150 })
    let fired = 0
    const plane = await startP2pdPlane(ctx, { kind: 'unix', path: join(dir, 'i2.sock') }, { onIdle: () => { fired++ } })
    const s = await dial(plane)
    await writeDelimited(s, HivemindRequest.encode({ type: HivemindRequest.Type.PERSISTENT_CONN_UPGRADE }))
    assert.equal((await response(s)).type, Response.Type.OK)
    await new Promise(resolve => setTimeout(resolve, 400))
    assert.equal(fired, 0)
    s.destroy()
    await new Promise(resolve => setTimeout(resolve, 200))
    assert.equal(fired, 1)
    await plane.close()
  })
})

describe('p2pd response helpers', () => {
  it('timeout: seconds to ms, absent or ≤ 0 is 60 s', () => {
    assert.equal(timeoutMs(undefined), 60_000)
    assert.equal(timeoutMs(0n), 60_000)
    assert.equal(timeoutMs(-3n), 60_000)
    assert.equal(timeoutMs(5n), 5000)
  })

  it('PeerInfo drops /p2p suffixes', async () => {
    const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const info = peerInfo(id, [multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${id.toString()}`)])
    assert.equal(multiaddr(info.addrs[0]).toString(), '/ip4/1.2.3.4/tcp/1')
  })

  it('error messages keep what is inside an AggregateError', () => {
    const agg = new AggregateError([new Error('failed to connect via relay with status NO_RESERVATION')], 'All promises were rejected')
    const msg = describeError(Errors.dialFailed('could not connect', { cause: agg }))
    assert.match(msg, /could not connect: failed to connect via relay with status NO_RESERVATION/)
  })
})
