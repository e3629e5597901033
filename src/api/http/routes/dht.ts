/**
 * The DHT over HTTP: every p2pd DHT operation as a POST with a JSON body. Searches that
 * yield many results stream NDJSON (or SSE); the query stops when the client disconnects.
 */
import { Type } from 'typebox'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { doFindPeer, doFindProviders, doGetClosestPeers, doGetPublicKey, doGetValue, doPutValue, doProvide, doSearchValue } from '../../../core/dht.js'
import { decodeBase64, parseCid, parsePeerId } from '../../../core/parse.js'
import { Errors } from '../../../errors.js'
import { requestSignal, timeoutMs } from '../http-context.js'
import { sendStream } from '../ndjson.js'
import { Base64String, NoContent, PeerIdString, PeerInfoSchema, TimeoutSeconds, errorResponses, ndjsonResponse } from '../schemas.js'
import { b64, peerInfoJson } from '../views.js'
import type { App, HttpContext } from '../http-context.js'

const CidString = Type.String({ minLength: 1, maxLength: 512, description: 'CID' })
const KeyBase64 = Type.String({ minLength: 1, maxLength: 8192, description: 'DHT key, base64' })
const Timeout = Type.Optional(TimeoutSeconds)

/** Registers the DHT routes. */
export function dhtRoutes (app: App, hctx: HttpContext): void {
  const ctx = hctx.core
  const tags = ['dht']
  // checked before a streaming response starts, so a missing DHT is a 409, not a last line
  const requireDht = (): void => {
    if ((ctx.node.services as Record<string, unknown>).dht === undefined) throw Errors.dhtDisabled()
  }
  const key = (text: string): Uint8Array => {
    const k = decodeBase64(text)
    if (k.byteLength === 0) throw Errors.badRequest('the key must not be empty')
    return k
  }

  app.post('/api/daemon/dht/find-peer', {
    schema: { tags, summary: 'Find a peer\'s addresses', body: Type.Object({ peerID: PeerIdString, timeout: Timeout }), response: { 200: PeerInfoSchema, ...errorResponses(404, 409, 504) } }
  }, async (req, reply) => {
    requireDht()
    const info = await doFindPeer(ctx, parsePeerId(req.body.peerID), { signal: requestSignal(hctx, req, reply), timeoutMs: timeoutMs(req.body.timeout) })
    return peerInfoJson(info)
  })

  app.post('/api/daemon/dht/find-providers', {
    schema: {
      tags,
      summary: 'Stream the providers of a CID',
      body: Type.Object({ cid: CidString, count: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000 })), timeout: Timeout }),
      response: { 200: ndjsonResponse(PeerInfoSchema, 'NDJSON lines {peerID, addresses}'), ...errorResponses(409) }
    }
  }, async (req, reply) => {
    requireDht()
    const cid = parseCid(req.body.cid)
    const { count, timeout } = req.body
    await sendStream(req, reply, async function * (signal) {
      for await (const p of doFindProviders(ctx, cid, count, { signal, timeoutMs: timeoutMs(timeout) })) yield peerInfoJson(p)
    }, hctx.closing)
  })

  app.post('/api/daemon/dht/closest-peers', {
    schema: {
      tags,
      summary: 'Stream the peers closest to a key',
      body: Type.Object({ key: KeyBase64, timeout: Timeout }),
      response: { 200: ndjsonResponse(Type.Object({ peerID: Type.String() }), 'NDJSON lines {peerID}'), ...errorResponses(409) }
    }
  }, async (req, reply) => {
    requireDht()
    const k = key(req.body.key)
    const { timeout } = req.body
    await sendStream(req, reply, async function * (signal) {
      for await (const p of doGetClosestPeers(ctx, k, { signal, timeoutMs: timeoutMs(timeout) })) yield { peerID: p.id.toString() }
    }, hctx.closing)
  })

  app.post('/api/daemon/dht/public-key', {
    schema: { tags, summary: 'A peer\'s public key', body: Type.Object({ peerID: PeerIdString, timeout: Timeout }), response: { 200: Type.Object({ publicKey: Type.String() }), ...errorResponses(404, 409, 504) } }
  }, async (req, reply) => {
    requireDht()
    const pk = await doGetPublicKey(ctx, parsePeerId(req.body.peerID), { signal: requestSignal(hctx, req, reply), timeoutMs: timeoutMs(req.body.timeout) })
    return { publicKey: b64(publicKeyToProtobuf(pk)) }
  })

  app.post('/api/daemon/dht/get-value', {
    schema: { tags, summary: 'The best value stored under a key', body: Type.Object({ key: KeyBase64, timeout: Timeout }), response: { 200: Type.Object({ value: Type.String() }), ...errorResponses(404, 409, 504) } }
  }, async (req, reply) => {
    requireDht()
    const value = await doGetValue(ctx, key(req.body.key), { signal: requestSignal(hctx, req, reply), timeoutMs: timeoutMs(req.body.timeout) })
    return { value: b64(value) }
  })

  app.post('/api/daemon/dht/search-value', {
    schema: {
      tags,
      summary: 'Stream the values found under a key',
      body: Type.Object({ key: KeyBase64, timeout: Timeout }),
      response: { 200: ndjsonResponse(Type.Object({ value: Type.String() }), 'NDJSON lines {value}'), ...errorResponses(409) }
    }
  }, async (req, reply) => {
    requireDht()
    const k = key(req.body.key)
    const { timeout } = req.body
    await sendStream(req, reply, async function * (signal) {
      for await (const v of doSearchValue(ctx, k, { signal, timeoutMs: timeoutMs(timeout) })) yield { value: b64(v) }
    }, hctx.closing)
  })

  app.post('/api/daemon/dht/put-value', {
    schema: { tags, summary: 'Store a value under a key', body: Type.Object({ key: KeyBase64, value: Base64String, timeout: Timeout }), response: { 204: NoContent, ...errorResponses(409, 502, 504) } }
  }, async (req, reply) => {
    requireDht()
    await doPutValue(ctx, key(req.body.key), decodeBase64(req.body.value), { signal: requestSignal(hctx, req, reply), timeoutMs: timeoutMs(req.body.timeout) })
    return await reply.code(204).send(null)
  })

  app.post('/api/daemon/dht/provide', {
    schema: { tags, summary: 'Announce that this daemon provides a CID', body: Type.Object({ cid: CidString, timeout: Timeout }), response: { 204: NoContent, ...errorResponses(409, 502, 504) } }
  }, async (req, reply) => {
    requireDht()
    await doProvide(ctx, parseCid(req.body.cid), { signal: requestSignal(hctx, req, reply), timeoutMs: timeoutMs(req.body.timeout) })
    return await reply.code(204).send(null)
  })
}
