/**
 * Varint-length-prefixed message framing on a Node socket (p2pd: "all messages are
 * varint-delimited").
 *
 * The reader never consumes a byte past the message it returns: after STREAM_OPEN's response
 * (or an inbound StreamInfo) the same socket carries raw stream bytes, which must stay in the
 * socket for whoever pipes it next. It uses `readable.read(n)`, which returns exactly `n`
 * buffered bytes or nothing, so there is never a remainder to hand back. The socket must be
 * in paused mode (no 'data' listener) while it is read here. Note `read(n)` raises the
 * socket's readable high-water mark to fit `n` (Node behaviour).
 */
import type { Duplex } from 'node:stream'

/** Default and upstream limit for one control message: `network.MessageSizeMax` = 4 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1 << 22

/** A varint of a uint64 takes at most 10 bytes. */
const MAX_VARINT_BYTES = 10

/** Base class of framing errors; `code` is stable and meant for programs. */
export class FramingError extends Error {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.name = new.target.name
    this.code = code
  }
}

/** The length prefix announces more than `maxMessageSize` bytes (nothing was allocated). */
export class MessageTooLargeError extends FramingError {
  constructor (readonly size: number, readonly maxSize: number) {
    super('ERR_MESSAGE_TOO_LARGE', `message of ${size} bytes exceeds the limit of ${maxSize} bytes`)
  }
}

/** The length prefix is longer than 10 bytes or above 2^53. */
export class BadVarintError extends FramingError {
  constructor (message = 'invalid varint length prefix') {
    super('ERR_BAD_VARINT', message)
  }
}

/** The peer closed the socket in the middle of a message. */
export class UnexpectedEOFError extends FramingError {
  constructor (message = 'connection closed in the middle of a message') {
    super('ERR_UNEXPECTED_EOF', message)
  }
}

/** No complete message arrived within `timeout` ms. */
export class FramingTimeoutError extends FramingError {
  constructor (timeout: number) {
    super('ERR_TIMEOUT', `no complete message within ${timeout} ms`)
  }
}

/** The caller's AbortSignal fired while reading or waiting for drain. */
export class FramingAbortedError extends FramingError {
  constructor () {
    super('ERR_ABORTED', 'framing operation aborted')
  }
}

/** Options of {@link readDelimited} and {@link readDelimitedStream}. */
export interface ReadDelimitedOptions {
  /** Largest accepted message body in bytes (default {@link DEFAULT_MAX_MESSAGE_SIZE}). */
  maxMessageSize?: number
  /** Aborts the read: rejects with {@link FramingAbortedError}. */
  signal?: AbortSignal
  /** Milliseconds allowed for one message to arrive completely (none by default). */
  timeout?: number
}

/** Encodes `value` (a safe non-negative integer) as an unsigned varint. */
export function encodeVarint (value: number): Uint8Array {
  const out: number[] = []
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80)
    value = Math.floor(value / 0x80)
  }
  out.push(value)
  return Uint8Array.from(out)
}

/** Decodes a complete varint (last byte < 0x80) held in `bytes`; rejects values above 2^53. */
function decodeVarint (bytes: number[]): number {
  let value = 0
  let scale = 1
  for (const byte of bytes) {
    value += (byte & 0x7f) * scale
    scale *= 0x80
  }
  if (value > Number.MAX_SAFE_INTEGER) throw new BadVarintError('varint length prefix above 2^53')
  return value
}

/** Returns `bytes` with its varint length prefix in front, as one buffer. */
export function encodeDelimited (bytes: Uint8Array): Buffer {
  const prefix = encodeVarint(bytes.byteLength)
  const frame = Buffer.allocUnsafe(prefix.byteLength + bytes.byteLength)
  frame.set(prefix, 0)
  frame.set(bytes, prefix.byteLength)
  return frame
}

/**
 * Incremental parse state of one message. The prefix bytes are kept so that an aborted
 * read can put them back (`unshift`), leaving the socket exactly as it was.
 */
class FrameParser {
  readonly prefix: number[] = []
  length: number | undefined

  constructor (private readonly socket: Duplex, private readonly maxSize: number) {}

  /** A message, or `undefined` when more bytes are needed. Throws on bad/oversize prefixes. */
  step (): Uint8Array | undefined {
    while (this.length === undefined) {
      const chunk: Buffer | null = this.socket.read(1)
      if (chunk == null) return undefined
      const byte = chunk[0]
      this.prefix.push(byte)
      if (byte < 0x80) {
        const length = decodeVarint(this.prefix)
        // checked before any allocation or read of the body
        if (length > this.maxSize) throw new MessageTooLargeError(length, this.maxSize)
        this.length = length
      } else if (this.prefix.length >= MAX_VARINT_BYTES) {
        throw new BadVarintError('varint length prefix longer than 10 bytes')
      }
    }
    if (this.length === 0) return new Uint8Array(0)
    const body: Buffer | null = this.socket.read(this.length)
    if (body == null) return undefined
    // read(n) only returns fewer than n bytes once the stream has ended
    if (body.byteLength < this.length) throw new UnexpectedEOFError()
    return body
  }

  /** True when some bytes of a message have been consumed. */
  get started (): boolean {
    return this.prefix.length > 0
  }

  /** Gives consumed prefix bytes back to the socket (only valid before the body is read). */
  restore (): void {
    if (this.prefix.length > 0 && !this.socket.destroyed) this.socket.unshift(Buffer.from(this.prefix))
    this.prefix.length = 0
  }
}

const WAIT = Symbol('wait')

