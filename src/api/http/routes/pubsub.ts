/**
 * Pubsub over HTTP: topics, topic peers, publish, and subscribe as an NDJSON/SSE stream
 * of messages that lasts until the client disconnects (the daemon then unsubscribes).
 */
import { Type } from 'typebox'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { doGetTopics, doListTopicPeers, doPublish, doSubscribe } from '../../../core/pubsub.js'
import { checkFeedLimit } from '../../../core/limits.js'
import { decodeBase64 } from '../../../core/parse.js'
import { Errors } from '../../../errors.js'
import { BoundedQueue, sendStream } from '../ndjson.js'
import { Base64String, NoContent, PubsubMessageSchema, errorResponses, ndjsonResponse } from '../schemas.js'
import { b64 } from '../views.js'
import type { App, HttpContext } from '../http-context.js'
import type { PubsubMessage } from '../../../core/pubsub.js'

/** Messages a subscriber may fall behind before its subscription is ended. */
const MAX_UNREAD_MESSAGES = 4096

const TopicParams = Type.Object({ topic: Type.String({ minLength: 1, maxLength: 1024 }) })

function messageJson (m: PubsubMessage): Record<string, string> {
  const out: Record<string, string> = { data: b64(m.data), topic: m.topic }
  if (m.from !== undefined) out.from = m.from.toString()
  if (m.seqno !== undefined) out.seqno = b64(m.seqno)
  if (m.signature !== undefined) out.signature = b64(m.signature)
  if (m.key !== undefined) out.key = b64(publicKeyToProtobuf(m.key))
  return out
}

/** Registers the pubsub routes. */
export function pubsubRoutes (app: App, hctx: HttpContext): void {
  const ctx = hctx.core
  const tags = ['pubsub']

  app.get('/api/daemon/pubsub/topics', {
    schema: { tags, summary: 'Topics this daemon is subscribed to', response: { 200: Type.Object({ topics: Type.Array(Type.String()) }), ...errorResponses(409) } }
  }, async () => ({ topics: doGetTopics(ctx) }))

  app.get('/api/daemon/pubsub/topics/:topic/peers', {
    schema: { tags, summary: 'Connected peers subscribed to a topic', params: TopicParams, response: { 200: Type.Object({ peers: Type.Array(Type.String()) }), ...errorResponses(409) } }
  }, async req => ({ peers: doListTopicPeers(ctx, req.params.topic).map(p => p.toString()) }))

  app.post('/api/daemon/pubsub/topics/:topic/publish', {
    schema: { tags, summary: 'Publish a message', params: TopicParams, body: Type.Object({ data: Base64String }), response: { 204: NoContent, ...errorResponses(409) } }
  }, async (req, reply) => {
    await doPublish(ctx, req.params.topic, decodeBase64(req.body.data))
    return await reply.code(204).send(null)
  })

  app.post('/api/daemon/pubsub/topics/:topic/subscribe', {
    schema: {
      tags,
      summary: 'Subscribe: a stream of messages until the client disconnects; first line {"subscribed": topic}',
      params: TopicParams,
      response: { 200: ndjsonResponse(PubsubMessageSchema, 'NDJSON lines of messages'), ...errorResponses(409) }
    }
  }, async (req, reply) => {
    const topic = req.params.topic
    doGetTopics(ctx) // throws ERR_PUBSUB_NOT_ENABLED before the response starts
    checkFeedLimit(ctx) // -maxSubscriptions: a 429 before the response starts
    await sendStream(req, reply, async function * (signal) {
      const queue = new BoundedQueue<Record<string, string>>(signal, MAX_UNREAD_MESSAGES, () => Errors.limitReached(`subscriber fell ${MAX_UNREAD_MESSAGES} messages behind; subscription ended`))
      const unsubscribe = doSubscribe(ctx, topic, m => { queue.push(messageJson(m)) })
      try {
        yield { subscribed: topic }
        yield * queue
      } finally {
        unsubscribe()
      }
    }, hctx.closing)
  })
}
