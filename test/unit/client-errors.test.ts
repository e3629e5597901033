/**
 * The client's error mapping and transport edge cases against stub node:http servers:
 * `{error, code}` to named classes, odd bodies, timeouts, aborts, a daemon that is not
 * there; plus endpoint parsing and the command line built for a spawned daemon.
 */
import { strict as assert } from 'node:assert'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  AbortError, BadRequestError, DaemonUnreachableError, DialFailedError, HandlerNotFoundError, Libp2pdError, LimitReachedError, NotFoundError,
  PeerNotFoundError, ProtocolNotSupportedError, ServiceNotEnabledError, StreamNotFoundError, TimeoutError, UnauthorizedError, createClient, daemonArgs, errorFromResponse, parseEndpoint
} from '../../src/client/index.js'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

describe('client errorFromResponse', () => {
  const cases: Array<[number, string, Function]> = [
    [404, 'ERR_PEER_NOT_FOUND', PeerNotFoundError],
    [404, 'ERR_STREAM_NOT_FOUND', StreamNotFoundError],
    [404, 'ERR_HANDLER_NOT_FOUND', HandlerNotFoundError],
    [404, 'ERR_NOT_FOUND', NotFoundError],
    [400, 'ERR_INVALID_PEER_ID', BadRequestError],
    [401, 'ERR_UNAUTHORIZED', UnauthorizedError],
    [409, 'ERR_PUBSUB_NOT_ENABLED', ServiceNotEnabledError],
    [429, 'ERR_LIMIT_REACHED', LimitReachedError],
    [502, 'ERR_DIAL_FAILED', DialFailedError],
    [502, 'ERR_PROTOCOL_NOT_SUPPORTED', ProtocolNotSupportedError],
    [504, 'ERR_TIMEOUT', TimeoutError],
    [404, 'ERR_SOMETHING_NEW', NotFoundError],
    [500, 'ERR_INTERNAL', Libp2pdError]
  ]
  for (const [status, code, cls] of cases) {
    it(`${status} ${code} → ${cls.name}`, () => {
      const err = errorFromResponse(status, { error: 'msg', code })
      assert.ok(err instanceof cls)
      assert.ok(err instanceof Libp2pdError)
      assert.equal(err.name, cls.name)
      assert.equal(err.code, code)
      assert.equal(err.status, status)
      assert.equal(err.message, 'msg')
    })
  }
  it('a body without code or message still gives a useful error', () => {
    const err = errorFromResponse(503, undefined)
    assert.equal(err.code, 'ERR_HTTP_503')
    assert.match(err.message, /503/)
  })
})

describe('client transport against a stub server', () => {
  let server: Server
  let dir: string
  let handler: (req: IncomingMessage, res: ServerResponse) => void = () => {}

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'client-unit-'))
    server = createServer((req, res) => { handler(req, res) })
    server.listen(join(dir, 'api.sock'))
    await once(server, 'listening')
  })
  after(async () => { server.closeAllConnections(); server.close(); await rm(dir, { recursive: true, force: true }) })

  it('sends JSON, parses JSON, and 204 is undefined; the token is a bearer header', async () => {
    const seen: Array<{ method?: string, url?: string, auth?: string, type?: string, body: string }> = []
    handler = (req, res) => {
      let body = ''
      req.on('data', c => { body += String(c) })
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, type: req.headers['content-type'], body })
        if (req.method === 'POST') res.writeHead(204).end()
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{"peerID":"me","addresses":[],"protocols":[],"agentVersion":"a","version":"v"}')
      })
    }
    const client = createClient({ socketPath: join(dir, 'api.sock'), token: 's3cret' })
    assert.equal((await client.identity()).peerID, 'me')
    assert.equal(await client.peers.add('QmPeer', ['/ip4/127.0.0.1/tcp/1']), undefined)
    await client.unhandle('/a b/1').catch(() => {})
    assert.deepEqual(seen[0], { method: 'GET', url: '/api/daemon/identity', auth: 'Bearer s3cret', type: undefined, body: '' })
    assert.equal(seen[1].type, 'application/json')
    assert.deepEqual(JSON.parse(seen[1].body), { peerID: 'QmPeer', addresses: ['/ip4/127.0.0.1/tcp/1'] })
    assert.equal(seen[2].url, '/api/daemon/handlers/%2Fa%20b%2F1', 'path segments are encoded')
    await client.close()
  })

  it('maps error JSON, and non-JSON error bodies, to named errors', async () => {
    const client = createClient({ socketPath: join(dir, 'api.sock') })
    handler = (_req, res) => { res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"peer x not in the peerstore","code":"ERR_PEER_NOT_FOUND"}') }
    const e1 = await client.peers.get('x').catch((e: unknown) => e)
    assert.ok(e1 instanceof PeerNotFoundError)
    assert.equal(e1.status, 404)
    handler = (_req, res) => { res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>') }
    const e2 = await client.version().catch((e: unknown) => e)
    assert.ok(e2 instanceof Libp2pdError)
    assert.equal(e2.status, 502)
    assert.equal(e2.code, 'ERR_HTTP_502')
    assert.match(e2.message, /Bad gateway/)
    await client.close()
  })

  it('a daemon that does not answer: TimeoutError; an abort: AbortError; both prompt', async () => {
    handler = () => {} // never answers
    const client = createClient({ socketPath: join(dir, 'api.sock'), timeout: 150 })
    let started = Date.now()
    const t = await client.identity().catch((e: unknown) => e)
    assert.ok(t instanceof TimeoutError)
    assert.equal(t.status, 0)
    assert.ok(Date.now() - started < 1000)
    started = Date.now()
    const ac = new AbortController()
    setTimeout(() => { ac.abort() }, 50)
    const a = await client.identity({ signal: ac.signal, timeout: 10_000 }).catch((e: unknown) => e)
    assert.ok(a instanceof AbortError)
    assert.equal(a.code, 'ABORT_ERR')
    assert.ok(Date.now() - started < 1000)
    await assert.rejects(client.identity({ signal: AbortSignal.abort() }), AbortError)
    await client.close()
  })

  it('no daemon: DaemonUnreachableError (missing socket, refused port)', async () => {
    for (const client of [createClient({ socketPath: join(dir, 'nobody.sock') }), createClient({ url: 'http://127.0.0.1:1' })]) {
      const e = await client.identity().catch((err: unknown) => err)
      assert.ok(e instanceof DaemonUnreachableError, String(e))
      assert.equal(e.code, 'ERR_DAEMON_UNREACHABLE')
      await client.close()
    }
  })
})

