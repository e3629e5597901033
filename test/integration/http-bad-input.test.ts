/**
 * Bad input never crashes or hangs the daemon: a table of requests with the status and
 * stable code each gets, plus raw protocol garbage. Also the plane's endpoint hygiene:
 * socket mode 0600, stale socket replaced, live socket not stolen, loopback-only TCP.
 */
import assert from 'node:assert/strict'
import { createServer as createNetServer, connect } from 'node:net'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { spawnDaemon } from './helpers/daemon.js'
import { request } from './helpers/http.js'
import type { SpawnedDaemon } from './helpers/daemon.js'

const OTHER = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
/** Never used in a request that would put it in the peerstore. */
const STRANGER = '12D3KooWArv2QsKdosLEHWSpAprH4D55s9moCfqmhcB8eRa9cWiM'

interface Case { name: string, method: string, path: string, body?: unknown, headers?: Record<string, string>, status: number, code: string }

describe('HTTP API bad input', () => {
  let d: SpawnedDaemon
  before(async () => { d = await spawnDaemon() })
  after(async () => { await d?.stop() })

  const cases = (): Case[] => {
    const self = d.peerId
    const streams = `/api/daemon/peers/${OTHER}/streams`
    const handler = (callback: unknown, protocols: unknown = ['/x/1']): Partial<Case> => ({ method: 'POST', path: '/api/daemon/handlers', body: { protocols, callback } })
    return [
      { name: 'unknown route', method: 'GET', path: '/api/nope', status: 404, code: 'ERR_ROUTE_NOT_FOUND' },
      { name: 'wrong method', method: 'DELETE', path: '/api/daemon/peers', status: 404, code: 'ERR_ROUTE_NOT_FOUND' },
      { name: 'peers: no body', method: 'POST', path: '/api/daemon/peers', status: 400, code: 'ERR_BAD_REQUEST' },
      { name: 'peers: invalid JSON', method: 'POST', path: '/api/daemon/peers', body: '{"peerID":', headers: { 'content-type': 'application/json' }, status: 400, code: 'ERR_BAD_REQUEST' },
      { name: 'peers: text/plain', method: 'POST', path: '/api/daemon/peers', body: 'hello', headers: { 'content-type': 'text/plain' }, status: 415, code: 'ERR_UNSUPPORTED_MEDIA_TYPE' },
      { name: 'peers: body over 1 MiB (declared)', method: 'POST', path: '/api/daemon/peers', body: '{}', headers: { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) }, status: 413, code: 'ERR_PAYLOAD_TOO_LARGE' },
      { name: 'peers: JSON array', method: 'POST', path: '/api/daemon/peers', body: [1, 2], status: 400, code: 'ERR_BAD_REQUEST' },
      { name: 'peers: bad peer ID', method: 'POST', path: '/api/daemon/peers', body: { peerID: 'not-a-peer', addresses: [] }, status: 400, code: 'ERR_INVALID_PEER_ID' },
      { name: 'peers: bad multiaddr', method: 'POST', path: '/api/daemon/peers', body: { peerID: OTHER, addresses: ['/ip4/999.1.1.1/tcp/1'] }, status: 400, code: 'ERR_INVALID_MULTIADDR' },
      { name: 'peers: addresses not an array', method: 'POST', path: '/api/daemon/peers', body: { peerID: OTHER, addresses: '/ip4/1.2.3.4/tcp/1' }, status: 400, code: 'ERR_BAD_REQUEST' },
      { name: 'peers: own ID', method: 'POST', path: '/api/daemon/peers', body: { peerID: self, addresses: [] }, status: 400, code: 'ERR_BAD_REQUEST' },
      { name: 'peers: __proto__ in body', method: 'POST', path: '/api/daemon/peers', body: '{"peerID":"x","addresses":[],"__proto__":{"polluted":1}}', headers: { 'content-type': 'application/json' }, status: 400, code: 'ERR_INVALID_PEER_ID' },
      { name: 'peer: bad ID in path', method: 'GET', path: '/api/daemon/peers/zzz', status: 400, code: 'ERR_INVALID_PEER_ID' },
      { name: 'peer: unknown', method: 'GET', path: `/api/daemon/peers/${STRANGER}`, status: 404, code: 'ERR_PEER_NOT_FOUND' },
      { name: 'peer: 5 KiB ID in path', method: 'GET', path: `/api/daemon/peers/${'Q'.repeat(5000)}`, status: 414, code: 'ERR_BAD_REQUEST' },
      { name: 'stream: no protocol', method: 'POST', path: streams, body: {}, status: 400, code: 'ERR_BAD_REQUEST' },
      { name: 'stream: protocol with a space', method: 'POST', path: streams, body: { protocol: '/a b/1' }, status: 400, code: 'ERR_INVALID_PROTOCOL' },
      { name: 'stream: empty protocols', method: 'POST', path: streams, body: { protocols: [] }, status: 400, code: 'ERR_BAD_REQUEST' },
      { name: 'stream: protocol not a string', method: 'POST', path: streams, body: { protocol: 7 }, status: 400, code: 'ERR_BAD_REQUEST' },
      { name: 'stream: bad address', method: 'POST', path: streams, body: { protocol: '/x/1', address: 'garbage' }, status: 400, code: 'ERR_INVALID_MULTIADDR' },
      { name: 'stream: negative timeout', method: 'POST', path: streams, body: { protocol: '/x/1', timeout: -1 }, status: 400, code: 'ERR_BAD_REQUEST' },
      { name: 'stream: to self', method: 'POST', path: `/api/daemon/peers/${self}/streams`, body: { protocol: '/x/1' }, status: 400, code: 'ERR_BAD_REQUEST' },
      { name: 'stream: unreachable peer', method: 'POST', path: streams, body: { protocol: '/x/1', address: '/ip4/127.0.0.1/tcp/1', timeout: 3 }, status: 502, code: 'ERR_DIAL_FAILED' },
      { name: 'stream: unknown id', method: 'GET', path: '/api/daemon/streams/zzz', status: 404, code: 'ERR_STREAM_NOT_FOUND' },
      { name: 'stream: reset unknown id', method: 'DELETE', path: '/api/daemon/streams/zzz', status: 404, code: 'ERR_STREAM_NOT_FOUND' },
      { name: 'handler: remote host callback', ...handler('http://192.0.2.1:8080'), status: 400, code: 'ERR_BAD_REQUEST' } as Case,
      { name: 'handler: https callback', ...handler('https://127.0.0.1:8443'), status: 400, code: 'ERR_BAD_REQUEST' } as Case,
      { name: 'handler: no port', ...handler('http://127.0.0.1'), status: 400, code: 'ERR_BAD_REQUEST' } as Case,
      { name: 'handler: hostname', ...handler('http://localhost.example:80'), status: 400, code: 'ERR_BAD_REQUEST' } as Case,
      { name: 'handler: relative unix path', ...handler('unix:relative.sock'), status: 400, code: 'ERR_BAD_REQUEST' } as Case,
      { name: 'handler: unix path too long', ...handler(`unix:/tmp/${'x'.repeat(200)}.sock`), status: 400, code: 'ERR_INVALID_MULTIADDR' } as Case,
      { name: 'handler: not a URL', ...handler('::::'), status: 400, code: 'ERR_BAD_REQUEST' } as Case,
      { name: 'handler: callback with query', ...handler('http://127.0.0.1:1/?a=b'), status: 400, code: 'ERR_BAD_REQUEST' } as Case,
      { name: 'handler: no protocols', ...handler('http://127.0.0.1:1', []), status: 400, code: 'ERR_BAD_REQUEST' } as Case,
      { name: 'handler: bad protocol', ...handler('http://127.0.0.1:1', ['bad proto']), status: 400, code: 'ERR_INVALID_PROTOCOL' } as Case,
      { name: 'handler: remove unknown', method: 'DELETE', path: '/api/daemon/handlers/%2Fnope%2F1', status: 404, code: 'ERR_HANDLER_NOT_FOUND' },
      { name: 'connect: bad address', method: 'POST', path: `/api/daemon/peers/${OTHER}/connect`, body: { addresses: ['nope'] }, status: 400, code: 'ERR_INVALID_MULTIADDR' },
      { name: 'connect: unreachable', method: 'POST', path: `/api/daemon/peers/${OTHER}/connect`, body: { addresses: ['/ip4/127.0.0.1/tcp/1'], timeout: 3 }, status: 502, code: 'ERR_DIAL_FAILED' },
      { name: 'dht: not enabled', method: 'POST', path: '/api/daemon/dht/find-peer', body: { peerID: OTHER }, status: 409, code: 'ERR_DHT_NOT_ENABLED' },
      { name: 'dht: streaming route, not enabled', method: 'POST', path: '/api/daemon/dht/find-providers', body: { cid: 'bafkqaaa' }, status: 409, code: 'ERR_DHT_NOT_ENABLED' },
      { name: 'dht: bad CID', method: 'POST', path: '/api/daemon/dht/provide', body: { cid: 'nope' }, status: 409, code: 'ERR_DHT_NOT_ENABLED' },
      { name: 'dht: bad base64 key', method: 'POST', path: '/api/daemon/dht/get-value', body: { key: '!!' }, status: 409, code: 'ERR_DHT_NOT_ENABLED' },
      { name: 'pubsub: not enabled', method: 'GET', path: '/api/daemon/pubsub/topics', status: 409, code: 'ERR_PUBSUB_NOT_ENABLED' },
      { name: 'pubsub: subscribe, not enabled', method: 'POST', path: '/api/daemon/pubsub/topics/t/subscribe', status: 409, code: 'ERR_PUBSUB_NOT_ENABLED' },
      { name: 'pubsub: bad base64', method: 'POST', path: '/api/daemon/pubsub/topics/t/publish', body: { data: '%%%' }, status: 400, code: 'ERR_INVALID_BASE64' },
      { name: 'connmgr: weight not a number', method: 'POST', path: '/api/daemon/connmgr/tag', body: { peerID: OTHER, tag: 't', weight: 'x' }, status: 400, code: 'ERR_BAD_REQUEST' },
      { name: 'connmgr: missing tag', method: 'POST', path: '/api/daemon/connmgr/untag', body: { peerID: OTHER }, status: 400, code: 'ERR_BAD_REQUEST' },
      { name: 'peerstore: unknown peer', method: 'GET', path: `/api/daemon/peerstore/${STRANGER}`, status: 404, code: 'ERR_PEER_NOT_FOUND' }
    ]
  }

  it('each bad request gets its status and code, as {error, code}', async () => {
    const failures: string[] = []
    for (const c of cases()) {
      const res = await request(d.httpAddr ?? '', c.method, c.path, { body: c.body, headers: c.headers })
      let json: any
      try { json = res.json() } catch { json = undefined }
      if (res.status !== c.status || json?.code !== c.code || typeof json?.error !== 'string' || json.error === '') {
        failures.push(`${c.name}: got ${res.status} ${res.body.toString().slice(0, 200)}; want ${c.status} ${c.code}`)
      }
    }
    assert.deepEqual(failures, [])
    assert.equal(({} as any).polluted, undefined)
  })

  it('a chunked body over 1 MiB gets 413, every time, and the connection is not left hanging', async () => {
    // the daemon answers before it has read the whole body; closing at once used to lose the
    // answer to a reset about once in 60 uploads (the client saw EPIPE): it lingers now
    const upload = async (): Promise<{ out: string, ms: number }> => await new Promise(resolve => {
      const started = Date.now()
      const s = connect({ path: d.httpAddr ?? '' })
      let out = ''
      s.on('data', c => { out += c.toString() })
      s.on('error', (err: any) => { out += `[${String(err.code)}]` })
      s.on('close', () => { clearTimeout(timer); resolve({ out, ms: Date.now() - started }) })
      const timer = setTimeout(() => { s.destroy() }, 5000)
      s.on('connect', () => {
        s.write('POST /api/daemon/peers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n')
        const chunk = 'x'.repeat(64 * 1024)
        for (let i = 0; i < 20; i++) s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)
        s.end()
      })
    })
    const bad: string[] = []
    for (let i = 0; i < 40; i++) {
      const { out, ms } = await upload()
      if (!/^HTTP\/1\.1 413/.test(out) || !out.includes('ERR_PAYLOAD_TOO_LARGE') || ms >= 5000) bad.push(`${ms} ms: ${out.slice(0, 80)}`)
    }
    assert.deepEqual(bad, [])
  })

  it('protocol garbage, half requests and abrupt disconnects do not hurt it', async () => {
    const raw = async (bytes: string, wait = 300): Promise<string> => await new Promise(resolve => {
      const s = connect({ path: d.httpAddr ?? '' })
      let out = ''
      s.on('data', c => { out += c.toString() })
      s.on('error', () => {})
      s.on('connect', () => { s.write(bytes) })
      setTimeout(() => { s.destroy(); resolve(out) }, wait)
    })
    assert.match(await raw('GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400/)
    assert.match(await raw('\x00\x01\x02\xff'.repeat(1000)), /^HTTP\/1\.1 400|^$/)
    await raw('POST /api/daemon/peers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"peerID"', 100)
    await raw(`GET /api/daemon/peers HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`)
    // many clients that go away in the middle of a streaming response
    await Promise.all(Array.from({ length: 50 }, async () => await raw('GET /api/daemon/events HTTP/1.1\r\nHost: x\r\n\r\n', 50)))
    const res = await request(d.httpAddr ?? '', 'GET', '/api/daemon/identity')
    assert.equal(res.status, 200)
    assert.equal(d.proc.exitCode, null)
  })

  it('the HTTP socket is 0600', () => {
    assert.equal(statSync(d.httpAddr ?? '').mode & 0o777, 0o600)
  })
})

