/**
 * The daemon design with nothing inside: two relay processes (`../relay.ts`) where the two
 * daemons stand. The program connects to relay A over a unix socket, A forwards over TCP to
 * relay B, and B over a unix socket to the handler host; one connection per stream, no
 * security, no muxer, no control exchange. It crosses the same processes and sockets as a
 * stream through libp2pd, so it is the floor of any daemon on this machine: what the
 * process hops alone cost. The two relays are measured, as the two daemons are.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { connectUnix } from '../p2pd-wire.ts'
import { forkAndAwaitReady, ipcCaller, killChild } from '../child.ts'
import { startHandlerHost, type HandlerHost } from '../handler-host-client.ts'
import { socketPipe } from '../pipes.ts'
import type { BenchTarget, Pair } from '../target.ts'
import type { ChildProcess } from 'node:child_process'
import type { Socket } from 'node:net'

const RELAY = fileURLToPath(new URL('../relay.ts', import.meta.url))

/** A running relay process; `forward` adds a listener and returns its TCP port, if any. */
interface Relay { child: ChildProcess, forward: (listen: object, to: object) => Promise<number | undefined> }

async function startRelay (signal: AbortSignal): Promise<Relay> {
  const { child } = await forkAndAwaitReady<unknown>(RELAY, [], { signal })
  const ask = ipcCaller(child)
  return { child, forward: async (listen, to) => (await ask({ op: 'forward', listen, to })).port }
}

export const relayTarget: BenchTarget = {
  name: 'relay',
  kind: 'raw',
  description: 'two processes that only forward bytes where the daemons stand (unix ⇄ TCP ⇄ unix): the daemon design\'s floor',
  available: async () => true,
  async setup ({ signal }) {
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-relay-'))
    const children: ChildProcess[] = []
    let host: HandlerHost | undefined
    const sockets = new Set<Socket>()
    const close = async (): Promise<void> => {
      for (const socket of sockets) socket.destroy()
      await Promise.all([...children.map(async (c) => { await killChild(c) }), host?.close()])
      await rm(dir, { recursive: true, force: true })
    }
    try {
      host = await startHandlerHost(signal)
      const a = await startRelay(signal)
      children.push(a.child)
      const b = await startRelay(signal)
      children.push(b.child)
      const handlerHost = host
      const entries = new Map<string, string>()
      const pair: Pair = {
        async handle (protocol, kind) {
          const n = entries.size
          const handlerPath = path.join(dir, `h${n}.sock`)
          const entryPath = path.join(dir, `a${n}.sock`)
          await handlerHost.listenUnix(kind, handlerPath)
          const port = await b.forward({ port: 0 }, { path: handlerPath })
          await a.forward({ path: entryPath }, { port })
          entries.set(protocol, entryPath)
        },
        async open (protocol, options) {
          const entryPath = entries.get(protocol)
          if (entryPath == null) throw new Error(`no handler for ${protocol}`)
          const socket = await connectUnix(entryPath, options?.signal ?? AbortSignal.timeout(30_000))
          socket.setNoDelay(true)
          sockets.add(socket)
          socket.once('close', () => sockets.delete(socket))
          return socketPipe(socket)
        },
        pids: () => children.map((c) => c.pid ?? 0),
        close
      }
      return pair
    } catch (err) {
      await close()
      throw err
    }
  }
}
