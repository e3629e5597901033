/**
 * The program side of libp2pd's p2pd plane, spoken directly on Node sockets as the Go,
 * Python and hivemind bindings do: varint-delimited `Request`/`Response` on a control
 * connection (STREAM_OPEN turns it into the stream), and the hivemind persistent connection
 * (PERSISTENT_CONN_UPGRADE) with concurrent unary calls tagged by 16-byte call IDs.
 */
import net from 'node:net'
import { once } from 'node:events'
import { readDelimited, writeDelimited } from '../src/api/p2pd/framing.ts'
import {
  HivemindRequest, PersistentConnectionRequest as PCRequest, PersistentConnectionResponse as PCResponse, Request, Response
} from '../src/proto/p2pd.ts'

/** Bound on one control exchange when the caller gives no signal. */
const CONTROL_MS = 30_000

/** Longest pause between connect attempts on EAGAIN (the listener's accept backlog is full). */
const EAGAIN_MAX_PAUSE_MS = 200

/**
 * Connect to a unix socket; rejects (destroying it) on error or abort. A full accept backlog
 * answers a unix connect with EAGAIN, which means "try again": thousands of simultaneous
 * STREAM_OPENs (one control connection each) hit it, so retry, backing off, until `signal`
 * aborts.
 */
export async function connectUnix (path: string, signal: AbortSignal, allowHalfOpen = true): Promise<net.Socket> {
  for (let attempt = 1; ; attempt++) {
    const socket = net.connect({ path, allowHalfOpen })
    try {
      await once(socket, 'connect', { signal })
      return socket
    } catch (err) {
      socket.destroy()
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err
    }
    const pause = Math.min(EAGAIN_MAX_PAUSE_MS, 5 * attempt) * (0.5 + Math.random())
    await new Promise((resolve) => setTimeout(resolve, pause))
    signal.throwIfAborted()
  }
}

/** Read one `Response` off `socket` (left paused, later bytes stay in it). */
async function readResponse (socket: net.Socket, signal: AbortSignal): Promise<Response> {
  const bytes = await readDelimited(socket, { signal })
  if (bytes === undefined) throw new Error('the daemon closed the control connection without an answer')
  const response = Response.decode(bytes)
  if (response.type !== Response.Type.OK) throw new Error(response.error?.msg ?? 'p2pd request failed')
  return response
}

/**
 * STREAM_OPEN on a fresh control connection; resolves with the connection, which is now the
 * stream (paused, for whoever consumes it).
 */
export async function p2pdStreamOpen (control: string, peer: Uint8Array, protocol: string, signal: AbortSignal): Promise<net.Socket> {
  const socket = await connectUnix(control, signal)
  try {
    await writeDelimited(socket, Request.encode({ type: Request.Type.STREAM_OPEN, streamOpen: { peer, proto: [protocol] } }), { signal })
    await readResponse(socket, signal)
    socket.setNoDelay(true)
    return socket
  } catch (err) {
    socket.destroy()
    throw err
  }
}

/** One request on a fresh control connection, which is then closed. */
export async function p2pdRequest (control: string, request: Partial<Request>, signal = AbortSignal.timeout(CONTROL_MS)): Promise<Response> {
  const socket = await connectUnix(control, signal)
  try {
    await writeDelimited(socket, Request.encode(request), { signal })
    return await readResponse(socket, signal)
  } finally {
    socket.destroy()
  }
}

interface Pending { resolve: (r: PCResponse) => void, reject: (e: Error) => void }

/**
 * A hivemind-style persistent connection: requests tagged with a call ID, answered out of
 * order; inbound calls (`requestHandling`) go to `onCall`, whose result is sent back as the
 * `unaryResponse`.
 */
export class PersistentConnection {
  private readonly pending = new Map<string, Pending>()
  private next = 0n
  private onCall: ((data: Uint8Array) => Uint8Array) | undefined

  private constructor (private readonly socket: net.Socket) {
    socket.on('error', () => {})
    socket.once('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('persistent connection closed'))
      this.pending.clear()
    })
  }

  /** Upgrade a fresh control connection to `control`. */
  static async open (control: string, signal: AbortSignal): Promise<PersistentConnection> {
    const socket = await connectUnix(control, signal)
    try {
      socket.setNoDelay(true)
      await writeDelimited(socket, HivemindRequest.encode({ type: HivemindRequest.Type.PERSISTENT_CONN_UPGRADE }), { signal })
      await readResponse(socket, signal)
    } catch (err) {
      socket.destroy()
      throw err
    }
    const conn = new PersistentConnection(socket)
    void conn.readLoop()
    return conn
  }

  private async readLoop (): Promise<void> {
    while (!this.socket.destroyed) {
      const bytes = await readDelimited(this.socket).catch(() => undefined)
      if (bytes === undefined) break
      const msg = PCResponse.decode(bytes)
      if (msg.requestHandling !== undefined && msg.callId !== undefined) {
        const reply = this.onCall?.(msg.requestHandling.data ?? new Uint8Array(0)) ?? new Uint8Array(0)
        void writeDelimited(this.socket, PCRequest.encode({ callId: msg.callId, unaryResponse: { response: reply } })).catch(() => {})
        continue
      }
      const key = Buffer.from(msg.callId ?? []).toString('hex')
      const waiter = this.pending.get(key)
      if (waiter === undefined) continue
      this.pending.delete(key)
      waiter.resolve(msg)
    }
    this.socket.destroy()
  }

  /** Send one request and wait for the response with its call ID. */
  async request (body: Omit<PCRequest, 'callId'>, signal: AbortSignal = AbortSignal.timeout(CONTROL_MS)): Promise<PCResponse> {
    // call IDs only need to be unique per connection: a counter, not 16 random bytes
    const callId = Buffer.alloc(16)
    callId.writeBigUInt64BE(this.next++, 8)
    const key = callId.toString('hex')
    const answer = new Promise<PCResponse>((resolve, reject) => {
      const onAbort = (): void => { this.pending.delete(key); reject(signal.reason) }
      signal.addEventListener('abort', onAbort, { once: true })
      this.pending.set(key, {
        resolve: (r) => { signal.removeEventListener('abort', onAbort); resolve(r) },
        reject: (e) => { signal.removeEventListener('abort', onAbort); reject(e) }
      })
    })
    await writeDelimited(this.socket, PCRequest.encode({ callId, ...body }), { signal })
    const response = await answer
    if (response.daemonError !== undefined) throw new Error(response.daemonError.message)
    return response
  }

  /** Serve `protocol` here: every inbound call is answered with `fn(data)`. */
  async serve (protocol: string, fn: (data: Uint8Array) => Uint8Array): Promise<void> {
    this.onCall = fn
    await this.request({ addUnaryHandler: { proto: protocol, balanced: false } })
  }

  /** Call `protocol` on `peer`; resolves with the response bytes. */
  async call (peer: Uint8Array, protocol: string, data: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    const response = await this.request({ callUnary: { peer, proto: protocol, data } }, signal)
    const result = response.callUnaryResponse
    if (result === undefined) throw new Error('unary call: no callUnaryResponse')
    if (result.error !== undefined && result.error.byteLength > 0) throw new Error(`unary call failed: ${Buffer.from(result.error).toString()}`)
    return result.response ?? new Uint8Array(0)
  }

  close (): void {
    this.socket.destroy()
  }
}
