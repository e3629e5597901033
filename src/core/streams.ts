/**
 * Streams: opening them, and giving them to programs (as a socket of their own for the
 * HTTP plane, or on a control connection for p2pd). Every stream goes into the one table.
 */
import { Errors, toDaemonError } from '../errors.js'
import { serveStreamSocket } from '../streams/stream-socket.js'
import { DEFAULT_TIMEOUT_MS } from './context.js'
import { deadline } from './deadline.js'
import { checkConnectionLimit, mergeAddresses } from './limits.js'
import type { CoreContext, OperationOptions } from './context.js'
import type { Direction, Plane, StreamEntry } from '../streams/table.js'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Max concurrent outbound streams per protocol per connection. */
const MAX_OUTBOUND_STREAMS = 16384

/** Options of `doOpenStream`. */
export interface OpenStreamOptions extends OperationOptions {
  /** Addresses to dial (added to the peerstore). */
  addrs?: Multiaddr[]
  /** Timeout for dial and protocol negotiation. @default 60000 */
  timeoutMs?: number
}

/**
 * Settles with `work`, or rejects with `signal`'s reason as soon as it aborts, whichever
 * comes first; a result that arrives after the deadline goes to `discard`. js-libp2p takes
 * the signal for dial and negotiation, but one await in that path can outlast it: a 2 s
 * open to a frozen (SIGSTOPped) peer once answered after 22 s, when the connection monitor
 * gave up on the connection. The caller's deadline holds whatever is inside.
 */
async function beforeDeadline<T> (work: Promise<T>, signal: AbortSignal, discard: (late: T) => void): Promise<T> {
  if (signal.aborted) {
    work.then(discard, () => {})
    throw signal.reason
  }
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([work, aborted])
  } catch (err) {
    if (signal.aborted) work.then(discard, () => {})
    throw err
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}

/** Opens a libp2p stream to `peerId` on the first of `protocols` the peer supports. */
export async function doOpenStream (ctx: CoreContext, peerId: PeerId, protocols: string[], options: OpenStreamOptions = {}): Promise<{ stream: Stream, connection: Connection }> {
  if (protocols.length === 0) throw Errors.badRequest('at least one protocol is required')
  if (peerId.equals(ctx.node.peerId)) throw Errors.badRequest('cannot open a stream to self')
  // the place is held through dial and negotiation, so concurrent opens cannot overshoot
  const release = ctx.streams.reserve(peerId.toString(), protocols.length === 1 ? protocols[0] : undefined)
  const limit = deadline(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.signal)
  const signal = limit.signal
  try {
    checkConnectionLimit(ctx, peerId)
    if (options.addrs !== undefined) await mergeAddresses(ctx, peerId, options.addrs)
    const { connection, stream } = await beforeDeadline((async () => {
      const connection = await ctx.node.dial(peerId, { signal })
      const stream = await connection.newStream(protocols, { signal, runOnLimitedConnection: true, maxOutboundStreams: MAX_OUTBOUND_STREAMS })
      return { connection, stream }
    })(), signal, late => { late.stream.abort(Errors.timeout('the stream was opened after its deadline')) })
    if (protocols.length > 1) {
      // with several candidates the per-protocol limit can only be checked once one is chosen
      try { ctx.streams.checkLimits(peerId.toString(), stream.protocol) } catch (err: any) { stream.abort(err); throw err }
    }
    return { stream, connection }
  } catch (err) {
    const e = toDaemonError(err)
    // a refused TCP dial surfaces as a bare ECONNREFUSED, which toDaemonError calls a callback failure
    if (e.code === 'ERR_INTERNAL' || e.code === 'ERR_NOT_FOUND' || e.code === 'ERR_CALLBACK_FAILED') throw Errors.dialFailed(`could not open a stream to ${peerId.toString()}: ${e.message}`, { cause: err })
    throw e
  } finally {
    limit.clear()
    // the caller adds the stream to the table in the same tick it gets it
    release()
  }
}

/** A connection's local address, worked out once per connection (see `localAddrOf`). */
const localAddrs = new WeakMap<Connection, string>()

/**
 * The local address a stream's table entry shows. js-libp2p's connections do not carry
 * their local address, and the fallback (the node's first address) runs the address
 * manager, about 6% of a daemon's CPU when every request opens a stream. It is a label
 * worked out once per connection: the first stream's answer stays for the connection's life.
 */
function localAddrOf (ctx: CoreContext, connection: Connection): string {
  let addr = localAddrs.get(connection)
  if (addr === undefined) {
    const la = (connection as unknown as { localAddr?: { toString: () => string } }).localAddr
    addr = la?.toString() ?? ctx.node.getMultiaddrs()[0]?.decapsulateCode(421).toString() ?? ''
    localAddrs.set(connection, addr)
  }
  return addr
}

/** Records a stream in the table. */
export function trackStream (ctx: CoreContext, stream: Stream, connection: Connection, direction: Direction, plane: Plane, socketPath?: string): StreamEntry {
  const id = ctx.streams.allocateId()
  return ctx.streams.add({
    id,
    protocol: stream.protocol,
    direction,
    plane,
    localID: ctx.node.peerId.toString(),
    localAddr: localAddrOf(ctx, connection),
    socketPath: socketPath === '' ? ctx.socketDir.socketPath(id) : socketPath,
    stream,
    connection
  })
}

/**
 * Gives a stream to the HTTP plane's program: a unix socket of its own at `socketPath`,
 * reset if nobody connects within the accept timeout.
 */
export async function exposeStreamSocket (ctx: CoreContext, stream: Stream, connection: Connection, direction: Direction): Promise<StreamEntry> {
  const entry = trackStream(ctx, stream, connection, direction, 'http', '')
  try {
    await serveStreamSocket(entry, ctx.streams, { acceptTimeoutMs: ctx.config.streamAcceptTimeoutMs })
  } catch (err) {
    ctx.streams.remove(entry.id, err as Error)
    stream.abort(err as Error)
    throw err
  }
  return entry
}
