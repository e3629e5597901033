/**
 * Hands a libp2p stream to a program as a unix socket of its own: listen at the stream's
 * `socketPath` (0600), accept exactly one connection within the accept timeout, remove the
 * file, and bridge. A program that never connects gets the stream reset.
 */
import { chmodSync } from 'node:fs'
import { createServer } from 'node:net'
import { listenOn } from '../net/listen.js'
import { bridgeStream } from './bridge.js'
import type { BridgeResult } from './bridge.js'
import type { StreamEntry, StreamTable } from './table.js'
import type { Socket } from 'node:net'

/** Options of `serveStreamSocket`. */
export interface StreamSocketOptions {
  /** Reset the stream if nobody connects within this many milliseconds. */
  acceptTimeoutMs: number
}

/** A muxer's largest receive window (yamux `maxStreamWindowSize`) plus a frame. */
const PRE_CONNECT_BUFFER = (16 << 20) + (256 << 10)

/**
 * Listens on a stream's socket path. The path is new and inside the daemon's private 0700
 * directory, so the usual case is one bind and one synchronous chmod to 0600: the async
 * `listenOn` costs a thread-pool round trip per chmod plus a second unlink at close, about
 * 4× the CPU per stream. Only a file left by an earlier run (a reused `-socketDir`) takes
 * `listenOn`'s stale-socket replacement. Closing the server removes the file (libuv unlinks
 * a unix socket when its server handle closes).
 */
async function listenStreamSocket (path: string, onConnection: (socket: Socket) => void): Promise<{ close: () => void }> {
  const server = createServer({ allowHalfOpen: true }, onConnection)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ path, exclusive: true }, () => { server.off('error', reject); resolve() })
    })
  } catch (err: any) {
    if (err.code !== 'EADDRINUSE') throw err
    const listener = await listenOn({ kind: 'unix', path }, onConnection, { allowHalfOpen: true })
    return { close: () => { void listener.close() } }
  }
  try {
    chmodSync(path, 0o600)
  } catch (err) {
    server.close()
    throw err
  }
  return { close: () => { server.close() } }
}

class AcceptTimeoutError extends Error {
  constructor (ms: number) {
    super(`no program connected to the stream socket within ${ms} ms`)
    this.name = 'TimeoutError'
  }
}

/**
 * Starts serving `entry.socketPath`. Resolves once the socket listens (the path can then be
 * given to the program); the stream is removed from `table` when it ends, whatever happens.
 */
export async function serveStreamSocket (entry: StreamEntry, table: StreamTable, options: StreamSocketOptions): Promise<void> {
  const path = entry.socketPath
  if (path === undefined) throw new Error('stream entry has no socket path')
  const { stream } = entry
  // Until the program connects nobody reads: pause, so the muxer stops granting window and
  // what the remote sends meanwhile (at most one window) waits in the read buffer, which
  // must hold a full window (yamux: 16 MiB) instead of js-libp2p's 4 MiB default, or the
  // stream is reset when a fast sender meets a program that is slow to connect.
  if (stream.maxReadBufferLength < PRE_CONNECT_BUFFER) stream.maxReadBufferLength = PRE_CONNECT_BUFFER
  if (stream.readStatus === 'readable') stream.pause()
  let accepted = false
  // set once the listener is up; the callbacks below only clear it (it stays a `let` for them)
  // eslint-disable-next-line prefer-const
  let timer: NodeJS.Timeout | undefined

  const finish = (result: Pick<BridgeResult, 'error'>): void => {
    table.remove(entry.id, result.error)
  }

  const onConnection = (socket: Socket): void => {
    if (accepted) { socket.destroy(); return }
    accepted = true
    clearTimeout(timer)
    stream.removeEventListener('close', onEarlyClose)
    // one connection per stream: stop listening, which also removes the socket file
    listener.close()
    socket.setNoDelay?.(true)
    const bridged = bridgeStream(socket, stream, { counters: entry.counters })
    // the bridge listens now: deliver what waited and let the remote send again
    if (stream.readStatus === 'paused') stream.resume()
    void bridged.then(finish)
  }

  // the remote may reset before the program connects
  const onEarlyClose = (evt: Event & { error?: Error }): void => {
    if (accepted) return
    // closed cleanly (the connection went away) with bytes still to deliver: the program
    // may still connect and read them; the accept timeout bounds the wait
    if (evt.error == null && stream.readBufferLength > 0) return
    clearTimeout(timer)
    listener.close()
    finish({ error: evt.error })
  }

  const listener = await listenStreamSocket(path, onConnection)
  stream.addEventListener('close', onEarlyClose as any)
  timer = setTimeout(() => {
    if (accepted) return
    stream.removeEventListener('close', onEarlyClose as any)
    listener.close()
    const err = new AcceptTimeoutError(options.acceptTimeoutMs)
    stream.abort(err)
    finish({ error: err })
  }, options.acceptTimeoutMs)
  timer.unref()
}
