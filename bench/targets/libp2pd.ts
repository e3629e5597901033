/**
 * libp2pd targets: two `bin/libp2pd.js` processes (TCP + noise + yamux on loopback, both
 * control planes on unix sockets), A connected to B once; B's application side runs in a
 * handler host. Only the two daemons are measured, as for the reference daemon; the program
 * side (worker + handler host) is not (`npm run bench:cpu` splits every process's CPU).
 *
 *  - `libp2pd-http`: A's HTTP API opens streams (`POST /api/daemon/peers/:id/streams`), the
 *    worker connects to the returned `socketPath`; B's handlers are registered with
 *    `POST /api/daemon/handlers` pointing at a callback server in the handler host, which
 *    connects to each POSTed stream's socket.
 *  - `libp2pd-p2pd`: STREAM_OPEN on a fresh control connection (which becomes the stream);
 *    STREAM_HANDLER pointing at a persistent unix listener in the handler host that reads
 *    the StreamInfo and dispatches. `pair.unary`: hivemind-style unary calls over one
 *    persistent connection per side (PERSISTENT_CONN_UPGRADE).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Request } from '../../src/proto/p2pd.ts'
import { startHandlerHost, type HandlerHost } from '../handler-host-client.ts'
import { connectUnix, p2pdRequest, p2pdStreamOpen, PersistentConnection } from '../p2pd-wire.ts'
import { socketPipe } from '../pipes.ts'
import { sleep } from '../scenario.ts'
import { BIN, HttpApi, startDaemon, type Daemon } from './libp2pd-daemon.ts'
import type { BenchTarget, Pair, SetupOptions, UnaryPlane } from '../target.ts'

type Plane = 'http' | 'p2pd'

/** Bound on one stream open when the scenario gives no signal. */
const OPEN_MS = 30_000

/** tsc's output, which `bin/libp2pd.js` runs (or, with LIBP2PD_BUNDLE=1, the bundle made from it). */
const DIST_MAIN = path.join(path.dirname(BIN), '..', 'dist', 'src', 'cli', 'main.js')

async function available (): Promise<true | string> {
  return existsSync(BIN) && existsSync(DIST_MAIN) ? true : 'not built: run `npm run build`'
}

/** Spawn both daemons and the handler host, connect A to B; everything is undone by `close`. */
async function setupPair (plane: Plane, { signal }: SetupOptions): Promise<Pair> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-lpd-'))
  const daemons: Daemon[] = []
  const persistent: PersistentConnection[] = []
  let host: HandlerHost | undefined
  let api: HttpApi | undefined
  const close = async (): Promise<void> => {
    for (const p of persistent) p.close()
    api?.close()
    await Promise.allSettled([...daemons.map(async (d) => await d.close()), host?.close()])
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const started = Promise.allSettled(['a', 'b'].map(async (name) => await startDaemon(dir, name, signal)))
    host = await startHandlerHost(signal)
    // a daemon that did start must be killed by close() even when the other failed
    for (const outcome of await started) {
      if (outcome.status === 'fulfilled') daemons.push(outcome.value)
    }
    for (const outcome of await started) if (outcome.status === 'rejected') throw outcome.reason
    const [a, b] = daemons
    api = new HttpApi(a.http)
    const apiB = new HttpApi(b.http)
    await api.call('POST', `/api/daemon/peers/${b.peerId}/connect`, { addresses: b.addrs, timeout: 20 }, signal)
    // wait (bounded) until B lists the connection, so its side of the upgrade is complete
    // before streams arrive in bulk (yamux resets more than 10 "early" streams)
    while ((await apiB.call<unknown[]>('GET', '/api/daemon/connections', undefined, signal)).length === 0) await sleep(20, signal)
    apiB.close()

    const handlerHost = host
    const peerB = peerIdFromString(b.peerId).toMultihash().bytes
    const callbackPath = path.join(dir, 'callback.sock')
    const handlerPath = path.join(dir, 'handler.sock')
    if (plane === 'http') await host.listenHttp(callbackPath)
    else await host.listenP2pd(handlerPath)
    const httpA = api
    const httpB = new HttpApi(b.http)

    const pair: Pair = {
      async handle (protocol, kind, options) {
        await handlerHost.route(protocol, kind)
        const bound = options?.signal ?? AbortSignal.timeout(OPEN_MS)
        if (plane === 'http') {
          await httpB.call('POST', '/api/daemon/handlers', { protocols: [protocol], callback: `unix:${callbackPath}` }, bound)
        } else {
          await p2pdRequest(b.control, {
            type: Request.Type.STREAM_HANDLER,
            streamHandler: { addr: multiaddr(`/unix/${encodeURIComponent(handlerPath)}`).bytes, proto: [protocol] }
          }, bound)
        }
      },
      async open (protocol, options) {
        const signal = options?.signal ?? AbortSignal.timeout(OPEN_MS)
        if (plane === 'p2pd') return socketPipe(await p2pdStreamOpen(a.control, peerB, protocol, signal))
        const stream = await httpA.call<{ socketPath: string }>('POST', `/api/daemon/peers/${b.peerId}/streams`, { protocol }, signal)
        const socket = await connectUnix(stream.socketPath, signal)
        socket.setNoDelay(true)
        return socketPipe(socket)
      },
      pids: () => daemons.map((d) => d.pid),
      close: async () => {
        httpB.close()
        await close()
      }
    }
    if (plane === 'p2pd') pair.unary = unaryPlane(a, b, handlerHost, peerB, persistent)
    return pair
  } catch (err) {
    await close()
    throw err
  }
}

/** Unary calls from A's persistent connection (in the worker) to B's (in the handler host). */
function unaryPlane (a: Daemon, b: Daemon, host: HandlerHost, peerB: Uint8Array, persistent: PersistentConnection[]): UnaryPlane {
  let caller: PersistentConnection | undefined
  return {
    async handle (protocol) {
      await host.serveUnary(b.control, protocol)
      if (caller == null) {
        caller = await PersistentConnection.open(a.control, AbortSignal.timeout(OPEN_MS))
        persistent.push(caller)
      }
    },
    async call (protocol, request, options) {
      if (caller == null) throw new Error('unary: handle() first')
      return await caller.call(peerB, protocol, request, options?.signal)
    }
  }
}

function target (plane: Plane, description: string): BenchTarget {
  return {
    name: `libp2pd-${plane}`,
    kind: 'daemon',
    description,
    available,
    setup: async (options) => await setupPair(plane, options)
  }
}

export const libp2pdHttpTarget = target('http', 'two libp2pd processes (TCP + noise + yamux) driven through the HTTP API (a unix socket per stream)')
export const libp2pdP2pdTarget = target('p2pd', 'two libp2pd processes (TCP + noise + yamux) driven through the p2pd control protocol, plus hivemind unary calls')
