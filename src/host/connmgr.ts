/**
 * p2pd's `-connManager -connLo -connHi -connGrace` (go-libp2p BasicConnMgr semantics): when
 * the number of connections rises above the high water mark, close the least valuable ones
 * down to the low water mark, sparing protected peers and connections younger than the grace
 * period. js-libp2p only prunes to its `maxConnections`, so the trim to the low water mark
 * runs here; the value and protection rules are the core's (`doTrim`), shared with the
 * CONNMANAGER TRIM request.
 */
import { doTrim } from '../core/connmgr.js'
import type { DaemonConfig } from '../config/index.js'
import type { CoreContext } from '../core/context.js'
import type { Host } from './index.js'

/** Without `-connManager` p2pd sets no limit; js-libp2p needs a number, so a large one. */
export const UNLIMITED_CONNECTIONS = 1_000_000

/** The js-libp2p connection manager options for a daemon config. */
export function connectionManagerInit (config: DaemonConfig): { maxConnections: number } {
  // -maxConnections is a hard cap: js-libp2p refuses inbound connections above it (and the
  // core refuses dials to new peers, see core/limits.ts)
  const cap = config.limits.maxConnections > 0 ? config.limits.maxConnections : UNLIMITED_CONNECTIONS
  if (!config.connManager.enabled) return { maxConnections: cap }
  // js-libp2p's own pruning is a hard cap well above the high water mark; trimming to the
  // low water mark is done by `watchConnectionCount`
  return { maxConnections: Math.min(cap, Math.max(1, config.connManager.highWater * 2, config.connManager.highWater + 16)) }
}

/**
 * Trims connections to the low water mark whenever their number exceeds the high water
 * mark. Returns a function that stops watching.
 */
export function watchConnectionCount (node: Host, config: DaemonConfig, onError: (err: Error) => void = () => {}): () => void {
  if (!config.connManager.enabled) return () => {}
  let running = false
  let again = false
  const ctx = { node, config } as unknown as CoreContext
  const check = (): void => {
    if (node.getConnections().length <= config.connManager.highWater) return
    if (running) { again = true; return }
    running = true
    doTrim(ctx).catch(onError).finally(() => {
      running = false
      if (again) { again = false; check() }
    })
  }
  node.addEventListener('connection:open', check)
  return () => { node.removeEventListener('connection:open', check) }
}
