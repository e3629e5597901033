/**
 * The request loop of one control connection (go-libp2p-daemon's conn.go `handleConn`):
 * read a varint-delimited `Request`, answer it, read the next, until the client closes or
 * a handler takes the connection over (a stream, a feed, a persistent connection).
 *
 * Unlike the Go daemon, which closes the connection silently on an unknown request type,
 * every request that cannot be served gets an ERROR response; the connection stays usable
 * when the framing is intact (bad protobuf, unknown type) and is closed after the ERROR when
 * it is not (oversize message, bad length prefix).
 */
import { Errors } from '../../errors.js'
import { decodeRequest } from '../../proto/dialect.js'
import { Request } from '../../proto/p2pd.js'
import type { Response } from '../../proto/p2pd.js'
import { connect, disconnect, identify, listPeers } from './conn.js'
import { connManager } from './connmgr.js'
import { dht } from './dht.js'
import { events, streamReset, version } from './extensions.js'
import { BadVarintError, FramingTimeoutError, MessageTooLargeError } from './framing.js'
import { persistentConnUpgrade } from './persistent.js'
import { peerStore } from './peerstore.js'
import { pubsub } from './pubsub.js'
import { errorResponse } from './responses.js'
import { Session, requestContext } from './session.js'
import { removeStreamHandler, streamHandler, streamOpen } from './streams.js'
import type { Handler, PlaneState, Reply } from './session.js'
import type { DecodedRequest } from '../../proto/dialect.js'
import type { Socket } from 'node:net'

/** Handlers of the requests every dialect shares, and of our extensions. */
const HANDLERS: Partial<Record<Request.Type, Handler>> = {
  [Request.Type.IDENTIFY]: identify,
  [Request.Type.CONNECT]: connect,
  [Request.Type.STREAM_OPEN]: streamOpen,
  [Request.Type.STREAM_HANDLER]: streamHandler,
  [Request.Type.DHT]: dht,
  [Request.Type.LIST_PEERS]: listPeers,
  [Request.Type.CONNMANAGER]: connManager,
  [Request.Type.DISCONNECT]: disconnect,
  [Request.Type.PUBSUB]: pubsub,
  [Request.Type.PEERSTORE]: peerStore,
  [Request.Type.VERSION]: version,
  [Request.Type.STREAM_RESET]: streamReset,
  [Request.Type.EVENTS]: events,
  [Request.Type.REMOVE_STREAM_HANDLER_EXT]: async (rc, req) => await removeStreamHandler(rc, req.removeStreamHandler)
}

/** The request's own `timeout` (seconds), for the request types that have one. */
function timeoutOf (req: Request): bigint | undefined {
  return req.connect?.timeout ?? req.streamOpen?.timeout ?? req.dht?.timeout
}

/** Serves one request; never throws (failures become ERROR responses). */
async function serveRequest (session: Session, decoded: DecodedRequest): Promise<Reply> {
  const rc = requestContext(session, decoded.dialect === 'hivemind' ? undefined : timeoutOf(decoded.request))
  try {
    if (decoded.dialect === 'hivemind') {
      const req = decoded.request
      if (req.type === 'PERSISTENT_CONN_UPGRADE') return await persistentConnUpgrade(rc)
      if (req.type === 'REMOVE_STREAM_HANDLER') return await removeStreamHandler(rc, req.removeStreamHandler)
      // types 0..8 have the same shape in both dialects
      const shared = { ...req, type: req.type, removeStreamHandler: undefined } as unknown as Request
      return await dispatch(rc, shared)
    }
    return await dispatch(rc, decoded.request)
  } catch (err: any) {
    if (err?.code === 'ERR_INTERNAL') session.ctx.log.warn({ err: err.message, stack: err.stack }, 'p2pd: request failed')
    return errorResponse(err)
  } finally {
    rc.dispose()
  }
}

async function dispatch (rc: Parameters<Handler>[0], req: Request): Promise<Reply> {
  if (req.type === undefined) throw Errors.badRequest('Malformed request; missing request type')
  const handler = HANDLERS[req.type]
  if (handler === undefined) throw Errors.badRequest(`unsupported request type ${String(req.type)}`)
  return await handler(rc, req)
}

/**
 * Writes an answer. A client that reads none of them for `-requestTimeout` while its answers
 * back up (it pipelines requests and never reads) is closed: the daemon has stopped reading
 * its requests by then, and the connection would otherwise be held forever. A graceful end
 * would wait for the same reader, so the socket is destroyed.
 */
async function respondToReader (session: Session, reply: Partial<Response>, timeoutMs: number | undefined): Promise<void> {
  // (the write starts synchronously: whether it waits for the reader is known at once)
  const written = session.respond(reply)
  if (!session.socket.writableNeedDrain || timeoutMs === undefined || timeoutMs <= 0) { await written; return }
  const timer = setTimeout(() => { session.destroy() }, timeoutMs)
  try {
    await written
  } finally {
    clearTimeout(timer)
  }
}

/** Runs the request loop of an accepted control connection until it ends or is taken over. */
export async function serveControlConnection (plane: PlaneState, socket: Socket): Promise<void> {
  const session = new Session(socket, plane)
  plane.sessions.add(session)
  socket.once('close', () => { plane.sessions.delete(session) })
  const log = plane.ctx.log
  let taken = false
  try {
    while (!session.closed) {
      let bytes: Uint8Array | undefined
      try {
        // a request must arrive whole within -requestTimeout: an idle or trickling client
        // (slowloris) would otherwise hold a socket and a session forever
        const timeout = plane.ctx.config.limits?.requestTimeoutMs
        bytes = await session.read(plane.signal, timeout !== undefined && timeout > 0 ? timeout : undefined)
      } catch (err: any) {
        // the framing is broken: say why (if the client still listens), then hang up
        if (err instanceof FramingTimeoutError) await session.respond(errorResponse(Errors.timeout(`no complete request within ${String(plane.ctx.config.limits?.requestTimeoutMs)} ms; closing`))).catch(() => {})
        else if (err instanceof MessageTooLargeError) await session.respond(errorResponse(Errors.tooLarge(err.message))).catch(() => {})
        else if (err instanceof BadVarintError) await session.respond(errorResponse(Errors.badRequest(err.message))).catch(() => {})
        else log.debug({ err: err.message, session: session.id }, 'p2pd: control connection read failed')
        return
      }
      if (bytes === undefined) return
      let decoded: DecodedRequest
      try {
        decoded = decodeRequest(bytes)
      } catch (err: any) {
        await session.respond(errorResponse(Errors.badRequest(`Malformed request: ${String(err.message)}`)))
        continue
      }
      const reply = await serveRequest(session, decoded)
      if (reply === 'taken') { taken = true; return }
      if (reply !== 'done') await respondToReader(session, reply, plane.ctx.config.limits?.requestTimeoutMs)
    }
  } catch (err: any) {
    log.debug({ err: err.message, session: session.id }, 'p2pd: control connection failed')
  } finally {
    if (!taken) session.end()
  }
}
