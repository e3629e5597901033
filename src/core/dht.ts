/**
 * DHT operations (p2pd's DHT request types). Streaming results are async iterables; the
 * planes frame them (p2pd BEGIN/VALUE/END, HTTP NDJSON).
 */
import { Errors, toDaemonError } from '../errors.js'
import { withTimeout } from './context.js'
import { untilRoutingTableUsable } from './routing-table-wait.js'
import type { CoreContext, OperationOptions } from './context.js'
import type { DhtTableHolder } from './routing-table-wait.js'
import type { PeerId, PeerInfo, PublicKey } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** Options of DHT operations. */
export interface DhtOptions extends OperationOptions {
  /** @default 60000 */
  timeoutMs?: number
}

interface DhtService extends DhtTableHolder {
  get(key: Uint8Array, options?: { signal?: AbortSignal }): AsyncIterable<{ name: string, value?: Uint8Array }>
  /** kad-dht's record validators by namespace (a public field of its `KadDHT`). */
  validators?: Record<string, (key: Uint8Array, value: Uint8Array, options?: { signal?: AbortSignal }) => Promise<void>>
}

/**
 * The longest DHT key accepted (the HTTP API's 8192 base64 characters). kad-dht's query
 * manager turns every key into base58 text, which takes time quadratic in its length with
 * the event loop held: a 96 KB key blocked a daemon for 24 s, and a 1 MiB one (the p2pd
 * framing allows 4 MiB) for what would have been most of an hour.
 */
export const MAX_DHT_KEY_BYTES = 6144

function checkKey (key: Uint8Array): Uint8Array {
  if (key.byteLength === 0) throw Errors.badRequest('the DHT key is empty')
  if (key.byteLength > MAX_DHT_KEY_BYTES) throw Errors.badRequest(`the DHT key is ${key.byteLength} bytes; at most ${MAX_DHT_KEY_BYTES} are accepted`)
  return key
}

function dhtOf (ctx: CoreContext): DhtService {
  const dht = (ctx.node.services as Record<string, unknown>).dht as DhtService | undefined
  if (dht === undefined) throw Errors.dhtDisabled()
  return dht
}

/**
 * The DHT service and the signal of one operation (the caller's, bounded by the timeout),
 * once the routing table is worth querying (routing-table-wait.ts).
 */
async function ready (ctx: CoreContext, o: DhtOptions): Promise<{ dht: DhtService, signal: AbortSignal }> {
  const dht = dhtOf(ctx)
  const signal = withTimeout(o.signal, o.timeoutMs)
  await untilRoutingTableUsable(ctx, dht, signal)
  return { dht, signal }
}

async function wrap<T> (fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw toDaemonError(err)
  }
}

async function * wrapIter<T> (it: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield * it
  } catch (err) {
    throw toDaemonError(err)
  }
}

/** Finds a peer's addresses. */
export async function doFindPeer (ctx: CoreContext, peer: PeerId, o: DhtOptions = {}): Promise<PeerInfo> {
  // (kad-dht throws a plain Error for it, which would read as a daemon bug: 500)
  if (peer.equals(ctx.node.peerId)) throw Errors.badRequest('cannot look up the daemon\'s own peer ID (its addresses: identity)')
  const { signal } = await ready(ctx, o)
  return await wrap(async () => await ctx.node.peerRouting.findPeer(peer, { signal }))
}

/** Streams up to `count` providers of `cid` (default 20, as p2pd). */
export async function * doFindProviders (ctx: CoreContext, cid: CID, count = 20, o: DhtOptions = {}): AsyncGenerator<PeerInfo> {
  const { signal } = await ready(ctx, o)
  let n = 0
  const limit = count > 0 ? count : 20
  for await (const p of wrapIter(ctx.node.contentRouting.findProviders(cid, { signal }))) {
    yield { id: p.id, multiaddrs: p.multiaddrs }
    if (++n >= limit) return
  }
}

/** Streams the peers closest to `key`. */
export async function * doGetClosestPeers (ctx: CoreContext, key: Uint8Array, o: DhtOptions = {}): AsyncGenerator<PeerInfo> {
  checkKey(key)
  const { signal } = await ready(ctx, o)
  yield * wrapIter(ctx.node.peerRouting.getClosestPeers(key, { signal }))
}

/** A peer's public key (from the peer ID, the peerstore, or the network). */
export async function doGetPublicKey (ctx: CoreContext, peer: PeerId, o: DhtOptions = {}): Promise<PublicKey> {
  dhtOf(ctx)
  if (peer.publicKey !== undefined) return peer.publicKey
  const { signal } = await ready(ctx, o)
  return await wrap(async () => await ctx.node.getPublicKey(peer, { signal }))
}

/** The best value stored under `key`. */
export async function doGetValue (ctx: CoreContext, key: Uint8Array, o: DhtOptions = {}): Promise<Uint8Array> {
  checkKey(key)
  const { signal } = await ready(ctx, o)
  return await wrap(async () => await ctx.node.contentRouting.get(key, { signal }))
}

/** Streams values found under `key` as they arrive (p2pd SEARCH_VALUE). */
export async function * doSearchValue (ctx: CoreContext, key: Uint8Array, o: DhtOptions = {}): AsyncGenerator<Uint8Array> {
  checkKey(key)
  const { dht, signal } = await ready(ctx, o)
  for await (const evt of wrapIter(dht.get(key, { signal }))) {
    if (evt.name === 'VALUE' && evt.value !== undefined) yield evt.value
  }
}

/** Stores `value` under `key`. */
export async function doPutValue (ctx: CoreContext, key: Uint8Array, value: Uint8Array, o: DhtOptions = {}): Promise<void> {
  checkKey(key)
  const { dht, signal } = await ready(ctx, o)
  await validateRecord(dht, key, value, signal)
  await wrap(async () => { await ctx.node.contentRouting.put(key, value, { signal }) })
}

/**
 * Runs the record's validator before it is stored. kad-dht stores a PUT locally without
 * one: a record no peer would accept (a namespace without a validator, a bad `/pk/` key)
 * answered OK, could never be read back, and stayed in memory. The Go daemon refuses them.
 */
async function validateRecord (dht: DhtService, key: Uint8Array, value: Uint8Array, signal: AbortSignal): Promise<void> {
  const validators = dht.validators
  // another shape of the service: kad-dht's own checks are all there is
  if (validators === undefined) return
  const namespace = new TextDecoder().decode(key).split('/')
  if (namespace.length < 3 || namespace[0] !== '') throw Errors.badRequest('the DHT key has no namespace (/<namespace>/...)')
  const validate = Object.hasOwn(validators, namespace[1]) ? validators[namespace[1]] : undefined
  if (validate === undefined) throw Errors.badRequest(`no validator for the DHT namespace "${namespace[1]}" (this daemon has: ${Object.keys(validators).join(', ')})`)
  try {
    await validate(key, value, { signal })
  } catch (err: any) {
    throw Errors.badRequest(`the record does not validate: ${String(err?.message ?? err)}`)
  }
}

/** Announces that this daemon provides `cid`. */
export async function doProvide (ctx: CoreContext, cid: CID, o: DhtOptions = {}): Promise<void> {
  const { signal } = await ready(ctx, o)
  await wrap(async () => { await ctx.node.contentRouting.provide(cid, { signal }) })
}
