/**
 * A feed: after its OK response a control connection carries bare varint-delimited
 * messages from the daemon (pubsub SUBSCRIBE, the EVENTS extension) until the client
 * closes it. The client's EOF is the unsubscribe signal, so the feed keeps reading: any
 * message it receives is ignored, as the Go daemon logs and drops it.
 */
import type { Session } from './session.js'

/** Messages queued for a slow client before new ones are dropped. */
export const MAX_FEED_QUEUE = 4096

/**
 * Runs a feed on `session`. `start` begins producing and returns the function that stops
 * it; it is called exactly once, when the client goes away or a write fails. Resolves then.
 */
export async function runFeed (session: Session, name: string, start: (push: (bytes: Uint8Array) => void) => () => void): Promise<void> {
  const log = session.ctx.log
  const queue: Uint8Array[] = []
  let writing = false
  let dropped = 0
  let stopped = false

  const pump = async (): Promise<void> => {
    writing = true
    try {
      while (queue.length > 0 && !stopped) {
        const next = queue.shift() as Uint8Array
        await session.send(next)
      }
    } catch {
      // the client is gone: the read loop below sees it too
      session.destroy()
    } finally {
      writing = false
    }
  }
  const push = (bytes: Uint8Array): void => {
    if (stopped) return
    if (queue.length >= MAX_FEED_QUEUE) {
      if (dropped++ === 0) log.warn({ feed: name, session: session.id }, 'p2pd: slow feed client, dropping messages')
      return
    }
    queue.push(bytes)
    if (!writing) void pump()
  }

  const stop = start(push)
  try {
    while (!session.closed) {
      const msg = await session.read()
      if (msg === undefined) break
      log.debug({ feed: name, session: session.id }, 'p2pd: unexpected message on a feed, ignored')
    }
  } catch {
    // framing error or reset: the feed ends either way
  } finally {
    stopped = true
    queue.length = 0
    // a feed runs in the background (startFeed): an error here must not escape it
    try { stop() } catch (err: any) { log.warn({ feed: name, session: session.id, err: err.message }, 'p2pd: error while ending a feed') }
    session.end()
  }
}

/** Runs a feed in the background; the plane's close waits for its end (see `runFeed`). */
export function startFeed (session: Session, name: string, start: (push: (bytes: Uint8Array) => void) => () => void): void {
  const feeds = session.plane.feeds
  const done: Promise<void> = runFeed(session, name, start)
    .catch((err: any) => { session.ctx.log.warn({ feed: name, session: session.id, err: err.message }, 'p2pd: feed failed') })
    .finally(() => { feeds.delete(done) })
  feeds.add(done)
}
