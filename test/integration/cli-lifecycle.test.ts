/**
 * The daemon as a process: banner with real endpoints, SIGUSR1 diagnostics, Prometheus
 * metrics, exit codes on signals with every socket file removed, stale sockets replaced
 * and live ones never stolen.
 */
import assert from 'node:assert/strict'
import { existsSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { describe, it } from 'node:test'
import { runToExit, spawnDaemon, startDaemon, tempDir, waitFor } from './cli-harness.js'

describe('daemon lifecycle', { concurrency: true }, () => {
  it('prints the p2pd banner with bound addresses, serves metrics, dumps diagnostics, and SIGTERM exits 143 removing its sockets', async () => {
    const dir = tempDir()
    const d = await startDaemon([
      `-listen=/unix${dir}/control.sock`, `--httpListen=/unix${dir}/http.sock`, '-metricsAddr=127.0.0.1:0',
      '-hostAddrs', '/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/udp/0/quic-v1,/ip4/127.0.0.1/tcp/0/ws'
    ])
    const lines = d.stdout().split('\n')
    assert.equal(lines[0], `Control socket: /unix${dir}/control.sock`)
    assert.match(lines[1], /^Peer ID: 12D3KooW\w+$/)
    assert.equal(lines[2], 'Peer Addrs:')
    assert.equal(d.banner.addrs.length, 3)
    for (const a of d.banner.addrs) {
      assert.match(a, /^\/ip4\/127\.0\.0\.1\/(tcp|udp)\/[1-9]\d*/)
      assert.doesNotMatch(a, /\/p2p\//)
    }
    assert.equal(d.banner.http, `/unix${dir}/http.sock`)
    assert.match(d.banner.metrics ?? '', /^http:\/\/127\.0\.0\.1:[1-9]\d*\/metrics$/)
    // the banner is the whole of stdout; logs are JSON on stderr
    assert.ok(d.stderr().split('\n').filter(Boolean).every(l => l.startsWith('{')), d.stderr())

    for (const f of ['control.sock', 'http.sock']) {
      const st = statSync(`${dir}/${f}`)
      assert.ok(st.isSocket())
      assert.equal(st.mode & 0o777, 0o600, `${f} is private`)
    }

    const diag = await d.diagnostics()
    assert.equal(diag.peerId, d.banner.peerId)
    assert.deepEqual(diag.connections, [])
    assert.ok(existsSync(diag.socketDir), 'per-stream socket dir exists while running')
    assert.equal(statSync(diag.socketDir).mode & 0o777, 0o700)

    const res = await fetch(d.banner.metrics ?? '', { signal: AbortSignal.timeout(10_000) })
    assert.equal(res.status, 200)
    const text = await res.text()
    assert.match(text, /^libp2pd_connections \d+$/m)
    assert.match(text, /^libp2pd_open_streams \d+$/m)
    assert.match(text, /^libp2p_\w+/m)

    assert.equal(await d.stop('SIGTERM'), 143)
    for (const f of ['control.sock', 'http.sock']) assert.equal(existsSync(`${dir}/${f}`), false, `${f} removed`)
    assert.equal(existsSync(diag.socketDir), false, 'per-stream socket dir removed')
  })

  it('a second signal during the stop exits at once, and still removes its socket files', async () => {
    const dir = tempDir()
    const d = await startDaemon([`-listen=/unix${dir}/control.sock`, `--httpListen=/unix${dir}/http.sock`])
    const { socketDir } = await d.diagnostics()
    // Both signals wait while the process is stopped and reach it in the same turn of its
    // event loop, so the orderly stop, which needs a few turns, cannot remove anything first.
    for (const signal of ['SIGSTOP', 'SIGTERM', 'SIGINT', 'SIGCONT'] as const) d.proc.kill(signal)
    const code = await d.exited
    assert.ok(code === 130 || code === 143, `exit code ${String(code)}`)
    for (const f of ['control.sock', 'http.sock']) assert.equal(existsSync(`${dir}/${f}`), false, `${f} removed`)
    assert.equal(existsSync(socketDir), false, 'per-stream socket dir removed')
  })

  it('the same signal twice in a row (as `timeout` with `pkill -f` sends it) still removes its socket files', async () => {
    // A signal left without listeners gets its default action back: the first SIGTERM's
    // listener was `once`, so a second one that came before the stop listened again killed
    // the process, socket files left behind. Sent as
    // the banner arrives, while the daemon is still busy finishing its start, both signals
    // are waiting when its event loop next looks.
    for (let i = 0; i < 8; i++) {
      const dir = tempDir()
      const d = spawnDaemon([`-listen=/unix${dir}/control.sock`, '-httpListen=', '-hostAddrs=/ip4/127.0.0.1/tcp/0'])
      await bannerSeen(d.proc, d.out)
      for (const signal of ['SIGTERM', 'SIGCONT'] as const) d.proc.kill(signal)
      await new Promise(resolve => setImmediate(resolve))
      for (const signal of ['SIGTERM', 'SIGCONT'] as const) d.proc.kill(signal)
      const code = await d.exited
      assert.equal(code, 143, `try ${i}: exit code ${String(code)} (-1: killed by the signal)`)
      assert.equal(existsSync(`${dir}/control.sock`), false, `try ${i}: control.sock removed`)
    }
  })

  it('Node\'s own warnings are JSON log lines like the rest of stderr', async () => {
    const dir = tempDir()
    // a warning on demand: no daemon code path emits one reliably
    const preload = join(dir, 'warn-on-usr2.cjs')
    writeFileSync(preload, "process.on('SIGUSR2', () => { process.emitWarning('probe warning', 'ProbeWarning') })\n")
    const d = await startDaemon([], { env: { NODE_OPTIONS: `--require ${preload}` } })
    d.proc.kill('SIGUSR2')
    await waitFor(() => d.stderr().includes('probe warning'), 'the warning', 10_000)
    const line = d.stderr().split('\n').find(l => l.includes('probe warning')) ?? ''
    const entry = JSON.parse(line)
    assert.equal(entry.level, 40)
    assert.equal(entry.warning, 'ProbeWarning')
    assert.ok(d.stderr().split('\n').filter(Boolean).every(l => l.startsWith('{')), d.stderr())
    assert.equal(await d.stop(), 143)
  })

  it('TCP control endpoints show their bound ports; DEBUG works; SIGINT exits 130; -q prints nothing', async () => {
    const dir = tempDir()
    const [tcp, quiet] = await Promise.all([
      startDaemon(['-listen=/ip4/127.0.0.1/tcp/0', '-httpListen=/ip4/127.0.0.1/tcp/0'], { env: { DEBUG: 'libp2p:tcp*' } }),
      startDaemon(['-q', `-listen=/unix${dir}/c.sock`])
    ])
    assert.match(tcp.banner.control ?? '', /^\/ip4\/127\.0\.0\.1\/tcp\/[1-9]\d*$/)
    assert.match(tcp.banner.http ?? '', /^\/ip4\/127\.0\.0\.1\/tcp\/[1-9]\d*$/)
    assert.equal(quiet.stdout(), '')
    assert.match(tcp.stderr(), /libp2p:tcp:listener listening on/, 'DEBUG=libp2p:* still reaches stderr')
    assert.doesNotMatch(tcp.stdout(), /libp2p:tcp/, 'and never stdout')
    assert.equal(await tcp.stop('SIGINT'), 130)
    assert.equal(await quiet.stop('SIGINT'), 130)
    assert.equal(existsSync(`${dir}/c.sock`), false)
  })

  it('-idleTimeout (hivemind): exits by itself when no persistent connection comes', async () => {
    const dir = tempDir()
    const began = Date.now()
    const r = await runToExit([`-listen=/unix${dir}/c.sock`, '-httpListen=', '-hostAddrs=/ip4/127.0.0.1/tcp/0', '-idleTimeout=3s'])
    assert.equal(r.code, 143, r.stderr)
    assert.ok(Date.now() - began >= 3000)
    assert.equal(existsSync(`${dir}/c.sock`), false)
  })

  it('replaces a stale socket, never steals a live one', async () => {
    const dir = tempDir()
    // a stale socket, as a crash leaves it: the process that listened on it was killed
    const crash = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(`${dir}/c.sock`)}, () => process.kill(process.pid, 'SIGKILL'))`])
    assert.equal(crash.signal, 'SIGKILL')
    assert.ok(statSync(`${dir}/c.sock`).isSocket())
    const d = await startDaemon([`-listen=/unix${dir}/c.sock`])
    assert.equal(d.banner.control, `/unix${dir}/c.sock`)

    const second = await runToExit(['-listen', `/unix${dir}/c.sock`, '-httpListen=', '-hostAddrs=/ip4/127.0.0.1/tcp/0'])
    assert.equal(second.code, 1)
    assert.match(second.stderr, /c\.sock is in use by a running process/)
    // the first daemon still owns its socket and still answers
    assert.ok(statSync(`${dir}/c.sock`).isSocket())
    const diag = await d.diagnostics()
    assert.equal(diag.control, `/unix${dir}/c.sock`)
    assert.equal(await d.stop(), 143)
  })

  it('refuses a unix path longer than the OS allows, and a file that is not a socket', async () => {
    const long = await runToExit(['-listen', `/unix/tmp/${'d'.repeat(110)}.sock`])
    assert.equal(long.code, 2)
    assert.match(long.stderr, /flag -listen: unix socket path is 120 bytes, more than the 107 the OS allows/)
    const dir = tempDir()
    const notSocket = await runToExit(['-listen', `/unix${dir}`, '-httpListen=', '-hostAddrs=/ip4/127.0.0.1/tcp/0'])
    assert.equal(notSocket.code, 1)
    assert.match(notSocket.stderr, /exists and is not a socket/)
  })
})

/** Resolves as the banner's data arrives (not polled: the daemon must still be busy). */
async function bannerSeen (proc: ChildProcess, out: { stdout: string }): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`no banner within 30 s: ${out.stdout}`)) }, 30_000)
    const onData = (): void => {
      if (!out.stdout.includes('Peer Addrs')) return
      clearTimeout(timer)
      proc.stdout?.off('data', onData)
      resolve()
    }
    proc.stdout?.on('data', onData)
  })
}
