/**
 * Noise's lean receive path (src/host/noise-receive.ts): a real noise handshake over an
 * in-memory connection pair, then ciphertext fed to the receiver in awkward pieces (frames
 * split across reads, 1-byte remainders) must come out as the plaintext that went in.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { StreamMessageEvent } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { multiaddrConnectionPair } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { leanNoise, patchNoiseReceive } from '../../src/host/noise-receive.js'

async function components (): Promise<Record<string, unknown>> {
  return {
    privateKey: await generateKeyPair('Ed25519'),
    logger: defaultLogger(),
    upgrader: { getStreamMuxers: () => new Map() }
  }
}

/** Both ends of a noise session; `receiver.stream` is the transport it reads from. */
async function securedPair (make: typeof noise = leanNoise as typeof noise): Promise<{ sender: any, receiver: any }> {
  const [outbound, inbound] = multiaddrConnectionPair()
  const [a, b] = [make()(await components() as any), make()(await components() as any)]
  const options = { skipStreamMuxerNegotiation: true }
  const [out, inn] = await Promise.all([a.secureOutbound(outbound, options), b.secureInbound(inbound, options)])
  return { sender: out.connection, receiver: inn.connection }
}

/** Splits `wire` into pieces of the given sizes, cycling; the rest goes in the last piece. */
function * pieces (wire: Uint8Array, sizes: number[]): Generator<Uint8Array> {
  let at = 0
  for (let i = 0; at < wire.byteLength; i++) {
    const end = Math.min(wire.byteLength, at + sizes[i % sizes.length])
    yield wire.subarray(at, end)
    at = end
  }
}

/** Encrypts each payload on `sender`, feeds the ciphertext to `receiver` in `sizes` pieces. */
function transfer (sender: any, receiver: any, payloads: Uint8Array[], sizes: number[]): Uint8Array {
  const got = new Uint8ArrayList()
  receiver.addEventListener('message', (evt: StreamMessageEvent) => { got.append(evt.data) })
  const wire = new Uint8ArrayList()
  for (const payload of payloads) wire.append(sender.encrypt(payload))
  for (const piece of pieces(wire.subarray(), sizes)) receiver.stream.dispatchEvent(new StreamMessageEvent(piece))
  return got.subarray()
}

// around the WebAssembly cipher's threshold (1,200 bytes of ciphertext), one full frame
// (65,519 bytes of plaintext) and a message that noise splits into several frames
const SIZES = [1, 100, 1183, 1184, 1185, 65_519, 65_520, 200_000]

describe('noise lean receive path', () => {
  it('is applied to the installed noise release', async () => {
    const { receiver } = await securedPair()
    assert.ok(Object.hasOwn(receiver, 'decrypt'), 'decrypt replaced on the connection: noise changed shape')
    assert.ok(Object.hasOwn(receiver.decoder, 'decode'), 'decode replaced on its frame decoder')
    assert.equal(patchNoiseReceive({}), false, 'a foreign object is left alone')
  })

  for (const [name, sizes] of [
    ['one byte at a time', [1]],
    ['odd pieces that split frames and length prefixes', [3, 1, 65_536, 7, 2, 40_000]],
    ['64 KiB reads, as TCP delivers them', [65_536]]
  ] as Array<[string, number[]]>) {
    it(`delivers every size intact, ${name}`, async () => {
      const { sender, receiver } = await securedPair()
      const payloads = SIZES.map(size => randomBytes(size))
      // one byte at a time is slow in the event path: the small messages suffice there
      const sent = sizes[0] === 1 ? payloads.slice(0, 5) : payloads
      const got = transfer(sender, receiver, sent, sizes)
      assert.deepEqual(Buffer.from(got), Buffer.concat(sent))
    })
  }

  it('matches the stock receive path byte for byte', async () => {
    const stock = await securedPair(noise)
    const lean = await securedPair()
    assert.ok(!Object.hasOwn(stock.receiver, 'decrypt'))
    const payloads = SIZES.map(size => randomBytes(size))
    const expected = transfer(stock.sender, stock.receiver, payloads, [65_536])
    assert.deepEqual(Buffer.from(transfer(lean.sender, lean.receiver, payloads, [65_536])), Buffer.from(expected))
  })

  for (const size of [100, 5000]) {
    it(`aborts the connection on a tampered ${size}-byte message`, async () => {
      const { sender, receiver } = await securedPair()
      const closed = new Promise<any>(resolve => { receiver.addEventListener('close', resolve, { once: true }) })
      const wire = sender.encrypt(randomBytes(size)).subarray()
      wire[wire.byteLength - 20] ^= 1
      receiver.stream.dispatchEvent(new StreamMessageEvent(wire))
      const evt = await closed
      assert.ok(evt.error instanceof Error, 'closed with an error')
      assert.equal(receiver.status, 'aborted')
    })
  }
})
