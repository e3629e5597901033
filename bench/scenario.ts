/** The contract between the runner and each scenario, and the sizes they run at. */
import type { BenchTarget, BytePipe, Pair } from './target.ts'

/** Work sizes; `full` for `npm run bench`, `smoke` for CI (< 1 minute for everything). */
export interface Sizes {
  bulkBytes: number
  /**
   * Bytes sent on a stream of their own before the measured transfer, for the same reason
   * as `roundTripsWarmup`: a fresh daemon pair moved its first 256 MiB at about half its
   * later rate, in-process js-libp2p its first 32 MiB (docs/performance.md, "Bulk: the
   * warm-up").
   */
  bulkWarmupBytes: number
  roundTrips: number
  /**
   * Round trips made before measuring. A fresh process runs its first few thousand
   * operations at about half its later rate, as V8 compiles the hot code (every target,
   * the in-process baseline and the reference daemon too; docs/performance.md), and a
   * daemon is a long-lived process: the table reports the steady rate.
   */
  roundTripsWarmup: number
  requests: number
  /** Requests (streams, unary calls) made before measuring, as `roundTripsWarmup`. */
  requestsWarmup: number
  concurrentStreams: number
  /** All concurrent streams must complete within this; the rest count as failed. */
  concurrentDeadlineMs: number
  idleStreams: number
  stalledBytes: number
  /** Pause before reading RSS so that allocations settle. */
  settleMs: number
}

export const FULL: Sizes = {
  bulkBytes: 256 * 2 ** 20,
  bulkWarmupBytes: 256 * 2 ** 20,
  roundTrips: 10_000,
  roundTripsWarmup: 5_000,
  requests: 1_000,
  requestsWarmup: 2_000,
  concurrentStreams: 10_000,
  concurrentDeadlineMs: 60_000,
  idleStreams: 1_000,
  stalledBytes: 2 ** 30,
  settleMs: 1000
}

export const SMOKE: Sizes = {
  bulkBytes: 4 * 2 ** 20,
  bulkWarmupBytes: 2 ** 20,
  roundTrips: 200,
  roundTripsWarmup: 100,
  requests: 50,
  requestsWarmup: 20,
  concurrentStreams: 100,
  concurrentDeadlineMs: 3_000,
  idleStreams: 20,
  // more than one yamux window (16 MiB) plus socket buffers, so a working backpressure path blocks
  stalledBytes: 64 * 2 ** 20,
  settleMs: 200
}

/** What one run of one scenario on one target measured. */
export interface RunResult {
  /** The headline number, in the scenario's `unit`. */
  value: number
  p50Ms?: number
  p99Ms?: number
  /** CPU seconds of the measured pids per GB moved or per 1,000 operations (see `cpuUnit`). */
  cpu?: number
  /** Largest peak RSS of any one measured process, MB. */
  peakRssMB?: number
  /** False when the scenario's own success condition failed (e.g. streams lost). */
  ok: boolean
  note?: string
}

/** Everything a scenario gets besides the pair. */
export interface ScenarioContext {
  sizes: Sizes
  /** Bounds the scenario; every wait inside must honour it. */
  signal: AbortSignal
}

/** One benchmark, written once against {@link Pair}. */
export interface Scenario {
  name: string
  title: string
  unit: string
  higherIsBetter: boolean
  cpuUnit?: 'CPU-s/GB' | 'CPU-s/1k ops'
  /** `true`, or why this scenario does not apply to the target. */
  appliesTo: (target: BenchTarget) => true | string
  /** Upper bound for one run at these sizes. */
  timeoutMs: (sizes: Sizes) => number
  run: (pair: Pair, ctx: ScenarioContext) => Promise<RunResult>
}

/** Read exactly `n` bytes (fewer only if the stream ends, which is an error here). */
export async function readExactly (pipe: BytePipe, n: number, signal?: AbortSignal): Promise<void> {
  let got = 0
  while (got < n) {
    const chunk = await pipe.read({ signal })
    if (chunk == null) throw new Error(`stream ended after ${got} of ${n} bytes`)
    got += chunk.byteLength
  }
}

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export function now (): number {
  return performance.now()
}

/** Resolve after `ms`, or reject when `signal` aborts. */
export async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  const { setTimeout: wait } = await import('node:timers/promises')
  await wait(ms, undefined, { signal })
}
