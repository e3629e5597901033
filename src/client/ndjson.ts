/**
 * Reading the daemon's NDJSON answers (DHT searches, subscriptions, events) one line at a
 * time, pulling from the socket only as fast as the program consumes, so backpressure
 * reaches the daemon. Lines may be split anywhere across chunks, even inside a UTF-8
 * character. A final `{error, code}` line becomes a thrown named error.
 */
import { StringDecoder } from 'node:string_decoder'
import { AbortError, Libp2pdError, errorFromResponse, isErrorBody, timeoutError, unreachableError } from './errors.js'
import type { IncomingMessage } from 'node:http'
import type { CallLimits, HttpTransport, RequestSpec } from './transport.js'

/** The longest line accepted; a longer one means a broken or hostile server. */
const MAX_LINE = 16 << 20

/** Pulls parsed JSON lines from a readable byte source. */
export class NdjsonReader {
  private readonly decoder = new StringDecoder('utf8')
  private readonly iterator: AsyncIterator<Buffer | string>
  private readonly lines: string[] = []
  private partial = ''
  private done = false

  constructor (source: AsyncIterable<Buffer | string>) {
    this.iterator = source[Symbol.asyncIterator]()
  }

  /** The next value, or `undefined` at the end of the stream. */
  async next (): Promise<unknown> {
    while (this.lines.length === 0) {
      if (this.done) return undefined
      const r = await this.iterator.next()
      if (r.done === true) {
        this.done = true
        this.push(this.decoder.end(), true)
      } else {
        this.push(typeof r.value === 'string' ? r.value : this.decoder.write(r.value), false)
      }
    }
    let value: unknown
    try {
      value = JSON.parse(this.lines.shift() as string)
    } catch (err) {
      throw new Libp2pdError('the daemon sent a line that is not JSON', 'ERR_BAD_RESPONSE', 200, { cause: err })
    }
    if (isErrorBody(value)) throw errorFromResponse(200, value)
    return value
  }

  private push (text: string, last: boolean): void {
    const parts = (this.partial + text).split('\n')
    this.partial = last ? '' : parts.pop() as string
    if (this.partial.length > MAX_LINE) throw new Libp2pdError(`NDJSON line longer than ${MAX_LINE} bytes`, 'ERR_BAD_RESPONSE', 200)
    for (const p of parts) if (p.trim() !== '') this.lines.push(p)
  }
}

/**
 * One streaming call: sends the request when iteration starts and yields `map(line)` for
 * every line. Ends cleanly (no error) when `signal` aborts or the consumer stops early;
 * either way the connection is closed. `timeout` bounds the whole iteration.
 */
export async function * ndjsonCall<T> (transport: HttpTransport, spec: RequestSpec, options: NdjsonLimits, map: (line: any) => T): AsyncGenerator<T, void, undefined> {
  const session = await openNdjson(transport, spec, options)
  if (session === undefined) return
  try {
    while (true) {
      const line = await session.next()
      if (line === undefined) return
      yield mapLine(map, line)
    }
  } finally {
    session.close()
  }
}

/** `map(line)`; a line of the wrong shape (`null`, a missing field) is the daemon's error, named as such. */
export function mapLine<T> (map: (line: any) => T, line: unknown): T {
  try {
    return map(line)
  } catch (err) {
    throw new Libp2pdError(`the daemon sent a line of the wrong shape: ${JSON.stringify(line)?.slice(0, 200)}`, 'ERR_BAD_RESPONSE', 200, { cause: err })
  }
}

/** An open NDJSON answer; `next()` is `undefined` at the end or after an abort. */
export interface NdjsonSession {
  next: () => Promise<unknown>
  close: () => void
}

/** Limits of a streaming call. */
export interface NdjsonLimits extends CallLimits {
  /** ms each `next()` may wait for a line before the call fails with `TimeoutError` (none by default). */
  idle?: number
}

/**
 * Opens a streaming call. Resolves `undefined` if `signal` aborted before the answer came;
 * a timeout (over the whole session, or `idle` for one line) throws `TimeoutError` from `next()`.
 */
export async function openNdjson (transport: HttpTransport, spec: RequestSpec, options: NdjsonLimits): Promise<NdjsonSession | undefined> {
  const { signal, timeout, idle } = options
  if (signal?.aborted === true) return undefined
  const started = Date.now()
  let res: IncomingMessage
  try {
    res = await transport.stream({ ...spec, accept: 'application/x-ndjson' }, { signal, timeout })
  } catch (err: any) {
    // the caller aborted before the answer came: an empty, clean end
    if (err instanceof AbortError) return undefined
    throw err
  }
  let timedOut: number | undefined
  let closedByUs = false
  let timer: NodeJS.Timeout | undefined
  const close = (): void => {
    closedByUs = true
    clearTimeout(timer)
    signal?.removeEventListener('abort', close)
    res.destroy()
  }
  signal?.addEventListener('abort', close, { once: true })
  if (timeout !== undefined && timeout > 0 && Number.isFinite(timeout)) {
    timer = setTimeout(() => { timedOut = timeout; close() }, Math.max(0, timeout - (Date.now() - started)))
  }
  const reader = new NdjsonReader(res)
  return {
    close,
    async next () {
      // a daemon that froze mid-answer must not hold the program forever
      const idleTimer = idle !== undefined && idle > 0 && Number.isFinite(idle)
        ? setTimeout(() => { timedOut = idle; close() }, idle)
        : undefined
      try {
        const value = await reader.next()
        if (value === undefined) close()
        return value
      } catch (err) {
        const ours = closedByUs
        close()
        if (timedOut !== undefined) throw timeoutError(timedOut)
        // the consumer (or its signal) ended the stream: that is not a failure
        if (ours) return undefined
        if (err instanceof Libp2pdError) throw err
        throw unreachableError(transport.where, err)
      } finally {
        clearTimeout(idleTimer)
      }
    }
  }
}
