/** The benchmark's stream handlers on B, implemented once for every target. */
import type { BytePipe, HandlerKind } from './target.ts'

/** Bytes of the sink's length header. */
export const SINK_HEADER = 8

/** How long a stalled handler holds its stream before giving up on it. */
const STALL_MS = 120_000

/** Write back everything read, then end; a failure destroys the pipe. */
async function echo (pipe: BytePipe): Promise<void> {
  for (let chunk = await pipe.read(); chunk != null; chunk = await pipe.read()) {
    await pipe.write(chunk)
  }
  await pipe.end()
}

/** Read the length header and that many bytes, then acknowledge with one byte. */
async function sink (pipe: BytePipe): Promise<void> {
  let header: Uint8Array = new Uint8Array(0)
  let remaining = -1
  while (remaining !== 0) {
    const chunk = await pipe.read()
    if (chunk == null) throw new Error('sink: stream ended early')
    if (remaining < 0) {
      header = concat(header, chunk)
      if (header.byteLength < SINK_HEADER) continue
      remaining = Number(new DataView(header.buffer, header.byteOffset).getBigUint64(0)) - (header.byteLength - SINK_HEADER)
    } else {
      remaining -= chunk.byteLength
    }
  }
  await pipe.write(Uint8Array.of(1))
  await pipe.end()
}

/** Hold the stream without reading; the writer must find its writes blocked. */
async function stall (pipe: BytePipe): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, STALL_MS).unref())
  pipe.destroy()
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a)
  out.set(b, a.byteLength)
  return out
}

/** Serve one inbound stream with the named handler; owns the pipe and never throws. */
export async function serveHandler (kind: HandlerKind, pipe: BytePipe): Promise<void> {
  try {
    if (kind === 'echo') await echo(pipe)
    else if (kind === 'sink') await sink(pipe)
    else await stall(pipe)
  } catch {
    pipe.destroy()
  }
}

/** The sink's length header for `bytes` of payload. */
export function sinkHeader (bytes: number): Uint8Array {
  const header = new Uint8Array(SINK_HEADER)
  new DataView(header.buffer).setBigUint64(0, BigInt(bytes))
  return header
}
