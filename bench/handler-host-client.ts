/** The worker's side of `handler-host.ts`: fork it, ask it things, kill it. */
import { fileURLToPath } from 'node:url'
import { forkAndAwaitReady, ipcCaller, killChild } from './child.ts'
import type { HandlerKind } from './target.ts'
import type { ChildProcess } from 'node:child_process'

const ENTRY = fileURLToPath(new URL('./handler-host.ts', import.meta.url))

/** A running handler host; `close()` kills it. */
export interface HandlerHost {
  pid: number
  /** Serve `kind` on a fresh TCP listener on 127.0.0.1; resolves with its port. */
  listenTcp (kind: HandlerKind): Promise<number>
  /** Serve `kind` on a unix socket listener at `path`. */
  listenUnix (kind: HandlerKind, path: string): Promise<void>
  /** Act as a p2pd stream handler on the unix socket `path`. */
  listenP2pd (path: string): Promise<void>
  /** Serve `protocol` on the p2pd and HTTP callback listeners with `kind`. */
  route (protocol: string, kind: HandlerKind): Promise<void>
  /** Act as a libp2pd HTTP callback server on the unix socket `path`. */
  listenHttp (path: string): Promise<void>
  /** Answer unary calls on `protocol` (echo) over a persistent connection to `control`. */
  serveUnary (control: string, protocol: string): Promise<void>
  close (): Promise<void>
}

/** Start a handler host, bounded by `signal`. */
export async function startHandlerHost (signal: AbortSignal): Promise<HandlerHost> {
  const { child } = await forkAndAwaitReady<unknown>(ENTRY, [], { signal })
  const ask = ipcCaller(child)
  return {
    pid: (child as ChildProcess).pid ?? 0,
    listenTcp: async (kind) => (await ask({ op: 'tcp', kind })).port ?? 0,
    listenUnix: async (kind, path) => { await ask({ op: 'unix', kind, path }) },
    listenP2pd: async (path) => { await ask({ op: 'p2pd', path }) },
    route: async (protocol, kind) => { await ask({ op: 'route', protocol, kind }) },
    listenHttp: async (path) => { await ask({ op: 'http', path }) },
    serveUnary: async (control, protocol) => { await ask({ op: 'unary', control, protocol }) },
    close: async () => { await killChild(child) }
  }
}
