/**
 * The HTTP API's data types as TypeBox schemas. The same objects validate requests,
 * serialize responses and generate the OpenAPI document, so the three cannot drift apart.
 * Names and fields of `Peer`, `Stream`, `Address`, `Error` and `Direction` are the spec's.
 */
import { Type } from 'typebox'
import { MAX_ADDRS_PER_REQUEST } from '../../core/limits.js'
import { MAX_PROTOCOLS_PER_REQUEST } from '../../streams/handlers.js'
import type { Static, TSchema } from 'typebox'

/** A base58btc peer ID (CIDv1 accepted on input); checked by `parsePeerId`. */
export const PeerIdString = Type.String({ minLength: 1, maxLength: 256, description: 'peer ID, base58btc (CIDv1 accepted on input)' })
/** A multiaddr string; checked by `parseMultiaddr`. */
export const MultiaddrString = Type.String({ minLength: 1, maxLength: 1024, description: 'multiaddr' })
/** A protocol ID; checked by `checkProtocol`. */
export const ProtocolString = Type.String({ minLength: 1, maxLength: 1024, description: 'protocol ID, e.g. /echo/1.0.0' })
/** Binary data as base64. */
export const Base64String = Type.String({ maxLength: 1_400_000, description: 'base64 (standard or URL alphabet)' })
/** A timeout in seconds (default 60). */
export const TimeoutSeconds = Type.Number({ exclusiveMinimum: 0, maximum: 600, description: 'timeout in seconds (default 60, at most 600)' })

/** The spec's `Error`, plus a stable `code`. */
export const ErrorSchema = Type.Object({
  error: Type.String({ description: 'human-readable message' }),
  code: Type.String({ description: 'stable machine-readable code, e.g. ERR_PEER_NOT_FOUND' })
}, { $id: 'Error', description: 'Every error response' })

/** The spec's `Direction`. */
export const DirectionSchema = Type.Union([Type.Literal('INCOMING'), Type.Literal('OUTGOING')], { $id: 'Direction' })

/** The spec's `Stream`, plus `id`. */
export const StreamSchema = Type.Object({
  id: Type.String({ description: 'unique for the daemon\'s lifetime' }),
  localAddr: Type.String(),
  localID: Type.String(),
  remoteAddr: Type.String(),
  remoteID: Type.String(),
  createdAt: Type.String({ description: 'ISO-8601 timestamp' }),
  direction: Type.Union([Type.Literal('INCOMING'), Type.Literal('OUTGOING')]),
  socketPath: Type.String({ description: 'unix socket the program connects to, once (empty for p2pd-plane streams)' }),
  protocol: Type.String()
}, { $id: 'Stream' })

/** The spec's `Peer` as the daemon returns it. */
export const PeerSchema = Type.Object({
  peerID: Type.String(),
  addresses: Type.Array(Type.String()),
  connected: Type.Boolean(),
  streams: Type.Array(StreamSchema)
}, { $id: 'Peer' })

/** The spec's `Peer` as a program sends it (`POST /api/daemon/peers`). */
export const PeerInput = Type.Object({
  peerID: PeerIdString,
  addresses: Type.Array(MultiaddrString, { maxItems: MAX_ADDRS_PER_REQUEST }),
  connected: Type.Optional(Type.Boolean()),
  streams: Type.Optional(Type.Array(Type.Unknown()))
})

/** The spec's `Address`. */
export const AddressSchema = Type.Object({ address: MultiaddrString }, { $id: 'Address' })

/** Body of `POST /api/daemon/peers/:id/streams` (all optional: `?protocol=` may be used instead). */
export const OpenStreamBody = Type.Object({
  protocol: Type.Optional(ProtocolString),
  protocols: Type.Optional(Type.Array(ProtocolString, { minItems: 1, maxItems: 64 })),
  address: Type.Optional(MultiaddrString),
  timeout: Type.Optional(TimeoutSeconds)
})

/** `GET /api/daemon/identity`. */
export const IdentitySchema = Type.Object({
  peerID: Type.String(),
  addresses: Type.Array(Type.String()),
  protocols: Type.Array(Type.String()),
  agentVersion: Type.String(),
  version: Type.String()
}, { $id: 'Identity' })

