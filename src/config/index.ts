/**
 * The daemon's configuration: one structured object built from option values (flags, a JSON
 * config, or code). Everything downstream (host, planes, bridge) reads this and nothing else.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { isLoopbackHost, parseEndpoint, parseHostPort } from '../net/endpoint.js'
import { OPTIONS_BY_NAME, defaultOptionValues } from './options.js'
import type { OptionValues } from './options.js'

export { OPTIONS, OPTIONS_BY_NAME, defaultOptionValues } from './options.js'
export type { OptionSpec, OptionValues, OptionKind } from './options.js'

/** DHT modes: p2pd's `-dht` is kad-dht's automatic mode. */
export type DhtMode = 'off' | 'auto' | 'client' | 'server'

/** The structured configuration of one daemon. */
export interface DaemonConfig {
  /** p2pd control endpoint multiaddr; empty string disables the p2pd plane. */
  listen: string
  /** HTTP API endpoint multiaddr; empty string disables the HTTP plane. */
  httpListen: string
  /** Directory for per-stream sockets; empty: a fresh private temp directory. */
  socketDir: string
  quiet: boolean
  logLevel: string
  /** Private key file path, or empty for an ephemeral key. */
  identityFile: string
  datastoreDir: string
  pskFile: string
  hostAddrs: string[]
  announceAddrs: string[]
  noListenAddrs: boolean
  security: { noise: boolean, tls: boolean, plaintext: boolean }
  muxers: Array<'yamux' | 'mplex'>
  bootstrap: { enabled: boolean, peers: string[] }
  mdns: boolean
  dht: DhtMode
  connManager: { enabled: boolean, lowWater: number, highWater: number, gracePeriodMs: number }
  natPortMap: boolean
  autonat: boolean
  forceReachability?: 'public' | 'private'
  relay: {
    service: boolean
    autoRelay: boolean
    discovery: boolean
    trustedRelays: string[]
    maxCircuits: number
    maxReservations: number
    dataLimit: number
    timeLimitMs: number
  }
  pubsub: {
    enabled: boolean
    router: 'gossipsub' | 'floodsub'
    sign: boolean
    signStrict: boolean
    heartbeatIntervalMs: number
    heartbeatInitialDelayMs: number
  }
  echo: boolean
  metricsAddr: string
  streamAcceptTimeoutMs: number
  maxMessageSize: number
  idleTimeoutMs: number
  /** Resource caps (docs/limits.md); 0 means no limit where a limit is optional. */
  limits: {
    maxStreams: number
    maxStreamsPerPeer: number
    maxStreamsPerProtocol: number
    maxConnections: number
    maxSubscriptions: number
    httpBodyLimit: number
    requestTimeoutMs: number
  }
  /** Who may use the HTTP API (docs/security.md). */
  api: {
    /** A non-loopback TCP endpoint is allowed (a token is then required). */
    allowRemote: boolean
    /** The bearer token (`-apiToken`); empty: none, unless `tokenFile` is set. Never log it. */
    token: string
    /** A file holding the token (`-apiTokenFile`), read when the HTTP API starts. */
    tokenFile: string
  }
}

