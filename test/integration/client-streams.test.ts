/**
 * The client library against two real daemons (spawned with `spawnDaemon`, libp2p over TCP
 * on 127.0.0.1): each program handles a protocol and calls the other's. Echo, a
 * request/response protocol, half-close, many concurrent streams, reset and abort.
 */
import { strict as assert } from 'node:assert'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { AbortError, ProtocolNotSupportedError, spawnDaemon } from '../../src/client/index.js'
import type { DaemonEvent, Libp2pdStream, SpawnedDaemon, StreamInfo } from '../../src/client/index.js'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'

async function readAll (s: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of s) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

/** Collects events until `pred` matches one; fails after `ms`. */
async function waitEvent (events: AsyncIterator<DaemonEvent>, pred: (e: DaemonEvent) => boolean, ms = 10_000): Promise<DaemonEvent> {
  const deadline = Date.now() + ms
  while (true) {
    const left = deadline - Date.now()
    if (left <= 0) throw new Error('event did not come')
    let timer: NodeJS.Timeout | undefined
    const r = await Promise.race([events.next(), new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error('event did not come')) }, left) })])
    clearTimeout(timer)
    if (r.done === true) throw new Error('events ended')
    if (pred(r.value)) return r.value
  }
}

function deferred (): { promise: Promise<void>, resolve: () => void } {
  let resolve = (): void => {}
  const promise = new Promise<void>(_resolve => { resolve = _resolve })
  return { promise, resolve }
}

/** A valid peer ID nobody has. */
const GHOST = '12D3KooWGzh9Vxv3tVQuvPMe3NHTMsJrQWs8HT4iaYhoWTrzr2Ua'

