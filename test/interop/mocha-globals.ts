/**
 * The mocha globals (`describe`, `it`, `before`, `after`, `beforeEach`, `afterEach`, with
 * mocha's `this.timeout(ms)` and `this.skip()`) mapped onto node:test, so the unchanged
 * `@libp2p/interop` suites, which are written for mocha under aegir, run in our runner.
 *
 * Semantics kept from mocha: every test and hook has a timeout (aegir's default of 60 s unless
 * the suite calls `this.timeout`, which re-arms the timer from that moment, as mocha does);
 * `this.skip()` aborts the test and reports it skipped; the suites inside a `describe` run one
 * after another. Every test is counted under the tally of the `describe` that installed it
 * (see `tallyScope`), so a run over several pairings can report per-pairing numbers.
 */
import * as nodeTest from 'node:test'

/** aegir runs mocha with `--timeout 60000`; the interop suites rely on it for tests that set none. */
export const DEFAULT_MOCHA_TIMEOUT_MS = 60_000

/**
 * Multiplies every mocha timeout (INTEROP_TIMEOUT_SCALE, default 1: the suite's own values).
 * The suite's budgets assume a Go daemon that starts in tens of milliseconds; a Node daemon
 * needs about a second of CPU, which an overloaded machine can stretch past a 20 s hook.
 */
export const TIMEOUT_SCALE = Number(process.env.INTEROP_TIMEOUT_SCALE ?? 1)

/** Outcome counts of the tests registered in one tally scope. */
export interface Tally {
  registered: number
  passed: number
  failed: number
  skipped: number
  /** `title → error message` of every failed test or hook. */
  failures: Array<{ title: string, error: string }>
}

type MochaFn = (this: MochaContext) => unknown

interface MochaContext {
  timeout(ms?: number): MochaContext | number
  skip(): never
}

/** Thrown by `this.skip()`; never escapes a test. */
class PendingSignal extends Error {}

/** Which of the suite's tests a scope registers, by mocha full title below the scope. */
export interface TitleFilter {
  /** Only tests whose title matches are registered (mocha `--grep`). */
  include?: RegExp
  /** Tests whose title matches are not registered (mocha `--grep --invert`). */
  exclude?: RegExp
}

interface Scope {
  tally: Tally
  filter: TitleFilter
}

/** One `describe` being collected; hooks of a suite without tests never run, as in mocha. */
interface Frame {
  title: string
  tests: number
}

const scopes: Scope[] = []
let frames: Frame[] = []
/** > 0 while the body of a `describe.skip` is being collected. */
let skipDepth = 0

function currentScope (): Scope | undefined {
  return scopes[scopes.length - 1]
}

/** The title used in reports: the scope's title and every describe, `›`-separated. */
function reportTitle (title: string): string {
  return [...frames.map(f => f.title), title].join(' › ')
}

/** mocha's full title below the scope, as `--grep` sees it. */
function grepTitle (title: string): string {
  return [...frames.slice(1).map(f => f.title), title].join(' ')
}

