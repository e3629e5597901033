/**
 * The DHT, pubsub, connection manager and peerstore parts of the client, as plain objects
 * over the transport. Keys and values are bytes (strings are taken as UTF-8); searches are
 * async iterables that end cleanly on abort or `break`.
 */
import { daemonBounded, fromBase64, fromBase64Opt, seg, toBase64 } from './codec.js'
import { ndjsonCall } from './ndjson.js'
import { Subscription } from './subscription.js'
import type { HttpTransport } from './transport.js'
import type { BytesLike, CallOptions, FoundPeer, PeerRecord, PubsubMessage } from './types.js'

/** The kad-DHT (the daemon must run with `-dht`, `-dhtClient` or `-dhtServer`). */
export interface DhtApi {
  findPeer: (peerID: string, o?: CallOptions) => Promise<FoundPeer>
  findProviders: (cid: string, o?: CallOptions & { count?: number }) => AsyncGenerator<FoundPeer, void, undefined>
  getClosestPeers: (key: BytesLike, o?: CallOptions) => AsyncGenerator<string, void, undefined>
  /** The peer's public key, protobuf-encoded. */
  getPublicKey: (peerID: string, o?: CallOptions) => Promise<Uint8Array>
  /** The best value under `key`; `NotFoundError` if there is none. */
  getValue: (key: BytesLike, o?: CallOptions) => Promise<Uint8Array>
  searchValue: (key: BytesLike, o?: CallOptions) => AsyncGenerator<Uint8Array, void, undefined>
  putValue: (key: BytesLike, value: BytesLike, o?: CallOptions) => Promise<void>
  provide: (cid: string, o?: CallOptions) => Promise<void>
}

/** Pubsub (the daemon must run with `-pubsub`). */
export interface PubsubApi {
  /** Topics the daemon is subscribed to. */
  topics: (o?: CallOptions) => Promise<string[]>
  /** Connected peers subscribed to `topic`. */
  peers: (topic: string, o?: CallOptions) => Promise<string[]>
  publish: (topic: string, data: BytesLike, o?: CallOptions) => Promise<void>
  /**
   * Subscribes at once; `await sub.ready()` before relying on delivery, iterate for
   * messages, `sub.close()` (or abort, or `break`) to unsubscribe.
   */
  subscribe: (topic: string, o?: { signal?: AbortSignal }) => Subscription<PubsubMessage>
}

/** The connection manager. */
export interface ConnmgrApi {
  tag: (peerID: string, tag: string, weight: number, o?: CallOptions) => Promise<void>
  untag: (peerID: string, tag: string, o?: CallOptions) => Promise<void>
  protect: (peerID: string, tag: string, o?: CallOptions) => Promise<void>
  unprotect: (peerID: string, tag: string, o?: CallOptions) => Promise<void>
  /** Closes connections down to the low water mark; resolves with how many were closed. */
  trim: (o?: CallOptions) => Promise<number>
}

/** The peerstore. */
export interface PeerstoreApi {
  get: (peerID: string, o?: CallOptions) => Promise<PeerRecord>
  protocols: (peerID: string, o?: CallOptions) => Promise<string[]>
}

const DHT = '/api/daemon/dht'

