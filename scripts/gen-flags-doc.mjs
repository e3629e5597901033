#!/usr/bin/env node
// Regenerates the flags table in README.md and docs/configuration.md from
// src/config/options.ts (the one table of options). `--check` only reports stale files.
// Usage: node --import tsx scripts/gen-flags-doc.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs'
import { spliceFlagsTable } from '../src/config/flags-doc.ts'

export const DOC_FILES = ['README.md', 'docs/configuration.md']
const check = process.argv.includes('--check')
let stale = 0
for (const file of DOC_FILES) {
  const text = readFileSync(file, 'utf8')
  const next = spliceFlagsTable(text)
  if (next === text) continue
  stale++
  if (check) console.error(`${file}: flags table is stale; run node --import tsx scripts/gen-flags-doc.mjs`)
  else { writeFileSync(file, next); console.log(`${file}: flags table updated`) }
}
process.exit(check && stale > 0 ? 1 : 0)
