/**
 * Opening a stream answers by its deadline even when something under it does not honour the
 * abort signal (a stubbed host whose dial or negotiation ignores it), and a stream that
 * arrives after the deadline is reset instead of leaking.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { doOpenStream } from '../../src/core/streams.js'
import type { CoreContext } from '../../src/core/context.js'

const self = peerIdFromString('12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN')
const remote = peerIdFromString('12D3KooWKmxaiCZcJn7CCsKk1MUMsiC83bDX75TH4PMErcDWcH6U')

/** A stream stand-in that records its reset. */
function fakeStream (): { stream: any, aborted: () => Error | undefined } {
  let reason: Error | undefined
  return { stream: { protocol: '/x/1.0.0', abort: (err: Error) => { reason = err } }, aborted: () => reason }
}

/** A context whose dial and newStream take `dialMs` / `negotiateMs` and ignore the signal. */
function stubContext (dialMs: number, negotiateMs: number, stream: any): CoreContext {
  const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
  const connection = { newStream: async () => { await sleep(negotiateMs); return stream } }
  return {
    node: {
      peerId: self,
      getConnections: () => [],
      dial: async () => { await sleep(dialMs); return connection }
    },
    streams: { reserve: () => () => {} },
    config: { limits: { maxConnections: 0 } }
  } as unknown as CoreContext
}

it('a negotiation that ignores the signal still ends at the deadline; the late stream is reset', async () => {
  const { stream, aborted } = fakeStream()
  const t0 = Date.now()
  await assert.rejects(doOpenStream(stubContext(0, 400, stream), remote, ['/x/1.0.0'], { timeoutMs: 50 }), { code: 'ERR_TIMEOUT' })
  const waited = Date.now() - t0
  assert.ok(waited < 300, `answered after ${waited} ms`)
  assert.equal(aborted(), undefined, 'not reset before it exists')
  await new Promise(resolve => setTimeout(resolve, 500))
  assert.match(String(aborted()?.message), /after its deadline/)
})

it('a dial that ignores the signal still ends at the deadline', async () => {
  const { stream, aborted } = fakeStream()
  const t0 = Date.now()
  await assert.rejects(doOpenStream(stubContext(400, 0, stream), remote, ['/x/1.0.0'], { timeoutMs: 50 }), { code: 'ERR_TIMEOUT' })
  assert.ok(Date.now() - t0 < 300)
  await new Promise(resolve => setTimeout(resolve, 500))
  assert.ok(aborted() !== undefined, 'the late stream was reset')
})

it('an open within the deadline returns the stream untouched', async () => {
  const { stream, aborted } = fakeStream()
  const opened = await doOpenStream(stubContext(5, 5, stream), remote, ['/x/1.0.0'], { timeoutMs: 1000 })
  assert.equal(opened.stream, stream)
  assert.equal(aborted(), undefined)
})