function message (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

/**
 * Runs a mocha-style function with a mocha `this`: the timer starts at `DEFAULT_MOCHA_TIMEOUT_MS`
 * and `this.timeout(ms)` re-arms it. Resolves `'skipped'` if the function called `this.skip()`.
 */
async function runMocha (fn: MochaFn): Promise<'done' | 'skipped'> {
  let timer: NodeJS.Timeout | undefined
  let current = DEFAULT_MOCHA_TIMEOUT_MS
  let onTimeout: (err: Error) => void = () => {}
  const timedOut = new Promise<never>((_resolve, reject) => { onTimeout = reject })
  const arm = (ms: number): void => {
    clearTimeout(timer)
    current = ms
    const scaled = ms * TIMEOUT_SCALE
    timer = setTimeout(() => { onTimeout(new Error(`Timeout of ${scaled}ms exceeded`)) }, scaled)
  }
  const ctx: MochaContext = {
    timeout (ms?: number) {
      if (ms === undefined) return current
      arm(ms)
      return ctx
    },
    skip () { throw new PendingSignal('skipped') }
  }
  arm(DEFAULT_MOCHA_TIMEOUT_MS)
  try {
    await Promise.race([Promise.resolve().then(() => fn.call(ctx)), timedOut])
    return 'done'
  } catch (err) {
    if (err instanceof PendingSignal) return 'skipped'
    throw err
  } finally {
    clearTimeout(timer)
  }
}

function suite (title: string, fn: () => void, skip: boolean): void {
  // concurrency 1: nested suites share daemons through before/after, as in mocha.
  // A skipped suite is still collected so that its tests are listed (and counted) as skipped.
  nodeTest.describe(title, { concurrency: 1 }, () => {
    frames.push({ title, tests: 0 })
    if (skip) skipDepth++
    try { fn() } finally {
      if (skip) skipDepth--
      frames.pop()
    }
  })
}

function test (title: string, fn: MochaFn | undefined, skip: boolean): void {
  const scope = currentScope()
  const grep = grepTitle(title)
  if (scope?.filter.include?.test(grep) === false || scope?.filter.exclude?.test(grep) === true) return
  const tally = scope?.tally
  const name = reportTitle(title)
  for (const f of frames) f.tests++
  if (tally !== undefined) tally.registered++
  if (skip || skipDepth > 0 || fn === undefined) {
    if (tally !== undefined) tally.skipped++
    nodeTest.it(title, { skip: true })
    return
  }
  nodeTest.it(title, async (t) => {
    try {
      const outcome = await runMocha(fn)
      if (outcome === 'skipped') {
        if (tally !== undefined) tally.skipped++
        t.skip()
        return
      }
      if (tally !== undefined) tally.passed++
    } catch (err) {
      if (tally !== undefined) {
        tally.failed++
        tally.failures.push({ title: name, error: message(err) })
      }
      throw err
    }
  })
}

function hook (kind: 'before' | 'after' | 'beforeEach' | 'afterEach', fn: MochaFn): void {
  // the hooks of a skipped suite would start daemons for nothing
  if (skipDepth > 0) return
  const tally = currentScope()?.tally
  const name = reportTitle(`"${kind}" hook`)
  const frame = frames[frames.length - 1]
  nodeTest[kind](async () => {
    if (frame !== undefined && frame.tests === 0) return
    try {
      await runMocha(fn)
    } catch (err) {
      tally?.failures.push({ title: name, error: message(err) })
      throw err
    }
  })
}

/**
 * Registers a `describe` whose tests are counted in a fresh tally, returned to the caller;
 * read it after the suite has run. Its top-level describes run `concurrency` at a time (each
 * has its own daemons, so they are independent); inside them, everything is sequential. Its hooks (registered by `fn` with node:test's own
 * `before`/`after`) run as for any describe.
 */
export function tallyScope (title: string, options: { timeoutMs: number, concurrency: number, filter?: TitleFilter }, fn: () => void): Tally {
  const tally: Tally = { registered: 0, passed: 0, failed: 0, skipped: 0, failures: [] }
  // `fn` must register everything synchronously: the scope and describe stacks are global
  nodeTest.describe(title, { concurrency: options.concurrency, timeout: options.timeoutMs }, () => {
    scopes.push({ tally, filter: options.filter ?? {} })
    const outer = frames
    frames = [{ title, tests: 0 }]
    try { fn() } finally { frames = outer; scopes.pop() }
  })
  return tally
}

/** Installs the mocha globals on `globalThis`. */
export function installMochaGlobals (): void {
  const g = globalThis as any
  g.describe = Object.assign((title: string, fn: () => void) => { suite(title, fn, false) }, {
    skip: (title: string, fn: () => void) => { suite(title, fn, true) },
    only: (title: string, fn: () => void) => { suite(title, fn, false) }
  })
  g.it = Object.assign((title: string, fn?: MochaFn) => { test(title, fn, false) }, {
    skip: (title: string, fn?: MochaFn) => { test(title, fn, true) },
    only: (title: string, fn?: MochaFn) => { test(title, fn, false) }
  })
  g.before = (fn: MochaFn) => { hook('before', fn) }
  g.after = (fn: MochaFn) => { hook('after', fn) }
  g.beforeEach = (fn: MochaFn) => { hook('beforeEach', fn) }
  g.afterEach = (fn: MochaFn) => { hook('afterEach', fn) }
}
