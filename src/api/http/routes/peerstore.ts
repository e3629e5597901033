/**
 * Peerstore queries over HTTP.
 */
import { Type } from 'typebox'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { doGetPeerRecord, doGetProtocols } from '../../../core/peerstore.js'
import { peerParam } from '../http-context.js'
import { PeerIdParams, PeerRecordSchema, errorResponses } from '../schemas.js'
import { b64 } from '../views.js'
import type { App, HttpContext } from '../http-context.js'

/** Registers the peerstore routes. */
export function peerstoreRoutes (app: App, hctx: HttpContext): void {
  const ctx = hctx.core
  const tags = ['peerstore']

  app.get('/api/daemon/peerstore/:id', {
    schema: { tags, summary: 'Everything the peerstore knows about a peer', params: PeerIdParams, response: { 200: PeerRecordSchema, ...errorResponses(404) } }
  }, async req => {
    const r = await doGetPeerRecord(ctx, peerParam(req.params))
    return {
      peerID: r.peerId.toString(),
      addresses: r.addrs.map(a => a.toString()),
      protocols: r.protocols,
      ...(r.publicKey !== undefined ? { publicKey: b64(publicKeyToProtobuf(r.publicKey)) } : {}),
      ...(r.agentVersion !== undefined ? { agentVersion: r.agentVersion } : {}),
      ...(r.protocolVersion !== undefined ? { protocolVersion: r.protocolVersion } : {}),
      tags: r.tags
    }
  })

  app.get('/api/daemon/peerstore/:id/protocols', {
    schema: { tags, summary: 'Protocols a peer is known to support', params: PeerIdParams, response: { 200: Type.Object({ protocols: Type.Array(Type.String()) }), ...errorResponses() } }
  }, async req => ({ protocols: await doGetProtocols(ctx, peerParam(req.params)) }))
}
