/**
 * Yamux window updates as go-yamux sends them (src/host/yamux-window.ts): two real yamux
 * muxers over an in-memory connection pair. Small messages must not be answered frame by
 * frame, and a transfer many windows long must still flow (no sender may stall).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { afterEach, describe, it } from 'node:test'
import { yamux } from '@chainsafe/libp2p-yamux'
import { Uint8ArrayList } from 'uint8arraylist'
import { leanYamux } from '../../src/host/yamux-window.js'
import { trackBacklog } from '../../src/streams/backlog.js'
import { ACK, DATA, SYN, WINDOW_UPDATE, closeMuxers, muxerPair, open, receive } from './yamux-harness.js'
import type { Stream } from '@libp2p/interface'

afterEach(closeMuxers)

/** Sends 200 messages of 64 bytes A→B and returns how many window updates B sent. */
async function windowUpdatesFor200Messages (make: () => () => any): Promise<number> {
  const { a, b, framesFromB } = muxerPair(make)
  const { local, remote } = await open(a, b)
  const got = receive(remote, 200 * 64)
  for (let i = 0; i < 200; i++) {
    local.send(new Uint8Array(64))
    await new Promise(resolve => setImmediate(resolve))
  }
  await got
  return framesFromB.get(WINDOW_UPDATE) ?? 0
}

describe('yamux window updates', () => {
  it('small messages are not answered one by one (the stock muxer does)', async () => {
    const stock = await windowUpdatesFor200Messages(yamux)
    const lean = await windowUpdatesFor200Messages(leanYamux)
    assert.ok(stock >= 200, `the stock muxer sent ${stock} window updates for 200 messages`)
    // the ACK of the new stream is one; 12.8 KB is far below half of the 256 KiB window
    assert.equal(lean, 1, `the lean muxer sent ${lean}`)
  })

  it("a stream's SYN and its ACK ride on the first data frames", async () => {
    const { a, b, sent } = muxerPair(leanYamux)
    const remote = new Promise<Stream>(resolve => b.addEventListener('stream', (evt: CustomEvent<Stream>) => { resolve(evt.detail) }, { once: true }))
    const local = await a.createStream()
    local.send(new TextEncoder().encode('proposal'))
    const accepted = await remote
    const answer = receive(local, 6)
    await receive(accepted, 8)
    accepted.send(new TextEncoder().encode('answer'))
    await answer
    assert.deepEqual(sent.a, [{ type: DATA, flag: SYN, length: 8 }], 'A: one data frame carrying SYN')
    assert.deepEqual(sent.b, [{ type: DATA, flag: ACK, length: 6 }], 'B: one data frame carrying ACK')
  })

  it('with no data to carry them, the SYN and the ACK leave alone by the next turn', async () => {
    const { a, b, sent } = muxerPair(leanYamux)
    const remote = new Promise<Stream>(resolve => b.addEventListener('stream', (evt: CustomEvent<Stream>) => { resolve(evt.detail) }, { once: true }))
    const local = await a.createStream()
    const accepted = await remote
    assert.deepEqual(sent.a, [{ type: WINDOW_UPDATE, flag: SYN, length: 0 }])
    // B got no data: it owes its ACK from the first window update it would send
    local.send(new Uint8Array(10))
    await receive(accepted, 10)
    await new Promise(resolve => setTimeout(resolve, 20))
    assert.equal(sent.b.filter(f => f.flag === ACK).length, 1, 'B acknowledged the stream')
    assert.equal((local as any).state, 3, 'A sees the stream established')
  })

  it('a stream paused before it acknowledged still sends its ACK', async () => {
    const { a, b, sent } = muxerPair(leanYamux)
    b.addEventListener('stream', (evt: CustomEvent<Stream>) => {
      evt.detail.addEventListener('message', () => { evt.detail.pause() }, { once: true })
    }, { once: true })
    const local = await a.createStream()
    local.send(new Uint8Array(10))
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(sent.b.filter(f => f.flag === ACK).length, 1, 'B acknowledged the stream')
    assert.equal((local as any).state, 3, 'A sees the stream established')
  })

  it('a transfer of many windows flows to the end, both ways', async () => {
    const { a, b } = muxerPair(leanYamux)
    const { local, remote } = await open(a, b)
    const size = 8 << 20
    const up = randomBytes(size)
    const down = randomBytes(size)
    const gotUp = receive(remote, size)
    const gotDown = receive(local, size)
    const write = async (stream: Stream, data: Uint8Array): Promise<void> => {
      for (let i = 0; i < data.byteLength; i += 65536) {
        if (!stream.send(data.subarray(i, i + 65536))) await stream.onDrain()
      }
    }
    await Promise.all([write(local, up), write(remote, down)])
    assert.ok(Buffer.from(await gotUp).equals(up), 'A→B intact')
    assert.ok(Buffer.from(await gotDown).equals(down), 'B→A intact')
  })

  it('a reader that pauses holds the writer to one window, and gets the rest once it resumes', async () => {
    const { a, b } = muxerPair(leanYamux)
    const { local, remote } = await open(a, b)
    remote.pause()
    const size = 2 << 20
    const data = randomBytes(size)
    const got = receive(remote, size)
    // queued at once: yamux sends only what the remote's window allows
    for (let i = 0; i < size; i += 65536) local.send(data.subarray(i, i + 65536))
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.ok(remote.readBufferLength <= 256 << 10, `the paused reader holds ${remote.readBufferLength} bytes`)
    assert.ok(local.writeBufferLength >= size - (256 << 10), 'the rest waits at the writer')
    remote.resume()
    assert.ok(Buffer.from(await got).equals(data))
  })
})

