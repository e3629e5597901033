/**
 * Pubsub operations. Subscriptions are reference-counted per topic: several programs (on
 * either plane) can subscribe to one topic, and the daemon leaves it when the last goes.
 */
import { Errors } from '../errors.js'
import { acquireFeed } from './limits.js'
import type { CoreContext } from './context.js'
import type { PeerId, PublicKey } from '@libp2p/interface'

/** A received pubsub message (p2pd's PSMessage). */
export interface PubsubMessage {
  from?: PeerId
  data: Uint8Array
  seqno?: Uint8Array
  topic: string
  signature?: Uint8Array
  key?: PublicKey
}

interface PubSub {
  isStarted(): boolean
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  publish(topic: string, data: Uint8Array): Promise<unknown>
  getTopics(): string[]
  getSubscribers(topic: string): PeerId[]
  addEventListener(type: 'message', fn: (evt: CustomEvent<any>) => void): void
  removeEventListener(type: 'message', fn: (evt: CustomEvent<any>) => void): void
}

function pubsubOf (ctx: CoreContext): PubSub {
  const ps = (ctx.node.services as Record<string, unknown>).pubsub as PubSub | undefined
  if (ps === undefined) throw Errors.pubsubDisabled()
  return ps
}

const refs = new WeakMap<CoreContext, Map<string, number>>()

function seqnoBytes (n: bigint | undefined): Uint8Array | undefined {
  if (n === undefined) return undefined
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, n))
  return out
}

/** Topics this daemon is subscribed to. */
export function doGetTopics (ctx: CoreContext): string[] {
  return pubsubOf(ctx).getTopics()
}

/** Peers subscribed to `topic` that this daemon is connected to. */
export function doListTopicPeers (ctx: CoreContext, topic: string): PeerId[] {
  if (topic === '') throw Errors.badRequest('a topic is required')
  return pubsubOf(ctx).getSubscribers(topic)
}

/** Publishes `data` on `topic`. */
export async function doPublish (ctx: CoreContext, topic: string, data: Uint8Array): Promise<void> {
  if (topic === '') throw Errors.badRequest('a topic is required')
  const ps = pubsubOf(ctx)
  try {
    await ps.publish(topic, data)
  } catch (err: any) {
    // publishing with nobody subscribed is not an error for a daemon client
    if (err?.message?.includes('NoPeersSubscribedToTopic') === true || err?.name === 'PublishError') return
    throw err
  }
}

/**
 * Subscribes to `topic`; `onMessage` gets every message until the returned function is
 * called (which must be called exactly once, when the subscriber goes away).
 */
export function doSubscribe (ctx: CoreContext, topic: string, onMessage: (msg: PubsubMessage) => void): () => void {
  if (topic === '') throw Errors.badRequest('a topic is required')
  const ps = pubsubOf(ctx)
  const releaseFeed = acquireFeed(ctx, `a subscription to ${JSON.stringify(topic.slice(0, 100))}`)
  let counts = refs.get(ctx)
  if (counts === undefined) { counts = new Map(); refs.set(ctx, counts) }
  const listener = (evt: CustomEvent<any>): void => {
    const m = evt.detail?.msg ?? evt.detail
    if (m?.topic !== topic) return
    onMessage({
      from: m.type === 'signed' ? m.from : undefined,
      data: m.data,
      seqno: seqnoBytes(m.sequenceNumber),
      topic: m.topic,
      signature: m.signature,
      key: m.key
    })
  }
  counts.set(topic, (counts.get(topic) ?? 0) + 1)
  ps.subscribe(topic)
  ps.addEventListener('message', listener)
  let done = false
  return () => {
    if (done) return
    done = true
    releaseFeed()
    ps.removeEventListener('message', listener)
    const n = (counts.get(topic) ?? 1) - 1
    if (n <= 0) {
      counts.delete(topic)
      // a subscriber can go after the service stopped (a p2pd feed ends as its plane closes,
      // while the host stops): the topic is left then, and unsubscribe would throw
      if (ps.isStarted()) ps.unsubscribe(topic)
    } else {
      counts.set(topic, n)
    }
  }
}
