/**
 * Scenario 4 of issue 7: a link cut, and a host killed, in the middle of a transfer.
 * A streams to B's echo service through the HTTP API's stream socket. When B's link is cut
 * silently (no RST, no ICMP), both daemons must notice within a bound (js-libp2p's
 * connection monitor pings every 10 s and aborts the connection when a ping times out), the
 * program's stream socket must close, both daemons must stay healthy, and once the link is
 * back a reconnect and a new stream must work. When B is SIGKILLed, A must notice at once.
 * Run: node scripts/run-tests.mjs net --only link-cut   (root; `npm run build` first)
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createTopology, netTestSkipReason } from './topology.js'
import type { Topology } from './topology.js'
import { DaemonFleet } from './daemons.js'
import type { NetDaemon } from './daemons.js'
import { apiJson, apiLines, connectPeers, echoTransfer, openStreamSocket, pollUntil } from './daemon-api.js'
import type { LineStream } from './daemon-api.js'
import { startPump } from './stream-pump.js'

/** The bound on noticing a dead peer (issue 7: "promptly"). */
const DETECT_BOUND_MS = 30_000
const ECHO = '/echo/1.0.0'
const MiB = 1024 * 1024

describe('scenario: link cut and host killed mid-transfer', { skip: netTestSkipReason() }, () => {
  let topo: Topology | undefined
  let fleet: DaemonFleet | undefined
  let a: NetDaemon
  let b: NetDaemon
  const feeds: LineStream[] = []
  let killedStream: string | undefined

  before(async () => {
    topo = await createTopology({ prefix: 'linkcut' })
    await topo.addLan('wan', { subnet: '10.77.0.0/24' })
    await topo.addHost('a', { lan: 'wan' })
    await topo.addHost('b', { lan: 'wan' })
    // a modest rate keeps the pump from eating the (shared, 2-core) CPU
    await topo.setLink('b', { rateKbit: 20_000 })
    fleet = new DaemonFleet(topo)
    const t = topo
    const args = (h: string): string[] => ['-hostAddrs', `/ip4/${t.ip(h)}/tcp/4001`, '-relay=false']
    ;[a, b] = await Promise.all([fleet.start('a', args('a')), fleet.start('b', args('b'))])
  }, { timeout: 120_000 })

  after(async () => {
    for (const f of feeds) f.close()
    await fleet?.close()
    await topo?.destroy()
  }, { timeout: 60_000 })

  /**
   * Opens `d`'s event feed; resolves with a function waiting for `peer`'s disconnection,
   * which also reports the `STREAM_CLOSED` events (and their errors) seen on the way.
   */
  async function watchDisconnect (d: NetDaemon, peer: NetDaemon): Promise<(timeoutMs: number) => Promise<{ at: number, closed: string[] }>> {
    const feed = await apiLines(d, 'GET', '/api/daemon/events')
    feeds.push(feed)
    return async (timeoutMs) => {
      const closed: string[] = []
      const note = (e: any): boolean => {
        if (e.type === 'STREAM_CLOSED' && e.peerID === peer.peerId) closed.push(`STREAM_CLOSED ${String(e.streamId)}: ${String(e.error ?? 'no error')}`)
        return e.type === 'PEER_DISCONNECTED' && e.peerID === peer.peerId
      }
      await feed.waitFor(note, timeoutMs)
      const at = performance.now()
      // the stream's own event may follow the connection's
      if (closed.length === 0) await feed.waitFor(e => { note(e); return closed.length > 0 }, 5000).catch(() => {})
      return { at, closed }
    }
  }

  it('a silent link cut: both sides notice within the bound, stay healthy, and reconnect after restore', async (t) => {
    const topology = topo as Topology
    await connectPeers(a, b)
    const [aSeesB, bSeesA] = await Promise.all([watchDisconnect(a, b), watchDisconnect(b, a)])
    const { socket } = await openStreamSocket(a, b.peerId, ECHO)
    const pump = startPump(socket)
    await pollUntil('1 MiB echoed before the cut', 30_000, async () => pump.received >= MiB ? true : undefined, 100)

    await topology.cutLink('b')
    const cutAt = performance.now()
    const since = (at: number): number => Math.round(at - cutAt)
    // settle all three so a missing one still leaves the others' figures in the report
    const [socketEnd, aEvent, bEvent] = await Promise.all([
      pump.ended(DETECT_BOUND_MS * 2).then(e => ({ ...e, ms: since(e.at) }), (e: Error) => e.message),
      aSeesB(DETECT_BOUND_MS * 2).then(r => { t.diagnostic(`a's events: ${r.closed.join('; ')}`); return since(r.at) }, (e: Error) => e.message),
      bSeesA(DETECT_BOUND_MS * 2).then(r => { t.diagnostic(`b's events: ${r.closed.join('; ')}`); return since(r.at) }, (e: Error) => e.message)
    ])
    const socketText = typeof socketEnd === 'string' ? socketEnd : `${socketEnd.how} after ${socketEnd.ms} ms${socketEnd.error !== undefined ? ` (${socketEnd.error})` : ''}`
    t.diagnostic(`link cut after ${(pump.received / MiB).toFixed(1)} MiB echoed: a's stream socket ${socketText}; ` +
      `PEER_DISCONNECTED on a after ${String(aEvent)} ms, on b after ${String(bEvent)} ms (bound ${DETECT_BOUND_MS} ms)`)
    try {
      assert.ok(typeof socketEnd !== 'string' && socketEnd.ms <= DETECT_BOUND_MS, `a's program learns of the cut within ${DETECT_BOUND_MS} ms: ${socketText}`)
      assert.equal(typeof aEvent, 'number', `a reports the disconnection: ${String(aEvent)}`)
      assert.equal(typeof bEvent, 'number', `b reports the disconnection: ${String(bEvent)}`)
      assert.ok((bEvent as number) <= DETECT_BOUND_MS, `b notices within ${DETECT_BOUND_MS} ms`)
    } catch (err) {
      // the next test needs the link back
      await topology.restoreLink('b')
      throw err
    }

    // both daemons are healthy while the link is still down
    const healthStart = performance.now()
    for (const d of [a, b]) assert.equal((await apiJson(d, 'GET', '/api/daemon/identity', undefined, { timeoutMs: 10_000 })).peerID, d.peerId)
    t.diagnostic(`identify on both daemons during the outage: ${(performance.now() - healthStart).toFixed(0)} ms`)

    await topology.restoreLink('b')
    const restoredAt = performance.now()
    await pollUntil('a reconnect to b', 60_000, async () => await connectPeers(a, b, b.addrs, 10).then(() => true), 1000)
    const again = await openStreamSocket(a, b.peerId, ECHO)
    try {
      const echo = await echoTransfer(again.socket, MiB, 60_000)
      assert.equal(echo.sha256Received, echo.sha256Sent, 'the new stream echoes intact data')
      t.diagnostic(`after restoreLink: reconnected and echoed 1 MiB intact ${(performance.now() - restoredAt).toFixed(0)} ms after the restore`)
    } finally {
      again.socket.destroy()
    }
  })

  it('a host SIGKILLed mid-transfer: the survivor notices at once and stays healthy', async (t) => {
    await connectPeers(a, b)
    const aSeesB = await watchDisconnect(a, b)
    const { socket, info } = await openStreamSocket(a, b.peerId, ECHO)
    const pump = startPump(socket)
    await pollUntil('1 MiB echoed before the kill', 30_000, async () => pump.received >= MiB ? true : undefined, 100)

    b.proc.kill('SIGKILL')
    const killedAt = performance.now()
    const [socketEnd, aEvent] = await Promise.all([
      pump.ended(DETECT_BOUND_MS * 2),
      aSeesB(DETECT_BOUND_MS * 2).then(r => { t.diagnostic(`a's events: ${r.closed.join('; ')}`); return Math.round(r.at - killedAt) }, (e: Error) => e.message)
    ])
    const socketMs = Math.round(socketEnd.at - killedAt)
    t.diagnostic(`b SIGKILLed after ${(pump.received / MiB).toFixed(1)} MiB echoed: a's stream socket ${socketEnd.how} after ${socketMs} ms` +
      `${socketEnd.error !== undefined ? ` (${socketEnd.error})` : ''}; PEER_DISCONNECTED on a after ${String(aEvent)} ms`)
    assert.ok(socketMs <= DETECT_BOUND_MS, `a's program learns of the kill within ${DETECT_BOUND_MS} ms`)
    assert.equal(typeof aEvent, 'number', `a reports the disconnection: ${String(aEvent)}`)
    assert.equal((await apiJson(a, 'GET', '/api/daemon/identity', undefined, { timeoutMs: 10_000 })).peerID, a.peerId)
    const left = (await apiJson(a, 'GET', '/api/daemon/connections')).filter((c: any) => c.peerID === b.peerId)
    assert.deepEqual(left, [], 'no connection to the dead peer remains')
    killedStream = info.id
  })

  // Found by this scenario: after the remote dies, the program reads a clean EOF but the
  // stream stays in the table and no STREAM_CLOSED is emitted (src/streams)
  it('the dead peer\'s stream leaves the stream table', async (t) => {
    assert.ok(killedStream !== undefined, 'the previous test ran')
    const gone = await pollUntil('the stream to leave the table', 10_000, async () => {
      const streams = await apiJson(a, 'GET', '/api/daemon/streams')
      return streams.some((s: any) => s.id === killedStream) ? undefined : true
    }).catch((e: Error) => e.message)
    t.diagnostic(`stream ${String(killedStream)} of the killed peer: ${gone === true ? 'removed' : gone}`)
    assert.equal(gone, true)
  })
})
