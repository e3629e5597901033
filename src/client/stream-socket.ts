/**
 * A libp2p stream as the program sees it: the connected unix socket of the stream (a Node
 * `Duplex` with `allowHalfOpen`), carrying the daemon's `Stream` info. `end()` half-closes
 * (the remote reads EOF and can still answer); `destroy()` before both directions finished
 * RESETS the stream: the daemon is told first (`DELETE /api/daemon/streams/<id>`), then the
 * socket closes, so the remote sees a reset rather than a clean end.
 */
import { Socket } from 'node:net'
import { StreamResetError, abortError, unreachableError } from './errors.js'
import type { StreamInfo } from './types.js'

/** What a stream socket asks the daemon: reset a stream, and whether it still exists. */
export interface StreamOps {
  /** Resets a stream; errors (e.g. already gone) are ignored by the caller. */
  reset: (id: string) => Promise<void>
  /** False once the daemon has forgotten the stream (it ended or was reset). */
  exists: (id: string) => Promise<boolean>
}

/** How long a reset waits for the daemon before closing the socket anyway. */
const RESET_TIMEOUT_MS = 5000

/** A connected stream socket. */
export class Libp2pdStream extends Socket {
  /** The daemon's description of the stream (`id`, `protocol`, `remoteID`, ...). */
  readonly info: StreamInfo
  private readonly ops: StreamOps
  private resetting = false
  /** Set once connected: errors of the connect itself are `connectStream`'s to explain. */
  private established = false

  constructor (info: StreamInfo, ops: StreamOps) {
    super({ allowHalfOpen: true })
    this.info = info
    this.ops = ops
    this.once('connect', () => { this.established = true })
    this.once('end', () => { this.checkAfterEof() })
  }

  /**
   * The daemon closes the socket both when the remote half-closes and when it resets; on a
   * unix socket both look like EOF. If we can still write, ask the daemon: a stream it has
   * forgotten was reset, and the socket is destroyed with `StreamResetError` so the program
   * does not wait for nothing.
   */
  private checkAfterEof (): void {
    if (this.writableEnded || this.destroyed) return
    this.ops.exists(this.info.id).then(alive => {
      if (alive || this.destroyed || this.writableEnded) return
      this.resetting = true
      this.destroy(new StreamResetError('the stream was reset', 'ERR_STREAM_RESET', 0))
    }, () => {})
  }

  /** Resets the stream (the same as `destroy()`); resolves once the socket is closed. */
  async reset (): Promise<void> {
    if (this.closed) return
    await new Promise<void>(resolve => {
      this.once('close', () => { resolve() })
      this.destroy()
    })
  }

  /**
   * Reading to EOF leaves the write side open (half-close: answer after the remote's
   * EOF); leaving the loop early (`break`, `throw`) resets the stream. Node's own socket
   * iterator would destroy the socket at EOF too, which here would be a reset.
   */
  override [Symbol.asyncIterator] (): AsyncIterableIterator<any> {
    const inner = this.iterator({ destroyOnReturn: false })
    const destroy = (): void => { this.destroy() }
    return (async function * () {
      let completed = false
      try {
        yield * inner
        completed = true
      } finally {
        if (!completed) destroy()
      }
    })()
  }

  /** True once both directions finished cleanly; destroying then is a normal close. */
  get finished (): boolean {
    return this.readableEnded && this.writableFinished
  }

  override _destroy (err: Error | null, callback: (err?: Error | null) => void): void {
    if (this.established) err = asStreamReset(err)
    // a socket that never connected has nothing to reset: `connectStream` decides what
    // its failure means, and resets the daemon's stream itself when it gives up on it
    const needsReset = this.established && !this.finished && !this.resetting
    if (!needsReset) { super._destroy(err, callback); return }
    this.resetting = true
    // Node calls `_destroy` after marking the socket destroyed: writes already fail, but
    // the handle stays open until the daemon has turned this into a reset. It must stop
    // reading now: Node's read callback throws (ERR_OUT_OF_RANGE) on data for a destroyed
    // socket, and nobody reads what comes after a destroy anyway.
    stopReading(this)
    let closed = false
    const close = (): void => {
      if (closed) return
      closed = true
      clearTimeout(timer)
      super._destroy(err, callback)
    }
    const timer = setTimeout(close, RESET_TIMEOUT_MS)
    this.ops.reset(this.info.id).catch(() => {}).finally(close)
  }
}

/** Stops the socket's handle from reading (Node has no public call for it). */
function stopReading (socket: Socket): void {
  const handle = (socket as unknown as { _handle?: { reading?: boolean, readStop?: () => number } | null })._handle
  if (handle == null) return
  handle.reading = false
  handle.readStop?.()
}

/**
 * The daemon closes its end of a stream socket abruptly only when the stream is reset or
 * aborted, and the kernel tells the program so as `ECONNRESET` (the daemon closed with
 * bytes of ours unread, or closed the stream's listener while our connection still waited
 * to be accepted, when a reset came first) or as `EPIPE` on a write. Either is the stream's
 * reset, and the program gets the `StreamResetError` a reset seen at EOF gives.
 */
function asStreamReset (err: Error | null): Error | null {
  const code = (err as { code?: unknown } | null)?.code
  if (code !== 'ECONNRESET' && code !== 'EPIPE') return err
  return new StreamResetError(`the stream was reset (${String(err?.message)})`, 'ERR_STREAM_RESET', 0, { cause: err })
}

/**
 * Connects to the stream's socket. Rejects with `AbortError` if `signal` aborts first, with
 * `StreamResetError` if the stream was reset before we connected (the remote reset it, or
 * the daemon's accept timeout passed), and with `DaemonUnreachableError` if the socket is
 * gone for another reason.
 */
export async function connectStream (info: StreamInfo, ops: StreamOps, signal?: AbortSignal): Promise<Libp2pdStream> {
  const socket = new Libp2pdStream(info, ops)
  if (signal?.aborted === true) {
    await ops.reset(info.id).catch(() => {})
    throw abortError(signal)
  }
  return await new Promise<Libp2pdStream>((resolve, reject) => {
    const giveUp = (): void => { void ops.reset(info.id).catch(() => {}) }
    const onAbort = (): void => {
      cleanup()
      socket.destroy()
      giveUp()
      reject(abortError(signal as AbortSignal))
    }
    const onError = (err: Error & { code?: string }): void => {
      cleanup()
      socket.destroy()
      const unreachable = unreachableError(`unix:${info.socketPath}`, err)
      // (ECONNRESET: the daemon closed the stream's listener while our connect was queued)
      if (err.code !== 'ENOENT' && err.code !== 'ECONNREFUSED' && err.code !== 'ECONNRESET') { giveUp(); reject(unreachable); return }
      // the socket is gone: either the stream was reset before we connected (the daemon has
      // forgotten it) or the daemon itself is gone; one request tells them apart
      ops.exists(info.id).then(alive => {
        if (alive) giveUp()
        reject(alive ? unreachable : new StreamResetError('the stream was reset before the program connected', 'ERR_STREAM_RESET', 0))
      }, () => { reject(unreachable) })
    }
    const onConnect = (): void => {
      cleanup()
      resolve(socket)
    }
    const cleanup = (): void => {
      signal?.removeEventListener('abort', onAbort)
      socket.off('error', onError)
      socket.off('connect', onConnect)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.once('error', onError)
    socket.once('connect', onConnect)
    socket.connect({ path: info.socketPath })
  })
}
