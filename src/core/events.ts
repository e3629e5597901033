/**
 * The daemon's event feed: peer connected/disconnected and stream opened/closed, for the
 * HTTP event stream and the p2pd EVENTS extension.
 */
import { acquireFeed } from './limits.js'
import type { CoreContext } from './context.js'
import type { StreamEntry } from '../streams/table.js'

/** One event. */
export interface DaemonEvent {
  type: 'PEER_CONNECTED' | 'PEER_DISCONNECTED' | 'STREAM_OPENED' | 'STREAM_CLOSED'
  peerID: string
  at: string
  addr?: string
  protocol?: string
  streamId?: string
  direction?: 'INCOMING' | 'OUTGOING'
  /** Why a stream closed, if it did not close cleanly. */
  error?: string
}

/** Calls `listener` with every event until the returned function is called. */
export function subscribeEvents (ctx: CoreContext, listener: (evt: DaemonEvent) => void): () => void {
  const releaseFeed = acquireFeed(ctx, 'an event stream')
  const now = (): string => new Date().toISOString()
  const onOpen = (evt: CustomEvent<any>): void => {
    const c = evt.detail
    listener({ type: 'PEER_CONNECTED', peerID: c.remotePeer.toString(), addr: c.remoteAddr.toString(), at: now() })
  }
  const onClose = (evt: CustomEvent<any>): void => {
    const c = evt.detail
    listener({ type: 'PEER_DISCONNECTED', peerID: c.remotePeer.toString(), addr: c.remoteAddr.toString(), at: now() })
  }
  const stream = (type: DaemonEvent['type'], e: StreamEntry, error?: Error): DaemonEvent => ({
    type, peerID: e.remoteID, addr: e.remoteAddr, protocol: e.protocol, streamId: e.id, direction: e.direction, at: now(), ...(error !== undefined ? { error: error.message } : {})
  })
  const onStreamOpened = (evt: CustomEvent<StreamEntry>): void => { listener(stream('STREAM_OPENED', evt.detail)) }
  const onStreamClosed = (evt: CustomEvent<{ entry: StreamEntry, error?: Error }>): void => { listener(stream('STREAM_CLOSED', evt.detail.entry, evt.detail.error)) }

  // connection:open/close per connection; peer:connect/disconnect fire once per peer
  ctx.node.addEventListener('connection:open', onOpen as any)
  ctx.node.addEventListener('connection:close', onClose as any)
  ctx.streams.addEventListener('stream:opened', onStreamOpened)
  ctx.streams.addEventListener('stream:closed', onStreamClosed)
  return () => {
    releaseFeed()
    ctx.node.removeEventListener('connection:open', onOpen as any)
    ctx.node.removeEventListener('connection:close', onClose as any)
    ctx.streams.removeEventListener('stream:opened', onStreamOpened)
    ctx.streams.removeEventListener('stream:closed', onStreamClosed)
  }
}
