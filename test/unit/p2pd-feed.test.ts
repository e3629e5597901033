// A p2pd feed (src/api/p2pd/feed.ts: pubsub SUBSCRIBE, the EVENTS extension) with a stub
// session: what a client that stops reading is sent and what it is spared, a failed write,
// messages the client sends on a feed, and a framing error.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MAX_FEED_QUEUE, runFeed } from '../../src/api/p2pd/feed.ts'
import type { Session } from '../../src/api/p2pd/session.ts'

/** A session whose reads and writes the test drives. */
function stubSession () {
  const warnings: string[] = []
  const sent: Uint8Array[] = []
  const reads: Array<(v: Uint8Array | undefined | Error) => void> = []
  let writable: Promise<void> = Promise.resolve()
  let failWrites = false
  const s = {
    /** Writes attempted, failed ones included. */
    attempts: 0,
    id: 'test',
    closed: false,
    ended: 0,
    destroyed: 0,
    ctx: { log: { warn: (_: unknown, msg: string) => { warnings.push(msg) }, debug: () => {} } },
    async read (): Promise<Uint8Array | undefined> {
      const v = await new Promise<Uint8Array | undefined | Error>(resolve => { reads.push(resolve) })
      if (v instanceof Error) throw v
      return v
    },
    async send (bytes: Uint8Array): Promise<void> {
      s.attempts++
      await writable
      if (failWrites) throw new Error('EPIPE')
      sent.push(bytes)
    },
    end () { s.ended++; s.closed = true },
    destroy () { s.destroyed++; s.closed = true; reads.shift()?.(undefined) }
  }
  return {
    session: s,
    asSession: s as unknown as Session,
    warnings,
    sent,
    /** The client's next message (or EOF, or a read error) reaches the feed's read loop. */
    clientSends: async (v: Uint8Array | undefined | Error) => {
      while (reads.length === 0) await new Promise(resolve => setImmediate(resolve))
      reads.shift()?.(v)
    },
    blockWrites: () => { let open!: () => void; writable = new Promise(resolve => { open = resolve }); return open },
    failWrites: () => { failWrites = true }
  }
}

const tick = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }
const n = (i: number): Uint8Array => Uint8Array.of(i >> 8, i & 0xff)
const num = (b: Uint8Array): number => (b[0] << 8) | b[1]

describe('p2pd feed', () => {
  it('a client that stops reading is queued at most MAX_FEED_QUEUE messages, the oldest, in order; the rest are dropped with one warning', async () => {
    const t = stubSession()
    const release = t.blockWrites()
    let push!: (b: Uint8Array) => void
    let stops = 0
    const done = runFeed(t.asSession, 'test', p => { push = p; return () => { stops++ } })
    const extra = 900
    for (let i = 0; i < MAX_FEED_QUEUE + 1 + extra; i++) push(n(i))
    release()
    while (t.sent.length < MAX_FEED_QUEUE + 1) await tick()
    await tick()
    // one message was being written when the queue filled, MAX_FEED_QUEUE waited behind it
    assert.equal(t.sent.length, MAX_FEED_QUEUE + 1)
    assert.deepEqual(t.sent.map(num), Array.from({ length: MAX_FEED_QUEUE + 1 }, (_, i) => i))
    assert.deepEqual(t.warnings, ['p2pd: slow feed client, dropping messages'])
    // a client that caught up gets new messages again
    push(n(9999))
    await tick()
    assert.equal(num(t.sent[t.sent.length - 1]), 9999)
    await t.clientSends(undefined) // EOF: the client unsubscribed
    await done
    assert.equal(stops, 1)
    assert.equal(t.session.ended, 1)
  })

  it('a failed write ends the feed: the session is destroyed, the producer stopped once, nothing more is queued', async () => {
    const t = stubSession()
    t.failWrites()
    let push!: (b: Uint8Array) => void
    let stops = 0
    const done = runFeed(t.asSession, 'test', p => { push = p; return () => { stops++ } })
    push(n(1))
    await done
    assert.equal(t.session.destroyed, 1)
    assert.equal(stops, 1)
    assert.equal(t.session.attempts, 1)
    push(n(2)) // after the end: ignored, no write is attempted
    await tick()
    assert.equal(t.session.attempts, 1)
  })

  it('a message from the client is ignored and the feed goes on; a framing error ends it', async () => {
    const t = stubSession()
    let push!: (b: Uint8Array) => void
    let stops = 0
    const done = runFeed(t.asSession, 'test', p => { push = p; return () => { stops++ } })
    await t.clientSends(Uint8Array.of(1, 2, 3))
    push(n(7))
    await tick()
    assert.deepEqual(t.sent.map(num), [7])
    assert.equal(stops, 0)
    await t.clientSends(new Error('varint too long'))
    await done
    assert.equal(stops, 1)
    assert.equal(t.session.ended, 1)
  })
})
