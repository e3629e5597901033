/**
 * `-mdns`: discover peers on the local network and connect to them, as Kubo does with its
 * mDNS peers. js-libp2p only records discovered peers in the peerstore (it has no
 * auto-dialer since v2), so the dial happens here, for mDNS peers only (peers the DHT
 * finds are not dialed just for being found).
 */
import type { Connection, PeerDiscovery, PeerId, PeerInfo } from '@libp2p/interface'

/** How long one dial to a discovered peer may take. */
export const MDNS_DIAL_TIMEOUT_MS = 10_000

interface DialComponents {
  connectionManager: {
    getConnections: (peer?: PeerId) => Connection[]
    openConnection: (peer: PeerId, options?: { signal?: AbortSignal }) => Promise<Connection>
  }
}

/** The mDNS discovery service factory, wrapped so discovered peers are dialed. */
export async function mdnsDiscovery (): Promise<(components: any) => PeerDiscovery> {
  const { mdns } = await import('@libp2p/mdns')
  const factory = mdns()
  return (components: DialComponents) => {
    const discovery = factory(components as any)
    discovery.addEventListener('peer', (evt: CustomEvent<PeerInfo>) => {
      const peer = evt.detail.id
      // let libp2p store the addresses first (its listener runs after this one)
      setTimeout(() => {
        if (components.connectionManager.getConnections(peer).length > 0) return
        components.connectionManager.openConnection(peer, { signal: AbortSignal.timeout(MDNS_DIAL_TIMEOUT_MS) }).catch(() => {})
      }, 50)
    })
    return discovery
  }
}
