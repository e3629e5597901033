/**
 * Daemon-only: push up to 1 GiB into a handler that never reads. With end-to-end
 * backpressure the writer blocks early and the daemons' RSS stays bounded.
 */
import { maxPeakRss } from '../measure.ts'
import { sleep, type Scenario } from '../scenario.ts'
import { raceSignal } from '../abort.ts'

const PROTOCOL = '/bench/stall/1.0.0'
const CHUNK = 64 * 1024
/** A write that has not completed within this long means the writer is blocked. */
const BLOCKED_MS = 3000
/** Give up pushing after this long even if the daemons keep taking data. */
const MAX_PUSH_MS = 60_000

export const stalledReader: Scenario = {
  name: 'stalled-reader',
  title: 'writing into a reader that stopped (peak RSS)',
  unit: 'MB',
  higherIsBetter: false,
  appliesTo: (target) => target.kind === 'daemon' ? true : 'daemon-only check',
  timeoutMs: () => MAX_PUSH_MS + 30_000,
  async run (pair, { sizes, signal }) {
    await pair.handle(PROTOCOL, 'stall', { signal })
    const pipe = await pair.open(PROTOCOL, { signal })
    const pids = pair.pids()
    const chunk = new Uint8Array(CHUNK).fill(0x66)
    const pushing = AbortSignal.any([signal, AbortSignal.timeout(MAX_PUSH_MS)])
    let accepted = 0
    let blocked = false
    try {
      while (accepted < sizes.stalledBytes && !pushing.aborted) {
        try {
          await raceSignal(pipe.write(chunk), AbortSignal.any([pushing, AbortSignal.timeout(BLOCKED_MS)]))
        } catch {
          blocked = true
          break
        }
        accepted += CHUNK
      }
      // a daemon may still be buffering what it accepted; let its RSS catch up
      await sleep(sizes.settleMs, signal)
      const peak = maxPeakRss(pids) / 1e6
      return {
        value: peak,
        peakRssMB: peak,
        // a writer that is never held back while nobody reads means the bytes are piling
        // up or being dropped somewhere: both fail the check, as does RSS past 250 MB
        ok: blocked && peak < 250,
        note: `writer ${blocked ? 'blocked' : 'never blocked'} after ${(accepted / 2 ** 20).toFixed(0)} MiB`
      }
    } finally {
      pipe.destroy()
    }
  }
}
