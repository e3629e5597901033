/**
 * The mocha-to-node:test mapping must report what mocha would: a harness that turned
 * failures, timeouts or hook errors into passes would make the interop results worthless.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import assert from 'node:assert/strict'
import { test } from 'node:test'

const FIXTURE = fileURLToPath(new URL('./fixtures/mocha-suite.ts', import.meta.url))

test('mocha globals: pass, fail, timeout, skip, hook failure, title filter and describe.skip are reported as mocha would', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'interop-shim-'))
  const env: NodeJS.ProcessEnv = { ...process.env, TALLY_FILE: join(dir, 'tally.json') }
  // without NODE_TEST_CONTEXT, or the child would report to us as a subtest and exit 0
  delete env.NODE_TEST_CONTEXT
  // the fixture's timeouts are the ones asserted below
  delete env.INTEROP_TIMEOUT_SCALE
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'], env })
  let out = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (s: string) => { out += s })
  child.stderr.resume()
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const [code] = await once(child, 'exit')
  clearTimeout(timer)

  assert.equal(code, 1, 'a run with failures exits non-zero')
  let tally
  try { tally = JSON.parse(readFileSync(env.TALLY_FILE as string, 'utf8')) } finally { rmSync(dir, { recursive: true, force: true }) }
  // `is excluded` and `is excluded too` are not registered at all
  assert.equal(tally.registered, 6)
  assert.equal(tally.passed, 1)
  assert.equal(tally.failed, 2)
  assert.equal(tally.skipped, 2)
  const failures = tally.failures.map((f: { title: string, error: string }) => `${f.title}: ${f.error}`).sort()
  assert.deepEqual(failures, [
    'scope › hook fails › "before" hook: Error: hook boom',
    'scope › outcomes › fails: Error: boom',
    'scope › outcomes › times out: Error: Timeout of 200ms exceeded'
  ])
  assert.doesNotMatch(out, /excluded test ran|suite without tests ran|skipped suite ran/)
})
