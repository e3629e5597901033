/**
 * Peers: the peerstore (the spec's `Peer` routes) and live connections (p2pd LIST_PEERS).
 */
import { Errors } from '../errors.js'
import { mergeAddresses } from './limits.js'
import type { CoreContext } from './context.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A peer as the daemon knows it. */
export interface PeerView {
  peerId: PeerId
  addrs: Multiaddr[]
  connected: boolean
  protocols: string[]
}

/** Adds addresses for a peer to the peerstore (the spec's `POST /api/daemon/peers`). */
export async function doAddPeer (ctx: CoreContext, peerId: PeerId, addrs: Multiaddr[]): Promise<void> {
  if (peerId.equals(ctx.node.peerId)) throw Errors.badRequest('cannot add the daemon\'s own peer ID')
  await mergeAddresses(ctx, peerId, addrs)
}

/** Every peer in the peerstore, with connection status. */
export async function doListPeers (ctx: CoreContext): Promise<PeerView[]> {
  const peers = await ctx.node.peerStore.all()
  const connected = new Set(ctx.node.getPeers().map(p => p.toString()))
  const out: PeerView[] = peers
    .filter(p => !p.id.equals(ctx.node.peerId))
    .map(p => ({
      peerId: p.id,
      addrs: p.addresses.map(a => a.multiaddr),
      connected: connected.delete(p.id.toString()),
      protocols: p.protocols
    }))
  // connected peers not (yet) in the peerstore
  for (const conn of ctx.node.getConnections()) {
    if (!connected.has(conn.remotePeer.toString())) continue
    connected.delete(conn.remotePeer.toString())
    out.push({ peerId: conn.remotePeer, addrs: [conn.remoteAddr], connected: true, protocols: [] })
  }
  return out
}

/**
 * One peer from the peerstore.
 *
 * @throws ERR_PEER_NOT_FOUND if the daemon knows nothing about it
 */
export async function doGetPeer (ctx: CoreContext, peerId: PeerId): Promise<PeerView> {
  const conns = ctx.node.getConnections(peerId)
  try {
    const p = await ctx.node.peerStore.get(peerId)
    const addrs = p.addresses.map(a => a.multiaddr)
    return { peerId, addrs: addrs.length > 0 ? addrs : conns.map(c => c.remoteAddr), connected: conns.length > 0, protocols: p.protocols }
  } catch (err: any) {
    if (err.name !== 'NotFoundError') throw err
    if (conns.length > 0) return { peerId, addrs: conns.map(c => c.remoteAddr), connected: true, protocols: [] }
    throw Errors.peerNotFound(`peer ${peerId.toString()} not in the peerstore`)
  }
}

/** Live connections: one entry per connection, as p2pd's LIST_PEERS. */
export function doListConnections (ctx: CoreContext): Array<{ peerId: PeerId, addr: Multiaddr, direction: string, limited: boolean }> {
  return ctx.node.getConnections().map(c => ({
    peerId: c.remotePeer,
    addr: c.remoteAddr,
    direction: c.direction,
    limited: c.limits != null
  }))
}
