/**
 * The hivemind fork's persistent connection (PERSISTENT_CONN_UPGRADE = 9): after `OK` the
 * control connection carries varint-delimited `PersistentConnectionRequest`s in and
 * `PersistentConnectionResponse`s out, each tagged with a 16-byte `callId`, handled
 * concurrently.
 *
 * - `addUnaryHandler{proto, balanced}` / `removeUnaryHandler{proto}`: the connection becomes
 *   a target in the shared handler registry; acknowledged by a response with only `callId`.
 * - `callUnary{peer, proto, data}`: open a stream to the peer, write the whole request
 *   (`callId` + `callUnary`) varint-delimited, read one `PersistentConnectionRequest` back and
 *   answer `callUnaryResponse` with its `unaryResponse`. This is hivemind's peer-to-peer wire
 *   format, so calls work between libp2pd and the Go fork.
 * - Inbound calls are sent to the client as `requestHandling` (with `peer` set to the
 *   caller); the client's `unaryResponse` is written back to the stream verbatim. If the
 *   caller goes away first, the client gets `cancel`.
 * - `cancel` from the client aborts its call: the stream is reset (so the remote handler
 *   is told) and the client gets `cancel` back.
 * When the connection closes, its handlers are removed and its calls aborted.
 */
import { lpStream } from '@libp2p/utils'
import { Errors } from '../../errors.js'
import { deadline } from '../../core/deadline.js'
import type { Deadline } from '../../core/deadline.js'
import { checkProtocol, parsePeerId } from '../../core/parse.js'
import { openStreamWithRequest } from '../../core/optimistic-stream.js'
import { inOneWrite } from '../../host/tcp-coalesce.js'
import { PersistentConnectionRequest as PCRequest, PersistentConnectionResponse as PCResponse } from '../../proto/p2pd.js'
import { encodeDelimited } from './framing.js'
import { describeError, okResponse, peerBytes } from './responses.js'
import type { Reply, RequestContext, Session } from './session.js'
import type { CallUnaryRequest, CallUnaryResponse } from '../../proto/p2pd.js'
import type { HandlerTarget } from '../../streams/handlers.js'
import type { Connection, Stream } from '@libp2p/interface'

/** hivemind call IDs are UUIDs; anything else is dropped, as the fork does. */
const CALL_ID_BYTES = 16

/** How long an inbound caller may take to send its request. */
const INBOUND_REQUEST_TIMEOUT_MS = 60_000

/** How long a finished call's stream may take to close before it is reset. */
const CLOSE_TIMEOUT_MS = 5_000

/**
 * Runs `op` on `stream`, resetting the stream if it takes longer than `ms` or fails. The
 * bound is a timer, not an AbortSignal: writes and closes wait only when the stream's buffer
 * is full, a reset ends that wait (js-libp2p rejects on the stream's 'close'), and an
 * AbortController for each of them was a few µs of every unary call on both daemons.
 */
async function boundedOnStream (stream: Stream, ms: number, what: string, op: () => Promise<void>): Promise<boolean> {
  const timer = setTimeout(() => { stream.abort(new StreamStepTimeoutError(what, ms)) }, ms)
  timer.unref()
  try {
    await op()
    return true
  } catch (err: any) {
    stream.abort(err)
    return false
  } finally {
    clearTimeout(timer)
  }
}

/** Closes `stream` within `CLOSE_TIMEOUT_MS`, resetting it if that fails. */
async function closeOrAbort (stream: Stream): Promise<void> {
  await boundedOnStream(stream, CLOSE_TIMEOUT_MS, 'close', async () => { await stream.close() })
}

/** A step on a call's stream took too long; the stream is reset with it. */
class StreamStepTimeoutError extends Error {
  constructor (what: string, ms: number) {
    super(`unary call stream: ${what} took longer than ${ms} ms`)
    this.name = 'TimeoutError'
  }
}

class CallCancelledError extends Error {
  constructor () {
    super('call cancelled by the client')
    this.name = 'AbortError'
  }
}

/** An inbound call waiting for the client's answer. */
interface Waiter {
  stream: Stream
  /** the connection the call came on, whose TCP write the answer and its FIN share */
  connection: Connection
  forget: () => void
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** One upgraded control connection. */
export class PersistentConnection {
  private readonly calls = new Map<string, Deadline>()
  private readonly waiters = new Map<string, Waiter>()
  readonly target: HandlerTarget

