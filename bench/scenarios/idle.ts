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

/**
 * RSS per idle open stream: opens `sizes.idleStreams` streams (one byte echoed on each, so
 * both ends exist), in two halves, and reports what the second half cost per stream.
 */
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
      const half = Math.floor(n / 2)
      let failed = 0
      let firstError = ''
      let middle = { rss: before, opened: 0 }
      // a target that refuses streams is measured on those it took: stop at the first
      // batch with failures instead of waiting out every refused open
      for (let started = 0; started < n && failed === 0;) {
        const size = Math.min(BATCH, (started < half ? half : n) - started)
        const batch = await Promise.allSettled(Array.from({ length: size }, openOne))
        started += size
        for (const outcome of batch) {
          if (outcome.status === 'fulfilled') pipes.push(outcome.value)
          else if (failed++ === 0) firstError = String((outcome.reason as Error)?.message ?? outcome.reason).slice(0, 80)
        }
        if (started === half && failed === 0) {
          await sleep(sizes.settleMs, signal)
          middle = { rss: totalRss(pids), opened: pipes.length - 1 }
        }
      }
      await sleep(sizes.settleMs, signal)
      const after = totalRss(pids)
      const opened = pipes.length - 1
      // The value is the second half's cost: memory a process had committed but not used
      // when the first stream was open (start-up's garbage, heap pages not yet filled) goes
      // into the first streams, and differs between builds of the same code.
      // A target that failed in the first half gets the cost from the first stream instead.
      const marginal = opened > middle.opened && middle.opened > 0 ? (after - middle.rss) / (opened - middle.opened) / 1e3 : NaN
      const fromFirst = opened > 0 ? (after - before) / opened / 1e3 : NaN
      return {
        value: Number.isFinite(marginal) ? marginal : fromFirst,
        ok: failed === 0 && Number.isFinite(marginal),
        note: `RSS ${(before / 1e6).toFixed(0)} → ${(middle.rss / 1e6).toFixed(0)} → ${(after / 1e6).toFixed(0)} MB at 1/${middle.opened}/${opened} of ${n} streams` +
          ` (${fromFirst.toFixed(1)} KB/stream from the first)` +
          (failed > 0 ? `; ${failed} failed, first: ${firstError}` : '')
      }
    } finally {
      for (const pipe of pipes) pipe.destroy()
    }
  }
}
