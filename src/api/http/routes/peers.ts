/**
 * The spec's peer routes (`POST/GET /api/daemon/peers`, `GET /api/daemon/peers/:id`) and
 * the connection extensions (connect, disconnect, list connections).
 */
import { Type } from 'typebox'
import { doConnect, doDisconnect } from '../../../core/connect.js'
import { MAX_ADDRS_PER_REQUEST } from '../../../core/limits.js'
import { parseMultiaddr, parsePeerId } from '../../../core/parse.js'
import { doAddPeer, doGetPeer, doListConnections, doListPeers } from '../../../core/peers.js'
import { peerParam, requestSignal, timeoutMs } from '../http-context.js'
import { ConnectionSchema, MultiaddrString, NoContent, PeerIdParams, PeerInput, PeerSchema, TimeoutSeconds, errorResponses, optionalBody } from '../schemas.js'
import { peerJson } from '../views.js'
import type { App, HttpContext } from '../http-context.js'

/** Registers the peer routes. */
export function peerRoutes (app: App, hctx: HttpContext): void {
  const ctx = hctx.core

  app.post('/api/daemon/peers', {
    schema: { tags: ['peers'], summary: 'Add a peer\'s addresses to the peerstore', body: PeerInput, response: { 204: NoContent, ...errorResponses() } }
  }, async (req, reply) => {
    const peerId = parsePeerId(req.body.peerID)
    const addrs = req.body.addresses.map(a => parseMultiaddr(a))
    await doAddPeer(ctx, peerId, addrs)
    return await reply.code(204).send(null)
  })

  app.get('/api/daemon/peers', {
    schema: { tags: ['peers'], summary: 'Every peer in the peerstore', response: { 200: Type.Array(PeerSchema), ...errorResponses() } }
  }, async () => (await doListPeers(ctx)).map(p => peerJson(ctx, p)))

  app.get('/api/daemon/peers/:id', {
    schema: { tags: ['peers'], summary: 'One peer', params: PeerIdParams, response: { 200: PeerSchema, ...errorResponses(404) } }
  }, async req => peerJson(ctx, await doGetPeer(ctx, peerParam(req.params))))

  app.post('/api/daemon/peers/:id/connect', {
    schema: {
      tags: ['peers'],
      summary: 'Connect to a peer (at the given addresses, or those the daemon knows)',
      params: PeerIdParams,
      body: optionalBody(Type.Object({
        addresses: Type.Optional(Type.Array(MultiaddrString, { maxItems: MAX_ADDRS_PER_REQUEST })),
        timeout: Type.Optional(TimeoutSeconds)
      })),
      response: { 204: NoContent, ...errorResponses(502, 504) }
    }
  }, async (req, reply) => {
    const peerId = peerParam(req.params)
    const addrs = (req.body?.addresses ?? []).map(a => parseMultiaddr(a))
    await doConnect(ctx, peerId, addrs, { signal: requestSignal(hctx, req, reply), timeoutMs: timeoutMs(req.body?.timeout) })
    return await reply.code(204).send(null)
  })

  app.post('/api/daemon/peers/:id/disconnect', {
    schema: { tags: ['peers'], summary: 'Close every connection to a peer', params: PeerIdParams, response: { 204: NoContent, ...errorResponses() } }
  }, async (req, reply) => {
    await doDisconnect(ctx, peerParam(req.params), { signal: requestSignal(hctx, req, reply) })
    return await reply.code(204).send(null)
  })

  app.get('/api/daemon/connections', {
    schema: { tags: ['peers'], summary: 'Live connections', response: { 200: Type.Array(ConnectionSchema), ...errorResponses() } }
  }, async () => doListConnections(ctx).map(c => ({
    peerID: c.peerId.toString(),
    address: c.addr.toString(),
    direction: c.direction === 'inbound' ? 'INCOMING' as const : 'OUTGOING' as const,
    limited: c.limited
  })))
}
