/** Memory: the daemon's idle RSS, and RSS per idle open stream. */
import { rssBytes, totalRss } from '../measure.ts'
import { readExactly, sleep, type Scenario } from '../scenario.ts'
import type { BytePipe } from '../target.ts'

const PROTOCOL = '/bench/idle/1.0.0'
/** Streams opened at a time while building the idle set, to not measure a thundering herd. */
const BATCH = 100
/** Bound on opening one stream; a refused stream must not hold up the whole scenario. */
const OPEN_MS = 10_000

export const idleRss: Scenario = {
  name: 'idle-rss',
  title: 'idle RSS per process (connected pair)',
  unit: 'MB',
  higherIsBetter: false,
  appliesTo: () => true,
  timeoutMs: () => 30_000,
  async run (pair, { sizes, signal }) {
    await sleep(sizes.settleMs, signal)
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
  timeoutMs: (sizes) => 60_000 + sizes.idleStreams / 100 * OPEN_MS,
  async run (pair, { sizes, signal }) {
    await pair.handle(PROTOCOL, 'echo', { signal })
    const ping = Uint8Array.of(1)
    const openOne = async (): Promise<BytePipe> => {
      const bound = AbortSignal.any([signal, AbortSignal.timeout(OPEN_MS)])
      const pipe = await pair.open(PROTOCOL, { signal: bound })
      try {
        // one byte each way so that B's side of the stream exists too
        await pipe.write(ping, { signal: bound })
        await readExactly(pipe, 1, bound)
        return pipe
      } catch (err) {
        pipe.destroy()
        throw err
      }
    }
    const pipes: BytePipe[] = [await openOne()]
    try {
      await sleep(sizes.settleMs, signal)
      const pids = pair.pids()
      const before = totalRss(pids)
      const n = sizes.idleStreams
      let failed = 0
      let firstError = ''
      // a target that refuses streams is measured on those it took: stop at the first
      // batch with failures instead of waiting out every refused open
      for (let started = 0; started < n && failed === 0; started += BATCH) {
        const batch = await Promise.allSettled(Array.from({ length: Math.min(BATCH, n - started) }, openOne))
        for (const outcome of batch) {
          if (outcome.status === 'fulfilled') pipes.push(outcome.value)
          else if (failed++ === 0) firstError = String((outcome.reason as Error)?.message ?? outcome.reason).slice(0, 80)
        }
      }
      await sleep(sizes.settleMs, signal)
      const after = totalRss(pids)
      const opened = pipes.length - 1
      return {
        value: opened > 0 ? (after - before) / opened / 1e3 : NaN,
        ok: failed === 0,
        note: `RSS ${(before / 1e6).toFixed(0)} → ${(after / 1e6).toFixed(0)} MB for ${opened}/${n} streams` +
          (failed > 0 ? `; ${failed} failed, first: ${firstError}` : '')
      }
    } finally {
      for (const pipe of pipes) pipe.destroy()
    }
  }
}
