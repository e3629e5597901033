/**
 * The registrar's handler lookup after `patchHandlerLookups` (src/host/unhandled-lookup.ts),
 * on a real js-libp2p node: a miss throws what js-libp2p expects (the name its callers test,
 * the same message) without a captured stack; a hit answers as before.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createLibp2p } from 'libp2p'
import { patchHandlerLookups } from '../../src/host/unhandled-lookup.js'

async function registrarOfNewNode (): Promise<{ registrar: any, stop: () => Promise<void>, node: any }> {
  const node: any = await createLibp2p({ start: false })
  return { node, registrar: node.components.registrar, stop: async () => { await node.stop() } }
}

describe('registrar handler lookups', () => {
  it('the installed js-libp2p has the registrar shape the patch was written for', async () => {
    const { registrar, stop } = await registrarOfNewNode()
    assert.equal(patchHandlerLookups(registrar), true)
    await stop()
  })

  it('a miss throws an UnhandledProtocolError with the stock message and no stack frames', async () => {
    const { registrar, stop } = await registrarOfNewNode()
    let stock: any
    try { registrar.getHandler('/nobody/1') } catch (err) { stock = err }
    assert.equal(stock?.name, 'UnhandledProtocolError')
    assert.match(String(stock.stack), /\n\s+at /, 'the stock error captures a stack')

    patchHandlerLookups(registrar)
    let patched: any
    try { registrar.getHandler('/nobody/1') } catch (err) { patched = err }
    assert.equal(patched?.name, stock.name)
    assert.equal(patched.message, stock.message)
    assert.ok(patched instanceof Error)
    assert.doesNotMatch(String(patched.stack), /\n\s+at /)
    // the limit is restored for everyone else
    assert.match(String(new Error('x').stack), /\n\s+at /)
    await stop()
  })

  it('a hit returns the registered handler, and handlers added later are found', async () => {
    const { node, registrar, stop } = await registrarOfNewNode()
    patchHandlerLookups(registrar)
    const handler = (): void => {}
    await node.handle('/later/1', handler, { maxOutboundStreams: 7 })
    const found = registrar.getHandler('/later/1')
    assert.equal(found.handler, handler)
    assert.equal(found.options.maxOutboundStreams, 7)
    await node.unhandle('/later/1')
    assert.throws(() => registrar.getHandler('/later/1'), { name: 'UnhandledProtocolError' })
    await stop()
  })

  it('leaves a registrar of another shape alone', () => {
    const other = { getHandler: () => 'x' }
    assert.equal(patchHandlerLookups(other), false)
    assert.equal(other.getHandler(), 'x')
    assert.equal(patchHandlerLookups(undefined), false)
  })
})
