/**
 * Property-based fuzzing of the p2pd control plane and of stream sockets against a real
 * daemon (fast-check, bounded in time): random bytes, random frames, valid requests with
 * flipped, truncated or extended bytes, oversized and overlong varints; then garbage pushed
 * through stream sockets (it must come back unchanged from the echo peer, since the daemon
 * never parses stream bytes) with programs that vanish or never connect. Each control
 * connection must get only well-formed responses and be closed in bounded time; after each
 * batch the daemon answers a normal request and its fds, streams and socket files are back
 * to the baseline. Requests that carry IP multiaddrs are never mutated (a flipped byte
 * could turn loopback into a public address).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { peerIdFromString } from '@libp2p/peer-id'
import { encodeVarint, readDelimited } from '../../src/api/p2pd/framing.ts'
import { Request, Response } from '../../src/proto/p2pd.ts'
import { spawnDaemons } from './helpers/daemon.js'
import { request } from './helpers/http.js'
import { echo, startCallbackServer } from './helpers/program.js'
import { assertAlive, assertNoLeak, closedAfter, connectSocket, exchange, fdCount, openStream, rawControl, sleep } from './fuzz-harness.ts'
import type { SpawnedDaemon } from './helpers/daemon.js'
import type { CallbackServer } from './helpers/program.js'
import type { Socket } from 'node:net'

const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 8_000)
const OTHER = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const ECHO = '/fuzz/echo/1'

describe('fuzz: p2pd control plane and stream sockets', () => {
  let a: SpawnedDaemon
  let b: SpawnedDaemon
  let baseFds = 0
  let echoServer: CallbackServer | undefined
  const socketDir = mkdtempSync('/tmp/lpd-fzp-')
  const sdir = join(socketDir, 's')
  const failures: string[] = []
  const tried = { control: 0, errors: 0, oks: 0, streams: 0, streamBytes: 0, vanished: 0, neverConnected: 0 }

  before(async () => {
    [a, b] = await spawnDaemons([['-socketDir', sdir, '-requestTimeout', '2s', '-streamAcceptTimeout', '1s'], []])
    const res = await request(a.httpAddr ?? '', 'POST', '/api/daemon/peers', { body: { peerID: b.peerId, addresses: b.addrs } })
    assert.equal(res.status, 204, res.body.toString())
    // B's echo is a program behind a callback (js-libp2p's /echo/1.0.0 takes 32 streams at most)
    echoServer = await startCallbackServer('unix', () => ({ run: echo }), socketDir)
    const h = await request(b.httpAddr ?? '', 'POST', '/api/daemon/handlers', { body: { protocols: [ECHO], callback: echoServer.url } })
    assert.equal(h.status, 204, h.body.toString())
    await sleep(500)
    baseFds = fdCount(a.proc.pid ?? 0)
  })
  after(async () => {
    if (failures.length > 0) console.log(`# fuzz-p2pd failures (first 5): ${failures.slice(0, 5).join(' | ')}`)
    console.log(`# fuzz-p2pd: ${tried.control} control inputs (${tried.oks} OK, ${tried.errors} ERROR answers), ${tried.streams} stream-socket inputs (${tried.streamBytes} bytes, ${tried.vanished} programs vanished, ${tried.neverConnected} never connected); daemon fds ${fdCount(a?.proc.pid ?? 0)} (baseline ${baseFds})`)
    await echoServer?.close()
    await Promise.all([a?.stop(), b?.stop()])
    rmSync(socketDir, { recursive: true, force: true })
  })

  /** Valid requests without IP addresses, the seeds of the mutations. */
  const seeds = (): Uint8Array[] => {
    const peer = peerIdFromString(b.peerId).toMultihash().bytes
    const other = peerIdFromString(OTHER).toMultihash().bytes
    const reqs: Array<Partial<Request>> = [
      { type: Request.Type.IDENTIFY },
      { type: Request.Type.LIST_PEERS },
      { type: Request.Type.VERSION },
      { type: Request.Type.STREAM_OPEN, streamOpen: { peer, proto: ['/echo/1.0.0'], timeout: 2n } },
      { type: Request.Type.STREAM_OPEN, streamOpen: { peer: other, proto: ['/x/1'], timeout: 1n } },
      { type: Request.Type.DHT, dht: { type: 'FIND_PEER' as any, peer: other, timeout: 1n } },
      { type: Request.Type.PUBSUB, pubsub: { type: 'GET_TOPICS' as any, topic: '' } as any },
      { type: Request.Type.PEERSTORE, peerStore: { type: 'GET_PROTOCOLS' as any, id: peer, protos: [] } },
      { type: Request.Type.CONNMANAGER, connManager: { type: 'TAG_PEER' as any, peer: other, tag: 'fuzz', weight: 1n } },
      { type: Request.Type.DISCONNECT, disconnect: { peer: other } },
      { type: Request.Type.STREAM_RESET, streamReset: { id: 'zz' } }
    ]
    return reqs.map(r => Request.encode(r))
  }

  const frame = (bytes: Uint8Array): Buffer => Buffer.concat([encodeVarint(bytes.byteLength), bytes])

  const input = fc.oneof(
    fc.record({ kind: fc.constant('raw' as const), bytes: fc.uint8Array({ maxLength: 4096 }) }),
    fc.record({ kind: fc.constant('frame' as const), bytes: fc.uint8Array({ maxLength: 4096 }) }),
    fc.record({ kind: fc.constant('flip' as const), seed: fc.nat(), at: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }) }),
    fc.record({ kind: fc.constant('truncate' as const), seed: fc.nat(), at: fc.nat() }),
    fc.record({ kind: fc.constant('append' as const), seed: fc.nat(), bytes: fc.uint8Array({ maxLength: 64 }) }),
    fc.record({ kind: fc.constant('bigprefix' as const), len: fc.integer({ min: (4 << 20) + 1, max: Number.MAX_SAFE_INTEGER }) }),
    fc.record({ kind: fc.constant('longvarint' as const), n: fc.integer({ min: 11, max: 40 }) }),
    fc.record({ kind: fc.constant('pipeline' as const), seeds: fc.array(fc.nat(), { minLength: 2, maxLength: 5 }) })
  )

  function build (inp: any, all: Uint8Array[]): Buffer {
    const pick = (n: number): Uint8Array => all[n % all.length]
    switch (inp.kind) {
      case 'raw': return Buffer.from(inp.bytes)
      case 'frame': return frame(inp.bytes)
      case 'flip': {
        const body = Buffer.from(pick(inp.seed))
        for (const [i, v] of inp.at) if (body.length > 0) body[i % body.length] = v
        return frame(body)
      }
      case 'truncate': { const f = frame(pick(inp.seed)); return f.subarray(0, inp.at % f.length) }
      case 'append': return Buffer.concat([frame(Buffer.concat([pick(inp.seed), inp.bytes])), Buffer.from(inp.bytes)])
      case 'bigprefix': return Buffer.from(encodeVarint(inp.len))
      case 'longvarint': return Buffer.alloc(inp.n, 0xff)
      case 'pipeline': return Buffer.concat(inp.seeds.map((n: number) => frame(pick(n))))
    }
    throw new Error('unknown input')
  }

  it('garbage, mutated and oversized control messages', async () => {
    const all = seeds()
    let runs = 0
    await fc.assert(fc.asyncProperty(input, async inp => {
      const bytes = build(inp, all)
      const s = await rawControl(a)
      try {
        await probe(s, bytes, inp.kind)
      } catch (err) {
        failures.push(`${inp.kind as string} ${bytes.subarray(0, 64).toString('hex')}: ${(err as Error).message}`)
        throw err
      } finally {
        s.destroy()
      }
      tried.control++
      if (++runs % 100 === 0) await assertAlive(a)
    }), { numRuns: 1_000_000, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false })
    // fast-check reports success when the time budget interrupts the shrinking of a failure
    assert.deepEqual(failures, [])
    assert.ok(runs > 100, `only ${runs} runs`)
    await assertAlive(a)
    await assertNoLeak(a, baseFds, sdir)
  })

  /** Sends `bytes`, half-closes, checks the first answer (if any) and that the daemon hangs up. */
  async function probe (s: Socket, bytes: Buffer, kind: string): Promise<void> {
    s.end(bytes)
    // the daemon answers what it can, then closes: within the request timeout at worst
    const first = await readDelimited(s, { timeout: 8000, maxMessageSize: 64 << 20 }).catch((err: any) => {
      if (err.code === 'ERR_UNEXPECTED_EOF' || err.code === 'ECONNRESET' || err.code === 'EPIPE') return undefined
      throw err
    })
    if (first !== undefined) {
      const res = Response.decode(first)
      assert.ok(res.type === Response.Type.OK || res.type === Response.Type.ERROR, `response type ${String(res.type)}`)
      if (res.type === Response.Type.ERROR) {
        tried.errors++
        assert.ok((res.error?.msg ?? '').length > 0, 'ERROR without a message')
      } else tried.oks++
    }
    const ms = await closedAfter(s, 8000)
    assert.ok(ms >= 0, `control connection not closed for ${kind}`)
  }

  it('garbage through stream sockets comes back intact; vanishing programs leak nothing', async () => {
    const arb = fc.record({
      chunks: fc.array(fc.uint8Array({ minLength: 1, maxLength: 16384, size: 'large' }), { minLength: 1, maxLength: 8 }),
      fate: fc.constantFrom('echo', 'echo', 'echo', 'echo', 'vanish', 'never', 'twice')
    })
    let runs = 0
    await fc.assert(fc.asyncProperty(arb, async input => {
      try {
        await streamCase(input.chunks, input.fate)
      } catch (err) {
        failures.push(`stream ${input.fate} (${input.chunks.length} chunks): ${(err as Error).message}`)
        throw err
      }
    }), { numRuns: 1_000_000, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false })
    assert.deepEqual(failures, [])
    assert.ok(runs > 20, `only ${runs} echo runs`)
    await assertAlive(a)
    // streams nobody connected to are reset by the accept timeout (1 s)
    await assertNoLeak(a, baseFds, sdir, 2, 20_000)

    async function streamCase (chunks: Uint8Array[], fate: string): Promise<void> {
      const st = await openStream(a, b, ECHO)
      tried.streams++
      if (fate === 'never') { tried.neverConnected++; return }
      const s = await connectSocket(st.socketPath)
      if (fate === 'vanish') {
        s.write(chunks[0])
        s.destroy()
        tried.vanished++
        return
      }
      if (fate === 'twice') {
        // a second program on the same socket: refused, the first keeps the stream
        const second = await connectSocket(st.socketPath).catch(() => undefined)
        if (second !== undefined) assert.ok(await closedAfter(second, 5000) >= 0, 'second connection not closed')
      }
      const data = Buffer.concat(chunks)
      const back = await exchange(s, data)
      assert.equal(Buffer.compare(back, data), 0, `echo of ${data.length} bytes differs (${back.length} back)`)
      tried.streamBytes += data.length
      runs++
    }
  })
})
