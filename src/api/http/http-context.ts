/**
 * What every route module of the HTTP plane gets: the core context, the plane's closing
 * signal, the callback client, and helpers for per-request signals and timeouts.
 */
import { parsePeerId } from '../../core/parse.js'
import type { CallbackClient } from './callback.js'
import type { CoreContext } from '../../core/context.js'
import type { PeerId } from '@libp2p/interface'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'

/** The fastify instance type of the plane, with TypeBox type inference. */
export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>

/** Shared state of the HTTP plane. */
export interface HttpContext {
  core: CoreContext
  /** Aborts when the plane closes: ends streaming responses and in-flight operations. */
  closing: AbortSignal
  callbacks: CallbackClient
}

/**
 * A signal that aborts when the client of this request goes away (its response closes
 * before it finished) or the plane closes, so network operations stop doing work for nobody.
 */
export function requestSignal (hctx: HttpContext, req: FastifyRequest, reply: FastifyReply): AbortSignal {
  const ac = new AbortController()
  const res = reply.raw
  const onClose = (): void => {
    if (!res.writableFinished) ac.abort(Object.assign(new Error('the client went away'), { name: 'AbortError' }))
    hctx.closing.removeEventListener('abort', onPlaneClose)
  }
  const onPlaneClose = (): void => { ac.abort(Object.assign(new Error('the HTTP API is closing'), { name: 'AbortError' })) }
  res.once('close', onClose)
  hctx.closing.addEventListener('abort', onPlaneClose, { once: true })
  if (hctx.closing.aborted) onPlaneClose()
  void req
  return ac.signal
}

/** Seconds from a request (default: the operation's own default) to milliseconds. */
export function timeoutMs (seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : Math.ceil(seconds * 1000)
}

/** Parses the `:id` path parameter. */
export function peerParam (params: { id: string }): PeerId {
  return parsePeerId(params.id)
}
