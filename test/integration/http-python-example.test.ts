/**
 * Runs the plain-Python example (examples/python) against two real daemons: a handler with
 * a callback server in Python, a stream opened from the other daemon, 1 MiB echoed.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { spawnDaemons } from './helpers/daemon.js'
import type { SpawnedDaemon } from './helpers/daemon.js'

const SCRIPT = fileURLToPath(new URL('../../examples/python/libp2pd_echo.py', import.meta.url))

async function runPython (args: string[], timeoutMs = 60_000): Promise<{ code: number | null, out: string }> {
  return await new Promise((resolve, reject) => {
    const p = spawn('python3', [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    p.stdout.on('data', (d: Buffer) => { out += d.toString() })
    p.stderr.on('data', (d: Buffer) => { out += d.toString() })
    const t = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`python timed out: ${out}`)) }, timeoutMs)
    p.on('error', reject)
    p.on('exit', code => { clearTimeout(t); resolve({ code, out }) })
  })
}

describe('examples/python against two daemons', () => {
  let a: SpawnedDaemon
  let b: SpawnedDaemon
  before(async () => { [a, b] = await spawnDaemons([[], []]) })
  after(async () => { await Promise.all([a?.stop(), b?.stop()]) })

  for (const callback of ['tcp', 'unix']) {
    it(`echoes 1 MiB with a ${callback} callback`, async () => {
      const { code, out } = await runPython(['--server-api', a.httpAddr ?? '', '--client-api', b.httpAddr ?? '', '--callback', callback])
      assert.equal(code, 0, out)
      assert.match(out, new RegExp(`echo ok: 1048576 bytes via ${callback} callback`))
      assert.match(out, new RegExp(`OUTGOING to ${a.peerId} on /py-echo/1.0.0`))
    })
  }
})
