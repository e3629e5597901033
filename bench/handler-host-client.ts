/** The worker's side of `handler-host.ts`: fork it, ask it things, kill it. */
import { fileURLToPath } from 'node:url'
import { raceSignal } from './abort.ts'
import { forkAndAwaitReady, killChild } from './child.ts'
import type { HandlerKind } from './target.ts'
import type { ChildProcess } from 'node:child_process'

const ENTRY = fileURLToPath(new URL('./handler-host.ts', import.meta.url))

/** A running handler host; `close()` kills it. */
export interface HandlerHost {
  pid: number
  /** Serve `kind` on a fresh TCP listener on 127.0.0.1; resolves with its port. */
  listenTcp (kind: HandlerKind): Promise<number>
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
  let nextId = 0
  const ask = async (request: Record<string, unknown>): Promise<{ port?: number }> => {
    const id = nextId++
    const reply = new Promise<{ port?: number, error?: string }>((resolve) => {
      const onMessage = (msg: { id?: number, port?: number, error?: string }): void => {
        if (msg.id !== id) return
        child.off('message', onMessage)
        resolve(msg)
      }
      child.on('message', onMessage)
    })
    child.send({ id, ...request })
    const answer = await raceSignal(reply, AbortSignal.timeout(10_000))
    if (answer.error != null) throw new Error(answer.error)
    return answer
  }
  return {
    pid: (child as ChildProcess).pid ?? 0,
    listenTcp: async (kind) => (await ask({ op: 'tcp', kind })).port ?? 0,
    listenP2pd: async (path) => { await ask({ op: 'p2pd', path }) },
    route: async (protocol, kind) => { await ask({ op: 'route', protocol, kind }) },
    listenHttp: async (path) => { await ask({ op: 'http', path }) },
    serveUnary: async (control, protocol) => { await ask({ op: 'unary', control, protocol }) },
    close: async () => { await killChild(child) }
  }
}
