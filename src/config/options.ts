/**
 * The one table of daemon options. It drives the Go-style flag parser, `--help`, the JSON
 * config file and the docs, so a flag exists in exactly one place.
 *
 * Names, kinds and defaults of p2pd's own flags are those of go-libp2p-daemon v0.9.2
 * (`p2pd/main.go`) and its hivemind fork; our additions follow the same camelCase style.
 */

/** How a flag's value is written on the command line. */
export type OptionKind = 'bool' | 'string' | 'int' | 'uint' | 'duration'

/** Where an option comes from, for documentation. */
export type OptionOrigin = 'p2pd' | 'hivemind' | 'libp2pd'

/** One command line option. */
export interface OptionSpec {
  /** Flag name without dashes, exactly as p2pd spells it. */
  name: string
  kind: OptionKind
  /** Default value: booleans, numbers (durations in milliseconds) or strings. */
  default: boolean | number | string
  /** One line of help text. */
  help: string
  origin: OptionOrigin
  /** Accepted for compatibility but has no effect (the help says why). */
  noEffect?: boolean
}

const p2pd = (name: string, kind: OptionKind, def: OptionSpec['default'], help: string, noEffect = false): OptionSpec =>
  ({ name, kind, default: def, help, origin: 'p2pd', noEffect })
const hive = (name: string, kind: OptionKind, def: OptionSpec['default'], help: string, noEffect = false): OptionSpec =>
  ({ name, kind, default: def, help, origin: 'hivemind', noEffect })
const ours = (name: string, kind: OptionKind, def: OptionSpec['default'], help: string): OptionSpec =>
  ({ name, kind, default: def, help, origin: 'libp2pd' })

const SECOND = 1000

