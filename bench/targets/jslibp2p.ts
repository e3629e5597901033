/**
 * Two js-libp2p v3 nodes (TCP + noise + yamux) in the benchmark worker's own process: the
 * ceiling our stack allows. CPU and RSS are the worker's, which also includes the (small)
 * load-generating code; the worker runs nothing else, so the accounting stays separable.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { raceSignal } from '../abort.ts'
import { serveHandler } from '../handlers.ts'
import { messageStreamPipe } from '../pipes.ts'
import { createBenchNode, STREAM_LIMIT } from './libp2p-node.ts'
import type { BenchTarget, Pair } from '../target.ts'
import type { Libp2p } from '@libp2p/interface'

export const jslibp2pTarget: BenchTarget = {
  name: 'jslibp2p',
  kind: 'in-process',
  description: 'two in-process js-libp2p v3 nodes, TCP + noise + yamux (our stack\'s ceiling)',
  available: async () => true,
  async setup ({ signal }) {
    const nodes: Libp2p[] = []
    const stopAll = async (): Promise<void> => {
      await Promise.allSettled(nodes.map(async (n) => await n.stop()))
    }
    try {
      nodes.push(await createBenchNode(), await createBenchNode())
      const [a, b] = nodes
      const bAddr = b.getMultiaddrs()[0] ?? multiaddr('/ip4/127.0.0.1/tcp/0')
      // B must have finished its side of the upgrade before streams arrive in bulk, or
      // yamux rejects them as "early streams" (more than 10 before the muxer is ready)
      const bReady = raceSignal(new Promise((resolve) => {
        b.addEventListener('connection:open', resolve, { once: true })
      }), signal)
      const connection = await a.dial(bAddr, { signal })
      await bReady
      const pair: Pair = {
        async handle (protocol, kind) {
          await b.handle(protocol, async (stream) => {
            await serveHandler(kind, messageStreamPipe(stream))
          }, { maxInboundStreams: STREAM_LIMIT, maxOutboundStreams: STREAM_LIMIT })
        },
        async open (protocol, options) {
          const stream = await connection.newStream(protocol, {
            signal: options?.signal ?? AbortSignal.timeout(30_000),
            maxOutboundStreams: STREAM_LIMIT
          })
          return messageStreamPipe(stream)
        },
        pids: () => [process.pid],
        close: stopAll
      }
      return pair
    } catch (err) {
      await stopAll()
      throw err
    }
  }
}
