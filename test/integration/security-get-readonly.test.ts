/**
 * No state change on GET (a browser or proxy may replay GETs, prefetch them, or be tricked
 * into sending them cross-site): every GET and HEAD route of the OpenAPI document is called
 * on a daemon that holds state of every kind (a connection, a peerstore entry, a handler, an
 * open stream, a subscription, a tag), with known and unknown parameters, and the state is
 * compared before and after. The audited route list is pinned, so a new GET route fails
 * this test until it is added here (and audited). State-changing routes called with GET
 * must not run either.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { spawnDaemons } from './helpers/daemon.js'
import { openLines, request } from './helpers/http.js'
import { filesIn, openStream, sleep } from './fuzz-harness.ts'
import type { SpawnedDaemon } from './helpers/daemon.js'
import type { LineStream } from './helpers/http.js'

/** Every GET route, audited: each only reads (events and the OpenAPI document included). */
const AUDITED_GET_ROUTES = [
  '/api/daemon/identity', '/api/daemon/version', '/api/daemon/peers', '/api/daemon/peers/{id}',
  '/api/daemon/connections', '/api/daemon/streams', '/api/daemon/streams/{id}', '/api/daemon/handlers',
  '/api/daemon/peerstore/{id}', '/api/daemon/peerstore/{id}/protocols', '/api/daemon/pubsub/topics',
  '/api/daemon/pubsub/topics/{topic}/peers', '/api/daemon/events'
].sort()

const STRANGER = '12D3KooWArv2QsKdosLEHWSpAprH4D55s9moCfqmhcB8eRa9cWiM'

describe('security: GET changes nothing', () => {
  let a: SpawnedDaemon
  let b: SpawnedDaemon
  let sub: LineStream
  let streamId = ''
  let spec: any
  const dir = mkdtempSync('/tmp/lpd-get-')
  const sdir = join(dir, 's')

  before(async () => {
    [a, b] = await spawnDaemons([['-socketDir', sdir, '-pubsub', '-connManager', '-streamAcceptTimeout', '60s'], []])
    const post = async (path: string, body?: unknown): Promise<void> => {
      const res = await request(a.httpAddr ?? '', 'POST', path, { body })
      assert.ok(res.status < 300, `${path}: ${res.status} ${res.body.toString()}`)
    }
    await post('/api/daemon/peers', { peerID: b.peerId, addresses: b.addrs })
    await post('/api/daemon/handlers', { protocols: ['/get-audit/1'], callback: 'http://127.0.0.1:9' })
    await post('/api/daemon/connmgr/tag', { peerID: b.peerId, tag: 'audit', weight: 7 })
    streamId = (await openStream(a, b, '/echo/1.0.0')).id
    sub = await openLines(a.httpAddr ?? '', 'POST', '/api/daemon/pubsub/topics/audit/subscribe')
    await sub.next()
    spec = (await request(a.httpAddr ?? '', 'GET', '/api/openapi.json')).json()
    await sleep(300)
  })
  after(async () => {
    sub?.close()
    await Promise.all([a?.stop(), b?.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  /** Everything a request could change, as seen from outside. */
  const snapshot = async (): Promise<string> => {
    const get = async (path: string): Promise<unknown> => {
      const res = await request(a.httpAddr ?? '', 'GET', path)
      return res.status === 200 ? res.json() : res.status
    }
    const peers = (await get('/api/daemon/peers')) as any[]
    return JSON.stringify({
      peers: peers.map(p => ({ id: p.peerID ?? p.id, connected: p.connected })).sort((x, y) => String(x.id).localeCompare(String(y.id))),
      connections: ((await get('/api/daemon/connections')) as any[]).length,
      streams: ((await get('/api/daemon/streams')) as any[]).map(s => s.id),
      handlers: await get('/api/daemon/handlers'),
      topics: await get('/api/daemon/pubsub/topics'),
      stranger: await get(`/api/daemon/peerstore/${STRANGER}`),
      b: await get(`/api/daemon/peerstore/${b.peerId}`),
      socketFiles: filesIn(sdir)
    })
  }

  it('the GET routes are the audited ones', () => {
    const gets = Object.entries(spec.paths).filter(([, ops]: [string, any]) => ops.get !== undefined).map(([p]) => p).sort()
    assert.deepEqual(gets, AUDITED_GET_ROUTES, 'a GET route was added or removed: audit it and update this list')
  })

  it('every GET and HEAD, with known, unknown and bad parameters, leaves the state as it was', async () => {
    const before = await snapshot()
    const values: Record<string, string[]> = { id: [b.peerId, STRANGER, 'zzz', a.peerId, streamId], topic: ['audit', 'other'] }
    let calls = 0
    for (const route of AUDITED_GET_ROUTES) {
      const names = [...route.matchAll(/\{(\w+)\}/g)].map(m => m[1])
      const fills = names.length === 0 ? [route] : values[names[0]].map(v => route.replace(`{${names[0]}}`, encodeURIComponent(v)))
      for (const path of fills) {
        for (const method of ['GET', 'HEAD']) {
          if (route === '/api/daemon/events') {
            const ev = await openLines(a.httpAddr ?? '', method, path)
            if (method === 'GET') assert.equal((await ev.next()).type, 'READY')
            ev.close()
          } else {
            const res = await request(a.httpAddr ?? '', method, path)
            assert.notEqual(res.status, 500, `${method} ${path}`)
          }
          calls++
        }
      }
    }
    await sleep(500)
    assert.equal(await snapshot(), before, 'state changed after GET/HEAD requests')
    console.log(`# GET audit: ${calls} GET/HEAD requests on ${AUDITED_GET_ROUTES.length} routes, state unchanged`)
  })

  it('state-changing routes cannot be reached with GET', async () => {
    const before = await snapshot()
    let n = 0
    for (const [path, ops] of Object.entries(spec.paths) as Array<[string, any]>) {
      if (ops.post === undefined && ops.delete === undefined && ops.put === undefined) continue
      if (ops.get !== undefined) continue
      const url = path.replace('{id}', b.peerId).replace('{topic}', 'audit').replace('{protocol}', encodeURIComponent('/get-audit/1'))
      const res = await request(a.httpAddr ?? '', 'GET', url)
      assert.equal(res.status, 404, `GET ${url}: ${res.status}`)
      n++
    }
    // DELETE routes share a path with a GET (streams/{id}): GET on it only reads
    const still = await request(a.httpAddr ?? '', 'GET', `/api/daemon/streams/${streamId}`)
    assert.equal(still.status, 200)
    assert.equal(await snapshot(), before)
    console.log(`# GET audit: ${n} state-changing paths answer GET with 404`)
  })
})
