/**
 * The public `@libp2p/interop` suite (v14, unchanged) with libp2pd in the place of the Go
 * daemon: libp2pd ⇄ libp2pd, libp2pd ⇄ the reference JS daemon, and reference ⇄ reference as
 * the control that proves the harness. See docs/interop.md.
 *
 *   npm run build && node scripts/run-tests.mjs interop
 *   INTEROP_PAIRINGS=libp2pd,mixed node scripts/run-tests.mjs interop   # a subset
 *
 * Per-pairing counts are printed at the end (and written as JSON to $INTEROP_REPORT if set).
 */
import { existsSync, writeFileSync } from 'node:fs'
import { after, before } from 'node:test'
import {
  connectInteropTests, relayInteropTests, dhtInteropTests, pubsubInteropTests, streamInteropTests
} from '@libp2p/interop'
import { installMochaGlobals, tallyScope } from './mocha-globals.js'
import { LIBP2PD_BIN } from './libp2pd-peer.js'
import { PAIRINGS, PairingFactory } from './pairings.js'
import type { Tally } from './mocha-globals.js'
import type { Pairing } from './pairings.js'

/** A bound for one pairing; every test and hook inside has its own, much shorter, timeout. */
const PAIRING_TIMEOUT_MS = 15 * 60_000
/** After the summary, how long open handles may keep the process alive before it exits anyway. */
const EXIT_GRACE_MS = 5_000

installMochaGlobals()

const wanted = (process.env.INTEROP_PAIRINGS ?? PAIRINGS.map(p => p.name).join(',')).split(',').map(s => s.trim())
const pairings = PAIRINGS.filter(p => wanted.includes(p.name))
if (pairings.length === 0) throw new Error(`INTEROP_PAIRINGS=${String(process.env.INTEROP_PAIRINGS)} names no pairing (${PAIRINGS.map(p => p.name).join(', ')})`)
const distMain = new URL('../../dist/src/cli/main.js', import.meta.url)
if (pairings.some(p => p.go === 'libp2pd' || p.js === 'libp2pd') && !existsSync(distMain)) {
  throw new Error(`${LIBP2PD_BIN} needs a build: run \`npm run build\` first`)
}

const results: Array<{ pairing: Pairing, tally: Tally, ms: number }> = []

for (const pairing of pairings) {
  const factory = new PairingFactory(pairing)
  const result = { pairing, tally: undefined as unknown as Tally, ms: 0 }
  let started = 0
  result.tally = tallyScope(pairing.title, { timeoutMs: PAIRING_TIMEOUT_MS, exclude: pairing.exclude }, () => {
    before(() => { started = Date.now() })
    // the suites' own hooks stop their daemons; this catches those a failed hook left behind
    after(async () => {
      result.ms = Date.now() - started
      const leaked = await factory.stopAll()
      if (leaked > 0) console.log(`# ${pairing.title}: stopped ${leaked} daemon(s) left running by failed hooks`)
    })
    // the suite functions register synchronously (interopTests() would await between them)
    connectInteropTests(factory)
    relayInteropTests(factory)
    void dhtInteropTests(factory)
    void pubsubInteropTests(factory)
    void streamInteropTests(factory)
  })
  results.push(result)
}

after(() => {
  const lines = ['', 'interop results:']
  for (const { pairing, tally, ms } of results) {
    const notRun = tally.registered - tally.passed - tally.failed - tally.skipped
    lines.push(`  ${pairing.title}: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped` +
      `${notRun > 0 ? `, ${notRun} not run (hook failed)` : ''} of ${tally.registered} in ${(ms / 1000).toFixed(1)} s`)
    for (const f of tally.failures) lines.push(`    ✗ ${f.title}: ${f.error.split('\n')[0]}`)
  }
  console.log(lines.join('\n'))
  if (process.env.INTEROP_REPORT !== undefined) {
    writeFileSync(process.env.INTEROP_REPORT, JSON.stringify(results.map(r => ({ pairing: r.pairing.name, ms: r.ms, ...r.tally })), null, 2))
  }
  // A daemon-client handler listener whose stream never came stays open forever; do not let
  // it hang the run, but say what was still open.
  setTimeout(() => {
    console.log(`# interop: exiting with open handles: ${process.getActiveResourcesInfo().join(', ')}`)
    process.exit()
  }, EXIT_GRACE_MS).unref()
})
