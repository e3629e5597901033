/**
 * The client against a daemon that answers wrongly, or not at all (stub node:http servers):
 * every call settles within its bound with a named error, and nothing it receives can
 * throw outside a call (which would end the program).
 */
import { strict as assert } from 'node:assert'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { daemonBounded } from '../../src/client/codec.js'
import { createClient } from '../../src/client/index.js'
import { DaemonUnreachableError, Libp2pdError, NotFoundError, TimeoutError, errorFromResponse } from '../../src/client/errors.js'
import { ndjsonCall } from '../../src/client/ndjson.js'
import { connectStream } from '../../src/client/stream-socket.js'
import { Subscription } from '../../src/client/subscription.js'
import { HttpTransport } from '../../src/client/transport.js'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

let dir: string
let server: Server
let api: string
let handler: (req: IncomingMessage, res: ServerResponse) => void = () => {}
/** Requests the stub received, as `METHOD url`. */
const seen: string[] = []

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'client-bad-daemon-'))
  api = join(dir, 'api.sock')
  server = createServer((req, res) => { seen.push(`${String(req.method)} ${String(req.url)}`); handler(req, res) })
  server.listen(api)
  await once(server, 'listening')
})
after(async () => { server.closeAllConnections(); server.close(); await rm(dir, { recursive: true, force: true }) })

const elapsed = (since: number): number => Date.now() - since

