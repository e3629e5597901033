/**
 * The hot path: one local socket ⇄ one libp2p stream. Every byte of every stream, from
 * either control plane and in either direction, goes through `bridgeStream`.
 *
 * - Backpressure both ways without polling: a full libp2p send buffer pauses the socket
 *   until the stream's `drain`; a full socket pauses the stream (yamux then stops granting
 *   window to the remote) until the socket's `drain`. What waits in the socket for the
 *   program is the stream's backlog (`backlog.ts`): once the window is large, the muxer
 *   grants it as window only after the program has read it, so a stream holds at most one
 *   window of the largest size (16 MiB) for a slow program, not two.
 * - No copies: socket chunks go to `stream.send` as they are (the full reads of one I/O
 *   phase together, as one list); a `Uint8ArrayList` from the stream is written chunk by
 *   chunk.
 * - Half-close both ways: the program's EOF closes the stream's write side; the remote's EOF
 *   (after every buffered byte) ends the socket's write side. The socket must be created with
 *   `allowHalfOpen: true`.
 * - Reset both ways: a stream reset destroys the socket; a socket error, or the program
 *   closing while the remote still sends, aborts the stream.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { trackBacklog } from './backlog.js'
import type { Stream } from '@libp2p/interface'
import type { Socket } from 'node:net'

/** How a bridged stream ended. */
export interface BridgeResult {
  /** Bytes the program sent to the remote. */
  bytesOut: number
  /** Bytes the remote sent to the program. */
  bytesIn: number
  /** Set when the stream ended by a reset or an error rather than a clean close. */
  error?: Error
}

/** Options of `bridgeStream`. */
export interface BridgeOptions {
  /** Called once with the running byte counters object so owners can read live totals. */
  counters?: { bytesIn: number, bytesOut: number }
}

/** The largest receive window a muxer may grant (yamux `maxStreamWindowSize` default) plus a frame. */
const MAX_PAUSED_BUFFER = (16 << 20) + (256 << 10)

/** The size of a full read from a socket (libuv's read buffer): more data is likely waiting. */
const FULL_READ = 64 << 10

/** Resume reading the program's socket when the stream's send queue is below this. */
const RESUME_BELOW = 256 << 10

class StreamClosedUnderneathError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ConnectionClosedError'
  }
}

/** A reset seen on the program's side of the bridge (by the program, or before it connected). */
class StreamResetByProgramError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'StreamResetError'
  }
}

/**
 * Pipes `socket` and `stream` into each other until both are finished; resolves (never
 * rejects) when both are closed. Either side can be torn down from outside (`socket.destroy()`
 * or `stream.abort()`): the other follows.
 */
