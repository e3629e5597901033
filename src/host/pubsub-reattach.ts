/**
 * Keeps pubsub working between two peers when the connection carrying their pubsub streams
 * closes while another connection between them stays open.
 *
 * Two connections to one peer happen after simultaneous dials, and when a peer reconnects
 * before this side has processed the old connection's close. Both routers js-libp2p offers
 * tie their streams to the connection they were opened on and only open new ones when the
 * registrar reports a newly identified connection: when the old connection closes, floodsub
 * drops the peer altogether and gossipsub keeps it without an outbound stream, and neither
 * uses the connection that is left, so subscriptions and messages stop flowing until the
 * peers reconnect (test/unit/pubsub-duplicate-connections.test.ts). go-libp2p-pubsub reopens
 * its stream to a peer that is still connected; this does the same: once a closed
 * connection's streams have been torn down, the router is told about a remaining open
 * connection as if it had just been identified. Both routers skip a connection that
 * already carries their outbound stream, so telling them twice does nothing, but only once
 * that stream has been negotiated: so a connection opened after the close (the router is
 * told about it when identify has run) is left alone, and so is one with an outbound stream
 * still negotiating, until it is done.
 */
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'

/** Time for a closed connection's stream events to reach the router before it is told. */
const SETTLE_MS = 250

/** How many times a check waits for a stream still negotiating (20 × 250 ms = 5 s). */
const MAX_TRIES = 20

type OnConnect = (peerId: PeerId, connection: Connection) => unknown

interface Router { onPeerConnected?: unknown, _onPeerConnected?: unknown, protocols?: unknown, protocol?: unknown }

/** The router's topology callback (`onPeerConnected` in gossipsub, `_onPeerConnected` in floodsub). */
function topologyOnConnect (router: Router | undefined): OnConnect | undefined {
  const fn = router?.onPeerConnected ?? router?._onPeerConnected
  return typeof fn === 'function' ? (fn as OnConnect).bind(router) : undefined
}

/** The protocols the router speaks (`protocols` in gossipsub, `protocol` in floodsub). */
function routerProtocols (router: Router): Set<string> {
  const list = Array.isArray(router.protocols) ? router.protocols : [router.protocol]
  return new Set(list.filter((p): p is string => typeof p === 'string'))
}

/**
 * Watches `node` for closed connections and re-attaches `router` to the peer's remaining
 * open connection. For a router without the expected topology callback (or none) nothing
 * is installed (`installed: false`). `stop()` stops watching.
 */
export function reattachPubsub (node: Libp2p, router: unknown): { installed: boolean, stop: () => void } {
  const r = router as Router | undefined
  const onConnect = topologyOnConnect(r)
  const protocols = r === undefined ? new Set<string>() : routerProtocols(r)
  if (onConnect === undefined || protocols.size === 0) return { installed: false, stop: () => {} }
  const timers = new Set<NodeJS.Timeout>()
  const later = (fn: () => void): void => {
    const timer = setTimeout(() => { timers.delete(timer); fn() }, SETTLE_MS)
    timer.unref()
    timers.add(timer)
  }
  const check = (peer: PeerId, closedAt: number, tries: number): void => {
    // Only a connection that was open before the close: the router was told about it while
    // the closed one carried its streams. A connection opened since gets the router's own
    // call once identified, and a second call racing that one opened two streams, one of
    // which the router kept after the remote had reset it (pubsub then stopped for good).
    const open = node.getConnections(peer).filter(c => c.status === 'open')
    // still attached through another connection (an outbound stream it can write to): nothing was lost
    const attached = open.some(c => c.streams.some(s => s.direction === 'outbound' && s.writeStatus === 'writable' && protocols.has(s.protocol ?? '')))
    const remaining = open.find(c => c.timeline.open <= closedAt)
    if (attached || remaining === undefined) return
    // an outbound stream still negotiating may be the router's own: look again once it is done
    if (remaining.streams.some(s => s.direction === 'outbound' && s.status === 'open' && (s.protocol ?? '') === '')) {
      if (tries < MAX_TRIES) later(() => { check(peer, closedAt, tries + 1) })
      return
    }
    // (a failure, thrown or rejected, leaves things as the router had them)
    Promise.resolve().then(() => onConnect(peer, remaining)).catch(() => {})
  }
  const onClose = (evt: CustomEvent<Connection>): void => {
    const closed = evt.detail
    const closedAt = closed.timeline.close ?? Date.now()
    later(() => { check(closed.remotePeer, closedAt, 1) })
  }
  node.addEventListener('connection:close', onClose)
  return {
    installed: true,
    stop: () => {
      node.removeEventListener('connection:close', onClose)
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
    }
  }
}
