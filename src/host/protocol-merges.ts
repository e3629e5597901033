/**
 * A peer-store merge per stream, without the work when it adds nothing. On every stream it
 * opens or accepts, js-libp2p records that the remote supports the stream's protocol:
 * `await peerStore.merge(peer, { protocols: [protocol] })`. For a peer already known to
 * speak that protocol this changes nothing, yet it takes the peer's write lock, loads and
 * decodes its record, merges and re-encodes it to compare: 4–7% of each daemon's CPU with a
 * new stream per request (peer store, multiaddr and protobuf code in profiles), and several
 * awaits on the way to every stream.
 *
 * This remembers, per peer, the record the last merge returned, and answers a merge of
 * protocols the record already lists from memory. Whatever may change a record forgets it:
 * the peer store's `peer:update` event for that peer, `delete` (which sends no event), the
 * peer disconnecting, and age (the store drops expired peers without an event, so an entry
 * is trusted for `ttlMs` only).
 */
import type { Libp2pEvents, Peer, PeerData, PeerId, PeerStore, TypedEventTarget } from '@libp2p/interface'

/** How long a remembered record answers protocol merges. */
const DEFAULT_TTL_MS = 5_000
/** Entries kept at most; past this the memory is dropped (merges then run as usual). */
const MAX_ENTRIES = 10_000

interface Entry { peer: Peer, at: number }

const onlyProtocols = (data: Partial<PeerData>): data is { protocols: string[] } =>
  Array.isArray(data.protocols) && Object.keys(data).length === 1

/**
 * Makes `peerStore.merge` answer protocol-only merges that add nothing from memory.
 * Returns a function that undoes it.
 */
export function shortcutProtocolMerges (peerStore: PeerStore, events: TypedEventTarget<Libp2pEvents>, ttlMs = DEFAULT_TTL_MS): () => void {
  const known = new Map<string, Entry>()
  // bumped by every invalidation: a merge that raced one must not store its older result
  const generation = new Map<string, number>()
  const forget = (id: PeerId): void => {
    const key = id.toString()
    known.delete(key)
    generation.set(key, (generation.get(key) ?? 0) + 1)
  }
  const onUpdate = (evt: CustomEvent<{ peer: Peer }>): void => { forget(evt.detail.peer.id) }
  const onDisconnect = (evt: CustomEvent<PeerId>): void => {
    forget(evt.detail)
    generation.delete(evt.detail.toString())
  }

  const merge = peerStore.merge
  const remove = peerStore.delete
  peerStore.merge = async function (id, data, options) {
    const key = id.toString()
    if (onlyProtocols(data)) {
      const entry = known.get(key)
      if (entry !== undefined && Date.now() - entry.at < ttlMs && data.protocols.every(p => entry.peer.protocols.includes(p))) {
        return entry.peer
      }
    }
    const before = generation.get(key) ?? 0
    const peer = await merge.call(this, id, data, options)
    if ((generation.get(key) ?? 0) === before) {
      if (known.size >= MAX_ENTRIES) known.clear()
      known.set(key, { peer, at: Date.now() })
    }
    return peer
  }
  peerStore.delete = async function (id, options) {
    forget(id)
    await remove.call(this, id, options)
  }
  events.addEventListener('peer:update', onUpdate)
  events.addEventListener('peer:disconnect', onDisconnect)

  return () => {
    peerStore.merge = merge
    peerStore.delete = remove
    events.removeEventListener('peer:update', onUpdate)
    events.removeEventListener('peer:disconnect', onDisconnect)
    known.clear()
  }
}
