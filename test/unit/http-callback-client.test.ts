/**
 * The HTTP plane's callback client keeps connections to the program's server alive, drops
 * them when idle, and sends a request once more only when a pooled connection turns out to
 * be closed by the server before it answered. Real servers on unix sockets and loopback TCP.
 */
import assert from 'node:assert/strict'
import { getEventListeners, once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { CALLBACK_IDLE_MS, CallbackClient, parseCallback } from '../../src/api/http/callback.js'
import type { Server } from 'node:net'
import type { Socket } from 'node:net'

let dir: string
before(async () => { dir = await mkdtemp(join(tmpdir(), 'l2d-cb-')) })
after(async () => { await rm(dir, { recursive: true, force: true }) })

async function listen (server: Server, name: string): Promise<string> {
  const path = join(dir, name)
  server.listen(path)
  await once(server, 'listening')
  return path
}

/** An HTTP server on a unix socket `name` that answers every request with `status` and counts them. */
async function answeringServer (name: string, status: number): Promise<{ server: Server, path: string, requests: () => number }> {
  let requests = 0
  const server = createHttpServer((req, res) => { requests++; req.resume(); res.statusCode = status; res.end() })
  return { server, path: await listen(server, name), requests: () => requests }
}

/** Listens on loopback TCP (a reset, `resetAndDestroy`, needs TCP); returns the callback base. */
async function listenTcp (server: Server): Promise<string> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return `http://127.0.0.1:${address.port}`
}

/**
 * A bare HTTP/1.1 server that hands each complete request (headers and a content-length
 * body) on a connection to `onRequest` with that connection's number and the request's
 * number on it.
 */
function rawHttpServer (onRequest: (socket: Socket, conn: number, nth: number) => void): { server: Server, connections: () => number, close: () => void } {
  let connections = 0
  const sockets = new Set<Socket>()
  const server = createNetServer(socket => {
    const conn = ++connections
    sockets.add(socket)
    let nth = 0
    let buf = Buffer.alloc(0)
    socket.on('error', () => {})
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      for (;;) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const length = Number(/content-length: *(\d+)/i.exec(buf.subarray(0, end).toString())?.[1] ?? 0)
        if (buf.byteLength < end + 4 + length) return
        buf = buf.subarray(end + 4 + length)
        onRequest(socket, conn, ++nth)
      }
    })
  })
  const close = (): void => {
    server.close()
    for (const socket of sockets) socket.destroy()
  }
  return { server, connections: () => connections, close }
}

const NO_CONTENT = 'HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n'

