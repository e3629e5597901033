/**
 * The HTTP plane's door: who may send requests, checked in an `onRequest` hook before any
 * body is read or route runs.
 *
 * - Bearer token (`-apiToken` / `-apiTokenFile`): with a token set, every request must carry
 *   `Authorization: Bearer <token>`, else 401 `ERR_UNAUTHORIZED`. The comparison is on
 *   SHA-256 digests with `timingSafeEqual`, so its time tells nothing about the token
 *   (not even its length).
 * - Host (DNS rebinding): on a loopback TCP endpoint the `Host` header must name loopback
 *   (`localhost`, `127.x.x.x`, `[::1]`), else 403 `ERR_FORBIDDEN`: a page whose DNS name was
 *   re-pointed at 127.0.0.1 still sends its own name. With `-httpAllowRemote` any Host is
 *   accepted (clients use the machine's name) and the token is what keeps strangers out.
 *   Unix sockets cannot be reached by a browser and are not checked.
 * - Origin / Sec-Fetch-Site (cross-site requests from browsers): a request whose `Origin`
 *   is not a loopback origin, or that the browser marks `Sec-Fetch-Site: cross-site`, gets
 *   403 `ERR_FORBIDDEN`. Programs other than browsers send neither header.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { Errors } from '../../errors.js'
import { isLoopbackHost } from '../../net/endpoint.js'
import { sendError } from './errors.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** What the door checks. */
export interface HttpSecurityOptions {
  /** The bearer token every request must carry; empty or undefined: none required. */
  token?: string
  /** The plane listens on TCP (Host is checked) rather than a unix socket. */
  tcp: boolean
  /** `-httpAllowRemote`: the API may be reached from other hosts (Host not checked). */
  allowRemote: boolean
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest()

/** True if `name` (a hostname without port, IPv6 without brackets) is a loopback name. */
export function isLoopbackName (name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '')
  return n === 'localhost' || n.endsWith('.localhost') || isLoopbackHost(n)
}

/** The hostname of a `Host` header value (`name`, `name:port`, `[v6]:port`), or undefined. */
export function hostOf (header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(header.trim())
  if (m == null) return undefined
  return m[1] ?? m[2]
}

/** True if an `Origin` header value is a loopback http(s) origin. */
export function isLoopbackOrigin (origin: string): boolean {
  let url: URL
  try { url = new URL(origin) } catch { return false }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false
  return isLoopbackName(url.hostname.replace(/^\[|\]$/g, ''))
}

/**
 * Returns the `Bearer` token checker: true only for the exact token. Constant time in the
 * token's content and length.
 */
export function tokenChecker (token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token)
  return authorization => {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')
    // compare even when the header is missing, so both paths take the same time
    const ok = timingSafeEqual(digest(m?.[1] ?? ''), expected)
    return ok && m != null
  }
}

/** Why a request is refused, or undefined if it may pass. */
export function refusal (req: Pick<FastifyRequest, 'headers'>, options: HttpSecurityOptions, checkToken?: (a: string | undefined) => boolean): Error | undefined {
  const origin = req.headers.origin
  if (origin !== undefined && !isLoopbackOrigin(origin)) {
    return Errors.forbidden(`cross-origin request refused: Origin ${JSON.stringify(origin.slice(0, 200))} is not a loopback origin`)
  }
  if (req.headers['sec-fetch-site'] === 'cross-site') return Errors.forbidden('cross-site request refused (Sec-Fetch-Site: cross-site)')
  if (options.tcp && !options.allowRemote) {
    const host = hostOf(req.headers.host)
    if (host === undefined || !isLoopbackName(host)) {
      return Errors.forbidden(`Host ${JSON.stringify(String(req.headers.host ?? '').slice(0, 200))} refused: the API answers only to localhost, 127.0.0.1 and [::1] (DNS rebinding protection)`)
    }
  }
  if (checkToken !== undefined && !checkToken(req.headers.authorization)) {
    return Errors.unauthorized('missing or wrong API token: send Authorization: Bearer <token> (-apiToken / -apiTokenFile)')
  }
  return undefined
}

/**
 * The API token: `-apiToken`, or the trimmed content of `-apiTokenFile` (read now, at start,
 * like the `-id` key). Empty if neither is set.
 *
 * @throws if the file cannot be read, is empty, or holds whitespace inside the token
 */
export async function resolveApiToken (api: { token: string, tokenFile: string }): Promise<string> {
  if (api.tokenFile === '') return api.token
  let text: string
  try {
    text = (await readFile(api.tokenFile, 'utf8')).trim()
  } catch (err: any) {
    throw new Error(`cannot read -apiTokenFile ${api.tokenFile}: ${String(err.code ?? err.message)}`)
  }
  if (text === '') throw new Error(`-apiTokenFile ${api.tokenFile} is empty`)
  if (!/^[\x21-\x7e]+$/.test(text)) throw new Error(`-apiTokenFile ${api.tokenFile}: the token must be printable ASCII without spaces`)
  return text
}

/** Installs the door on `app`; call it before any route is registered. */
export function installSecurity (app: FastifyInstance, options: HttpSecurityOptions): void {
  const checkToken = options.token !== undefined && options.token !== '' ? tokenChecker(options.token) : undefined
  app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    const err = refusal(req, options, checkToken)
    if (err === undefined) { done(); return }
    if ((err as { status?: number }).status === 401) void reply.header('www-authenticate', 'Bearer realm="libp2pd"')
    // the request body is never read; closing keeps a refused client from pipelining more
    void reply.header('connection', 'close')
    sendError(reply, err)
  })
}
