/** A new stream per request: open, 64 B, echo, close — sequentially. */
import { quantile, totalCpu } from '../measure.ts'
import { now, readExactly, type RunResult, type Scenario } from '../scenario.ts'
import type { Pair } from '../target.ts'

/** The protocol B echoes on for this scenario (and the unary baseline). */
export const REQUEST_PROTOCOL = '/bench/request/1.0.0'

/** One request on a fresh stream; returns its latency (open → echo received), ms. */
export async function requestOnNewStream (pair: Pair, message: Uint8Array, signal: AbortSignal): Promise<number> {
  const start = now()
  const pipe = await pair.open(REQUEST_PROTOCOL, { signal })
  try {
    await pipe.write(message)
    await readExactly(pipe, message.byteLength, signal)
    const latency = now() - start
    // close our side; the echo handler then ends its side and the stream is gone
    await pipe.end()
    return latency
  } catch (err) {
    pipe.destroy()
    throw err
  }
}

/**
 * Run `warmup` requests, then `n` measured ones, sequentially, each on its own stream
 * (also the unary baseline).
 */
export async function streamPerRequest (pair: Pair, n: number, warmup: number, signal: AbortSignal): Promise<RunResult> {
  await pair.handle(REQUEST_PROTOCOL, 'echo', { signal })
  const message = new Uint8Array(64).fill(0x63)
  for (let i = 0; i < warmup; i++) await requestOnNewStream(pair, message, signal)
  const pids = pair.pids()
  const latencies: number[] = []
  const cpuBefore = totalCpu(pids)
  const start = now()
  for (let i = 0; i < n; i++) latencies.push(await requestOnNewStream(pair, message, signal))
  const seconds = (now() - start) / 1000
  return {
    value: n / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    cpu: (totalCpu(pids) - cpuBefore) / (n / 1000),
    ok: true
  }
}

export const streamPerRequestScenario: Scenario = {
  name: 'stream-per-request',
  title: 'new stream per 64 B request',
  unit: 'ops/s',
  higherIsBetter: true,
  cpuUnit: 'CPU-s/1k ops',
  appliesTo: () => true,
  timeoutMs: (sizes) => 30_000 + (sizes.requestsWarmup + sizes.requests) * 40,
  run: async (pair, { sizes, signal }) => await streamPerRequest(pair, sizes.requests, sizes.requestsWarmup, signal)
}
