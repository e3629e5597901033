/**
 * A stream whose first message leaves together with the protocol proposal: multistream-
 * select's optimistic form (go-libp2p's "lazy" negotiation), for request/response calls
 * where the caller always speaks first and knows the one protocol it wants.
 *
 * js-libp2p's `connection.newStream` always negotiates before returning (its
 * `negotiateFully: false` option is declared but not implemented in libp2p 3.x), which costs
 * one round trip between the daemons before the request can be sent. Here the header, the
 * protocol and the request go in one write; the remote's two answers (header, protocol or
 * `na`) are read back before the response. A remote that does not support the protocol
 * answers `na` and drops the rest, so the caller gets `UnsupportedProtocolError` as before.
 *
 * It needs an open connection's muxer (`createStream`), which js-libp2p does not expose in
 * its types; without one the normal dial and negotiated open are used.
 */
import { UnsupportedProtocolError } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { doOpenStream } from './streams.js'
import { DEFAULT_TIMEOUT_MS } from './context.js'
import { deadline } from './deadline.js'
import type { CoreContext } from './context.js'
import type { OpenStreamOptions } from './streams.js'
import type { PeerId, Stream } from '@libp2p/interface'

const MSS = '/multistream/1.0.0\n'
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** An opened stream with its length-prefixed reader/writer; read replies with `read`. */
export interface OptimisticStream {
  stream: Stream
  /** Reads the next length-prefixed message, after the protocol answers on the first call. */
  read: (options: { signal: AbortSignal }) => Promise<Uint8Array>
}

interface Muxer { createStream: (options: { signal?: AbortSignal }) => Promise<Stream> }

/** An open connection to `peerId` whose muxer can create streams, if there is one. */
function openMuxer (ctx: CoreContext, peerId: PeerId): Muxer | undefined {
  for (const connection of ctx.node.getConnections(peerId)) {
    if (connection.status !== 'open') continue
    const muxer = (connection as unknown as { muxer?: Partial<Muxer> & { status?: string } }).muxer
    if (typeof muxer?.createStream === 'function' && (muxer.status ?? 'open') === 'open') return muxer as Muxer
  }
  return undefined
}

/**
 * Opens a stream to `peerId` on `protocol` and sends `first` (length-prefixed) with the
 * proposal when a connection is already open; otherwise dials and negotiates as usual (the
 * dial dominates a first call anyway) and then sends `first`.
 */
export async function openStreamWithRequest (ctx: CoreContext, peerId: PeerId, protocol: string, first: Uint8Array, options: OpenStreamOptions & { maxDataLength: number }): Promise<OptimisticStream> {
  const muxer = peerId.equals(ctx.node.peerId) ? undefined : openMuxer(ctx, peerId)
  if (muxer === undefined) {
    // (doOpenStream bounds the dial and negotiation with its own timeout)
    const { stream } = await doOpenStream(ctx, peerId, [protocol], options)
    const lp = lpStream(stream, { maxDataLength: options.maxDataLength })
    await lp.write(first, { signal: options.signal })
    return { stream, read: async o => (await lp.read(o)).subarray() }
  }
  // bounds the open and the write; the caller's signal bounds the reads
  const limit = deadline(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.signal)
  const signal = limit.signal
  // the same per-peer/per-protocol limits as every other open
  const release = ctx.streams.reserve(peerId.toString(), protocol)
  let stream: Stream
  try {
    stream = await muxer.createStream({ signal })
  } catch (err) {
    limit.clear()
    throw err
  } finally {
    release()
  }
  stream.protocol = protocol
  const lp = lpStream(stream, { maxDataLength: options.maxDataLength })
  try {
    await lp.writeV([encoder.encode(MSS), encoder.encode(`${protocol}\n`), first], { signal })
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    limit.clear()
  }
  let negotiated = false
  return {
    stream,
    read: async o => {
      if (!negotiated) {
        const header = decoder.decode((await lp.read(o)).subarray())
        if (header !== MSS) throw new UnsupportedProtocolError(`the peer did not answer with multistream-select (${JSON.stringify(header.slice(0, 40))})`)
        const answer = decoder.decode((await lp.read(o)).subarray())
        if (answer !== `${protocol}\n`) throw new UnsupportedProtocolError(`the peer does not support ${protocol}`)
        negotiated = true
      }
      return (await lp.read(o)).subarray()
    }
  }
}
