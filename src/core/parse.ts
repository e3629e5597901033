/**
 * Input validation shared by both planes: peer IDs, multiaddrs, CIDs and protocol names
 * arrive as strings (HTTP) or bytes (p2pd) and leave as typed values or named errors.
 */
import { peerIdFromMultihash, peerIdFromString, peerIdFromCID } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { Errors } from '../errors.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Peer IDs parsed recently, by their text or (prefixed with NUL) their bytes. */
const parsedPeerIds = new Map<string, PeerId>()
/** Entries kept; the oldest goes first. */
const PARSED_PEER_IDS_MAX = 1024

/**
 * Parses a peer ID given as base58btc text, a CIDv1 string, or multihash bytes.
 *
 * Programs name the same few peers in request after request, and parsing one decodes its
 * public key (4–7 µs for Ed25519, more for RSA) and gives a new object whose string form is
 * computed again on first use. So the last 1,024 are remembered (peer IDs are immutable).
 */
export function parsePeerId (input: string | Uint8Array): PeerId {
  // (base58 and base32 text never contains NUL)
  const key = typeof input === 'string' ? input : '\0' + Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1')
  let peer = parsedPeerIds.get(key)
  if (peer === undefined) {
    peer = parseUncached(input)
    if (parsedPeerIds.size >= PARSED_PEER_IDS_MAX) parsedPeerIds.delete(parsedPeerIds.keys().next().value as string)
    parsedPeerIds.set(key, peer)
  }
  return peer
}

function parseUncached (input: string | Uint8Array): PeerId {
  try {
    if (typeof input === 'string') {
      if (input.length === 0 || input.length > 256) throw new Error('bad length')
      if (input.startsWith('b') || input.startsWith('k')) {
        try { return peerIdFromCID(CID.parse(input)) } catch {}
      }
      return peerIdFromString(input)
    }
    return peerIdFromMultihash(Digest.decode(input))
  } catch (err: any) {
    const shown = typeof input === 'string' ? JSON.stringify(input.slice(0, 80)) : `${input.byteLength} bytes`
    throw Errors.invalidPeerId(`invalid peer ID ${shown}: ${err.message}`)
  }
}

/** Parses a multiaddr given as text or binary bytes. */
export function parseMultiaddr (input: string | Uint8Array): Multiaddr {
  try {
    if (typeof input === 'string' && (input.length === 0 || input.length > 1024)) throw new Error('bad length')
    return multiaddr(input)
  } catch (err: any) {
    const shown = typeof input === 'string' ? JSON.stringify(input.slice(0, 120)) : `${input.byteLength} bytes`
    throw Errors.invalidMultiaddr(`invalid multiaddr ${shown}: ${err.message}`)
  }
}

/** Parses a CID given as text or binary bytes. */
export function parseCid (input: string | Uint8Array): CID {
  try {
    return typeof input === 'string' ? CID.parse(input) : CID.decode(input)
  } catch (err: any) {
    throw Errors.invalidCid(`invalid CID: ${err.message}`)
  }
}

/** Protocol IDs: printable, no whitespace, at most 1 KiB (multistream-select's own limit is lower). */
export function checkProtocol (protocol: unknown): string {
  if (typeof protocol !== 'string' || protocol.length === 0 || protocol.length > 1024 || !/^[\x21-\x7e]+$/.test(protocol)) {
    throw Errors.invalidProtocol(`invalid protocol name ${JSON.stringify(String(protocol).slice(0, 80))}: printable ASCII without spaces, 1 to 1024 characters`)
  }
  return protocol
}

/** Decodes strict base64 (standard or URL alphabet, padding optional). */
export function decodeBase64 (text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) {
    throw Errors.invalidBase64('invalid base64')
  }
  return new Uint8Array(Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64'))
}
