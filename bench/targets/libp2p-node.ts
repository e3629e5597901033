/**
 * The one js-libp2p configuration every libp2p-based baseline uses: TCP + noise + yamux on
 * loopback, no extra services, stream limits raised and ping-abort off so the concurrency
 * scenario measures the stack rather than a default cap or timeout. Callers must have imported the polyfill first.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from '@libp2p/interface'

/** Stream cap given to yamux and to handlers; above the 10,000-stream scenario. */
export const STREAM_LIMIT = 20_000

/** Start a loopback-only libp2p node with the benchmark's transport/security/muxer. */
export async function createBenchNode (): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ maxInboundStreams: STREAM_LIMIT, maxOutboundStreams: STREAM_LIMIT })],
    connectionManager: { maxConnections: 100 },
    // the connection monitor pings every 10 s and by default aborts the connection when a
    // ping is late; with 10,000 streams in flight the event loop is busy enough for that,
    // and every stream on the connection is reset. Measure the stack, not that timeout.
    connectionMonitor: { abortConnectionOnPingFailure: false }
  })
}
