import type { Daemon } from '../daemon.js'

/**
 * The startup banner, exactly as p2pd prints it (harnesses parse these lines), plus our
 * `HTTP API:` line. Addresses are the bound ones (never `tcp/0`).
 */
export function banner (daemon: Daemon): string {
  const { node } = daemon.context
  const lines: string[] = []
  if (daemon.controlAddress !== undefined) lines.push(`Control socket: ${daemon.controlAddress}`)
  lines.push(`Peer ID: ${node.peerId.toString()}`)
  lines.push('Peer Addrs:')
  for (const ma of node.getMultiaddrs()) lines.push(ma.decapsulateCode(421).toString())
  if (daemon.httpAddress !== undefined) lines.push(`HTTP API: ${daemon.httpAddress}`)
  if (daemon.metricsAddress !== undefined) lines.push(`Metrics: ${daemon.metricsAddress}`)
  return lines.join('\n') + '\n'
}
