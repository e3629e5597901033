/**
 * NDJSON reading of the client against stub node:http servers: lines split anywhere across
 * chunks (even inside a UTF-8 character), error lines as named errors, and streaming calls
 * and subscriptions that end cleanly (connection closed) on abort and `break`.
 */
import { strict as assert } from 'node:assert'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { Libp2pdError, PeerNotFoundError, ServiceNotEnabledError, TimeoutError } from '../../src/client/errors.js'
import { NdjsonReader, ndjsonCall } from '../../src/client/ndjson.js'
import { Subscription } from '../../src/client/subscription.js'
import { HttpTransport } from '../../src/client/transport.js'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

async function * chunks (parts: Array<Buffer | string>): AsyncGenerator<Buffer | string> {
  for (const p of parts) yield p
}

async function readAllLines (reader: NdjsonReader): Promise<unknown[]> {
  const out: unknown[] = []
  for (let v = await reader.next(); v !== undefined; v = await reader.next()) out.push(v)
  return out
}

describe('client NdjsonReader', () => {
  const text = '{"a":"héllo 🌍"}\n\n{"b":[1,2,3]}\r\n{"c":"last line without newline"}'
  const expected = [{ a: 'héllo 🌍' }, { b: [1, 2, 3] }, { c: 'last line without newline' }]

  it('reads lines split at every byte position, two pieces', async () => {
    const bytes = Buffer.from(text)
    for (let i = 0; i <= bytes.byteLength; i++) {
      const got = await readAllLines(new NdjsonReader(chunks([bytes.subarray(0, i), bytes.subarray(i)])))
      assert.deepEqual(got, expected, `split at ${i}`)
    }
  })

  it('reads lines delivered one byte at a time', async () => {
    const bytes = Buffer.from(text)
    const parts = [...bytes].map(b => Buffer.from([b]))
    assert.deepEqual(await readAllLines(new NdjsonReader(chunks(parts))), expected)
  })

  it('turns an {error, code} line into the named error, after the lines before it', async () => {
    const reader = new NdjsonReader(chunks(['{"peerID":"x"}\n{"error":"gone","co', 'de":"ERR_PEER_NOT_FOUND"}\n']))
    assert.deepEqual(await reader.next(), { peerID: 'x' })
    await assert.rejects(reader.next(), (err: any) => err instanceof PeerNotFoundError && err.message === 'gone' && err.code === 'ERR_PEER_NOT_FOUND')
  })

  it('does not mistake an object with an error field for an error line', async () => {
    const reader = new NdjsonReader(chunks(['{"type":"STREAM_CLOSED","error":"reset","code":"x"}\n']))
    assert.deepEqual(await reader.next(), { type: 'STREAM_CLOSED', error: 'reset', code: 'x' })
  })

  it('rejects a line that is not JSON', async () => {
    const reader = new NdjsonReader(chunks(['{"a":1}\nnot json\n']))
    assert.deepEqual(await reader.next(), { a: 1 })
    await assert.rejects(reader.next(), (err: any) => err instanceof Libp2pdError && err.code === 'ERR_BAD_RESPONSE')
  })
})

