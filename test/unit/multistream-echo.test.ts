/**
 * Multistream-select answers of an accepted stream (src/host/multistream-echo.ts): two real
 * yamux muxers over an in-memory connection pair, counting the frames each side sends. The
 * header and protocol echoes, and an optimistic dialer's answer, must leave in as few frames
 * as the order of the bytes allows, and never after the stream's FIN.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { yamux } from '@chainsafe/libp2p-yamux'
import { lpStream } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { OPTIMISTIC_HOLD_MS } from '../../src/host/multistream-echo.js'
import { leanYamux } from '../../src/host/yamux-window.js'
import { ACK, DATA, closeMuxers, muxerPair, open } from './yamux-harness.js'
import type { Frame } from './yamux-harness.js'

afterEach(closeMuxers)

describe('multistream-select answers of an accepted stream (src/host/multistream-echo.ts)', () => {
  const enc = (text: string): Uint8Array => new TextEncoder().encode(text)
  const HEADER = '/multistream/1.0.0\n'
  const PROTOCOL = '/bench/echo/1.0.0\n'
  const text = (bytes: Uint8ArrayList | Uint8Array): string => new TextDecoder().decode(bytes.subarray())
  /** Everything `stream` carries, to its end. */
  const readToEnd = async (stream: AsyncIterable<Uint8Array | Uint8ArrayList>): Promise<Uint8ArrayList> => {
    const got = new Uint8ArrayList()
    for await (const chunk of stream) got.append(chunk)
    return got
  }

  /** The data frames B sends when it answers a proposal the way `mss.handle` does. */
  async function answerFrames (make: () => () => any): Promise<Frame[]> {
    const { a, b, sent } = muxerPair(make)
    const { local, remote } = await open(a, b)
    const dialer = lpStream(local)
    await dialer.writeV([enc(HEADER), enc(PROTOCOL)])
    const listener = lpStream(remote)
    // mss.handle: read the header, echo it, read the protocol, echo it (two writes)
    assert.equal(text(await listener.read()), HEADER)
    await listener.write(enc(HEADER))
    assert.equal(text(await listener.read()), PROTOCOL)
    await listener.write(enc(PROTOCOL))
    assert.equal(text(await dialer.read()), HEADER)
    assert.equal(text(await dialer.read()), PROTOCOL)
    return sent.b.filter(f => f.type === DATA)
  }

  it('header and protocol echo leave in one frame (the stock muxer sends two)', async () => {
    assert.equal((await answerFrames(yamux)).length, 2)
    assert.deepEqual(await answerFrames(leanYamux), [{ type: DATA, flag: ACK, length: 20 + 19 }])
  })

  it('a header echo with nothing after it leaves by the next turn', async () => {
    const { a, b } = muxerPair(leanYamux)
    const { local, remote } = await open(a, b)
    await lpStream(remote).write(enc(HEADER))
    const read = lpStream(local).read({ signal: AbortSignal.timeout(2_000) })
    assert.equal(text(await read), HEADER)
  })

  it('a stream closed right after its header echo sends the echo before its FIN', async () => {
    const { a, b } = muxerPair(leanYamux)
    const { local, remote } = await open(a, b)
    await lpStream(remote).write(enc(HEADER))
    await remote.close()
    const got = await readToEnd(local)
    assert.equal(got.byteLength, 20, 'the echo arrived before the end of the stream')
  })

  /** leanYamux on a daemon whose PROTOCOL answers every stream (hivemind unary handlers). */
  const answeringYamux = (): (() => any) => leanYamux({}, { holdAnswerFor: protocol => protocol === PROTOCOL.trimEnd() })

  /**
   * An optimistic dialer: header, proposal and a request in one write. B answers as
   * `mss.handle` does (header echo, then `answer`); the caller goes on from there.
   */
  async function optimisticOpen (make: () => () => any, answer: string): Promise<{ dialer: any, listener: any, sent: { a: Frame[], b: Frame[] }, started: number }> {
    const { a, b, sent } = muxerPair(make)
    const { local, remote } = await open(a, b)
    const dialer = lpStream(local)
    const started = Date.now()
    await dialer.writeV([enc(HEADER), enc(PROTOCOL), enc('request')])
    const listener = lpStream(remote)
    await listener.read()
    await listener.write(enc(HEADER))
    await listener.read()
    await listener.write(enc(answer))
    return { dialer, listener, sent, started }
  }

  /**
   * `optimisticOpen`, then (unless `respond` is false) B reads the request and writes a
   * response. Resolves with B's frames once A has read everything B sent.
   */
  async function optimisticExchange (make: () => () => any, answer: string, respond = true): Promise<{ frames: Frame[], elapsedMs: number }> {
    const { dialer, listener, sent, started } = await optimisticOpen(make, answer)
    if (respond) {
      assert.equal(text(await listener.read()), 'request')
      await listener.write(enc('response'))
    }
    const signal = AbortSignal.timeout(5_000)
    assert.equal(text(await dialer.read({ signal })), HEADER)
    assert.equal(text(await dialer.read({ signal })), answer)
    const elapsedMs = Date.now() - started
    if (respond) assert.equal(text(await dialer.read({ signal })), 'response')
    // every frame B sent on the stream: a window update carrying the ACK alone would count
    return { frames: sent.b, elapsedMs }
  }

  it("an optimistic dialer's answer leaves with the response, in one frame, on a protocol that answers every stream (the stock muxer sends three)", async () => {
    assert.equal((await optimisticExchange(yamux, PROTOCOL)).frames.filter(f => f.type === DATA).length, 3)
    assert.deepEqual((await optimisticExchange(answeringYamux, PROTOCOL)).frames, [{ type: DATA, flag: ACK, length: 20 + 19 + 9 }])
    // a protocol not known to answer every stream: the answer leaves at once, as for any dialer
    assert.deepEqual((await optimisticExchange(leanYamux, PROTOCOL)).frames, [{ type: DATA, flag: ACK, length: 20 + 19 }, { type: DATA, flag: 0, length: 9 }])
  })

  it("an optimistic dialer's answer leaves alone when no response follows in time", async () => {
    const { frames, elapsedMs } = await optimisticExchange(answeringYamux, PROTOCOL, false)
    assert.deepEqual(frames, [{ type: DATA, flag: ACK, length: 20 + 19 }])
    assert.ok(elapsedMs >= OPTIMISTIC_HOLD_MS - 5 && elapsedMs < 2_000, `the answer arrived after ${elapsedMs} ms`)
  })

  it('a response slower than the bound follows the answer that left alone, in order', async () => {
    const { dialer, listener, sent } = await optimisticOpen(answeringYamux, PROTOCOL)
    assert.equal(text(await listener.read()), 'request')
    await new Promise(resolve => setTimeout(resolve, OPTIMISTIC_HOLD_MS * 3))
    await listener.write(enc('response'))
    const signal = AbortSignal.timeout(5_000)
    for (const expected of [HEADER, PROTOCOL, 'response']) assert.equal(text(await dialer.read({ signal })), expected)
    // the ACK went with the answer, once; the response is a frame of its own
    assert.deepEqual(sent.b, [{ type: DATA, flag: ACK, length: 20 + 19 }, { type: DATA, flag: 0, length: 9 }])
  })

  it('a refusal (na) is never held, even when data came with the proposal', async () => {
    const { frames, elapsedMs } = await optimisticExchange(answeringYamux, 'na\n', false)
    assert.deepEqual(frames, [{ type: DATA, flag: ACK, length: 20 + 4 }])
    assert.ok(elapsedMs < OPTIMISTIC_HOLD_MS, `the refusal took ${elapsedMs} ms`)
  })

  it("an optimistic dialer's stream closed without a response sends the answer before its FIN", async () => {
    const { dialer, listener } = await optimisticOpen(answeringYamux, PROTOCOL)
    const started = Date.now()
    await listener.unwrap().close()
    const got = await readToEnd(dialer.unwrap())
    assert.equal(got.byteLength, 20 + 19, 'the answer arrived before the end of the stream')
    assert.ok(Date.now() - started < OPTIMISTIC_HOLD_MS, 'the close did not wait for the hold')
  })

  it('other first writes, and outbound streams, are sent at once', async () => {
    const { a, b, sent } = muxerPair(leanYamux)
    const { local, remote } = await open(a, b)
    // the exact bytes of a header echo, but on the dialing side
    local.send(new Uint8Array([19, ...enc(HEADER)]))
    remote.send(enc('not a header'))
    assert.equal(sent.a.filter(f => f.type === DATA).length, 1)
    assert.equal(sent.b.filter(f => f.type === DATA).length, 1)
  })
})