describe('HTTP API endpoint', () => {
  it('serves on loopback TCP and refuses a non-loopback address', async () => {
    const d = await spawnDaemon(['-httpListen', '/ip4/127.0.0.1/tcp/0'])
    try {
      assert.match(d.httpMultiaddr ?? '', /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
      assert.notEqual(d.httpMultiaddr, '/ip4/127.0.0.1/tcp/0')
      assert.equal((await request(d.httpAddr ?? '', 'GET', '/api/daemon/identity')).json().peerID, d.peerId)
    } finally {
      await d.stop()
    }
    await assert.rejects(spawnDaemon(['-httpListen', '/ip4/0.0.0.0/tcp/0']), /loopback/)
  })

  it('replaces a stale socket file but never steals a live one', async () => {
    const d0 = await spawnDaemon()
    const dir = d0.dir
    const path = join(dir, 'stale-http.sock')
    // a socket file nobody listens on any more (as a crash leaves it)
    const stale = createNetServer()
    await new Promise<void>(resolve => stale.listen(path, resolve))
    // close the listening fd without unlinking: Node unlinks on close(), so detach the handle instead
    ;(stale as any)._handle.close()
    try {
      const d = await spawnDaemon(['-httpListen', `/unix${path}`])
      assert.equal((await request(path, 'GET', '/api/daemon/identity')).json().peerID, d.peerId)
      // a second daemon on the same, now live, socket must fail
      await assert.rejects(spawnDaemon(['-httpListen', `/unix${path}`]), /in use|cannot start/)
      assert.equal((await request(path, 'GET', '/api/daemon/identity')).json().peerID, d.peerId)
      await d.stop()
    } finally {
      await d0.stop()
    }
  })
})
