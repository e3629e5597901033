/**
 * Plain HTTP over the daemon's unix socket (or loopback TCP) with node:http: no client
 * library, so the tests check the wire API itself.
 */
import { request as httpRequest } from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'

/** A complete response. */
export interface HttpResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  /** The body parsed as JSON (undefined for an empty body). */
  json: () => any
}

/** Options of `request`. */
export interface RequestOptions {
  /** A JSON value (serialized) or raw bytes/string (sent as is). */
  body?: unknown
  headers?: Record<string, string | number>
  /** @default 30000 */
  timeoutMs?: number
  signal?: AbortSignal
}

function target (addr: string): { socketPath: string } | { host: string, port: number } {
  const m = /^(\[[^\]]+\]|[\d.]+):(\d+)$/.exec(addr)
  return m == null ? { socketPath: addr } : { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) }
}

function encodeBody (body: unknown, headers: Record<string, string | number>): Buffer | undefined {
  if (body === undefined) return undefined
  if (Buffer.isBuffer(body) || typeof body === 'string') return Buffer.from(body as any)
  headers['content-type'] ??= 'application/json'
  return Buffer.from(JSON.stringify(body))
}

/** Starts a request and resolves with the response head (body unread). */
export async function openRequest (addr: string, method: string, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
  const headers: Record<string, string | number> = { ...options.headers }
  const payload = encodeBody(options.body, headers)
  if (payload !== undefined) headers['content-length'] ??= payload.byteLength
  const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs ?? 30_000), ...(options.signal !== undefined ? [options.signal] : [])])
  return await new Promise((resolve, reject) => {
    const req = httpRequest({ ...target(addr), method, path, headers, signal, agent: false }, resolve)
    req.on('error', reject)
    req.end(payload)
  })
}

/** Makes a request and reads the whole response. */
export async function request (addr: string, method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
  const res = await openRequest(addr, method, path, options)
  const chunks: Buffer[] = []
  for await (const c of res) chunks.push(c as Buffer)
  const body = Buffer.concat(chunks)
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    body,
    json: () => body.byteLength === 0 ? undefined : JSON.parse(body.toString('utf8'))
  }
}

/** An open NDJSON (or SSE) response read line by line. */
export interface LineStream {
  status: number
  headers: IncomingHttpHeaders
  /** The next parsed object; rejects after `timeoutMs` (default 15 s); undefined at the end. */
  next: (timeoutMs?: number) => Promise<any>
  /** Waits for an object matching `pred`, skipping others. */
  waitFor: (pred: (obj: any) => boolean, timeoutMs?: number) => Promise<any>
  /** Closes the connection (the daemon must release what it holds). */
  close: () => void
}

/** Opens a streaming request; `sse` reads `data:` events instead of lines. */
export async function openLines (addr: string, method: string, path: string, options: RequestOptions & { sse?: boolean } = {}): Promise<LineStream> {
  const ac = new AbortController()
  const res = await openRequest(addr, method, path, { ...options, timeoutMs: 600_000, signal: ac.signal, headers: { ...options.headers, ...(options.sse === true ? { accept: 'text/event-stream' } : {}) } })
  res.on('error', () => {})
  const queue: any[] = []
  let waiter: (() => void) | undefined
  let ended = false
  let buf = ''
  const sep = options.sse === true ? '\n\n' : '\n'
  res.setEncoding('utf8')
  res.on('data', (d: string) => {
    buf += d
    let i
    while ((i = buf.indexOf(sep)) >= 0) {
      let line = buf.slice(0, i)
      buf = buf.slice(i + sep.length)
      if (options.sse === true) line = line.split('\n').filter(l => l.startsWith('data: ')).map(l => l.slice(6)).join('\n')
      if (line.trim() !== '') queue.push(JSON.parse(line))
    }
    waiter?.()
  })
  res.on('close', () => { ended = true; waiter?.() })
  const next = async (timeoutMs = 15_000): Promise<any> => {
    const deadline = Date.now() + timeoutMs
    while (queue.length === 0 && !ended) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no line within ${timeoutMs} ms`)
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, left)
        waiter = () => { clearTimeout(t); waiter = undefined; resolve() }
      })
    }
    return queue.shift()
  }
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    next,
    async waitFor (pred, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs
      while (true) {
        const obj = await next(Math.max(1, deadline - Date.now()))
        if (obj === undefined) throw new Error('stream ended before a matching line')
        if (pred(obj)) return obj
      }
    },
    close () { ac.abort(); res.destroy() }
  }
}
