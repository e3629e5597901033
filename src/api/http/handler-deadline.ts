/**
 * The backstop on every request's handler: a request not answered within the deadline gets
 * `ERR_TIMEOUT` (504), whatever its handler is waiting for. Every operation has its own,
 * shorter timeout; this only guarantees that no request hangs for good.
 *
 * Fastify's `handlerTimeout` does the same, but for every request it builds an
 * `AbortController` and a timer, and when the response closes it aborts that controller,
 * whose `DOMException` captures a stack. Here each request costs a map entry and a `close`
 * listener, and one timer sweeps the plane's requests, oldest first, a few times per
 * deadline: the daemon's CPU per `GET /api/daemon/version` fell by 6–11% (0.10–0.12 ms
 * before, docs/performance.md).
 *
 * Streaming responses (`reply.hijack()`, NDJSON and SSE) are the route's own: never cut.
 */
import { Errors } from '../../errors.js'
import type { FastifyInstance, FastifyReply } from 'fastify'

/** Sweeps per deadline: a request is answered at most this fraction of the deadline late. */
const SWEEPS_PER_DEADLINE = 10
/** The sweep's period stays within these bounds (milliseconds). */
const MIN_SWEEP_MS = 10
const MAX_SWEEP_MS = 1_000

/**
 * Answers with `ERR_TIMEOUT` any request of `app` whose handler has not replied within
 * `deadlineMs` (0 or less: no deadline). Returns a function that stops the sweeps (the
 * sweep timer does not keep the process alive either way).
 */
export function installHandlerDeadline (app: FastifyInstance, deadlineMs: number): () => void {
  if (!(deadlineMs > 0)) return () => {}
  // insertion order is arrival order: a sweep stops at the first request still in time
  const started = new Map<FastifyReply, number>()
  app.addHook('onRequest', (_req, reply, done) => {
    started.set(reply, Date.now())
    reply.raw.once('close', () => { started.delete(reply) })
    done()
  })

  const sweep = (): void => {
    const due = Date.now() - deadlineMs
    for (const [reply, at] of started) {
      if (at > due) break
      started.delete(reply)
      if (reply.sent) continue
      // a handler that began writing on its own cannot be given an error answer any more
      if (reply.raw.headersSent) reply.raw.destroy()
      else reply.send(Errors.timeout(`the request was not answered within ${deadlineMs} ms`))
    }
  }
  const period = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.floor(deadlineMs / SWEEPS_PER_DEADLINE)))
  const timer = setInterval(sweep, period)
  timer.unref()
  const stop = (): void => { clearInterval(timer) }
  app.addHook('onClose', (_app, done) => { stop(); done() })
  return stop
}
