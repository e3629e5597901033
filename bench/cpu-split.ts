/**
 * `npm run bench:cpu` — where the CPU of one request goes, process by process.
 *
 * The benchmark table gives a target's rate and its daemons' CPU together. On this 2-core
 * machine a sequential request is about as fast as the machine can run every process
 * involved (program, daemon A, daemon B, the handler side), so the question "what would
 * make it faster" is answered by a CPU budget: per operation, each process's CPU time
 * (`/proc/<pid>/stat`), the wall time, and how many cores were busy on average.
 *
 *   npm run bench:cpu -- --target libp2pd-http,libp2pd-p2pd --op stream-per-request --rounds 3
 *   npm run bench:cpu -- --target jslibp2p,relay,libp2pd-p2pd --op round-trips --requests 20000
 *
 * The tool's own process is the program (the worker of `npm run bench`); `pids()` of the
 * target are the measured processes (the two daemons, A first, for libp2pd; the relays;
 * the reference daemons), and any other child process is the handler side. In-process
 * targets are one process. Rounds alternate the targets, as the benchmark does.
 */
// before any libp2p import: js-libp2p v3 uses Promise.withResolvers, which Node 20 lacks
import '../src/polyfill.ts'
import { readdirSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { cpuSeconds, procStat } from './measure.ts'
import { now, readExactly } from './scenario.ts'
import { ECHO_PROTOCOL } from './scenarios/round-trips.ts'
import { REQUEST_PROTOCOL, requestOnNewStream } from './scenarios/stream-per-request.ts'
import { UNARY_PROTOCOL } from './scenarios/unary.ts'
import { targets as allTargets } from './targets/index.ts'
import type { Pair } from './target.ts'

const OPS = ['stream-per-request', 'unary', 'round-trips'] as const
type Op = typeof OPS[number]

const { values: flags } = parseArgs({
  options: {
    target: { type: 'string', default: 'libp2pd-http,libp2pd-p2pd' },
    op: { type: 'string', default: 'stream-per-request' },
    requests: { type: 'string', default: '3000' },
    warmup: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '2' },
    smoke: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false }
  }
})

if (flags.help === true) {
  console.log(`usage: npm run bench:cpu -- [--target ${allTargets.map(t => t.name).join(',')}] [--op ${OPS.join('|')}]
  [--requests N] [--warmup N] [--rounds N] [--smoke]`)
  process.exit(0)
}

const op = flags.op as Op
if (!OPS.includes(op)) throw new Error(`unknown --op ${String(flags.op)}; known: ${OPS.join(', ')}`)
const targets = flags.target.split(',').map(name => {
  const t = allTargets.find(x => x.name === name.trim())
  if (t === undefined) throw new Error(`unknown target ${name}; known: ${allTargets.map(x => x.name).join(', ')}`)
  return t
})
const requests = flags.smoke ? 50 : Number(flags.requests)
const warmup = flags.smoke ? 20 : Number(flags.warmup)
const rounds = flags.smoke ? 1 : Math.max(1, Number(flags.rounds))

/** Every live process whose parent is this one (the daemons, relays, handler hosts). */
function childPids (): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const [state, ppid] = procStat(name) ?? [] // (gone meanwhile: no fields)
    // a zombie is a child that already exited (e.g. a previous target's), not a process at work
    if (Number(ppid) === process.pid && state !== 'Z') out.push(Number(name))
  }
  return out
}

/** A function that runs one operation of `op` on `pair`, after its handler is set up. */
async function prepare (pair: Pair, signal: AbortSignal): Promise<() => Promise<unknown>> {
  const message = new Uint8Array(64).fill(0x63)
  if (op === 'stream-per-request') {
    await pair.handle(REQUEST_PROTOCOL, 'echo', { signal })
    return async () => await requestOnNewStream(pair, message, signal)
  }
  if (op === 'round-trips') {
    // one stream for the whole run, closed with the pair
    await pair.handle(ECHO_PROTOCOL, 'echo', { signal })
    const pipe = await pair.open(ECHO_PROTOCOL, { signal })
    return async () => { await pipe.write(message); await readExactly(pipe, message.byteLength, signal) }
  }
  const plane = pair.unary
  if (plane === undefined) throw new Error('this target has no unary plane (only libp2pd-p2pd)')
  await plane.handle(UNARY_PROTOCOL)
  return async () => await plane.call(UNARY_PROTOCOL, message, { signal })
}

/** One measured run: µs of CPU per operation for each process, and wall µs per operation. */
async function measure (pair: Pair, run: () => Promise<unknown>, preexisting: Set<number>): Promise<Record<string, number>> {
  for (let i = 0; i < warmup; i++) await run()
  const self = process.pid
  const measured = pair.pids().filter(pid => pid !== self)
  const others = childPids().filter(pid => !measured.includes(pid) && !preexisting.has(pid))
  const named: Array<[string, number[]]> = [['program', [self]], ...measured.map((pid, i): [string, number[]] => [`measured ${i + 1}`, [pid]]), ['handler side', others]]
  const cpu = (pids: number[]): number => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0)
  const before = named.map(([, pids]) => cpu(pids))
  const start = now()
  for (let i = 0; i < requests; i++) await run()
  const wallUs = (now() - start) * 1000 / requests
  const row: Record<string, number> = { 'wall µs': wallUs }
  let total = 0
  named.forEach(([name, pids], i) => {
    const us = (cpu(pids) - before[i]) * 1e6 / requests
    if (name === 'handler side' && pids.length === 0) return
    row[name] = us
    total += us
  })
  row['total CPU µs'] = total
  row['cores busy'] = total / wallUs
  return row
}

const results = new Map<string, Array<Record<string, number>>>()
for (let round = 1; round <= rounds; round++) {
  const order = round % 2 === 1 ? targets : [...targets].reverse()
  for (const target of order) {
    const available = await target.available()
    if (available !== true) { console.error(`${target.name}: ${available}`); continue }
    process.stderr.write(`round ${round}/${rounds}: ${target.name}\n`)
    // children of an earlier target may still be exiting: they are not this target's
    const preexisting = new Set(childPids())
    const pair = await target.setup({ signal: AbortSignal.timeout(60_000), maxStreams: 1024 })
    try {
      const signal = AbortSignal.timeout(60_000 + (warmup + requests) * 40)
      const row = await measure(pair, await prepare(pair, signal), preexisting)
      results.set(target.name, [...(results.get(target.name) ?? []), row])
    } finally {
      await pair.close()
    }
  }
}

const what = { 'stream-per-request': 'request (new stream, 64 B echo)', unary: 'unary call', 'round-trips': '64 B round trip on one open stream' }[op]
console.log(`## CPU per ${what}: ${requests} after ${warmup} warm-up, ${rounds} round(s), µs per operation\n`)
console.log('"measured N" are the target\'s own processes (libp2pd, reference: daemon A then B), "program" is this process.\n')
for (const [name, rows] of results) {
  const columns = Object.keys(rows[0])
  console.log(`| ${name} | ${columns.join(' | ')} |`)
  console.log(`|---|${columns.map(() => '---:').join('|')}|`)
  rows.forEach((row, i) => { console.log(`| run ${i + 1} | ${columns.map(c => c === 'cores busy' ? row[c].toFixed(2) : row[c].toFixed(0)).join(' | ')} |`) })
  console.log('')
}
