/**
 * One place that turns anything a request can fail with into the spec's `Error` JSON
 * (`{error, code}`) and a status: our named errors keep theirs, fastify's own errors
 * (validation, body limits, content types) get ours, anything else is a 500 that is logged.
 */
import { DaemonError, Errors, toDaemonError } from '../../errors.js'
import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Socket } from 'node:net'

/** Fastify's error codes that mean the request itself is bad, and what we call them. */
const FASTIFY_CODES: Record<string, (msg: string) => DaemonError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: msg => Errors.tooLarge(msg),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: msg => Errors.unsupportedMediaType(msg),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: msg => Errors.badRequest(msg),
  FST_ERR_CTP_EMPTY_JSON_BODY: msg => Errors.badRequest(msg),
  FST_ERR_CTP_INVALID_JSON_BODY: msg => Errors.badRequest(msg),
  FST_ERR_BAD_URL: msg => Errors.badRequest(msg),
  FST_ERR_ASYNC_CONSTRAINT: msg => Errors.badRequest(msg),
  FST_ERR_VALIDATION: msg => Errors.badRequest(msg)
}

/** Maps an error thrown while serving a request to a `DaemonError`. */
export function httpErrorOf (err: unknown): DaemonError {
  if (err instanceof DaemonError) return err
  const e = err as Partial<FastifyError> & { validation?: unknown, validationContext?: string }
  if (e?.validation !== undefined) return Errors.badRequest(validationMessage(e))
  if (typeof e?.code === 'string' && FASTIFY_CODES[e.code] !== undefined) return FASTIFY_CODES[e.code](e.message ?? e.code)
  if (e?.name === 'SyntaxError') return Errors.badRequest(`body is not valid JSON: ${e.message ?? ''}`)
  // other 4xx from fastify or node (e.g. aborted requests): keep the status, call it bad input
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new DaemonError(e.statusCode === 413 ? 'ERR_PAYLOAD_TOO_LARGE' : 'ERR_BAD_REQUEST', e.statusCode, e.message ?? 'bad request')
  }
  return toDaemonError(err)
}

function validationMessage (e: { message?: string, validation?: unknown, validationContext?: string }): string {
  const list = Array.isArray(e.validation) ? e.validation as Array<{ instancePath?: string, message?: string }> : []
  if (list.length === 0) return e.message ?? 'invalid request'
  const first = list[0]
  const where = `${e.validationContext ?? 'request'}${first.instancePath ?? ''}`
  return `invalid ${where}: ${first.message ?? 'does not match the schema'}`
}

/** Sends `err` as `{error, code}` with its status. */
export function sendError (reply: FastifyReply, err: unknown): void {
  const e = httpErrorOf(err)
  void reply.code(e.status).type('application/json').send({ error: e.message, code: e.code })
}

/** Installs the error and not-found handlers. */
export function installErrorHandlers (app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const e = httpErrorOf(err)
    if (e.status >= 500 && e.code === 'ERR_INTERNAL') req.log.error({ err, url: req.url }, 'request failed')
    else req.log.debug({ code: e.code, url: req.url, msg: e.message }, 'request error')
    // a response schema must not reshape errors: send them as plain JSON
    void reply.code(e.status).type('application/json').serializer(JSON.stringify).send({ error: e.message, code: e.code })
  })
  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    const e = Errors.routeNotFound(`no route ${req.method} ${req.url.split('?')[0].slice(0, 200)}`)
    void reply.code(e.status).type('application/json').send({ error: e.message, code: e.code })
  })
}

/**
 * Node's `clientError`: a request the HTTP parser gave up on before fastify saw it (headers
 * over 16 KiB, a request that did not arrive within the timeout, bytes that are not HTTP).
 * Answered in the same `{error, code}` shape as everything else (fastify's default has no
 * `code`), then the connection is closed, as Node does.
 */
export function clientErrorHandler (err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const e = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? Errors.requestTimeout()
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? Errors.headersTooLarge('the request headers exceed 16 KiB')
      : Errors.badRequest(`not a valid HTTP request (${err.code ?? err.message})`)
  const body = JSON.stringify({ error: e.message, code: e.code })
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy()
}
