/**
 * The daemon's Node flags live in one constant (`DAEMON_NODE_FLAGS`, used by the client's
 * spawnDaemon and the benchmark); `npm start` and the operations guide must say the same.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import { DAEMON_NODE_FLAGS, daemonArgs } from '../../src/client/spawn-args.js'

const read = (file: string): string => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')

it('npm start runs bin/libp2pd.js with DAEMON_NODE_FLAGS', () => {
  const start: string = JSON.parse(read('package.json')).scripts.start
  assert.equal(start, ['node', ...DAEMON_NODE_FLAGS, 'bin/libp2pd.js'].join(' '))
})

it('docs/operations.md shows DAEMON_NODE_FLAGS for other ways of running the daemon', () => {
  const text = read('docs/operations.md')
  for (const flag of DAEMON_NODE_FLAGS) assert.ok(text.includes(`node ${flag} `), `docs/operations.md does not mention ${flag}`)
})

it('the flags are Node flags, not daemon flags', () => {
  assert.ok(DAEMON_NODE_FLAGS.every(f => f.startsWith('--')))
  assert.ok(!daemonArgs({}, '/tmp/x').some(a => DAEMON_NODE_FLAGS.includes(a)))
})
