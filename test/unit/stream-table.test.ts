import { test } from 'node:test'
import assert from 'node:assert/strict'
import { StreamTable } from '../../src/streams/table.ts'

/** A stub stream that records aborts (unit test: the table's bookkeeping only). */
function stubStream (protocol: string): any {
  return { protocol, status: 'open', aborted: undefined as Error | undefined, abort (err: Error) { this.aborted = err; this.status = 'aborted' } }
}
const stubConn = (peer: string): any => ({ remotePeer: { toString: () => peer }, remoteAddr: { toString: () => `/ip4/127.0.0.1/tcp/1/p2p/${peer}` } })

function add (table: StreamTable, conn: any, protocol = '/x/1'): { id: string, stream: any } {
  const stream = stubStream(protocol)
  const e = table.add({ protocol, direction: 'OUTGOING', plane: 'http', localID: 'me', localAddr: '', stream, connection: conn })
  return { id: e.id, stream }
}

test('closeConnection aborts only the open streams of that connection', () => {
  const table = new StreamTable()
  const c1 = stubConn('A')
  const c2 = stubConn('B')
  const s1 = add(table, c1)
  const s2 = add(table, c1)
  const s3 = add(table, c2)
  s2.stream.status = 'closed'
  table.closeConnection(c1)
  assert.equal(s1.stream.aborted?.name, 'ConnectionClosedError')
  assert.equal(s2.stream.aborted, undefined, 'a closed stream is left alone')
  assert.equal(s3.stream.aborted, undefined, 'another connection is left alone')
})

test('limits: total, per peer and per protocol are enforced and released on remove', () => {
  const table = new StreamTable({ maxStreams: 3, maxStreamsPerPeer: 2, maxStreamsPerProtocol: 2 })
  const c = stubConn('A')
  const a = add(table, c, '/p/1')
  add(table, c, '/p/2')
  assert.throws(() => { table.checkLimits('A') }, { code: 'ERR_LIMIT_REACHED' })
  table.checkLimits('B', '/p/3')
  add(table, stubConn('B'), '/p/1')
  assert.throws(() => { table.checkLimits('C', '/p/1') }, { code: 'ERR_LIMIT_REACHED' })
  table.remove(a.id)
  table.checkLimits('A', '/p/1')
})

test('reset of an unknown id is ERR_STREAM_NOT_FOUND; events announce open and close', () => {
  const table = new StreamTable()
  const seen: string[] = []
  table.addEventListener('stream:opened', e => seen.push(`open ${e.detail.id}`))
  table.addEventListener('stream:closed', e => seen.push(`close ${e.detail.entry.id}`))
  const s = add(table, stubConn('A'))
  assert.throws(() => { table.reset('nope') }, { code: 'ERR_STREAM_NOT_FOUND' })
  table.reset(s.id)
  assert.equal(s.stream.aborted?.name, 'StreamResetError')
  table.remove(s.id)
  table.remove(s.id)
  assert.deepEqual(seen, [`open ${s.id}`, `close ${s.id}`])
})
