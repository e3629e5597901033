/**
 * `Libp2pdClient`: one typed method for every route of the libp2pd HTTP API. Peer IDs and
 * multiaddrs are strings; every method takes `{ signal, timeout }` and fails with a named
 * `Libp2pdError`. Streams are Node sockets (`openStream`, `handle`); long results are
 * async iterables that end cleanly on abort or `break`.
 */
import { CallbackServers } from './callback-server.js'
import { daemonBounded, seg } from './codec.js'
import { Libp2pdError, StreamNotFoundError } from './errors.js'
import { connectStream } from './stream-socket.js'
import { HttpTransport, parseEndpoint } from './transport.js'
import { Subscription } from './subscription.js'
import { connmgrApi, dhtApi, peerstoreApi, pubsubApi } from './services.js'
import type { CallbackKind, ErrorReporter, StreamHandler } from './callback-server.js'
import type { ConnmgrApi, DhtApi, PeerstoreApi, PubsubApi } from './services.js'
import type { Libp2pdStream, StreamOps } from './stream-socket.js'
import type { Endpoint } from './transport.js'
import type { CallOptions, ConnectionInfo, DaemonEvent, HandlerInfo, Identity, PeerInfo, StreamInfo, VersionInfo } from './types.js'

/** How to reach the daemon: its unix socket, or a URL / the banner's `HTTP API:` multiaddr. */
export type ClientOptions = ({ socketPath: string, url?: undefined } | { url: string, socketPath?: undefined }) & {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string
  /** Default timeout of a call in milliseconds. @default 60000 */
  timeout?: number
  /** Failures with no caller to tell (a stream handler threw). @default a `console.error` line */
  onError?: ErrorReporter
}

/** Options of `openStream`. */
export interface OpenStreamOptions extends CallOptions {
  /** A multiaddr to dial the peer at (otherwise the daemon uses what it knows). */
  address?: string
}

/** Options of `handle`. */
export interface HandleOptions extends CallOptions {
  /** Share the protocol's incoming streams round-robin with other callbacks instead of replacing them. */
  balanced?: boolean
  /** Serve the callback on a unix socket (default) or on loopback TCP. */
  callback?: CallbackKind
}

/** A client of one libp2pd daemon. */
export class Libp2pdClient {
  /** The daemon's HTTP API endpoint. */
  readonly endpoint: Endpoint
  readonly dht: DhtApi
  readonly pubsub: PubsubApi
  readonly connmgr: ConnmgrApi
  readonly peerstore: PeerstoreApi
  /** The spec's peer routes. */
  readonly peers: {
    /** Adds a peer's addresses to the peerstore. */
    add: (peerID: string, addresses: string[], o?: CallOptions) => Promise<void>
    /** Every peer in the peerstore. */
    list: (o?: CallOptions) => Promise<PeerInfo[]>
    /** One peer; `PeerNotFoundError` if the daemon knows nothing about it. */
    get: (peerID: string, o?: CallOptions) => Promise<PeerInfo>
  }

  /** Open streams of the daemon (from any program). */
  readonly streams: {
    list: (o?: CallOptions) => Promise<StreamInfo[]>
    get: (id: string, o?: CallOptions) => Promise<StreamInfo>
    /** Resets a stream: the remote sees a reset. */
    reset: (id: string, o?: CallOptions) => Promise<void>
  }

  private readonly http: HttpTransport
  private readonly callbacks: CallbackServers
  private readonly streamOps: StreamOps
  /** Our callback base per protocol we registered, for `unhandle`. */
  private readonly registered = new Map<string, string>()

  constructor (options: ClientOptions) {
    this.endpoint = options.socketPath !== undefined ? { kind: 'unix', path: options.socketPath } : parseEndpoint(options.url)
    this.http = new HttpTransport(this.endpoint, options.token, options.timeout ?? 60_000)
    const report: ErrorReporter = options.onError ?? ((err, info) => { console.error(`libp2pd client: stream ${info?.id ?? '?'} (${info?.protocol ?? '?'}): ${err.message}`) })
    const http = this.http
    this.streams = {
      list: async (o = {}) => await http.json({ method: 'GET', path: '/api/daemon/streams' }, o),
      get: async (id, o = {}) => await http.json({ method: 'GET', path: `/api/daemon/streams/${seg(id)}` }, o),
      reset: async (id, o = {}) => { await http.json({ method: 'DELETE', path: `/api/daemon/streams/${seg(id)}` }, o) }
    }
    this.peers = {
      add: async (peerID, addresses, o = {}) => { await http.json({ method: 'POST', path: '/api/daemon/peers', body: { peerID, addresses } }, o) },
      list: async (o = {}) => await http.json({ method: 'GET', path: '/api/daemon/peers' }, o),
      get: async (peerID, o = {}) => await http.json({ method: 'GET', path: `/api/daemon/peers/${seg(peerID)}` }, o)
    }
    this.streamOps = {
      reset: async id => { await this.streams.reset(id, { timeout: 5000 }) },
      exists: async id => await this.streams.get(id, { timeout: 5000 }).then(() => true, err => {
        if (err instanceof StreamNotFoundError) return false
        throw err
      })
    }
    this.callbacks = new CallbackServers(this.streamOps, report)
    this.dht = dhtApi(http)
    this.pubsub = pubsubApi(http)
    this.connmgr = connmgrApi(http)
    this.peerstore = peerstoreApi(http)
  }

