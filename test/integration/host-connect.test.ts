/**
 * Two or three real daemons connecting over loopback. `-b -bootstrapPeers <other>` makes a
 * daemon dial before it prints its banner and exit 1 if no dial succeeds, so "started" means
 * "connected"; SIGUSR1 diagnostics then show the connection's transport, encryption and muxer.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { keygen, runToExit, startDaemon, tempDir, waitFor } from './cli-harness.js'
import type { DaemonProcess } from './cli-harness.js'

const withId = (b: DaemonProcess, match: RegExp): string => {
  const addr = b.banner.addrs.find(a => match.test(a))
  assert.ok(addr, `no address matching ${String(match)} in ${b.banner.addrs.join(', ')}`)
  return `${addr}/p2p/${b.banner.peerId}`
}

/** Starts `b` bootstrapping to `a` and returns the connection `b` sees to `a`. */
async function connectVia (a: DaemonProcess, addr: string, args: string[] = []): Promise<{ b: DaemonProcess, conn: any }> {
  const b = await startDaemon(['-b', '-bootstrapPeers', addr, ...args])
  const diag = await b.diagnostics()
  const conn = diag.connections.find((c: any) => c.peer === a.banner.peerId)
  assert.ok(conn, `no connection to ${a.banner.peerId}: ${JSON.stringify(diag.connections)}`)
  return { b, conn }
}

