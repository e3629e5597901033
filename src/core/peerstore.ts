/**
 * Peerstore queries (the JS dialect's PEERSTORE request, and HTTP).
 */
import { Errors } from '../errors.js'
import type { CoreContext } from './context.js'
import type { PeerId, PublicKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** What the peerstore knows about one peer. */
export interface PeerRecord {
  peerId: PeerId
  addrs: Multiaddr[]
  protocols: string[]
  publicKey?: PublicKey
  agentVersion?: string
  protocolVersion?: string
  tags: Record<string, number>
}

/**
 * Reads a peer from the peerstore.
 *
 * @throws ERR_PEER_NOT_FOUND
 */
export async function doGetPeerRecord (ctx: CoreContext, peer: PeerId): Promise<PeerRecord> {
  try {
    const p = await ctx.node.peerStore.get(peer)
    const text = (k: string): string | undefined => {
      const v = p.metadata.get(k)
      return v === undefined ? undefined : new TextDecoder().decode(v)
    }
    return {
      peerId: p.id,
      addrs: p.addresses.map(a => a.multiaddr),
      protocols: p.protocols,
      publicKey: p.id.publicKey,
      agentVersion: text('AgentVersion'),
      protocolVersion: text('ProtocolVersion'),
      tags: Object.fromEntries([...p.tags].map(([k, t]) => [k, t.value]))
    }
  } catch (err: any) {
    if (err.name === 'NotFoundError') throw Errors.peerNotFound(`peer ${peer.toString()} not in the peerstore`)
    throw err
  }
}

/** The protocols a peer is known to support (empty if unknown, as the JS daemon). */
export async function doGetProtocols (ctx: CoreContext, peer: PeerId): Promise<string[]> {
  try {
    return (await ctx.node.peerStore.get(peer)).protocols
  } catch (err: any) {
    if (err.name === 'NotFoundError') return []
    throw err
  }
}
