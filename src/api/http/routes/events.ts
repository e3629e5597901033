/**
 * The event stream: peer connected/disconnected and stream opened/closed as NDJSON or SSE,
 * starting with `{"type": "READY"}` once the listener is installed.
 */
import { subscribeEvents } from '../../../core/events.js'
import { checkFeedLimit } from '../../../core/limits.js'
import { Errors } from '../../../errors.js'
import { BoundedQueue, sendStream } from '../ndjson.js'
import { EventSchema, errorResponses, ndjsonResponse } from '../schemas.js'
import type { App, HttpContext } from '../http-context.js'
import type { DaemonEvent } from '../../../core/events.js'

/** Events a reader may fall behind before its stream is ended. */
const MAX_UNREAD_EVENTS = 8192

/** Registers the events route. */
export function eventRoutes (app: App, hctx: HttpContext): void {
  app.get('/api/daemon/events', {
    schema: { tags: ['events'], summary: 'A stream of daemon events; first line {"type": "READY"}', response: { 200: ndjsonResponse(EventSchema, 'NDJSON lines of events'), ...errorResponses() } }
  }, async (req, reply) => {
    // refused with a 429 before the 200 headers go out
    checkFeedLimit(hctx.core)
    await sendStream(req, reply, async function * (signal) {
      const queue = new BoundedQueue<DaemonEvent>(signal, MAX_UNREAD_EVENTS, () => Errors.limitReached(`reader fell ${MAX_UNREAD_EVENTS} events behind; event stream ended`))
      const unsubscribe = subscribeEvents(hctx.core, evt => { queue.push(evt) })
      try {
        yield { type: 'READY' }
        yield * queue
      } finally {
        unsubscribe()
      }
    }, hctx.closing)
  })
}
