/**
 * The daemon library's stop order. The socket files go as soon as the streams are reset,
 * before the host stops: stopping a host can take seconds, and a process killed meanwhile
 * (a supervisor's SIGKILL after its grace period) must not leave them behind.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { describe, it } from 'node:test'
import { pino } from 'pino'
import { configFromOptions } from '../../src/config/index.ts'
import { createDaemon } from '../../src/daemon.ts'
import { tempDir } from './cli-harness.js'
import type { Daemon } from '../../src/daemon.ts'

async function start (dir: string, extra: Record<string, unknown> = {}): Promise<Daemon> {
  return await createDaemon(configFromOptions({
    listen: `/unix${dir}/control.sock`, httpListen: `/unix${dir}/http.sock`, hostAddrs: '/ip4/127.0.0.1/tcp/0', logLevel: 'silent', ...extra
  }), { logger: pino({ level: 'silent' }) })
}

/** Calls `look` when the host begins to stop, and keeps what it returned. */
function atHostStop<T> (daemon: Daemon, look: () => T): { seen: () => T | undefined } {
  const { node } = daemon.context
  const stopHost = node.stop.bind(node)
  let seen: T | undefined
  node.stop = async () => {
    seen = look()
    await stopHost()
  }
  return { seen: () => seen }
}

describe('daemon stop order', () => {
  it('removes its socket files before it stops the host', async () => {
    const dir = tempDir()
    const daemon = await start(dir)
    const files = [daemon.context.socketDir.path, `${dir}/control.sock`, `${dir}/http.sock`]
    assert.deepEqual(files.filter(f => !existsSync(f)), [], 'all made at start')
    const left = atHostStop(daemon, () => files.filter(f => existsSync(f)))
    await daemon.stop()
    assert.deepEqual(left.seen(), [], 'nothing left when the host begins to stop')
  })
})
