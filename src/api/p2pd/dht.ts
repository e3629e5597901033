/**
 * DHT requests (go-libp2p-daemon's dht.go). Single results are `OK{dht{VALUE, ...}}`.
 * Streams are framed exactly as the Go daemon writes them: a wrapped `Response{OK,
 * dht{BEGIN}}`, then bare `DHTResponse{VALUE}` messages, then a bare `DHTResponse{END}`;
 * after END the connection takes the next request. The first result is awaited before
 * BEGIN so that an immediate failure (bad key, DHT off) is a plain ERROR response.
 */
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import {
  doFindPeer, doFindProviders, doGetClosestPeers, doGetPublicKey, doGetValue, doProvide, doPutValue, doSearchValue
} from '../../core/dht.js'
import { parseCid, parsePeerId } from '../../core/parse.js'
import { Errors } from '../../errors.js'
import { DHTRequest, DHTResponse } from '../../proto/p2pd.js'
import { okResponse, peerBytes, peerInfo } from './responses.js'
import type { Reply, RequestContext } from './session.js'
import type { Request } from '../../proto/p2pd.js'

function need<T> (value: T | undefined, what: string): T {
  if (value === undefined || (value instanceof Uint8Array && value.byteLength === 0)) {
    throw Errors.badRequest(`Malformed request; missing parameters: ${what}`)
  }
  return value
}

/**
 * Writes BEGIN, each item as a bare VALUE, and END. The query is cancelled if the client
 * goes away (its signal aborts, or a write fails).
 */
async function streamResults<T> (rc: RequestContext, results: AsyncGenerator<T>, toValue: (item: T) => DHTResponse): Promise<Reply> {
  const { session } = rc
  // surfaces immediate errors as an ERROR response, before BEGIN
  let first = await results.next()
  await session.respond(okResponse({ dht: { type: DHTResponse.Type.BEGIN } }))
  try {
    while (first.done !== true) {
      await session.send(DHTResponse.encode(toValue(first.value)))
      first = await results.next()
    }
  } catch (err: any) {
    // after BEGIN an error can only end the stream (as the Go daemon's closed channels do)
    rc.ctx.log.debug({ err: err.message }, 'p2pd: DHT stream ended early')
    await results.return(undefined).catch(() => {})
    if (session.closed) return 'taken'
  }
  await session.send(DHTResponse.encode({ type: DHTResponse.Type.END }))
  return 'done'
}

/** DHT: dispatches on `dht.type`. */
export async function dht (rc: RequestContext, req: Request): Promise<Reply> {
  const d = req.dht
  if (d === undefined || d.type === undefined) throw Errors.badRequest()
  const o = { signal: rc.signal, timeoutMs: rc.timeoutMs }
  const { ctx } = rc
  switch (d.type) {
    case DHTRequest.Type.FIND_PEER: {
      const found = await doFindPeer(ctx, parsePeerId(need(d.peer, 'peer')), o)
      return okResponse({ dht: { type: DHTResponse.Type.VALUE, peer: peerInfo(found.id, found.multiaddrs) } })
    }
    case DHTRequest.Type.FIND_PEERS_CONNECTED_TO_PEER:
      throw Errors.notSupported('not supported')
    case DHTRequest.Type.FIND_PROVIDERS: {
      const cid = parseCid(need(d.cid, 'cid'))
      return await streamResults(rc, doFindProviders(ctx, cid, d.count ?? 20, o),
        p => ({ type: DHTResponse.Type.VALUE, peer: peerInfo(p.id, p.multiaddrs) }))
    }
    case DHTRequest.Type.GET_CLOSEST_PEERS:
      return await streamResults(rc, doGetClosestPeers(ctx, need(d.key, 'key'), o),
        p => ({ type: DHTResponse.Type.VALUE, value: peerBytes(p.id) }))
    case DHTRequest.Type.GET_PUBLIC_KEY: {
      const key = await doGetPublicKey(ctx, parsePeerId(need(d.peer, 'peer')), o)
      return okResponse({ dht: { type: DHTResponse.Type.VALUE, value: publicKeyToProtobuf(key) } })
    }
    case DHTRequest.Type.GET_VALUE: {
      const value = await doGetValue(ctx, need(d.key, 'key'), o)
      return okResponse({ dht: { type: DHTResponse.Type.VALUE, value } })
    }
    case DHTRequest.Type.SEARCH_VALUE:
      return await streamResults(rc, doSearchValue(ctx, need(d.key, 'key'), o),
        value => ({ type: DHTResponse.Type.VALUE, value }))
    case DHTRequest.Type.PUT_VALUE:
      // an empty value is a value; only a missing one is malformed
      if (d.value === undefined) throw Errors.badRequest('Malformed request; missing parameters: value')
      await doPutValue(ctx, need(d.key, 'key'), d.value, o)
      return okResponse()
    case DHTRequest.Type.PROVIDE:
      await doProvide(ctx, parseCid(need(d.cid, 'cid')), o)
      return okResponse()
    default:
      throw Errors.badRequest(`unknown DHT request type ${String(d.type)}`)
  }
}
