/**
 * The wait before a DHT query (src/core/routing-table-wait.ts), on a stub node and table: it
 * waits only while the table is empty and a young connection may still add a peer to it, it
 * ends on the table's `peer:add`, at the end of the window, or on abort, and it leaves no
 * listener behind. The end-to-end case (a query just after CONNECT) is in p2pd-dht.test.ts.
 */
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { describe, it } from 'node:test'
import { JOIN_WINDOW_MS, untilRoutingTableUsable } from '../../src/core/routing-table-wait.js'
import type { CoreContext } from '../../src/core/context.js'

const KAD = '/ipfs/kad/1.0.0'

class Table extends EventTarget {
  size = 0
  join (): void {
    this.size++
    this.dispatchEvent(new Event('peer:add'))
  }
}

interface StubConnection {
  /** ms since the connection opened */
  age: number
  /** the protocols the peer store lists for its peer */
  protocols: string[]
  /** whether identify has answered (it writes the peer's versions into the metadata) */
  identified?: boolean
}

/** A node with one connection per entry. */
function stubNode (conns: StubConnection[]): EventTarget & { ctx: CoreContext, getConnections: () => StubConnection[] } {
  const node = new EventTarget() as EventTarget & { ctx: CoreContext, getConnections: () => StubConnection[] }
  const list = conns.map((c, i) => ({ status: 'open', remotePeer: `peer${i}`, timeline: { open: Date.now() - c.age }, ...c }))
  Object.assign(node, {
    getConnections: () => list,
    peerStore: {
      get: async (peer: string) => {
        const c = list.find(x => x.remotePeer === peer)
        if (c === undefined) throw new Error('not found')
        const metadata = new Map<string, Uint8Array>(c.identified === true ? [['ProtocolVersion', new TextEncoder().encode('ipfs/0.1.0')]] : [])
        return { protocols: c.protocols, metadata }
      }
    }
  })
  node.ctx = { node } as unknown as CoreContext
  return node
}

function listeners (node: EventTarget, table: EventTarget, signal: AbortSignal): number {
  return getEventListeners(table, 'peer:add').length + getEventListeners(node, 'peer:identify').length +
    getEventListeners(node, 'connection:close').length + getEventListeners(signal, 'abort').length
}

async function timed (p: Promise<void>): Promise<number> {
  const started = Date.now()
  await p
  return Date.now() - started
}

describe('routing table wait', () => {
  it('does not wait when the table has a peer, or when no connection can add one', async () => {
    const signal = new AbortController().signal
    const full = new Table()
    full.size = 1
    const cases: Array<[Table, ReturnType<typeof stubNode>]> = [
      [full, stubNode([{ age: 0, protocols: [] }])],
      [new Table(), stubNode([])],
      // identified, and not a DHT peer
      [new Table(), stubNode([{ age: 0, protocols: ['/ipfs/id/1.0.0'], identified: true }])],
      // a DHT peer that has had its chance to join
      [new Table(), stubNode([{ age: JOIN_WINDOW_MS + 10, protocols: [KAD], identified: true }])]
    ]
    for (const [table, node] of cases) {
      assert.ok(await timed(untilRoutingTableUsable(node.ctx, { routingTable: table }, signal)) < 100)
      assert.equal(listeners(node, table, signal), 0)
    }
  })

  it('does not wait on a DHT service of another shape', async () => {
    const node = stubNode([{ age: 0, protocols: [] }])
    assert.ok(await timed(untilRoutingTableUsable(node.ctx, { routingTable: { size: 0 } }, new AbortController().signal)) < 100)
    assert.ok(await timed(untilRoutingTableUsable(node.ctx, {}, new AbortController().signal)) < 100)
  })

  it('waits for a young connection to an unidentified peer or a DHT peer, until a peer joins', async () => {
    const candidates: StubConnection[] = [
      { age: 0, protocols: [] },
      // the identify stream is open, its answer has not come: js-libp2p lists the protocol of
      // every stream it negotiates, so a protocol list alone does not mean identified
      { age: 0, protocols: ['/ipfs/id/1.0.0'] },
      { age: 0, protocols: ['/ipfs/id/1.0.0', KAD], identified: true }
    ]
    for (const conn of candidates) {
      const table = new Table()
      const node = stubNode([conn])
      const signal = new AbortController().signal
      setTimeout(() => { table.join() }, 150)
      const ms = await timed(untilRoutingTableUsable(node.ctx, { routingTable: table }, signal))
      assert.ok(ms >= 140 && ms < 1_000, `took ${ms} ms`)
      assert.equal(listeners(node, table, signal), 0)
    }
  })

  it('reads the protocol from the DHT service', async () => {
    const node = stubNode([{ age: 0, protocols: ['/other/kad/1.0.0'], identified: true }])
    const table = new Table()
    setTimeout(() => { table.join() }, 100)
    assert.ok(await timed(untilRoutingTableUsable(node.ctx, { routingTable: table, protocol: '/other/kad/1.0.0' }, new AbortController().signal)) >= 90)
    assert.ok(await timed(untilRoutingTableUsable(node.ctx, { routingTable: new Table() }, new AbortController().signal)) < 100)
  })

  it('looks again when a peer is identified: one that turns out not to speak the DHT ends the wait', async () => {
    const node = stubNode([{ age: 0, protocols: ['/ipfs/id/1.0.0'] }])
    const table = new Table()
    setTimeout(() => {
      Object.assign(node.getConnections()[0], { identified: true })
      node.dispatchEvent(new Event('peer:identify'))
    }, 100)
    const ms = await timed(untilRoutingTableUsable(node.ctx, { routingTable: table }, new AbortController().signal))
    assert.ok(ms >= 90 && ms < 1_000, `took ${ms} ms`)
  })

  it('gives up at the end of the window, or when the query is aborted', async () => {
    const late = stubNode([{ age: JOIN_WINDOW_MS - 150, protocols: [KAD], identified: true }])
    const table = new Table()
    const signal = new AbortController().signal
    const ms = await timed(untilRoutingTableUsable(late.ctx, { routingTable: table }, signal))
    assert.ok(ms >= 100 && ms < 1_000, `took ${ms} ms`)
    assert.equal(listeners(late, table, signal), 0)

    const young = stubNode([{ age: 0, protocols: [KAD], identified: true }])
    const ac = new AbortController()
    setTimeout(() => { ac.abort() }, 100)
    const aborted = await timed(untilRoutingTableUsable(young.ctx, { routingTable: table }, ac.signal))
    assert.ok(aborted >= 90 && aborted < 1_000, `took ${aborted} ms`)
    assert.equal(listeners(young, table, ac.signal), 0)
  })
})
