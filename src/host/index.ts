/**
 * Builds the js-libp2p node from the daemon's config: transports, security, muxers,
 * services and identity. Nothing here starts listening sockets of the daemon's own planes.
 */
import { quic } from '@chainsafe/libp2p-quic'
import { autoNAT } from '@libp2p/autonat'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { echo } from '@libp2p/echo'
import { identify, identifyPush } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'
import { buildRouting } from './routing.js'
import { buildPubsub } from './pubsub.js'
import { reattachPubsub } from './pubsub-reattach.js'
import { connectFloodsubOnce } from './floodsub-connect-once.js'
import { loadPrivateKey, loadPsk } from './identity.js'
import { openDatastore } from './datastore.js'
import { AGENT_VERSION } from './version.js'
import { connectionManagerInit, watchConnectionCount } from './connmgr.js'
import { ensureGlobalWebSocket } from './websocket-global.js'
import { mdnsDiscovery } from './mdns.js'
import { coalescingTcp } from './tcp-coalesce.js'
import { leanNoise } from './noise-receive.js'
import { withStreamNegotiationDeadlines } from './negotiation-deadline.js'
import { leanYamux } from './yamux-window.js'
import { shortcutProtocolMerges } from './protocol-merges.js'
import { patchHandlerLookups } from './unhandled-lookup.js'
import { componentLogger } from './quiet-logger.js'
import type { DaemonConfig } from '../config/index.js'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

export { VERSION, AGENT_VERSION, PROTOCOL_VERSION } from './version.js'

/** The libp2p node the daemon runs; services are looked up by name and may be absent. */
export type Host = Libp2p<Record<string, unknown>>

/** What `createHost` returns: the node and the resources it owns. */
export interface HostHandle {
  node: Host
  /** Closes what the node does not own itself (the datastore). Call after `node.stop()`. */
  close(): Promise<void>
}

/** A host setting that cannot work (reported like a bad config). */
export class HostConfigError extends Error {
  readonly code = 'ERR_BAD_HOST_CONFIG'
  constructor (message: string) {
    super(message)
    this.name = 'HostConfigError'
  }
}

/** Per-connection stream cap of the muxers. */
export const MAX_STREAMS_PER_CONNECTION = 20_000

/** The default listen addresses when `-hostAddrs` is not given (as p2pd: every interface, TCP and QUIC). */
export const DEFAULT_HOST_ADDRS = ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/udp/0/quic-v1']

/** Options of {@link createHost}. */
export interface CreateHostOptions {
  /** The node's identity. @default the config's identity file, else a new key */
  privateKey?: PrivateKey
  /**
   * Protocols whose accepted streams always carry a response: an optimistic dialer's
   * multistream answer waits for it (`multistream-echo.ts`). @default none
   */
  holdAnswerFor?: (protocol: string) => boolean
}

