/**
 * `npm run bench:compare` — is one build of the daemon faster than another? Paired rounds
 * on the same machine, in the same minutes.
 *
 * Run-to-run spread on a shared 2-core machine is ±15% for the latency scenarios, and it
 * drifts over minutes, so two builds run one after the other (or a few runs each) can differ
 * by 20% with identical code on the measured path (seen: bulk numbers of two builds that
 * differ only in stream-opening code, docs/performance.md). Here each round runs both builds
 * once, in alternating order, and the verdict is the geometric mean of the per-round ratios
 * with a 95% interval: drift cancels within a round, and the order cannot favour either.
 *
 *   npm run bench:compare -- --base HEAD~1 --scenario unary --target libp2pd-p2pd --rounds 8
 *   npm run bench:compare -- --base HEAD~1 --scenario bulk --bulk-mib 1024 --rounds 8
 *
 * `--base` and `--head` are git revisions, built into temporary snapshots (`git archive`,
 * this checkout's `node_modules`, `tsc`); `--head` defaults to this checkout's own build
 * (run `npm run build` first; `npm run bench:compare` does). A snapshot is removed at the end.
 *
 * `--base-node-args` and `--head-node-args` give each side's daemons extra `node` flags
 * (`LIBP2PD_BENCH_NODE_ARGS`), so that a flag is compared in paired rounds too; with them
 * `--base` may be left out, and both sides run this checkout's build:
 *
 *   npm run bench:compare -- --base-node-args=--max-semi-space-size=4 --head-node-args=--max-semi-space-size=16
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { pairedRatio } from './paired.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RUN = path.join(ROOT, 'bench', 'run.ts')

const { values: flags } = parseArgs({
  options: {
    base: { type: 'string' },
    head: { type: 'string' },
    scenario: { type: 'string', default: 'stream-per-request,unary' },
    target: { type: 'string', default: 'libp2pd-http,libp2pd-p2pd' },
    rounds: { type: 'string', default: '8' },
    // passed through to each run (bench/run.ts): the bulk transfer's size, and short warm-ups
    'bulk-mib': { type: 'string' },
    cold: { type: 'boolean', default: false },
    // each side's extra daemon node flags, space-separated (LIBP2PD_BENCH_NODE_ARGS)
    'base-node-args': { type: 'string' },
    'head-node-args': { type: 'string' },
    help: { type: 'boolean', default: false }
  }
})

/** Whether the two sides differ in their daemons' node flags (then `--base` is optional). */
const comparesFlags = flags['base-node-args'] !== undefined || flags['head-node-args'] !== undefined
if (flags.help === true || (flags.base === undefined && !comparesFlags)) {
  console.log('usage: npm run bench:compare -- --base <git rev> [--head <git rev>] [--base-node-args=<flags>] [--head-node-args=<flags>] [--scenario a,b] [--target libp2pd-http,libp2pd-p2pd] [--rounds 8] [--bulk-mib N] [--cold]')
  process.exit(flags.help === true ? 0 : 1)
}

const temporary: string[] = []

/** The run options every round passes on to bench/run.ts. */
const passed = [
  ...(flags['bulk-mib'] === undefined ? [] : ['--bulk-mib', flags['bulk-mib']]),
  ...(flags.cold ? ['--cold'] : [])
]