describe('client streaming calls against a stub server', () => {
  let server: Server
  let transport: HttpTransport
  let closedRequests = 0
  let handler: (req: IncomingMessage, res: ServerResponse) => void = () => {}

  before(async () => {
    server = createServer((req, res) => {
      req.socket.once('close', () => { closedRequests++ })
      handler(req, res)
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    transport = new HttpTransport({ kind: 'tcp', host: '127.0.0.1', port: (server.address() as { port: number }).port }, undefined, 5000)
  })
  after(() => { transport.close(); server.closeAllConnections(); server.close() })

  /** A server that writes `n` lines, each split in two writes, then keeps the response open. */
  const endless = (req: IncomingMessage, res: ServerResponse): void => {
    assert.equal(req.headers.accept, 'application/x-ndjson')
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    let i = 0
    const timer = setInterval(() => {
      const line = JSON.stringify({ peerID: `peer-${i++}`, addresses: [] })
      res.write(line.slice(0, 7))
      res.write(line.slice(7) + '\n')
    }, 5)
    res.on('close', () => { clearInterval(timer) })
  }

  it('yields lines, and break closes the connection', async () => {
    handler = endless
    const before = closedRequests
    const got: string[] = []
    for await (const p of ndjsonCall(transport, { method: 'POST', path: '/x', body: {} }, {}, (l: any) => l.peerID as string)) {
      got.push(p)
      if (got.length === 5) break
    }
    assert.deepEqual(got, ['peer-0', 'peer-1', 'peer-2', 'peer-3', 'peer-4'])
    const deadline = Date.now() + 2000
    while (closedRequests === before && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
    assert.equal(closedRequests, before + 1, 'the server saw the connection close')
  })

  it('abort mid-stream ends the iteration without an error', async () => {
    handler = endless
    const ac = new AbortController()
    const got: unknown[] = []
    for await (const p of ndjsonCall(transport, { method: 'POST', path: '/x' }, { signal: ac.signal }, l => l)) {
      got.push(p)
      // abort from outside the loop while it waits for more
      if (got.length === 3) setTimeout(() => { ac.abort() }, 20)
    }
    assert.ok(got.length >= 3)
  })

  it('an error status before the stream is the named error; an error line at the end is too', async () => {
    handler = (_req, res) => { res.writeHead(409, { 'content-type': 'application/json' }).end('{"error":"DHT not enabled","code":"ERR_DHT_NOT_ENABLED"}') }
    await assert.rejects(async () => { for await (const _ of ndjsonCall(transport, { method: 'POST', path: '/x' }, {}, l => l)) { /* drain */ } }, ServiceNotEnabledError)
    handler = (_req, res) => { res.writeHead(200).end('{"value":"AA=="}\n{"error":"timed out","code":"ERR_TIMEOUT"}\n') }
    const got: unknown[] = []
    await assert.rejects(async () => { for await (const v of ndjsonCall(transport, { method: 'POST', path: '/x' }, {}, l => l)) got.push(v) }, TimeoutError)
    assert.deepEqual(got, [{ value: 'AA==' }])
  })

  it('timeout bounds the whole iteration', async () => {
    handler = endless
    const started = Date.now()
    await assert.rejects(async () => { for await (const _ of ndjsonCall(transport, { method: 'POST', path: '/x' }, { timeout: 150 }, l => l)) { /* drain */ } }, TimeoutError)
    assert.ok(Date.now() - started < 1000)
  })

  it('a subscription is ready after its marker line and skips it', async () => {
    handler = (_req, res) => {
      res.writeHead(200)
      res.write('{"subscr')
      setTimeout(() => { res.write('ibed":"t"}\n{"topic":"t","data":"aGk="}\n') }, 20)
    }
    const sub = new Subscription(transport, { method: 'POST', path: '/s' }, undefined, l => l.subscribed === 't', (l: any) => l.data as string)
    await sub.ready()
    for await (const d of sub) {
      assert.equal(d, 'aGk=')
      break
    }
    // iterating again is refused; close is idempotent
    sub.close()
    sub.close()
  })

  it('a subscription closed before it is used never leaves an unhandled rejection', async () => {
    handler = (_req, res) => { res.writeHead(409).end('{"error":"PubSub not enabled","code":"ERR_PUBSUB_NOT_ENABLED"}') }
    const sub = new Subscription(transport, { method: 'POST', path: '/s' }, undefined, () => true, l => l)
    await assert.rejects(sub.ready(), ServiceNotEnabledError)
    const quiet = new Subscription(transport, { method: 'POST', path: '/s' }, undefined, () => true, l => l)
    quiet.close()
    await new Promise(resolve => setTimeout(resolve, 50))
  })
})
