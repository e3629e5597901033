/**
 * Scenario 1 of issue 7: two public hosts on a lossy, slow link (1% loss each way,
 * 8 Mbit/s, 20 ms added each way). Echo streams opened through the HTTP API complete with
 * intact data; the throughput is reported next to that of the clean link.
 * Run: node scripts/run-tests.mjs net --only lossy   (root; `npm run build` first)
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createTopology, delaySkipReason, netTestSkipReason } from './topology.js'
import type { Topology } from './topology.js'
import { DaemonFleet } from './daemons.js'
import type { NetDaemon } from './daemons.js'
import { apiJson, connectPeers, echoTransfer, openStreamSocket, summarize } from './daemon-api.js'

const MiB = 1024 * 1024
const ECHO = '/echo/1.0.0'
const SHAPING = { lossPercent: 1, rateKbit: 8000, delayMs: 20 }

describe('scenario: two public hosts on a lossy, slow link', { skip: netTestSkipReason() ?? delaySkipReason(), timeout: 300_000 }, () => {
  let topo: Topology | undefined
  let fleet: DaemonFleet | undefined
  let a: NetDaemon
  let b: NetDaemon

  before(async () => {
    topo = await createTopology({ prefix: 'lossy' })
    await topo.addLan('wan', { subnet: '10.77.0.0/24' })
    await topo.addHost('a', { lan: 'wan' })
    await topo.addHost('b', { lan: 'wan' })
    fleet = new DaemonFleet(topo)
    // TCP only: the figures are about one well-understood transport; no relay service needed
    const args = (h: string): string[] => ['-hostAddrs', `/ip4/${topo!.ip(h)}/tcp/4001`, '-relay=false']
    ;[a, b] = await Promise.all([fleet.start('a', args('a')), fleet.start('b', args('b'))])
  }, { timeout: 120_000 })

  after(async () => {
    await fleet?.close()
    await topo?.destroy()
  }, { timeout: 60_000 })

  it('a 4 MiB echo and 8 concurrent 256 KiB echoes complete intact; throughput reported', async (t) => {
    const topology = topo as Topology
    await connectPeers(a, b)
    const clean = await echoOnce(a, b, 4 * MiB, 60_000)
    t.diagnostic(`clean link: 4 MiB echo in ${clean.ms.toFixed(0)} ms, ${clean.mbitPerS.toFixed(1)} Mbit/s each way`)

    await topology.setLink('b', SHAPING)
    try {
      const rtt = await tcpConnectRtt(topology)
      t.diagnostic(`shaped link (${JSON.stringify(SHAPING)}): TCP connect RTT ${rtt}`)
      const big = await echoOnce(a, b, 4 * MiB, 180_000)
      t.diagnostic(`lossy link: 4 MiB echo in ${big.ms.toFixed(0)} ms, ${big.mbitPerS.toFixed(2)} Mbit/s each way ` +
        `(rate limit ${SHAPING.rateKbit / 1000} Mbit/s; clean link ${clean.mbitPerS.toFixed(1)} Mbit/s)`)
      assert.ok(big.mbitPerS < SHAPING.rateKbit / 1000 * 1.1, `the rate limit must bound throughput: ${big.mbitPerS} Mbit/s`)

      const small = await Promise.all(Array.from({ length: 8 }, async () => {
        const r = await echoOnce(a, b, 256 * 1024, 180_000)
        return { ok: true, ms: r.ms, mbit: r.mbitPerS }
      }))
      const total = small.reduce((s, r) => s + 256 * 1024 * 8 / r.ms / 1000, 0)
      t.diagnostic(`lossy link: 8 concurrent 256 KiB echoes: ${summarize(small)}; summed ${total.toFixed(2)} Mbit/s`)

      // the connection survived the loss: still one connection, identify still answers
      const conns = (await apiJson(a, 'GET', '/api/daemon/connections')).filter((c: any) => c.peerID === b.peerId)
      assert.ok(conns.length >= 1, 'a is still connected to b')
      assert.equal((await apiJson(b, 'GET', '/api/daemon/identity')).peerID, b.peerId)
    } finally {
      await topology.setLink('b', {})
    }
  })
})

/** One checksummed echo of `bytes` from `from` to `to`'s built-in /echo/1.0.0 service. */
async function echoOnce (from: NetDaemon, to: NetDaemon, bytes: number, timeoutMs: number): Promise<Awaited<ReturnType<typeof echoTransfer>>> {
  const { socket } = await openStreamSocket(from, to.peerId, ECHO)
  try {
    const r = await echoTransfer(socket, bytes, timeoutMs)
    assert.equal(r.received, bytes, 'every byte came back')
    assert.equal(r.sha256Received, r.sha256Sent, 'the echo is byte-identical')
    return r
  } finally {
    socket.destroy()
  }
}

/** TCP connect time a → b through the shaped link, as measured by `nc`-free node in a's namespace. */
async function tcpConnectRtt (topo: Topology): Promise<string> {
  const r = await topo.exec('a', process.execPath, ['-e', `
    const s = require('node:net').connect(4001, process.argv[1]); const t = performance.now()
    s.on('connect', () => { console.log((performance.now() - t).toFixed(1) + ' ms'); s.destroy() })
    s.on('error', e => { console.log('error ' + e.code) })
  `, topo.ip('b')], { timeoutMs: 20_000 })
  return r.stdout.trim()
}
