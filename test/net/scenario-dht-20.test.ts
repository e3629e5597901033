/**
 * Scenario 3 of issue 7: 20 libp2pd DHT servers with pubsub, one per namespace on one LAN.
 * Each daemon bootstraps from a couple of earlier ones (`-b -bootstrapPeers`); then, from
 * several hosts through the HTTP API: PUT_VALUE/GET_VALUE under `/v/`, PROVIDE/
 * FIND_PROVIDERS, FIND_PEER for peers the asker is not connected to, and a pubsub fan-out
 * from one host to every subscriber. Success rates and latencies are reported.
 * Run: node scripts/run-tests.mjs net --only dht-20   (root; `npm run build` first)
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { createTopology, netTestSkipReason } from './topology.js'
import type { Topology } from './topology.js'
import { DaemonFleet } from './daemons.js'
import type { NetDaemon } from './daemons.js'
import { apiJson, apiLines, b64, summarize } from './daemon-api.js'
import { chooseRouter, publishAndCollect, subscribe, waitForTopicPeers } from './pubsub-fanout.js'
import type { RouterChoice, Subscription } from './pubsub-fanout.js'

const N = 20
/** Daemons started at once: start-up is CPU-bound and this machine has two cores. */
const BATCH = 5
const OP_TIMEOUT_S = 30
/** Operations of each kind (from as many different hosts). */
const OPS = 8
const host = (i: number): string => `n${String(i).padStart(2, '0')}`

interface Outcome { ok: boolean, ms: number, why?: string }

/** Runs `op` and times it; a rejection is a failed outcome, not a thrown error. */
async function timed (op: () => Promise<boolean>): Promise<Outcome> {
  const t0 = performance.now()
  try {
    const ok = await op()
    return { ok, ms: performance.now() - t0 }
  } catch (err) {
    return { ok: false, ms: performance.now() - t0, why: (err as Error).message.slice(0, 200) }
  }
}

/** Runs `tasks` with at most `limit` at a time. */
async function pool<T> (tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length)
  let next = 0
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < tasks.length) {
      const i = next++
      out[i] = await tasks[i]()
    }
  }))
  return out
}

function report (t: { diagnostic: (m: string) => void }, what: string, results: Outcome[]): void {
  t.diagnostic(`${what}: ${summarize(results)}`)
  const failures = results.filter(r => !r.ok).map(r => r.why ?? 'wrong answer')
  if (failures.length > 0) t.diagnostic(`${what} failures: ${[...new Set(failures)].join(' | ')}`)
}

