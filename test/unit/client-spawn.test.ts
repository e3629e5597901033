/**
 * `spawnDaemon` with fake daemon programs: the banner, a daemon that exits first or prints
 * no banner, one that writes without newlines, a `bin` that leaves a process behind, and a
 * program that dies with its daemon running.
 */
import { strict as assert } from 'node:assert'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Libp2pdError, TimeoutError, spawnDaemon } from '../../src/client/index.js'

let dir: string
before(async () => { dir = await mkdtemp(join(tmpdir(), 'client-spawn-')) })
after(async () => { await rm(dir, { recursive: true, force: true }) })

const BANNER = 'Control socket: /unix/tmp/c.sock\\nPeer ID: 12D3KooWFake\\nPeer Addrs:\\n/ip4/127.0.0.1/tcp/1\\n/ip4/127.0.0.1/tcp/2\\nHTTP API: /unix/tmp/h.sock\\n'
const CLIENT = fileURLToPath(new URL('../../src/client/index.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

async function fake (name: string, body: string): Promise<string> {
  const p = join(dir, name)
  await writeFile(p, body)
  return p
}

/** Runs a program that uses the client (an ES module in TypeScript, importing src); resolves with its exit code and the ms it took. */
async function runProgram (name: string, body: string): Promise<{ code: number | null, ms: number, stderr: string }> {
  const file = await fake(name, `import { spawnDaemon } from ${JSON.stringify(CLIENT)}\n${body}`)
  const started = Date.now()
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', './src/polyfill.ts', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, 20_000)
  const [code] = await once(child, 'exit') as [number | null]
  clearTimeout(timer)
  return { code, ms: Date.now() - started, stderr }
}

describe('client spawnDaemon with fake daemons', () => {
  it('parses the banner and stops the process', async () => {
    const bin = await fake('banner.mjs', `
      process.on('SIGTERM', () => process.exit(0))
      process.stdout.write('${BANNER}')
      setInterval(() => {}, 1000)`)
    const d = await spawnDaemon({ bin })
    assert.equal(d.peerId, '12D3KooWFake')
    assert.deepEqual(d.addrs, ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'])
    assert.equal(d.httpAddress, '/unix/tmp/h.sock')
    assert.equal(d.controlAddress, '/unix/tmp/c.sock')
    await d.stop()
    assert.equal(d.process.exitCode, 0, `signal ${String(d.process.signalCode)}`)
  })

  it('a daemon that exits first: the error carries its stderr', async () => {
    const bin = await fake('exits.mjs', 'process.stderr.write(\'bad flag -nope\\n\'); process.exit(2)')
    await assert.rejects(spawnDaemon({ bin }), (err: any) => err instanceof Libp2pdError && err.code === 'ERR_DAEMON_EXITED' && /bad flag -nope/.test(err.message))
  })

  it('no banner in time: TimeoutError, and the process is killed even if it ignores SIGTERM', async () => {
    const bin = await fake('silent.mjs', 'process.on(\'SIGTERM\', () => {}); setInterval(() => {}, 1000)')
    const started = Date.now()
    await assert.rejects(spawnDaemon({ bin, startTimeout: 300, stopTimeout: 200 }), TimeoutError)
    assert.ok(Date.now() - started < 3000)
  })

  it('output without newlines is not a banner: ERR_BAD_BANNER at once, not a growing buffer', async () => {
    const bin = await fake('no-newline.mjs', `
      const chunk = 'x'.repeat(16384)
      const more = () => { while (process.stdout.write(chunk)) {} process.stdout.once('drain', more) }
      more()`)
    const started = Date.now()
    await assert.rejects(spawnDaemon({ bin, startTimeout: 10_000 }), (err: any) => err instanceof Libp2pdError && err.code === 'ERR_BAD_BANNER')
    assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`)
  })

  it('a bin that leaves a process holding its output does not keep the program alive after stop()', async () => {
    const daemon = await fake('banner-wait.mjs', `process.on('SIGTERM', () => process.exit(0)); process.stdout.write('${BANNER}'); setInterval(() => {}, 1000)`)
    // a shell wrapper that starts something in the background (it inherits stdout and stderr)
    const bin = await fake('wrapper.sh', `#!/bin/sh\nsleep 30 &\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(daemon)} "$@"\n`)
    await chmod(bin, 0o755)
    const { code, ms, stderr } = await runProgram('uses-wrapper.mts', `
      const d = await spawnDaemon({ bin: ${JSON.stringify(bin)} })
      await d.stop()`)
    assert.equal(code, 0, stderr)
    assert.ok(ms < 10_000, `the program took ${ms} ms to exit`)
  })

  it('a program that dies with its daemon running takes the daemon and its directory with it', async () => {
    const argvFile = join(dir, 'argv.json')
    const daemon = await fake('records-argv.mjs', `
      import { writeFileSync } from 'node:fs'
      writeFileSync(${JSON.stringify(argvFile)}, JSON.stringify({ argv: process.argv, pid: process.pid }))
      process.stdout.write('${BANNER}')
      setInterval(() => {}, 1000)`)
    const { code } = await runProgram('dies.mts', `
      await spawnDaemon({ bin: ${JSON.stringify(daemon)} })
      throw new Error('the program failed')`)
    assert.equal(code, 1)
    const { argv, pid } = JSON.parse(readFileSync(argvFile, 'utf8')) as { argv: string[], pid: number }
    const socketDir = argv.find(a => a.startsWith('-socketDir='))?.slice('-socketDir='.length) ?? ''
    assert.match(socketDir, /libp2pd-spawn-/)
    assert.equal(existsSync(join(socketDir, '..')), false, 'the temp directory is removed')
    // (SIGKILL is delivered, and the orphan reaped, a moment after the program's exit)
    const gone = (): boolean => { try { process.kill(pid, 0); return false } catch { return true } }
    for (let i = 0; i < 100 && !gone(); i++) await new Promise(resolve => setTimeout(resolve, 20))
    assert.ok(gone(), 'the daemon is gone')
  })
})
