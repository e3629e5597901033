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
 * 2. **The answer with the response, for an optimistic dialer of a request/response
 *    protocol.** A dialer that sent data right behind its proposal (go-libp2p's "lazy"
 *    negotiation, libp2pd's own unary calls: `core/optimistic-stream.ts`) did not wait for
 *    the answer and reads it only together with the response. On protocols the daemon knows
 *    to answer every stream (`holdAnswerFor`: hivemind unary handlers) the accepted answer
 *    is held until the stream's next write, its close, or `OPTIMISTIC_HOLD_MS`, and leaves
 *    in the response's frame: one frame and one wake-up of the dialer less per call. A
 *    dialer that waits for the answer before sending cannot have sent data past its
 *    proposal, so it always gets the answer at once (or by the next turn, as in 1); so does
 *    `na`. Other protocols are left out because a go-multistream lazy dialer's `Close()`
 *    waits for the answer: on a stream nobody answers, it would wait for the bound.
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

/** Options of {@link holdNegotiationAnswer}. */
export interface HoldAnswerOptions {
  /**
   * Whether accepted streams on `protocol` always carry a response, so that an optimistic
   * dialer's answer may wait for it. @default no protocol
   */
  holdAnswerFor?: (protocol: string) => boolean
}

/** The parts of a js-libp2p stream this module touches. */
interface SendingStream {
  direction: string
  writeStatus: string
  send: (data: Bytes) => boolean
  close: (options?: unknown) => Promise<void>
  onData?: (data: Bytes) => void
}

function equalsBytes (data: Bytes, expected: Uint8Array): boolean {
  if (data.byteLength !== expected.byteLength) return false
  const bytes = data instanceof Uint8Array ? data : data.subarray()
  for (let i = 0; i < bytes.byteLength; i++) if (bytes[i] !== expected[i]) return false
  return true
}

const decoder = new TextDecoder()

/**
 * The protocol a write echoes: a single length-prefixed line ending in `\n`, other than
 * `na`; `undefined` for anything else.
 */
function echoedProtocol (data: Bytes): string | undefined {
  if (data.byteLength < 3 || equalsBytes(data, NA)) return undefined
  const bytes = data instanceof Uint8Array ? data : data.subarray()
  // protocol names are at most 1,024 bytes (multistream-select): a varint of one or two bytes
  const long = (bytes[0] & 0x80) !== 0
  if (long && bytes[1] >= 0x80) return undefined
  const length = long ? (bytes[0] & 0x7f) | (bytes[1] << 7) : bytes[0]
  const prefix = long ? 2 : 1
  if (length !== bytes.byteLength - prefix || bytes[bytes.byteLength - 1] !== 0x0a) return undefined
  return decoder.decode(bytes.subarray(prefix, bytes.byteLength - 1))
}

function holdsFor (data: Bytes, holdAnswerFor: (protocol: string) => boolean): boolean {
  const protocol = echoedProtocol(data)
  return protocol !== undefined && holdAnswerFor(protocol)
}

/**
 * Makes an inbound stream send its multistream-select answer together with its next write
 * (see the module's description). Returns false, changing nothing, for an outbound stream or
 * one of another shape.
 */
export function holdNegotiationAnswer (stream: unknown, holdAnswerFor?: HoldAnswerOptions['holdAnswerFor']): boolean {
  const s = stream as Partial<SendingStream> | null
  if (s == null || s.direction !== 'inbound' || typeof s.send !== 'function' || typeof s.close !== 'function') return false
  const send = s.send
  const close = s.close
  const onData = s.onData
  let first = true
  let held: Bytes | undefined
  // the answer of an optimistic dialer's stream, held past the turn for its response
  let optimistic = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let received = 0
  // counts what the dialer sent until the answer is decided; then the stream's own method
  // again (as a property: deleting it would slow every later lookup on the stream)
  const counting = holdAnswerFor !== undefined && typeof onData === 'function'
  if (counting) {
    s.onData = function (this: SendingStream, data: Bytes): void {
      received += data.byteLength
      onData.call(this, data)
    }
  }
  const stopCounting = (): void => { if (counting) s.onData = onData }
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
      if (counting && received > HEADER_ECHO.byteLength + data.byteLength && holdsFor(data, holdAnswerFor)) {
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
