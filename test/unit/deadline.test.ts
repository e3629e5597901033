/**
 * Deadlines without AbortSignal.timeout/any (src/core/deadline.ts): they must abort as those
 * would (same reasons), follow their parents, and once cleared hold no timer and no listener.
 */
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { deadline } from '../../src/core/deadline.js'

describe('deadline', () => {
  it('aborts with a TimeoutError when the time is up', async () => {
    const d = deadline(20)
    assert.equal(d.signal.aborted, false)
    await sleep(60)
    assert.equal(d.signal.aborted, true)
    assert.equal(d.signal.reason.name, 'TimeoutError')
  })

  it('follows a parent, with the parent\'s reason, and lets go of the others', async () => {
    const a = new AbortController()
    const b = new AbortController()
    const d = deadline(10_000, a.signal, undefined, b.signal)
    assert.equal(getEventListeners(a.signal, 'abort').length, 1)
    const reason = new Error('parent went away')
    b.abort(reason)
    assert.equal(d.signal.aborted, true)
    assert.equal(d.signal.reason, reason)
    // the other parent no longer holds a listener of this deadline
    assert.equal(getEventListeners(a.signal, 'abort').length, 0)
  })

  it('is aborted at once by a parent that already was', () => {
    const a = new AbortController()
    a.abort(new Error('early'))
    const d = deadline(10_000, a.signal)
    assert.equal(d.signal.aborted, true)
    assert.equal(d.signal.reason.message, 'early')
  })

  it('never aborts once cleared, and detaches from its parents', async () => {
    const a = new AbortController()
    const d = deadline(20, a.signal)
    d.clear()
    assert.equal(getEventListeners(a.signal, 'abort').length, 0)
    a.abort(new Error('too late'))
    await sleep(60)
    assert.equal(d.signal.aborted, false)
  })

  it('without a time limit follows its parents only', async () => {
    const a = new AbortController()
    const d = deadline(undefined, a.signal)
    await sleep(30)
    assert.equal(d.signal.aborted, false)
    a.abort(new Error('cancelled'))
    assert.equal(d.signal.reason.message, 'cancelled')
  })

  it('abort() aborts now with its reason, and lets go of the timer and the parents', async () => {
    const a = new AbortController()
    const d = deadline(30, a.signal)
    const reason = new Error('cancelled by the client')
    d.abort(reason)
    assert.equal(d.signal.reason, reason)
    assert.equal(getEventListeners(a.signal, 'abort').length, 0)
    // neither the timer nor the parent changes the reason afterwards
    a.abort(new Error('parent'))
    await sleep(60)
    assert.equal(d.signal.reason, reason)
  })
})
