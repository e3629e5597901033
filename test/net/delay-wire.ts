/**
 * Owner of one delay-wire process (delay-wire.py): a userspace Ethernet cable between two
 * interfaces of a LAN's switch namespace that holds each frame for a fixed time. See the
 * Python file for why delay cannot come from the kernel here.
 */
import { spawn, execFileSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { inNs, stopChild } from './shell.js'

const SCRIPT = fileURLToPath(new URL('./delay-wire.py', import.meta.url))

let pythonPath: string | undefined

/**
 * The real python3 binary (not a pyenv-style shim script), resolved once; `NET_PYTHON`
 * overrides. Throws with an install hint when there is none.
 */
export function findPython (): string {
  if (pythonPath !== undefined) return pythonPath
  const candidate = process.env.NET_PYTHON ?? 'python3'
  try {
    // generous: on a loaded machine (e.g. 20 daemons starting in a parallel test file)
    // interpreter start-up alone has taken over 10 s, which turned delay tests into skips
    pythonPath = execFileSync(candidate, ['-c', 'import sys; print(sys.executable)'], {
      timeout: 60_000, encoding: 'utf8'
    }).trim()
    return pythonPath
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (err as Error).message.split('\n')[0]
    throw new Error(`link delay needs python3 (apt-get install python3-minimal, or set NET_PYTHON): ${candidate}: ${why}`)
  }
}

/** A running delay wire between interfaces `a` and `b` of namespace `ns`. */
export class DelayWire {
  readonly process: ChildProcess
  private delayMs: number

  private constructor (child: ChildProcess, delayMs: number) {
    this.process = child
    this.delayMs = delayMs
  }

  /**
   * Starts the wire and waits (at most `timeoutMs`) until both packet sockets are bound.
   * `track` receives the child first, so a topology can kill it even if startup fails.
   */
  static async start (ns: string, a: string, b: string, delayMs: number,
    track: (child: ChildProcess) => void, timeoutMs = 10_000): Promise<DelayWire> {
    const child = spawn('ip', inNs(ns, findPython(), ['-u', SCRIPT, a, b, String(delayMs)]), {
      stdio: ['pipe', 'pipe', 'pipe']
    })
    track(child)
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { fail(new Error(`delay wire in ${ns} not ready after ${timeoutMs} ms`)) }, timeoutMs)
      const fail = (err: Error): void => {
        clearTimeout(timer)
        child.kill('SIGKILL')
        reject(err)
      }
      child.once('error', fail)
      child.once('exit', (code) => { fail(new Error(`delay wire in ${ns} exited ${String(code)}: ${stderr.trim()}`)) })
      child.stdout?.setEncoding('utf8').once('data', (d: string) => {
        if (!d.startsWith('ready')) return
        clearTimeout(timer)
        child.removeAllListeners('exit')
        child.removeListener('error', fail)
        resolve()
      })
    })
    // Later errors (a killed wire) must not crash the test process.
    child.on('error', () => {})
    child.stdin?.on('error', () => {})
    return new DelayWire(child, delayMs)
  }

  /** Current one-way delay in milliseconds. */
  get delay (): number {
    return this.delayMs
  }

  /** Changes the delay without restarting (frames already queued keep their time). */
  setDelay (delayMs: number): void {
    this.delayMs = delayMs
    this.process.stdin?.write(`delay ${delayMs}\n`)
  }

  /** Stops the wire; resolves once the process has exited (SIGKILL after 2 s). */
  async stop (): Promise<void> {
    this.process.stdin?.end()
    await stopChild(this.process)
  }
}
