/**
 * From option values to the structured DaemonConfig: every option with a valid value builds
 * a config, combinations p2pd refuses are refused, and p2pd's JSON config maps onto options.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, OPTIONS, configFromOptions, defaultOptionValues } from '../../src/config/index.js'
import { optionsFromJsonConfig } from '../../src/config/json-config.js'
import { connectionManagerInit, UNLIMITED_CONNECTIONS } from '../../src/host/connmgr.js'

/** A valid value for each option (strings need meaningful ones). */
const VALID: Record<string, boolean | number | string> = {
  listen: '/ip4/127.0.0.1/tcp/0',
  httpListen: '/unix/tmp/x.sock',
  socketDir: '/tmp/s',
  logLevel: 'debug',
  id: '/tmp/key',
  datastore: '/tmp/ds',
  psk: '/tmp/swarm.key',
  hostAddrs: '/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/udp/0/quic-v1',
  announceAddrs: '/ip4/1.2.3.4/tcp/4001',
  muxer: 'mplex,yamux',
  bootstrapPeers: '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWEzhEimGD2d8Vka7DsTt2qQ19RhJDw1LtJSFvHN1rE773',
  trustedRelays: '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWEzhEimGD2d8Vka7DsTt2qQ19RhJDw1LtJSFvHN1rE773',
  pubsubRouter: 'floodsub',
  metricsAddr: '127.0.0.1:0',
  f: '/tmp/config.json'
}

describe('configFromOptions', () => {
  it('defaults are p2pd\'s, except plaintext (off: it would let a remote claim any peer ID)', () => {
    const c = configFromOptions()
    assert.equal(c.listen, '/unix/tmp/p2pd.sock')
    assert.deepEqual(c.security, { noise: true, tls: true, plaintext: false })
    assert.deepEqual(c.muxers, ['yamux'])
    assert.equal(c.relay.service, true)
    assert.equal(c.echo, true)
    assert.equal(c.dht, 'off')
    assert.deepEqual(c.connManager, { enabled: false, lowWater: 256, highWater: 512, gracePeriodMs: 120_000 })
    assert.equal(connectionManagerInit(c).maxConnections, UNLIMITED_CONNECTIONS)
  })

  for (const o of OPTIONS) {
    it(`accepts -${o.name} with a valid value`, () => {
      const value = VALID[o.name] ?? (o.kind === 'bool' ? !(o.default as boolean) : o.kind === 'duration' ? 5000 : 64 * 1024)
      const extra = o.name === 'noise' ? { tls: true } : o.name === 'connLo' ? { connHi: 1 << 20 } : {}
      assert.doesNotThrow(() => configFromOptions({ [o.name]: value, ...extra }))
    })
  }

  it('maps flags onto the structure', () => {
    const c = configFromOptions({ dhtClient: true, dhtServer: true, connManager: true, connLo: 2, connHi: 4, connGrace: 1000, muxer: 'mplex', forceReachabilityPrivate: true, relayService: false, hostAddrs: ' /ip4/127.0.0.1/tcp/0 , ' })
    assert.equal(c.dht, 'client', '-dhtClient wins over -dhtServer')
    assert.equal(configFromOptions({ dht: true, dhtClient: true }).dht, 'auto')
    assert.deepEqual(c.connManager, { enabled: true, lowWater: 2, highWater: 4, gracePeriodMs: 1000 })
    assert.ok(connectionManagerInit(c).maxConnections >= 4)
    assert.deepEqual(c.muxers, ['mplex'])
    assert.equal(c.forceReachability, 'private')
    assert.equal(c.relay.service, false)
    assert.deepEqual(c.hostAddrs, ['/ip4/127.0.0.1/tcp/0'])
  })

  it('refuses what p2pd refuses, naming the flag', () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ noise: false, tls: false, plaintext: false }, /at least one of -noise, -tls, -plaintext/],
      [{ forceReachabilityPublic: true, forceReachabilityPrivate: true }, /-forceReachabilityPublic and -forceReachabilityPrivate/],
      [{ muxer: 'spdy' }, /-muxer/],
      [{ pubsubRouter: 'randomsub' }, /-pubsubRouter/],
      [{ connLo: 10, connHi: 5 }, /-connHi/],
      [{ logLevel: 'loud' }, /-logLevel/],
      [{ streamAcceptTimeout: 0 }, /-streamAcceptTimeout/],
      [{ nope: 1 }, /unknown option "nope"/],
      [{ listen: `/unix/tmp/${'x'.repeat(120)}.sock` }, /flag -listen: unix socket path is \d+ bytes, more than the 107/],
      [{ httpListen: '/ip4/127.0.0.1/udp/1' }, /flag -httpListen/],
      [{ metricsAddr: 'localhost' }, /flag -metricsAddr/],
      [{ hostAddrs: '/ip4/127.0.0.1/tcp/0,/nonsense' }, /"\/nonsense" for flag -hostAddrs/],
      [{ announceAddrs: 'x' }, /flag -announceAddrs/],
      [{ bootstrapPeers: '/ip4/127.0.0.1/tcp/1' }, /flag -bootstrapPeers: it has no \/p2p/],
      [{ trustedRelays: '/ip4/127.0.0.1/tcp/1' }, /flag -trustedRelays/],
      [{ autoRelay: true, relay: false }, /-autoRelay needs -relay/]
    ]
    for (const [opts, re] of bad) assert.throws(() => configFromOptions(opts as any), (err: Error) => err instanceof ConfigError && re.test(err.message), JSON.stringify(opts))
  })
})

