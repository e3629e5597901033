/**
 * Core values as the JSON the HTTP API sends: the spec's `Stream` and `Peer`, and the
 * small shapes of the extensions.
 */
import type { StreamJson, PeerJson } from './schemas.js'
import type { CoreContext } from '../../core/context.js'
import type { PeerView } from '../../core/peers.js'
import type { StreamEntry } from '../../streams/table.js'
import type { PeerInfo } from '@libp2p/interface'

/** A stream table entry as the spec's `Stream` (plus `id`). */
export function streamJson (e: StreamEntry): StreamJson {
  return {
    id: e.id,
    localAddr: e.localAddr,
    localID: e.localID,
    remoteAddr: e.remoteAddr,
    remoteID: e.remoteID,
    createdAt: e.createdAt.toISOString(),
    direction: e.direction,
    socketPath: e.socketPath ?? '',
    protocol: e.protocol
  }
}

/** A peer as the spec's `Peer`, with its open streams. */
export function peerJson (ctx: CoreContext, p: PeerView): PeerJson {
  const id = p.peerId.toString()
  return {
    peerID: id,
    addresses: p.addrs.map(a => a.toString()),
    connected: p.connected,
    streams: ctx.streams.list().filter(s => s.remoteID === id).map(streamJson)
  }
}

/** `{peerID, addresses}`. */
export function peerInfoJson (p: PeerInfo): { peerID: string, addresses: string[] } {
  return { peerID: p.id.toString(), addresses: p.multiaddrs.map(a => a.toString()) }
}

/** Bytes as standard base64. */
export function b64 (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}
