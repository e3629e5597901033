/**
 * The p2pd control plane: go-libp2p-daemon's varint-delimited protobuf protocol on the
 * `-listen` endpoint, with the JS (PEERSTORE) and hivemind (persistent connections, unary
 * handlers, balanced and removable stream handlers) dialects and libp2pd's extensions.
 * One file per area, as go-libp2p-daemon: server (request loop), conn, streams, dht,
 * pubsub, connmgr, peerstore, persistent, extensions.
 */
import { setMaxListeners } from 'node:events'
import { listenOn } from '../../net/listen.js'
import { serveControlConnection } from './server.js'
import type { PlaneState } from './session.js'
import type { CoreContext } from '../../core/context.js'
import type { Endpoint } from '../../net/endpoint.js'
import type { ControlPlane } from '../plane.js'

/** Options of `startP2pdPlane`. */
export interface P2pdPlaneOptions {
  /**
   * Called when `-idleTimeout` expires: no persistent connection was opened in time, or the
   * last one closed (the hivemind fork then closes the daemon). By default the process gets
   * SIGTERM, so the CLI shuts down as it does for a signal.
   */
  onIdle?: () => void
}

/** Starts the p2pd control protocol on `endpoint`. */
export async function startP2pdPlane (ctx: CoreContext, endpoint: Endpoint, options: P2pdPlaneOptions = {}): Promise<ControlPlane> {
  const closing = new AbortController()
  // every open control connection listens on it (Node warns of a leak past 10 by default)
  setMaxListeners(Infinity, closing.signal)
  const idle = idleWatch(ctx, options.onIdle ?? (() => { process.kill(process.pid, 'SIGTERM') }))
  const plane: PlaneState = {
    ctx,
    maxMessageSize: ctx.config.maxMessageSize,
    sessions: new Set(),
    feeds: new Set(),
    signal: closing.signal,
    persistentOpened: idle.opened,
    persistentClosed: idle.closed
  }
  const listener = await listenOn(endpoint, socket => {
    if (closing.signal.aborted) { socket.destroy(); return }
    void serveControlConnection(plane, socket)
  })
  let closed: Promise<void> | undefined
  return {
    address: listener.address,
    async close () {
      closed ??= (async () => {
        idle.stop()
        closing.abort(new Error('the daemon is shutting down'))
        for (const s of plane.sessions) s.destroy()
        await listener.close()
        // a feed's end leaves its pubsub topic, which needs the host still running
        await Promise.all(plane.feeds)
      })()
      await closed
    }
  }
}

/**
 * `-idleTimeout` of the hivemind fork: 0 is off; otherwise fire if no persistent
 * connection opens within the timeout, and when the last persistent connection closes.
 */
function idleWatch (ctx: CoreContext, onIdle: () => void): { opened: () => void, closed: () => void, stop: () => void } {
  const ms = ctx.config.idleTimeoutMs
  let open = 0
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const fire = (): void => {
    if (stopped) return
    stopped = true
    ctx.log.info({ idleTimeoutMs: ms }, 'p2pd: no persistent connection left; closing the daemon (-idleTimeout)')
    onIdle()
  }
  if (ms > 0) timer = setTimeout(fire, ms)
  return {
    opened () {
      open++
      clearTimeout(timer)
    },
    closed () {
      open--
      // a later persistent connection can no longer save the daemon: the fork exits at once
      if (ms > 0 && open === 0) fire()
    },
    stop () {
      stopped = true
      clearTimeout(timer)
    }
  }
}
