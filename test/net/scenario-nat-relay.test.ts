/**
 * Scenario 2 of issue 7: two hosts behind separate NATs and one public relay. Both NATed
 * daemons reserve a circuit relay v2 slot (`-autoRelay -trustedRelays`), one dials the other
 * through `/p2p-circuit` and an echo stream runs over the relayed connection. Then the test
 * watches for a DCUtR upgrade to a direct connection and reports which happened and why.
 *
 * The namespaces use 10.77/16 addresses, which js-libp2p's `isPrivate` calls private, and
 * DCUtR only ever dials public addresses: "relayed, DCUtR found no public address" is the
 * expected outcome here and is reported, not failed on. An upgrade would be reported too.
 * Run: node scripts/run-tests.mjs net --only nat-relay   (root; `npm run build` first)
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { isPrivate } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createTopology, netTestSkipReason } from './topology.js'
import type { Topology } from './topology.js'
import { DaemonFleet } from './daemons.js'
import type { NetDaemon } from './daemons.js'
import { ApiError, apiJson, connectPeers, echoTransfer, openStreamSocket, pollUntil } from './daemon-api.js'

/** How long to watch for a DCUtR upgrade after the relayed connection opened. */
const DCUTR_WATCH_MS = 20_000

describe('scenario: two NATed hosts reach each other through a relay', { skip: netTestSkipReason(), timeout: 300_000 }, () => {
  let topo: Topology | undefined
  let fleet: DaemonFleet | undefined
  let relay: NetDaemon
  let alice: NetDaemon
  let bob: NetDaemon
  let relayAddr: string

  before(async () => {
    topo = await createTopology({ prefix: 'natrelay' })
    await topo.addLan('wan', { subnet: '10.77.0.0/24' })
    await topo.addLan('home1', { subnet: '10.77.101.0/24' })
    await topo.addLan('home2', { subnet: '10.77.102.0/24' })
    await topo.addHost('relay', { lan: 'wan' })
    // full-cone (port-preserving) NATs: the kind hole punching can get through
    await topo.addNatGateway('nat1', { inside: 'home1', outside: 'wan', type: 'full-cone' })
    await topo.addNatGateway('nat2', { inside: 'home2', outside: 'wan', type: 'full-cone' })
    await topo.addHost('alice', { lan: 'home1' })
    await topo.addHost('bob', { lan: 'home2' })
    fleet = new DaemonFleet(topo)
    const t = topo
    relay = await fleet.start('relay', ['-hostAddrs', `/ip4/${t.ip('relay')}/tcp/4001`, '-relay', '-forceReachabilityPublic'])
    relayAddr = `/ip4/${t.ip('relay')}/tcp/4001/p2p/${relay.peerId}`
    const natted = (h: string): string[] => ['-hostAddrs', `/ip4/${t.ip(h)}/tcp/4001`, '-autoRelay', '-trustedRelays', relayAddr]
    ;[alice, bob] = await Promise.all([fleet.start('alice', natted('alice')), fleet.start('bob', natted('bob'))])
  }, { timeout: 120_000 })

  after(async () => {
    await fleet?.close()
    await topo?.destroy()
  }, { timeout: 60_000 })

  it('both reserve a slot; a relayed echo works; DCUtR outcome reported', async (t) => {
    const started = Date.now()
    const circuitOf = async (d: NetDaemon): Promise<string | undefined> => {
      const id = await apiJson(d, 'GET', '/api/daemon/identity', undefined, { timeoutMs: 10_000 })
      return (id.addresses as string[]).find(a => a.includes('/p2p-circuit'))
    }
    const [aliceCircuit, bobCircuit] = await Promise.all([
      pollUntil('alice\'s relay reservation', 60_000, async () => await circuitOf(alice)),
      pollUntil('bob\'s relay reservation', 60_000, async () => await circuitOf(bob))
    ])
    t.diagnostic(`reservations after ${Date.now() - started} ms: alice ${aliceCircuit}, bob ${bobCircuit}`)
    assert.ok(bobCircuit.startsWith(relayAddr), bobCircuit)

    // the NATs are real: alice cannot dial bob's inside address directly
    const blocked = await connectPeers(alice, bob, [`/ip4/${topo!.ip('bob')}/tcp/4001`], 5)
      .then(() => 'connected', (err: unknown) => err instanceof ApiError ? `${err.status} ${err.code}` : String(err))
    t.diagnostic(`direct dial alice → bob's inside address ${topo!.ip('bob')}: ${blocked}`)
    assert.notEqual(blocked, 'connected', 'bob must not be reachable through nat2')

    const viaRelay = `${relayAddr}/p2p-circuit/p2p/${bob.peerId}`
    const dialStart = Date.now()
    await connectPeers(alice, bob, [viaRelay], 30)
    const conns = await peerConnections(alice, bob)
    t.diagnostic(`alice → bob through the relay in ${Date.now() - dialStart} ms: ${JSON.stringify(conns)}`)
    assert.ok(conns.some(c => c.address.includes('/p2p-circuit') && c.limited === true), 'a limited, relayed connection')

    const { socket, info } = await openStreamSocket(alice, bob.peerId, '/echo/1.0.0')
    try {
      const echo = await echoTransfer(socket, 256 * 1024, 60_000)
      assert.equal(echo.sha256Received, echo.sha256Sent, 'the relayed echo is byte-identical')
      t.diagnostic(`relayed echo of 256 KiB over ${String(info.remoteAddr)}: ${echo.ms.toFixed(0)} ms, ${echo.mbitPerS.toFixed(1)} Mbit/s`)
    } finally {
      socket.destroy()
    }

    // DCUtR: bob (the inbound side of the relayed connection) starts it right after identify
    const direct = await pollUntil('a direct connection', DCUTR_WATCH_MS, async () => {
      const cs = await peerConnections(alice, bob)
      return cs.find(c => !c.address.includes('/p2p-circuit'))
    }).catch(() => undefined)
    // what bob announces (over identify, also on the relayed connection) and what alice
    // observed of it: the addresses DCUtR's CONNECT exchange and unilateral upgrade draw on
    const announced = (await apiJson(bob, 'GET', '/api/daemon/identity')).addresses as string[]
    const known = (await apiJson(alice, 'GET', `/api/daemon/peerstore/${bob.peerId}`)).addresses as string[]
    const directAddrs = [...new Set([...announced, ...known])].filter(a => !a.includes('/p2p-circuit'))
    const publicAddrs = directAddrs.filter(a => !isPrivate(multiaddr(a)))
    if (direct !== undefined) {
      t.diagnostic(`DCUtR: upgraded to a direct connection ${direct.address} within ${DCUTR_WATCH_MS} ms`)
    } else {
      const why = publicAddrs.length === 0
        ? `no direct dial attempted: every direct address bob announces or alice knows for it is private to js-libp2p's isPrivate (${directAddrs.join(', ') || 'none'}), and DCUtR dials public addresses only`
        : `attempted with public addresses ${publicAddrs.join(', ')} but no direct connection within ${DCUTR_WATCH_MS} ms`
      t.diagnostic(`DCUtR: connection stays relayed; ${why}`)
    }
  })
})

/** `from`'s open connections to `to`. */
async function peerConnections (from: NetDaemon, to: NetDaemon): Promise<Array<{ address: string, limited: boolean, direction: string }>> {
  const all = await apiJson(from, 'GET', '/api/daemon/connections', undefined, { timeoutMs: 10_000 })
  return all.filter((c: any) => c.peerID === to.peerId)
}
