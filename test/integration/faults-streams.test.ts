/**
 * Faults on the stream path between real daemons: a program killed (SIGKILL) in the middle
 * of a transfer, a remote daemon killed mid-transfer (a reset) or while its stream is idle
 * (a FIN), a remote frozen (SIGSTOP: it neither answers nor closes, as when the network
 * drops every packet), a p2pd client that vanishes on its stream. Each time the streams of others go on, whoever waits gets an error (the
 * event stream says why a stream closed; a blocked open gets a timeout), and the daemon is
 * back to its baseline of fds, open streams and socket files.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { readDelimited, writeDelimited } from '../../src/api/p2pd/framing.ts'
import { Request, Response } from '../../src/proto/p2pd.ts'
import { spawnDaemons } from './helpers/daemon.js'
import { openLines, request } from './helpers/http.js'
import { assertAlive, assertNoLeak, closedAfter, connectSocket, exchange, fdCount, openStream, rawControl, sleep, waitFor } from './fuzz-harness.ts'
import type { SpawnedDaemon } from './helpers/daemon.js'
import type { LineStream } from './helpers/http.js'
import type { Socket } from 'node:net'

/** A program that connects to a stream socket and writes as fast as it can until killed. */
const FLOODER = `
const s = require('node:net').connect(process.argv[1], () => {
  const buf = Buffer.alloc(65536, 7)
  const pump = () => { while (s.write(buf)) {} }
  s.on('drain', pump); pump(); console.log('flooding')
})
s.on('data', () => {})
`

