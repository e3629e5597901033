#!/usr/bin/env node
// Adds up the per-file interop counts written with INTEROP_REPORT_DIR=<dir>, per pairing:
//   INTEROP_REPORT_DIR=/tmp/interop node scripts/run-tests.mjs interop; node test/interop/summarize.mjs /tmp/interop
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const dir = process.argv[2]
if (dir === undefined) {
  console.error('usage: summarize.mjs <INTEROP_REPORT_DIR>')
  process.exit(2)
}
const byPairing = new Map()
for (const name of readdirSync(dir).filter(n => n.endsWith('.json')).sort()) {
  const r = JSON.parse(readFileSync(join(dir, name), 'utf8'))
  const sum = byPairing.get(r.pairing) ?? { title: r.title, parts: 0, registered: 0, passed: 0, failed: 0, skipped: 0, notRun: 0, ms: 0, failures: [] }
  sum.parts++
  for (const k of ['registered', 'passed', 'failed', 'skipped', 'notRun', 'ms']) sum[k] += r[k]
  sum.failures.push(...r.failures)
  byPairing.set(r.pairing, sum)
}
let bad = 0
for (const s of byPairing.values()) {
  bad += s.failed + s.notRun
  console.log(`${s.title}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped, ${s.notRun} not run, of ${s.registered} (${s.parts} files, ${(s.ms / 1000).toFixed(1)} s of test time)`)
  for (const f of s.failures) console.log(`  ✗ ${f.title}: ${f.error.split('\n')[0]}`)
}
process.exitCode = bad > 0 ? 1 : 0
