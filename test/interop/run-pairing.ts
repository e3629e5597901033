/**
 * Registers a part of the public `@libp2p/interop` suite (v14, unchanged) for one pairing
 * (see pairings.ts) as a node:test describe, and prints its pass/fail/skip counts at the end.
 *
 * The suite is split over several test files because the runner gives each file 180 s
 * (`--test-timeout` applies to a whole file in Node 20) and every libp2pd peer is a process
 * that takes 1–2 s of CPU to start; each file stays well inside that bound.
 *
 * Environment: INTEROP_PAIRINGS (comma-separated pairing names, default all),
 * INTEROP_CONCURRENCY (describes run at once per file; default 2, or the part's own), INTEROP_REPORT_DIR
 * (write the counts as JSON there; `node test/interop/summarize.mjs <dir>` adds them up),
 * INTEROP_TIMEOUT_SCALE (multiplies the suite's timeouts; see mocha-globals.ts),
 * INTEROP_PART_TIMEOUT_MS, INTEROP_DEBUG (log each daemon's start-up time).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { after, before, it } from 'node:test'
import {
  connectInteropTests, relayInteropTests, dhtInteropTests, pubsubInteropTests, streamInteropTests
} from '@libp2p/interop'
import { installMochaGlobals, tallyScope } from './mocha-globals.js'
import { LIBP2PD_BIN } from './libp2pd-peer.js'
import { PAIRINGS, PairingFactory } from './pairings.js'
import type { DaemonFactory } from '@libp2p/interop'

/** The suite's parts, by the function that registers them. */
const GROUPS = {
  connect: (f: DaemonFactory) => { connectInteropTests(f) },
  relay: (f: DaemonFactory) => { relayInteropTests(f) },
  // these are async only in name: they register synchronously, which is what we need
  dht: (f: DaemonFactory) => { void dhtInteropTests(f) },
  pubsub: (f: DaemonFactory) => { void pubsubInteropTests(f) },
  streams: (f: DaemonFactory) => { void streamInteropTests(f) }
}

/** A part of the suite. */
export type Group = keyof typeof GROUPS

/** What one test file runs. */
export interface Part {
  /** Short name of the part, in titles and report file names. */
  name: string
  groups: Group[]
  /** Only the tests whose mocha full title matches (e.g. one key type of the stream matrix). */
  include?: RegExp
  /** Describes run at once (default 2; INTEROP_CONCURRENCY overrides). */
  concurrency?: number
}

/**
 * A bound for a whole part (INTEROP_PART_TIMEOUT_MS for runs with a larger `--test-timeout`);
 * every test and hook inside has its own timeout. The runner ends a file after 180 s, counted
 * from its start: this leaves room for loading the file (seconds on a busy machine) and for the
 * closing hooks (daemons still starting, then stopping), so that the counts are still printed.
 */
const PART_TIMEOUT_MS = Number(process.env.INTEROP_PART_TIMEOUT_MS ?? 130_000)
/** After the summary, how long open handles may keep the process alive before it exits anyway. */
const EXIT_GRACE_MS = 5_000
/**
 * How many of the suite's describes run at once. Much of a describe's time is spent waiting
 * (the suite sleeps after connecting), but every libp2pd peer costs CPU to start.
 */
const CONCURRENCY = process.env.INTEROP_CONCURRENCY !== undefined ? Number(process.env.INTEROP_CONCURRENCY) : undefined

/** Registers `part` of the suite for the pairing called `pairingName`. */
export function runInteropPart (pairingName: string, part: Part): void {
  const pairing = PAIRINGS.find(p => p.name === pairingName)
  if (pairing === undefined) throw new Error(`no pairing ${pairingName}`)
  // the file's name in the title lets scripts/run-tests.mjs place a failure for a retry: the
  // failures' locations name this file or the suite's, never the test file
  const title = `${pairing.title}: ${part.name} (${basename(process.argv[1] ?? '?')})`
  const wanted = process.env.INTEROP_PAIRINGS?.split(',').map(s => s.trim())
  if (wanted !== undefined && !wanted.includes(pairing.name)) {
    it(title, { skip: `pairing ${pairing.name} not in INTEROP_PAIRINGS` })
    return
  }
  if ((pairing.go === 'libp2pd' || pairing.js === 'libp2pd') && !existsSync(new URL(process.env.LIBP2PD_BUNDLE === '0' ? '../../dist/src/cli/entry.js' : '../../dist/libp2pd.mjs', import.meta.url))) {
    throw new Error(`${LIBP2PD_BIN} needs a build: run \`npm run build\` first`)
  }

  installMochaGlobals()
  const factory = new PairingFactory(pairing)
  let started = 0
  let ms = 0
  const filter = { include: part.include, exclude: pairing.exclude }
  const tally = tallyScope(title, { timeoutMs: PART_TIMEOUT_MS, concurrency: CONCURRENCY ?? part.concurrency ?? 2, filter }, () => {
    before(() => { started = Date.now() })
    // the suite's own hooks stop their daemons; this stops those a failed hook left behind
    after(async () => {
      ms = Date.now() - started
      const leaked = await factory.stopAll()
      if (leaked > 0) console.log(`${title}: stopped ${leaked} daemon(s) left running by failed hooks`)
    })
    for (const group of part.groups) GROUPS[group](factory)
  })

  after(() => {
    const notRun = tally.registered - tally.passed - tally.failed - tally.skipped
    const lines = [`interop ${title}: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped` +
      `${notRun > 0 ? `, ${notRun} not run (hook failed)` : ''} of ${tally.registered} in ${(ms / 1000).toFixed(1)} s`]
    for (const f of tally.failures) lines.push(`  ✗ ${f.title}: ${f.error.split('\n')[0]}`)
    console.log(lines.join('\n'))
    const dir = process.env.INTEROP_REPORT_DIR
    if (dir !== undefined) {
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, `${pairing.name}.${part.name}.json`),
        JSON.stringify({ pairing: pairing.name, title: pairing.title, part: part.name, ms, notRun, ...tally }, null, 2))
    }
    // A daemon-client handler listener whose stream never came stays open forever; do not
    // let it hang the run, but say what was still open.
    setTimeout(() => {
      console.log(`interop ${title}: exiting with open handles: ${process.getActiveResourcesInfo().join(', ')}`)
      process.exit()
    }, EXIT_GRACE_MS).unref()
  })
}
