/**
 * Plain TCP sockets on loopback, no security or multiplexing: the machine's limit. B's side
 * runs in a handler host process (one listener per protocol), so a "stream" is one TCP
 * connection and 10,000 of them fit the per-process fd limit. Both processes are measured.
 */
import net from 'node:net'
import { once } from 'node:events'
import { startHandlerHost } from '../handler-host-client.ts'
import { socketPipe } from '../pipes.ts'
import type { BenchTarget, Pair } from '../target.ts'

/** Resolve with a connected socket, or reject (destroying it) on error or abort. */
async function connect (port: number, signal: AbortSignal): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true })
  try {
    await once(socket, 'connect', { signal })
    return socket
  } catch (err) {
    socket.destroy()
    throw err
  }
}

export const rawTarget: BenchTarget = {
  name: 'raw',
  kind: 'raw',
  description: 'plain TCP sockets on 127.0.0.1, one connection per stream (machine limit)',
  available: async () => true,
  async setup ({ signal }) {
    const host = await startHandlerHost(signal)
    const ports = new Map<string, number>()
    const sockets = new Set<net.Socket>()
    const pair: Pair = {
      async handle (protocol, kind) {
        ports.set(protocol, await host.listenTcp(kind))
      },
      async open (protocol, options) {
        const port = ports.get(protocol)
        if (port == null) throw new Error(`no handler for ${protocol}`)
        const socket = await connect(port, options?.signal ?? AbortSignal.timeout(30_000))
        sockets.add(socket)
        socket.once('close', () => sockets.delete(socket))
        return socketPipe(socket)
      },
      pids: () => [process.pid, host.pid],
      async close () {
        for (const socket of sockets) socket.destroy()
        await host.close()
      }
    }
    return pair
  }
}