describe(`scenario: ${N} DHT servers with pubsub on one LAN`, { skip: netTestSkipReason() }, () => {
  let topo: Topology | undefined
  let fleet: DaemonFleet | undefined
  let nodes: NetDaemon[] = []
  let router: RouterChoice
  const addr = (i: number, port = 4001): string => `/ip4/${topo!.ip(host(i))}/tcp/${port}`

  // the runner gives a whole file 180 s (scripts/run-tests.mjs): every phase is sized for that
  before(async () => {
    const t0 = Date.now()
    topo = await createTopology({ prefix: 'dht20' })
    await topo.addLan('lan', { subnet: '10.77.0.0/24' })
    // hosts are independent namespaces: create them a few at a time (each is ~10 commands)
    for (let i = 0; i < N; i += BATCH) {
      await Promise.all(Array.from({ length: Math.min(BATCH, N - i) }, async (_, k) => await topo!.addHost(host(i + k), { lan: 'lan' })))
    }
    const tTopo = Date.now() - t0
    fleet = new DaemonFleet(topo)
    router = await chooseRouter(fleet, [host(0), host(1)], [addr(0, 4002), addr(1, 4002)])
    const tProbe = Date.now() - t0 - tTopo
    const base = (i: number): string[] => ['-hostAddrs', addr(i), '-relay=false', '-echo=false', '-tls=false', '-plaintext=false', '-dhtServer', '-pubsub', '-pubsubRouter', router.router]
    // the first daemon alone (nothing to bootstrap from); every later one bootstraps from
    // (at most) three random daemons of the earlier batches
    nodes = [await fleet.start(host(0), base(0), { timeoutMs: 90_000 })]
    const specs = Array.from({ length: N - 1 }, (_, k) => ({
      host: host(k + 1),
      args: (): string[] => {
        const picks = [...nodes].sort(() => Math.random() - 0.5).slice(0, 3)
        return [...base(k + 1), '-b', '-bootstrapPeers', picks.map(d => `${d.addrs[0]}/p2p/${d.peerId}`).join(',')]
      }
    }))
    for (let i = 0; i < specs.length; i += BATCH) {
      nodes.push(...await fleet.startBatches(specs.slice(i, i + BATCH), BATCH, { timeoutMs: 90_000 }))
    }
    const rssMiB = nodes.reduce((s, d) => s + rssKiB(d.proc.pid), 0) / 1024
    console.log(`# dht-20: topology ${tTopo} ms, router probe ${tProbe} ms (${router.router}: ${router.reason}), ` +
      `${N} daemons up in ${Date.now() - t0 - tTopo - tProbe} ms (batches of ${BATCH}), total RSS ${rssMiB.toFixed(0)} MiB`)
  }, { timeout: 130_000 })

  after(async () => {
    // a short grace: 20 graceful shutdowns on a loaded machine would eat the file's time
    await fleet?.close(1000)
    await topo?.destroy()
  }, { timeout: 60_000 })

  it('bootstrap: every daemon is connected to the network', async (t) => {
    const counts = await Promise.all(nodes.map(async d => (await apiJson(d, 'GET', '/api/daemon/connections', undefined, { timeoutMs: 15_000 })).length as number))
    // js kad-dht fills its routing table from these connections only: its self-query runs
    // 1 s after start, before -b has connected anything, then every 5 min (p2pd's -b also
    // bootstraps the DHT); the lookups below do the rest
    t.diagnostic(`connections per daemon after -b: ${counts.join(' ')}`)
    assert.ok(counts.every(c => c >= 1), 'every daemon has a connection')
  })

  it(`PUT_VALUE, PROVIDE and FIND_PEER from ${OPS} hosts each, then GET_VALUE and FIND_PROVIDERS from others`, async (t) => {
    const stamp = Date.now()
    const values = Array.from({ length: OPS }, (_, i) => ({ key: `/v/net-${i}-${stamp}`, value: `value ${i} ${Math.random()}`, from: nodes[(2 * i) % N] }))
    const cids = await Promise.all(Array.from({ length: OPS }, async (_, i) => ({
      cid: CID.createV1(raw.code, await sha256.digest(Buffer.from(`net provide ${i} ${stamp}`))).toString(),
      from: nodes[(2 * i + 1) % N]
    })))
    const findPeers = await Promise.all(Array.from({ length: OPS }, async (_, i) => {
      const asker = nodes[(3 * i + 2) % N]
      const connected = new Set((await apiJson(asker, 'GET', '/api/daemon/connections')).map((c: any) => c.peerID))
      const strangers = nodes.filter(d => d !== asker && !connected.has(d.peerId))
      return { asker, target: strangers[i % Math.max(1, strangers.length)] ?? nodes[(3 * i + 9) % N], stranger: strangers.length > 0 }
    }))
    const post = async (d: NetDaemon, path: string, body: object): Promise<any> =>
      await apiJson(d, 'POST', `/api/daemon/dht/${path}`, { ...body, timeout: OP_TIMEOUT_S }, { timeoutMs: (OP_TIMEOUT_S + 15) * 1000 })

    // phase 1: the writes and the peer lookups, all kinds at once (the machine has 2 cores)
    const phase1 = await pool<Outcome>([
      ...values.map(v => async () => await timed(async () => { await post(v.from, 'put-value', { key: b64(v.key), value: b64(v.value) }); return true })),
      ...cids.map(c => async () => await timed(async () => { await post(c.from, 'provide', { cid: c.cid }); return true })),
      ...findPeers.map(f => async () => await timed(async () => {
        const r = await post(f.asker, 'find-peer', { peerID: f.target.peerId })
        return r.peerID === f.target.peerId && (r.addresses as string[]).some(a => a.startsWith(f.target.addrs[0]))
      }))
    ], 3 * OPS)
    const [puts, provides, peers] = [phase1.slice(0, OPS), phase1.slice(OPS, 2 * OPS), phase1.slice(2 * OPS)]
    report(t, 'PUT_VALUE', puts)
    report(t, 'PROVIDE', provides)
    report(t, `FIND_PEER (address checked; ${findPeers.filter(f => f.stranger).length}/${OPS} for peers the asker was not connected to)`, peers)

    // phase 2: read back from hosts other than the writers
    const phase2 = await pool<Outcome>([
      ...values.map((v, i) => async () => await timed(async () => {
        const r = await post(nodes[(2 * i + 7) % N], 'get-value', { key: b64(v.key) })
        return Buffer.from(r.value, 'base64').toString() === v.value
      })),
      ...cids.map((c, i) => async () => await timed(async () => {
        const lines = await apiLines(nodes[(2 * i + 1 + 10) % N], 'POST', '/api/daemon/dht/find-providers', { cid: c.cid, count: 1, timeout: OP_TIMEOUT_S })
        try {
          const hit = await lines.waitFor(l => l.peerID !== undefined || l.error !== undefined, (OP_TIMEOUT_S + 5) * 1000)
          if (hit.error !== undefined) throw new Error(`${String(hit.code)} ${String(hit.error)}`)
          return hit.peerID === c.from.peerId
        } finally {
          lines.close()
        }
      }))
    ], 2 * OPS)
    const [gets, finds] = [phase2.slice(0, OPS), phase2.slice(OPS)]
    report(t, 'GET_VALUE (value checked)', gets)
    report(t, 'FIND_PROVIDERS (provider checked)', finds)
    const all = [...phase1, ...phase2]
    t.diagnostic(`DHT overall: ${summarize(all)}`)
    assert.ok(puts.every(r => r.ok) && provides.every(r => r.ok), 'every PUT_VALUE and PROVIDE succeeds')
    for (const [what, rs] of [['FIND_PEER', peers], ['GET_VALUE', gets], ['FIND_PROVIDERS', finds]] as const) {
      // a broken DHT answers ~0%; a CPU-starved machine (20 daemons on 2 shared cores) loses
      // some lookups to dial and query timeouts: the figures above say how many
      assert.ok(rs.filter(r => r.ok).length >= OPS / 2, `at least half of the ${what}s answer correctly`)
    }
  })

  it('a pubsub message from one host reaches every subscriber', async (t) => {
    const topic = 'net-fanout'
    const subs: Subscription[] = []
    try {
      subs.push(...await pool(nodes.map(d => async () => await subscribe(d, topic)), 10))
      const meshMs = await waitForTopicPeers(subs, topic, 30_000)
      // give the last subscription announcements a moment to reach every neighbour
      await new Promise(resolve => setTimeout(resolve, 2000))
      const deliveries = [
        ...await publishAndCollect(nodes[7], subs, topic, 3, 20_000),
        ...await publishAndCollect(nodes[13], subs, topic, 3, 20_000)
      ]
      t.diagnostic(`pubsub router ${router.router} (${router.reason}); every subscriber saw a topic peer after ${meshMs} ms`)
      report(t, `pubsub deliveries (2 publishers × 3 messages × ${N - 1} subscribers)`, deliveries)
      const missed = deliveries.filter(d => !d.ok)
      assert.equal(missed.length, 0, `missed: ${JSON.stringify(missed.slice(0, 10))}`)
    } finally {
      for (const s of subs) s.lines.close()
    }
  })
})

/** Resident set size of a process in KiB, 0 if it is gone. */
function rssKiB (pid: number | undefined): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'))?.[1] ?? 0)
  } catch {
    return 0
  }
}
