/**
 * Two real yamux muxers over an in-memory connection pair, with every frame each side sends
 * recorded: the harness of the muxer wrapper tests (yamux-window, multistream-echo).
 */
import { multiaddrConnectionPair } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import type { Stream } from '@libp2p/interface'

export const DATA = 0
export const WINDOW_UPDATE = 1
export const SYN = 1
export const ACK = 2

/** Muxers of the running test: their keep-alive timers would hold the process open. */
const muxers: any[] = []

/** Aborts the muxers the test made; each test file runs it `afterEach`. */
export function closeMuxers (): void {
  for (const muxer of muxers.splice(0)) muxer.abort(new Error('end of test'))
}

/** One frame a muxer sent on a stream (not on the session, stream 0). */
export interface Frame { type: number, flag: number, length: number }

/** A muxer pair; `framesFromB` counts the frames B sends, by type; `sent` lists each side's frames. */
export function muxerPair (make: () => () => any): { a: any, b: any, framesFromB: Map<number, number>, sent: { a: Frame[], b: Frame[] } } {
  const [outbound, inbound] = multiaddrConnectionPair()
  const a = make()().createStreamMuxer(outbound)
  const b = make()().createStreamMuxer(inbound)
  muxers.push(a, b)
  const framesFromB = new Map<number, number>()
  const sent: { a: Frame[], b: Frame[] } = { a: [], b: [] }
  for (const [name, muxer] of [['a', a], ['b', b]] as const) {
    const sendFrame = muxer.sendFrame.bind(muxer)
    muxer.sendFrame = (header: Frame & { streamID: number }, data?: unknown) => {
      if (header.streamID !== 0) sent[name].push({ type: header.type, flag: header.flag, length: header.length })
      if (name === 'b') framesFromB.set(header.type, (framesFromB.get(header.type) ?? 0) + 1)
      return sendFrame(header, data)
    }
  }
  return { a, b, framesFromB, sent }
}

/** Opens a stream A→B and resolves with both ends. */
export async function open (a: any, b: any): Promise<{ local: Stream, remote: Stream }> {
  const remote = new Promise<Stream>(resolve => b.addEventListener('stream', (evt: CustomEvent<Stream>) => { resolve(evt.detail) }, { once: true }))
  const local = await a.createStream()
  return { local, remote: await remote }
}

/** Collects what `stream` receives until `bytes` have arrived. */
export async function receive (stream: Stream, bytes: number): Promise<Uint8Array> {
  const got = new Uint8ArrayList()
  await new Promise<void>((resolve, reject) => {
    stream.addEventListener('message', (evt: any) => { got.append(evt.data); if (got.byteLength >= bytes) resolve() })
    stream.addEventListener('close', (evt: any) => { reject(evt.error ?? new Error(`closed after ${got.byteLength} bytes`)) })
  })
  return got.subarray()
}
