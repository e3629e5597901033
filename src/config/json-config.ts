/**
 * p2pd's JSON config (`-f file` / `-i` on stdin; go-libp2p-daemon `specs/CONFIG.md`),
 * translated into option values so one code path builds the daemon. Our own options can be
 * given in the same object by their flag names (e.g. `"httpListen"`).
 */
import { parseGoDuration } from './duration.js'
import { ConfigError } from './index.js'
import { OPTIONS_BY_NAME } from './options.js'
import type { OptionValues } from './options.js'

type Json = Record<string, any>

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

function dur (v: unknown, key: string): number {
  if (typeof v === 'number') return v / 1e6 // Go marshals time.Duration as nanoseconds
  if (typeof v === 'string') {
    try { return parseGoDuration(v) } catch { throw new ConfigError(`config ${key}: invalid duration "${v}"`) }
  }
  throw new ConfigError(`config ${key}: expected a duration`)
}

const addrs = (v: unknown, key: string): string => {
  if (v == null) return ''
  if (typeof v === 'string') return v
  if (Array.isArray(v) && v.every(x => typeof x === 'string')) return v.join(',')
  throw new ConfigError(`config ${key}: expected a list of multiaddr strings`)
}

/** Converts a parsed p2pd JSON config to option values (only keys present are returned). */
export function optionsFromJsonConfig (cfg: unknown): Partial<OptionValues> {
  if (!isObj(cfg)) throw new ConfigError('config must be a JSON object')
  const out: Partial<OptionValues> = {}
  const set = (name: string, v: unknown, key: string, kind: 'bool' | 'int' | 'string'): void => {
    if (v === undefined || v === null) return
    if (kind === 'bool' && typeof v !== 'boolean') throw new ConfigError(`config ${key}: expected true or false`)
    if (kind === 'int' && (typeof v !== 'number' || !Number.isInteger(v))) throw new ConfigError(`config ${key}: expected an integer`)
    if (kind === 'string' && typeof v !== 'string') throw new ConfigError(`config ${key}: expected a string`)
    out[name] = v as any
  }
  for (const [key, v] of Object.entries(cfg)) {
    switch (key) {
      case 'ListenAddr': set('listen', v, key, 'string'); break
      case 'Quiet': set('q', v, key, 'bool'); break
      case 'ID': set('id', v, key, 'string'); break
      case 'Bootstrap':
        if (!isObj(v)) throw new ConfigError('config Bootstrap: expected an object')
        set('b', v.Enabled, 'Bootstrap.Enabled', 'bool')
        if (v.Peers != null) out.bootstrapPeers = addrs(v.Peers, 'Bootstrap.Peers')
        break
      case 'DHT': {
        if (!isObj(v)) throw new ConfigError('config DHT: expected an object')
        const mode = v.Mode ?? ''
        if (!['', 'full', 'client', 'server'].includes(mode)) throw new ConfigError(`config DHT.Mode: "${mode}" is not one of "", full, client, server`)
        out.dht = mode === 'full'; out.dhtClient = mode === 'client'; out.dhtServer = mode === 'server'
        break
      }
      case 'ConnectionManager':
        if (!isObj(v)) throw new ConfigError('config ConnectionManager: expected an object')
        set('connManager', v.Enabled, 'ConnectionManager.Enabled', 'bool')
        set('connLo', v.LowWaterMark, 'ConnectionManager.LowWaterMark', 'int')
        set('connHi', v.HighWaterMark, 'ConnectionManager.HighWaterMark', 'int')
        if (v.GracePeriod != null) out.connGrace = dur(v.GracePeriod, 'ConnectionManager.GracePeriod')
        break
      case 'QUIC': set('quic', v, key, 'bool'); break
      case 'NatPortMap': set('natPortMap', v, key, 'bool'); break
      case 'PubSub':
        if (!isObj(v)) throw new ConfigError('config PubSub: expected an object')
        set('pubsub', v.Enabled, 'PubSub.Enabled', 'bool')
        set('pubsubRouter', v.Router, 'PubSub.Router', 'string')
        set('pubsubSign', v.Sign, 'PubSub.Sign', 'bool')
        set('pubsubSignStrict', v.SignStrict, 'PubSub.SignStrict', 'bool')
        if (isObj(v.GossipSubHeartbeat)) {
          if (v.GossipSubHeartbeat.Interval != null) out.gossipsubHeartbeatInterval = dur(v.GossipSubHeartbeat.Interval, 'PubSub.GossipSubHeartbeat.Interval')
          if (v.GossipSubHeartbeat.InitialDelay != null) out.gossipsubHeartbeatInitialDelay = dur(v.GossipSubHeartbeat.InitialDelay, 'PubSub.GossipSubHeartbeat.InitialDelay')
        }
        break
      case 'Relay':
        if (!isObj(v)) throw new ConfigError('config Relay: expected an object')
        set('relay', v.Enabled, 'Relay.Enabled', 'bool')
        set('relayActive', v.Active, 'Relay.Active', 'bool')
        set('relayHop', v.Hop, 'Relay.Hop', 'bool')
        set('relayDiscovery', v.Discovery, 'Relay.Discovery', 'bool')
        set('autoRelay', v.Auto, 'Relay.Auto', 'bool')
        set('relayHopLimit', v.HopLimit, 'Relay.HopLimit', 'int')
        break
      case 'AutoNat': set('autonat', v, key, 'bool'); break
      case 'HostAddresses': out.hostAddrs = addrs(v, key); break
      case 'AnnounceAddresses': out.announceAddrs = addrs(v, key); break
      case 'NoListen': set('noListenAddrs', v, key, 'bool'); break
      case 'MetricsAddress': set('metricsAddr', v, key, 'string'); break
      case 'PProf':
        if (!isObj(v)) throw new ConfigError('config PProf: expected an object')
        set('pprof', v.Enabled, 'PProf.Enabled', 'bool')
        set('pprofPort', v.Port, 'PProf.Port', 'int')
        break
      case 'Security':
        if (!isObj(v)) throw new ConfigError('config Security: expected an object')
        set('noise', v.Noise, 'Security.Noise', 'bool')
        set('tls', v.TLS, 'Security.TLS', 'bool')
        set('plaintext', v.Plaintext, 'Security.Plaintext', 'bool')
        break
      case 'Echo': set('echo', v, key, 'bool'); break
      default: {
        const spec = OPTIONS_BY_NAME.get(key)
        if (spec === undefined || key === 'f' || key === 'i') throw new ConfigError(`config: unknown key "${key}"`)
        if (spec.kind === 'duration') out[key] = dur(v, key)
        else set(key, v, key, spec.kind === 'bool' ? 'bool' : spec.kind === 'string' ? 'string' : 'int')
      }
    }
  }
  return out
}
