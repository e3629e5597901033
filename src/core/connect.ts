import { Errors, toDaemonError } from '../errors.js'
import { withTimeout } from './context.js'
import { checkConnectionLimit, mergeAddresses } from './limits.js'
import type { CoreContext, OperationOptions } from './context.js'
import type { Connection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Options of `doConnect`. */
export interface ConnectOptions extends OperationOptions {
  /** Timeout in milliseconds. @default 60000 */
  timeoutMs?: number
}

/**
 * Connects to a peer, at `addrs` if given (they are added to the peerstore first, as p2pd
 * does) or at the addresses the daemon knows.
 */
export async function doConnect (ctx: CoreContext, peerId: PeerId, addrs: Multiaddr[], options: ConnectOptions = {}): Promise<Connection> {
  if (peerId.equals(ctx.node.peerId)) throw Errors.badRequest('cannot connect to self')
  checkConnectionLimit(ctx, peerId)
  await mergeAddresses(ctx, peerId, addrs)
  const signal = withTimeout(options.signal, options.timeoutMs)
  try {
    try {
      return await ctx.node.dial(peerId, { signal })
    } catch (err) {
      // js-libp2p joins a dial to this peer that is already under way (another request's)
      // and does not try addresses added after it started: this request's own addresses
      // get one try of their own, within the same deadline
      if (signal.aborted) throw err
      const id = peerId.toString()
      // (an address that names another peer is not this peer's: it is never dialed here)
      const own = addrs.flatMap(a => {
        const p2p = a.getComponents().find(c => c.name === 'p2p')
        if (p2p === undefined) return [a.encapsulate(`/p2p/${id}`)]
        return p2p.value === id ? [a] : []
      })
      if (own.length === 0) throw err
      return await ctx.node.dial(own, { signal })
    }
  } catch (err) {
    const e = toDaemonError(err)
    // a refused TCP dial surfaces as a bare ECONNREFUSED, which toDaemonError calls a callback failure
    if (e.code === 'ERR_INTERNAL' || e.code === 'ERR_NOT_FOUND' || e.code === 'ERR_CALLBACK_FAILED') throw Errors.dialFailed(`could not connect to ${peerId.toString()}: ${e.message}`, { cause: err })
    throw e
  }
}

/** Closes every connection to a peer. */
export async function doDisconnect (ctx: CoreContext, peerId: PeerId, options: OperationOptions = {}): Promise<void> {
  await ctx.node.hangUp(peerId, { signal: withTimeout(options.signal, 10_000) })
}