describe('client endpoints and daemon command lines', () => {
  it('parses every address form', () => {
    assert.deepEqual(parseEndpoint('/unix/tmp/x.sock'), { kind: 'unix', path: '/tmp/x.sock' })
    assert.deepEqual(parseEndpoint('unix:/tmp/x.sock'), { kind: 'unix', path: '/tmp/x.sock' })
    assert.deepEqual(parseEndpoint('/ip4/127.0.0.1/tcp/5001'), { kind: 'tcp', host: '127.0.0.1', port: 5001 })
    assert.deepEqual(parseEndpoint('/ip6/::1/tcp/5001'), { kind: 'tcp', host: '::1', port: 5001 })
    assert.deepEqual(parseEndpoint('http://[::1]:8080'), { kind: 'tcp', host: '::1', port: 8080 })
    assert.throws(() => parseEndpoint('https://127.0.0.1:1'), TypeError)
    assert.throws(() => parseEndpoint('nonsense'), TypeError)
  })

  it('builds p2pd-style flags from typed options', () => {
    assert.deepEqual(daemonArgs({}, '/tmp/d'), [
      '-listen=/unix/tmp/d/p2pd.sock', '-httpListen=/unix/tmp/d/http.sock', '-socketDir=/tmp/d/streams', '-hostAddrs=/ip4/127.0.0.1/tcp/0', '-logLevel=warn'
    ])
    const args = daemonArgs({
      http: 'tcp',
      dht: 'server',
      pubsub: true,
      pubsubRouter: 'floodsub',
      connManager: { low: 2, high: 4, grace: '1s' },
      bootstrapPeers: ['/ip4/127.0.0.1/tcp/4001/p2p/QmX'],
      echo: false,
      flags: { natPortMap: true, connHi: 9 }
    }, '/tmp/d')
    for (const flag of ['-httpListen=/ip4/127.0.0.1/tcp/0', '-dhtServer=true', '-pubsub=true', '-pubsubRouter=floodsub', '-connManager=true',
      '-connLo=2', '-connHi=9', '-connGrace=1s', '-b=true', '-bootstrapPeers=/ip4/127.0.0.1/tcp/4001/p2p/QmX', '-echo=false', '-natPortMap=true']) {
      assert.ok(args.includes(flag), `${flag} in ${args.join(' ')}`)
    }
    assert.ok(daemonArgs({ dht: true }, '/t').includes('-dht=true'))
    assert.ok(daemonArgs({ token: 'abc' }, '/t').includes('-apiToken=abc'))
    assert.ok(daemonArgs({ dht: 'client' }, '/t').includes('-dhtClient=true'))
  })
})
