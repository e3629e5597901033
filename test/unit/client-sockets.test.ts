/**
 * Stream sockets and the callback server of the client with stub unix servers in place of
 * the daemon: reset ordering (DELETE before the socket closes), half-close, reset detection
 * after EOF, `for await` semantics, the callback route's answers and its cleanup.
 * `spawnDaemon` has its own file (client-spawn.test.ts).
 */
import { strict as assert } from 'node:assert'
import { once } from 'node:events'
import { existsSync, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { CallbackServers } from '../../src/client/callback-server.js'
import { StreamResetError } from '../../src/client/index.js'
import { connectStream } from '../../src/client/stream-socket.js'
import type { StreamOps } from '../../src/client/stream-socket.js'
import type { StreamInfo } from '../../src/client/types.js'
import type { Server, Socket } from 'node:net'

let dir: string
let n = 0

/** A stub "daemon stream socket": one unix server per stream, handing us its end. */
async function stubStream (): Promise<{ info: StreamInfo, server: Server, peer: Promise<Socket> }> {
  const path = join(dir, `s${n++}.sock`)
  let resolve: (s: Socket) => void = () => {}
  const peer = new Promise<Socket>(_resolve => { resolve = _resolve })
  const server = createServer({ allowHalfOpen: true }, s => { resolve(s) })
  server.listen(path)
  await once(server, 'listening')
  const info: StreamInfo = { id: `id${n}`, localAddr: '', localID: 'me', remoteAddr: '', remoteID: 'them', createdAt: new Date().toISOString(), direction: 'OUTGOING', socketPath: path, protocol: '/p/1' }
  return { info, server, peer }
}

function recordingOps (log: string[], alive = true, delay = 50): StreamOps {
  return {
    reset: async id => { log.push(`reset ${id}`); await new Promise(resolve => setTimeout(resolve, delay)); log.push('reset done') },
    exists: async () => alive
  }
}

before(async () => { dir = await mkdtemp(join(tmpdir(), 'client-sockets-')) })
after(async () => { await rm(dir, { recursive: true, force: true }) })

describe('client stream sockets', () => {
  it('destroy() resets on the daemon before the socket closes', async () => {
    const { info, server, peer } = await stubStream()
    const log: string[] = []
    const s = await connectStream(info, recordingOps(log))
    const p = await peer
    p.on('end', () => { log.push('peer saw end') })
    p.resume()
    s.write('x')
    s.destroy()
    await once(s, 'close')
    await new Promise(resolve => setTimeout(resolve, 20))
    assert.deepEqual(log, [`reset ${info.id}`, 'reset done', 'peer saw end'])
    server.close()
  })

  it('data that arrives while destroy() waits for the daemon is dropped, not thrown', async () => {
    // Node marks the socket destroyed before `_destroy`, which keeps the handle open until
    // the daemon has reset the stream; a read completing then threw ERR_OUT_OF_RANGE from
    // Node's read callback, which ended the program
    const { info, server, peer } = await stubStream()
    const log: string[] = []
    const s = await connectStream(info, recordingOps(log, true, 300))
    const p = await peer
    p.on('error', () => {})
    s.destroy()
    for (let i = 0; i < 20; i++) {
      p.write(Buffer.alloc(16 << 10, i))
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    await once(s, 'close')
    assert.deepEqual(log, [`reset ${info.id}`, 'reset done'])
    // (the stub never reads: whether its writes are all flushed when the socket closes, and
    // so whether it ever sees the close, is up to the kernel; without this it can keep the
    // test process alive)
    p.destroy()
    server.close()
  })

  it('half-close both ways is not a reset, and reading to EOF with for await keeps the write side', async () => {
    const { info, server, peer } = await stubStream()
    const log: string[] = []
    const s = await connectStream(info, recordingOps(log))
    const p = await peer
    p.end('request')
    let got = ''
    for await (const c of s) got += String(c)
    assert.equal(got, 'request')
    assert.equal(s.destroyed, false, 'still writable after EOF')
    const closed = once(s, 'close')
    s.end('answer')
    let answer = ''
    for await (const c of p) answer += String(c)
    assert.equal(answer, 'answer')
    await closed
    assert.deepEqual(log, [], 'no reset for a clean close')
    server.close()
  })

  it('leaving a for await loop early resets', async () => {
    const { info, server, peer } = await stubStream()
    const log: string[] = []
    const s = await connectStream(info, recordingOps(log, true, 0))
    const p = await peer
    p.write('a')
    for await (const _ of s) break
    await once(s, 'close')
    assert.deepEqual(log, [`reset ${info.id}`, 'reset done'])
    server.close()
  })

  it('EOF for a stream the daemon forgot means reset: StreamResetError', async () => {
    const { info, server, peer } = await stubStream()
    const s = await connectStream(info, recordingOps([], false))
    const p = await peer
    p.destroy()
    s.resume()
    const [err] = await once(s, 'error')
    assert.ok(err instanceof StreamResetError)
    server.close()
  })

  it('the daemon closing with our bytes unread (ECONNRESET on read) is a reset: StreamResetError', async () => {
    // a daemon that has not read what the program sent when the stream is reset
    const path = join(dir, `s${n++}.sock`)
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, p => { setTimeout(() => { p.destroy() }, 50) })
    server.listen(path)
    await once(server, 'listening')
    const info: StreamInfo = { id: 'unread', localAddr: '', localID: 'me', remoteAddr: '', remoteID: 'them', createdAt: new Date().toISOString(), direction: 'INCOMING', socketPath: path, protocol: '/p/1' }
    const s = await connectStream(info, recordingOps([], true, 0))
    s.write('bytes the daemon never reads')
    s.resume()
    const [err] = await once(s, 'error')
    assert.ok(err instanceof StreamResetError, `${String(err)}`)
    assert.equal(err.code, 'ERR_STREAM_RESET')
    assert.equal((err.cause as { code?: string }).code, 'ECONNRESET')
    server.close()
  })

  it('writing after the daemon closed the socket (EPIPE) is a reset: StreamResetError', async () => {
    const { info, server, peer } = await stubStream()
    // the daemon still lists the stream at EOF (a race it can lose): only the write tells
    const s = await connectStream(info, recordingOps([], true, 0))
    const p = await peer
    p.destroy()
    s.resume()
    await once(s, 'end')
    await new Promise(resolve => setTimeout(resolve, 20))
    s.write('too late')
    const [err] = await once(s, 'error')
    assert.ok(err instanceof StreamResetError, `${String(err)}`)
    assert.equal((err.cause as { code?: string }).code, 'EPIPE')
    server.close()
  })

  it('a socket that is gone: DaemonUnreachableError; an aborted signal: AbortError', async () => {
    const stub = await stubStream()
    stub.server.close()
    const info = { ...stub.info, socketPath: join(dir, 'gone.sock') }
    await assert.rejects(connectStream(info, recordingOps([])), { name: 'DaemonUnreachableError' })
    const log: string[] = []
    await assert.rejects(connectStream(info, recordingOps(log, true, 0), AbortSignal.abort()), { name: 'AbortError' })
    assert.deepEqual(log, [`reset ${info.id}`, 'reset done'], 'a stream nobody will use is reset')
  })

  it('a socket that is gone with a stream the daemon forgot: StreamResetError', async () => {
    const stub = await stubStream()
    stub.server.close()
    const info = { ...stub.info, socketPath: join(dir, 'gone2.sock') }
    await assert.rejects(connectStream(info, recordingOps([], false)), { name: 'StreamResetError', code: 'ERR_STREAM_RESET' })
  })
})

/** POSTs to a callback server; resolves with the status. */
async function post (base: string, path: string, body: string): Promise<number> {
  const target = base.startsWith('unix:') ? { socketPath: base.slice(5), path } : { host: '127.0.0.1', port: Number(new URL(base).port), path: new URL(base).pathname + path }
  return await new Promise((resolve, reject) => {
    const req = request({ ...target, method: 'POST', headers: { 'content-type': 'application/json' } }, res => { res.resume(); resolve(res.statusCode ?? 0) })
    req.on('error', reject)
    req.end(body)
  })
}

describe('client callback server', () => {
  it('answers 204 and runs the handler; 400 for junk, 404 for unknown protocols and paths; cleans up', async () => {
    const log: string[] = []
    const errors: string[] = []
    const cb = new CallbackServers(recordingOps(log, true, 0), err => { errors.push(err.message) })
    const base = await cb.base('unix')
    assert.match(base, /^unix:\//)
    const sockDir = base.slice(5).replace(/\/callback\.sock$/, '')
    assert.equal(statSync(sockDir).mode & 0o777, 0o700)
    const got: string[] = []
    cb.set('/p/1', async (s, info) => {
      let text = ''
      for await (const c of s) text += String(c)
      got.push(`${info.id}:${text}`)
      if (text === 'boom') throw new Error('handler failed')
      s.end()
    })
    const ok = await stubStream()
    assert.equal(await post(base, '/api/client/peers/them/streams', JSON.stringify(ok.info)), 204)
    ;(await ok.peer).end('hello')
    const bad = await stubStream()
    assert.equal(await post(base, '/api/client/peers/them/streams', JSON.stringify(bad.info)), 204)
    const badPeer = await bad.peer
    badPeer.on('error', () => {})
    badPeer.end('boom')
    assert.equal(await post(base, '/api/client/peers/them/streams', '{nope'), 400)
    assert.equal(await post(base, '/api/client/peers/them/streams', JSON.stringify({ ...ok.info, protocol: '/other/1' })), 404)
    assert.equal(await post(base, '/api/elsewhere', '{}'), 404)
    const deadline = Date.now() + 2000
    while ((got.length < 2 || !log.includes(`reset ${bad.info.id}`)) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
    assert.deepEqual(got.sort(), [`${ok.info.id}:hello`, `${bad.info.id}:boom`].sort())
    assert.deepEqual(errors, ['handler failed'])
    assert.ok(log.includes(`reset ${bad.info.id}`), 'only the failing stream is reset')
    assert.ok(!log.includes(`reset ${ok.info.id}`))
    await cb.close()
    assert.equal(existsSync(sockDir), false)
    ok.server.close()
    bad.server.close()
  })

  it('over TCP only the secret path prefix is served', async () => {
    const cb = new CallbackServers(recordingOps([]), () => {})
    const base = await cb.base('tcp')
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{32}$/)
    const port = new URL(base).port
    assert.equal(await post(`http://127.0.0.1:${port}`, '/api/client/peers/x/streams', '{}'), 404)
    assert.equal(await post(base, '/api/client/peers/x/streams', '{}'), 400)
    await cb.close()
  })
})
