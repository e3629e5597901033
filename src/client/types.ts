/**
 * The data types of the libp2pd HTTP API as the client library sees them. Peer IDs and
 * multiaddrs are plain strings (the client imports nothing from libp2p); binary values
 * arrive as `Uint8Array` (the wire carries them as base64).
 */

/** Options every client call takes. */
export interface CallOptions {
  /** Aborts the call; a call aborted this way rejects with `AbortError`. */
  signal?: AbortSignal
  /**
   * Milliseconds before the call fails with `TimeoutError`. For operations the daemon
   * itself bounds (connect, open a stream, DHT) the daemon is given this timeout too.
   */
  timeout?: number
}

/** Which way a stream or connection was opened. */
export type Direction = 'INCOMING' | 'OUTGOING'

/** The spec's `Stream`, plus `id`. */
export interface StreamInfo {
  /** Unique for the daemon's lifetime; `DELETE /api/daemon/streams/<id>` resets it. */
  id: string
  localAddr: string
  localID: string
  remoteAddr: string
  remoteID: string
  /** ISO-8601 timestamp. */
  createdAt: string
  direction: Direction
  /** The unix socket that carries the stream's bytes (connected once, by the client). */
  socketPath: string
  protocol: string
}

/** The spec's `Peer`. */
export interface PeerInfo {
  peerID: string
  addresses: string[]
  connected?: boolean
  streams?: StreamInfo[]
}

/** `GET /api/daemon/identity`. */
export interface Identity {
  peerID: string
  addresses: string[]
  protocols: string[]
  agentVersion: string
  version: string
}

/** `GET /api/daemon/version`. */
export interface VersionInfo {
  name: string
  version: string
  protocolVersion: string
}

/** One live connection. */
export interface ConnectionInfo {
  peerID: string
  address: string
  direction: Direction
  limited: boolean
}

/** One registered protocol handler of the daemon. */
export interface HandlerInfo {
  protocol: string
  callbacks: string[]
}

/** A peer found by the DHT. */
export interface FoundPeer {
  peerID: string
  addresses: string[]
}

/** A pubsub message. */
export interface PubsubMessage {
  topic: string
  data: Uint8Array
  from?: string
  seqno?: Uint8Array
  signature?: Uint8Array
  /** The sender's public key, protobuf-encoded. */
  key?: Uint8Array
}

/** The kinds of daemon events. */
export type DaemonEventType = 'PEER_CONNECTED' | 'PEER_DISCONNECTED' | 'STREAM_OPENED' | 'STREAM_CLOSED'

/** One event of `GET /api/daemon/events`. */
export interface DaemonEvent {
  type: DaemonEventType | string
  peerID?: string
  /** ISO-8601 timestamp. */
  at?: string
  addr?: string
  protocol?: string
  streamId?: string
  direction?: string
  error?: string
}

/** `GET /api/daemon/peerstore/:id`. */
export interface PeerRecord {
  peerID: string
  addresses: string[]
  protocols: string[]
  /** Protobuf-encoded public key. */
  publicKey?: Uint8Array
  agentVersion?: string
  protocolVersion?: string
  tags: Record<string, number>
}

/** Bytes, or a string that is sent as its UTF-8 encoding. */
export type BytesLike = Uint8Array | string
