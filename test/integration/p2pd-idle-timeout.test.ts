// The hivemind fork's -idleTimeout against a real libp2pd process: the daemon lives while a
// persistent connection (PERSISTENT_CONN_UPGRADE) is open, and exits when none is, so that
// a hivemind process and its daemon end together.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Persistent, spawnDaemon } from './p2pd-helpers.ts'
import type { TestDaemon } from './p2pd-helpers.ts'

describe('p2pd -idleTimeout (hivemind lifetime coupling)', () => {
  const exitOf = async (d: TestDaemon, ms: number): Promise<number | string | null> => await new Promise(resolve => {
    if (d.proc.exitCode !== null || d.proc.signalCode !== null) { resolve(d.proc.exitCode ?? d.proc.signalCode); return }
    const t = setTimeout(() => { resolve('still running') }, ms)
    d.proc.once('exit', (code, signal) => { clearTimeout(t); resolve(code ?? signal) })
  })

  it('the daemon exits when no persistent connection opens in time', async () => {
    const d = await spawnDaemon(['-idleTimeout=1s'])
    try {
      assert.equal(await exitOf(d, 8000), 143)
    } finally {
      await d.stop()
    }
  })

  it('the daemon lives while a persistent connection is open and exits when it closes', async () => {
    const d = await spawnDaemon(['-idleTimeout=1s'])
    try {
      const p = await Persistent.open(d)
      assert.equal(await exitOf(d, 2000), 'still running')
      p.close()
      assert.equal(await exitOf(d, 8000), 143)
    } finally {
      await d.stop()
    }
  })
})
