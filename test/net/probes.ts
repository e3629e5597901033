/**
 * Tiny Node.js network probes that run inside topology namespaces (as `node -e` children),
 * so the self-test needs nothing beyond Node itself: a TCP sink, a TCP client that times
 * connect and bulk transfer, a UDP "what is my address" echo and its client.
 * Every probe bounds its own waits and prints one JSON line.
 */
import type { ChildProcess } from 'node:child_process'
import type { Topology } from './topology.js'

// argv: port. Per connection: count bytes until the peer ends, answer with the count and
// the address the peer appeared from (behind a NAT: the gateway's), then close.
const TCP_SINK = `
const net = require('node:net')
const server = net.createServer(s => {
  let bytes = 0
  s.on('data', d => { bytes += d.length })
  s.on('error', () => {})
  s.on('end', () => { s.end(JSON.stringify({ bytes, remote: s.remoteAddress, remotePort: s.remotePort }) + '\\n') })
})
server.listen(Number(process.argv[1]), process.argv[2] || '0.0.0.0', () => { console.log('listening') })
`

// argv: host, port, bytes, timeoutMs. Prints {connectMs, totalMs, reply} or {error}.
const TCP_CLIENT = `
const net = require('node:net')
const [host, port, bytes, timeoutMs] = process.argv.slice(1)
const t0 = performance.now()
let connectMs
const s = net.connect({ host, port: Number(port) })
const out = (o) => { console.log(JSON.stringify(o)); process.exit(0) }
const timer = setTimeout(() => out({ error: 'ETIMEDOUT' }), Number(timeoutMs))
s.on('error', (e) => out({ error: e.code || e.message }))
s.on('connect', () => {
  connectMs = performance.now() - t0
  const chunk = Buffer.alloc(64 * 1024, 7)
  let left = Number(bytes)
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, chunk.length)
      left -= n
      if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) { s.once('drain', pump); return }
    }
    s.end()
  }
  pump()
})
let reply = ''
s.on('data', d => { reply += d })
s.on('end', () => { clearTimeout(timer); out({ connectMs, totalMs: performance.now() - t0, reply: JSON.parse(reply) }) })
`

// argv: port. Answers every datagram with the sender's address as seen here.
const UDP_ECHO = `
const s = require('node:dgram').createSocket('udp4')
s.on('message', (m, r) => { s.send(r.address + ':' + r.port, r.port, r.address) })
s.bind(Number(process.argv[1]), () => { console.log('listening') })
`

// argv: localPort, timeoutMs, targets (ip:port)... Prints {seen: {target: 'ip:port' | null}}.
const UDP_CLIENT = `
const s = require('node:dgram').createSocket('udp4')
const [localPort, timeoutMs, ...targets] = process.argv.slice(1)
const seen = Object.fromEntries(targets.map(t => [t, null]))
const done = () => { console.log(JSON.stringify({ seen })); process.exit(0) }
setTimeout(done, Number(timeoutMs))
s.on('message', (m, r) => {
  seen[r.address + ':' + r.port] = m.toString()
  if (Object.values(seen).every(v => v !== null)) done()
})
s.bind(Number(localPort), () => {
  // Resend a few times: the first datagram may race ARP.
  for (let i = 0; i < 5; i++) setTimeout(() => { for (const t of targets) { const [ip, p] = t.split(':'); s.send('?', Number(p), ip) } }, i * 100)
})
`

// argv: target ip, port, count, timeoutMs. Sends count datagrams (paced) and counts the
// echoes that come back. Prints {sent, received}.
const UDP_ROUND_TRIPS = `
const s = require('node:dgram').createSocket('udp4')
const [ip, port, count, timeoutMs] = process.argv.slice(1)
let received = 0
const done = () => { console.log(JSON.stringify({ sent: Number(count), received })); process.exit(0) }
setTimeout(done, Number(timeoutMs))
s.on('message', () => { if (++received === Number(count)) done() })
s.bind(0, () => {
  for (let i = 0; i < Number(count); i++) setTimeout(() => s.send('?', Number(port), ip), Math.floor(i / 25) * 5)
})
`

/** Result of {@link tcpTransfer}: timings in ms, or the socket error code. */
export interface TransferResult {
  error?: string
  connectMs?: number
  totalMs?: number
  reply?: { bytes: number, remote: string, remotePort: number }
}

/** Starts a TCP sink on `node` and waits (≤ 10 s) until it listens. */
export async function startTcpSink (topo: Topology, node: string, port: number, bindIp = '0.0.0.0'): Promise<ChildProcess> {
  return await startListening(topo.spawn(node, process.execPath, ['-e', TCP_SINK, String(port), bindIp]))
}

/** Starts a UDP address echo on `node` and waits (≤ 10 s) until it listens. */
export async function startUdpEcho (topo: Topology, node: string, port: number): Promise<ChildProcess> {
  return await startListening(topo.spawn(node, process.execPath, ['-e', UDP_ECHO, String(port)]))
}

/** Connects from `node` to ip:port, sends `bytes`, and reports how long it all took. */
export async function tcpTransfer (topo: Topology, node: string, ip: string, port: number, bytes: number, timeoutMs: number): Promise<TransferResult> {
  const r = await topo.exec(node, process.execPath, ['-e', TCP_CLIENT, ip, String(port), String(bytes), String(timeoutMs)], { timeoutMs: timeoutMs + 5000 })
  return JSON.parse(r.stdout) as TransferResult
}

/** From UDP port `localPort` on `node`, asks each `ip:port` target which address it saw. */
export async function udpObserved (topo: Topology, node: string, localPort: number, targets: string[], timeoutMs = 3000): Promise<Record<string, string | null>> {
  const r = await topo.exec(node, process.execPath, ['-e', UDP_CLIENT, String(localPort), String(timeoutMs), ...targets], { timeoutMs: timeoutMs + 5000 })
  return (JSON.parse(r.stdout) as { seen: Record<string, string | null> }).seen
}

/** Sends `count` UDP datagrams from `node` to a UDP echo at ip:port; counts the answers. */
export async function udpRoundTrips (topo: Topology, node: string, ip: string, port: number, count: number, timeoutMs = 3000): Promise<{ sent: number, received: number }> {
  const r = await topo.exec(node, process.execPath, ['-e', UDP_ROUND_TRIPS, ip, String(port), String(count), String(timeoutMs)], { timeoutMs: timeoutMs + 5000 })
  return JSON.parse(r.stdout) as { sent: number, received: number }
}

async function startListening (child: ChildProcess, timeoutMs = 10_000): Promise<ChildProcess> {
  await new Promise<void>((resolve, reject) => {
    let stderr = ''
    const timer = setTimeout(() => { reject(new Error(`probe not listening after ${timeoutMs} ms: ${stderr}`)) }, timeoutMs)
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`probe exited ${String(code)}: ${stderr}`)) })
    child.stdout?.setEncoding('utf8').once('data', () => { clearTimeout(timer); resolve() })
  })
  child.removeAllListeners('exit')
  return child
}
