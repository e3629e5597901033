/**
 * Reads `perf script -F ip,sym` output (one call stack per sample, innermost frame first)
 * and prints each frame's inclusive CPU: the share of samples whose stack contains it, and,
 * given the operation count and sampling rate, microseconds per operation.
 *
 *   node --import tsx bench/perf-frames.ts /tmp/b.txt --ops 3000 --hz 2000 [--top 60] [--focus post]
 *
 * `--focus <text>` instead lists the direct callees (and the innermost frames) of the first
 * frame whose name contains the text: where that function's time goes.
 * docs/performance.md ("CPU time, not wall time") has the recording recipe.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

// `| head` closes the pipe early: that is the reader's choice, not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0); throw err })

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ops: { type: 'string', default: '1' },
    hz: { type: 'string', default: '2000' },
    top: { type: 'string', default: '60' },
    focus: { type: 'string' },
    // runtime plumbing (event loop, V8 entry trampolines, syscall entry) hides the frames of interest
    all: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false }
  }
})
const USAGE = 'usage: node --import tsx bench/perf-frames.ts <perf script output> [--ops N] [--hz 2000] [--top 60] [--focus text] [--all]'
if (flags.help) {
  console.log(USAGE)
  process.exit(0)
}
if (positionals.length !== 1) {
  console.error(USAGE)
  process.exit(2)
}

const PLUMBING = /^(node::|uv_|uv__|v8::|Builtin:|Builtins_|__libc|entry_SYSCALL|do_syscall|start_thread)/

/** This checkout, as it appears in the daemon's frames: `file:///…/` (ES modules) or a path (CommonJS). */
const ROOT_URL = new URL('..', import.meta.url)
const ROOTS = [ROOT_URL.href, fileURLToPath(ROOT_URL)]

/** A frame's name without the JIT tier marker and this checkout's path prefix. */
function frameName (line: string): string {
  return line.trim().replace(/^[0-9a-f]+ /, '').replace(/^JS:[*^~+]?/, '').replace(ROOTS[0], '').replace(ROOTS[1], '').replace(/^(\S* )?node_modules\//, '$1')
}

const samples = readFileSync(positionals[0], 'utf8').split(/\n\s*\n/)
  .map(block => block.split('\n').filter(l => l.trim() !== '').map(frameName))
  .filter(stack => stack.length > 0)
const perOpUs = 1e6 / Number(flags.hz) / Number(flags.ops)

const tally = new Map<string, number>()
const count = (key: string): void => { tally.set(key, (tally.get(key) ?? 0) + 1) }
const leaves = new Map<string, number>()
for (const stack of samples) {
  if (flags.focus === undefined) {
    for (const frame of new Set(stack)) count(frame)
    continue
  }
  const at = stack.findIndex(f => f.includes(flags.focus as string))
  if (at < 0) continue
  count(at === 0 ? '(self)' : stack[at - 1])
  leaves.set(stack[0], (leaves.get(stack[0]) ?? 0) + 1)
}

function print (title: string, map: Map<string, number>): void {
  console.log(`-- ${title}`)
  const rows = [...map].filter(([k]) => flags.all || flags.focus !== undefined || !PLUMBING.test(k)).sort((a, b) => b[1] - a[1]).slice(0, Number(flags.top))
  for (const [frame, n] of rows) {
    console.log(`${(100 * n / samples.length).toFixed(2).padStart(6)}% ${(n * perOpUs).toFixed(1).padStart(8)} µs/op  ${frame.slice(0, 140)}`)
  }
}

console.log(`${samples.length} samples, ${(samples.length * perOpUs).toFixed(0)} µs of CPU per operation`)
if (flags.focus === undefined) print('inclusive, by frame', tally)
else {
  print(`direct callees of ${flags.focus}`, tally)
  print(`innermost frames under ${flags.focus}`, leaves)
}
