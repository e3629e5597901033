import type { Daemon } from '../daemon.js'

/**
 * The SIGUSR1 dump (as p2pd's): connections with their streams, handlers, open daemon
 * streams and the DHT routing table size, as one JSON document on stderr.
 */
export function diagnostics (daemon: Daemon): Record<string, unknown> {
  const { node, streams, handlers } = daemon.context
  const dht = (node.services as Record<string, any>).dht
  return {
    peerId: node.peerId.toString(),
    addrs: node.getMultiaddrs().map(String),
    connections: node.getConnections().map(c => ({
      peer: c.remotePeer.toString(),
      addr: c.remoteAddr.toString(),
      direction: c.direction,
      limited: c.limits != null,
      streams: c.streams.map(s => ({ id: s.id, protocol: s.protocol, direction: s.direction }))
    })),
    handlers: handlers.list(),
    streams: streams.list().map(e => ({ id: e.id, protocol: e.protocol, direction: e.direction, peer: e.remoteID, plane: e.plane, ...e.counters })),
    dhtRoutingTableSize: dht?.routingTable?.size ?? null,
    memory: process.memoryUsage()
  }
}