describe('callback client', () => {
  it('sends consecutive callbacks over one kept-alive connection', async () => {
    let connections = 0
    const { server, path, requests } = await answeringServer('reuse.sock', 204)
    server.on('connection', () => { connections++ })
    const client = new CallbackClient(new AbortController().signal)
    try {
      for (let i = 0; i < 5; i++) await client.post(parseCallback(`unix:${path}`), 'peer', { i })
      assert.equal(requests(), 5)
      assert.equal(connections, 1)
    } finally {
      client.close()
      server.close()
    }
  })

  it('closes an idle pooled connection after CALLBACK_IDLE_MS, before the server would', async () => {
    const server = createHttpServer((req, res) => { req.resume(); res.statusCode = 204; res.end() })
    server.keepAliveTimeout = 60_000
    const closed: Array<Promise<unknown>> = []
    server.on('connection', (socket: Socket) => { closed.push(once(socket, 'close')) })
    const path = await listen(server, 'idle.sock')
    const client = new CallbackClient(new AbortController().signal)
    try {
      await client.post(parseCallback(`unix:${path}`), 'peer', {})
      const start = Date.now()
      await Promise.race([closed[0], new Promise((_resolve, reject) => setTimeout(() => reject(new Error('idle connection still open after 5 s')), 5_000))])
      const waited = Date.now() - start
      assert.ok(waited >= CALLBACK_IDLE_MS - 100, `closed after ${waited} ms`)
    } finally {
      client.close()
      server.close()
    }
  })

  it('sends once more on a fresh connection when a pooled one was closed under the request', async () => {
    const seen: string[] = []
    const { server, connections, close } = rawHttpServer((socket, conn, nth) => {
      seen.push(`${conn}.${nth}`)
      // the first connection answers once, then dies under its second request, as a
      // server does that closes an idle connection while the next request is on its way
      if (conn === 1 && nth === 2) socket.resetAndDestroy()
      else socket.write(NO_CONTENT)
    })
    const base = await listenTcp(server)
    const client = new CallbackClient(new AbortController().signal)
    try {
      const cb = parseCallback(base)
      await client.post(cb, 'peer', { n: 1 })
      await client.post(cb, 'peer', { n: 2 })
      assert.deepEqual(seen, ['1.1', '1.2', '2.1'])
      assert.equal(connections(), 2)
    } finally {
      client.close()
      close()
    }
  })

  it('does not send again when a fresh connection fails', async () => {
    const { server, connections, close } = rawHttpServer(socket => { socket.resetAndDestroy() })
    const base = await listenTcp(server)
    const client = new CallbackClient(new AbortController().signal)
    try {
      await assert.rejects(client.post(parseCallback(base), 'peer', {}), { code: 'ERR_CALLBACK_FAILED' })
      assert.equal(connections(), 1)
    } finally {
      client.close()
      close()
    }
  })

  it('waits for a server slower than the idle timeout (the idle timeout is for pooled connections only)', async () => {
    const server = createHttpServer((req, res) => {
      req.resume()
      setTimeout(() => { res.statusCode = 204; res.end() }, CALLBACK_IDLE_MS + 500)
    })
    const path = await listen(server, 'slow.sock')
    const client = new CallbackClient(new AbortController().signal)
    try {
      await client.post(parseCallback(`unix:${path}`), 'peer', {})
    } finally {
      client.close()
      server.close()
    }
  })

  it('reports a non-2xx answer without sending again', async () => {
    const { server, path, requests } = await answeringServer('status.sock', 500)
    const client = new CallbackClient(new AbortController().signal)
    try {
      await assert.rejects(client.post(parseCallback(`unix:${path}`), 'peer', {}), /answered 500/)
      assert.equal(requests(), 1)
    } finally {
      client.close()
      server.close()
    }
  })

  it('ends a request in flight when the plane closes; an answered one leaves no listener on the closing signal', async () => {
    const server = createHttpServer((req) => { req.resume() }) // never answers
    const path = await listen(server, 'hang.sock')
    const closing = new AbortController()
    const client = new CallbackClient(closing.signal)
    try {
      const started = Date.now()
      const posted = client.post(parseCallback(`unix:${path}`), 'peer', {})
      setTimeout(() => { closing.abort(new Error('daemon stopping')) }, 100)
      await assert.rejects(posted, { code: 'ERR_CALLBACK_FAILED', message: /daemon stopping/ })
      assert.ok(Date.now() - started < 5_000)
      // an answered request does not keep listening either
      const { server: ok, path: okPath } = await answeringServer('ok.sock', 204)
      const live = new AbortController()
      const second = new CallbackClient(live.signal)
      await second.post(parseCallback(`unix:${okPath}`), 'peer', {})
      assert.equal(getEventListeners(live.signal, 'abort').length, 0)
      second.close()
      ok.close()
    } finally {
      client.close()
      server.closeAllConnections()
      server.close()
    }
  })

  it('sends nothing once the plane is closing', async () => {
    const { server, path, requests } = await answeringServer('closed.sock', 204)
    const closing = new AbortController()
    closing.abort(new Error('daemon stopping'))
    const client = new CallbackClient(closing.signal)
    try {
      await assert.rejects(client.post(parseCallback(`unix:${path}`), 'peer', {}), { code: 'ERR_CALLBACK_FAILED', message: /daemon stopping/ })
      assert.equal(requests(), 0)
    } finally {
      client.close()
      server.close()
    }
  })
})
