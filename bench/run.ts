/**
 * `npm run bench` — run every scenario on every available target in the same run, several
 * times each (interleaved so noise hits all targets alike), and print a markdown table of
 * medians with ratios against in-process js-libp2p and the reference daemon.
 *
 * Flags: --scenario a,b  --target a,b  --runs N  --smoke  --json out.json  --bulk-mib N  --cold
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { awaitExit, forkAndAwaitReady } from './child.ts'
import { machineInfo } from './measure.ts'
import { markdownTable, summarize, type Cell } from './report.ts'
import { FULL, SMOKE, type RunResult, type Sizes } from './scenario.ts'
import { scenarios as allScenarios } from './scenarios/index.ts'
import { targets as allTargets } from './targets/index.ts'

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))
/** Slack on top of a scenario's own bound for spawning, setup and teardown. */
const WORKER_SLACK_MS = 60_000
/** How long a worker may take to tear down after its result (its own bound is 15 s). */
const WORKER_TEARDOWN_MS = 20_000

const { values: flags } = parseArgs({
  options: {
    scenario: { type: 'string' },
    target: { type: 'string' },
    runs: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    json: { type: 'string' },
    // e.g. 1024: the issue's "1 GiB transfer keeps each daemon under 250 MB RSS"
    'bulk-mib': { type: 'string' },
    // the smoke run's short warm-ups: what a freshly started process does (docs/performance.md)
    cold: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false }
  }
})

if (flags.help === true) {
  console.log(`usage: npm run bench -- [--scenario ${allScenarios.map((s) => s.name).join(',')}]
  [--target ${allTargets.map((t) => t.name).join(',')}] [--runs N] [--smoke] [--json out.json] [--bulk-mib N] [--cold]`)
  process.exit(0)
}

function pick<T extends { name: string }> (all: T[], list: string | undefined, what: string): T[] {
  if (list == null) return all
  const names = list.split(',').map((s) => s.trim()).filter(Boolean)
  for (const name of names) {
    if (!all.some((x) => x.name === name)) throw new Error(`unknown ${what} ${name}; known: ${all.map((x) => x.name).join(', ')}`)
  }
  return all.filter((x) => names.includes(x.name))
}

const scenarios = pick(allScenarios, flags.scenario, 'scenario')
const targets = pick(allTargets, flags.target, 'target')
const sizes: Sizes = { ...(flags.smoke === true ? SMOKE : FULL) }
if (flags['bulk-mib'] != null) sizes.bulkBytes = Number(flags['bulk-mib']) * 2 ** 20
if (flags.cold === true) Object.assign(sizes, { roundTripsWarmup: SMOKE.roundTripsWarmup, requestsWarmup: SMOKE.requestsWarmup, bulkWarmupBytes: SMOKE.bulkWarmupBytes })
const runs = Math.max(1, Number(flags.runs ?? (flags.smoke === true ? 1 : 3)))

/** One run in a fresh worker process, bounded; resolves with its result or error. */
async function runOnce (target: string, scenario: string, timeoutMs: number): Promise<{ result?: RunResult, error?: string }> {
  const signal = AbortSignal.timeout(timeoutMs + WORKER_SLACK_MS)
  try {
    const { child, ready } = await forkAndAwaitReady<{ result?: RunResult, error?: string }>(WORKER, [target, scenario, JSON.stringify(sizes)], { signal })
    // the worker exits by itself once its pair is torn down (bounded there by CLOSE_MS)
    await awaitExit(child, WORKER_TEARDOWN_MS)
    return ready
  } catch (err) {
    return { error: `worker: ${(err as Error).message}` }
  }
}

const started = Date.now()
const loadAtStart = machineInfo().load
const availability = new Map<string, true | string>()
for (const target of targets) availability.set(target.name, await target.available())

const cells: Cell[] = []
for (const scenario of scenarios) {
  const row = targets.map((target): Cell => {
    const applies = scenario.appliesTo(target)
    const available = availability.get(target.name) ?? 'unknown'
    const skipped = applies !== true ? `n/a: ${applies}` : available !== true ? `pending: ${available}` : undefined
    return { scenario, target: target.name, runs: [], errors: [], skipped }
  })
  cells.push(...row)
  for (let i = 0; i < runs; i++) {
    for (const cell of row) {
      if (cell.skipped != null) continue
      process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${scenario.name} on ${cell.target} (run ${i + 1}/${runs}) … `)
      const outcome = await runOnce(cell.target, scenario.name, scenario.timeoutMs(sizes))
      if (outcome.result != null) cell.runs.push(outcome.result)
      else cell.errors.push(outcome.error ?? 'no result')
      process.stderr.write(outcome.result != null ? `${outcome.result.value.toFixed(2)} ${scenario.unit}${outcome.result.note != null ? ` (${outcome.result.note})` : ''}\n` : `error: ${outcome.error?.split('\n').slice(0, 2).join(' ')}\n`)
    }
  }
}

const machine = machineInfo()
const summaries = summarize(cells)
const date = new Date().toISOString()
const table = markdownTable(summaries, scenarios)
console.log(`## libp2pd benchmark — ${flags.smoke === true ? 'smoke' : 'full'} run, ${runs} run(s) per cell, medians; warm-up ${sizes.bulkWarmupBytes / 2 ** 20} MiB, ${sizes.roundTripsWarmup} round trips, ${sizes.requestsWarmup} requests${flags.cold === true ? ' (--cold)' : ''}\n`)
console.log(`${date} · ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB · Node ${machine.node} · ${machine.os} · ${((Date.now() - started) / 1000).toFixed(0)} s · load avg (1/5/15 min) at start ${loadAtStart}, at end ${machine.load}\n`)
console.log(table)
if (flags.json != null) {
  writeFileSync(flags.json, JSON.stringify({ date, machine, sizes, runs, summaries, cells: cells.map((c) => ({ ...c, scenario: c.scenario.name })) }, null, 2))
}
// a cell whose runs all errored is a broken benchmark (CI must notice); a scenario whose
// success condition failed on a baseline (e.g. the reference daemon's RSS) is a finding
const broken = cells.filter((c) => c.skipped == null && c.runs.length === 0)
process.exit(broken.length > 0 ? 1 : 0)
