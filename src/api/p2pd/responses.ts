/**
 * Builders of p2pd `Response` messages and the byte helpers the handlers share (peer IDs
 * and multiaddrs travel as binary multihashes and binary multiaddrs).
 */
import { toDaemonError } from '../../errors.js'
import { Response } from '../../proto/p2pd.js'
import type { PeerInfo as Pb } from '../../proto/p2pd.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A successful response with the given payload fields. */
export function okResponse (fields: Partial<Omit<Response, 'type'>> = {}): Partial<Response> {
  return { type: Response.Type.OK, ...fields }
}

/**
 * An ERROR response. Messages are the named errors' messages (`Malformed request; missing
 * parameters`, `DHT not enabled`, ...), which is what p2pd clients show to their users.
 */
export function errorResponse (err: unknown): Partial<Response> {
  const msg = typeof err === 'string' ? err : describeError(err)
  return { type: Response.Type.ERROR, error: { msg } }
}

/**
 * The message of an error, with the messages of the attempts inside an AggregateError
 * appended (a failed dial over several addresses, e.g. a relay's NO_RESERVATION), which
 * programs match on and which the aggregate's own message hides.
 */
export function describeError (err: unknown): string {
  const e = toDaemonError(err)
  let msg = e.message
  for (let c: any = e; c != null; c = c.cause) {
    if (Array.isArray(c.errors)) {
      const inner = c.errors.map((x: any) => String(x?.message ?? x)).filter((m: string) => m !== '' && !msg.includes(m))
      if (inner.length > 0) msg += `: ${inner.join('; ')}`
      break
    }
  }
  return msg
}

/** Encodes a response (without the length prefix). */
export function encodeResponse (res: Partial<Response>): Uint8Array {
  return Response.encode(res)
}

/** A peer ID as p2pd sends it: its binary multihash. */
export function peerBytes (peer: PeerId): Uint8Array {
  return peer.toMultihash().bytes
}

/** A `PeerInfo` message; `/p2p/<id>` suffixes are dropped, as p2pd does. */
export function peerInfo (peer: PeerId, addrs: Multiaddr[]): Pb {
  return { id: peerBytes(peer), addrs: addrs.map(a => a.decapsulateCode(421).bytes) }
}

/** The `timeout` field of a request (int64 seconds; absent or ≤ 0 ⇒ the 60 s default) in ms. */
export function timeoutMs (seconds: bigint | number | undefined, defaultMs = 60_000): number {
  if (seconds === undefined) return defaultMs
  const s = Number(seconds)
  if (!Number.isFinite(s) || s <= 0) return defaultMs
  // AbortSignal.timeout takes at most 2^31-1 ms
  return Math.min(s * 1000, 2 ** 31 - 1)
}
