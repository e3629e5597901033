/**
 * Requests that stop half-way (slowloris) on both planes: an idle connection, a request cut
 * in its headers, a body that never completes, bytes trickled one at a time. With
 * `-requestTimeout 2s` the daemon must close each within the timeout plus the HTTP server's
 * check interval, and a p2pd client that never reads its answers likewise; meanwhile, with hundreds of such connections open, normal requests on both
 * planes are still served at once, and afterwards no fd is left behind.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { encodeVarint, readDelimited } from '../../src/api/p2pd/framing.ts'
import { Request, Response } from '../../src/proto/p2pd.ts'
import { spawnDaemon } from './helpers/daemon.js'
import { assertAlive, closedAfter, fdCount, rawControl, roundTrip, sleep, waitFor } from './fuzz-harness.ts'
import type { SpawnedDaemon } from './helpers/daemon.js'
import type { Socket } from 'node:net'

const TIMEOUT_MS = 2000
/** requestTimeout + the server's check interval (a quarter of it) + scheduling slack. */
const CLOSE_BY_MS = TIMEOUT_MS + 3000

describe('slowloris: half-finished requests are timed out', () => {
  let d: SpawnedDaemon
  let baseFds = 0
  const closeTimes: Record<string, number> = {}

  before(async () => {
    d = await spawnDaemon(['-requestTimeout', `${TIMEOUT_MS / 1000}s`])
    await sleep(300)
    baseFds = fdCount(d.proc.pid ?? 0)
  })
  after(async () => {
    console.log(`# slowloris close times (ms): ${JSON.stringify(closeTimes)}; fds ${fdCount(d?.proc.pid ?? 0)} (baseline ${baseFds})`)
    await d?.stop()
  })

  const httpSocket = async (): Promise<Socket> => {
    const s = connect({ path: d.httpAddr ?? '' })
    await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
    s.on('error', () => {})
    return s
  }

  const httpCases: Record<string, string> = {
    'http: idle': '',
    'http: headers cut': 'GET /api/daemon/identity HTTP/1.1\r\nHost: localhost\r\nX-Slow: ',
    'http: body cut': 'POST /api/daemon/peers HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"peerID":'
  }
  for (const [name, text] of Object.entries(httpCases)) {
    it(name, async () => {
      const s = await httpSocket()
      if (text !== '') s.write(text)
      const ms = await closedAfter(s, CLOSE_BY_MS + 2000)
      s.destroy()
      closeTimes[name] = ms
      assert.ok(ms >= 0 && ms <= CLOSE_BY_MS, `${name}: closed after ${ms} ms`)
    })
  }

  it('http: headers trickled a byte every 200 ms', async () => {
    const s = await httpSocket()
    const text = 'GET /api/daemon/identity HTTP/1.1\r\nHost: localhost\r\nX-Pad: ' + 'x'.repeat(200)
    let i = 0
    const timer = setInterval(() => { if (!s.destroyed && i < text.length) s.write(text[i++]) }, 200)
    const ms = await closedAfter(s, CLOSE_BY_MS + 2000)
    clearInterval(timer)
    s.destroy()
    closeTimes['http: trickle'] = ms
    assert.ok(ms >= 0 && ms <= CLOSE_BY_MS, `closed after ${ms} ms`)
  })

  const p2pdCases: Record<string, Buffer> = {
    'p2pd: idle': Buffer.alloc(0),
    'p2pd: length prefix only': Buffer.from(encodeVarint(100)),
    'p2pd: message cut': Buffer.concat([encodeVarint(100), Buffer.from([8, 0, 18])]),
    'p2pd: varint cut': Buffer.from([0x80, 0x80])
  }
  for (const [name, bytes] of Object.entries(p2pdCases)) {
    it(name, async () => {
      const s = await rawControl(d)
      const start = Date.now()
      if (bytes.length > 0) s.write(bytes)
      // the daemon says why before it hangs up
      const msg = await readDelimited(s, { timeout: CLOSE_BY_MS + 2000 })
      assert.ok(msg !== undefined, 'no ERROR before close')
      const res = Response.decode(msg)
      assert.equal(res.type, Response.Type.ERROR)
      assert.match(res.error?.msg ?? '', /no complete request within/)
      const ms = await closedAfter(s, 3000)
      s.destroy()
      closeTimes[name] = Date.now() - start
      assert.ok(ms >= 0 && Date.now() - start <= CLOSE_BY_MS, `${name}: closed after ${Date.now() - start} ms`)
    })
  }

  it('p2pd: a client that pipelines requests and never reads the answers is closed', async () => {
    // the daemon closes the earlier tests' sockets only after their clients let go: counted
    // before that, one of them closing could hide this connection's fd from the count below
    await waitFor(() => fdCount(d.proc.pid ?? 0) <= baseFds, 5000, `fds back to ${baseFds} (now ${fdCount(d.proc.pid ?? 0)})`)
    const before = fdCount(d.proc.pid ?? 0)
    const s = await rawControl(d)
    s.pause()
    // far more answers than the socket buffers hold: the daemon stops reading, then waits on us
    const one = Buffer.concat([encodeVarint(2), Buffer.from(Request.encode({ type: Request.Type.IDENTIFY }))])
    s.write(Buffer.concat(Array(50_000).fill(one)))
    await waitFor(() => fdCount(d.proc.pid ?? 0) > before, 5000, 'the connection to be accepted')
    const start = Date.now()
    // its socket is gone from the daemon (no graceful end: that would wait for us to read)
    await waitFor(() => fdCount(d.proc.pid ?? 0) <= before, CLOSE_BY_MS + 5000, 'the daemon to close the connection')
    closeTimes['p2pd: never reads'] = Date.now() - start
    s.destroy()
    await assertAlive(d)
  })

  it('300 slow connections at once: normal requests are still served, then all are closed', async () => {
    const slow: Socket[] = []
    for (let i = 0; i < 150; i++) {
      const h = await httpSocket()
      h.write('GET /api/daemon/identity HTTP/1.1\r\nHost: localhost\r\n')
      slow.push(h)
      const c = await rawControl(d)
      c.write(encodeVarint(50))
      slow.push(c)
    }
    const t0 = Date.now()
    await assertAlive(d)
    const r = await roundTrip(d, { type: Request.Type.IDENTIFY })
    assert.equal(r.type, Response.Type.OK)
    const served = Date.now() - t0
    assert.ok(served < 1500, `normal requests took ${served} ms with 300 slow connections open`)
    const times = await Promise.all(slow.map(async s => await closedAfter(s, CLOSE_BY_MS + 3000)))
    for (const s of slow) s.destroy()
    closeTimes['300 at once: slowest'] = Math.max(...times)
    assert.ok(times.every(t => t >= 0), `${times.filter(t => t < 0).length} slow connections never closed`)
    await waitFor(() => fdCount(d.proc.pid ?? 0) <= baseFds + 2, 5000, `fds back to ${baseFds} (now ${fdCount(d.proc.pid ?? 0)})`)
    await assertAlive(d)
  })
})
