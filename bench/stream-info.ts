/**
 * The application side of p2pd inbound streams: the daemon connects to the handler's
 * listener, writes a uvarint-length-prefixed `StreamInfo`, then the socket is the stream.
 */
import { StreamInfo } from '@libp2p/daemon-protocol'
import type { Socket } from 'node:net'

/** Longest StreamInfo we accept; a real one is a few hundred bytes. */
const MAX_INFO = 1 << 16

/**
 * Read the StreamInfo off a fresh socket and return its protocol. Bytes after it are put
 * back (`unshift`) and the socket is left paused for whoever consumes the stream next.
 */
export async function readStreamInfo (socket: Socket, signal: AbortSignal): Promise<string> {
  let buffered = Buffer.alloc(0)
  for await (const chunk of socket.iterator({ destroyOnReturn: false })) {
    signal.throwIfAborted()
    buffered = Buffer.concat([buffered, chunk as Buffer])
    let length = 0
    let shift = 0
    for (let offset = 0; offset < buffered.length && offset < 10;) {
      const byte = buffered[offset++]
      length += (byte & 0x7f) * 2 ** shift
      shift += 7
      if ((byte & 0x80) !== 0) continue
      if (length > MAX_INFO) throw new Error('StreamInfo too long')
      if (buffered.length < offset + length) break
      socket.pause()
      if (buffered.length > offset + length) socket.unshift(buffered.subarray(offset + length))
      return StreamInfo.decode(buffered.subarray(offset, offset + length)).proto
    }
  }
  throw new Error('daemon closed the handler connection before StreamInfo')
}