/** Builds `rev` into a temporary directory; returns its `bin/libp2pd.js`. */
function snapshot (rev: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-compare-'))
  temporary.push(dir)
  process.stderr.write(`building ${rev} in ${dir} …\n`)
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive "${rev}" | tar -x -C "${dir}"`], { stdio: 'inherit' })
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'))
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { stdio: 'inherit' })
  // the bundle too, for runs with LIBP2PD_BENCH_DAEMON_ENV=LIBP2PD_BUNDLE=1
  const bundle = path.join(dir, 'scripts', 'bundle.mjs')
  if (existsSync(bundle)) execFileSync(process.execPath, [bundle], { stdio: 'inherit' })
  return path.join(dir, 'bin', 'libp2pd.js')
}

interface RunJson { cells: Array<{ scenario: string, target: string, runs: Array<{ value: number, cpu?: number }> }> }

/** One side of the comparison: a daemon build and the node flags its daemons run with. */
interface Side { bin: string, nodeArgs?: string }

/** One run of every (scenario, target) on one side's daemons. */
function runOnce ({ bin, nodeArgs }: Side): Map<string, { value: number, cpu?: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-compare-run-'))
  try {
    const json = path.join(dir, 'run.json')
    try {
      execFileSync(process.execPath, ['--import', 'tsx', RUN, '--scenario', flags.scenario, '--target', flags.target, '--runs', '1', '--json', json, ...passed],
        { cwd: ROOT, env: { ...process.env, LIBP2PD_BENCH_BIN: bin, ...(nodeArgs === undefined ? {} : { LIBP2PD_BENCH_NODE_ARGS: nodeArgs }) }, stdio: ['ignore', 'ignore', 'inherit'] })
    } catch (err: any) {
      // a cell whose run failed exits 1 after writing the others: keep what there is
      process.stderr.write(`the run of ${bin} failed (${String(err.message).split('\n')[0]}); its missing cells drop out of this round\n`)
      if (!existsSync(json)) return new Map()
    }
    const parsed = JSON.parse(readFileSync(json, 'utf8')) as RunJson
    const out = new Map<string, { value: number, cpu?: number }>()
    for (const cell of parsed.cells) if (cell.runs[0] !== undefined) out.set(`${cell.scenario} | ${cell.target}`, cell.runs[0])
    return out
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

try {
  const own = path.join(ROOT, 'bin', 'libp2pd.js')
  const base: Side = { bin: flags.base === undefined ? own : snapshot(flags.base), nodeArgs: flags['base-node-args'] }
  const head: Side = { bin: flags.head === undefined ? own : snapshot(flags.head), nodeArgs: flags['head-node-args'] }
  const rounds = Math.max(2, Number(flags.rounds))
  const pairs = new Map<string, Array<{ base: { value: number, cpu?: number }, head: { value: number, cpu?: number } }>>()
  for (let round = 1; round <= rounds; round++) {
    process.stderr.write(`round ${round}/${rounds}\n`)
    // alternate the order so that neither build always runs on a warmer (or busier) machine
    const [first, second] = round % 2 === 1 ? [base, head] : [head, base]
    const a = runOnce(first)
    const b = runOnce(second)
    const [forBase, forHead] = first === base ? [a, b] : [b, a]
    for (const [key, baseRun] of forBase) {
      const headRun = forHead.get(key)
      if (headRun === undefined) continue
      pairs.set(key, [...(pairs.get(key) ?? []), { base: baseRun, head: headRun }])
    }
  }
  if (pairs.size === 0) {
    console.error('no (scenario, target) completed on both builds in any round: nothing to compare')
    process.exitCode = 1
  }
  const label = (rev: string | undefined, nodeArgs: string | undefined): string => `${rev ?? 'this build'}${nodeArgs === undefined ? '' : ` (node ${nodeArgs})`}`
  console.log(`## ${label(flags.head, flags['head-node-args'])} against ${label(flags.base, flags['base-node-args'])}: ${rounds} paired rounds\n`)
  console.log('Rates (ops/s, MB/s): above 1 is faster. Memory scenarios: below 1 is smaller. An interval that contains 1 means no difference could be seen.\n')
  console.log('| scenario | target | base (mean) | head (mean) | head ÷ base | 95% interval | CPU head ÷ base |')
  console.log('|---|---|---:|---:|---:|---|---:|')
  for (const [key, list] of pairs) {
    const rate = pairedRatio(list.map(p => p.head.value / p.base.value))
    const withCpu = list.filter(p => (p.base.cpu ?? 0) > 0 && (p.head.cpu ?? 0) > 0)
    const cpu = withCpu.length > 0 ? pairedRatio(withCpu.map(p => (p.head.cpu ?? 0) / (p.base.cpu ?? 1))).mean.toFixed(3) : '–'
    const mean = (xs: number[]): string => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1)
    console.log(`| ${key} | ${mean(list.map(p => p.base.value))} | ${mean(list.map(p => p.head.value))} | ${rate.mean.toFixed(3)} | ${rate.low.toFixed(3)}–${rate.high.toFixed(3)} | ${cpu} |`)
  }
} finally {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true })
}