describe('faults on streams', () => {
  let a: SpawnedDaemon
  let b: SpawnedDaemon
  let c: SpawnedDaemon
  let events: LineStream
  let baseFds = 0
  const dir = mkdtempSync('/tmp/lpd-flt-')
  const sdir = join(dir, 's')
  const survived: string[] = []

  before(async () => {
    [a, b, c] = await spawnDaemons([['-socketDir', sdir, '-streamAcceptTimeout', '5s'], [], []])
    for (const peer of [b, c]) {
      const res = await request(a.httpAddr ?? '', 'POST', '/api/daemon/peers', { body: { peerID: peer.peerId, addresses: peer.addrs } })
      assert.equal(res.status, 204, res.body.toString())
    }
    events = await openLines(a.httpAddr ?? '', 'GET', '/api/daemon/events')
    assert.equal((await events.next()).type, 'READY')
    await sleep(300)
    baseFds = fdCount(a.proc.pid ?? 0)
  })
  after(async () => {
    console.log(`# faults survived: ${survived.join('; ')}`)
    events?.close()
    await Promise.all([a?.stop(), b?.stop(), c?.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  const closedEvent = async (id: string): Promise<any> => await events.waitFor(e => e.type === 'STREAM_CLOSED' && e.streamId === id, 15_000)

  it('a program killed mid-transfer: its stream is reset, the other stream goes on', async () => {
    const victim = await openStream(a, b, '/echo/1.0.0')
    const other = await openStream(a, b, '/echo/1.0.0')
    const prog = spawn(process.execPath, ['-e', FLOODER, victim.socketPath], { stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise<void>(resolve => prog.stdout.once('data', () => { resolve() }))
    const otherSock = await connectSocket(other.socketPath)
    const payload = randomBytes(2 << 20)
    const echoed = exchange(otherSock, payload, 30_000)
    await sleep(200)
    prog.kill('SIGKILL')
    const closed = await closedEvent(victim.id)
    assert.ok(typeof closed.error === 'string' && closed.error.length > 0, `STREAM_CLOSED without an error: ${JSON.stringify(closed)}`)
    assert.equal(Buffer.compare(await echoed, payload), 0, 'the other stream lost data')
    survived.push(`program SIGKILLed mid-flood (victim closed: "${closed.error as string}"), neighbour echoed 2 MiB intact`)
    await assertNoLeak(a, baseFds, sdir)
  })

  it('the remote daemon killed mid-transfer: the program sees the stream end, streams to others go on', async () => {
    const toC = await openStream(a, c, '/echo/1.0.0')
    const toB = await openStream(a, b, '/echo/1.0.0')
    const sc = await connectSocket(toC.socketPath)
    sc.on('error', () => {})
    sc.on('data', () => {})
    const writer = setInterval(() => { if (!sc.destroyed) sc.write(randomBytes(16384)) }, 5)
    await sleep(300)
    c.proc.kill('SIGKILL')
    const endedIn = await closedAfter(sc, 10_000)
    clearInterval(writer)
    sc.destroy()
    assert.ok(endedIn >= 0, 'the program was never told that the remote died')
    const closed = await closedEvent(toC.id)
    assert.ok(closed.error !== undefined, 'STREAM_CLOSED without an error')
    // (its PEER_DISCONNECTED event may have gone by while waiting for STREAM_CLOSED)
    await waitFor(async () => (await request(a.httpAddr ?? '', 'GET', '/api/daemon/connections')).json().every((x: any) => x.peerID !== c.peerId), 10_000, 'the dead peer\'s connection to go')
    const sb = await connectSocket(toB.socketPath)
    const data = randomBytes(256 << 10)
    assert.equal(Buffer.compare(await exchange(sb, data), data), 0)
    survived.push(`remote SIGKILLed mid-transfer (program told in ${endedIn} ms, "${closed.error as string}"), stream to another peer echoed 256 KiB`)
    // opening a stream to the dead peer is an error for the program, not a hang
    const res = await request(a.httpAddr ?? '', 'POST', `/api/daemon/peers/${c.peerId}/streams`, { body: { protocol: '/echo/1.0.0', timeout: 5 } })
    assert.ok(res.status === 502 || res.status === 504, `${res.status} ${res.body.toString()}`)
    await assertNoLeak(a, baseFds, sdir)
    baseFds = fdCount(a.proc.pid ?? 0)
  })

  it('the remote daemon killed while its stream is idle (a FIN, not a reset): EOF for the program, the stream leaves the table', async () => {
    // with nothing unread in its socket buffers, the dead daemon's kernel closes its TCP
    // connections with a FIN: a clean end, not an error. (Seen in the first session: the
    // stream then stayed listed for 10 s or more.)
    const [d] = await spawnDaemons([[]])
    try {
      const res = await request(a.httpAddr ?? '', 'POST', '/api/daemon/peers', { body: { peerID: d.peerId, addresses: d.addrs } })
      assert.equal(res.status, 204, res.body.toString())
      const toD = await openStream(a, d, '/echo/1.0.0')
      const sd = await connectSocket(toD.socketPath)
      sd.on('error', () => {})
      // one echo, and the stream stays open both ways
      const hello = randomBytes(64)
      const echoed = await new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = []
        const onData = (c: Buffer): void => {
          chunks.push(c)
          if (Buffer.concat(chunks).length >= hello.length) { sd.off('data', onData); sd.pause(); resolve(Buffer.concat(chunks)) }
        }
        sd.on('data', onData)
        sd.write(hello)
      })
      assert.equal(Buffer.compare(echoed, hello), 0)
      await sleep(200)
      d.proc.kill('SIGKILL')
      const endedIn = await closedAfter(sd, 10_000)
      assert.ok(endedIn >= 0, 'the program was never told that the remote died')
      const closed = await closedEvent(toD.id)
      assert.ok(closed.error !== undefined, 'STREAM_CLOSED says why')
      const listed = (await request(a.httpAddr ?? '', 'GET', '/api/daemon/streams')).json().map((x: any) => x.id)
      assert.ok(!listed.includes(toD.id), `stream ${toD.id} still listed`)
      survived.push(`remote SIGKILLed with an idle stream (program told in ${endedIn} ms, "${closed.error as string}")`)
      await waitFor(async () => (await request(a.httpAddr ?? '', 'GET', '/api/daemon/connections')).json().every((x: any) => x.peerID !== d.peerId), 10_000, 'the dead peer\'s connection to go')
      await assertNoLeak(a, baseFds, sdir)
    } finally {
      await d.stop()
    }
  })

  it('a frozen remote (SIGSTOP, like a network dropping every packet): opens time out, other peers unaffected', async () => {
    const d = (await spawnDaemons([[]]))[0]
    try {
      const res = await request(a.httpAddr ?? '', 'POST', '/api/daemon/peers', { body: { peerID: d.peerId, addresses: d.addrs } })
      assert.equal(res.status, 204)
      const held = await openStream(a, d, '/echo/1.0.0')
      const hs = await connectSocket(held.socketPath)
      hs.on('error', () => {})
      d.proc.kill('SIGSTOP')
      const t0 = Date.now()
      const blocked = await request(a.httpAddr ?? '', 'POST', `/api/daemon/peers/${d.peerId}/streams`, { body: { protocol: '/echo/1.0.0', timeout: 2 } })
      const waited = Date.now() - t0
      assert.equal(blocked.status, 504, blocked.body.toString())
      assert.equal(blocked.json().code, 'ERR_TIMEOUT')
      assert.ok(waited < 6000, `the timeout took ${waited} ms`)
      const sb = await connectSocket((await openStream(a, b, '/echo/1.0.0')).socketPath)
      assert.equal((await exchange(sb, Buffer.from('still here'))).toString(), 'still here')
      // the program gives up on the frozen peer: reset frees its stream at once
      const del = await request(a.httpAddr ?? '', 'DELETE', `/api/daemon/streams/${held.id as string}`)
      assert.equal(del.status, 204)
      assert.ok(await closedAfter(hs, 5000) >= 0, 'reset did not close the program socket')
      survived.push(`frozen remote: open timed out in ${waited} ms with ERR_TIMEOUT, other peer echoed, reset freed the held stream`)
      d.proc.kill('SIGCONT')
      await request(a.httpAddr ?? '', 'POST', `/api/daemon/peers/${d.peerId}/disconnect`)
    } finally {
      d.proc.kill('SIGCONT')
      await d.stop()
    }
    await waitFor(async () => (await request(a.httpAddr ?? '', 'GET', '/api/daemon/connections')).json().every((x: any) => x.peerID !== d.peerId), 10_000, 'the frozen peer to go')
    await assertNoLeak(a, baseFds, sdir)
  })

  it('a p2pd client vanishing on its stream: the stream is reset, a parallel p2pd stream goes on', async () => {
    const peer = peerIdFromString(b.peerId).toMultihash().bytes
    const open = async (): Promise<Socket> => {
      const s = await rawControl(a)
      await writeDelimited(s, Request.encode({ type: Request.Type.STREAM_OPEN, streamOpen: { peer, proto: ['/echo/1.0.0'] } }))
      const res = Response.decode((await readDelimited(s, { timeout: 10_000 })) ?? new Uint8Array())
      assert.equal(res.type, Response.Type.OK, res.error?.msg)
      return s
    }
    const gone = await open()
    const kept = await open()
    gone.write(randomBytes(100_000))
    gone.destroy()
    const data = randomBytes(512 << 10)
    assert.equal(Buffer.compare(await exchange(kept, data), data), 0)
    survived.push('p2pd client vanished mid-stream, parallel p2pd stream echoed 512 KiB')
    await assertAlive(a)
    await assertNoLeak(a, baseFds, sdir)
  })
})