describe('client: error codes from the daemon', () => {
  it('a code that names an Object.prototype member is just an unknown code', () => {
    for (const code of ['__proto__', 'toString', 'constructor', 'hasOwnProperty']) {
      const e = errorFromResponse(500, { error: 'boom', code })
      assert.ok(e instanceof Libp2pdError, code)
      assert.equal(e.code, code)
      assert.ok(errorFromResponse(404, { error: 'x', code }) instanceof NotFoundError, `${code}: the status decides`)
    }
  })

  it('such a code on a streaming call rejects the call instead of ending the program', async () => {
    handler = (_req, res) => { res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom","code":"__proto__"}') }
    const transport = new HttpTransport({ kind: 'unix', path: api }, undefined, 2000)
    const sub = new Subscription(transport, { method: 'POST', path: '/s' }, undefined, () => true, l => l)
    await assert.rejects(sub.ready(), (e: any) => e instanceof Libp2pdError && e.message === 'boom')
    await assert.rejects(async () => { for await (const _ of ndjsonCall(transport, { method: 'POST', path: '/x' }, {}, l => l)) { /* drain */ } }, Libp2pdError)
    transport.close()
  })
})

describe('client: timeouts', () => {
  it('a negative timeout (a deadline already past) fails at once, without a request; NaN is refused', async () => {
    const client = createClient({ socketPath: api })
    const before = seen.length
    const started = Date.now()
    await assert.rejects(client.identity({ timeout: -5 }), TimeoutError)
    await assert.rejects(client.connect('QmX', [], { timeout: -5 }), TimeoutError)
    assert.ok(elapsed(started) < 100)
    await assert.rejects(client.identity({ timeout: Number.NaN }), TypeError)
    assert.equal(seen.length, before, 'nothing was sent')
    await client.close()
  })

  it('0 or Infinity mean no client timeout, and the daemon its longest', () => {
    for (const timeout of [0, Infinity]) assert.deepEqual(daemonBounded({ timeout }), { seconds: 600, limits: { signal: undefined, timeout: 0 } })
    assert.equal(daemonBounded({}, false).limits.idle, 62_000, 'a search without a timeout: each line within the daemon default plus grace')
  })

  it('a search whose daemon goes silent after the headers fails after `idle`, not never', async () => {
    handler = (_req, res) => { res.writeHead(200, { 'content-type': 'application/x-ndjson' }); res.write('{"peerID":"a"}\n') }
    const transport = new HttpTransport({ kind: 'unix', path: api }, undefined, 2000)
    const got: unknown[] = []
    const started = Date.now()
    await assert.rejects(async () => { for await (const l of ndjsonCall(transport, { method: 'POST', path: '/x' }, { idle: 200 }, l => l)) got.push(l) }, TimeoutError)
    assert.deepEqual(got, [{ peerID: 'a' }])
    assert.ok(elapsed(started) < 1500)
    transport.close()
  })
})

describe('client: subscriptions that are never confirmed', () => {
  const sub = (transport: HttpTransport, signal?: AbortSignal): Subscription<unknown> =>
    new Subscription(transport, { method: 'POST', path: '/s' }, signal, l => l.subscribed === 't', l => l)

  it('headers and then silence: ready() fails after the client timeout', async () => {
    handler = (_req, res) => { res.writeHead(200, { 'content-type': 'application/x-ndjson' }); res.flushHeaders() }
    const transport = new HttpTransport({ kind: 'unix', path: api }, undefined, 300)
    const started = Date.now()
    await assert.rejects(sub(transport).ready(), TimeoutError)
    assert.ok(elapsed(started) < 1500)
    transport.close()
  })

  it('an answer that ends before the marker is an error; the program closing first is not', async () => {
    const transport = new HttpTransport({ kind: 'unix', path: api }, undefined, 2000)
    handler = (_req, res) => { res.writeHead(200).end() }
    await assert.rejects(sub(transport).ready(), (e: any) => e instanceof Libp2pdError && e.code === 'ERR_BAD_RESPONSE')
    handler = (_req, res) => { res.writeHead(200).end('{"topic":"t"}\n') }
    await assert.rejects(sub(transport).ready(), (e: any) => e instanceof Libp2pdError && e.code === 'ERR_BAD_RESPONSE')
    handler = (_req, res) => { res.writeHead(200, { 'content-type': 'application/x-ndjson' }); res.flushHeaders() }
    const ac = new AbortController()
    const early = sub(transport, ac.signal)
    setTimeout(() => { ac.abort() }, 50)
    await early.ready()
    transport.close()
  })
})

describe('client: answers of the wrong shape', () => {
  it('a result line of the wrong shape is ERR_BAD_RESPONSE, after the good ones', async () => {
    handler = (_req, res) => { res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end('{"subscribed":"t"}\n{"topic":"t","data":"aGk="}\nnull\n') }
    const client = createClient({ socketPath: api })
    const got: unknown[] = []
    await assert.rejects(async () => { for await (const m of client.pubsub.subscribe('t')) got.push(m.data) }, (e: any) => e instanceof Libp2pdError && e.code === 'ERR_BAD_RESPONSE')
    assert.deepEqual(got, [new Uint8Array(Buffer.from('hi'))])
    await client.close()
  })

  it('a 200 that is not JSON is ERR_BAD_RESPONSE', async () => {
    handler = (_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hi</html>') }
    const client = createClient({ socketPath: api })
    await assert.rejects(client.identity(), (e: any) => e instanceof Libp2pdError && e.code === 'ERR_BAD_RESPONSE')
    await client.close()
  })

  it('a stream open answered without a socketPath: ERR_BAD_RESPONSE, and the stream is reset', async () => {
    handler = (req, res) => {
      if (req.method === 'POST') res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"s9","socketPath":7}')
      else res.writeHead(204).end()
    }
    const client = createClient({ socketPath: api })
    await assert.rejects(client.openStream('QmPeer', '/p/1'), (e: any) => e instanceof Libp2pdError && e.code === 'ERR_BAD_RESPONSE')
    const deadline = Date.now() + 2000
    while (!seen.includes('DELETE /api/daemon/streams/s9') && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
    assert.ok(seen.includes('DELETE /api/daemon/streams/s9'))
    await client.close()
  })

  it('a stream socket that refuses while the stream lives: unreachable, asked before the reset', async () => {
    const path = join(dir, 'not-a-socket')
    await writeFile(path, 'x')
    const log: string[] = []
    const ops = {
      reset: async (id: string) => { log.push(`reset ${id}`) },
      exists: async (id: string) => { log.push(`exists ${id}`); return true }
    }
    const info = { id: 's1', localAddr: '', localID: 'me', remoteAddr: '', remoteID: 'them', createdAt: '', direction: 'OUTGOING' as const, socketPath: path, protocol: '/p/1' }
    await assert.rejects(connectStream(info, ops), DaemonUnreachableError)
    assert.deepEqual(log, ['exists s1', 'reset s1'])
  })
})

describe('client: a pooled connection that fails', () => {
  /** Answers the first request on each connection, then drops the connection after `holdMs` for later ones. */
  const dropOnReuse = (holdMs: number) => {
    const count = new WeakMap<Socket, number>()
    return (req: IncomingMessage, res: ServerResponse): void => {
      const n = (count.get(req.socket) ?? 0) + 1
      count.set(req.socket, n)
      if (n === 1 && req.url === '/warm') { res.writeHead(200, { 'content-type': 'application/json' }).end('{}'); return }
      setTimeout(() => { req.socket.destroy() }, holdMs)
    }
  }

  it('a POST is not sent twice: the daemon may have acted on it', async () => {
    const transport = new HttpTransport({ kind: 'unix', path: api }, undefined, 2000)
    handler = dropOnReuse(100)
    await transport.json({ method: 'GET', path: '/warm' })
    const before = seen.length
    await assert.rejects(transport.json({ method: 'POST', path: '/publish', body: {} }), DaemonUnreachableError)
    assert.deepEqual(seen.slice(before), ['POST /publish'])
    transport.close()
  })

  it('a GET is sent again, within what is left of its timeout', async () => {
    const transport = new HttpTransport({ kind: 'unix', path: api }, undefined, 2000)
    handler = dropOnReuse(600)
    await transport.json({ method: 'GET', path: '/warm' })
    const before = seen.length
    const started = Date.now()
    await assert.rejects(transport.json({ method: 'GET', path: '/slow' }, { timeout: 1000 }), TimeoutError)
    assert.ok(elapsed(started) < 1400, `${elapsed(started)} ms`)
    assert.deepEqual(seen.slice(before), ['GET /slow', 'GET /slow'])
    transport.close()
  })
})
