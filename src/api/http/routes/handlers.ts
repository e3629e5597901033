/**
 * Protocol handlers of the HTTP plane: register a callback server for protocols (replace,
 * or share round-robin with `balanced`), list them, remove them. They live in the one
 * registry both planes share.
 */
import { Type } from 'typebox'
import { checkProtocol } from '../../../core/parse.js'
import { callbackTarget, parseCallback } from '../callback.js'
import { HandlerSchema, NoContent, RegisterHandlerBody, errorResponses } from '../schemas.js'
import type { App, HttpContext } from '../http-context.js'

/** Registers the handler routes. */
export function handlerRoutes (app: App, hctx: HttpContext): void {
  const ctx = hctx.core

  app.post('/api/daemon/handlers', {
    schema: {
      tags: ['handlers'],
      summary: 'Deliver incoming streams of these protocols to a callback server',
      body: RegisterHandlerBody,
      response: { 204: NoContent, ...errorResponses(409) }
    }
  }, async (req, reply) => {
    const protocols = req.body.protocols.map(checkProtocol)
    const cb = parseCallback(req.body.callback)
    await ctx.handlers.add(protocols, callbackTarget(ctx, hctx.callbacks, cb), req.body.balanced === true ? 'balanced' : 'replace')
    return await reply.code(204).send(null)
  })

  app.get('/api/daemon/handlers', {
    schema: { tags: ['handlers'], summary: 'Registered protocols and their callbacks (p2pd-plane targets show their address)', response: { 200: Type.Array(HandlerSchema), ...errorResponses() } }
  }, async () => ctx.handlers.list().map(h => ({ protocol: h.protocol, callbacks: h.targets.map(t => t.address) })))

  app.delete('/api/daemon/handlers/:protocol', {
    schema: {
      tags: ['handlers'],
      summary: 'Stop serving a protocol (or only remove one callback with ?callback=)',
      params: Type.Object({ protocol: Type.String({ minLength: 1, maxLength: 1024 }) }),
      querystring: Type.Object({ callback: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })) }),
      response: { 204: NoContent, ...errorResponses(404) }
    }
  }, async (req, reply) => {
    const protocol = checkProtocol(req.params.protocol)
    await ctx.handlers.remove([protocol], req.query.callback)
    return await reply.code(204).send(null)
  })
}
