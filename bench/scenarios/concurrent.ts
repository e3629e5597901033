/** N streams in flight at once through one pair (open, 64 B, echo, close): do all complete? */
import { setMaxListeners } from 'node:events'
import { raceSignal } from '../abort.ts'
import { maxPeakRss, quantile, totalCpu } from '../measure.ts'
import { now, readExactly, type Scenario } from '../scenario.ts'
import type { Pair } from '../target.ts'

const PROTOCOL = '/bench/concurrent/1.0.0'

async function oneStream (pair: Pair, message: Uint8Array, signal: AbortSignal): Promise<number> {
  const start = now()
  const pipe = await pair.open(PROTOCOL, { signal })
  try {
    await pipe.write(message)
    await readExactly(pipe, message.byteLength, signal)
    const latency = now() - start
    // the stream counts as complete once its echo is back; closing is bounded separately
    // so that one slow close cannot hold the whole scenario
    await raceSignal(pipe.end(), signal).catch(() => { pipe.destroy() })
    return latency
  } catch (err) {
    pipe.destroy()
    throw err
  }
}

export const concurrent: Scenario = {
  name: 'concurrent',
  title: 'concurrent streams (all at once)',
  unit: 'streams/s',
  higherIsBetter: true,
  cpuUnit: 'CPU-s/1k ops',
  appliesTo: () => true,
  timeoutMs: (sizes) => sizes.concurrentDeadlineMs + 30_000,
  async run (pair, { sizes, signal }) {
    await pair.handle(PROTOCOL, 'echo', { signal })
    const n = sizes.concurrentStreams
    const message = new Uint8Array(64).fill(0x65)
    const pids = pair.pids()
    const cpuBefore = totalCpu(pids)
    const start = now()
    // the overall deadline leaves room for teardown inside the scenario's own bound
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(sizes.concurrentDeadlineMs)])
    // every stream listens on the one deadline
    setMaxListeners(Infinity, deadline)
    const settled = await Promise.allSettled(Array.from({ length: n }, async () => await oneStream(pair, message, deadline)))
    const seconds = (now() - start) / 1000
    const latencies = settled.flatMap((s) => s.status === 'fulfilled' ? [s.value] : [])
    const failures = settled.flatMap((s) => s.status === 'rejected' ? [String((s.reason as Error)?.message ?? s.reason)] : [])
    const firstError = failures[0]?.slice(0, 80)
    return {
      value: latencies.length / seconds,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      cpu: (totalCpu(pids) - cpuBefore) / (n / 1000),
      peakRssMB: maxPeakRss(pids) / 1e6,
      ok: latencies.length === n,
      note: `${latencies.length}/${n} completed in ${seconds.toFixed(1)} s${firstError != null ? `; first error: ${firstError}` : ''}`
    }
  }
}