/** `GET /api/daemon/version`. */
export const VersionSchema = Type.Object({
  name: Type.String(),
  version: Type.String(),
  protocolVersion: Type.String()
}, { $id: 'Version' })

/** One live connection. */
export const ConnectionSchema = Type.Object({
  peerID: Type.String(),
  address: Type.String(),
  direction: Type.Union([Type.Literal('INCOMING'), Type.Literal('OUTGOING')]),
  limited: Type.Boolean()
}, { $id: 'Connection' })

/** `POST /api/daemon/handlers`. */
export const RegisterHandlerBody = Type.Object({
  protocols: Type.Array(ProtocolString, { minItems: 1, maxItems: MAX_PROTOCOLS_PER_REQUEST }),
  callback: Type.String({ minLength: 1, maxLength: 1024, description: 'http://127.0.0.1:<port>, http://[::1]:<port> or unix:/abs/path.sock' }),
  balanced: Type.Optional(Type.Boolean())
})

/** One registered protocol. */
export const HandlerSchema = Type.Object({
  protocol: Type.String(),
  callbacks: Type.Array(Type.String())
}, { $id: 'Handler' })

/** `{peerID, addresses}` results (find-peer, find-providers). */
export const PeerInfoSchema = Type.Object({
  peerID: Type.String(),
  addresses: Type.Array(Type.String())
}, { $id: 'PeerInfo' })

/** A pubsub message; binary fields are base64. */
export const PubsubMessageSchema = Type.Object({
  from: Type.Optional(Type.String()),
  data: Type.String(),
  seqno: Type.Optional(Type.String()),
  topic: Type.String(),
  signature: Type.Optional(Type.String()),
  key: Type.Optional(Type.String())
}, { $id: 'PubsubMessage' })

/** One event of `GET /api/daemon/events`. */
export const EventSchema = Type.Object({
  type: Type.String({ description: 'READY, PEER_CONNECTED, PEER_DISCONNECTED, STREAM_OPENED or STREAM_CLOSED' }),
  peerID: Type.Optional(Type.String()),
  at: Type.Optional(Type.String()),
  addr: Type.Optional(Type.String()),
  protocol: Type.Optional(Type.String()),
  streamId: Type.Optional(Type.String()),
  direction: Type.Optional(Type.String()),
  error: Type.Optional(Type.String())
}, { $id: 'Event' })

/** `GET /api/daemon/peerstore/:id`. */
export const PeerRecordSchema = Type.Object({
  peerID: Type.String(),
  addresses: Type.Array(Type.String()),
  protocols: Type.Array(Type.String()),
  publicKey: Type.Optional(Type.String({ description: 'base64 protobuf-encoded public key' })),
  agentVersion: Type.Optional(Type.String()),
  protocolVersion: Type.Optional(Type.String()),
  tags: Type.Record(Type.String(), Type.Number())
}, { $id: 'PeerRecord' })

/** A path parameter holding a peer ID. */
export const PeerIdParams = Type.Object({ id: PeerIdString })

/** A JSON body with just a timeout. */
export const TimeoutBody = Type.Object({ timeout: Type.Optional(TimeoutSeconds) })

/** The error responses every route may give, for the OpenAPI document. */
export function errorResponses (...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries([400, 500, ...statuses].map(s => [s, ErrorSchema]))
}

/** An NDJSON (or SSE) response of `item` objects, for the OpenAPI document. */
export function ndjsonResponse (item: TSchema, description: string): Record<string, unknown> {
  return {
    description,
    content: {
      'application/x-ndjson': { schema: item },
      'text/event-stream': { schema: Type.String({ description: '`data: <json>` events' }) }
    }
  }
}

/** Marks a body schema as optional: an empty request body is accepted (see the validator compiler). */
export function optionalBody<T extends TSchema> (schema: T): T {
  return { ...schema, 'x-optional': true }
}

/** A 204 response, for the OpenAPI document. */
export const NoContent = Type.Null({ description: 'No Content' })

export type StreamJson = Static<typeof StreamSchema>
export type PeerJson = Static<typeof PeerSchema>