describe('two daemons connect', { concurrency: true }, () => {
  it('over TCP, QUIC and WebSockets (noise, yamux by default)', async () => {
    const a = await startDaemon(['-hostAddrs=/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/udp/0/quic-v1,/ip4/127.0.0.1/tcp/0/ws'])
    assert.equal(a.banner.addrs.length, 3)
    for (const addr of a.banner.addrs) assert.doesNotMatch(addr, /\/tcp\/0(\/|$)|\/udp\/0\//, 'banner shows real ports')
    const cases: Array<[RegExp, RegExp]> = [
      [/\/tcp\/\d+$/, /\/tcp\/\d+\/p2p\//],
      [/\/quic-v1$/, /\/quic-v1\/p2p\//],
      [/\/ws$/, /\/ws\/p2p\//]
    ]
    const runs = await Promise.all(cases.map(async ([pick, expect]) => {
      const { b, conn } = await connectVia(a, withId(a, pick))
      assert.match(conn.addr, expect)
      return { b, conn }
    }))
    // QUIC brings its own encryption and muxing; the others negotiate noise + yamux
    for (const { conn } of [runs[0], runs[2]]) {
      assert.equal(conn.encryption, '/noise')
      assert.equal(conn.multiplexer, '/yamux/1.0.0')
    }
    const diagA = await a.diagnostics()
    for (const { b } of runs) assert.ok(diagA.connections.some((c: any) => c.peer === b.banner.peerId), 'A sees B')
    assert.ok(diagA.connections.some((c: any) => c.agent?.startsWith('libp2pd/')), 'identify ran')
    await Promise.all([a, ...runs.map(r => r.b)].map(async d => { assert.equal(await d.stop(), 143) }))
  })

  it('with only -tls, and with only -plaintext + mplex; noise-only vs tls-only cannot', async () => {
    const tlsOnly = ['-noise=false', '-plaintext=false']
    const a = await startDaemon(tlsOnly)
    const { b, conn } = await connectVia(a, withId(a, /tcp/), tlsOnly)
    assert.equal(conn.encryption, '/tls/1.0.0')

    const plainMplex = ['-noise=0', '-tls=0', '-plaintext', '--muxer', 'mplex']
    const c = await startDaemon(plainMplex)
    const { b: d, conn: conn2 } = await connectVia(c, withId(c, /tcp/), plainMplex)
    assert.equal(conn2.encryption, '/plaintext/2.0.0')
    assert.equal(conn2.multiplexer, '/mplex/6.7.0')

    const noiseOnly = await runToExit(['-listen=', '-httpListen=', '-hostAddrs=/ip4/127.0.0.1/tcp/0', '-tls=false', '-plaintext=false', '-b', `-bootstrapPeers=${withId(a, /tcp/)}`])
    assert.equal(noiseOnly.code, 1, noiseOnly.stderr)
    assert.match(noiseOnly.stderr, /failed to connect to any bootstrap peer/)
    // plaintext is off unless asked for: a dialer that speaks nothing else is refused
    const plainOnly = await runToExit(['-listen=', '-httpListen=', '-hostAddrs=/ip4/127.0.0.1/tcp/0', '-noise=false', '-tls=false', '-plaintext', '-b', `-bootstrapPeers=${withId(a, /tcp/)}`])
    assert.equal(plainOnly.code, 1, plainOnly.stderr)
    const wrongMuxer = await runToExit(['-listen=', '-httpListen=', '-hostAddrs=/ip4/127.0.0.1/tcp/0', '-muxer=yamux', '-b', `-bootstrapPeers=${withId(c, /tcp/)}`, ...plainMplex.slice(0, 3)])
    assert.equal(wrongMuxer.code, 1, wrongMuxer.stderr)
    for (const p of [a, b, c, d]) await p.stop()
  })

  it('-psk: same key connects, no key cannot', async () => {
    const dir = tempDir()
    const psk = `${dir}/swarm.key`
    writeFileSync(psk, `/key/swarm/psk/1.0.0/\n/base16/\n${randomBytes(32).toString('hex')}\n`)
    const a = await startDaemon(['-psk', psk])
    const { b } = await connectVia(a, withId(a, /tcp/), ['-psk', psk])
    const outsider = await runToExit(['-listen=', '-httpListen=', '-hostAddrs=/ip4/127.0.0.1/tcp/0', '-b', `-bootstrapPeers=${withId(a, /tcp/)}`])
    assert.equal(outsider.code, 1, outsider.stderr)
    const quic = await runToExit(['-listen=', '-httpListen=', '-psk', psk, '-hostAddrs=/ip4/127.0.0.1/udp/0/quic-v1'])
    assert.equal(quic.code, 1)
    assert.match(quic.stderr, /-psk cannot be used with QUIC/)
    await Promise.all([a.stop(), b.stop()])
  })

  it('through a relay only: C has no listen address, A reaches it via B/p2p-circuit', async () => {
    const dir = tempDir()
    const cId = await keygen(`${dir}/c.key`)
    const relay = await startDaemon(['-relay'])
    const relayAddr = withId(relay, /tcp/)
    const c = await startDaemon(['-noListenAddrs', '-autoRelay', '-trustedRelays', relayAddr, '-id', `${dir}/c.key`])
    assert.equal(c.banner.peerId, cId)
    // the reservation is made in the background after start
    let circuit = ''
    await waitFor(async () => {
      const d = await c.diagnostics()
      circuit = d.addrs.find((x: string) => x.includes('/p2p-circuit')) ?? ''
      return circuit !== ''
    }, 'relay reservation', 30_000)
    assert.ok(circuit.startsWith(relayAddr), circuit)
    const { b: a, conn } = await connectVia(c, circuit, [])
    assert.match(conn.addr, /\/p2p-circuit/)
    assert.equal(conn.limited, true)
    await Promise.all([relay.stop(), c.stop(), a.stop()])
  })

  it('-datastore keeps the peerstore across a restart; -announceAddrs replace the listen addrs', async () => {
    const dir = tempDir()
    await keygen(`${dir}/a.key`)
    const b = await startDaemon(['-announceAddrs=/ip4/127.0.0.1/tcp/4999,/dns4/example.invalid/tcp/5000'])
    assert.deepEqual(b.banner.addrs, ['/ip4/127.0.0.1/tcp/4999', '/dns4/example.invalid/tcp/5000'])
    const bDiag = await b.diagnostics()
    assert.deepEqual(bDiag.addrs.map((x: string) => x.replace(/\/p2p\/.*$/, '')), b.banner.addrs)
    const c = await startDaemon([])
    const { b: a1 } = await connectVia(c, withId(c, /tcp/), ['-id', `${dir}/a.key`, '-datastore', `${dir}/store`])
    assert.equal(await a1.stop(), 143)
    // restart the daemon that knew `c`: without any dialing it still knows c from disk
    const a3 = await startDaemon(['-id', `${dir}/a.key`, '-datastore', `${dir}/store`])
    const diag = await a3.diagnostics()
    assert.ok(diag.peerstore.peerIds.includes(c.banner.peerId), `peerstore after restart: ${JSON.stringify(diag.peerstore)}`)
    assert.equal(diag.connections.length, 0)
    await Promise.all([a3.stop(), b.stop(), c.stop()])
  })

  it('-connManager trims to -connLo above -connHi, sparing connections within -connGrace', async () => {
    const peers = await Promise.all([0, 1, 2].map(async () => await startDaemon([])))
    const list = peers.map(p => withId(p, /tcp/)).join(',')
    const [trimmed, graced] = await Promise.all([
      startDaemon(['-b', '-bootstrapPeers', list, '-connManager', '-connLo=1', '-connHi=2', '-connGrace=0']),
      startDaemon(['-b', '-bootstrapPeers', list, '-connManager', '-connLo=1', '-connHi=2', '-connGrace=1h'])
    ])
    assert.deepEqual(trimmed.banner.bootstrapPeers, list.split(','), 'the banner lists the configured bootstrap peers, as p2pd')
    let count = -1
    await waitFor(async () => { count = (await trimmed.diagnostics()).connections.length; return count <= 1 }, 'trim to -connLo', 20_000)
    assert.equal(count, 1)
    assert.equal((await graced.diagnostics()).connections.length, 3, 'young connections are spared')
    await Promise.all([trimmed, graced, ...peers].map(async d => await d.stop()))
  })
})
