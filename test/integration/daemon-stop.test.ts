/**
 * The daemon library's stop order. Subscriptions end before the host stops (leaving a topic
 * needs the pubsub service running), and the socket files go as soon as the streams are
 * reset, before the host stops: stopping a host can take seconds, and a process killed
 * meanwhile (a supervisor's SIGKILL after its grace period) must not leave them behind.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { describe, it } from 'node:test'
import { createClient as createP2pdClient } from '@libp2p/daemon-client'
import { multiaddr } from '@multiformats/multiaddr'
import { pino } from 'pino'
import { createClient } from '../../src/client/index.js'
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

  for (const pubsubRouter of ['gossipsub', 'floodsub']) {
    it(`ends every subscription of both planes before it stops the host (${pubsubRouter})`, async () => {
      const dir = tempDir()
      // (a given -socketDir is kept at stop: no file work between the planes and the host)
      const daemon = await start(dir, { pubsub: true, pubsubRouter, socketDir: `${dir}/streams` })
      const ps = (daemon.context.node.services as any).pubsub
      const p2pd = createP2pdClient(multiaddr(`/unix/${encodeURIComponent(`${dir}/control.sock`)}`))
      const viaP2pd = await p2pd.pubsub.subscribe('via-p2pd')
      const viaHttp = createClient({ socketPath: `${dir}/http.sock` }).pubsub.subscribe('via-http')
      await viaHttp.ready()
      assert.deepEqual(ps.getTopics().sort(), ['via-http', 'via-p2pd'])

      const topics = atHostStop(daemon, () => ps.getTopics())
      await daemon.stop()
      assert.deepEqual(topics.seen(), [], 'no topic left when the host begins to stop')
      viaHttp.close()
      await viaP2pd.cancel().catch(() => {})
    })
  }
})
