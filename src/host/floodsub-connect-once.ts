/**
 * One floodsub outbound stream per connection, even when the registrar reports the same
 * connection twice in quick succession.
 *
 * js-libp2p's registrar calls a pubsub router's topology `onConnect` on every `peer:identify`
 * event, and one connection can be identified twice in quick succession (an identify-push
 * right behind the identify; 31 ms apart in the flake that found this). floodsub's
 * `_onPeerConnected` skips a connection that already carries its outbound stream, but a
 * stream still negotiating has no protocol yet, so a second call made while the first
 * call's stream negotiates opens a second outbound stream. The remote accepts one inbound
 * floodsub stream per connection (floodsub's `maxInboundStreams`, 1): it answers the
 * second stream's proposal, then resets it. The router, meanwhile, has kept the
 * stream whose negotiation finished last, usually that second one, and writes everything to
 * it: a subscription sent then is lost, and pubsub from this side is silent until the peers
 * reconnect (seen: `http-api.test.ts` "pubsub: …", B never showed up as a topic peer;
 * `test/unit/floodsub-connect-once.test.ts` without the fix).
 *
 * Here a call for a connection whose earlier call is still running waits for that call and
 * then runs; it then finds the outbound stream present and returns, or, if the earlier call
 * failed to open one, tries again. gossipsub needs none of this: it queues outbound stream
 * creation and skips a peer that has one.
 *
 * It must be installed before the node starts: floodsub hands the registrar its
 * `_onPeerConnected` when it starts.
 */
import type { Connection, PeerId } from '@libp2p/interface'

type OnConnect = (peerId: PeerId, connection: Connection) => Promise<void>

/** The parts of `@libp2p/floodsub`'s router this module touches. */
interface FloodsubRouter {
  protocol?: unknown
  _onPeerConnected?: unknown
}

/**
 * Serializes `router._onPeerConnected` per connection if `router` is a floodsub router;
 * returns whether it did (another router, or none, is left alone).
 */
export function connectFloodsubOnce (router: unknown): boolean {
  const r = router as FloodsubRouter | undefined
  const original = r?._onPeerConnected
  // (floodsub names its one protocol `protocol`; gossipsub has `protocols` and `onPeerConnected`)
  if (r === undefined || typeof original !== 'function' || typeof r.protocol !== 'string') return false
  const call = (original as OnConnect).bind(r)
  const running = new WeakMap<Connection, Promise<void>>()
  r._onPeerConnected = async (peerId: PeerId, connection: Connection): Promise<void> => {
    // after the earlier call, if any: its failure is its own caller's to see
    const run = (running.get(connection) ?? Promise.resolve()).catch(() => {}).then(async () => { await call(peerId, connection) })
    running.set(connection, run)
    try {
      await run
    } finally {
      if (running.get(connection) === run) running.delete(connection)
    }
  }
  return true
}
