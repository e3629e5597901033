import type { DaemonConfig } from '../config/index.js'

/**
 * The pubsub service, if enabled. js-libp2p knows two signature policies: `-pubsubSign`
 * (default) ⇒ StrictSign (sign, reject unsigned), `-pubsubSign=false` ⇒ StrictNoSign (no
 * signatures, reject signed). go's lax mode (`-pubsubSignStrict=false`) does not exist here.
 */
export async function buildPubsub (config: DaemonConfig): Promise<Record<string, unknown>> {
  const ps = config.pubsub
  if (!ps.enabled) return {}
  // loaded only when used: module loading is most of a daemon's start-up CPU
  const globalSignaturePolicy = ps.sign ? 'StrictSign' : 'StrictNoSign'
  if (ps.router === 'floodsub') {
    const { floodsub } = await import('@libp2p/floodsub')
    return { pubsub: floodsub({ globalSignaturePolicy }) }
  }
  const { gossipsub } = await import('@libp2p/gossipsub')
  return {
    pubsub: gossipsub({
      globalSignaturePolicy,
      allowPublishToZeroTopicPeers: true,
      ...(ps.heartbeatIntervalMs > 0 ? { heartbeatInterval: ps.heartbeatIntervalMs } : {}),
      runOnLimitedConnection: true
    } as any)
  }
}
