/**
 * Smoke starts of the real binary for meaningful groups of flags: each group starts, shows
 * the services and protocols it should (SIGUSR1 diagnostics), and stops with 143 in bounded
 * time. UPnP and mDNS send multicast, so they run in a private network namespace
 * (`unshare -n`, loopback only) and are skipped where that is not allowed.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { startDaemon, tempDir } from './cli-harness.js'

const canUnshare = spawnSync('unshare', ['-n', 'true']).status === 0
/** Runs the daemon in a fresh network namespace with only loopback up. */
const NETNS = ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh']

interface Case {
  name: string
  args: (dir: string) => string[]
  services?: string[]
  noServices?: string[]
  protocols?: RegExp[]
  noProtocols?: RegExp[]
  dhtMode?: string
  netns?: boolean
}

const CASES: Case[] = [
  { name: 'defaults: relay service, echo, identify, ping, dcutr; no DHT or pubsub', args: () => [], services: ['relay', 'echo', 'identify', 'ping', 'dcutr'], noServices: ['dht', 'pubsub', 'autonat', 'upnp'], protocols: [/^\/echo\/1\.0\.0$/, /^\/libp2p\/circuit\/relay\/0\.2\.0\/hop$/, /^\/ipfs\/id\/1\.0\.0$/, /^\/ipfs\/ping\/1\.0\.0$/] },
  { name: '-dht (automatic mode, private reachability forced)', args: () => ['-dht', '-forceReachabilityPrivate'], services: ['dht'], dhtMode: 'client' },
  { name: '-dhtClient', args: () => ['-dhtClient'], services: ['dht'], dhtMode: 'client', noProtocols: [/^\/ipfs\/kad\/1\.0\.0$/] },
  { name: '-dhtServer -forceReachabilityPublic', args: () => ['-dhtServer', '-forceReachabilityPublic'], services: ['dht'], dhtMode: 'server', protocols: [/^\/ipfs\/kad\/1\.0\.0$/] },
  { name: 'gossipsub with heartbeat and signing flags', args: () => ['-pubsub', '-pubsubRouter=gossipsub', '-gossipsubHeartbeatInterval=500ms', '-gossipsubHeartbeatInitialDelay=100ms', '-pubsubSign=false', '-pubsubSignStrict=false'], services: ['pubsub'], protocols: [/^\/meshsub\/1\.1\.0$/] },
  { name: 'floodsub', args: () => ['--pubsub', '--pubsubRouter', 'floodsub'], services: ['pubsub'], protocols: [/^\/floodsub\/1\.0\.0$/], noProtocols: [/meshsub/] },
  { name: '-autonat, connection manager', args: () => ['-autonat', '-connManager', '-connLo=1', '-connHi=2', '-connGrace=1s'], services: ['autonat'] },
  { name: 'no relay service, no echo', args: () => ['-relay=false', '-echo=false'], noServices: ['relay', 'echo'], noProtocols: [/^\/echo\//, /relay\/0\.2\.0\/hop/] },
  {
    name: 'hivemind flags (=1/0 style, no-effect ones accepted)',
    args: () => ['-autoRelay=1', '-relayDiscovery=1', '-relayService=1', '-relayHopLimit=0', '-relayActive=0', '-relayHop=0', '-relayMaxCircuits=4', '-relayMaxReservations=8', '-relayBufferSize=1024', '-relayDataLimit=0', '-relayTimeLimit=1m', '-idleTimeout=0s', '-persistentConnMaxMsgSize=4194304', '-quic=1', '-pprof=0', '-pprofPort=0', '-tls=1', '-natPortMap=0'],
    services: ['relay']
  },
  { name: 'state and stream flags', args: dir => ['-datastore', `${dir}/ds`, '-socketDir', `${dir}/streams`, '-streamAcceptTimeout=2s', '-logLevel=debug', '-muxer=mplex,yamux'] },
  { name: '-natPortMap without a router (bounded)', args: () => ['-natPortMap'], services: ['upnp', 'autonat'], netns: true },
  { name: '-mdns', args: () => ['-mdns'], netns: true }
]

describe('flag groups start and stop', { concurrency: 4 }, () => {
  for (const c of CASES) {
    it(c.name, { skip: c.netns === true && !canUnshare ? 'unshare -n not permitted here' : false }, async () => {
      const dir = tempDir()
      const d = await startDaemon(c.args(dir), c.netns === true ? { prefix: NETNS } : {})
      const diag = await d.diagnostics()
      for (const s of c.services ?? []) assert.ok(diag.services.includes(s), `service ${s} in ${diag.services.join(', ')}`)
      for (const s of c.noServices ?? []) assert.ok(!diag.services.includes(s), `no service ${s}`)
      for (const p of c.protocols ?? []) assert.ok(diag.protocols.some((x: string) => p.test(x)), `${String(p)} in ${diag.protocols.join(', ')}`)
      for (const p of c.noProtocols ?? []) assert.ok(!diag.protocols.some((x: string) => p.test(x)), `no ${String(p)} in ${diag.protocols.join(', ')}`)
      if (c.dhtMode !== undefined) assert.equal(diag.dhtMode, c.dhtMode)
      const began = Date.now()
      assert.equal(await d.stop(), 143)
      assert.ok(Date.now() - began < 15_000, `stopped in ${Date.now() - began} ms`)
    })
  }
})