describe('a backlog the program has not read (src/streams/backlog.ts)', () => {
  const settle = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, 50)) }

  // the backlog counts once the window is at its largest: here from the start
  const atMaxWindow = (): (() => any) => leanYamux({ streamOptions: { maxStreamWindowSize: 256 << 10 } })

  it('is granted as window only once the program reads it: never more than one window outstanding', async () => {
    const { a, b, sent } = muxerPair(atMaxWindow)
    const { local, remote } = await open(a, b)
    const window = (remote as any).recvWindow as number
    const size = 4 * window
    const data = randomBytes(size)
    // a reader that hands each message on at once (as the bridge does), to a program that
    // reads only what the test says it read
    const got = new Uint8ArrayList()
    let read = 0
    let mostHeld = 0
    remote.addEventListener('message', (evt: any) => {
      got.append(evt.data)
      mostHeld = Math.max(mostHeld, got.byteLength - read)
    })
    trackBacklog(remote, () => got.byteLength - read)
    for (let i = 0; i < size; i += 65536) local.send(data.subarray(i, i + 65536))
    await settle()
    // nothing read: the window is used up and nothing was granted
    assert.equal(got.byteLength, window, 'one window arrived')
    const granted = (): number => sent.b.filter(f => f.type === WINDOW_UPDATE).reduce((sum, f) => sum + f.length, 0)
    assert.equal(granted(), 0, 'no window was granted for bytes the program has not read')
    // a quarter read is not enough for an update (under half a window is consumed) ...
    read = window / 4
    remote.pause(); remote.resume()
    await settle()
    assert.equal(got.byteLength, window)
    // ... three quarters are, and exactly those are granted
    read = (3 * window) / 4
    remote.pause(); remote.resume()
    await settle()
    assert.ok(got.byteLength > window, 'the remote sent more once the program read')
    // then the program reads everything, at each resume (the bridge resumes on each drain)
    const deadline = Date.now() + 5_000
    while (got.byteLength < size && Date.now() < deadline) {
      read = got.byteLength
      remote.pause(); remote.resume()
      await settle()
    }
    assert.ok(Buffer.from(got.subarray()).equals(data), 'everything arrived, in order')
    assert.ok(mostHeld <= (remote as any).recvWindow, `the reader held ${mostHeld} bytes, more than the ${(remote as any).recvWindow}-byte window`)
  })

  /** Sends B one window; true when B granted at least half of it (with `backlog` tracked, if given). */
  async function grantsWindowReceived (backlog?: (window: number) => number): Promise<boolean> {
    const { a, b, sent } = muxerPair(leanYamux)
    const { local, remote } = await open(a, b)
    const window = (remote as any).recvWindow as number
    assert.ok(window * 2 < (remote as any).maxStreamWindowSize, 'the window is below its last doubling')
    if (backlog !== undefined) trackBacklog(remote, () => backlog(window))
    const got = receive(remote, window)
    for (let i = 0; i < window; i += 65536) local.send(new Uint8Array(65536))
    await got
    await settle()
    return sent.b.some(f => f.type === WINDOW_UPDATE && f.length >= window / 2)
  }

  it('below half the largest window, a backlog does not hold the grant back (the window grows as before)', async () => {
    assert.ok(await grantsWindowReceived(window => window), 'B granted the window it received')
  })

  it('a stream nobody tracks grants as before', async () => {
    assert.ok(await grantsWindowReceived(), 'B granted the window it received')
  })
})