/** Builds (but does not start) the libp2p node described by `config`. */
export async function createHost (config: DaemonConfig, options: CreateHostOptions = {}): Promise<HostHandle> {
  ensureGlobalWebSocket()
  const privateKey = options.privateKey ?? (config.identityFile !== '' ? await loadPrivateKey(config.identityFile) : undefined)
  const datastore: Datastore | undefined = config.datastoreDir !== '' ? await openDatastore(config.datastoreDir) : undefined
  const psk = config.pskFile !== '' ? await loadPsk(config.pskFile) : undefined

  let listen = config.noListenAddrs ? [] : (config.hostAddrs.length > 0 ? [...config.hostAddrs] : [...DEFAULT_HOST_ADDRS])
  if (psk !== undefined) {
    // QUIC brings its own encryption and cannot carry a pre-shared-key private network
    const quicAddrs = listen.filter(a => a.includes('/quic'))
    if (config.hostAddrs.length > 0 && quicAddrs.length > 0) {
      throw new HostConfigError(`-psk cannot be used with QUIC listen addresses (${quicAddrs.join(', ')}): QUIC has its own encryption`)
    }
    listen = listen.filter(a => !a.includes('/quic'))
  }
  // js-libp2p makes relay reservations for `/p2p-circuit` listen addresses
  // a node forced public needs no reservation (p2pd's autorelay only reserves when private)
  if (config.relay.autoRelay && config.forceReachability !== 'public') {
    for (const relay of config.relay.trustedRelays) listen.push(`${relay}/p2p-circuit`)
    if (config.relay.trustedRelays.length === 0 || config.relay.discovery) listen.push('/p2p-circuit')
  }

  const services: Record<string, (components: any) => unknown> = {
    identify: identify({ runOnLimitedConnection: true }),
    identifyPush: identifyPush({ runOnLimitedConnection: true }),
    ping: ping({ runOnLimitedConnection: true }),
    dcutr: dcutr()
  }
  // js-libp2p's default of 32 streams per connection is far below what programs open through a daemon
  if (config.echo) services.echo = echo({ runOnLimitedConnection: true, maxInboundStreams: 1024, maxOutboundStreams: 1024 })
  // UPnP needs AutoNAT to confirm the mapped address, so -natPortMap brings it along
  if (config.autonat || config.natPortMap) services.autonat = autoNAT()
  // without a router the gateway search just times out in the background; start never waits
  if (config.natPortMap) services.upnp = (await import('@libp2p/upnp-nat')).uPnPNAT()
  if (config.relay.service) {
    services.relay = circuitRelayServer({
      reservations: {
        maxReservations: config.relay.maxReservations,
        defaultDataLimit: config.relay.dataLimit > 0 ? BigInt(config.relay.dataLimit) : undefined,
        defaultDurationLimit: config.relay.timeLimitMs > 0 ? config.relay.timeLimitMs : undefined
      }
    })
  }
  Object.assign(services, await buildRouting(config), await buildPubsub(config))

  const peerDiscovery: Array<(components: any) => any> = []
  if (config.mdns) peerDiscovery.push(await mdnsDiscovery())
  // -b is handled by ./bootstrap.ts with p2pd's semantics (tagged, not protected from the
  // connection manager, topped up every 15 min), not by @libp2p/bootstrap's keep-alive

  // optional modules are loaded only when configured: module loading is most of the
  // start-up CPU, and tests and harnesses start many daemons
  const tls = config.security.tls ? (await import('@libp2p/tls')).tls : undefined
  const plaintext = config.security.plaintext ? (await import('@libp2p/plaintext')).plaintext : undefined
  const mplex = config.muxers.includes('mplex') ? (await import('@libp2p/mplex')).mplex : undefined
  const prometheusMetrics = config.metricsAddr !== '' ? (await import('@libp2p/prometheus-metrics')).prometheusMetrics : undefined

  const node = await createLibp2p({
    start: false,
    privateKey,
    datastore,
    nodeInfo: { userAgent: AGENT_VERSION },
    logger: componentLogger(),
    // Dead-peer detection: a ping every 10 s, and a connection whose ping fails is aborted
    // (a silent link cut is otherwise noticed only by TCP, minutes later). js-libp2p's
    // adaptive ping timeout starts at 5 s, which a daemon moving thousands of streams on a
    // loaded machine can miss; 15 s at least keeps detection under 30 s without false kills.
    connectionMonitor: { abortConnectionOnPingFailure: true, pingTimeout: { minTimeout: 15_000, maxTimeout: 60_000 } },
    addresses: {
      listen,
      announce: config.announceAddrs.length > 0 ? config.announceAddrs : undefined
    },
    transports: [
      coalescingTcp(),
      webSockets(),
      ...(psk === undefined ? [quic()] : []),
      circuitRelayTransport()
    ],
    connectionEncrypters: [
      ...(config.security.noise ? [leanNoise()] : []),
      ...(tls !== undefined ? [tls()] : []),
      ...(plaintext !== undefined ? [plaintext()] : [])
    ],
    // the daemon multiplexes many programs' streams over one connection: raise the
    // per-connection stream caps (the daemon's own limits apply in the stream table)
    streamMuxers: config.muxers.map(m => withStreamNegotiationDeadlines(m === 'yamux'
      ? leanYamux({ maxInboundStreams: MAX_STREAMS_PER_CONNECTION, maxOutboundStreams: MAX_STREAMS_PER_CONNECTION }, { holdAnswerFor: options.holdAnswerFor })
      : (mplex as NonNullable<typeof mplex>)({ maxInboundStreams: MAX_STREAMS_PER_CONNECTION, maxOutboundStreams: MAX_STREAMS_PER_CONNECTION } as any))),
    connectionProtector: psk,
    peerDiscovery,
    connectionManager: connectionManagerInit(config),
    metrics: prometheusMetrics?.({ preserveExistingMetrics: true }),
    services: services as any
  } as any)

  const host = node as unknown as Host
  const unwatch = watchConnectionCount(host, config)
  const restoreMerges = shortcutProtocolMerges(node.peerStore, node)
  // (`components` is not in the public type; an unexpected shape is left alone)
  patchHandlerLookups((node as unknown as { components?: { registrar?: unknown } }).components?.registrar)
  // (without pubsub, or with an unexpected router shape, these install nothing; before
  // reattachPubsub, whose calls go through the serialized onConnect too)
  connectFloodsubOnce((node.services as { pubsub?: unknown }).pubsub)
  const pubsubReattach = reattachPubsub(node, (node.services as { pubsub?: unknown }).pubsub)
  return {
    node: host,
    async close () {
      unwatch()
      restoreMerges()
      pubsubReattach.stop()
      await (datastore as { close?: () => Promise<void> } | undefined)?.close?.()
    }
  }
}
