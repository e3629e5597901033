/**
 * `-b`: connect to bootstrap peers before the daemon reports itself ready, as p2pd does
 * (`d.Bootstrap()` runs before the banner). p2pd connects until 4 peers succeed and treats
 * zero successes as fatal; we keep that contract so a harness that sees the banner knows
 * the bootstrap connections exist, and a misconfigured bootstrap fails loudly (exit 1).
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Host } from './index.js'

/**
 * The public IPFS/libp2p bootstrap peers, used by `-b` without `-bootstrapPeers` (the list
 * kad-dht's `DefaultBootstrapPeers` holds in go-libp2p, which p2pd uses).
 */
export const DEFAULT_BOOTSTRAP_PEERS: readonly string[] = [
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt',
  '/ip4/104.131.131.82/tcp/4001/p2p/QmaCpDMGvV2BGHeYERUEnGjRjPpJU6GZa9u7a9vVTQYNGZ'
]

/** p2pd's `BootstrapConnections`: stop once this many peers are connected. */
export const BOOTSTRAP_CONNECTIONS = 4

/** p2pd's bootstrap context timeout. */
export const BOOTSTRAP_TIMEOUT_MS = 60_000

/** Raised when no bootstrap peer could be reached; the CLI exits 1 with this message. */
export class BootstrapError extends Error {
  readonly code = 'ERR_BOOTSTRAP_FAILED'
  constructor (message: string) {
    super(message)
    this.name = 'BootstrapError'
  }
}

/** Outcome of a bootstrap round. */
export interface BootstrapResult {
  connected: string[]
  failed: Array<{ addr: string, error: string }>
}

/**
 * Dials bootstrap peers (shuffled, a few at a time) until `BOOTSTRAP_CONNECTIONS` succeed
 * and tags them `bootstrap`. Resolves with what happened.
 *
 * @throws {BootstrapError} if not a single peer could be connected
 */
export async function connectBootstrapPeers (node: Host, peers: readonly string[], options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<BootstrapResult> {
  const list = [...(peers.length > 0 ? peers : DEFAULT_BOOTSTRAP_PEERS)]
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]]
  }
  const timeout = AbortSignal.timeout(options.timeoutMs ?? BOOTSTRAP_TIMEOUT_MS)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
  const result: BootstrapResult = { connected: [], failed: [] }
  const dialOne = async (addr: string): Promise<void> => {
    try {
      const conn = await node.dial(multiaddr(addr), { signal })
      result.connected.push(addr)
      await node.peerStore.merge(conn.remotePeer, { tags: { bootstrap: { value: 1 } } }).catch(() => {})
    } catch (err: any) {
      result.failed.push({ addr, error: err.message ?? String(err) })
    }
  }
  // dial in waves of the number still needed, so we stop early like p2pd
  let next = 0
  while (next < list.length && result.connected.length < BOOTSTRAP_CONNECTIONS && !signal.aborted) {
    const wave = list.slice(next, next + BOOTSTRAP_CONNECTIONS - result.connected.length)
    next += wave.length
    await Promise.all(wave.map(dialOne))
  }
  if (result.connected.length === 0) {
    const why = result.failed.map(f => `${f.addr}: ${f.error}`).join('; ')
    throw new BootstrapError(`failed to connect to any bootstrap peer${why !== '' ? ` (${why})` : ''}`)
  }
  return result
}

/** p2pd tops up its bootstrap connections this often. */
export const BOOTSTRAP_PERIOD_MS = 15 * 60_000

/**
 * Every `periodMs`, if fewer than `BOOTSTRAP_CONNECTIONS` connections are open, dials
 * bootstrap peers again (failures are only reported). Returns a function that stops it.
 */
export function keepBootstrapped (node: Host, peers: readonly string[], onRound: (result: BootstrapResult | Error) => void = () => {}, periodMs = BOOTSTRAP_PERIOD_MS): () => void {
  const abort = new AbortController()
  const timer = setInterval(() => {
    if (node.getConnections().length >= BOOTSTRAP_CONNECTIONS) return
    connectBootstrapPeers(node, peers, { signal: abort.signal }).then(onRound, onRound)
  }, periodMs)
  timer.unref()
  return () => {
    clearInterval(timer)
    abort.abort()
  }
}