/** Every option the daemon accepts, in the order `--help` lists them. */
export const OPTIONS: readonly OptionSpec[] = [
  // control endpoints
  p2pd('listen', 'string', '/unix/tmp/p2pd.sock', 'p2pd control endpoint multiaddr (/unix/<path> or /ip4/127.0.0.1/tcp/<port>)'),
  ours('httpListen', 'string', '/unix/tmp/libp2pd-http.sock', 'HTTP API endpoint multiaddr (/unix/<path> or /ip4/127.0.0.1/tcp/<port>)'),
  ours('socketDir', 'string', '', 'directory for per-stream unix sockets (created 0700; default: a new private directory under the system temp dir)'),
  p2pd('q', 'bool', false, 'quiet: do not print the startup banner'),
  ours('logLevel', 'string', 'info', 'log level of the daemon\'s own log on stderr: trace, debug, info, warn, error, fatal, silent'),
  ours('version', 'bool', false, 'print the version and exit'),
  // identity and state
  p2pd('id', 'string', '', 'private key file (protobuf-encoded libp2p private key); ephemeral key if empty'),
  ours('datastore', 'string', '', 'directory of a persistent datastore (peerstore, DHT records); in memory if empty'),
  ours('psk', 'string', '', 'pre-shared key file for a private network (go-ipfs swarm.key format)'),
  // addresses
  p2pd('hostAddrs', 'string', '', 'comma-separated libp2p listen multiaddrs (default /ip4/0.0.0.0/tcp/0,/ip4/0.0.0.0/udp/0/quic-v1)'),
  p2pd('announceAddrs', 'string', '', 'comma-separated multiaddrs to announce instead of the listen addresses'),
  p2pd('noListenAddrs', 'bool', false, 'listen on no address (reachable only through relays)'),
  // security and muxers
  p2pd('noise', 'bool', true, 'enable the noise security transport'),
  p2pd('tls', 'bool', true, 'enable the TLS 1.3 security transport'),
  p2pd('plaintext', 'bool', false, 'enable the plaintext (insecure) transport: a remote that picks it can claim any peer ID (p2pd: on by default)'),
  p2pd('muxer', 'string', 'yamux', 'stream multiplexer: yamux, mplex, or a comma-separated preference list'),
  // discovery and routing
  p2pd('b', 'bool', false, 'connect to bootstrap peers (and bootstrap the DHT)'),
  p2pd('bootstrapPeers', 'string', '', 'comma-separated bootstrap multiaddrs with /p2p/<id>'),
  ours('mdns', 'bool', false, 'discover peers on the local network with mDNS'),
  p2pd('dht', 'bool', false, 'enable the kad-DHT (mode chosen automatically from reachability)'),
  p2pd('dhtClient', 'bool', false, 'enable the kad-DHT in client mode'),
  p2pd('dhtServer', 'bool', false, 'enable the kad-DHT in server mode'),
  // connection manager
  p2pd('connManager', 'bool', false, 'enable connection-count limits (trim to connLo above connHi)'),
  p2pd('connLo', 'int', 256, 'connection manager low water mark'),
  p2pd('connHi', 'int', 512, 'connection manager high water mark'),
  p2pd('connGrace', 'duration', 120 * SECOND, 'connection manager grace period for new connections'),
  // NAT traversal and relay
  p2pd('natPortMap', 'bool', false, 'map the listen port on the router with UPnP'),
  p2pd('autonat', 'bool', false, 'run the AutoNAT service for other peers (and DCUtR hole punching)'),
  p2pd('forceReachabilityPublic', 'bool', false, 'assume this node is publicly reachable'),
  p2pd('forceReachabilityPrivate', 'bool', false, 'assume this node is not publicly reachable'),
  p2pd('relay', 'bool', true, 'act as a circuit relay v2 service for other peers'),
  p2pd('relayActive', 'bool', false, 'circuit relay v1 option', true),
  p2pd('relayHop', 'bool', false, 'circuit relay v1 option', true),
  p2pd('relayHopLimit', 'int', 0, 'circuit relay v1 option', true),
  p2pd('relayDiscovery', 'bool', false, 'discover relays in the background (with -autoRelay)'),
  p2pd('autoRelay', 'bool', false, 'reserve a slot on relays when not publicly reachable'),
  hive('trustedRelays', 'string', '', 'comma-separated relay multiaddrs to reserve slots on (with -autoRelay)'),
  hive('relayService', 'bool', true, 'act as a relay for others (hivemind spelling of -relay)'),
  hive('relayMaxCircuits', 'int', 16, 'relay service: max open relayed connections per peer'),
  hive('relayMaxReservations', 'int', 128, 'relay service: max reservations'),
  hive('relayBufferSize', 'int', 1 << 24, 'relay service: buffer bytes', true),
  hive('relayDataLimit', 'int', 2 ** 32, 'relay service: bytes per direction before reset (0: unlimited)'),
  hive('relayTimeLimit', 'duration', 30 * 60 * SECOND, 'relay service: max duration of a relayed connection'),
  // pubsub
  p2pd('pubsub', 'bool', false, 'enable pubsub'),
  p2pd('pubsubRouter', 'string', 'gossipsub', 'pubsub router: gossipsub or floodsub'),
  p2pd('pubsubSign', 'bool', true, 'sign pubsub messages'),
  p2pd('pubsubSignStrict', 'bool', true, 'reject unsigned pubsub messages (js-libp2p has no lax mode: signing and verification both follow -pubsubSign)', true),
  p2pd('gossipsubHeartbeatInterval', 'duration', 0, 'gossipsub heartbeat interval (0: library default)'),
  p2pd('gossipsubHeartbeatInitialDelay', 'duration', 0, 'gossipsub heartbeat initial delay (js-libp2p gossipsub has a fixed 100ms)', true),
  // services
  p2pd('echo', 'bool', true, 'serve /echo/1.0.0'),
  p2pd('metricsAddr', 'string', '', 'serve Prometheus metrics at http://<addr>/metrics (host:port or multiaddr)'),
  p2pd('pprof', 'bool', false, 'Go profiler; not available in Node: use node --cpu-prof or --inspect', true),
  p2pd('pprofPort', 'uint', 0, 'Go profiler port', true),
  hive('quic', 'bool', true, 'deprecated: QUIC is always enabled', true),
  // streams and limits
  ours('streamAcceptTimeout', 'duration', 10 * SECOND, 'reset a stream whose socket nobody connects to within this time'),
  hive('persistentConnMaxMsgSize', 'int', 4 << 20, 'max control / persistent-connection / unary message size in bytes'),
  hive('idleTimeout', 'duration', 0, 'exit if no persistent connection is opened in this time, and when the last one closes (0: off)'),
  ours('maxStreams', 'int', 0, 'max open streams, both planes and directions, pending accepts included (0: no limit)'),
  ours('maxStreamsPerPeer', 'int', 0, 'max open streams with one peer (0: no limit)'),
  ours('maxStreamsPerProtocol', 'int', 0, 'max open streams on one protocol (0: no limit)'),
  ours('maxConnections', 'int', 0, 'max libp2p connections: dials to new peers are refused, and js-libp2p refuses inbound ones (0: no limit beyond -connManager)'),
  ours('maxSubscriptions', 'int', 1024, 'max concurrent pubsub subscriptions and event streams, both planes (0: no limit)'),
  ours('httpBodyLimit', 'int', 1 << 20, 'max HTTP request body in bytes (413 beyond)'),
  ours('requestTimeout', 'duration', 30 * SECOND, 'max time to receive a whole request (HTTP, or one p2pd control message; also idle p2pd control connections): slow clients are disconnected'),
  // access to the HTTP API (docs/security.md)
  ours('httpAllowRemote', 'bool', false, 'allow a non-loopback TCP -httpListen (requires -apiToken or -apiTokenFile)'),
  ours('apiToken', 'string', '', 'bearer token every HTTP request must carry (Authorization: Bearer <token>); prefer -apiTokenFile, command lines are visible to local users'),
  ours('apiTokenFile', 'string', '', 'file holding the HTTP API bearer token (surrounding whitespace trimmed)'),
  // configuration files
  p2pd('f', 'string', '', 'read a JSON config file (p2pd format); flags given explicitly still apply on top'),
  p2pd('i', 'bool', false, 'read a JSON config from standard input')
]

/** Options by name. */
export const OPTIONS_BY_NAME: ReadonlyMap<string, OptionSpec> = new Map(OPTIONS.map(o => [o.name, o]))

/** The values of all options after parsing: every option has a value (its default if not given). */
export type OptionValues = Record<string, boolean | number | string>

/** The defaults of every option. */
export function defaultOptionValues (): OptionValues {
  return Object.fromEntries(OPTIONS.map(o => [o.name, o.default]))
}
