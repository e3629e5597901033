/**
 * Connection manager over HTTP: tag, untag, protect, unprotect and trim.
 */
import { Type } from 'typebox'
import { doProtectPeer, doTagPeer, doTrim, doUnprotectPeer, doUntagPeer } from '../../../core/connmgr.js'
import { parsePeerId } from '../../../core/parse.js'
import { NoContent, PeerIdString, errorResponses } from '../schemas.js'
import type { App, HttpContext } from '../http-context.js'

const Tag = Type.String({ minLength: 1, maxLength: 256 })

/** Registers the connection manager routes. */
export function connmgrRoutes (app: App, hctx: HttpContext): void {
  const ctx = hctx.core
  const tags = ['connmgr']
  const noContent = { 204: NoContent, ...errorResponses(409) }

  app.post('/api/daemon/connmgr/tag', {
    schema: { tags, summary: 'Tag a peer with a weight (0-100)', body: Type.Object({ peerID: PeerIdString, tag: Tag, weight: Type.Number({ minimum: 0, maximum: 100 }) }), response: noContent }
  }, async (req, reply) => {
    await doTagPeer(ctx, parsePeerId(req.body.peerID), req.body.tag, req.body.weight)
    return await reply.code(204).send(null)
  })

  app.post('/api/daemon/connmgr/untag', {
    schema: { tags, summary: 'Remove a tag', body: Type.Object({ peerID: PeerIdString, tag: Tag }), response: noContent }
  }, async (req, reply) => {
    await doUntagPeer(ctx, parsePeerId(req.body.peerID), req.body.tag)
    return await reply.code(204).send(null)
  })

  app.post('/api/daemon/connmgr/protect', {
    schema: { tags, summary: 'Protect a peer\'s connections from trimming', body: Type.Object({ peerID: PeerIdString, tag: Tag }), response: noContent }
  }, async (req, reply) => {
    await doProtectPeer(ctx, parsePeerId(req.body.peerID), req.body.tag)
    return await reply.code(204).send(null)
  })

  app.post('/api/daemon/connmgr/unprotect', {
    schema: { tags, summary: 'Remove a protection', body: Type.Object({ peerID: PeerIdString, tag: Tag }), response: noContent }
  }, async (req, reply) => {
    await doUnprotectPeer(ctx, parsePeerId(req.body.peerID), req.body.tag)
    return await reply.code(204).send(null)
  })

  app.post('/api/daemon/connmgr/trim', {
    schema: { tags, summary: 'Close connections down to the low water mark', response: { 200: Type.Object({ closed: Type.Integer() }), ...errorResponses(409) } }
  }, async () => ({ closed: await doTrim(ctx) }))
}
