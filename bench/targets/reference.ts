/**
 * The reference JS daemon: two `@libp2p/daemon-server` processes, each around its own
 * js-libp2p node (TCP + noise + yamux), driven by `@libp2p/daemon-client` over unix control
 * sockets. Only the two daemons are measured; B's application side runs in a handler host.
 *
 * Inbound streams: the JS client's `registerStreamHandler` closes its handler listener after
 * the first inbound stream (p2pd.md §11.4), and re-registering per stream is not possible
 * either: the server calls `libp2p.handle()` without `force`, so registering the same
 * protocol again fails with DuplicateProtocolHandlerError. So this adapter does what the Go
 * and Python clients do: one persistent unix listener (in the handler host) registered with
 * a raw STREAM_HANDLER request through `client.send()`; for each connection the daemon makes
 * it reads the varint-length-prefixed StreamInfo and dispatches on its protocol.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient } from '@libp2p/daemon-client'
import { Request, Response } from '@libp2p/daemon-protocol'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { raceSignal } from '../abort.ts'
import { forkAndAwaitReady, killChild } from '../child.ts'
import { startHandlerHost, type HandlerHost } from '../handler-host-client.ts'
import { messageStreamPipe } from '../pipes.ts'
import { sleep } from '../scenario.ts'
import type { BenchTarget, Pair } from '../target.ts'
import type { ChildProcess } from 'node:child_process'

interface Ready { control: string, peerId: string, addrs: string[] }

const DAEMON_ENTRY = fileURLToPath(new URL('./reference-daemon.ts', import.meta.url))

export const referenceTarget: BenchTarget = {
  name: 'reference',
  kind: 'daemon',
  description: 'two @libp2p/daemon-server processes (TCP + noise + yamux) via @libp2p/daemon-client',
  available: async () => true,
  async setup ({ signal }) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-ref-'))
    const children: ChildProcess[] = []
    let host: HandlerHost | undefined
    const close = async (): Promise<void> => {
      await Promise.allSettled([...children.map(async (c) => await killChild(c)), host?.close()])
      rmSync(dir, { recursive: true, force: true })
    }
    try {
      host = await startHandlerHost(signal)
      const handlerPath = path.join(dir, 'handler.sock')
      await host.listenP2pd(handlerPath)
      const daemons = await Promise.all(['a', 'b'].map(async (name) => {
        const { child, ready } = await forkAndAwaitReady<Ready>(DAEMON_ENTRY, [`/unix/${encodeURIComponent(path.join(dir, `${name}.sock`))}`], { signal })
        children.push(child)
        return { ready, client: createClient(multiaddr(ready.control)) }
      }))
      const [a, b] = daemons
      const peerB = peerIdFromString(b.ready.peerId)
      await raceSignal(a.client.connect(peerB, b.ready.addrs.map((addr) => multiaddr(addr))), signal)
      // wait (bounded) until B lists A as a peer, so B's side of the upgrade is complete
      // before streams arrive in bulk (yamux resets more than 10 "early" streams)
      while ((await raceSignal(b.client.listPeers(), signal)).length === 0) {
        await sleep(20, signal)
      }
      const handlerHost = host
      const pair: Pair = {
        async handle (protocol, kind) {
          await handlerHost.route(protocol, kind)
          const sh = await b.client.send({
            type: Request.Type.STREAM_HANDLER,
            streamHandler: { addr: multiaddr(`/unix/${encodeURIComponent(handlerPath)}`).bytes, proto: [protocol] }
          })
          // the cast bridges two installed copies of uint8arraylist's types, nothing else
          const response = await sh.read(Response as any, { signal: AbortSignal.timeout(10_000) }) as Response
          await sh.unwrap().close()
          if (response.type !== Response.Type.OK) throw new Error(response.error?.msg ?? 'STREAM_HANDLER failed')
        },
        async open (protocol, options) {
          // the client takes no signal, so bound it here; a stream that arrives late is aborted
          const opening = a.client.openStream(peerB, protocol)
          try {
            return messageStreamPipe(await raceSignal(opening, options?.signal ?? AbortSignal.timeout(30_000)))
          } catch (err) {
            opening.then((conn) => { conn.abort(new Error('opened too late')) }, () => {})
            throw err
          }
        },
        pids: () => children.map((c) => c.pid ?? 0).filter((pid) => pid > 0),
        close
      }
      return pair
    } catch (err) {
      await close()
      throw err
    }
  }
}
