/**
 * Bulk transfer on one stream into a sink: MB/s, CPU-s per GB and peak RSS.
 *
 * A warm-up transfer (`bulkWarmupBytes`) on a stream of its own comes first and is not
 * measured; the measured transfer then runs on a fresh stream, so the stream's own state
 * (yamux window, buffers) starts as cold as any new stream's, and only the processes are warm.
 */
import { sinkHeader } from '../handlers.ts'
import { maxPeakRss, totalCpu } from '../measure.ts'
import { now, readExactly, type Scenario } from '../scenario.ts'
import type { Pair } from '../target.ts'

const PROTOCOL = '/bench/bulk/1.0.0'
const CHUNK = 64 * 1024

/**
 * Sends `bytes` to the sink on a new stream and waits for its 1-byte ack: the seconds and the
 * CPU seconds of `pair.pids()` from the first byte written to the ack (the open not included).
 */
async function transfer (pair: Pair, bytes: number, signal: AbortSignal): Promise<{ seconds: number, cpu: number }> {
  const pipe = await pair.open(PROTOCOL, { signal })
  try {
    const pids = pair.pids()
    // one buffer reused for every write: the payload is constant, and the benchmark
    // itself should not allocate per chunk
    const chunk = new Uint8Array(CHUNK).fill(0x61)
    const cpuBefore = totalCpu(pids)
    const start = now()
    await pipe.write(sinkHeader(bytes))
    for (let sent = 0; sent < bytes; sent += CHUNK) {
      signal.throwIfAborted()
      const left = bytes - sent
      await pipe.write(left < CHUNK ? chunk.subarray(0, left) : chunk)
    }
    await readExactly(pipe, 1, signal)
    return { seconds: (now() - start) / 1000, cpu: totalCpu(pids) - cpuBefore }
  } finally {
    pipe.destroy()
  }
}

export const bulk: Scenario = {
  name: 'bulk',
  title: 'bulk transfer, one stream',
  unit: 'MB/s',
  higherIsBetter: true,
  cpuUnit: 'CPU-s/GB',
  appliesTo: () => true,
  timeoutMs: (sizes) => 30_000 + (sizes.bulkWarmupBytes + sizes.bulkBytes) / 2 ** 20 * 200,
  async run (pair, { sizes, signal }) {
    await pair.handle(PROTOCOL, 'sink', { signal })
    if (sizes.bulkWarmupBytes > 0) await transfer(pair, sizes.bulkWarmupBytes, signal)
    const { seconds, cpu } = await transfer(pair, sizes.bulkBytes, signal)
    return {
      value: sizes.bulkBytes / 1e6 / seconds,
      cpu: cpu / (sizes.bulkBytes / 1e9),
      // VmHWM: the peak of the process's life, the warm-up's transfer included
      peakRssMB: maxPeakRss(pair.pids()) / 1e6,
      ok: true
    }
  }
}
