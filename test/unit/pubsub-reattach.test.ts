/**
 * Which connection `reattachPubsub` (src/host/pubsub-reattach.ts) hands back to the router
 * after a close, on a stub node and router: only one that was open before the close, never
 * while an outbound stream on it is still negotiating (it may be the router's own), and
 * nothing while the peer is still attached. The real routers across duplicate connections
 * are in pubsub-duplicate-connections.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { reattachPubsub } from '../../src/host/pubsub-reattach.js'
import { sleep } from '../integration/helpers/program.js'

const FLOODSUB = '/floodsub/1.0.0'
/** More than the settle time the reattachment waits after a close. */
const AFTER_SETTLE_MS = 400

interface StubStream { direction: 'inbound' | 'outbound', status: string, writeStatus: string, protocol?: string }
interface StubConnection { id: string, status: string, remotePeer: string, timeline: { open: number, close?: number }, streams: StubStream[] }

function setup (): { node: any, conns: StubConnection[], calls: string[], close: (c: StubConnection) => void, stop: () => void } {
  const conns: StubConnection[] = []
  const node: any = new EventTarget()
  node.getConnections = (peer: string) => conns.filter(c => c.remotePeer === peer)
  const calls: string[] = []
  const router = { protocol: FLOODSUB, _onPeerConnected: (peer: string, conn: StubConnection) => { calls.push(`${peer} ${conn.id}`) } }
  const { installed, stop } = reattachPubsub(node, router)
  assert.equal(installed, true)
  const close = (c: StubConnection): void => {
    c.status = 'closed'
    c.timeline.close = Date.now()
    node.dispatchEvent(new CustomEvent('connection:close', { detail: c }))
  }
  return { node, conns, calls, close, stop }
}

const conn = (id: string, openedAgo: number, streams: StubStream[] = []): StubConnection =>
  ({ id, status: 'open', remotePeer: 'B', timeline: { open: Date.now() - openedAgo }, streams })

const floodsubOut = (): StubStream => ({ direction: 'outbound', status: 'open', writeStatus: 'writable', protocol: FLOODSUB })

/** Connections `first` (carrying the pubsub streams) and `others` to B; `first` closes. */
function closeFirst (...others: StubConnection[]): ReturnType<typeof setup> {
  const made = setup()
  const first = conn('first', 1000, [floodsubOut()])
  made.conns.push(first, ...others)
  made.close(first)
  return made
}

describe('pubsub reattachment', () => {
  it('hands the router a connection that was open before the close', async () => {
    const { calls, stop } = closeFirst(conn('second', 500))
    await sleep(AFTER_SETTLE_MS)
    assert.deepEqual(calls, ['B second'])
    stop()
  })

  it('leaves a connection opened after the close to the router\'s own identify', async () => {
    const { conns, calls, stop } = closeFirst()
    await sleep(5)
    conns.push(conn('newer', 0))
    await sleep(AFTER_SETTLE_MS)
    assert.deepEqual(calls, [])
    stop()
  })

  it('waits while an outbound stream on it is still negotiating, then looks again', async () => {
    const negotiating: StubStream = { ...floodsubOut(), protocol: '' }
    const { calls, stop } = closeFirst(conn('second', 500, [negotiating]))
    await sleep(AFTER_SETTLE_MS)
    assert.deepEqual(calls, [], 'not while a stream negotiates')
    // it turned out to be another protocol's: the router still needs the connection
    negotiating.protocol = '/other/1.0.0'
    await sleep(AFTER_SETTLE_MS)
    assert.deepEqual(calls, ['B second'])
    stop()
  })

  it('does nothing while the peer is still attached through a writable outbound stream', async () => {
    const { calls, stop } = closeFirst(conn('second', 500, [floodsubOut()]))
    await sleep(AFTER_SETTLE_MS)
    assert.deepEqual(calls, [])
    stop()
  })
})
