/**
 * A DHT query on an empty routing table waits, briefly, for a peer that is on its way in.
 *
 * kad-dht adds a connected peer to its routing table only after identify has shown that the
 * peer speaks the DHT protocol and a ping to it has come back: a few round trips after
 * CONNECT has returned (milliseconds on an idle machine, up to seconds on a loaded one).
 * libp2pd lets queries run on an empty table (`allowQueryWithZeroPeers`, so that a daemon with
 * no DHT peer answers at once, as p2pd does), and a query sent in that window answered
 * "nothing found" although the peer holding the answer was connected. So a query waits while
 * the table is empty and a young connection goes to a peer that speaks the DHT protocol or
 * has not been identified yet; a daemon with no such connection is not delayed at all.
 */
import type { CoreContext } from './context.js'
import type { PeerId } from '@libp2p/interface'

/**
 * How long after a connection opens its peer may still join the routing table: kad-dht gives
 * the ping of a new contact at least 5 s (its adaptive timeout's floor) before it gives up.
 */
export const JOIN_WINDOW_MS = 5_000

/** kad-dht's protocol when the service does not say (its default, and libp2pd's). */
const DEFAULT_DHT_PROTOCOL = '/ipfs/kad/1.0.0'

/** The parts of kad-dht's routing table this reads (`SingleKadDHT.routingTable`). */
interface RoutingTableShape {
  size: number
  addEventListener: (type: 'peer:add', listener: () => void) => void
  removeEventListener: (type: 'peer:add', listener: () => void) => void
}

/** The parts of the DHT service this reads; another shape is not waited for. */
export interface DhtTableHolder {
  routingTable?: unknown
  protocol?: unknown
}

function tableOf (dht: DhtTableHolder): RoutingTableShape | undefined {
  const t = dht.routingTable as Partial<RoutingTableShape> | undefined
  if (typeof t?.size !== 'number' || typeof t.addEventListener !== 'function') return undefined
  return t as RoutingTableShape
}

/**
 * Resolves once `dht`'s routing table has a peer, or no connected peer can still join it, or
 * `signal` aborts (the query that follows then fails with the caller's timeout). At most
 * `JOIN_WINDOW_MS` after the youngest such connection opened.
 */
export async function untilRoutingTableUsable (ctx: CoreContext, dht: DhtTableHolder, signal: AbortSignal): Promise<void> {
  const table = tableOf(dht)
  if (table === undefined) return
  const protocol = typeof dht.protocol === 'string' ? dht.protocol : DEFAULT_DHT_PROTOCOL
  while (table.size === 0 && !signal.aborted) {
    const until = await joinDeadline(ctx, protocol)
    if (until === undefined || until <= Date.now()) return
    await nextChange(ctx, table, signal, until - Date.now())
  }
}

/** When the last connection whose peer may still join the table stops being a candidate. */
async function joinDeadline (ctx: CoreContext, protocol: string): Promise<number | undefined> {
  const now = Date.now()
  let until: number | undefined
  for (const conn of ctx.node.getConnections()) {
    const end = conn.timeline.open + JOIN_WINDOW_MS
    if (conn.status !== 'open' || end <= now || (until !== undefined && end <= until)) continue
    if (await mayJoin(ctx, conn.remotePeer, protocol)) until = end
  }
  return until
}

/**
 * Whether `peer` may speak the DHT: identify has not told yet, or it did and the DHT is among
 * its protocols. A peer's protocol list alone cannot tell: js-libp2p adds each protocol a
 * stream negotiates to it, so the identify stream puts `/ipfs/id/1.0.0` there before the
 * identify answer has arrived. Identify writes the peer's protocol and agent versions after
 * its protocol list, so they show that the list is the peer's own.
 */
async function mayJoin (ctx: CoreContext, peer: PeerId, protocol: string): Promise<boolean> {
  const known = await ctx.node.peerStore.get(peer).catch(() => undefined)
  if (known === undefined) return true
  const identified = known.metadata.has('ProtocolVersion') || known.metadata.has('AgentVersion')
  return !identified || known.protocols.includes(protocol)
}

/** Resolves on the next event that can change the answer, after `ms`, or on abort. */
async function nextChange (ctx: CoreContext, table: RoutingTableShape, signal: AbortSignal, ms: number): Promise<void> {
  await new Promise<void>(resolve => {
    const done = (): void => {
      clearTimeout(timer)
      table.removeEventListener('peer:add', done)
      ctx.node.removeEventListener('peer:identify', done)
      ctx.node.removeEventListener('connection:close', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    table.addEventListener('peer:add', done)
    ctx.node.addEventListener('peer:identify', done)
    ctx.node.addEventListener('connection:close', done)
    signal.addEventListener('abort', done)
  })
}
