import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DaemonError, Errors, toDaemonError, withoutStack } from '../../src/errors.ts'

const named = (name: string, message = name): Error => Object.assign(new Error(message), { name })

test('every catalogue entry has a stable ERR_ code and an HTTP status', () => {
  const codes = new Set<string>()
  for (const make of Object.values(Errors)) {
    const e = make()
    assert.ok(e instanceof DaemonError)
    assert.match(e.code, /^ERR_[A-Z0-9_]+$/)
    assert.ok(e.status >= 400 && e.status < 600, `${e.code} status ${e.status}`)
    assert.ok(e.message.length > 0, `${e.code} has a message (p2pd clients need a non-empty msg)`)
    assert.ok(!codes.has(e.code), `${e.code} is unique`)
    codes.add(e.code)
  }
})

test('libp2p errors map by name, keeping the cause', () => {
  const cases: Array<[Error, string]> = [
    [named('TimeoutError'), 'ERR_TIMEOUT'],
    [named('AbortError'), 'ERR_TIMEOUT'],
    [named('UnsupportedProtocolError'), 'ERR_PROTOCOL_NOT_SUPPORTED'],
    [named('NotFoundError'), 'ERR_NOT_FOUND'],
    [named('DialError'), 'ERR_DIAL_FAILED'],
    [named('NoValidAddressesError'), 'ERR_DIAL_FAILED'],
    [named('StreamResetError'), 'ERR_STREAM_RESET'],
    [named('LimitedConnectionError'), 'ERR_LIMIT_REACHED'],
    [named('InvalidMultiaddrError'), 'ERR_INVALID_MULTIADDR'],
    [new Error('something else'), 'ERR_INTERNAL']
  ]
  for (const [err, code] of cases) {
    const mapped = toDaemonError(err)
    assert.equal(mapped.code, code, err.name)
    assert.equal(mapped.cause, err)
  }
  const own = Errors.peerNotFound()
  assert.equal(toDaemonError(own), own, 'a DaemonError passes through unchanged')
})

test('AggregateError (Promise.any over routers or addresses) is looked inside', () => {
  const nf = named('NotFoundError', 'no value')
  assert.equal(toDaemonError(new AggregateError([nf, nf], 'All promises were rejected')).code, 'ERR_NOT_FOUND')
  assert.equal(toDaemonError(new AggregateError([named('TimeoutError'), nf], 'x')).code, 'ERR_TIMEOUT')
  const unknown = toDaemonError(new AggregateError([new Error('boom')], 'All promises were rejected'))
  assert.equal(unknown.code, 'ERR_DIAL_FAILED')
  assert.match(unknown.message, /boom/)
})

test('withoutStack: the error keeps its class and message but no stack frames; the stack limit is restored, also when construction throws', () => {
  const before = Error.stackTraceLimit
  const err = withoutStack(() => Errors.streamNotFound('gone'))
  assert.ok(err instanceof DaemonError)
  assert.equal(err.message, 'gone')
  assert.doesNotMatch(err.stack ?? '', /\n\s+at /)
  assert.match(new Error('with').stack ?? '', /\n\s+at /)
  assert.throws(() => withoutStack(() => { throw new TypeError('boom') }), TypeError)
  assert.equal(Error.stackTraceLimit, before)
})
