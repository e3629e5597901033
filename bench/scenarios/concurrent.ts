/** N streams in flight at once through one pair (open, 64 B, echo, close): do all complete? */
import { setMaxListeners } from 'node:events'
import { raceSignal } from '../abort.ts'
import { maxPeakRss, quantile, totalCpu } from '../measure.ts'
import { now, readExactly, type Scenario } from '../scenario.ts'
import type { BytePipe, Pair } from '../target.ts'

const PROTOCOL = '/bench/concurrent/1.0.0'
/** Give up on the rest once no stream has opened or completed for this long. */
const NO_PROGRESS_MS = 10_000

/** Counts opens and completions so a stuck run can be told from a slow one. */
interface Progress { events: number }

async function oneStream (pair: Pair, message: Uint8Array, deadline: AbortSignal, progress: Progress, live: Set<BytePipe>): Promise<number> {
  const start = now()
  const pipe = await pair.open(PROTOCOL, { signal: deadline })
  live.add(pipe)
  progress.events++
  try {
    // no per-operation signals here: 10,000 listeners on one AbortSignal make every add and
    // remove O(n); the deadline instead destroys every live pipe, which ends these waits
    await pipe.write(message)
    await readExactly(pipe, message.byteLength)
    progress.events++
    const latency = now() - start
    await pipe.end().catch(() => { pipe.destroy() })
    return latency
  } catch (err) {
    pipe.destroy()
    throw err
  } finally {
    live.delete(pipe)
  }
}

export const concurrent: Scenario = {
  name: 'concurrent',
  title: 'concurrent streams (all at once)',
  unit: 'streams/s',
  higherIsBetter: true,
  cpuUnit: 'CPU-s/1k ops',
  // each relay would hold two sockets per stream, 20,000 for 10,000 streams: past the machine's
  // 20,000-descriptor limit per process
  appliesTo: (target) => target.name === 'relay' ? 'two sockets per stream in each relay: past the fd limit' : true,
  timeoutMs: (sizes) => sizes.concurrentDeadlineMs + 30_000,
  async run (pair, { sizes, signal }) {
    await pair.handle(PROTOCOL, 'echo', { signal })
    const n = sizes.concurrentStreams
    const message = new Uint8Array(64).fill(0x65)
    const pids = pair.pids()
    const progress: Progress = { events: 0 }
    const stuck = new AbortController()
    const deadline = AbortSignal.any([signal, stuck.signal, AbortSignal.timeout(sizes.concurrentDeadlineMs)])
    // pending opens listen on the one deadline
    setMaxListeners(Infinity, deadline)
    const live = new Set<BytePipe>()
    deadline.addEventListener('abort', () => {
      for (const pipe of live) pipe.destroy()
    }, { once: true })
    let seen = -1
    const watchdog = setInterval(() => {
      if (progress.events === seen) stuck.abort(new Error(`no progress for ${NO_PROGRESS_MS / 1000} s`))
      seen = progress.events
    }, Math.min(NO_PROGRESS_MS, sizes.concurrentDeadlineMs))
    const cpuBefore = totalCpu(pids)
    const start = now()
    const settled = await raceSignal(Promise.allSettled(Array.from({ length: n }, async () => await oneStream(pair, message, deadline, progress, live))), signal)
      .finally(() => { clearInterval(watchdog) })
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
