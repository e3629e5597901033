import type { Daemon } from '../daemon.js'

/** The `/p2p` multiaddr protocol code: the banner prints addresses without the peer ID, as p2pd. */
const P2P_CODE = 421

/**
 * The startup banner, exactly as p2pd prints it (harnesses parse these lines: js interop
 * reads `Control socket:`, the py bindings wait for all three heads, hivemind for `Peer ID:`),
 * then p2pd's `Bootstrap peers:` list (the `-bootstrapPeers` given with `-b`), then our own
 * `HTTP API:` and `Metrics:` lines. Addresses are the bound ones (never `tcp/0`).
 */
export function banner (daemon: Daemon, bootstrapPeers: readonly string[] = []): string {
  const { node } = daemon.context
  const lines: string[] = []
  if (daemon.controlAddress !== undefined) lines.push(`Control socket: ${daemon.controlAddress}`)
  lines.push(`Peer ID: ${node.peerId.toString()}`)
  lines.push('Peer Addrs:')
  for (const ma of node.getMultiaddrs()) {
    // only the trailing /p2p/<self> goes; a relay address keeps the relay's /p2p/<id>
    const text = ma.toString()
    const self = `/p2p/${node.peerId.toString()}`
    lines.push(text.endsWith(self) ? text.slice(0, -self.length) : ma.decapsulateCode(P2P_CODE).toString())
  }
  if (bootstrapPeers.length > 0) {
    lines.push('Bootstrap peers:')
    for (const p of bootstrapPeers) lines.push(p)
  }
  if (daemon.httpAddress !== undefined) lines.push(`HTTP API: ${daemon.httpAddress}`)
  if (daemon.metricsAddress !== undefined) lines.push(`Metrics: ${daemon.metricsAddress}`)
  return lines.join('\n') + '\n'
}
