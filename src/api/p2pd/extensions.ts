/**
 * libp2pd extensions, on numbers no p2pd dialect uses (see src/proto/p2pd.proto):
 * - VERSION (20): `OK{version{name, version, protocolVersion}}`, the compatibility probe
 *   proposed in py-libp2p-daemon-bindings#43.
 * - STREAM_RESET (21): resets the stream named by `streamReset.id` (the `id` field of the
 *   StreamInfo the daemon sent), which p2pd never offered (go-libp2p-daemon#141).
 * - EVENTS (22): `OK`, then a feed of bare `Event` messages (peer connected/disconnected,
 *   stream opened/closed) until the client closes (go-libp2p-daemon#90).
 */
import { multiaddr } from '@multiformats/multiaddr'
import { subscribeEvents } from '../../core/events.js'
import { parsePeerId } from '../../core/parse.js'
import { Errors } from '../../errors.js'
import { AGENT_VERSION, PROTOCOL_VERSION, VERSION } from '../../host/version.js'
import { Event } from '../../proto/p2pd.js'
import { startFeed } from './feed.js'
import { okResponse } from './responses.js'
import type { Reply, RequestContext } from './session.js'
import type { DaemonEvent } from '../../core/events.js'
import type { Request } from '../../proto/p2pd.js'

/** The daemon's name as VERSION reports it. */
export const DAEMON_NAME = AGENT_VERSION.split('/')[0]

/** VERSION: who is answering. */
export async function version (): Promise<Reply> {
  return okResponse({ version: { name: DAEMON_NAME, version: VERSION, protocolVersion: PROTOCOL_VERSION } })
}

/** STREAM_RESET: the remote sees a reset and the stream's socket is closed. */
export async function streamReset (rc: RequestContext, req: Request): Promise<Reply> {
  const id = req.streamReset?.id
  if (id === undefined || id === '') throw Errors.badRequest('Malformed request; missing parameters: streamReset.id')
  rc.ctx.streams.reset(id)
  return okResponse()
}

const EVENT_TYPES: Record<DaemonEvent['type'], Event.Type> = {
  PEER_CONNECTED: Event.Type.CONNECTED,
  PEER_DISCONNECTED: Event.Type.DISCONNECTED,
  STREAM_OPENED: Event.Type.STREAM_OPENED,
  STREAM_CLOSED: Event.Type.STREAM_CLOSED
}

/** Encodes a daemon event; fields that do not parse are left out rather than failing the feed. */
export function toEvent (e: DaemonEvent): Event {
  let peer: Uint8Array | undefined
  let addr: Uint8Array | undefined
  try { peer = parsePeerId(e.peerID).toMultihash().bytes } catch {}
  try { if (e.addr !== undefined) addr = multiaddr(e.addr).bytes } catch {}
  return { type: EVENT_TYPES[e.type], peer, addr, proto: e.protocol, streamId: e.streamId }
}

/** EVENTS: the connection becomes a feed of events. */
export async function events (rc: RequestContext): Promise<Reply> {
  const { session } = rc
  let push: ((bytes: Uint8Array) => void) | undefined
  const unsubscribe = subscribeEvents(rc.ctx, e => { push?.(Event.encode(toEvent(e))) })
  try {
    await session.respond(okResponse())
  } catch (err) {
    unsubscribe()
    throw err
  }
  startFeed(session, 'events', p => { push = p; return unsubscribe })
  return 'taken'
}
