/**
 * The flags tables in README.md and docs/configuration.md are generated from the option
 * table; this fails when someone adds or changes a flag without regenerating them
 * (`node --import tsx scripts/gen-flags-doc.mjs`).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import { renderFlagsTable, spliceFlagsTable } from '../../src/config/flags-doc.js'
import { OPTIONS } from '../../src/config/options.js'

for (const file of ['README.md', 'docs/configuration.md']) {
  it(`${file} has the current flags table`, () => {
    const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')
    assert.equal(spliceFlagsTable(text), text, `${file} is stale: run node --import tsx scripts/gen-flags-doc.mjs`)
  })
}

it('the table has one row per flag', () => {
  const rows = renderFlagsTable().trim().split('\n').slice(2)
  assert.deepEqual(rows.map(r => /^\| `-(\w+)`/.exec(r)?.[1]), OPTIONS.map(o => o.name))
})