  constructor (private readonly session: Session) {
    this.target = {
      key: `unary:${session.id}`,
      kind: 'unary',
      address: `persistent connection ${session.id}`,
      // awaited: the stream keeps its place in the stream limits (-maxStreams...) until its
      // request (up to -persistentConnMaxMsgSize) has been read and handed to the client;
      // released at once, a remote could hold any number of partly sent requests in memory
      deliver: async (stream, connection) => { await this.serveInbound(stream, connection) }
    }
  }

  private get ctx (): Session['ctx'] { return this.session.ctx }
  private get maxMessageSize (): number { return this.session.plane.maxMessageSize }

  /** Reads requests until the client goes away, then cleans up. */
  async run (): Promise<void> {
    const { session } = this
    session.plane.persistentOpened()
    try {
      while (!session.closed) {
        const bytes = await session.read()
        if (bytes === undefined) break
        let msg: PCRequest
        try {
          msg = PCRequest.decode(bytes)
        } catch (err: any) {
          this.ctx.log.debug({ err: err.message }, 'p2pd: malformed persistent connection message dropped')
          continue
        }
        if (msg.callId?.byteLength !== CALL_ID_BYTES) continue
        void this.handle(msg.callId, msg)
      }
    } catch (err: any) {
      this.ctx.log.debug({ err: err.message, session: session.id }, 'p2pd: persistent connection ended')
    } finally {
      await this.close()
      session.plane.persistentClosed()
    }
  }

  private async close (): Promise<void> {
    for (const call of this.calls.values()) call.abort(new CallCancelledError())
    for (const w of [...this.waiters.values()]) { w.forget(); w.stream.abort(new Error('the handler\'s persistent connection closed')) }
    await this.ctx.handlers.removeTarget(this.target.key).catch(() => {})
    this.session.end()
  }

  private async reply (res: PCResponse): Promise<void> {
    try {
      await this.session.send(PCResponse.encode(res))
    } catch {
      // the client is gone; run() cleans up
    }
  }

  private async handle (callId: Uint8Array, msg: PCRequest): Promise<void> {
    try {
      if (msg.addUnaryHandler !== undefined) {
        const proto = checkProtocol(msg.addUnaryHandler.proto)
        await this.ctx.handlers.add([proto], this.target, msg.addUnaryHandler.balanced === true ? 'balanced' : 'exclusive')
        await this.reply({ callId })
      } else if (msg.removeUnaryHandler !== undefined) {
        await this.ctx.handlers.remove([checkProtocol(msg.removeUnaryHandler.proto)], this.target.key)
        await this.reply({ callId })
      } else if (msg.callUnary !== undefined) {
        await this.call(callId, msg.callUnary)
      } else if (msg.unaryResponse !== undefined) {
        await this.answer(callId, msg.unaryResponse)
      } else if (msg.cancel !== undefined) {
        this.calls.get(hex(callId))?.abort(new CallCancelledError())
      }
    } catch (err) {
      await this.reply({ callId, daemonError: { message: describeError(err) } })
    }
  }

  /** Caller side of a unary call. */
  private async call (callId: Uint8Array, req: CallUnaryRequest): Promise<void> {
    const id = hex(callId)
    // two calls under one id could not be told apart: the second's answer would go to the
    // first, and one of them would never be answered
    if (this.calls.has(id)) throw Errors.badRequest('a call with this callId is already in progress on this connection')
    // ends with the connection, or with the client's `cancel` (CallCancelledError)
    const callSignal = deadline(undefined, this.session.signal)
    this.calls.set(id, callSignal)
    let stream: Stream | undefined
    try {
      const peer = parsePeerId(req.peer ?? new Uint8Array(0))
      const proto = checkProtocol(req.proto)
      const signal = callSignal.signal
      // the request leaves with the protocol proposal: one round trip between the daemons less
      const request = PCRequest.encode({ callId, callUnary: { peer: req.peer, proto, data: req.data ?? new Uint8Array(0) } })
      const opened = await openStreamWithRequest(this.ctx, peer, proto, request, { signal, maxDataLength: this.maxMessageSize })
      stream = opened.stream
      const answer = PCRequest.decode(await opened.read({ signal }))
      const response: CallUnaryResponse = answer.unaryResponse ?? { error: new TextEncoder().encode('the remote answered without a unaryResponse') }
      // answer the client first (the write starts synchronously), then close: the stream's
      // close sends its FIN at once, and nobody needs to wait for that frame
      const replied = this.reply({ callId, callUnaryResponse: response })
      void closeOrAbort(stream)
      await replied
    } catch (err) {
      if (callSignal.signal.reason instanceof CallCancelledError) {
        stream?.abort(new CallCancelledError())
        await this.reply({ callId, cancel: {} })
      } else {
        stream?.abort(err as Error)
        throw err
      }
    } finally {
      callSignal.clear()
      this.calls.delete(id)
    }
  }

