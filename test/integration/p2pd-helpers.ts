/**
 * Helpers of the p2pd integration tests: spawn the real `bin/libp2pd.js` (build first with
 * `npm run build`) on loopback, parse its banner, and talk raw varint-delimited protobuf
 * to its control endpoint.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createClient } from '@libp2p/daemon-client'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { readDelimited, writeDelimited } from '../../src/api/p2pd/framing.ts'
import {
  HivemindRequest, PersistentConnectionRequest as PCRequest, PersistentConnectionResponse as PCResponse, Request, Response
} from '../../src/proto/p2pd.ts'
import type { DaemonClient } from '@libp2p/daemon-client'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ChildProcess } from 'node:child_process'
import type { Socket } from 'node:net'

const BIN = fileURLToPath(new URL('../../bin/libp2pd.js', import.meta.url))

// every daemon a test file spawned dies with the test process, even when a hook failed
const live = new Set<ChildProcess>()
process.once('exit', () => { for (const p of live) p.kill('SIGKILL') })
// the runner ends a file that overran its timeout with SIGTERM, which skips 'exit' handlers
process.once('SIGTERM', () => {
  for (const p of live) p.kill('SIGKILL')
  process.exit(143)
})

/** A running daemon process. */
export interface TestDaemon {
  proc: ChildProcess
  control: Multiaddr
  port: number
  peerId: PeerId
  addrs: Multiaddr[]
  client: DaemonClient
  stderr: () => string
  stop: () => Promise<void>
}

