/**
 * Noise with a leaner receive path. `@chainsafe/libp2p-noise` 17.0.0 spends receiver CPU on
 * two things no message needs (profiles of a 1 GiB transfer, docs/performance.md):
 *
 * 1. `decrypt()` builds a `dst` buffer for every message with `chunk.subarray(...)`, which
 *    copies whenever a message spans two TCP reads. A full 65,537-byte frame never fits in
 *    one 65,536-byte read, so in bulk it copies every message. Only the WebAssembly
 *    cipher, used for messages under 1,200 bytes, writes into `dst`; for the rest the copy
 *    is garbage at once (+5–15% throughput without it).
 * 2. Its frame decoder learns that fewer than 2 bytes are buffered from a `RangeError`
 *    thrown by the length decoder, at least once per TCP read: 4% of the receiver in bulk,
 *    and 1.5–3% of each daemon with small messages even with a pre-built error (the throw
 *    and unwind themselves). The replacement loop checks the length instead.
 *
 * The wire format, the ciphers and the handshake are noise's own and unchanged. Like
 * `tcp-coalesce.ts`, this wraps the stock transport: the connection noise returns gets its
 * `decrypt` and its decoder's `decode` replaced. Neither holds state of its own (the decoder
 * keeps its buffer, the same object), so nothing buffered is lost whenever that happens. A noise release of another shape is left as it is
 * (`patchNoiseReceive` returns false; a unit test pins the installed shape).
 */
import { noise } from '@chainsafe/libp2p-noise'
import { Uint8ArrayList } from 'uint8arraylist'
import type { NoiseInit } from '@chainsafe/libp2p-noise'

/** Poly1305 tag length. */
const TAG_LENGTH = 16
/** Upstream sends messages shorter than this to the WebAssembly cipher, which uses `dst`. */
const WASM_CIPHER_BELOW = 1200

type Bytes = Uint8Array | Uint8ArrayList

/** noise's frame decoder (`LengthPrefixedDecoder` of `@libp2p/utils`): its state is `buffer`. */
interface FrameDecoder {
  buffer: Uint8ArrayList
  maxBufferSize: number
  decode: (buf: Bytes) => Generator<Uint8ArrayList>
}

/** The parts of noise's `EncryptedMessageStream` this module touches. */
interface NoiseMessageStream {
  decrypt: (chunk: Bytes) => Bytes
  decoder: FrameDecoder
  handshake: { decrypt: (ciphertext: Bytes, dst?: Uint8Array) => Bytes }
  metrics?: { decryptedPackets: { increment: () => void }, decryptErrors: { increment: () => void } }
}

/** Whole frames (2-byte big-endian length, then the message) from the bytes buffered so far. */
function * decodeFrames (this: FrameDecoder, buf: Bytes): Generator<Uint8ArrayList> {
  const buffer = this.buffer
  buffer.append(buf)
  if (buffer.byteLength > this.maxBufferSize) {
    throw new RangeError(`Buffer length limit exceeded - ${buffer.byteLength}/${this.maxBufferSize}`)
  }
  while (buffer.byteLength >= 2) {
    const end = 2 + ((buffer.get(0) << 8) | buffer.get(1))
    if (buffer.byteLength < end) break
    const frame = buffer.sublist(2, end)
    buffer.consume(end)
    if (frame.byteLength > 0) yield frame
  }
}

/**
 * Decrypts one frame as upstream does, but builds `dst` only for the cipher that reads
 * it. A frame is at most 65,535 bytes (its length is 16 bits), so it is one message.
 */
function decryptFrame (this: NoiseMessageStream, chunk: Bytes): Bytes {
  const length = chunk.byteLength
  if (length < TAG_LENGTH) throw new Error('Invalid chunk')
  // in place, as upstream: the WebAssembly cipher reads each byte before writing it
  const dst = length < WASM_CIPHER_BELOW ? chunk.subarray(0, length - TAG_LENGTH) : undefined
  try {
    const plaintext = this.handshake.decrypt(chunk, dst)
    this.metrics?.decryptedPackets.increment()
    return plaintext
  } catch (err) {
    this.metrics?.decryptErrors.increment()
    throw err
  }
}

/**
 * Gives a connection returned by noise the lean receive path. Returns false, changing
 * nothing, when the connection does not have the shape of noise 17's message stream.
 */
export function patchNoiseReceive (connection: unknown): boolean {
  const conn = connection as Partial<NoiseMessageStream> | null
  if (conn == null || typeof conn.decrypt !== 'function' ||
    typeof conn.decoder?.decode !== 'function' || typeof conn.decoder.maxBufferSize !== 'number' ||
    typeof conn.decoder.buffer?.sublist !== 'function' ||
    typeof conn.handshake?.decrypt !== 'function') return false
  conn.decrypt = decryptFrame
  conn.decoder.decode = decodeFrames
  return true
}

type AnyFn = (...args: any[]) => any

/** `@chainsafe/libp2p-noise`'s connection encrypter with the lean receive path. */
export function leanNoise (init: NoiseInit = {}): (components: any) => any {
  const make = noise(init)
  return (components: any) => {
    const encrypter = make(components) as any
    for (const method of ['secureOutbound', 'secureInbound'] as const) {
      const secure = (encrypter[method] as AnyFn).bind(encrypter)
      encrypter[method] = async (...args: unknown[]) => {
        const secured = await secure(...args)
        patchNoiseReceive(secured?.connection)
        return secured
      }
    }
    return encrypter
  }
}
