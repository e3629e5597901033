/** Bulk transfer on one stream into a sink: MB/s, CPU-s per GB and peak RSS. */
import { sinkHeader } from '../handlers.ts'
import { maxPeakRss, totalCpu } from '../measure.ts'
import { now, readExactly, type Scenario } from '../scenario.ts'

const PROTOCOL = '/bench/bulk/1.0.0'
const CHUNK = 64 * 1024

export const bulk: Scenario = {
  name: 'bulk',
  title: 'bulk transfer, one stream',
  unit: 'MB/s',
  higherIsBetter: true,
  cpuUnit: 'CPU-s/GB',
  appliesTo: () => true,
  timeoutMs: (sizes) => 30_000 + sizes.bulkBytes / 2 ** 20 * 200,
  async run (pair, { sizes, signal }) {
    await pair.handle(PROTOCOL, 'sink', { signal })
    const pipe = await pair.open(PROTOCOL, { signal })
    try {
      const pids = pair.pids()
      // one buffer reused for every write: the payload is constant, and the benchmark
      // itself should not allocate per chunk
      const chunk = new Uint8Array(CHUNK).fill(0x61)
      const cpuBefore = totalCpu(pids)
      const start = now()
      await pipe.write(sinkHeader(sizes.bulkBytes))
      for (let sent = 0; sent < sizes.bulkBytes; sent += CHUNK) {
        signal.throwIfAborted()
        const left = sizes.bulkBytes - sent
        await pipe.write(left < CHUNK ? chunk.subarray(0, left) : chunk)
      }
      await readExactly(pipe, 1, signal)
      const seconds = (now() - start) / 1000
      const cpu = totalCpu(pids) - cpuBefore
      return {
        value: sizes.bulkBytes / 1e6 / seconds,
        cpu: cpu / (sizes.bulkBytes / 1e9),
        peakRssMB: maxPeakRss(pids) / 1e6,
        ok: true
      }
    } finally {
      pipe.destroy()
    }
  }
}
