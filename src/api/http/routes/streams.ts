/**
 * Streams: the spec's `POST /api/daemon/peers/:id/streams` (201 with the `Stream`, whose
 * `socketPath` the program connects to), and listing and resetting open streams.
 */
import { Type } from 'typebox'
import { checkProtocol, parseMultiaddr } from '../../../core/parse.js'
import { doOpenStream, exposeStreamSocket } from '../../../core/streams.js'
import { Errors } from '../../../errors.js'
import { peerParam, requestSignal, timeoutMs } from '../http-context.js'
import { NoContent, OpenStreamBody, optionalBody, PeerIdParams, ProtocolString, StreamSchema, errorResponses } from '../schemas.js'
import { streamJson } from '../views.js'
import type { App, HttpContext } from '../http-context.js'

const StreamIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })

/** Registers the stream routes. */
export function streamRoutes (app: App, hctx: HttpContext): void {
  const ctx = hctx.core

  app.post('/api/daemon/peers/:id/streams', {
    schema: {
      tags: ['streams'],
      summary: 'Open a stream to a peer; connect to the returned socketPath to use it',
      params: PeerIdParams,
      querystring: Type.Object({ protocol: Type.Optional(ProtocolString) }),
      body: optionalBody(OpenStreamBody),
      response: { 201: StreamSchema, ...errorResponses(429, 502, 504) }
    }
  }, async (req, reply) => {
    const peerId = peerParam(req.params)
    const body = req.body ?? {}
    const protocols = body.protocols ?? (body.protocol !== undefined ? [body.protocol] : (req.query.protocol !== undefined ? [req.query.protocol] : []))
    if (protocols.length === 0) throw Errors.badRequest('a protocol is required: {"protocol": "/x/1.0.0"}, {"protocols": [...]} or ?protocol=')
    protocols.forEach(checkProtocol)
    const addrs = body.address !== undefined ? [parseMultiaddr(body.address)] : undefined
    const signal = requestSignal(hctx, req, reply)
    const { stream, connection } = await doOpenStream(ctx, peerId, protocols, { signal, addrs, timeoutMs: timeoutMs(body.timeout) })
    if (signal.aborted) {
      // the program left while the stream was being opened: nobody will ever use it
      stream.abort(Errors.shuttingDown('the program went away before the stream was opened'))
      throw Errors.timeout('request aborted')
    }
    const entry = await exposeStreamSocket(ctx, stream, connection, 'OUTGOING')
    return await reply.code(201).send(streamJson(entry))
  })

  app.get('/api/daemon/streams', {
    schema: { tags: ['streams'], summary: 'Open streams', response: { 200: Type.Array(StreamSchema), ...errorResponses() } }
  }, async () => ctx.streams.list().map(streamJson))

  app.get('/api/daemon/streams/:id', {
    schema: { tags: ['streams'], summary: 'One open stream', params: StreamIdParams, response: { 200: StreamSchema, ...errorResponses(404) } }
  }, async req => {
    const entry = ctx.streams.get(req.params.id)
    if (entry === undefined) throw Errors.streamNotFound(`no open stream with id ${req.params.id}`)
    return streamJson(entry)
  })

  app.delete('/api/daemon/streams/:id', {
    schema: { tags: ['streams'], summary: 'Reset a stream (the remote sees a reset, the socket is closed)', params: StreamIdParams, response: { 204: NoContent, ...errorResponses(404) } }
  }, async (req, reply) => {
    ctx.streams.reset(req.params.id)
    return await reply.code(204).send(null)
  })
}
