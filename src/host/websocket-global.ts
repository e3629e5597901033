/**
 * `@libp2p/websockets` dials with the global `WebSocket`, which Node 20 only has behind
 * `--experimental-websocket` (Node 22 has it by default). Without it every `/ws` dial fails
 * with "WebSocket is not defined", so give Node 20 the `ws` implementation (the same package
 * the transport's listener already uses). Newer Node keeps its own.
 */
// @ts-expect-error ws ships no type declarations; only its constructor is used here
import { WebSocket as NodeWebSocket } from 'ws'

/** Installs a global `WebSocket` if the runtime has none. Idempotent. */
export function ensureGlobalWebSocket (): void {
  const g = globalThis as { WebSocket?: unknown }
  if (g.WebSocket === undefined) g.WebSocket = NodeWebSocket
}
