/**
 * The HTTP control plane: the spec's API plus our extensions, served by fastify on a unix
 * socket (0600, stale files from a crash replaced, live ones never stolen) or loopback TCP.
 * TypeBox schemas validate every request and generate `GET /api/openapi.json`.
 */
import { setMaxListeners } from 'node:events'
import { createServer } from 'node:http'
import { unlink } from 'node:fs/promises'
import swagger from '@fastify/swagger'
import Fastify, { LogController } from 'fastify'
import { Errors } from '../../errors.js'
import { formatEndpoint, isLoopbackHost } from '../../net/endpoint.js'
import { bindEndpoint } from '../../net/listen.js'
import { VERSION } from '../../host/version.js'
import { CallbackClient } from './callback.js'
import { installSecurity, resolveApiToken } from './security.js'
import { installLingeringClose } from './linger.js'
import { installHandlerDeadline } from './handler-deadline.js'
import { clientErrorHandler, installErrorHandlers, sendError } from './errors.js'
import { validatorCompiler } from './validation.js'
import { connmgrRoutes } from './routes/connmgr.js'
import { dhtRoutes } from './routes/dht.js'
import { eventRoutes } from './routes/events.js'
import { handlerRoutes } from './routes/handlers.js'
import { identityRoutes } from './routes/identity.js'
import { peerRoutes } from './routes/peers.js'
import { peerstoreRoutes } from './routes/peerstore.js'
import { pubsubRoutes } from './routes/pubsub.js'
import { streamRoutes } from './routes/streams.js'
import type { App, HttpContext } from './http-context.js'
import type { CoreContext } from '../../core/context.js'
import type { Endpoint } from '../../net/endpoint.js'
import type { ControlPlane } from '../plane.js'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

/** Limits of the HTTP plane. */
export interface HttpPlaneOptions {
  /** Max request body in bytes. @default `-httpBodyLimit` (1 MiB) */
  bodyLimit?: number
  /** Max time to receive a whole request. @default `-requestTimeout` (30 s) */
  requestTimeoutMs?: number
  /** Max time from routing to response for non-streaming routes. @default 620 s (request timeouts go up to 600 s) */
  handlerTimeoutMs?: number
}

/** The backstop on a request's handler: operations time out at 600 s at most (`timeout` fields). */
const HANDLER_DEADLINE_MS = 620_000

/** Parses JSON bodies; an empty body is "no body" (e.g. `?protocol=` with an empty POST). */
function parseJson (_req: FastifyRequest, body: string, done: (err: Error | null, value?: unknown) => void): void {
  if (body.length === 0 || /^\s*$/.test(body)) { done(null, undefined); return }
  try {
    // drop __proto__ keys: nothing downstream should be able to see a poisoned prototype
    done(null, JSON.parse(body, (k, v) => k === '__proto__' ? undefined : v))
  } catch (err: any) {
    done(Errors.badRequest(`body is not valid JSON: ${String(err.message)}`))
  }
}

async function bindServer (server: Server, ep: Endpoint, allowRemote: boolean): Promise<Endpoint> {
  // beyond loopback only when allowed, and then the config guarantees a token
  if (ep.kind === 'tcp' && !isLoopbackHost(ep.host) && !allowRemote) {
    throw Errors.forbidden(`the HTTP API listens only on loopback, not ${ep.host} (see -httpAllowRemote)`)
  }
  return await bindEndpoint(server, ep)
}

/** Starts the HTTP API on `endpoint`. */
export async function startHttpPlane (ctx: CoreContext, endpoint: Endpoint, options: HttpPlaneOptions = {}): Promise<ControlPlane> {
  const closer = new AbortController()
  // every request in flight and every callback follows it (Node warns past 10 by default)
  setMaxListeners(Infinity, closer.signal)
  const callbacks = new CallbackClient(closer.signal)
  const hctx: HttpContext = { core: ctx, closing: closer.signal, callbacks }
  let server: Server | undefined
  const requestTimeout = options.requestTimeoutMs ?? ctx.config.limits.requestTimeoutMs
  const token = await resolveApiToken(ctx.config.api)
  const app: App = Fastify({
    loggerInstance: ctx.log.child({ plane: 'http' }) as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? ctx.config.limits.httpBodyLimit,
    routerOptions: { maxParamLength: 2048 },
    // errors fastify raises before routing (URL too long, bad URL) get the same {error, code}
    frameworkErrors: (err: Error, _req: FastifyRequest, reply: FastifyReply) => { sendError(reply, err) },
    clientErrorHandler,
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
      server = createServer({
        requestTimeout,
        headersTimeout: Math.min(10_000, requestTimeout),
        // how often node looks for requests past those timeouts (slowloris): often enough
        // that a stalled request is closed within 1.25 x -requestTimeout
        connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(requestTimeout / 4))),
        keepAliveTimeout: 5_000,
        maxHeaderSize: 16 * 1024
      }, handler)
      return server
    }
  }).withTypeProvider<TypeBoxTypeProvider>()

  try {
    app.setValidatorCompiler(validatorCompiler)
    // the door first: token, Host and Origin are checked before routing or reading a body
    installSecurity(app, { token, tcp: endpoint.kind === 'tcp', allowRemote: ctx.config.api.allowRemote })
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson)
    installErrorHandlers(app)
    installLingeringClose(app)
    installHandlerDeadline(app, options.handlerTimeoutMs ?? HANDLER_DEADLINE_MS)
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: { title: 'libp2pd HTTP API', version: VERSION, description: 'The libp2p daemon HTTP API (seed spec + extensions). Every error is {"error", "code"}.' },
        components: { schemas: {} }
      }
    })
    app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger())
    identityRoutes(app, hctx)
    peerRoutes(app, hctx)
    streamRoutes(app, hctx)
    handlerRoutes(app, hctx)
    dhtRoutes(app, hctx)
    pubsubRoutes(app, hctx)
    connmgrRoutes(app, hctx)
    peerstoreRoutes(app, hctx)
    eventRoutes(app, hctx)
    await app.ready()
    if (server === undefined) throw new Error('fastify did not create the HTTP server')
    const srv = server
    const bound = await bindServer(srv, endpoint, ctx.config.api.allowRemote && token !== '')

    let closed: Promise<void> | undefined
    return {
      address: formatEndpoint(bound),
      async close () {
        closed ??= (async () => {
          // streaming responses and in-flight callbacks end first, then every connection
          closer.abort(Errors.shuttingDown())
          const stopped = new Promise<void>(resolve => { srv.close(() => { resolve() }) })
          srv.closeAllConnections()
          await stopped
          await app.close()
          callbacks.close()
          if (bound.kind === 'unix') await unlink(bound.path).catch(() => {})
        })()
        await closed
      }
    }
  } catch (err) {
    closer.abort()
    callbacks.close()
    server?.close()
    await app.close().catch(() => {})
    throw err
  }
}
