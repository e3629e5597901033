/**
 * Several programs serving one protocol on the same daemon: `balanced` shares incoming
 * streams round-robin between their callbacks, a plain registration replaces them, and
 * `unhandle` removes only the calling program's callback.
 */
import { strict as assert } from 'node:assert'
import { after, before, describe, it } from 'node:test'
import { createClient, spawnDaemon } from '../../src/client/index.js'
import type { Libp2pdClient, SpawnedDaemon } from '../../src/client/index.js'

async function ask (from: SpawnedDaemon, to: string, protocol: string): Promise<string> {
  const s = await from.client.openStream(to, protocol)
  s.end()
  let text = ''
  for await (const c of s) text += String(c)
  return text
}

describe('client: several programs handling one protocol', { timeout: 90_000 }, () => {
  let a: SpawnedDaemon
  let b: SpawnedDaemon
  let one: Libp2pdClient
  let two: Libp2pdClient

  before(async () => {
    [a, b] = await Promise.all([spawnDaemon(), spawnDaemon()])
    await a.client.peers.add(b.peerId, b.addrs)
    // two more programs attached to daemon B, besides the one that spawned it
    one = createClient({ url: b.httpAddress })
    two = createClient({ url: b.httpAddress })
  })
  after(async () => {
    await Promise.all([one?.close(), two?.close()])
    await Promise.all([a?.stop(), b?.stop()])
  })

  it('balanced callbacks share the streams round-robin', async () => {
    await one.handle('/test/who/1', s => { s.end('one') }, { balanced: true })
    await two.handle('/test/who/1', s => { s.end('two') }, { balanced: true, callback: 'tcp' })
    const [h] = (await b.client.listHandlers()).filter(x => x.protocol === '/test/who/1')
    assert.equal(h.callbacks.length, 2)
    const answers: string[] = []
    for (let i = 0; i < 6; i++) answers.push(await ask(a, b.peerId, '/test/who/1'))
    assert.equal(answers.filter(x => x === 'one').length, 3, answers.join(' '))
    assert.equal(answers.filter(x => x === 'two').length, 3, answers.join(' '))
  })

  it('unhandle removes only the caller\'s callback', async () => {
    await two.unhandle('/test/who/1')
    const [h] = (await b.client.listHandlers()).filter(x => x.protocol === '/test/who/1')
    assert.equal(h.callbacks.length, 1)
    for (let i = 0; i < 3; i++) assert.equal(await ask(a, b.peerId, '/test/who/1'), 'one')
  })

  it('a plain registration replaces the other program\'s callback', async () => {
    await two.handle('/test/who/1', s => { s.end('two again') })
    const [h] = (await b.client.listHandlers()).filter(x => x.protocol === '/test/who/1')
    assert.equal(h.callbacks.length, 1)
    assert.equal(await ask(a, b.peerId, '/test/who/1'), 'two again')
  })
})
