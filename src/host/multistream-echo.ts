/**
 * An accepted stream's multistream-select answer in one frame. js-libp2p's listener
 * (`mss.handle` of `@libp2p/multistream-select` 7) answers a proposal with two writes: the
 * header line, then the protocol line (or `na`). Each becomes its own yamux frame, noise
 * message and TCP write at the accepting end, and its own read and decryption at the
 * dialing end, for every stream.
 *
 * Dialers (js-libp2p, go-libp2p) send the header and the protocol together, so both answers
 * are written within the same turn. This holds the header's echo until the stream's next
 * write (the protocol's echo) and sends the two as one. If nothing follows by the next turn
 * (`setImmediate`: a dialer that waits for the header before proposing), or the stream is
 * closed first, the echo leaves alone, as before. Only the first write of an inbound stream,
 * and only when it is exactly the header line, is ever held.
 *
 * Like the other modules here it patches stream instances, not the library: a stream of
 * another shape is left as it is (`holdHeaderEcho` returns false).
 */
import { Uint8ArrayList } from 'uint8arraylist'

/** The length-prefixed header line as `mss.handle` writes it: varint 19, then the text. */
const HEADER_ECHO = new Uint8Array([19, ...new TextEncoder().encode('/multistream/1.0.0\n')])

type Bytes = Uint8Array | Uint8ArrayList

/** The parts of a js-libp2p stream this module touches. */
interface SendingStream {
  direction: string
  writeStatus: string
  send: (data: Bytes) => boolean
  close: (options?: unknown) => Promise<void>
}

function isHeaderEcho (data: Bytes): boolean {
  if (data.byteLength !== HEADER_ECHO.byteLength) return false
  const bytes = data instanceof Uint8Array ? data : data.subarray()
  for (let i = 0; i < bytes.byteLength; i++) if (bytes[i] !== HEADER_ECHO[i]) return false
  return true
}

/**
 * Makes an inbound stream send its multistream header echo together with the next write.
 * Returns false, changing nothing, for an outbound stream or one of another shape.
 */
export function holdHeaderEcho (stream: unknown): boolean {
  const s = stream as Partial<SendingStream> | null
  if (s == null || s.direction !== 'inbound' || typeof s.send !== 'function' || typeof s.close !== 'function') return false
  const send = s.send
  const close = s.close
  let first = true
  let held: Bytes | undefined
  const flush = (target: SendingStream): void => {
    const data = held
    held = undefined
    // a stream reset meanwhile has nothing to send it on
    if (data === undefined || target.writeStatus !== 'writable') return
    try {
      send.call(target, data)
    } catch {
      // the stream has aborted itself with the error (AbstractMessageStream.processSendQueue)
    }
  }
  s.send = function (this: SendingStream, data: Bytes): boolean {
    if (first) {
      first = false
      if (isHeaderEcho(data)) {
        held = data
        setImmediate(() => { flush(this) })
        return true
      }
    }
    if (held !== undefined) {
      const before = held
      held = undefined
      return send.call(this, new Uint8ArrayList(before, data))
    }
    return send.call(this, data)
  }
  s.close = async function (this: SendingStream, options?: unknown): Promise<void> {
    // the held echo must leave before the FIN
    flush(this)
    await close.call(this, options)
  }
  return true
}
