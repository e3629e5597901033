/**
 * PUBSUB requests (go-libp2p-daemon's pubsub.go): GET_TOPICS, LIST_PEERS (needs a topic, as
 * the Go daemon), PUBLISH, and SUBSCRIBE, which turns the connection into a feed of bare
 * `PSMessage`s and unsubscribes when the client closes it.
 */
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { doGetTopics, doListTopicPeers, doPublish, doSubscribe } from '../../core/pubsub.js'
import { Errors } from '../../errors.js'
import { PSMessage, PSRequest } from '../../proto/p2pd.js'
import { startFeed } from './feed.js'
import { okResponse, peerBytes } from './responses.js'
import type { Reply, RequestContext } from './session.js'
import type { PubsubMessage } from '../../core/pubsub.js'
import type { Request } from '../../proto/p2pd.js'

function toPSMessage (m: PubsubMessage): PSMessage {
  return {
    from: m.from !== undefined ? peerBytes(m.from) : undefined,
    data: m.data,
    seqno: m.seqno,
    topicIDs: [m.topic],
    signature: m.signature,
    key: m.key !== undefined ? publicKeyToProtobuf(m.key) : undefined
  }
}

function topicOf (req: NonNullable<Request['pubsub']>): string {
  if (req.topic === undefined || req.topic === '') throw Errors.badRequest('Malformed request; missing parameters: topic')
  return req.topic
}

/** PUBSUB: dispatches on `pubsub.type`. */
export async function pubsub (rc: RequestContext, req: Request): Promise<Reply> {
  const p = req.pubsub
  if (p === undefined || p.type === undefined) throw Errors.badRequest()
  const { ctx } = rc
  switch (p.type) {
    case PSRequest.Type.GET_TOPICS:
      return okResponse({ pubsub: { topics: doGetTopics(ctx), peerIDs: [] } })
    case PSRequest.Type.LIST_PEERS:
      return okResponse({ pubsub: { topics: [], peerIDs: doListTopicPeers(ctx, topicOf(p)).map(peerBytes) } })
    case PSRequest.Type.PUBLISH:
      await doPublish(ctx, topicOf(p), p.data ?? new Uint8Array(0))
      return okResponse()
    case PSRequest.Type.SUBSCRIBE: {
      const topic = topicOf(p)
      const { session } = rc
      // subscribe before answering, so a message published right after OK is not missed
      let push: ((bytes: Uint8Array) => void) | undefined
      const unsubscribe = doSubscribe(ctx, topic, m => { push?.(PSMessage.encode(toPSMessage(m))) })
      try {
        await session.respond(okResponse())
      } catch (err) {
        unsubscribe()
        throw err
      }
      startFeed(session, `pubsub:${topic}`, p => { push = p; return unsubscribe })
      return 'taken'
    }
    default:
      throw Errors.badRequest(`unknown pubsub request type ${String(p.type)}`)
  }
}
