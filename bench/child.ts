/**
 * Child processes for the benchmark: forked with an IPC channel, awaited with a bound, and
 * always killed. A child whose parent dies sees its IPC channel close and exits by itself.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { raceSignal } from './abort.ts'

/** All children alive in this process, so an emergency exit can kill them. */
const live = new Set<ChildProcess>()

process.once('exit', () => {
  // SIGTERM: a daemon then removes its sockets; every child here exits on it
  for (const child of live) child.kill('SIGTERM')
})
// default signal handling skips 'exit' handlers; exit explicitly so children die with us
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143))
}

/**
 * Kill `child` with this process: on its exit, on SIGINT/SIGTERM, and (in a forked child)
 * when the parent goes away. For children spawned without an IPC channel, which would
 * otherwise outlive a benchmark that was killed.
 */
export function track (child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
}

/**
 * Fork `modulePath` (TypeScript, run through tsx) and wait for its first IPC message, which
 * is returned. Rejects, after killing the child, on exit, timeout or abort.
 */
export async function forkAndAwaitReady<T> (modulePath: string, args: string[], options: { signal: AbortSignal, execArgv?: string[] }): Promise<{ child: ChildProcess, ready: T }> {
  const child = fork(modulePath, args, {
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  track(child)
  try {
    const exited = once(child, 'exit', { signal: options.signal }).then(([code, sig]) => {
      throw new Error(`${modulePath} exited before it was ready (code ${String(code)}, signal ${String(sig)})`)
    })
    const [ready] = await Promise.race([once(child, 'message', { signal: options.signal }), exited])
    return { child, ready: ready as T }
  } catch (err) {
    await killChild(child)
    throw err
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function killChild (child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

/**
 * Waits up to `ms` for the child to exit by itself (a worker tears its pair down after
 * reporting: killed at once, it would leave daemons' files behind), then kills it.
 */
export async function awaitExit (child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  const timer = setTimeout(() => { void killChild(child) }, ms)
  await exited
  clearTimeout(timer)
}

/** For use inside a forked child: exit when the parent goes away. */
export function exitWithParent (): void {
  process.once('disconnect', () => process.exit(0))
}

/** What a child answers to a request: `error` when it failed, plus whatever it returns. */
export interface ChildReply { id?: number, port?: number, error?: string }

/**
 * A request/reply caller over a forked child's IPC channel: each request gets an id, the
 * child answers `{ id, ... }` (`error` set when it failed); each wait is bounded by `ms`.
 */
export function ipcCaller (child: ChildProcess, ms = 10_000): (request: Record<string, unknown>) => Promise<ChildReply> {
  let nextId = 0
  return async (request) => {
    const id = nextId++
    let onMessage: ((msg: ChildReply) => void) | undefined
    const reply = new Promise<ChildReply>((resolve) => {
      onMessage = (msg) => { if (msg.id === id) resolve(msg) }
      child.on('message', onMessage)
    })
    try {
      child.send({ id, ...request })
      const answer = await raceSignal(reply, AbortSignal.timeout(ms))
      if (answer.error != null) throw new Error(answer.error)
      return answer
    } finally {
      if (onMessage != null) child.off('message', onMessage)
    }
  }
}
