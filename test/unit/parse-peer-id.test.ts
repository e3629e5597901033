/**
 * Peer ID parsing (src/core/parse.ts): text and bytes give the same peer, bad input is a
 * named error every time, and recently parsed IDs are answered from memory.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { parsePeerId } from '../../src/core/parse.js'

describe('parsePeerId', async () => {
  const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const bytes = peer.toMultihash().bytes

  it('parses text and multihash bytes to the same peer', () => {
    assert.ok(parsePeerId(peer.toString()).equals(peer))
    assert.ok(parsePeerId(bytes).equals(peer))
    assert.ok(parsePeerId(peer.toCID().toString()).equals(peer))
  })

  it('answers a repeated ID from memory (the same object), bytes at any offset', () => {
    assert.equal(parsePeerId(bytes), parsePeerId(bytes))
    const shifted = new Uint8Array(bytes.byteLength + 3)
    shifted.set(bytes, 3)
    assert.equal(parsePeerId(shifted.subarray(3)), parsePeerId(bytes))
    assert.equal(parsePeerId(peer.toString()), parsePeerId(peer.toString()))
  })

  it('rejects bad input with ERR_INVALID_PEER_ID each time', () => {
    for (let i = 0; i < 2; i++) {
      assert.throws(() => parsePeerId('not-a-peer-id'), { code: 'ERR_INVALID_PEER_ID' })
      assert.throws(() => parsePeerId(new Uint8Array([1, 2, 3])), { code: 'ERR_INVALID_PEER_ID' })
    }
  })

  it('remembers a bounded number: the oldest is parsed again after 1,024 others', async () => {
    const first = parsePeerId(peer.toString())
    for (let i = 0; i < 1030; i++) {
      const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      assert.ok(parsePeerId(other.toString()).equals(other))
    }
    const again = parsePeerId(peer.toString())
    assert.notEqual(again, first)
    assert.ok(again.equals(peer))
  })
})
