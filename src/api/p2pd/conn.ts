/**
 * IDENTIFY, CONNECT, DISCONNECT and LIST_PEERS (go-libp2p-daemon's conn.go).
 */
import { doConnect, doDisconnect } from '../../core/connect.js'
import { doIdentify } from '../../core/identity.js'
import { parseMultiaddr, parsePeerId } from '../../core/parse.js'
import { doListConnections } from '../../core/peers.js'
import { Errors } from '../../errors.js'
import { okResponse, peerInfo } from './responses.js'
import type { Reply, RequestContext } from './session.js'
import type { Request } from '../../proto/p2pd.js'

/** IDENTIFY: the daemon's peer ID and listen addresses (without `/p2p`). */
export async function identify (rc: RequestContext): Promise<Reply> {
  const id = doIdentify(rc.ctx)
  return okResponse({ identify: { id: id.peerId.toMultihash().bytes, addrs: id.addrs.map(a => a.bytes) } })
}

/** CONNECT: dial the peer at the given addresses (added to the peerstore first). */
export async function connect (rc: RequestContext, req: Request): Promise<Reply> {
  const c = req.connect
  if (c === undefined) throw Errors.badRequest()
  const peer = parsePeerId(c.peer)
  const addrs = c.addrs.map(a => parseMultiaddr(a))
  await doConnect(rc.ctx, peer, addrs, { signal: rc.signal, timeoutMs: rc.timeoutMs })
  return okResponse()
}

/** DISCONNECT: close every connection to the peer. */
export async function disconnect (rc: RequestContext, req: Request): Promise<Reply> {
  const d = req.disconnect
  if (d === undefined) throw Errors.badRequest()
  await doDisconnect(rc.ctx, parsePeerId(d.peer), { signal: rc.signal })
  return okResponse()
}

/**
 * LIST_PEERS: one entry per connection with its remote address, as the Go daemon answers
 * (a peer with two connections is listed twice).
 */
export async function listPeers (rc: RequestContext): Promise<Reply> {
  const peers = doListConnections(rc.ctx).map(c => peerInfo(c.peerId, [c.addr]))
  return okResponse({ peers })
}
