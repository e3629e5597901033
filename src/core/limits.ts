/**
 * Limits the core enforces for both planes, beyond the stream limits of the stream table:
 * connections (`-maxConnections`) and long-lived feeds (`-maxSubscriptions`: pubsub
 * subscriptions and event streams). Each refusal is `ERR_LIMIT_REACHED` (HTTP 429, p2pd
 * ERROR) naming the flag, so the program knows which knob to turn.
 */
import { Errors } from '../errors.js'
import type { CoreContext } from './context.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Most addresses in one request (connect, add peer, open stream), and kept for one peer.
 * js-libp2p's peer store checks a peer's addresses for duplicates in time quadratic in
 * their number: 10,000 in one p2pd CONNECT held the event loop for 9 s, and adding 256 at a
 * time over HTTP grew without a bound (6 s a request at 15,360).
 */
export const MAX_ADDRS_PER_REQUEST = 256
export const MAX_ADDRS_PER_PEER = 1024

/**
 * Adds addresses for a peer to the peer store within the limits above.
 *
 * @throws ERR_BAD_REQUEST for too many in one request, ERR_LIMIT_REACHED when the peer would have too many
 */
export async function mergeAddresses (ctx: CoreContext, peerId: PeerId, addrs: Multiaddr[]): Promise<void> {
  if (addrs.length === 0) return
  if (addrs.length > MAX_ADDRS_PER_REQUEST) throw Errors.badRequest(`${addrs.length} addresses in one request; at most ${MAX_ADDRS_PER_REQUEST}`)
  const known = await ctx.node.peerStore.get(peerId).then(p => p.addresses.map(a => a.multiaddr.toString()), () => [])
  const all = new Set([...known, ...addrs.map(a => a.toString())])
  if (all.size > MAX_ADDRS_PER_PEER) throw Errors.limitReached(`peer ${peerId.toString()} would have ${all.size} addresses; at most ${MAX_ADDRS_PER_PEER} are kept`)
  await ctx.node.peerStore.merge(peerId, { multiaddrs: addrs })
}

/**
 * Refuses a dial that would open a connection beyond `-maxConnections` (0: no limit).
 * A peer already connected is always allowed: its streams reuse the connection.
 * js-libp2p refuses inbound connections above the same number by itself.
 *
 * @throws ERR_LIMIT_REACHED
 */
export function checkConnectionLimit (ctx: CoreContext, peerId: PeerId): void {
  const max = ctx.config.limits.maxConnections
  if (max <= 0) return
  if (ctx.node.getConnections(peerId).length > 0) return
  const open = ctx.node.getConnections().length
  if (open >= max) throw Errors.limitReached(`too many connections (${open} open, limit ${max}, -maxConnections)`)
}

const feeds = new WeakMap<CoreContext, { open: number }>()

/**
 * Takes one of the `-maxSubscriptions` places (0: no limit) for a long-lived feed; the
 * returned function gives it back (idempotent).
 *
 * @throws ERR_LIMIT_REACHED
 */
export function acquireFeed (ctx: CoreContext, what: string): () => void {
  let state = feeds.get(ctx)
  if (state === undefined) { state = { open: 0 }; feeds.set(ctx, state) }
  const max = ctx.config.limits.maxSubscriptions
  if (max > 0 && state.open >= max) throw Errors.limitReached(`too many subscriptions and event streams (limit ${max}, -maxSubscriptions); cannot start ${what}`)
  state.open++
  const s = state
  let released = false
  return () => {
    if (released) return
    released = true
    s.open--
  }
}

/** How many feeds are open (for tests and diagnostics). */
export function openFeeds (ctx: CoreContext): number {
  return feeds.get(ctx)?.open ?? 0
}

/**
 * Throws `ERR_LIMIT_REACHED` if no `-maxSubscriptions` place is free, without taking one:
 * streaming HTTP routes call it before sending their 200 headers, so a refusal is a 429.
 */
export function checkFeedLimit (ctx: CoreContext): void {
  const max = ctx.config.limits.maxSubscriptions
  if (max > 0 && openFeeds(ctx) >= max) throw Errors.limitReached(`too many subscriptions and event streams (limit ${max}, -maxSubscriptions)`)
}