/** A "peer" that accepts TCP connections on 127.0.0.1 and never says a word: dials hang. */
async function silentPeer (): Promise<{ address: string, accepted: () => number, open: () => number, close: () => void }> {
  const sockets = new Set<Socket>()
  let accepted = 0
  // it reads (and drops) what it gets, or it would never see the dialer's FIN and its side
  // would sit in CLOSE-WAIT however promptly the daemon closed (that looked like a leak)
  const server = createServer(c => { accepted++; sockets.add(c); c.resume(); c.on('error', () => {}); c.on('close', () => sockets.delete(c)) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    address: `/ip4/127.0.0.1/tcp/${port}`,
    accepted: () => accepted,
    open: () => sockets.size,
    close: () => { for (const c of sockets) c.destroy(); server.close() }
  }
}

describe('client: streams between two programs with their own daemons', { timeout: 120_000 }, () => {
  let a: SpawnedDaemon
  let b: SpawnedDaemon
  const handlerErrors: Array<{ err: Error, protocol?: string }> = []

  before(async () => {
    [a, b] = await Promise.all([spawnDaemon(), spawnDaemon({ http: 'tcp', onError: (err, info) => { handlerErrors.push({ err, protocol: info?.protocol }) } })])
    await a.client.peers.add(b.peerId, b.addrs)
    await b.client.peers.add(a.peerId, a.addrs)
  })
  after(async () => { await Promise.all([a?.stop(), b?.stop()]) })

  it('echo both ways: each program handles a protocol and calls the other', async () => {
    const echo = (s: Libp2pdStream): void => { s.pipe(s) }
    await a.client.handle('/test/echo/1', echo)
    await b.client.handle('/test/echo/1', echo)
    for (const [from, to] of [[a, b], [b, a]]) {
      const s = await from.client.openStream(to.peerId, '/test/echo/1')
      assert.equal(s.info.protocol, '/test/echo/1')
      assert.equal(s.info.remoteID, to.peerId)
      assert.equal(s.info.direction, 'OUTGOING')
      assert.match(s.info.id, /.+/)
      s.end('hello from ' + from.peerId)
      assert.equal((await readAll(s)).toString(), 'hello from ' + from.peerId)
    }
  })

  it('request/response: the caller half-closes, then reads the answer the handler writes after EOF', async () => {
    const seen: StreamInfo[] = []
    await b.client.handle('/test/sum/1', async (s, info) => {
      seen.push(info)
      const numbers = (await readAll(s)).toString().trim().split(/\s+/).map(Number)
      s.end(String(numbers.reduce((x, y) => x + y, 0)))
    })
    const s = await a.client.openStream(b.peerId, ['/test/missing/1', '/test/sum/1'])
    assert.equal(s.info.protocol, '/test/sum/1', 'the first protocol the remote supports wins')
    s.write('1 2 3 ')
    s.end('4 5')
    assert.equal((await readAll(s)).toString(), '15')
    assert.equal(seen.length, 1)
    assert.equal(seen[0].direction, 'INCOMING')
    assert.equal(seen[0].remoteID, a.peerId)
  })

  it('half-close carries 4 MiB one way and a digest back after EOF', async () => {
    await b.client.handle('/test/digest/1', async s => {
      const h = createHash('sha256')
      let n = 0
      for await (const c of s) { h.update(c as Buffer); n += (c as Buffer).byteLength }
      s.end(`${n} ${h.digest('hex')}`)
    })
    const payload = randomBytes(4 << 20)
    const s = await a.client.openStream(b.peerId, '/test/digest/1')
    s.end(payload)
    const answer = (await readAll(s)).toString()
    assert.equal(answer, `${payload.byteLength} ${createHash('sha256').update(payload).digest('hex')}`)
  })

  it('64 concurrent streams on one handler, each with its own payload', async () => {
    let concurrent = 0
    let peak = 0
    await b.client.handle('/test/slow-echo/1', async s => {
      concurrent++
      peak = Math.max(peak, concurrent)
      const data = await readAll(s)
      // hold every stream open for a while so they overlap for sure
      await new Promise(resolve => setTimeout(resolve, 300))
      s.end(data)
      concurrent--
    })
    const results = await Promise.all(Array.from({ length: 64 }, async (_, i) => {
      const s = await a.client.openStream(b.peerId, '/test/slow-echo/1')
      const msg = `stream ${i} ` + randomBytes(1000 + i).toString('hex')
      s.end(msg)
      return (await readAll(s)).toString() === msg
    }))
    assert.equal(results.filter(Boolean).length, 64)
    assert.ok(peak >= 32, `handler ran streams concurrently (peak ${peak})`)
  })

  it('a TCP callback server works the same', async () => {
    await a.client.handle('/test/tcp-echo/1', s => { s.pipe(s) }, { callback: 'tcp' })
    const [h] = (await a.client.listHandlers()).filter(x => x.protocol === '/test/tcp-echo/1')
    assert.match(h.callbacks[0], /^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{32}$/)
    const s = await b.client.openStream(a.peerId, '/test/tcp-echo/1')
    s.end('over tcp')
    assert.equal((await readAll(s)).toString(), 'over tcp')
  })

  it('destroy() resets the stream: both daemons report a reset, the stream is gone', { timeout: 20_000 }, async () => {
    const eventsA = a.client.events()
    const eventsB = b.client.events()
    await Promise.all([eventsA.ready(), eventsB.ready()])
    const itA = eventsA[Symbol.asyncIterator]()
    const itB = eventsB[Symbol.asyncIterator]()
    const handlerClosed = deferred()
    const handlerHas = deferred()
    let handlerError: Error | undefined
    await b.client.handle('/test/sink/1', s => {
      handlerHas.resolve()
      s.resume()
      s.on('error', err => { handlerError = err })
      s.once('close', () => { handlerClosed.resolve() })
    })
    const s = await a.client.openStream(b.peerId, '/test/sink/1')
    s.write('some bytes')
    await waitEvent(itB, e => e.type === 'STREAM_OPENED' && e.protocol === '/test/sink/1')
    await handlerHas.promise
    s.destroy()
    await once(s, 'close')
    const closedA = await waitEvent(itA, e => e.type === 'STREAM_CLOSED' && e.streamId === s.info.id)
    assert.ok(closedA.error !== undefined, 'our daemon closed the stream with an error (reset)')
    const closedB = await waitEvent(itB, e => e.type === 'STREAM_CLOSED' && e.protocol === '/test/sink/1')
    assert.ok(closedB.error !== undefined, `the remote saw a reset: ${JSON.stringify(closedB)}`)
    await handlerClosed.promise
    assert.equal(handlerError?.name, 'StreamResetError', `the handler learns that the stream was reset (got: ${String(handlerError?.stack)})`)
    assert.equal((await a.client.streams.list()).some(x => x.id === s.info.id), false)
    eventsA.close()
    eventsB.close()
  })

  it('a clean close is not a reset', async () => {
    const events = a.client.events()
    await events.ready()
    const it = events[Symbol.asyncIterator]()
    const s = await a.client.openStream(b.peerId, '/test/sum/1')
    s.end('1 1')
    assert.equal((await readAll(s)).toString(), '2')
    const closed = await waitEvent(it, e => e.type === 'STREAM_CLOSED' && e.streamId === s.info.id)
    assert.equal(closed.error, undefined)
    events.close()
  })

  it('a handler that throws resets only its own stream', async () => {
    let n = 0
    await b.client.handle('/test/flaky/1', async s => {
      const data = await readAll(s)
      if (++n === 1) throw new Error('first stream fails')
      s.end(data)
    })
    const first = await a.client.openStream(b.peerId, '/test/flaky/1')
    first.on('error', () => {})
    first.end('one')
    const got = await readAll(first).catch(() => Buffer.alloc(0))
    assert.equal(got.byteLength, 0)
    const second = await a.client.openStream(b.peerId, '/test/flaky/1')
    second.end('two')
    assert.equal((await readAll(second)).toString(), 'two')
    assert.deepEqual(handlerErrors.filter(e => e.protocol === '/test/flaky/1').map(e => e.err.message), ['first stream fails'])
  })

  it('abort: an aborted signal rejects at once; aborting a hanging open is prompt and leaves no stream', async () => {
    await assert.rejects(a.client.openStream(b.peerId, '/test/echo/1', { signal: AbortSignal.abort() }), AbortError)
    const silent = await silentPeer()
    try {
      const ac = new AbortController()
      const started = Date.now()
      setTimeout(() => { ac.abort() }, 300)
      await assert.rejects(a.client.openStream(GHOST, '/test/echo/1', { address: silent.address, signal: ac.signal }), AbortError)
      assert.ok(Date.now() - started < 2000, 'abort is prompt')
      assert.equal(silent.accepted(), 1, 'the daemon was really dialing')
      assert.deepEqual((await a.client.streams.list()).filter(x => x.remoteID === GHOST), [])
      // the daemon is still fine
      assert.equal((await a.client.identity()).peerID, a.peerId)
    } finally {
      silent.close()
    }
  })

  it('the daemon closes the connection of a dial the client aborted', async () => {
    const silent = await silentPeer()
    try {
      await assert.rejects(a.client.openStream(GHOST, '/test/echo/1', { address: silent.address, timeout: 500 }))
      const deadline = Date.now() + 5000
      while (silent.open() > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
      assert.equal(silent.open(), 0)
    } finally {
      silent.close()
    }
  })

  it('unhandle stops delivery; close() deregisters and removes the callback socket', async () => {
    await b.client.unhandle('/test/echo/1')
    await assert.rejects(a.client.openStream(b.peerId, '/test/echo/1'), ProtocolNotSupportedError)
    const extra = await spawnDaemon()
    try {
      await extra.client.handle('/test/extra/1', s => { s.pipe(s) })
      const [h] = (await extra.client.listHandlers()).filter(x => x.protocol === '/test/extra/1')
      const sock = h.callbacks[0].slice('unix:'.length)
      assert.ok(existsSync(sock))
      await extra.client.close()
      assert.equal(existsSync(dirname(sock)), false, 'callback directory removed')
      const { createClient } = await import('../../src/client/index.js')
      const again = createClient({ url: extra.httpAddress })
      assert.deepEqual((await again.listHandlers()).filter(x => x.protocol === '/test/extra/1'), [])
      await again.close()
    } finally {
      await extra.stop()
    }
  })
})
