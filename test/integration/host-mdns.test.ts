/**
 * `-mdns`: two daemons on one (private) network find each other by multicast DNS and
 * connect without being told about each other. Multicast must stay off the real network,
 * so both run in a network namespace of their own whose loopback has multicast enabled;
 * skipped where namespaces cannot be created.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, it } from 'node:test'
import { startDaemon, waitFor } from './cli-harness.js'

const NS = `l2d-mdns-${process.pid}`
const ip = (...args: string[]): boolean => spawnSync('ip', args).status === 0
const ready = ip('netns', 'add', NS) && ip('-n', NS, 'link', 'set', 'lo', 'up') && ip('-n', NS, 'link', 'set', 'lo', 'multicast', 'on')
after(() => { ip('netns', 'del', NS) })

it('two -mdns daemons discover and connect to each other', { skip: ready ? false : 'cannot create a network namespace here' }, async () => {
  const prefix = ['ip', 'netns', 'exec', NS]
  const [a, b] = await Promise.all([startDaemon(['-mdns'], { prefix }), startDaemon(['-mdns'], { prefix })])
  await waitFor(async () => {
    const d = await a.diagnostics()
    return d.connections.some((c: any) => c.peer === b.banner.peerId)
  }, 'mDNS discovery and dial', 60_000)
  assert.ok((await b.diagnostics()).connections.some((c: any) => c.peer === a.banner.peerId))
  await Promise.all([a.stop(), b.stop()])
})