function isEnded (socket: Duplex): boolean {
  return socket.readableEnded || socket.destroyed
}

/**
 * Reads exactly one varint-delimited message from `socket` and leaves every later byte in
 * it. Resolves `undefined` on a clean EOF between messages.
 *
 * Errors: {@link MessageTooLargeError}, {@link BadVarintError}, {@link UnexpectedEOFError}
 * (EOF mid-message), {@link FramingTimeoutError}, {@link FramingAbortedError}, or the socket's
 * own error. After a timeout or abort the socket is unchanged (consumed prefix bytes are
 * put back); after the other errors the connection should be closed.
 */
export async function readDelimited (socket: Duplex, options: ReadDelimitedOptions = {}): Promise<Uint8Array | undefined> {
  if (options.signal?.aborted === true) throw new FramingAbortedError()
  const parser = new FrameParser(socket, options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE)
  // fast path: the whole message is already buffered
  const ready = parser.step()
  if (ready !== undefined) return ready
  if (isEnded(socket)) return eof(parser)

  return await new Promise<Uint8Array | undefined>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const cleanup = (): void => {
      socket.off('readable', onReadable)
      socket.off('end', onEnd)
      socket.off('close', onEnd)
      socket.off('error', onError)
      options.signal?.removeEventListener('abort', onAbort)
      if (timer !== undefined) clearTimeout(timer)
    }
    // runs one parse attempt; WAIT keeps listening, a value or an error settles the read
    const attempt = (next: () => Uint8Array | undefined | typeof WAIT): void => {
      let result: Uint8Array | undefined | typeof WAIT
      try {
        result = next()
      } catch (err) {
        cleanup()
        reject(err)
        return
      }
      if (result === WAIT) return
      cleanup()
      resolve(result)
    }
    const onReadable = (): void => { attempt(() => parser.step() ?? (isEnded(socket) ? eof(parser) : WAIT)) }
    const onEnd = (): void => { attempt(() => eof(parser)) }
    const onError = (err: Error): void => { cleanup(); reject(err) }
    // timeout and abort leave the socket as it was, so the caller may still use it
    const giveUp = (err: FramingError): void => { cleanup(); parser.restore(); reject(err) }
    const onAbort = (): void => { giveUp(new FramingAbortedError()) }
    socket.on('readable', onReadable)
    socket.on('end', onEnd)
    socket.on('close', onEnd)
    socket.on('error', onError)
    options.signal?.addEventListener('abort', onAbort, { once: true })
    if (options.timeout !== undefined) {
      const timeout = options.timeout
      timer = setTimeout(() => { giveUp(new FramingTimeoutError(timeout)) }, timeout)
    }
  })
}

/** At EOF: clean between messages, an error inside one. */
function eof (parser: FrameParser): undefined {
  if (parser.started) throw new UnexpectedEOFError()
  return undefined
}

/**
 * Yields varint-delimited messages until a clean EOF. Options apply per message (`timeout`
 * bounds each message, e.g. as an idle limit between requests). Breaking out of the loop
 * stops reading at a message boundary: bytes after the last yielded message stay in the
 * socket (e.g. for a STREAM_OPEN takeover).
 */
export async function * readDelimitedStream (socket: Duplex, options: ReadDelimitedOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
  while (true) {
    const message = await readDelimited(socket, options)
    if (message === undefined) return
    yield message
  }
}

/** Options of {@link writeDelimited}. */
export interface WriteDelimitedOptions {
  /** Stops waiting for 'drain' (the bytes stay queued in the socket). */
  signal?: AbortSignal
}

/** Bodies up to this size are copied behind their prefix to make one buffer. */
const COPY_LIMIT = 64 * 1024

/**
 * Writes `bytes` with its varint length prefix (one buffer for small messages, one corked
 * writev for large ones, so the body is never copied). Resolves at once when the
 * socket accepted it below its high-water mark, otherwise on 'drain' (backpressure). Rejects
 * if the socket errors or closes first.
 */
export async function writeDelimited (socket: Duplex, bytes: Uint8Array, options: WriteDelimitedOptions = {}): Promise<void> {
  if (options.signal?.aborted === true) throw new FramingAbortedError()
  if (socket.destroyed || socket.writableEnded) throw new UnexpectedEOFError('cannot write: socket is closed')
  await new Promise<void>((resolve, reject) => {
    let settled = false
    const finish = (err?: Error): void => {
      if (settled) return
      settled = true
      socket.off('drain', onDrain)
      socket.off('close', onClose)
      options.signal?.removeEventListener('abort', onAbort)
      if (err === undefined) resolve()
      else reject(err)
    }
    const onDrain = (): void => { finish() }
    const onClose = (): void => { finish(new UnexpectedEOFError('socket closed before the message was flushed')) }
    const onAbort = (): void => { finish(new FramingAbortedError()) }
    const onWritten = (err?: Error | null): void => {
      if (err != null) finish(err)
    }
    let accepted: boolean
    if (bytes.byteLength <= COPY_LIMIT) {
      accepted = socket.write(encodeDelimited(bytes), onWritten)
    } else {
      // large bodies are not copied: cork so prefix and body still leave in one writev
      socket.cork()
      socket.write(encodeVarint(bytes.byteLength))
      accepted = socket.write(bytes, onWritten)
      socket.uncork()
    }
    if (accepted) {
      finish()
      return
    }
    socket.on('drain', onDrain)
    socket.on('close', onClose)
    options.signal?.addEventListener('abort', onAbort, { once: true })
  })
}