describe('p2pd JSON config', () => {
  it('maps every p2pd key', () => {
    const o = optionsFromJsonConfig({
      ListenAddr: '/unix/tmp/a.sock',
      Quiet: true,
      ID: '/tmp/id',
      Bootstrap: { Enabled: true, Peers: ['/ip4/127.0.0.1/tcp/1/p2p/x', '/ip4/127.0.0.1/tcp/2/p2p/y'] },
      DHT: { Mode: 'server' },
      ConnectionManager: { Enabled: true, LowWaterMark: 1, HighWaterMark: 2, GracePeriod: '30s' },
      QUIC: true,
      NatPortMap: true,
      PubSub: { Enabled: true, Router: 'floodsub', Sign: false, SignStrict: false, GossipSubHeartbeat: { Interval: 2e9, InitialDelay: '100ms' } },
      Relay: { Enabled: true, Active: true, Hop: true, Discovery: true, Auto: true, HopLimit: 3 },
      AutoNat: true,
      HostAddresses: ['/ip4/127.0.0.1/tcp/0'],
      AnnounceAddresses: '/ip4/1.2.3.4/tcp/1',
      NoListen: false,
      MetricsAddress: '127.0.0.1:0',
      PProf: { Enabled: true, Port: 6060 },
      Security: { Noise: false, TLS: true, Plaintext: false },
      Echo: false,
      httpListen: '/ip4/127.0.0.1/tcp/0',
      streamAcceptTimeout: '3s'
    })
    assert.deepEqual(o, {
      listen: '/unix/tmp/a.sock',
      q: true,
      id: '/tmp/id',
      b: true,
      bootstrapPeers: '/ip4/127.0.0.1/tcp/1/p2p/x,/ip4/127.0.0.1/tcp/2/p2p/y',
      dht: false,
      dhtClient: false,
      dhtServer: true,
      connManager: true,
      connLo: 1,
      connHi: 2,
      connGrace: 30_000,
      quic: true,
      natPortMap: true,
      pubsub: true,
      pubsubRouter: 'floodsub',
      pubsubSign: false,
      pubsubSignStrict: false,
      gossipsubHeartbeatInterval: 2000,
      gossipsubHeartbeatInitialDelay: 100,
      relay: true,
      relayActive: true,
      relayHop: true,
      relayDiscovery: true,
      autoRelay: true,
      relayHopLimit: 3,
      autonat: true,
      hostAddrs: '/ip4/127.0.0.1/tcp/0',
      announceAddrs: '/ip4/1.2.3.4/tcp/1',
      noListenAddrs: false,
      metricsAddr: '127.0.0.1:0',
      pprof: true,
      pprofPort: 6060,
      noise: false,
      tls: true,
      plaintext: false,
      echo: false,
      httpListen: '/ip4/127.0.0.1/tcp/0',
      streamAcceptTimeout: 3000
    })
    assert.doesNotThrow(() => configFromOptions(o))
    assert.deepEqual(optionsFromJsonConfig({}), {})
  })

  it('rejects wrong types and unknown keys', () => {
    assert.throws(() => optionsFromJsonConfig([]), /JSON object/)
    assert.throws(() => optionsFromJsonConfig({ Quiet: 'yes' }), /Quiet/)
    assert.throws(() => optionsFromJsonConfig({ DHT: { Mode: 'x' } }), /DHT.Mode/)
    assert.throws(() => optionsFromJsonConfig({ Whatever: 1 }), /unknown key "Whatever"/)
    assert.throws(() => optionsFromJsonConfig({ ConnectionManager: { GracePeriod: 'soon' } }), /GracePeriod/)
  })

  it('every default is of its kind', () => {
    for (const [k, v] of Object.entries(defaultOptionValues())) {
      const o = OPTIONS.find(x => x.name === k)
      assert.equal(typeof v, o?.kind === 'bool' ? 'boolean' : o?.kind === 'string' ? 'string' : 'number', k)
    }
  })
})
