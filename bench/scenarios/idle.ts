/** Memory: the daemon's idle RSS, and RSS per idle open stream. */
import { rssBytes, totalRss } from '../measure.ts'
import { readExactly, sleep, type Scenario } from '../scenario.ts'
import type { BytePipe } from '../target.ts'

const PROTOCOL = '/bench/idle/1.0.0'
/** Streams opened at a time while building the idle set, to not measure a thundering herd. */
const BATCH = 100
/** Let allocations settle before reading RSS. */
const SETTLE_MS = 1000

export const idleRss: Scenario = {
  name: 'idle-rss',
  title: 'idle RSS per process (connected pair)',
  unit: 'MB',
  higherIsBetter: false,
  appliesTo: () => true,
  timeoutMs: () => 30_000,
  async run (pair, { signal }) {
    await sleep(SETTLE_MS, signal)
    const pids = pair.pids()
    const values = pids.map(rssBytes)
    return {
      value: values.reduce((a, b) => a + b, 0) / values.length / 1e6,
      ok: true,
      note: `${pids.length} process(es): ${values.map((v) => (v / 1e6).toFixed(0)).join(' + ')} MB`
    }
  }
}

export const idleStreams: Scenario = {
  name: 'idle-streams',
  title: 'RSS per idle open stream',
  unit: 'KB/stream',
  higherIsBetter: false,
  appliesTo: () => true,
  timeoutMs: (sizes) => 60_000 + sizes.idleStreams * 20,
  async run (pair, { sizes, signal }) {
    await pair.handle(PROTOCOL, 'echo', { signal })
    const ping = Uint8Array.of(1)
    const openOne = async (): Promise<BytePipe> => {
      const pipe = await pair.open(PROTOCOL, { signal })
      // one byte each way so that B's side of the stream exists too
      await pipe.write(ping)
      await readExactly(pipe, 1, signal)
      return pipe
    }
    const pipes: BytePipe[] = [await openOne()]
    try {
      await sleep(SETTLE_MS, signal)
      const pids = pair.pids()
      const before = totalRss(pids)
      const n = sizes.idleStreams
      for (let opened = 0; opened < n; opened += BATCH) {
        const batch = await Promise.all(Array.from({ length: Math.min(BATCH, n - opened) }, openOne))
        pipes.push(...batch)
      }
      await sleep(SETTLE_MS, signal)
      const after = totalRss(pids)
      return {
        value: (after - before) / n / 1e3,
        ok: true,
        note: `RSS ${(before / 1e6).toFixed(0)} → ${(after / 1e6).toFixed(0)} MB for ${n} streams`
      }
    } finally {
      for (const pipe of pipes) pipe.destroy()
    }
  }
}
