/**
 * Tells the JS/py and hivemind p2pd dialects apart from a `Request`'s raw bytes.
 *
 * Both dialects use `Request.Type 9` and `Request` field 9 for different things (JS/py:
 * PEERSTORE + PeerstoreRequest; hivemind: PERSISTENT_CONN_UPGRADE, and field 9 carries the
 * RemoveStreamHandlerRequest of REMOVE_STREAM_HANDLER = 10). protons has no way to declare
 * field 9 twice, so the daemon decodes with `Request` or `HivemindRequest` by this verdict.
 */
import { HivemindRequest, Request } from './p2pd.js'

/**
 * - `common`: neither type 9/10 nor field 9 is used; both dialects read the bytes the same way.
 * - `js`: JS/py PEERSTORE (field 9 is a PeerstoreRequest).
 * - `hivemind`: PERSISTENT_CONN_UPGRADE or REMOVE_STREAM_HANDLER (field 9 is a RemoveStreamHandlerRequest).
 */
export type RequestDialect = 'common' | 'js' | 'hivemind'

const WIRE_VARINT = 0
const WIRE_I64 = 1
const WIRE_LEN = 2
const WIRE_I32 = 5

interface RawField { field: number, wireType: number, value: number, start: number, end: number }

/** Reads a varint as a JS number; returns [value, nextOffset] or undefined when malformed. */
function readVarint (buf: Uint8Array, offset: number): [number, number] | undefined {
  let value = 0
  let scale = 1
  for (let i = 0; i < 10 && offset + i < buf.length; i++) {
    const byte = buf[offset + i]
    value += (byte & 0x7f) * scale
    if (byte < 0x80) return [value, offset + i + 1]
    scale *= 128
  }
  return undefined
}

/**
 * Walks the top-level fields of a protobuf message without a schema. Stops quietly at
 * malformed input: the real decoder reports that error with the proper message.
 */
function * scanFields (buf: Uint8Array): Generator<RawField> {
  let offset = 0
  while (offset < buf.length) {
    const tag = readVarint(buf, offset)
    if (tag == null) return
    const field = Math.floor(tag[0] / 8)
    const wireType = tag[0] % 8
    offset = tag[1]
    if (wireType === WIRE_VARINT) {
      const v = readVarint(buf, offset)
      if (v == null) return
      yield { field, wireType, value: v[0], start: offset, end: v[1] }
      offset = v[1]
    } else if (wireType === WIRE_LEN) {
      const len = readVarint(buf, offset)
      if (len == null || len[1] + len[0] > buf.length) return
      yield { field, wireType, value: len[0], start: len[1], end: len[1] + len[0] }
      offset = len[1] + len[0]
    } else if (wireType === WIRE_I64 || wireType === WIRE_I32) {
      const size = wireType === WIRE_I64 ? 8 : 4
      if (offset + size > buf.length) return
      yield { field, wireType, value: 0, start: offset, end: offset + size }
      offset += size
    } else {
      return // groups are not used by any p2pd dialect
    }
  }
}

/**
 * Classifies the serialized `Request` (without its length prefix).
 *
 * Rules, in order:
 * 1. Field 9 present: look inside it. PeerstoreRequest's field 1 is a varint (`type`) and its
 *    field 3 (`protos`) has no counterpart; RemoveStreamHandlerRequest's field 1 is bytes (`addr`).
 *    If the contents say nothing (empty, or only field 2 which is bytes in both), the type decides.
 * 2. Type 9 without field 9 is PERSISTENT_CONN_UPGRADE: JS/py clients always send `peerStore`
 *    with PEERSTORE. Type 10 is hivemind's REMOVE_STREAM_HANDLER (JS has no type 10).
 * 3. Anything else is `common`.
 */
export function classifyRequest (bytes: Uint8Array): RequestDialect {
  let type: number | undefined
  let field9: RawField | undefined
  for (const f of scanFields(bytes)) {
    // protobuf: the last occurrence of a singular field wins
    if (f.field === 1 && f.wireType === WIRE_VARINT) type = f.value
    if (f.field === 9 && f.wireType === WIRE_LEN) field9 = f
  }
  if (field9 != null) {
    for (const inner of scanFields(bytes.subarray(field9.start, field9.end))) {
      if (inner.field === 1 && inner.wireType === WIRE_VARINT) return 'js'
      if (inner.field === 1 && inner.wireType === WIRE_LEN) return 'hivemind'
      if (inner.field === 3) return 'js'
    }
    return type === 10 ? 'hivemind' : 'js'
  }
  if (type === 9 || type === 10) return 'hivemind'
  return 'common'
}

/** A request decoded with the message type of its dialect. */
export type DecodedRequest =
  | { dialect: 'common' | 'js', request: Request }
  | { dialect: 'hivemind', request: HivemindRequest }

/**
 * Classifies and decodes a serialized `Request`. Throws the protons decode error on malformed
 * bytes. `common` requests are decoded as `Request` so libp2pd extensions (fields 20+) are seen.
 */
export function decodeRequest (bytes: Uint8Array): DecodedRequest {
  const dialect = classifyRequest(bytes)
  if (dialect === 'hivemind') return { dialect, request: HivemindRequest.decode(bytes) }
  return { dialect, request: Request.decode(bytes) }
}
