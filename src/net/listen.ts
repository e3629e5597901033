/**
 * Listening on endpoints with the hygiene a daemon needs: unix sockets are created 0600,
 * a stale socket file left by a crash (connection refused) is replaced, a live one is never
 * stolen, and the file is removed on close.
 */
import { chmod, lstat, unlink } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { formatEndpoint } from './endpoint.js'
import type { Endpoint } from './endpoint.js'
import type { Server, ServerOpts, Socket } from 'node:net'

/**
 * Accept queue depth: thousands of programs may connect at once (10,000 simultaneous
 * STREAM_OPENs overflow Node's default of 511 and their connect() fails with EAGAIN).
 * The kernel caps it at net.core.somaxconn.
 */
const BACKLOG = 4096

/** A server listening on an endpoint, with the endpoint it actually bound (real TCP port). */
export interface Listener {
  server: Server
  endpoint: Endpoint
  /** The bound address as a multiaddr string. */
  address: string
  /** Stops accepting, destroys nothing else, removes the unix socket file. */
  close(): Promise<void>
}

/** Raised when the endpoint is already served by a live process. */
export class AddressInUseError extends Error {
  readonly code = 'ERR_ADDRESS_IN_USE'
  constructor (message: string) {
    super(message)
    this.name = 'AddressInUseError'
  }
}

/** Resolves true if something accepts connections on the unix socket at `path`. */
export async function isLiveUnixSocket (path: string, timeoutMs = 1000): Promise<boolean> {
  return await new Promise(resolve => {
    const s: Socket = connect({ path })
    const timer = setTimeout(() => { s.destroy(); resolve(true) }, timeoutMs)
    s.once('connect', () => { clearTimeout(timer); s.destroy(); resolve(true) })
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      resolve(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT')
    })
  })
}

async function bind (server: Server, ep: Endpoint): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => { reject(err) }
    server.once('error', onError)
    const done = (): void => { server.off('error', onError); resolve() }
    if (ep.kind === 'unix') server.listen({ path: ep.path, exclusive: true, backlog: BACKLOG }, done)
    else server.listen({ host: ep.host, port: ep.port, exclusive: true, backlog: BACKLOG }, done)
  })
}

/**
 * Binds `server` (any `net.Server`, e.g. an HTTP server's) to `ep`: a unix socket is made
 * 0600, and a stale file left by a crash is replaced while a live socket is never taken
 * over. Returns the endpoint actually bound (the real TCP port).
 */
export async function bindEndpoint (server: Server, ep: Endpoint): Promise<Endpoint> {
  if (ep.kind === 'tcp') {
    try {
      await bind(server, ep)
    } catch (err: any) {
      if (err.code === 'EADDRINUSE') throw new AddressInUseError(`${formatEndpoint(ep)} is in use`)
      throw err
    }
    return { ...ep, port: (server.address() as { port: number }).port }
  }
  try {
    await bind(server, ep)
  } catch (err: any) {
    if (err.code !== 'EADDRINUSE') throw err
    const st = await lstat(ep.path).catch(() => undefined)
    if (st?.isSocket() !== true) throw new AddressInUseError(`${ep.path} exists and is not a socket`)
    if (await isLiveUnixSocket(ep.path)) throw new AddressInUseError(`${ep.path} is in use by a running process`)
    // a crash left the file behind: nobody answers, so it is safe to replace
    await unlink(ep.path)
    await bind(server, ep)
  }
  await chmod(ep.path, 0o600)
  return ep
}

/** Listens on `ep`; `onConnection` gets every accepted socket. */
export async function listenOn (ep: Endpoint, onConnection: (socket: Socket) => void, opts: ServerOpts = {}): Promise<Listener> {
  const server = createServer({ allowHalfOpen: true, ...opts }, onConnection)
  const bound = await bindEndpoint(server, ep)
  let closed: Promise<void> | undefined
  return {
    server,
    endpoint: bound,
    address: formatEndpoint(bound),
    async close () {
      closed ??= new Promise<void>(resolve => {
        server.close(() => { resolve() })
        // Node unlinks the socket file on close(); make sure of it even if it did not
        if (ep.kind === 'unix') unlink(ep.path).catch(() => {})
      })
      await closed
    }
  }
}
