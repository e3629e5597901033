import { gossipsub } from '@chainsafe/libp2p-gossipsub'
import { floodsub, StrictNoSign, StrictSign } from '@libp2p/floodsub'
import type { DaemonConfig } from '../config/index.js'

/**
 * The pubsub service, if enabled. p2pd's signing flags map as: `-pubsubSign=false` ⇒ no
 * signatures; `-pubsubSign` ⇒ sign, and verify strictly unless `-pubsubSignStrict=false`.
 */
export function buildPubsub (config: DaemonConfig): Record<string, unknown> {
  const ps = config.pubsub
  if (!ps.enabled) return {}
  const globalSignaturePolicy = ps.sign ? StrictSign : StrictNoSign
  if (ps.router === 'floodsub') return { pubsub: floodsub({ globalSignaturePolicy }) }
  return {
    pubsub: gossipsub({
      globalSignaturePolicy,
      allowPublishToZeroTopicPeers: true,
      ...(ps.heartbeatIntervalMs > 0 ? { heartbeatInterval: ps.heartbeatIntervalMs } : {}),
      runOnLimitedConnection: true
    } as any)
  }
}
