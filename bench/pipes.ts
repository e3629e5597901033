/**
 * Adapters from Node sockets and libp2p v3 message streams to the benchmark's {@link BytePipe}.
 * Both share one chunk queue so that reading costs the same on every target.
 */
import { raceSignal } from './abort.ts'
import type { BytePipe } from './target.ts'
import type { Socket } from 'node:net'
import type { Uint8ArrayList } from 'uint8arraylist'

/** Bound on a write or close when the caller gives no signal. */
const DEFAULT_WAIT_MS = 30_000

/** Bytes buffered by a reader before the source is paused; keeps slow readers bounded. */
const HIGH_WATER = 1 << 20

/** Unread chunks plus the one waiting reader (scenarios read sequentially). */
class ChunkQueue {
  private readonly chunks: Uint8Array[] = []
  private bytes = 0
  private done = false
  private failure: Error | undefined
  private waiter: { resolve: (c: Uint8Array | null) => void, reject: (e: Error) => void } | undefined

  constructor (private readonly pause: () => void, private readonly resume: () => void) {}

  push (chunk: Uint8Array): void {
    if (this.waiter != null) {
      const w = this.waiter
      this.waiter = undefined
      w.resolve(chunk)
      return
    }
    this.chunks.push(chunk)
    this.bytes += chunk.byteLength
    if (this.bytes > HIGH_WATER) this.pause()
  }

  end (err?: Error): void {
    if (this.done) return
    this.done = true
    this.failure = err
    const w = this.waiter
    this.waiter = undefined
    if (w == null) return
    if (err != null) w.reject(err)
    else w.resolve(null)
  }

  async next (signal?: AbortSignal): Promise<Uint8Array | null> {
    const chunk = this.chunks.shift()
    if (chunk != null) {
      this.bytes -= chunk.byteLength
      if (this.bytes <= HIGH_WATER / 2) this.resume()
      return chunk
    }
    if (this.done) {
      if (this.failure != null) throw this.failure
      return null
    }
    signal?.throwIfAborted()
    return await new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiter = undefined
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiter = {
        resolve: (c) => { signal?.removeEventListener('abort', onAbort); resolve(c) },
        reject: (e) => { signal?.removeEventListener('abort', onAbort); reject(e) }
      }
    })
  }
}

/** Adapt a connected Node socket (TCP or unix). The pipe owns the socket. */
export function socketPipe (socket: Socket): BytePipe {
  const queue = new ChunkQueue(() => socket.pause(), () => socket.resume())
  socket.on('data', (chunk: Buffer) => { queue.push(chunk) })
  socket.on('end', () => { queue.end() })
  socket.on('error', (err) => { queue.end(err) })
  socket.on('close', () => { queue.end(new Error('socket closed')) })
  // a socket handed over after a header was read may have been paused explicitly, and
  // adding a 'data' listener does not undo that; the queue pauses it again when full
  socket.resume()
  return {
    async write (data, options) {
      if (socket.write(data)) return
      const signal = options?.signal ?? AbortSignal.timeout(DEFAULT_WAIT_MS)
      await raceSignal(new Promise<void>((resolve, reject) => {
        const onDrain = (): void => { socket.off('close', onClose); resolve() }
        const onClose = (): void => { socket.off('drain', onDrain); reject(new Error('socket closed while writing')) }
        socket.once('drain', onDrain)
        socket.once('close', onClose)
      }), signal)
    },
    read: async (options) => await queue.next(options?.signal),
    async end (options) {
      await raceSignal(new Promise<void>((resolve) => socket.end(resolve)), options?.signal ?? AbortSignal.timeout(DEFAULT_WAIT_MS))
    },
    destroy () { socket.destroy() }
  }
}

/** The subset of a libp2p v3 Stream / MultiaddrConnection this adapter uses. */
export interface MessageStreamLike {
  send (data: Uint8Array): boolean
  onDrain (options?: { signal?: AbortSignal }): Promise<void>
  /** Bytes queued in the stream itself (libp2p v3 message streams have it). */
  readonly writeBufferLength?: number
  close (options?: { signal?: AbortSignal }): Promise<void>
  abort (err: Error): void
  pause (): void
  resume (): void
  addEventListener (type: string, listener: (evt: any) => void): void
  removeEventListener (type: string, listener: (evt: any) => void): void
}

/** A writer waits once the stream holds more than this (the daemon's bridge uses the same). */
const WRITE_QUEUE_LIMIT = 256 << 10

/** Resolves with the type of the next of `types` on `stream`; rejects if `signal` aborts first. */
async function nextEvent (stream: MessageStreamLike, types: string[], signal: AbortSignal): Promise<string> {
  let done: (evt: { type: string }) => void = () => {}
  const next = new Promise<string>(resolve => { done = evt => { resolve(evt.type) } })
  for (const t of types) stream.addEventListener(t, done)
  try {
    return await raceSignal(next, signal)
  } finally {
    for (const t of types) stream.removeEventListener(t, done)
  }
}

/** Adapt a libp2p v3 message stream (a Stream, or the daemon client's MultiaddrConnection). */
export function messageStreamPipe (stream: MessageStreamLike): BytePipe {
  const queue = new ChunkQueue(() => stream.pause(), () => stream.resume())
  stream.addEventListener('message', (evt: { data: Uint8Array | Uint8ArrayList }) => {
    const data = evt.data
    queue.push(data instanceof Uint8Array ? data : data.subarray())
  })
  stream.addEventListener('remoteCloseWrite', () => { queue.end() })
  stream.addEventListener('close', (evt: { error?: Error }) => { queue.end(evt.error) })
  return {
    async write (data, options) {
      if (stream.send(data)) return
      const signal = options?.signal ?? AbortSignal.timeout(DEFAULT_WAIT_MS)
      if (stream.writeBufferLength === undefined) {
        await stream.onDrain({ signal })
        return
      }
      // send() is also false when a yamux stream's send window is shut, yet onDrain() then
      // resolves at once (it waits only for a full transport), so a writer following it
      // queues without bound: 256 MiB sat in one stream during a 1 GiB run. Wait until the
      // stream's own queue is short instead, as the daemon's bridge does.
      while (stream.writeBufferLength > WRITE_QUEUE_LIMIT) {
        if (await nextEvent(stream, ['drain', 'idle', 'close'], signal) === 'close') return // the next send() throws
      }
    },
    read: async (options) => await queue.next(options?.signal),
    async end (options) {
      await stream.close({ signal: options?.signal ?? AbortSignal.timeout(DEFAULT_WAIT_MS) })
    },
    destroy () { stream.abort(new Error('destroyed by benchmark')) }
  }
}
