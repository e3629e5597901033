/**
 * The daemon's files and where it connects: unix sockets are 0600 in 0700 directories;
 * no request can make it create, remove or write a file outside its own directories (stream
 * socket paths are daemon-chosen, callback and handler paths are only ever connected to);
 * callbacks and p2pd handler addresses must be loopback or unix; and secrets (the API
 * token, the private key) never appear in its output, even at trace level.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { Request, Response } from '../../src/proto/p2pd.ts'
import { spawnDaemon, spawnDaemons } from './helpers/daemon.js'
import { request } from './helpers/http.js'
import { connectSocket, filesIn, openStream, resetWithin, roundTrip, sleep } from './fuzz-harness.ts'
import type { SpawnedDaemon } from './helpers/daemon.js'

const KEYGEN = fileURLToPath(new URL('../../bin/libp2pd-keygen.js', import.meta.url))
const TOKEN = 'secret-token-Zx9Qw8Er7Ty6'

const mode = (p: string): number => statSync(p).mode & 0o777

describe('security: files, paths, callbacks and secrets', () => {
  let a: SpawnedDaemon
  let b: SpawnedDaemon
  const dir = mkdtempSync('/tmp/lpd-sec-')
  const sdir = join(dir, 'streams')
  const victimDir = join(dir, 'victim')
  const victim = join(victimDir, 'victim.sock')
  const keyFile = join(dir, 'identity.key')

  before(async () => {
    mkdirSync(victimDir)
    writeFileSync(victim, 'do not touch')
    execFileSync(process.execPath, [KEYGEN, '-f', keyFile])
    ;[a, b] = await spawnDaemons([
      ['-socketDir', sdir, '-id', keyFile, '-apiToken', TOKEN, '-logLevel', 'trace', '-streamAcceptTimeout', '3s'],
      []
    ], { env: { DEBUG: 'libp2p:*,libp2pd*' } })
    const res = await post(a, '/api/daemon/peers', { peerID: b.peerId, addresses: b.addrs })
    assert.equal(res.status, 204, res.body.toString())
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  const auth = { authorization: `Bearer ${TOKEN}` }
  async function post (d: SpawnedDaemon, path: string, body?: unknown): Promise<any> {
    return await request(d.httpAddr ?? '', 'POST', path, { body, headers: d === a ? auth : {} })
  }

  it('control, HTTP and stream sockets are 0600; the socket directory is 0700', async () => {
    assert.equal(mode(a.controlAddr?.replace(/^\/unix/, '') ?? ''), 0o600)
    assert.equal(mode(a.httpAddr ?? ''), 0o600)
    assert.equal(mode(sdir), 0o700)
    const res = await post(a, `/api/daemon/peers/${b.peerId}/streams`, { protocol: '/echo/1.0.0' })
    assert.equal(res.status, 201)
    const { socketPath } = res.json()
    assert.equal(dirname(socketPath), sdir)
    assert.equal(mode(socketPath), 0o600)
    assert.ok(statSync(socketPath).isSocket())
    ;(await connectSocket(socketPath)).destroy()
    // without -socketDir: a fresh private directory
    const st = await openStream(b, a, '/echo/1.0.0').catch(() => undefined)
    if (st !== undefined) {
      assert.equal(mode(dirname(st.socketPath)), 0o700)
      assert.equal(mode(st.socketPath), 0o600)
    }
  })

  it('a -socketDir readable by others is made private at start', async () => {
    const loose = join(dir, 'loose')
    mkdirSync(loose, { mode: 0o755 })
    chmodSync(loose, 0o755)
    const d = await spawnDaemon(['-socketDir', loose])
    try { assert.equal(mode(loose), 0o700) } finally { await d.stop() }
  })

  it('request paths cannot touch files: traversal in IDs, callback and handler paths only connected to', async () => {
    const before = { victim: statSync(victim), listing: filesIn(victimDir), outside: filesIn(dir) }
    for (const id of ['../../victim/victim', '..%2F..%2Fvictim%2Fvictim', encodeURIComponent(victim), '%2e%2e']) {
      for (const method of ['GET', 'DELETE']) {
        const res = await request(a.httpAddr ?? '', method, `/api/daemon/streams/${id}`, { headers: auth })
        assert.ok(res.status === 404 || res.status === 400, `${method} ${id}: ${res.status}`)
      }
    }
    // a socketPath in the open request is not ours to choose: ignored
    const opened = await post(a, `/api/daemon/peers/${b.peerId}/streams`, { protocol: '/echo/1.0.0', socketPath: victim })
    assert.ok(opened.status === 201 || opened.status === 400, String(opened.status))
    if (opened.status === 201) assert.equal(dirname(opened.json().socketPath), sdir)
    // HTTP callback and p2pd handler at the victim (a regular file) and at traversal paths
    for (const cb of [`unix:${victim}`, `unix:${victimDir}/../victim/victim.sock`]) {
      const r = await post(a, '/api/daemon/handlers', { protocols: ['/victim-http/1'], callback: cb })
      assert.equal(r.status, 204, r.body.toString())
      const st = await openStream(b, a, '/victim-http/1')
      assert.ok(await resetWithin(st.socketPath, 10_000), 'stream to a broken callback not reset')
    }
    const h = await roundTrip(a, { type: Request.Type.STREAM_HANDLER, streamHandler: { addr: multiaddr(`/unix/${encodeURIComponent(victim)}`).bytes, proto: ['/victim-p2pd/1'] } })
    assert.equal(h.type, Response.Type.OK, h.error?.msg)
    const st = await openStream(b, a, '/victim-p2pd/1')
    assert.ok(await resetWithin(st.socketPath, 10_000), 'stream to a broken p2pd handler not reset')
    await sleep(500)
    const after = statSync(victim)
    assert.equal(readFileSync(victim, 'utf8'), 'do not touch')
    assert.equal(after.mtimeMs, before.victim.mtimeMs)
    assert.equal(after.ino, before.victim.ino)
    assert.deepEqual(filesIn(victimDir), before.listing)
    assert.deepEqual(filesIn(dir).sort(), before.outside.sort())
  })

  it('callbacks and handler addresses must be loopback or unix', async () => {
    for (const cb of ['http://192.0.2.1:80', 'http://0.0.0.0:80', 'http://localhost.evil.example:80', 'http://evil.example:80', 'https://127.0.0.1:443',
      'http://[::ffff:c000:201]:80', 'http://user:pw@127.0.0.1:80', 'ftp://127.0.0.1:21', 'unix:relative.sock', 'file:///etc/passwd']) {
      const r = await post(a, '/api/daemon/handlers', { protocols: ['/cb/1'], callback: cb })
      assert.equal(r.status, 400, `${cb}: ${r.status}`)
    }
    for (const addr of ['/ip4/192.0.2.1/tcp/80', '/ip4/0.0.0.0/tcp/80', '/ip6/2001:db8::1/tcp/80', '/dns4/evil.example/tcp/80']) {
      const r = await roundTrip(a, { type: Request.Type.STREAM_HANDLER, streamHandler: { addr: multiaddr(addr).bytes, proto: ['/h/1'] } })
      assert.equal(r.type, Response.Type.ERROR, addr)
    }
    for (const addr of ['/ip4/127.0.0.1/tcp/9', '/ip6/::1/tcp/9']) {
      const r = await roundTrip(a, { type: Request.Type.STREAM_HANDLER, streamHandler: { addr: multiaddr(addr).bytes, proto: ['/h/1'] } })
      assert.equal(r.type, Response.Type.OK, `${addr}: ${r.error?.msg ?? ''}`)
    }
  })

  it('secrets never reach the logs, even at trace level with DEBUG=libp2p:*', async () => {
    // requests with right and wrong tokens, errors, a callback failure: all logged at trace
    await request(a.httpAddr ?? '', 'GET', '/api/daemon/identity', { headers: { authorization: `Bearer ${TOKEN}x` } })
    await request(a.httpAddr ?? '', 'GET', '/api/daemon/identity', { headers: auth })
    await post(a, '/api/daemon/peers', { peerID: 'bad' })
    await sleep(500)
    const out = a.stderr()
    assert.ok(out.length > 1000, 'expected trace output to search')
    const key = readFileSync(keyFile)
    const raw = privateKeyFromProtobuf(key).raw
    const forms = [TOKEN, key.toString('base64'), key.toString('hex'), Buffer.from(raw).toString('base64'), Buffer.from(raw).toString('hex'),
      Buffer.from(raw.subarray(0, 16)).toString('hex'), Buffer.from(raw.subarray(0, 16)).toString('base64').slice(0, 20)]
    for (const f of forms) assert.ok(!out.includes(f), `a secret (${f.slice(0, 6)}…) appears in the daemon's output`)
    console.log(`# secrets: searched ${out.length} bytes of trace output for ${forms.length} encodings of the token and key: none found`)
  })
})
