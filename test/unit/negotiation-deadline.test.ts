/**
 * Inbound negotiation deadlines that end with their stream (src/host/negotiation-deadline.ts):
 * the swap of `AbortSignal.timeout` is one call long and never outlives the listener's
 * synchronous start, the deadline is cleared by the stream's close and still times out
 * without one, and, with the installed js-libp2p, a connection's inbound streams no longer
 * make an `AbortSignal.timeout` of their own (the shape the patch depends on).
 */
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { endNegotiationDeadlinesWithStreams, withStreamDeadline, withStreamNegotiationDeadlines } from '../../src/host/negotiation-deadline.js'
import type { Libp2p } from '@libp2p/interface'

const native = AbortSignal.timeout

describe('negotiation deadline', () => {
  it('answers the first AbortSignal.timeout call only, and puts the original back', () => {
    const stream = new EventTarget()
    let second: typeof AbortSignal.timeout | undefined
    const signal = withStreamDeadline(stream, () => {
      const s = AbortSignal.timeout(10_000)
      second = AbortSignal.timeout
      return s
    })
    assert.equal(second, native)
    assert.equal(AbortSignal.timeout, native)
    assert.equal(signal.aborted, false)
    stream.dispatchEvent(new Event('close'))
  })

  it('puts the original back when the function throws, or when it made no call', () => {
    assert.throws(() => withStreamDeadline(new EventTarget(), () => { throw new Error('boom') }), /boom/)
    assert.equal(AbortSignal.timeout, native)
    assert.equal(withStreamDeadline(new EventTarget(), () => 42), 42)
    assert.equal(AbortSignal.timeout, native)
  })

  it('leaves calls after the first await alone', async () => {
    let after: typeof AbortSignal.timeout | undefined
    await withStreamDeadline(new EventTarget(), async () => {
      await Promise.resolve()
      after = AbortSignal.timeout
    })
    assert.equal(after, native)
  })

  it('is cleared by the stream\'s close, and times out like AbortSignal.timeout without one', async () => {
    const closed = new EventTarget()
    const cleared = withStreamDeadline(closed, () => AbortSignal.timeout(30))
    closed.dispatchEvent(new Event('close'))
    const open = new EventTarget()
    const expired = withStreamDeadline(open, () => AbortSignal.timeout(30))
    await sleep(80)
    assert.equal(cleared.aborted, false)
    assert.equal(expired.aborted, true)
    assert.equal(expired.reason.name, 'TimeoutError')
    assert.equal(expired.reason.message, 'The operation was aborted due to timeout')
  })

  it('wraps only the muxer\'s "stream" listeners', () => {
    const muxer = new EventTarget()
    assert.equal(endNegotiationDeadlinesWithStreams(muxer), true)
    assert.equal(endNegotiationDeadlinesWithStreams(null), false)
    assert.equal(endNegotiationDeadlinesWithStreams({}), false)
    const seen: Array<typeof AbortSignal.timeout> = []
    muxer.addEventListener('stream', () => { seen.push(AbortSignal.timeout); AbortSignal.timeout(10) })
    muxer.addEventListener('other', () => { seen.push(AbortSignal.timeout) })
    const stream = new EventTarget()
    muxer.dispatchEvent(new CustomEvent('stream', { detail: stream }))
    muxer.dispatchEvent(new Event('other'))
    assert.notEqual(seen[0], native)
    assert.equal(seen[1], native)
    stream.dispatchEvent(new Event('close'))
  })

  it('with the installed js-libp2p, inbound streams make no AbortSignal.timeout of their own', async () => {
    const inbound = async (patched: boolean): Promise<number> => {
      const make = async (): Promise<Libp2p> => await createLibp2p({
        addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [patched ? withStreamNegotiationDeadlines(yamux()) : yamux()]
      })
      const [a, b] = [await make(), await make()]
      let calls = 0
      AbortSignal.timeout = (ms: number) => {
        if (new Error().stack?.includes('onIncomingStream') === true) calls++
        return native(ms)
      }
      try {
        await b.handle('/echo-once/1.0.0', async (stream) => {
          for await (const chunk of stream) stream.send(chunk)
          await stream.close()
        })
        const conn = await a.dial(b.getMultiaddrs()[0])
        for (let i = 0; i < 10; i++) {
          const s = await conn.newStream('/echo-once/1.0.0', { signal: native(5_000) })
          s.send(new Uint8Array([i]))
          await s.close()
          const got: number[] = []
          for await (const chunk of s) got.push(...chunk.subarray())
          assert.deepEqual(got, [i])
        }
      } finally {
        AbortSignal.timeout = native
        await a.stop()
        await b.stop()
      }
      return calls
    }
    // the baseline pins the shape: js-libp2p makes one per inbound stream (if it stops, this fails)
    assert.ok(await inbound(false) >= 10)
    assert.equal(await inbound(true), 0)
  })
})