export async function bridgeStream (socket: Socket, stream: Stream, options: BridgeOptions = {}): Promise<BridgeResult> {
  const counters = options.counters ?? { bytesIn: 0, bytesOut: 0 }
  let error: Error | undefined
  // While the socket is full the stream is paused and the muxer stops granting window, but
  // the remote may still send what the current window allows (yamux: up to 16 MiB). The
  // read buffer must hold that much, or js-libp2p resets the stream (its default is 4 MiB).
  if (stream.maxReadBufferLength < MAX_PAUSED_BUFFER) stream.maxReadBufferLength = MAX_PAUSED_BUFFER
  let streamClosed = stream.status === 'closed' || stream.status === 'aborted' || stream.status === 'reset'
  let socketClosed = socket.destroyed

  return await new Promise<BridgeResult>(resolve => {
    const maybeDone = (): void => {
      if (!streamClosed || !socketClosed) return
      stream.removeEventListener('message', onStreamMessage)
      stream.removeEventListener('drain', onStreamDrain)
      stream.removeEventListener('idle', onStreamDrain)
      stream.removeEventListener('end', onStreamEnd)
      stream.removeEventListener('close', onStreamClose)
      socket.off('drain', onSocketDrain)
      trackBacklog(stream, undefined)
      resolve({ bytesIn: counters.bytesIn, bytesOut: counters.bytesOut, error })
    }
    const fail = (err: Error): void => {
      error ??= err
      if (!streamClosed) stream.abort(err)
      if (!socket.destroyed) socket.destroy()
    }

    // program -> remote
    const send = (data: Uint8Array | Uint8ArrayList): void => {
      try {
        if (!stream.send(data)) socket.pause()
      } catch (err: any) {
        fail(err)
      }
    }
    // A full read means the program is streaming and more is likely waiting in the socket:
    // the reads of this I/O phase are gathered and sent as one, which gives the muxer larger
    // frames (yamux frames one send at a time, and noise ends each frame with a short
    // message of its own). A short read flushes at once, so a request waits for nothing.
    let gathered: Uint8ArrayList | undefined
    const flushGathered = (): void => {
      const data = gathered
      gathered = undefined
      if (data !== undefined && !streamClosed) send(data)
    }
    const onSocketData = (chunk: Buffer): void => {
      counters.bytesOut += chunk.byteLength
      if (chunk.byteLength >= FULL_READ) {
        if (gathered === undefined) {
          gathered = new Uint8ArrayList()
          setImmediate(flushGathered)
        }
        gathered.append(chunk)
      } else if (gathered !== undefined) {
        gathered.append(chunk)
        flushGathered()
      } else {
        send(chunk)
      }
    }
    // js-libp2p also emits 'drain' on a stream when the shared connection drains, even if
    // this stream's send window is still closed; resume only once its own queue is short,
    // or a stalled remote would let the queue grow by a chunk per spurious 'drain'.
    // The check runs after the stream's own 'drain' handler has flushed its queue (it does so
    // in a microtask); and 'idle' (queue empty) resumes too, because once the queue is sent
    // no further 'drain' comes: without it the socket would stay paused for good.
    const onStreamDrain = (): void => {
      queueMicrotask(() => { if (stream.writeBufferLength <= RESUME_BELOW) socket.resume() })
    }
    const onSocketEnd = (): void => {
      flushGathered()
      // the program shut down its write side: carry the half-close to the remote
      if (streamClosed || stream.writeStatus !== 'writable') return
      stream.close().catch((err: Error) => { fail(err) })
    }

    // remote -> program
    const onStreamMessage = (evt: { data: Uint8Array | Iterable<Uint8Array> }): void => {
      const data = evt.data
      let ok = true
      if (data instanceof Uint8Array) {
        counters.bytesIn += data.byteLength
        ok = socket.write(data)
      } else {
        // a list of chunks leaves in one writev syscall instead of one write per chunk
        socket.cork()
        for (const buf of data) {
          counters.bytesIn += buf.byteLength
          ok = socket.write(buf)
        }
        socket.uncork()
      }
      if (!ok) {
        if (resuming) pauseAfterResume = true
        else stream.pause()
      }
      if (endDeferred && !bytesPending()) {
        endDeferred = false
        onStreamEnd()
      }
    }
    // `stream.resume()` dispatches the buffered data first and grants the remote new window
    // after: a pause from inside that dispatch would be undone by the grant (and the remote
    // could then overflow the read buffer, which resets the stream). So a full socket during
    // resume() pauses once resume() has returned.
    let resuming = false
    let closedUnderneath = false
    let pauseAfterResume = false
    // a closed stream may still hold paused data in its read buffer: keep resuming until 'end'
    const onSocketDrain = (): void => {
      if (stream.readStatus !== 'paused') return
      resuming = true
      try {
        stream.resume()
      } finally {
        resuming = false
      }
      if (pauseAfterResume) {
        pauseAfterResume = false
        // (re-read: resume() changed it, which the type narrowing cannot see)
        if ((stream.readStatus as string) === 'readable') stream.pause()
      }
    }
    // js-libp2p can say 'end' while bytes are still on their way to the read buffer: when a
    // protocol negotiation reader (multistream-select) has read past its own message, it
    // hands the rest back with `unshift()`, possibly after the remote's FIN was processed.
    // Those bytes come as a message later; the socket ends after them, not before.
    // (bytes in a read buffer whose readable end is closed will never be dispatched)
    let endDeferred = false
    const bytesPending = (): boolean => stream.readBufferLength > 0 && stream.readStatus !== 'closed' && stream.readStatus !== 'closing'
    const onStreamEnd = (): void => {
      if (bytesPending()) { endDeferred = true; return }
      // every byte the remote sent has been handed to the socket: end our write side
      if (!socket.destroyed && !socket.writableEnded) socket.end()
      // closed by both sides, or closed under the program (nothing it sends can go anywhere):
      // close the socket once the remote's last bytes are flushed to it
      if (streamClosed && !socket.destroyed && (socket.readableEnded || closedUnderneath)) socket.destroySoon()
    }
    const onStreamClose = (evt: Event & { error?: Error }): void => {
      streamClosed = true
      if (evt.error != null) {
        error ??= evt.error
        socket.destroy()
      } else if (!socket.readableEnded && !socket.destroyed) {
        // closed without an error while the program could still send: nobody closed our
        // write side, so the connection under the stream went away (js-libp2p closes its
        // streams without an error when the transport closes). Say so to whoever watches.
        error ??= new StreamClosedUnderneathError('the connection closed before the stream was finished')
        closedUnderneath = true
      }
      if (evt.error == null && !socket.destroyed && stream.readableEnded && !endDeferred && !bytesPending()) {
        // (if not readableEnded, paused data is still buffered: onStreamEnd ends the socket)
        if (!socket.writableEnded) socket.end()
        // both sides closed their write sides: the socket closes once the program closes;
        // closed underneath: the program's writes have nowhere to go, close it now
        if (socket.readableEnded || closedUnderneath) socket.destroySoon()
      }
      maybeDone()
    }

    socket.on('data', onSocketData)
    socket.on('end', onSocketEnd)
    socket.on('drain', onSocketDrain)
    socket.on('error', (err: Error) => { fail(err) })
    socket.on('close', () => {
      socketClosed = true
      if (!streamClosed) {
        // The program is gone. If it had finished both ways the stream is already closing;
        // otherwise bytes from the remote have nowhere to go: reset.
        const finished = socket.readableEnded && stream.readableEnded && !endDeferred
        if (!finished) fail(new StreamResetByProgramError('the program closed the stream socket'))
      }
      maybeDone()
    })

    trackBacklog(stream, () => socket.writableLength)
    stream.addEventListener('message', onStreamMessage as any)
    stream.addEventListener('drain', onStreamDrain)
    stream.addEventListener('idle', onStreamDrain)
    stream.addEventListener('end', onStreamEnd)
    stream.addEventListener('close', onStreamClose as any)
    if (stream.readableEnded) onStreamEnd()
    // a socket handed over after a control exchange (p2pd STREAM_OPEN) may have seen its EOF
    // already, while the framing reader consumed the request: 'end' will not come again
    if (socket.readableEnded) onSocketEnd()
    if (streamClosed) {
      // reset or aborted before the program connected: a reset for the program too
      const early = stream.status === 'closed' ? undefined : new StreamResetByProgramError(`the stream was ${stream.status} before the program connected`)
      onStreamClose(Object.assign(new Event('close'), { error: early }))
    }
    if (socketClosed) socket.emit('close')
  })
}
