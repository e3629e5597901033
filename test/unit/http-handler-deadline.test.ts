/**
 * The HTTP plane's backstop deadline (src/api/http/handler-deadline.ts), on a real fastify
 * server over loopback: a handler that never answers gets ERR_TIMEOUT (504) near the
 * deadline; answered requests and hijacked streams are left alone; the connection stays usable.
 */
import assert from 'node:assert/strict'
import { request, Agent } from 'node:http'
import { after, before, describe, it } from 'node:test'
import Fastify from 'fastify'
import { installErrorHandlers } from '../../src/api/http/errors.js'
import { installHandlerDeadline } from '../../src/api/http/handler-deadline.js'
import type { FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'

const DEADLINE_MS = 300

/** GET `path`; resolves with status, body and when the answer ended (ms after sending). */
async function get (port: number, path: string, agent: Agent): Promise<{ status: number, body: string, ms: number }> {
  const start = Date.now()
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, timeout: 10_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body, ms: Date.now() - start }) })
      res.on('error', reject)
    })
    req.on('timeout', () => { req.destroy(new Error('no answer in 10 s')) })
    req.on('error', reject)
    req.end()
  })
}

describe('http handler deadline', () => {
  let app: FastifyInstance
  let port: number
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  let sentWhenHandlerResumed: boolean | undefined

  before(async () => {
    app = Fastify()
    installErrorHandlers(app)
    installHandlerDeadline(app, DEADLINE_MS)
    app.get('/never', async (_req, reply) => {
      await new Promise(resolve => setTimeout(resolve, DEADLINE_MS * 3))
      // the handler answers after the deadline: nothing more reaches the client
      sentWhenHandlerResumed = reply.sent
      return { late: true }
    })
    app.get('/quick', async () => ({ ok: true }))
    app.get('/stream', (_req, reply) => {
      reply.hijack()
      reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson' })
      let n = 0
      const timer = setInterval(() => {
        reply.raw.write(`{"n":${n}}\n`)
        if (++n === 8) { clearInterval(timer); reply.raw.end() }
      }, DEADLINE_MS / 4)
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    port = (app.server.address() as AddressInfo).port
  })
  after(async () => {
    agent.destroy()
    await app.close()
  })

  it('answers a handler that never replies with ERR_TIMEOUT, near the deadline', async () => {
    const res = await get(port, '/never', agent)
    assert.equal(res.status, 504)
    assert.equal(JSON.parse(res.body).code, 'ERR_TIMEOUT')
    assert.ok(res.ms >= DEADLINE_MS - 5, `answered after ${res.ms} ms`)
    assert.ok(res.ms < DEADLINE_MS * 2, `answered after ${res.ms} ms`)
  })

  it('leaves answered requests alone, and the kept connection serves the next request', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await get(port, '/quick', agent)
      assert.equal(res.status, 200)
      assert.deepEqual(JSON.parse(res.body), { ok: true })
    }
  })

  it('never cuts a hijacked streaming response, however long it lasts', async () => {
    const res = await get(port, '/stream', agent)
    assert.equal(res.status, 200)
    assert.equal(res.body.trim().split('\n').length, 8)
    assert.ok(res.ms >= DEADLINE_MS * 1.5, `the stream lasted ${res.ms} ms`)
  })

  it('the late handler found its reply already sent', async () => {
    await new Promise(resolve => setTimeout(resolve, DEADLINE_MS * 3))
    assert.equal(sentWhenHandlerResumed, true)
  })
})
