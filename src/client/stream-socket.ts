/**
 * A libp2p stream as the program sees it: the connected unix socket of the stream (a Node
 * `Duplex` with `allowHalfOpen`), carrying the daemon's `Stream` info. `end()` half-closes
 * (the remote reads EOF and can still answer); `destroy()` before both directions finished
 * RESETS the stream: the daemon is told first (`DELETE /api/daemon/streams/<id>`), then the
 * socket closes, so the remote sees a reset rather than a clean end.
 */
import { Socket } from 'node:net'
import { abortError, unreachableError } from './errors.js'
import type { StreamInfo } from './types.js'

/** Resets a stream on the daemon; errors (e.g. already gone) are the resetter's to ignore. */
export type ResetFn = (id: string) => Promise<void>

/** How long a reset waits for the daemon before closing the socket anyway. */
const RESET_TIMEOUT_MS = 5000

/** A connected stream socket. */
export class Libp2pdStream extends Socket {
  /** The daemon's description of the stream (`id`, `protocol`, `remoteID`, ...). */
  readonly info: StreamInfo
  private readonly resetOnDaemon: ResetFn
  private resetting = false

  constructor (info: StreamInfo, reset: ResetFn) {
    super({ allowHalfOpen: true })
    this.info = info
    this.resetOnDaemon = reset
  }

  /** Resets the stream (the same as `destroy()`); resolves once the socket is closed. */
  async reset (): Promise<void> {
    if (this.closed) return
    await new Promise<void>(resolve => {
      this.once('close', () => { resolve() })
      this.destroy()
    })
  }

  /** True once both directions finished cleanly; destroying then is a normal close. */
  get finished (): boolean {
    return this.readableEnded && this.writableFinished
  }

  override _destroy (err: Error | null, callback: (err?: Error | null) => void): void {
    const needsReset = !this.finished && !this.resetting && !this.connecting
    if (!needsReset) { super._destroy(err, callback); return }
    this.resetting = true
    // Node calls `_destroy` after marking the socket destroyed: writes already fail, but
    // the handle stays open until the daemon has turned this into a reset
    let closed = false
    const close = (): void => {
      if (closed) return
      closed = true
      clearTimeout(timer)
      super._destroy(err, callback)
    }
    const timer = setTimeout(close, RESET_TIMEOUT_MS)
    this.resetOnDaemon(this.info.id).catch(() => {}).finally(close)
  }
}

/**
 * Connects to the stream's socket. Rejects with `AbortError` if `signal` aborts first, and
 * with `DaemonUnreachableError` if the socket is gone (e.g. not connected to in time).
 */
export async function connectStream (info: StreamInfo, reset: ResetFn, signal?: AbortSignal): Promise<Libp2pdStream> {
  const socket = new Libp2pdStream(info, reset)
  if (signal?.aborted === true) {
    await reset(info.id).catch(() => {})
    throw abortError(signal)
  }
  return await new Promise<Libp2pdStream>((resolve, reject) => {
    const onAbort = (): void => {
      cleanup()
      socket.destroy()
      reject(abortError(signal as AbortSignal))
    }
    const onError = (err: Error): void => {
      cleanup()
      socket.destroy()
      reject(unreachableError(`unix:${info.socketPath}`, err))
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