  /** The daemon's peer ID, listen addresses and protocols. */
  async identity (o: CallOptions = {}): Promise<Identity> {
    return await this.http.json({ method: 'GET', path: '/api/daemon/identity' }, o)
  }

  /** The daemon's name, version and protocol version. */
  async version (o: CallOptions = {}): Promise<VersionInfo> {
    return await this.http.json({ method: 'GET', path: '/api/daemon/version' }, o)
  }

  /** Connects to a peer, at `addresses` if given, otherwise where the daemon knows it is. */
  async connect (peerID: string, addresses: string[] = [], o: CallOptions = {}): Promise<void> {
    const { seconds, limits } = daemonBounded(o)
    await this.http.json({ method: 'POST', path: `/api/daemon/peers/${seg(peerID)}/connect`, body: { addresses, timeout: seconds } }, limits)
  }

  /** Closes every connection to a peer. */
  async disconnect (peerID: string, o: CallOptions = {}): Promise<void> {
    await this.http.json({ method: 'POST', path: `/api/daemon/peers/${seg(peerID)}/disconnect` }, o)
  }

  /** Live connections. */
  async connections (o: CallOptions = {}): Promise<ConnectionInfo[]> {
    return await this.http.json({ method: 'GET', path: '/api/daemon/connections' }, o)
  }

  /**
   * Opens a stream to `peerID` speaking `protocol` (or the first of `protocols` the peer
   * supports) and connects to it. The result is a `Duplex` with the daemon's `Stream` as
   * `stream.info`: `end()` half-closes, `destroy()` resets.
   */
  async openStream (peerID: string, protocols: string | string[], o: OpenStreamOptions = {}): Promise<Libp2pdStream> {
    const list = typeof protocols === 'string' ? [protocols] : protocols
    const { seconds, limits } = daemonBounded(o)
    const info = await this.http.json<StreamInfo>({
      method: 'POST',
      path: `/api/daemon/peers/${seg(peerID)}/streams`,
      body: { protocols: list, address: o.address, timeout: seconds }
    }, limits)
    if (typeof info?.socketPath !== 'string' || typeof info.id !== 'string') {
      // a stream we cannot reach is of no use to anyone: let the daemon reset it, if it has one
      if (typeof info?.id === 'string') void this.streamOps.reset(info.id).catch(() => {})
      throw new Libp2pdError('the daemon answered the stream open without a socketPath and id', 'ERR_BAD_RESPONSE', 201)
    }
    return await connectStream(info, this.streamOps, o.signal)
  }

  /**
   * Serves `protocol(s)`: every incoming stream is passed to `handler(stream, info)`,
   * concurrently, until `unhandle` or `close`. A handler that throws resets its stream.
   */
  async handle (protocols: string | string[], handler: StreamHandler, o: HandleOptions = {}): Promise<void> {
    const list = typeof protocols === 'string' ? [protocols] : protocols
    const base = await this.callbacks.base(o.callback ?? 'unix')
    // the handler must be in place before the daemon can send the first stream
    for (const p of list) this.callbacks.set(p, handler)
    try {
      await this.http.json({ method: 'POST', path: '/api/daemon/handlers', body: { protocols: list, callback: base, balanced: o.balanced } }, o)
    } catch (err) {
      for (const p of list) if (!this.registered.has(p)) this.callbacks.delete(p)
      throw err
    }
    for (const p of list) this.registered.set(p, base)
  }

  /** Stops serving a protocol (only this client's callback is removed); running streams continue. */
  async unhandle (protocol: string, o: CallOptions = {}): Promise<void> {
    const base = this.registered.get(protocol)
    await this.http.json({ method: 'DELETE', path: `/api/daemon/handlers/${seg(protocol)}`, query: { callback: base } }, o)
    this.registered.delete(protocol)
    this.callbacks.delete(protocol)
  }

  /** The daemon's registered protocols and their callbacks (all programs). */
  async listHandlers (o: CallOptions = {}): Promise<HandlerInfo[]> {
    return await this.http.json({ method: 'GET', path: '/api/daemon/handlers' }, o)
  }

  /**
   * Daemon events (peer connected/disconnected, stream opened/closed). Await `ready()` to
   * be sure no later event is missed; iterate, and `close()` (or abort, or `break`) when done.
   */
  events (o: { signal?: AbortSignal } = {}): Subscription<DaemonEvent> {
    return new Subscription(this.http, { method: 'GET', path: '/api/daemon/events' }, o.signal, l => l?.type === 'READY', l => l as DaemonEvent)
  }

  /** The daemon's OpenAPI 3 document. */
  async openapi (o: CallOptions = {}): Promise<Record<string, unknown>> {
    return await this.http.json({ method: 'GET', path: '/api/openapi.json' }, o)
  }

  /**
   * Deregisters this client's handlers (best effort), stops its callback servers, resets
   * streams they still serve, and drops pooled connections. Streams from `openStream`
   * belong to the caller and stay open.
   */
  async close (): Promise<void> {
    const protocols = [...this.registered.keys()]
    await Promise.allSettled(protocols.map(async p => { await this.unhandle(p, { timeout: 5000 }) }))
    this.registered.clear()
    await this.callbacks.close()
    this.http.close()
  }
}

/** Creates a client of the daemon at `socketPath` or `url`. No request is made until a method is called. */
export function createClient (options: ClientOptions): Libp2pdClient {
  return new Libp2pdClient(options)
}
