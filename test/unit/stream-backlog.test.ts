/**
 * A slow program behind the stream bridge (src/streams/bridge.ts + backlog.ts) on the muxer
 * the daemon runs (src/host/yamux-window.ts): two real in-process libp2p nodes over loopback
 * TCP, a real unix socket pair. The daemon side may hold at most one receive window for the
 * program, not a second one granted while the first still waits in the program's socket.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createServer, connect } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { leanYamux } from '../../src/host/yamux-window.ts'
import { bridgeStream } from '../../src/streams/bridge.ts'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { Socket } from 'node:net'

let a: Libp2p
let b: Libp2p
let dir: string
const inbound: Array<(s: Stream) => void> = []

const node = async (): Promise<Libp2p> => await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [leanYamux()]
})

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backlog-'))
  a = await node()
  b = await node()
  await b.handle('/t/1', (s) => { inbound.shift()?.(s) })
})

after(async () => {
  await a.stop()
  await b.stop()
  await rm(dir, { recursive: true, force: true })
})

/** A unix socket pair: `daemonSide` (allowHalfOpen, as the daemon's) and `program`. */
async function socketPair (): Promise<{ daemonSide: Socket, program: Socket }> {
  const path = join(dir, 'p.sock')
  const server = createServer({ allowHalfOpen: true })
  await new Promise<void>(resolve => server.listen(path, resolve))
  const accepted = new Promise<Socket>(resolve => server.once('connection', resolve))
  const program = connect({ path, allowHalfOpen: true })
  const daemonSide = await accepted
  server.close()
  return { daemonSide, program }
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

test('a program that reads slower than the network: the daemon side holds at most one window, and nothing is lost', async () => {
  const remoteP = new Promise<Stream>(resolve => inbound.push(resolve))
  const stream = await a.dialProtocol(b.getMultiaddrs()[0], '/t/1')
  const remote = await remoteP
  const { daemonSide, program } = await socketPair()
  const done = bridgeStream(daemonSide, stream)

  // what A's side holds for the program: the stream's read buffer and the socket's queue
  let mostHeld = 0
  let windowThen = 0
  const sampler = setInterval(() => {
    const held = stream.readBufferLength + daemonSide.writableLength
    if (held > mostHeld) {
      mostHeld = held
      windowThen = (stream as any).recvWindow
    }
  }, 1)

  // the program takes what its socket has read, up to 256 KiB, every 10 ms (a few MB/s): in
  // bursts, as a busy program would
  const received: Buffer[] = []
  let bytes = 0
  const size = 16 << 20
  const finished = new Promise<void>((resolve, reject) => {
    program.once('end', resolve)
    program.once('error', reject)
  })
  program.pause()
  const reader = setInterval(() => {
    let taken = 0
    let chunk: Buffer | null
    while (taken < 256 << 10 && (chunk = program.read()) !== null) {
      received.push(chunk)
      taken += chunk.byteLength
    }
    bytes += taken
  }, 10)
  program.on('readable', () => { if (program.readableEnded) clearInterval(reader) })

  const data = randomBytes(size)
  for (let i = 0; i < size; i += 65536) {
    if (!remote.send(data.subarray(i, i + 65536))) await remote.onDrain({ signal: AbortSignal.timeout(30_000) })
  }
  await remote.close()
  // drain what is left at the program's pace, then read to the end
  while (bytes < size) await new Promise(resolve => setTimeout(resolve, 20))
  clearInterval(reader)
  program.resume()
  program.on('data', (chunk: Buffer) => { received.push(chunk) })
  program.end()
  await finished
  clearInterval(sampler)

  assert.equal(sha(Buffer.concat(received)), sha(data), 'the program got every byte, in order')
  assert.equal((await done).error, undefined)
  // one window (as large as it had grown when the most was held) plus a frame in flight
  assert.ok(mostHeld <= windowThen + (256 << 10), `the daemon side held ${mostHeld} bytes with a ${windowThen}-byte window`)
})
