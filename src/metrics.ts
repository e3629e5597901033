/**
 * `-metricsAddr`: Prometheus metrics at `/metrics`, libp2p's own (via
 * `@libp2p/prometheus-metrics`, which registers in prom-client's default registry) and
 * the daemon's (open streams, bytes through the bridge).
 */
import { createServer } from 'node:http'
import client from 'prom-client'
import { parseHostPort } from './net/endpoint.js'
import type { CoreContext } from './core/context.js'

/** Starts the metrics HTTP server. */
export async function startMetricsServer (ctx: CoreContext, addr: string): Promise<{ address: string, close: () => Promise<void> }> {
  const { host, port } = parseHostPort(addr)
  const register = client.register
  const gauge = (name: string, help: string, collect: () => number): void => {
    if (register.getSingleMetric(name) !== undefined) register.removeSingleMetric(name)
    // eslint-disable-next-line no-new
    new client.Gauge({ name, help, collect () { this.set(collect()) } })
  }
  gauge('libp2pd_open_streams', 'streams open through the daemon', () => ctx.streams.size)
  gauge('libp2pd_handlers', 'protocols with a registered handler', () => ctx.handlers.list().length)
  gauge('libp2pd_connections', 'open libp2p connections', () => ctx.node.getConnections().length)

  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end()
      return
    }
    register.metrics().then(text => {
      res.writeHead(200, { 'content-type': register.contentType }).end(text)
    }, (err: Error) => { res.writeHead(500).end(err.message) })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { resolve() })
  })
  const bound = server.address() as { address: string, port: number }
  return {
    address: `http://${bound.address.includes(':') ? `[${bound.address}]` : bound.address}:${bound.port}/metrics`,
    close: async () => { await new Promise<void>(resolve => { server.close(() => { resolve() }); server.closeAllConnections() }) }
  }
}