/** The DHT part of a client. */
export function dhtApi (http: HttpTransport): DhtApi {
  const post = async <T>(op: string, body: Record<string, unknown>, o: CallOptions): Promise<T> => {
    const { seconds, limits } = daemonBounded(o)
    return await http.json<T>({ method: 'POST', path: `${DHT}/${op}`, body: { ...body, timeout: seconds } }, limits)
  }
  const search = <T>(op: string, body: Record<string, unknown>, o: CallOptions, map: (line: any) => T): AsyncGenerator<T, void, undefined> => {
    const { seconds, limits } = daemonBounded(o, false)
    return ndjsonCall(http, { method: 'POST', path: `${DHT}/${op}`, body: { ...body, timeout: seconds } }, limits, map)
  }
  return {
    findPeer: async (peerID, o = {}) => await post('find-peer', { peerID }, o),
    findProviders: (cid, o = {}) => search('find-providers', { cid, count: o.count }, o, l => l as FoundPeer),
    getClosestPeers: (key, o = {}) => search('closest-peers', { key: toBase64(key) }, o, l => l.peerID as string),
    getPublicKey: async (peerID, o = {}) => fromBase64((await post<{ publicKey: string }>('public-key', { peerID }, o)).publicKey),
    getValue: async (key, o = {}) => fromBase64((await post<{ value: string }>('get-value', { key: toBase64(key) }, o)).value),
    searchValue: (key, o = {}) => search('search-value', { key: toBase64(key) }, o, l => fromBase64(l.value)),
    putValue: async (key, value, o = {}) => { await post('put-value', { key: toBase64(key), value: toBase64(value) }, o) },
    provide: async (cid, o = {}) => { await post('provide', { cid }, o) }
  }
}

function messageOf (l: Record<string, string>): PubsubMessage {
  const m: PubsubMessage = { topic: l.topic, data: fromBase64(l.data ?? '') }
  if (l.from !== undefined) m.from = l.from
  const seqno = fromBase64Opt(l.seqno)
  if (seqno !== undefined) m.seqno = seqno
  const signature = fromBase64Opt(l.signature)
  if (signature !== undefined) m.signature = signature
  const key = fromBase64Opt(l.key)
  if (key !== undefined) m.key = key
  return m
}

/** The pubsub part of a client. */
export function pubsubApi (http: HttpTransport): PubsubApi {
  const topicPath = (topic: string): string => `/api/daemon/pubsub/topics/${seg(topic)}`
  return {
    topics: async (o = {}) => (await http.json<{ topics: string[] }>({ method: 'GET', path: '/api/daemon/pubsub/topics' }, o)).topics,
    peers: async (topic, o = {}) => (await http.json<{ peers: string[] }>({ method: 'GET', path: `${topicPath(topic)}/peers` }, o)).peers,
    publish: async (topic, data, o = {}) => { await http.json({ method: 'POST', path: `${topicPath(topic)}/publish`, body: { data: toBase64(data) } }, o) },
    subscribe: (topic, o = {}) => new Subscription(http, { method: 'POST', path: `${topicPath(topic)}/subscribe` }, o.signal, l => typeof l?.subscribed === 'string', messageOf)
  }
}

/** The connection manager part of a client. */
export function connmgrApi (http: HttpTransport): ConnmgrApi {
  const post = async <T>(op: string, body: Record<string, unknown> | undefined, o: CallOptions): Promise<T> =>
    await http.json<T>({ method: 'POST', path: `/api/daemon/connmgr/${op}`, body }, o)
  return {
    tag: async (peerID, tag, weight, o = {}) => { await post('tag', { peerID, tag, weight }, o) },
    untag: async (peerID, tag, o = {}) => { await post('untag', { peerID, tag }, o) },
    protect: async (peerID, tag, o = {}) => { await post('protect', { peerID, tag }, o) },
    unprotect: async (peerID, tag, o = {}) => { await post('unprotect', { peerID, tag }, o) },
    trim: async (o = {}) => (await post<{ closed: number }>('trim', undefined, o)).closed
  }
}

/** The peerstore part of a client. */
export function peerstoreApi (http: HttpTransport): PeerstoreApi {
  return {
    get: async (peerID, o = {}) => {
      const r = await http.json<Omit<PeerRecord, 'publicKey'> & { publicKey?: string }>({ method: 'GET', path: `/api/daemon/peerstore/${seg(peerID)}` }, o)
      const { publicKey, ...rest } = r
      return publicKey === undefined ? rest : { ...rest, publicKey: fromBase64(publicKey) }
    },
    protocols: async (peerID, o = {}) => (await http.json<{ protocols: string[] }>({ method: 'GET', path: `/api/daemon/peerstore/${seg(peerID)}/protocols` }, o)).protocols
  }
}