/** A configuration problem, reported like a bad flag (exit 2 from the CLI). */
export class ConfigError extends Error {
  readonly code = 'ERR_BAD_CONFIG'
  constructor (message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

const list = (s: string): string[] => s.split(',').map(x => x.trim()).filter(x => x.length > 0)

/** Checks a comma-separated multiaddr list; `needPeer` requires a `/p2p/<id>` part. */
function checkAddrs (flag: string, addrs: string[], needPeer = false): void {
  for (const a of addrs) {
    try {
      const ma = multiaddr(a)
      if (needPeer && ma.getComponents().every(c => c.name !== 'p2p')) throw new Error('it has no /p2p/<peer id>')
    } catch (err: any) {
      throw new ConfigError(`invalid value "${a}" for flag -${flag}: ${err.message}`)
    }
  }
}

/** Checks an endpoint flag (unix path length, supported forms) before anything binds. */
function checkEndpoint (flag: string, value: string, parse: (v: string) => unknown): void {
  if (value === '') return
  try { parse(value) } catch (err: any) { throw new ConfigError(`invalid value "${value}" for flag -${flag}: ${err.message}`) }
}

/** Checks `-apiToken` / `-apiTokenFile` (never both); the file is read when the HTTP API starts. */
function checkApiToken (token: string, file: string): void {
  if (token !== '' && file !== '') throw new ConfigError('-apiToken and -apiTokenFile cannot both be set')
  // a bearer token is one header token: no whitespace or control characters
  if (token !== '' && !/^[\x21-\x7e]+$/.test(token)) throw new ConfigError('the API token must be printable ASCII without spaces')
}

/**
 * The HTTP API listens beyond loopback only with -httpAllowRemote and a token; the p2pd
 * protocol has no authentication, so its TCP endpoint must always be loopback.
 */
function checkApiAccess (listen: string, httpListen: string, api: { allowRemote: boolean, token: string, tokenFile: string }): void {
  const http = httpListen !== '' ? parseEndpoint(httpListen) : undefined
  if (http?.kind === 'tcp' && !isLoopbackHost(http.host)) {
    if (!api.allowRemote) throw new ConfigError(`-httpListen ${httpListen} is not a loopback address: pass -httpAllowRemote (with -apiToken or -apiTokenFile) to serve the API to other hosts`)
    if (api.token === '' && api.tokenFile === '') throw new ConfigError('-httpAllowRemote requires -apiToken or -apiTokenFile')
  }
  const control = listen !== '' ? parseEndpoint(listen) : undefined
  if (control?.kind === 'tcp' && !isLoopbackHost(control.host)) {
    throw new ConfigError(`-listen ${listen} is not a loopback address: the p2pd protocol has no authentication (use a unix socket or 127.0.0.1)`)
  }
}

/** Builds the structured config from option values, checking combinations. */
export function configFromOptions (partial: Partial<OptionValues> = {}): DaemonConfig {
  const v = { ...defaultOptionValues(), ...partial }
  for (const key of Object.keys(partial)) {
    if (!OPTIONS_BY_NAME.has(key)) throw new ConfigError(`unknown option "${key}"`)
  }
  const b = (k: string): boolean => v[k] as boolean
  const n = (k: string): number => v[k] as number
  const s = (k: string): string => v[k] as string

  if (!b('noise') && !b('tls') && !b('plaintext')) throw new ConfigError('at least one of -noise, -tls, -plaintext must be enabled')
  if (b('forceReachabilityPublic') && b('forceReachabilityPrivate')) {
    throw new ConfigError('-forceReachabilityPublic and -forceReachabilityPrivate cannot both be set')
  }
  const muxers = list(s('muxer'))
  for (const m of muxers) {
    if (m !== 'yamux' && m !== 'mplex') throw new ConfigError(`invalid value "${s('muxer')}" for flag -muxer: unknown muxer "${m}" (yamux or mplex)`)
  }
  if (muxers.length === 0) throw new ConfigError('-muxer must name at least one muxer')
  const router = s('pubsubRouter')
  if (router !== 'gossipsub' && router !== 'floodsub') throw new ConfigError(`invalid value "${router}" for flag -pubsubRouter: gossipsub or floodsub`)
  if (n('connLo') < 0 || n('connHi') < n('connLo')) throw new ConfigError('-connHi must be at least -connLo, both non-negative')
  if (n('streamAcceptTimeout') <= 0) throw new ConfigError('-streamAcceptTimeout must be positive')
  if (n('persistentConnMaxMsgSize') < 1024) throw new ConfigError('-persistentConnMaxMsgSize must be at least 1024')
  const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']
  if (!levels.includes(s('logLevel'))) throw new ConfigError(`invalid value "${s('logLevel')}" for flag -logLevel: one of ${levels.join(', ')}`)

  checkEndpoint('listen', s('listen'), parseEndpoint)
  checkEndpoint('httpListen', s('httpListen'), parseEndpoint)
  for (const k of ['maxStreams', 'maxStreamsPerPeer', 'maxStreamsPerProtocol', 'maxConnections', 'maxSubscriptions']) {
    if (!Number.isInteger(n(k)) || n(k) < 0) throw new ConfigError(`-${k} must be a non-negative integer (0: no limit)`)
  }
  if (n('httpBodyLimit') < 1024) throw new ConfigError('-httpBodyLimit must be at least 1024')
  if (n('requestTimeout') <= 0) throw new ConfigError('-requestTimeout must be positive')
  checkApiToken(s('apiToken'), s('apiTokenFile'))
  const api = { allowRemote: b('httpAllowRemote'), token: s('apiToken'), tokenFile: s('apiTokenFile') }
  checkApiAccess(s('listen'), s('httpListen'), api)
  checkEndpoint('metricsAddr', s('metricsAddr'), parseHostPort)
  checkAddrs('hostAddrs', list(s('hostAddrs')))
  checkAddrs('announceAddrs', list(s('announceAddrs')))
  checkAddrs('bootstrapPeers', list(s('bootstrapPeers')), true)
  checkAddrs('trustedRelays', list(s('trustedRelays')), true)
  if (b('autoRelay') && !b('relay')) throw new ConfigError('-autoRelay needs -relay (as in p2pd)')

  // p2pd precedence: -dht > -dhtClient > -dhtServer
  const dht: DhtMode = b('dht') ? 'auto' : b('dhtClient') ? 'client' : b('dhtServer') ? 'server' : 'off'
  const forceReachability = b('forceReachabilityPublic') ? 'public' : b('forceReachabilityPrivate') ? 'private' : undefined

  return {
    listen: s('listen'),
    httpListen: s('httpListen'),
    socketDir: s('socketDir'),
    quiet: b('q'),
    logLevel: s('logLevel'),
    identityFile: s('id'),
    datastoreDir: s('datastore'),
    pskFile: s('psk'),
    hostAddrs: list(s('hostAddrs')),
    announceAddrs: list(s('announceAddrs')),
    noListenAddrs: b('noListenAddrs'),
    security: { noise: b('noise'), tls: b('tls'), plaintext: b('plaintext') },
    muxers: muxers as Array<'yamux' | 'mplex'>,
    bootstrap: { enabled: b('b'), peers: list(s('bootstrapPeers')) },
    mdns: b('mdns'),
    dht,
    connManager: { enabled: b('connManager'), lowWater: n('connLo'), highWater: n('connHi'), gracePeriodMs: n('connGrace') },
    natPortMap: b('natPortMap'),
    autonat: b('autonat'),
    forceReachability,
    relay: {
      service: b('relay') && b('relayService'),
      autoRelay: b('autoRelay'),
      discovery: b('relayDiscovery'),
      trustedRelays: list(s('trustedRelays')),
      maxCircuits: n('relayMaxCircuits'),
      maxReservations: n('relayMaxReservations'),
      dataLimit: n('relayDataLimit'),
      timeLimitMs: n('relayTimeLimit')
    },
    pubsub: {
      enabled: b('pubsub'),
      router,
      sign: b('pubsubSign'),
      signStrict: b('pubsubSignStrict'),
      heartbeatIntervalMs: n('gossipsubHeartbeatInterval'),
      heartbeatInitialDelayMs: n('gossipsubHeartbeatInitialDelay')
    },
    echo: b('echo'),
    metricsAddr: s('metricsAddr'),
    streamAcceptTimeoutMs: n('streamAcceptTimeout'),
    maxMessageSize: n('persistentConnMaxMsgSize'),
    idleTimeoutMs: n('idleTimeout'),
    limits: {
      maxStreams: n('maxStreams'),
      maxStreamsPerPeer: n('maxStreamsPerPeer'),
      maxStreamsPerProtocol: n('maxStreamsPerProtocol'),
      maxConnections: n('maxConnections'),
      maxSubscriptions: n('maxSubscriptions'),
      httpBodyLimit: n('httpBodyLimit'),
      requestTimeoutMs: n('requestTimeout')
    },
    api
  }
}
