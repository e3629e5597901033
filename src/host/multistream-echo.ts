/**
 * An accepted stream's multistream-select answer in as few frames as possible. js-libp2p's
 * listener (`mss.handle` of `@libp2p/multistream-select` 7) answers a proposal with two
 * writes: the header line, then the protocol line (or `na`). Each becomes its own yamux
 * frame, noise message and TCP write at the accepting end, and its own read and decryption
 * at the dialing end, for every stream.
 *
 * 1. **Header and protocol in one frame.** Dialers (js-libp2p, go-libp2p) send the header
 *    and the protocol together, so both answers are written within the same turn. The
 *    header's echo is held until the stream's next write (the protocol's echo) and the two
 *    leave as one. If nothing follows by the next turn (`setImmediate`: a dialer that waits
 *    for the header before proposing), or the stream is closed first, the echo leaves alone.
 * 2. **The answer with the first response, for an optimistic dialer.** A dialer that sent
 *    data right behind its proposal (go-libp2p's "lazy" negotiation, libp2pd's own unary
 *    calls: `core/optimistic-stream.ts`) did not wait for the answer and reads it only
 *    together with the response. For such a stream the accepted answer is held until the
 *    stream's next write, its close, or `OPTIMISTIC_HOLD_MS`, and leaves in the response's
 *    frame: one frame and one wake-up of the dialer less per request/response. A dialer that
 *    waits for the answer before sending cannot have sent data past its proposal, so it
 *    always gets the answer at once (or by the next turn, as in 1); so does `na`.
 *
 * Whether data came past the proposal is known from the bytes the stream has received when
 * the protocol's echo is written: more than the header and the proposal (which the echo
 * repeats byte for byte). The count is taken only until that first answer.
 *
 * Like the other modules here it patches stream instances, not the library: a stream of
 * another shape is left as it is (`holdNegotiationAnswer` returns false).
 */
import { Uint8ArrayList } from 'uint8arraylist'

/** The length-prefixed header line as `mss.handle` writes it: varint 19, then the text. */
const HEADER_ECHO = new Uint8Array([19, ...new TextEncoder().encode('/multistream/1.0.0\n')])

/** `mss.handle`'s refusal: varint 3, then `na\n`. */
const NA = new Uint8Array([3, 0x6e, 0x61, 0x0a])

/**
 * The longest an optimistic dialer's answer waits for the response it would ride with. Past
 * it the answer leaves alone, as it would without the hold: a handler slower than this gains
 * nothing from a frame less, and a handler that never writes (a one-way stream) must not keep
 * the dialer's negotiation open for long.
 */
export const OPTIMISTIC_HOLD_MS = 20

/** Streams holding an optimistic dialer's answer: their yamux ACK waits for it (`yamux-window.ts`). */
const holding = new WeakSet<object>()

/** Whether `stream` holds an optimistic dialer's answer (which will carry its yamux ACK). */
export function holdsAnswer (stream: object): boolean {
  return holding.has(stream)
}

type Bytes = Uint8Array | Uint8ArrayList

/** The parts of a js-libp2p stream this module touches. */
interface SendingStream {
  direction: string
  writeStatus: string
  send: (data: Bytes) => boolean
  close: (options?: unknown) => Promise<void>
  onData: (data: Bytes) => void
}

function equalsBytes (data: Bytes, expected: Uint8Array): boolean {
  if (data.byteLength !== expected.byteLength) return false
  const bytes = data instanceof Uint8Array ? data : data.subarray()
  for (let i = 0; i < bytes.byteLength; i++) if (bytes[i] !== expected[i]) return false
  return true
}

/** A single length-prefixed line ending in `\n` (how a protocol is echoed), other than `na`. */
function isProtocolEcho (data: Bytes): boolean {
  if (data.byteLength < 3 || equalsBytes(data, NA)) return false
  const bytes = data instanceof Uint8Array ? data : data.subarray()
  // protocol names are at most 1,024 bytes (multistream-select): a varint of one or two bytes
  const long = (bytes[0] & 0x80) !== 0
  const length = long ? (bytes[0] & 0x7f) | (bytes[1] << 7) : bytes[0]
  const prefix = long ? 2 : 1
  return (!long || bytes[1] < 0x80) && length === bytes.byteLength - prefix && bytes[bytes.byteLength - 1] === 0x0a
}

/**
 * Makes an inbound stream send its multistream-select answer together with its next write
 * (see the module's description). Returns false, changing nothing, for an outbound stream or
 * one of another shape.
 */
export function holdNegotiationAnswer (stream: unknown): boolean {
  const s = stream as Partial<SendingStream> | null
  if (s == null || s.direction !== 'inbound' || typeof s.send !== 'function' || typeof s.close !== 'function' || typeof s.onData !== 'function') return false
  const send = s.send
  const close = s.close
  const onData = s.onData
  let first = true
  let held: Bytes | undefined
  // the answer of an optimistic dialer's stream, held past the turn for its response
  let optimistic = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let received = 0
  // counts what the dialer sent until the answer is decided; then the stream's own method again
  s.onData = function (this: SendingStream, data: Bytes): void {
    received += data.byteLength
    onData.call(this, data)
  }
  // (the stream's own method back as a property: deleting it would slow every later lookup)
  const stopCounting = (): void => { s.onData = onData }
  const release = (): void => {
    if (timer === undefined) return
    clearTimeout(timer)
    timer = undefined
    holding.delete(s)
  }
  const flush = (target: SendingStream): void => {
    const data = held
    held = undefined
    release()
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
      if (equalsBytes(data, HEADER_ECHO)) {
        held = data
        setImmediate(() => {
          if (optimistic) return
          stopCounting()
          flush(this)
        })
        return true
      }
      stopCounting()
    }
    if (held === undefined) return send.call(this, data)
    const answer = new Uint8ArrayList(held, data)
    if (!optimistic) {
      stopCounting()
      // the dialer sent more than the header and the proposal this echoes: it is not waiting
      if (isProtocolEcho(data) && received > HEADER_ECHO.byteLength + data.byteLength) {
        optimistic = true
        held = answer
        timer = setTimeout(() => { flush(this) }, OPTIMISTIC_HOLD_MS)
        timer.unref()
        holding.add(s)
        return true
      }
    }
    held = undefined
    release()
    return send.call(this, answer)
  }
  s.close = async function (this: SendingStream, options?: unknown): Promise<void> {
    // a held answer must leave before the FIN
    flush(this)
    await close.call(this, options)
  }
  return true
}