  /** The client's answer to an inbound call: written back to the caller verbatim. */
  private async answer (callId: Uint8Array, response: CallUnaryResponse): Promise<void> {
    const w = this.waiters.get(hex(callId))
    if (w === undefined) return // cancelled meanwhile, or unknown: ignored as the fork does
    w.forget()
    const message = PCRequest.encode({ callId, unaryResponse: response })
    // The answer and the FIN leave in one TCP write: close() sends its FIN before its first
    // wait when the answer went straight to the muxer. An answer held back by a full window
    // must still leave within the answer's bound, and close() waits for it first.
    await inOneWrite(w.connection, async () => {
      let sent: boolean
      try {
        sent = w.stream.send(encodeDelimited(message))
      } catch (err: any) {
        w.stream.abort(err)
        return
      }
      const ms = sent ? CLOSE_TIMEOUT_MS : INBOUND_REQUEST_TIMEOUT_MS
      await boundedOnStream(w.stream, ms, 'answer', async () => { await w.stream.close() })
    })
  }

  /** Handler side: one inbound stream carrying one call. */
  private async serveInbound (stream: Stream, connection: Connection): Promise<void> {
    let callId: Uint8Array | undefined
    try {
      const lp = lpStream(stream, { maxDataLength: this.maxMessageSize })
      const limit = deadline(INBOUND_REQUEST_TIMEOUT_MS, this.session.signal)
      let msg: PCRequest
      try {
        msg = PCRequest.decode(await lp.read({ signal: limit.signal }))
      } finally {
        limit.clear()
      }
      if (msg.callUnary === undefined || msg.callId?.byteLength !== CALL_ID_BYTES) throw new Error('expected a callUnary request')
      callId = msg.callId
      const s = lp.unwrap()
      const id = hex(callId)
      // the answer is matched by callId: a second call under an id still waiting would take
      // the first one's answer, and the first would wait forever
      if (this.waiters.has(id)) throw new Error('a call with this callId is already waiting for its answer')
      const onGone = (): void => {
        if (this.waiters.get(id)?.stream !== s) return
        this.waiters.get(id)?.forget()
        s.abort(new CallCancelledError())
        void this.reply({ callId, cancel: {} })
      }
      const forget = (): void => {
        this.waiters.delete(id)
        s.removeEventListener('remoteCloseWrite', onGone)
        s.removeEventListener('close', onGone)
      }
      this.waiters.set(id, { stream: s, connection, forget })
      // the caller keeps its write side open until it has the answer: EOF or reset means it gave up
      s.addEventListener('remoteCloseWrite', onGone)
      s.addEventListener('close', onGone)
      // the handler learns who is calling from the connection, never from the caller's claim
      await this.reply({ callId, requestHandling: { peer: peerBytes(connection.remotePeer), proto: msg.callUnary.proto, data: msg.callUnary.data } })
    } catch (err: any) {
      this.ctx.log.debug({ err: err.message }, 'p2pd: inbound unary call failed')
      stream.abort(err)
    }
  }
}

/** PERSISTENT_CONN_UPGRADE: reply OK, then the connection speaks the persistent protocol. */
export async function persistentConnUpgrade (rc: RequestContext): Promise<Reply> {
  await rc.session.respond(okResponse())
  void new PersistentConnection(rc.session).run()
  return 'taken'
}
