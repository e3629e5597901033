import type { Daemon } from '../daemon.js'

/**
 * The SIGUSR1 dump (as p2pd's): every connection with the remote's agent, protocols and
 * streams, handlers, open daemon streams, peerstore size and the DHT routing table size,
 * as one JSON document on one line of stderr (so log collectors keep it whole).
 */
export async function diagnostics (daemon: Daemon): Promise<Record<string, unknown>> {
  const { node, streams, handlers } = daemon.context
  const dht = (node.services as Record<string, any>).dht
  const known = await node.peerStore.all().catch(() => [])
  const byPeer = new Map(known.map(p => [p.id.toString(), p]))
  return {
    time: new Date().toISOString(),
    peerId: node.peerId.toString(),
    addrs: node.getMultiaddrs().map(String),
    control: daemon.controlAddress,
    http: daemon.httpAddress,
    metrics: daemon.metricsAddress,
    socketDir: daemon.context.socketDir.path,
    services: Object.keys(node.services),
    protocols: node.getProtocols(),
    connections: node.getConnections().map(c => {
      const peer = byPeer.get(c.remotePeer.toString())
      const agent = peer?.metadata.get('AgentVersion')
      return {
        peer: c.remotePeer.toString(),
        addr: c.remoteAddr.toString(),
        direction: c.direction,
        limited: c.limits != null,
        encryption: c.encryption,
        multiplexer: c.multiplexer,
        agent: agent !== undefined ? new TextDecoder().decode(agent) : undefined,
        protocols: peer?.protocols ?? [],
        streams: c.streams.map(s => ({ id: s.id, protocol: s.protocol, direction: s.direction }))
      }
    }),
    handlers: handlers.list(),
    streams: streams.list().map(e => ({ id: e.id, protocol: e.protocol, direction: e.direction, peer: e.remoteID, plane: e.plane, ...e.counters })),
    peerstore: { peers: known.length, peerIds: known.slice(0, 1000).map(p => p.id.toString()) },
    dhtMode: typeof dht?.getMode === 'function' ? dht.getMode() : null,
    dhtRoutingTableSize: dht?.routingTable?.size ?? null,
    memory: process.memoryUsage()
  }
}
