/**
 * Connection manager operations (p2pd CONNMANAGER, plus protect/unprotect). Tags live in
 * the peerstore, where js-libp2p's connection pruner reads them; TRIM closes the
 * least-valued connections above the low water mark, sparing protected peers and
 * connections younger than the grace period (go-libp2p's semantics).
 */
import { KEEP_ALIVE } from '@libp2p/interface'
import { Errors } from '../errors.js'
import type { CoreContext } from './context.js'
import type { PeerId } from '@libp2p/interface'

/** Tags a peer with a weight (higher weights are kept longer). */
export async function doTagPeer (ctx: CoreContext, peer: PeerId, tag: string, weight: number): Promise<void> {
  if (tag === '') throw Errors.badRequest('a tag is required')
  await ctx.node.peerStore.merge(peer, { tags: { [tag]: { value: Math.max(0, Math.min(100, Math.trunc(weight))) } } })
}

/** Removes a tag from a peer. */
export async function doUntagPeer (ctx: CoreContext, peer: PeerId, tag: string): Promise<void> {
  if (tag === '') throw Errors.badRequest('a tag is required')
  await ctx.node.peerStore.merge(peer, { tags: { [tag]: undefined } })
}

/** Protects a peer's connections from trimming (js-libp2p keep-alive tag). */
export async function doProtectPeer (ctx: CoreContext, peer: PeerId, tag: string): Promise<void> {
  await ctx.node.peerStore.merge(peer, { tags: { [`${KEEP_ALIVE}-${tag === '' ? 'libp2pd' : tag}`]: { value: 1 } } })
}

/** Removes a protection added by `doProtectPeer`. */
export async function doUnprotectPeer (ctx: CoreContext, peer: PeerId, tag: string): Promise<void> {
  await ctx.node.peerStore.merge(peer, { tags: { [`${KEEP_ALIVE}-${tag === '' ? 'libp2pd' : tag}`]: undefined } })
}

/** Closes connections down to the low water mark; returns how many were closed. */
export async function doTrim (ctx: CoreContext): Promise<number> {
  const { lowWater, gracePeriodMs } = ctx.config.connManager
  const conns = ctx.node.getConnections()
  if (conns.length <= lowWater) return 0
  const now = Date.now()
  const scored = await Promise.all(conns.map(async c => {
    let value = 0
    let keep = false
    try {
      const peer = await ctx.node.peerStore.get(c.remotePeer)
      for (const [name, t] of peer.tags) {
        if (name.startsWith(KEEP_ALIVE)) keep = true
        value += t.value
      }
    } catch {}
    return { c, value, keep: keep || now - c.timeline.open < gracePeriodMs }
  }))
  const candidates = scored.filter(s => !s.keep).sort((a, b) => a.value - b.value || a.c.timeline.open - b.c.timeline.open)
  const excess = conns.length - lowWater
  const victims = candidates.slice(0, excess)
  await Promise.all(victims.map(async v => { await v.c.close().catch(() => { v.c.abort(new Error('trimmed')) }) }))
  return victims.length
}
