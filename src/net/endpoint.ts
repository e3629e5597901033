/**
 * Control endpoints are multiaddrs (p2pd style): `/unix/<path>` or `/ip4|ip6/<host>/tcp/<port>`.
 * This module turns them into Node listen/connect options and back.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { Errors } from '../errors.js'

/** A local endpoint a server listens on or a client connects to. */
export type Endpoint = { kind: 'unix', path: string } | { kind: 'tcp', host: string, port: number, family: 4 | 6 }

/** Linux limits `sun_path` to 108 bytes including the terminating NUL. */
export const MAX_UNIX_PATH_BYTES = 107

/**
 * Parses an endpoint multiaddr. Accepts the legacy `/unix/tmp/x.sock` form and the
 * percent-encoded `/unix/%2Ftmp%2Fx.sock` form.
 */
export function parseEndpoint (addr: string): Endpoint {
  const text = addr.trim()
  if (text.startsWith('/unix/')) {
    let path = text.slice('/unix'.length)
    if (path.startsWith('/%2F') || path.startsWith('/%2f')) path = decodeURIComponent(path.slice(1))
    else path = decodeURIComponent(path)
    if (path.length < 2) throw Errors.invalidMultiaddr(`invalid unix multiaddr "${addr}"`)
    checkUnixPathLength(path)
    return { kind: 'unix', path }
  }
  let ma
  try {
    ma = multiaddr(text)
  } catch (err: any) {
    throw Errors.invalidMultiaddr(`invalid multiaddr "${addr}": ${err.message}`)
  }
  const parts = ma.getComponents()
  if (parts.length === 2 && (parts[0].name === 'ip4' || parts[0].name === 'ip6') && parts[1].name === 'tcp') {
    const port = Number(parts[1].value)
    return { kind: 'tcp', host: parts[0].value ?? '', port, family: parts[0].name === 'ip4' ? 4 : 6 }
  }
  throw Errors.invalidMultiaddr(`unsupported endpoint "${addr}": use /unix/<path> or /ip4/<host>/tcp/<port>`)
}

/** Refuses unix socket paths the kernel would silently truncate. */
export function checkUnixPathLength (path: string): void {
  const bytes = Buffer.byteLength(path)
  if (bytes > MAX_UNIX_PATH_BYTES) {
    throw Errors.invalidMultiaddr(`unix socket path is ${bytes} bytes, more than the ${MAX_UNIX_PATH_BYTES} the OS allows: ${path}`)
  }
}

/** Formats an endpoint as a multiaddr string (unix paths as p2pd prints them). */
export function formatEndpoint (ep: Endpoint): string {
  if (ep.kind === 'unix') return `/unix${ep.path}`
  return `/${ep.family === 4 ? 'ip4' : 'ip6'}/${ep.host}/tcp/${ep.port}`
}

/** True for loopback hosts (127.0.0.0/8, ::1). */
export function isLoopbackHost (host: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === '0:0:0:0:0:0:0:1'
}

/**
 * Parses a metrics/HTTP bind address: `host:port`, `:port` (loopback), `[v6]:port` or a
 * `/ip4|ip6/<host>/tcp/<port>` multiaddr.
 */
export function parseHostPort (addr: string): { host: string, port: number } {
  if (addr.startsWith('/')) {
    const ep = parseEndpoint(addr)
    if (ep.kind !== 'tcp') throw Errors.invalidMultiaddr(`"${addr}" must be a TCP address`)
    return { host: ep.host, port: ep.port }
  }
  const m = /^(\[[^\]]+\]|[^:]*):(\d+)$/.exec(addr)
  if (m == null || Number(m[2]) > 65535) throw Errors.invalidMultiaddr(`invalid address "${addr}": use host:port`)
  const host = m[1].replace(/^\[|\]$/g, '')
  return { host: host === '' ? '127.0.0.1' : host, port: Number(m[2]) }
}
