// Varint-delimited framing over real unix-socket pairs (src/api/p2pd/framing.ts).
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, connect, type Socket, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  BadVarintError, DEFAULT_MAX_MESSAGE_SIZE, encodeDelimited, encodeVarint, FramingAbortedError,
  FramingTimeoutError, MessageTooLargeError, readDelimited, readDelimitedStream, UnexpectedEOFError,
  writeDelimited
} from '../../src/api/p2pd/framing.ts'
import * as pb from '../../src/proto/p2pd.ts'
import { createClient } from '@libp2p/daemon-client'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'

let dir: string
let server: Server
const pending: Array<(s: Socket) => void> = []
const open: Socket[] = []

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2pd-framing-'))
  server = createServer(s => { pending.shift()?.(s) })
  await new Promise<void>(resolve => server.listen(join(dir, 'f.sock'), resolve))
})

after(async () => {
  for (const s of open) s.destroy()
  await new Promise(resolve => server.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

/** A connected pair: `a` is the dialer, `b` the accepted end (both paused). */
async function pair (): Promise<{ a: Socket, b: Socket }> {
  const accepted = new Promise<Socket>(resolve => pending.push(resolve))
  const a = connect(join(dir, 'f.sock'))
  await new Promise<void>((resolve, reject) => a.once('connect', resolve).once('error', reject))
  const b = await accepted
  open.push(a, b)
  return { a, b }
}

/** Collects everything left in `s` until EOF, with a deadline. */
async function drain (s: Socket): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of s.iterator({ destroyOnReturn: false })) chunks.push(chunk)
  return Buffer.concat(chunks)
}

const msg = (n: number, fill = 0x61): Uint8Array => new Uint8Array(n).fill(fill)
const code = (c: string) => (err: unknown) => (err as { code?: string }).code === c

describe('p2pd framing', () => {
  it('encodes varint prefixes like protobuf', () => {
    assert.equal(Buffer.from(encodeVarint(0)).toString('hex'), '00')
    assert.equal(Buffer.from(encodeVarint(300)).toString('hex'), 'ac02')
    assert.equal(Buffer.from(encodeVarint(DEFAULT_MAX_MESSAGE_SIZE)).toString('hex'), '808080' + '02')
    assert.equal(encodeDelimited(msg(3)).toString('hex'), '03616161')
  })

  it('reads a message whose varint and body are split across chunks', async () => {
    const { a, b } = await pair()
    const frame = encodeDelimited(msg(300, 7)) // prefix ac 02
    const reading = readDelimited(b, { timeout: 5000 })
    for (const part of [frame.subarray(0, 1), frame.subarray(1, 2), frame.subarray(2, 100), frame.subarray(100)]) {
      a.write(part)
      await sleep(10)
    }
    assert.deepEqual(Buffer.from((await reading)!), Buffer.from(msg(300, 7)))
  })

  it('two messages in one chunk, then raw bytes that survive for the next owner', async () => {
    const { a, b } = await pair()
    const raw = Buffer.from('raw stream bytes \x00\x01\xff after the response')
    a.end(Buffer.concat([encodeDelimited(msg(2, 1)), encodeDelimited(msg(0)), encodeDelimited(msg(5, 2)), raw]))
    const got: Uint8Array[] = []
    for await (const m of readDelimitedStream(b, { timeout: 5000 })) {
      got.push(m)
      if (got.length === 2) break // STREAM_OPEN-style takeover after the 2nd message
    }
    assert.deepEqual(got.map(m => m.length), [2, 0])
    assert.deepEqual(Buffer.from((await readDelimited(b))!), Buffer.from(msg(5, 2)))
    assert.deepEqual(await drain(b), raw)
  })

  it('clean EOF between messages ends reading with undefined', async () => {
    const { a, b } = await pair()
    a.end(encodeDelimited(msg(1)))
    assert.equal((await readDelimited(b))!.length, 1)
    assert.equal(await readDelimited(b), undefined)
    const { a: a2, b: b2 } = await pair()
    a2.end()
    const all: Uint8Array[] = []
    for await (const m of readDelimitedStream(b2)) all.push(m)
    assert.equal(all.length, 0)
  })

  it('rejects an oversize prefix without reading the body', async () => {
    const { a, b } = await pair()
    a.write(Buffer.concat([Buffer.from(encodeVarint(11)), msg(11)]))
    await assert.rejects(readDelimited(b, { maxMessageSize: 10 }), (err: unknown) =>
      err instanceof MessageTooLargeError && err.code === 'ERR_MESSAGE_TOO_LARGE' && err.size === 11 && err.maxSize === 10)
    a.end()
    assert.equal((await drain(b)).length, 11) // the body was left in the socket

    const { a: a2, b: b2 } = await pair()
    a2.write(encodeVarint(DEFAULT_MAX_MESSAGE_SIZE + 1)) // default limit, body never sent
    await assert.rejects(readDelimited(b2, { timeout: 5000 }), code('ERR_MESSAGE_TOO_LARGE'))
  })

  it('rejects over-long and above-2^53 varints', async () => {
    const { a, b } = await pair()
    a.write(Buffer.alloc(11, 0xff))
    await assert.rejects(readDelimited(b, { timeout: 5000 }), (err: unknown) => err instanceof BadVarintError && err.code === 'ERR_BAD_VARINT')
    const { a: a2, b: b2 } = await pair()
    a2.write(Buffer.from('ffffffffffffffff7f', 'hex')) // 9 bytes, ~2^63
    await assert.rejects(readDelimited(b2, { timeout: 5000, maxMessageSize: Number.MAX_SAFE_INTEGER }), code('ERR_BAD_VARINT'))
  })

  it('EOF inside the body or inside the varint is ERR_UNEXPECTED_EOF', async () => {
    const { a, b } = await pair()
    a.end(Buffer.concat([Buffer.from([10]), msg(5)]))
    await assert.rejects(readDelimited(b, { timeout: 5000 }), (err: unknown) => err instanceof UnexpectedEOFError && err.code === 'ERR_UNEXPECTED_EOF')
    const { a: a2, b: b2 } = await pair()
    a2.write(Buffer.from([0x80]))
    const reading = readDelimited(b2, { timeout: 5000 })
    await sleep(20)
    a2.end()
    await assert.rejects(reading, code('ERR_UNEXPECTED_EOF'))
  })

  it('times out, and leaves a partly received message intact', async () => {
    const { a, b } = await pair()
    const frame = encodeDelimited(msg(200, 3)) // 2-byte prefix c8 01
    a.write(frame.subarray(0, 1))
    const started = Date.now()
    await assert.rejects(readDelimited(b, { timeout: 50 }), (err: unknown) => err instanceof FramingTimeoutError && err.code === 'ERR_TIMEOUT')
    assert.ok(Date.now() - started >= 45)
    a.write(frame.subarray(1))
    assert.deepEqual(Buffer.from((await readDelimited(b, { timeout: 5000 }))!), Buffer.from(msg(200, 3)))
  })

  it('stops on an AbortSignal', async () => {
    const { a, b } = await pair()
    const controller = new AbortController()
    const reading = readDelimited(b, { signal: controller.signal })
    setTimeout(() => { controller.abort() }, 20)
    await assert.rejects(reading, (err: unknown) => err instanceof FramingAbortedError && err.code === 'ERR_ABORTED')
    await assert.rejects(readDelimited(b, { signal: AbortSignal.abort() }), code('ERR_ABORTED'))
    a.end(encodeDelimited(msg(1)))
    assert.equal((await readDelimited(b, { timeout: 5000 }))!.length, 1)
  })

  it('1000 pipelined messages arrive in order', async () => {
    const { a, b } = await pair()
    const started = performance.now()
    const writing = (async () => {
      for (let i = 0; i < 1000; i++) await writeDelimited(a, Buffer.from(`request ${i}`))
      a.end()
    })()
    let i = 0
    for await (const m of readDelimitedStream(b, { timeout: 5000 })) {
      assert.equal(Buffer.from(m).toString(), `request ${i++}`)
    }
    await writing
    assert.equal(i, 1000)
    console.log(`# 1000 pipelined messages in ${(performance.now() - started).toFixed(1)} ms`)
  })

  it('writeDelimited waits for drain on a large message and sends it intact', async () => {
    const { a, b } = await pair()
    const big = msg(3 * 1024 * 1024, 9)
    let done = false
    const writing = writeDelimited(a, big).then(() => { done = true })
    await sleep(50)
    assert.equal(done, false, 'should wait for the reader (backpressure)')
    const got = await readDelimited(b, { timeout: 5000 })
    await writing
    assert.equal(got!.length, big.length)
    assert.ok(Buffer.from(got!).equals(Buffer.from(big)))
  })

  it('writeDelimited rejects on a closed socket', async () => {
    const { a } = await pair()
    a.destroy()
    await assert.rejects(writeDelimited(a, msg(1)), code('ERR_UNEXPECTED_EOF'))
  })
})

describe('p2pd framing + codecs against the upstream JS client (@libp2p/daemon-client)', () => {
  it('identify and STREAM_OPEN: extension fields ignored, raw bytes after the response delivered', async () => {
    const identity = peerIdFromString('12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN')
    const path = join(dir, 'control.sock')
    const seen: string[] = []
    const control = createServer(socket => {
      void (async () => {
        const bytes = await readDelimited(socket, { timeout: 5000 })
        const request = pb.Request.decode(bytes!)
        seen.push(request.type ?? 'none')
        if (request.type === pb.Request.Type.IDENTIFY) {
          await writeDelimited(socket, pb.Response.encode({
            type: pb.Response.Type.OK,
            identify: { id: identity.toMultihash().bytes, addrs: [multiaddr('/ip4/127.0.0.1/tcp/4001').bytes] },
            version: { name: 'libp2pd', version: '0.0.0', protocolVersion: 'test' }
          }))
        } else {
          const reply = pb.Response.encode({ type: pb.Response.Type.OK, streamInfo: { peer: request.streamOpen!.peer, addr: multiaddr('/ip4/127.0.0.1/tcp/1').bytes, proto: '/echo/1.0.0', id: 'ext-1' } })
          // response and the first stream bytes in one write: the client must not lose them
          socket.write(Buffer.concat([encodeDelimited(reply), Buffer.from('hello from the stream')]))
          socket.end()
        }
      })().catch(err => { socket.destroy(err) })
    })
    await new Promise<void>(resolve => control.listen(path, resolve))
    try {
      const client = createClient(multiaddr(`/unix/${encodeURIComponent(path)}`))
      const { peerId, addrs } = await client.identify()
      assert.equal(peerId.toString(), identity.toString())
      assert.deepEqual(addrs.map(a => a.toString()), ['/ip4/127.0.0.1/tcp/4001'])
      const stream = await client.openStream(identity, '/echo/1.0.0')
      const chunks: Uint8Array[] = []
      for await (const chunk of stream) chunks.push(chunk.subarray())
      assert.equal(Buffer.concat(chunks).toString(), 'hello from the stream')
      assert.deepEqual(seen, ['IDENTIFY', 'STREAM_OPEN'])
    } finally {
      await new Promise(resolve => control.close(resolve))
    }
  })
})
