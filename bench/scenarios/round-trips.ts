/** 64-byte request/echo round trips on one open stream: ops/s and latency. */
import { quantile, totalCpu } from '../measure.ts'
import { now, readExactly, type Scenario } from '../scenario.ts'

/** The echo protocol the round trips run on (also `bench:cpu --op round-trips`). */
export const ECHO_PROTOCOL = '/bench/echo/1.0.0'

export const roundTrips: Scenario = {
  name: 'round-trips',
  title: '64 B round trips, one stream',
  unit: 'ops/s',
  higherIsBetter: true,
  cpuUnit: 'CPU-s/1k ops',
  appliesTo: () => true,
  timeoutMs: (sizes) => 30_000 + (sizes.roundTripsWarmup + sizes.roundTrips) * 5,
  async run (pair, { sizes, signal }) {
    await pair.handle(ECHO_PROTOCOL, 'echo', { signal })
    const pipe = await pair.open(ECHO_PROTOCOL, { signal })
    try {
      const message = new Uint8Array(64).fill(0x62)
      for (let i = 0; i < sizes.roundTripsWarmup; i++) {
        await pipe.write(message)
        await readExactly(pipe, message.byteLength, signal)
      }
      const pids = pair.pids()
      const latencies = new Float64Array(sizes.roundTrips)
      const cpuBefore = totalCpu(pids)
      const start = now()
      for (let i = 0; i < sizes.roundTrips; i++) {
        const t = now()
        await pipe.write(message)
        await readExactly(pipe, message.byteLength, signal)
        latencies[i] = now() - t
      }
      const seconds = (now() - start) / 1000
      const cpu = totalCpu(pids) - cpuBefore
      const samples = Array.from(latencies)
      return {
        value: sizes.roundTrips / seconds,
        p50Ms: quantile(samples, 0.5),
        p99Ms: quantile(samples, 0.99),
        cpu: cpu / (sizes.roundTrips / 1000),
        ok: true
      }
    } finally {
      pipe.destroy()
    }
  }
}
