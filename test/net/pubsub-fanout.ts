/**
 * Pubsub across a fleet of daemons through the HTTP API: subscribe everyone, publish from
 * one, and time each delivery at every subscriber (all clocks are the test process's).
 * Also picks the router: gossipsub if it delivers between two daemons, else floodsub.
 */
import { apiJson, apiLines, b64, connectPeers, pollUntil } from './daemon-api.js'
import type { LineStream } from './daemon-api.js'
import type { DaemonFleet, NetDaemon } from './daemons.js'

/** A router choice and why it was made. */
export interface RouterChoice {
  router: 'gossipsub' | 'floodsub'
  reason: string
}

/**
 * Checks whether gossipsub (the daemon's default router) carries a message between two
 * daemons started on `hosts` (listening on `addrs`); the probe daemons are stopped again.
 * `$NET_PUBSUB_ROUTER` skips the probe. Known gap: gossipsub 14 over libp2p 3 exchanges no
 * subscriptions (docs/p2pd-compat.md), so floodsub is the fallback.
 */
export async function chooseRouter (fleet: DaemonFleet, hosts: [string, string], addrs: [string, string], timeoutMs = 15_000): Promise<RouterChoice> {
  const forced = process.env.NET_PUBSUB_ROUTER
  if (forced === 'gossipsub' || forced === 'floodsub') return { router: forced, reason: 'set by NET_PUBSUB_ROUTER' }
  let probes: NetDaemon[] = []
  try {
    probes = await Promise.all(hosts.map(async (h, i) => await fleet.start(h, ['-hostAddrs', addrs[i], '-relay=false', '-pubsub', '-pubsubRouter', 'gossipsub'], { timeoutMs: 60_000 })))
    await connectPeers(probes[0], probes[1], probes[1].addrs)
    const sub = await subscribe(probes[1], 'router-probe')
    try {
      const end = Date.now() + timeoutMs
      while (Date.now() < end) {
        await apiJson(probes[0], 'POST', '/api/daemon/pubsub/topics/router-probe/publish', { data: b64('probe') })
        const got = await sub.lines.next(1000).catch(() => undefined)
        if (got?.data !== undefined) return { router: 'gossipsub', reason: 'gossipsub delivered between two probe daemons' }
      }
      return { router: 'floodsub', reason: `gossipsub delivered nothing between two connected daemons within ${timeoutMs} ms (known gap, docs/p2pd-compat.md)` }
    } finally {
      sub.lines.close()
    }
  } catch (err) {
    return { router: 'floodsub', reason: `gossipsub probe failed: ${(err as Error).message.split('\n')[0].slice(0, 300)}` }
  } finally {
    await Promise.all(probes.map(async d => { await fleet.stop(d) }))
  }
}

/** An open subscription of one daemon. */
export interface Subscription {
  daemon: NetDaemon
  lines: LineStream
}

/** Subscribes `d` to `topic` and waits for the `{subscribed}` line. */
export async function subscribe (d: NetDaemon, topic: string): Promise<Subscription> {
  const lines = await apiLines(d, 'POST', `/api/daemon/pubsub/topics/${encodeURIComponent(topic)}/subscribe`)
  try {
    const first = await lines.next(15_000)
    if (first?.subscribed !== topic) throw new Error(`unexpected first line ${JSON.stringify(first)}`)
  } catch (err) {
    lines.close()
    throw err
  }
  return { daemon: d, lines }
}

/**
 * Waits until every subscriber sees at least one other subscriber of `topic` (the overlay
 * knows about the subscriptions); resolves with how long that took.
 */
export async function waitForTopicPeers (subs: Subscription[], topic: string, timeoutMs: number): Promise<number> {
  const start = Date.now()
  await Promise.all(subs.map(async s => {
    await pollUntil(`${s.daemon.host} to see a peer on ${topic}`, timeoutMs, async () => {
      const r = await apiJson(s.daemon, 'GET', `/api/daemon/pubsub/topics/${encodeURIComponent(topic)}/peers`, undefined, { timeoutMs: 10_000 })
      return r.peers.length > 0 ? true : undefined
    }, 500)
  }))
  return Date.now() - start
}

/** Outcome of {@link publishAndCollect}: one entry per (message, subscriber). */
export interface Delivery {
  host: string
  message: string
  ok: boolean
  ms: number
}

/**
 * Publishes `count` messages from `from` on `topic` and waits (≤ `timeoutMs` after the
 * last publish) for each to arrive at every subscriber other than `from`.
 */
export async function publishAndCollect (from: NetDaemon, subs: Subscription[], topic: string, count: number, timeoutMs: number): Promise<Delivery[]> {
  const receivers = subs.filter(s => s.daemon !== from)
  const sentAt = new Map<string, number>()
  const deliveries: Delivery[] = []
  const collecting = receivers.map(async s => {
    const seen = new Set<string>()
    const deadline = (): number => (sentAt.size === count ? Math.max(...sentAt.values()) + timeoutMs : performance.now() + timeoutMs)
    while (seen.size < count) {
      const left = deadline() - performance.now()
      if (left <= 0) break
      const msg = await s.lines.next(Math.min(left, 1000)).catch(() => undefined)
      if (msg?.data === undefined) continue
      const text = Buffer.from(msg.data, 'base64').toString()
      const t0 = sentAt.get(text)
      if (t0 === undefined || seen.has(text)) continue
      seen.add(text)
      deliveries.push({ host: s.daemon.host, message: text, ok: true, ms: performance.now() - t0 })
    }
    for (const m of sentAt.keys()) if (!seen.has(m)) deliveries.push({ host: s.daemon.host, message: m, ok: false, ms: NaN })
  })
  for (let i = 0; i < count; i++) {
    const text = `${from.host}-${i}-${Math.random().toString(36).slice(2)}`
    sentAt.set(text, performance.now())
    await apiJson(from, 'POST', `/api/daemon/pubsub/topics/${encodeURIComponent(topic)}/publish`, { data: b64(text) })
  }
  await Promise.all(collecting)
  return deliveries
}
