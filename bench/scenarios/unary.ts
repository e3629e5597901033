/**
 * Hivemind-style unary calls over one persistent connection (libp2pd's p2pd extension).
 * Only libp2pd-p2pd has a unary plane; the in-process baseline for it is js-libp2p's
 * stream-per-request, which is what this scenario runs on the jslibp2p target.
 */
import { quantile, totalCpu } from '../measure.ts'
import { now, type Scenario } from '../scenario.ts'
import { streamPerRequest } from './stream-per-request.ts'

/** The protocol B answers unary calls on. */
export const UNARY_PROTOCOL = '/bench/unary/1.0.0'

export const unary: Scenario = {
  name: 'unary',
  title: 'unary calls, 64 B (baseline: stream per request)',
  unit: 'ops/s',
  higherIsBetter: true,
  cpuUnit: 'CPU-s/1k ops',
  appliesTo: (target) => target.name === 'jslibp2p' || target.name === 'libp2pd-p2pd' ? true : 'no unary plane',
  timeoutMs: (sizes) => 30_000 + (sizes.requestsWarmup + sizes.requests) * 40,
  async run (pair, { sizes, signal }) {
    const plane = pair.unary
    if (plane == null) return await streamPerRequest(pair, sizes.requests, sizes.requestsWarmup, signal)
    await plane.handle(UNARY_PROTOCOL)
    const message = new Uint8Array(64).fill(0x64)
    for (let i = 0; i < sizes.requestsWarmup; i++) await plane.call(UNARY_PROTOCOL, message, { signal })
    const pids = pair.pids()
    const latencies: number[] = []
    const cpuBefore = totalCpu(pids)
    const start = now()
    for (let i = 0; i < sizes.requests; i++) {
      const t = now()
      const reply = await plane.call(UNARY_PROTOCOL, message, { signal })
      if (reply.byteLength !== message.byteLength) throw new Error('unary reply has the wrong size')
      latencies.push(now() - t)
    }
    const seconds = (now() - start) / 1000
    return {
      value: sizes.requests / seconds,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      cpu: (totalCpu(pids) - cpuBefore) / (sizes.requests / 1000),
      ok: true
    }
  }
}
