/**
 * Streams over p2pd (go-libp2p-daemon's conn.go + stream.go):
 * - STREAM_OPEN: reply `OK{streamInfo}`, then the control connection becomes the stream.
 * - STREAM_HANDLER: for every inbound stream the daemon dials the registered address,
 *   writes one bare varint-delimited `StreamInfo`, then pipes bytes. The target goes into
 *   the registry shared with the HTTP plane. Upstream requests (no `balanced`) replace
 *   earlier registrations as p2pd does; hivemind's `balanced: true` adds a round-robin
 *   target and `balanced: false` refuses a protocol another target already serves.
 * - REMOVE_STREAM_HANDLER (hivemind 10, libp2pd 23): remove one address from protocols.
 */
import { connect as netConnect } from 'node:net'
import { parseMultiaddr, parsePeerId, checkProtocol } from '../../core/parse.js'
import { deadline } from '../../core/deadline.js'
import { doOpenStream, trackStream } from '../../core/streams.js'
import { Errors } from '../../errors.js'
import { isLoopbackHost, parseEndpoint } from '../../net/endpoint.js'
import { StreamInfo } from '../../proto/p2pd.js'
import { bridgeStream } from '../../streams/bridge.js'
import { encodeDelimited } from './framing.js'
import { okResponse, peerBytes } from './responses.js'
import type { Reply, RequestContext } from './session.js'
import type { CoreContext } from '../../core/context.js'
import type { Request, RemoveStreamHandlerRequest } from '../../proto/p2pd.js'
import type { HandlerTarget, RegisterMode } from '../../streams/handlers.js'
import type { Direction } from '../../streams/table.js'
import type { Connection, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Socket } from 'node:net'

/** How long the daemon tries to reach a client's stream handler address. */
export const HANDLER_DIAL_TIMEOUT_MS = 10_000

function streamInfo (stream: Stream, connection: Connection, id: string): StreamInfo {
  return { peer: peerBytes(connection.remotePeer), addr: connection.remoteAddr.bytes, proto: stream.protocol, id }
}

/**
 * Tracks the stream in the shared table, lets `announce` write the StreamInfo (it needs the
 * table's id), then bridges the socket and the stream until both are done.
 */
async function pipeWithInfo (ctx: CoreContext, socket: Socket, stream: Stream, connection: Connection, direction: Direction,
  announce: (info: StreamInfo) => Promise<void>): Promise<void> {
  const entry = trackStream(ctx, stream, connection, direction, 'p2pd')
  try {
    await announce(streamInfo(stream, connection, entry.id))
  } catch (err: any) {
    ctx.streams.remove(entry.id, err)
    stream.abort(err)
    socket.destroy()
    return
  }
  socket.setNoDelay?.(true)
  const result = await bridgeStream(socket, stream, { counters: entry.counters })
  ctx.streams.remove(entry.id, result.error)
}

/** STREAM_OPEN: the control connection becomes the stream. */
export async function streamOpen (rc: RequestContext, req: Request): Promise<Reply> {
  const o = req.streamOpen
  if (o === undefined || o.proto.length === 0) throw Errors.badRequest()
  const peer = parsePeerId(o.peer)
  const protocols = o.proto.map(p => checkProtocol(p))
  const { stream, connection } = await doOpenStream(rc.ctx, peer, protocols, { signal: rc.signal, timeoutMs: rc.timeoutMs })
  const { session } = rc
  void pipeWithInfo(rc.ctx, session.socket, stream, connection, 'OUTGOING', async info => {
    await session.respond(okResponse({ streamInfo: info }))
  })
  return 'taken'
}

/** Connects to a client's handler address (unix or TCP), within `signal`. */
export async function dialClient (addr: Multiaddr, signal: AbortSignal): Promise<Socket> {
  const ep = parseEndpoint(addr.toString())
  const socket = ep.kind === 'unix'
    ? netConnect({ path: ep.path, allowHalfOpen: true })
    : netConnect({ host: ep.host, port: ep.port, family: ep.family, allowHalfOpen: true })
  return await new Promise<Socket>((resolve, reject) => {
    const done = (err?: Error): void => {
      socket.off('connect', onConnect)
      socket.off('error', done)
      signal.removeEventListener('abort', onAbort)
      if (err === undefined) { resolve(socket); return }
      socket.destroy()
      reject(err)
    }
    const onConnect = (): void => { done() }
    const onAbort = (): void => { done(Errors.callbackFailed(`could not reach the stream handler at ${addr.toString()}: timed out`)) }
    socket.once('connect', onConnect)
    socket.once('error', done)
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** A registry target that hands every inbound stream to the client listening at `addr`. */
export function p2pdTarget (ctx: CoreContext, addr: Multiaddr): HandlerTarget {
  const key = addr.toString()
  return {
    key,
    kind: 'p2pd',
    address: key,
    async deliver (stream, connection) {
      const limit = deadline(HANDLER_DIAL_TIMEOUT_MS)
      let socket: Socket
      try {
        socket = await dialClient(addr, limit.signal)
      } finally {
        limit.clear()
      }
      socket.on('error', () => {})
      void pipeWithInfo(ctx, socket, stream, connection, 'INCOMING', async info => {
        // the bare StreamInfo (not wrapped in a Response), as p2pd writes it
        socket.write(encodeDelimited(StreamInfo.encode(info)))
      })
    }
  }
}

function handlerAddress (ctx: CoreContext, bytes: Uint8Array): Multiaddr {
  const addr = parseMultiaddr(bytes)
  // refuse what we could never dial, now rather than at the first inbound stream
  const ep = parseEndpoint(addr.toString())
  // the daemon only ever dials its own programs: a handler address elsewhere would let a
  // client aim the daemon's connections at other hosts
  if (ep.kind === 'tcp' && !isLoopbackHost(ep.host)) throw Errors.badRequest(`stream handler address ${addr.toString()} is not a loopback or unix address`)
  // nor at itself: remote peers would be talking to its control plane (net/own-endpoints.ts)
  if (ctx.ownEndpoints.includes(ep)) throw Errors.badRequest(`stream handler address ${addr.toString()} is this daemon's own control endpoint`)
  return addr
}

/** STREAM_HANDLER: register the client's address for the protocols. */
export async function streamHandler (rc: RequestContext, req: Request): Promise<Reply> {
  const h = req.streamHandler
  if (h === undefined || h.proto.length === 0) throw Errors.badRequest()
  const addr = handlerAddress(rc.ctx, h.addr)
  const protocols = h.proto.map(p => checkProtocol(p))
  const mode: RegisterMode = h.balanced === undefined ? 'replace' : h.balanced ? 'balanced' : 'exclusive'
  await rc.ctx.handlers.add(protocols, p2pdTarget(rc.ctx, addr), mode)
  return okResponse()
}

/** REMOVE_STREAM_HANDLER: stop delivering the protocols to this address. */
export async function removeStreamHandler (rc: RequestContext, r: RemoveStreamHandlerRequest | undefined): Promise<Reply> {
  if (r === undefined || r.proto.length === 0) throw Errors.badRequest()
  const addr = parseMultiaddr(r.addr)
  await rc.ctx.handlers.remove(r.proto.map(p => checkProtocol(p)), addr.toString())
  return okResponse()
}