/** Spawns `libp2pd` with p2pd flags on 127.0.0.1 and waits for its banner (20 s). */
export async function spawnDaemon (extra: string[] = []): Promise<TestDaemon> {
  const args = ['-listen=/ip4/127.0.0.1/tcp/0', '-hostAddrs=/ip4/127.0.0.1/tcp/0', '-httpListen=', '-logLevel=warn', ...extra]
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(proc)
  proc.once('exit', () => { live.delete(proc) })
  // a forgotten daemon must not keep the test process alive
  proc.unref()
  ;(proc.stdout as unknown as { unref?: () => void }).unref?.()
  ;(proc.stderr as unknown as { unref?: () => void }).unref?.()
  let out = ''
  let err = ''
  proc.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  const banner = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no banner within 20 s; stderr: ${err}`)) }, 20_000)
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      // the address list (possibly empty) follows 'Peer Addrs:' in the same write
      if (out.includes('Peer Addrs:\n')) { clearTimeout(timer); setTimeout(() => { resolve(out) }, 100) }
    })
    proc.once('exit', code => { clearTimeout(timer); reject(new Error(`daemon exited with ${String(code)}: ${err}`)) })
  })
  const control = multiaddr(/Control socket: (\S+)/.exec(banner)?.[1] ?? '')
  const peerId = peerIdFromString(/Peer ID: (\S+)/.exec(banner)?.[1] ?? '')
  const addrs = banner.split('Peer Addrs:\n')[1].split('\n').filter(l => l.startsWith('/')).map(l => multiaddr(l))
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise<number | null>(resolve => proc.once('exit', code => { resolve(code) }))
    proc.kill('SIGTERM')
    const t = setTimeout(() => proc.kill('SIGKILL'), 10_000)
    const code = await exited
    clearTimeout(t)
    // SIGTERM must end in an orderly stop: any other code is a crash while stopping
    // (null: it needed the SIGKILL, which a loaded machine can explain)
    if (code !== 143 && code !== null) throw new Error(`daemon exited with ${String(code)} on SIGTERM: ${err.slice(-2000)}`)
  }
  return { proc, control, port: Number(control.getComponents()[1].value), peerId, addrs, client: createClient(control), stderr: () => err, stop }
}

/** A raw control connection (paused, so the framing reader owns it). */
export async function rawConnect (d: TestDaemon): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port: d.port, allowHalfOpen: true })
  await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
  s.on('error', () => {})
  return s
}

/** Writes one request. */
export async function send (s: Socket, req: Partial<Request>): Promise<void> {
  await writeDelimited(s, Request.encode(req))
}

/** Reads one varint-delimited message (10 s by default). */
export async function readMsg (s: Socket, timeout = 10_000): Promise<Uint8Array> {
  const bytes = await readDelimited(s, { timeout })
  if (bytes === undefined) throw new Error('EOF instead of a message')
  return bytes
}

/** Reads one `Response`. */
export async function readResponse (s: Socket, timeout = 10_000): Promise<Response> {
  return Response.decode(await readMsg(s, timeout))
}

/** One request on a fresh connection; returns the response and closes. */
export async function roundTrip (d: TestDaemon, req: Partial<Request>): Promise<Response> {
  const s = await rawConnect(d)
  try {
    await send(s, req)
    return await readResponse(s)
  } finally {
    s.destroy()
  }
}

/** Resolves true once the socket is closed by the other side (or false after `ms`). */
export async function closedWithin (s: Socket, ms: number): Promise<boolean> {
  if (s.destroyed || s.readableEnded) return true
  s.resume()
  return await new Promise(resolve => {
    const t = setTimeout(() => { resolve(false) }, ms)
    const done = (): void => { clearTimeout(t); resolve(true) }
    s.once('end', done)
    s.once('close', done)
  })
}

/** Polls `fn` until it returns true, every 100 ms, for at most `ms`. */
export async function waitFor (fn: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await fn()) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Connects two daemons (a dials b) through the daemon client. */
export async function connectPair (a: TestDaemon, b: TestDaemon): Promise<void> {
  await a.client.connect(b.peerId, b.addrs)
}

const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex')

/** A hivemind-style client of one persistent connection. */
export class Persistent {
  private readonly waiting = new Map<string, (r: PCResponse) => void>()
  /** Inbound calls (requestHandling) and cancels of inbound calls, in arrival order. */
  readonly inbox: PCResponse[] = []
  private inboxWaiter?: () => void

  private constructor (readonly socket: Socket) {}

  static async open (d: TestDaemon): Promise<Persistent> {
    const s = await rawConnect(d)
    await writeDelimited(s, HivemindRequest.encode({ type: HivemindRequest.Type.PERSISTENT_CONN_UPGRADE }))
    assert.equal((await readResponse(s)).type, Response.Type.OK)
    const p = new Persistent(s)
    void p.readLoop()
    return p
  }

  private async readLoop (): Promise<void> {
    while (true) {
      const m = await readDelimited(this.socket).catch(() => undefined)
      if (m === undefined) return
      const r = PCResponse.decode(m)
      const w = this.waiting.get(hex(r.callId))
      if (w !== undefined && r.requestHandling === undefined) { this.waiting.delete(hex(r.callId)); w(r); continue }
      this.inbox.push(r)
      this.inboxWaiter?.()
    }
  }

  /** Sends a request; resolves with the response that carries the same callId. */
  async request (body: Omit<PCRequest, 'callId'>, callId: Uint8Array = randomBytes(16)): Promise<PCResponse> {
    let timer: NodeJS.Timeout | undefined
    const answer = new Promise<PCResponse>((resolve, reject) => {
      timer = setTimeout(() => { reject(new Error('no response within 10 s')) }, 10_000)
      this.waiting.set(hex(callId), r => { clearTimeout(timer); resolve(r) })
    })
    try {
      await writeDelimited(this.socket, PCRequest.encode({ callId, ...body }))
    } catch (err) {
      // nobody will await the answer: its timeout must not become an unhandled rejection
      clearTimeout(timer)
      this.waiting.delete(hex(callId))
      throw err
    }
    return await answer
  }

  async sendOnly (req: PCRequest): Promise<void> {
    await writeDelimited(this.socket, PCRequest.encode(req))
  }

  /** Waits for the next inbox entry matching `pred` (10 s). */
  async next (pred: (r: PCResponse) => boolean = () => true): Promise<PCResponse> {
    const end = Date.now() + 10_000
    while (Date.now() < end) {
      const i = this.inbox.findIndex(pred)
      if (i >= 0) return this.inbox.splice(i, 1)[0]
      await new Promise<void>(resolve => { this.inboxWaiter = resolve; setTimeout(resolve, 100) })
    }
    throw new Error('nothing arrived within 10 s')
  }

  /** Answers every inbound call of `proto` with `fn(data)` from now on. */
  serve (fn: (data: Uint8Array) => Uint8Array): void {
    const loop = async (): Promise<void> => {
      while (!this.socket.destroyed) {
        const r = await this.next(x => x.requestHandling !== undefined).catch(() => undefined)
        if (r === undefined) continue
        await this.sendOnly({ callId: r.callId, unaryResponse: { response: fn(r.requestHandling?.data ?? new Uint8Array()) } })
      }
    }
    void loop()
  }

  close (): void { this.socket.destroy() }
}
