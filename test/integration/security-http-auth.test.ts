/**
 * The HTTP API's door: loopback-only TCP unless `-httpAllowRemote` (which then needs a
 * token), the bearer token (`-apiToken` / `-apiTokenFile`, 401 `ERR_UNAUTHORIZED` before
 * any route or body is looked at), Host checks against DNS rebinding and Origin /
 * Sec-Fetch-Site checks against cross-site browser requests (403 `ERR_FORBIDDEN`).
 * All traffic is to 127.0.0.1, even when the daemon binds 0.0.0.0.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { DAEMON_BIN, spawnDaemon } from './helpers/daemon.js'
import { request } from './helpers/http.js'
import { tokenChecker } from '../../src/api/http/security.ts'
import type { SpawnedDaemon } from './helpers/daemon.js'

const TOKEN = 'tok-' + 'A1b2C3d4E5f6G7h8I9j0'

/** Runs the daemon expecting it to refuse to start; resolves with its exit code and stderr. */
async function refusedStart (args: string[]): Promise<{ code: number | null, stderr: string }> {
  const proc = spawn(process.execPath, [DAEMON_BIN, '-listen', '', '-hostAddrs', '/ip4/127.0.0.1/tcp/0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  proc.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const timer = setTimeout(() => { proc.kill('SIGKILL') }, 20_000)
  const code = await new Promise<number | null>(resolve => proc.once('exit', resolve))
  clearTimeout(timer)
  return { code, stderr }
}

describe('security: HTTP API access', () => {
  let tcp: SpawnedDaemon
  let unix: SpawnedDaemon
  const dir = mkdtempSync('/tmp/lpd-auth-')
  const tokenFile = join(dir, 'token')

  before(async () => {
    writeFileSync(tokenFile, TOKEN + '\n', { mode: 0o600 })
    ;[tcp, unix] = await Promise.all([
      spawnDaemon(['-httpListen', '/ip4/127.0.0.1/tcp/0', '-apiTokenFile', tokenFile]),
      spawnDaemon(['-apiToken', TOKEN])
    ])
  })
  after(async () => {
    await Promise.all([tcp?.stop(), unix?.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  const port = (): string => (tcp.httpAddr ?? '').split(':').at(-1) ?? ''
  const get = async (d: SpawnedDaemon, headers: Record<string, string>, path = '/api/daemon/identity'): Promise<{ status: number, code?: string, headers: any }> => {
    const res = await request(d.httpAddr ?? '', 'GET', path, { headers })
    return { status: res.status, code: res.status >= 400 ? res.json()?.code : undefined, headers: res.headers }
  }
  const auth = { authorization: `Bearer ${TOKEN}` }

  it('without the right bearer token: 401 ERR_UNAUTHORIZED, on TCP and on the unix socket', async () => {
    for (const d of [tcp, unix]) {
      const wrong: Array<Record<string, string>> = [{}, { authorization: '' }, { authorization: 'Bearer' }, { authorization: 'Bearer wrong' },
        { authorization: `Bearer ${TOKEN}x` }, { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, { authorization: `Basic ${Buffer.from('u:' + TOKEN).toString('base64')}` },
        { authorization: `${TOKEN}` }, { authorization: `Bearer ${TOKEN} extra` }]
      for (const headers of wrong) {
        const r = await get(d, headers)
        assert.equal(r.status, 401, JSON.stringify(headers))
        assert.equal(r.code, 'ERR_UNAUTHORIZED')
        assert.match(String(r.headers['www-authenticate']), /^Bearer/)
      }
      // unknown routes and bodies are not even looked at without the token
      assert.equal((await get(d, {}, '/api/nope')).status, 401)
      const post = await request(d.httpAddr ?? '', 'POST', '/api/daemon/peers', { body: '{"broken', headers: { 'content-type': 'application/json' } })
      assert.equal(post.status, 401)
      assert.equal((await get(d, auth)).status, 200)
      assert.equal((await get(d, { authorization: `bearer ${TOKEN}` })).status, 200)
    }
  })

  it('the token check itself: exact match only', () => {
    const check = tokenChecker(TOKEN)
    assert.equal(check(`Bearer ${TOKEN}`), true)
    for (const bad of [undefined, '', 'Bearer ', `Bearer ${TOKEN} `.trim() + 'x', `Bearer  ${TOKEN.toUpperCase()}`, 'Bearer ' + 'x'.repeat(10_000)]) {
      assert.equal(check(bad), false, String(bad).slice(0, 40))
    }
  })

  it('Host must be loopback on TCP (DNS rebinding)', async () => {
    for (const host of ['evil.example', `evil.example:${port()}`, '127.0.0.1.nip.io', `localhost.evil.example:${port()}`, '10.0.0.1', '[::2]:1', 'localhost:x:1']) {
      const r = await get(tcp, { ...auth, host })
      assert.equal(r.status, 403, `Host ${host}: ${r.status}`)
      assert.equal(r.code, 'ERR_FORBIDDEN')
    }
    // HTTP/1.0 may omit Host: no name, no entry
    const s = connect({ host: '127.0.0.1', port: Number(port()) })
    const head = await new Promise<string>((resolve, reject) => {
      let text = ''
      s.on('data', (d: Buffer) => { text += d.toString() })
      s.on('end', () => { resolve(text) })
      s.on('error', reject)
      s.write(`GET /api/daemon/identity HTTP/1.0\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`)
    })
    assert.match(head, /^HTTP\/1\.[01] 403/)
    for (const host of [`127.0.0.1:${port()}`, `localhost:${port()}`, 'localhost', `[::1]:${port()}`, '127.0.0.2']) {
      assert.equal((await get(tcp, { ...auth, host })).status, 200, `Host ${host}`)
    }
    // a unix socket cannot be reached by a browser: any Host is fine there
    assert.equal((await get(unix, { ...auth, host: 'x' })).status, 200)
  })

  it('cross-site browser requests are refused (Origin, Sec-Fetch-Site)', async () => {
    for (const d of [tcp, unix]) {
      for (const origin of ['http://evil.example', 'https://evil.example:443', 'null', 'file://', 'http://127.0.0.1.evil.example', 'chrome-extension://abc']) {
        const r = await get(d, { ...auth, origin })
        assert.equal(r.status, 403, `Origin ${origin}`)
        assert.equal(r.code, 'ERR_FORBIDDEN')
      }
      assert.equal((await get(d, { ...auth, 'sec-fetch-site': 'cross-site' })).status, 403)
      for (const origin of [`http://localhost:${port()}`, 'http://127.0.0.1:3000', 'http://[::1]:8080']) {
        assert.equal((await get(d, { ...auth, origin })).status, 200, `Origin ${origin}`)
      }
      assert.equal((await get(d, { ...auth, 'sec-fetch-site': 'same-origin' })).status, 200)
    }
    // refused before the route runs: a cross-site POST changes nothing
    const res = await request(tcp.httpAddr ?? '', 'POST', '/api/daemon/handlers', { body: { protocols: ['/x/1'], callback: 'http://127.0.0.1:9' }, headers: { ...auth, origin: 'http://evil.example' } })
    assert.equal(res.status, 403)
    assert.deepEqual((await request(tcp.httpAddr ?? '', 'GET', '/api/daemon/handlers', { headers: auth })).json(), [])
  })

  it('TCP beyond loopback: refused without -httpAllowRemote, and without a token', async () => {
    const noFlag = await refusedStart(['-httpListen', '/ip4/0.0.0.0/tcp/0', '-apiToken', TOKEN])
    assert.equal(noFlag.code, 2, noFlag.stderr)
    assert.match(noFlag.stderr, /httpAllowRemote/)
    const noToken = await refusedStart(['-httpListen', '/ip4/0.0.0.0/tcp/0', '-httpAllowRemote'])
    assert.equal(noToken.code, 2, noToken.stderr)
    assert.match(noToken.stderr, /apiToken/)
    const p2pd = await refusedStart(['-httpListen', '', '-listen', '/ip4/0.0.0.0/tcp/0'])
    assert.equal(p2pd.code, 2, p2pd.stderr)
  })

  it('with -httpAllowRemote and a token: any Host, token still required', async () => {
    const d = await spawnDaemon(['-httpListen', '/ip4/0.0.0.0/tcp/0', '-httpAllowRemote', '-apiTokenFile', tokenFile])
    try {
      const p = (d.httpAddr ?? '').split(':').at(-1) ?? ''
      const addr = `127.0.0.1:${p}`
      assert.equal((await request(addr, 'GET', '/api/daemon/identity', { headers: { host: `node1.example:${p}` } })).status, 401)
      assert.equal((await request(addr, 'GET', '/api/daemon/identity', { headers: { ...auth, host: `node1.example:${p}` } })).status, 200)
      assert.equal((await request(addr, 'GET', '/api/daemon/identity', { headers: { ...auth, origin: 'http://evil.example' } })).status, 403)
    } finally {
      await d.stop()
    }
  })
})
