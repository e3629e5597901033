/**
 * One benchmark run in a fresh process: set up a target's pair, run one scenario, tear
 * down, send the result over IPC. A fresh process per run keeps peak-RSS (VmHWM) and idle
 * memory readings from leaking between runs and targets.
 * Usage (forked by run.ts): worker.ts <target> <scenario> <sizes JSON>
 */
import '../src/polyfill.ts'
import { setMaxListeners } from 'node:events'
import { exitWithParent } from './child.ts'
import { scenarios } from './scenarios/index.ts'
import { targets } from './targets/index.ts'
import type { RunResult, Sizes } from './scenario.ts'

/** Bound on building a pair (spawning daemons, connecting). */
const SETUP_MS = 30_000
/** Bound on tearing it down. */
const CLOSE_MS = 15_000

exitWithParent()

const [targetName, scenarioName, sizesJson] = process.argv.slice(2)
const target = targets.find((t) => t.name === targetName)
const scenario = scenarios.find((s) => s.name === scenarioName)

/** Send one IPC message and wait until it has been handed to the parent. */
async function report (message: unknown): Promise<void> {
  await new Promise<void>((resolve) => { process.send?.(message, () => resolve()) ?? resolve() })
}

async function main (): Promise<number> {
  if (target == null || scenario == null) throw new Error(`unknown target ${targetName} or scenario ${scenarioName}`)
  const sizes = JSON.parse(sizesJson) as Sizes
  const pair = await target.setup({ signal: AbortSignal.timeout(SETUP_MS), maxStreams: sizes.concurrentStreams })
  let code = 0
  try {
    const signal = AbortSignal.timeout(scenario.timeoutMs(sizes))
    // scenarios hand this one signal to many concurrent waits
    setMaxListeners(Infinity, signal)
    const result: RunResult = await scenario.run(pair, { sizes, signal })
    await report({ result })
  } catch (err) {
    await report({ error: (err as Error).stack ?? String(err) })
    code = 1
  } finally {
    // the result is already out; teardown only has to be bounded (children die with us)
    const timer = setTimeout(() => { process.exit(3) }, CLOSE_MS)
    await pair.close()
    clearTimeout(timer)
  }
  return code
}

// exit explicitly: a stuck handle must not keep the worker alive
main().then(
  (code) => { process.exit(code) },
  async (err: Error) => {
    await report({ error: err.stack ?? String(err) })
    process.exit(1)
  }
)
