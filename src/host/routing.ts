import type { DaemonConfig } from '../config/index.js'

/**
 * The kad-DHT service, if enabled. Mode: `-dht` lets kad-dht choose from reachability
 * (p2pd's "full"), unless reachability is forced; `-dhtClient`/`-dhtServer` fix it.
 * Private and loopback addresses are kept in the routing table so that local networks and
 * tests work (p2pd does the same with go-libp2p's LAN/WAN pair).
 */
export async function buildRouting (config: DaemonConfig): Promise<Record<string, unknown>> {
  if (config.dht === 'off') return {}
  let clientMode: boolean | undefined
  if (config.dht === 'client') clientMode = true
  else if (config.dht === 'server') clientMode = false
  else if (config.forceReachability === 'public') clientMode = false
  else if (config.forceReachability === 'private') clientMode = true
  // loaded only when used: module loading is most of a daemon's start-up CPU
  const { kadDHT, passthroughMapper } = await import('@libp2p/kad-dht')
  return {
    dht: kadDHT({
      clientMode,
      peerInfoMapper: passthroughMapper,
      allowQueryWithZeroPeers: true,
      // `/v/<anything>`: an application namespace with no validation and the newest value
      // winning, so programs can PUT_VALUE/GET_VALUE their own records (the default
      // validators accept only /pk and /ipns, which are kept)
      validators: { v: async () => {} },
      selectors: { v: () => 0 }
    })
  }
}
