/**
 * Bounded command and child-process handling for the namespace topology: every command has a timeout,
 * an optional abort signal, and a synchronous twin for the process 'exit' hook (where
 * nothing asynchronous can run any more).
 */
import { execFile, execFileSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'

/** What a finished command produced; `code` is its exit status. */
export interface RunResult {
  stdout: string
  stderr: string
  code: number
}

/** Limits for one command. */
export interface RunOptions {
  /** Kill the command (SIGKILL) after this many milliseconds; default 15000. */
  timeoutMs?: number
  signal?: AbortSignal
  /** Environment of the command; default: this process's. */
  env?: NodeJS.ProcessEnv
}

/**
 * Runs `cmd args` without a shell. Resolves with the exit code (non-zero is not an
 * error: callers such as reachability checks want to see failures); rejects when the
 * command cannot start, times out or is aborted.
 */
export async function run (cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000
  return await new Promise((resolve, reject) => {
    execFile(cmd, args, {
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      signal: opts.signal,
      env: opts.env,
      maxBuffer: 64 << 20,
      encoding: 'utf8'
    }, (err, stdout, stderr) => {
      if (err == null) { resolve({ stdout, stderr, code: 0 }); return }
      const e = err as NodeJS.ErrnoException & { killed?: boolean, code?: number | string }
      if (typeof e.code === 'number') { resolve({ stdout, stderr, code: e.code }); return }
      const why = e.name === 'AbortError' ? 'aborted' : e.killed === true ? `timed out after ${timeoutMs} ms` : e.message
      reject(new Error(`${cmd} ${args.join(' ')}: ${why}`, { cause: err }))
    })
  })
}

/** Like {@link run} but rejects on a non-zero exit, with the command's stderr in the message. */
export async function must (cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts)
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`)
  }
  return r.stdout
}

/** Synchronous best-effort run for exit hooks: never throws, returns stdout ('' on failure). */
export function runSyncQuiet (cmd: string, args: string[], timeoutMs = 5000): string {
  try {
    return execFileSync(cmd, args, { timeout: timeoutMs, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  } catch {
    return ''
  }
}

/** Whether `cmd` can be started (looked up on PATH); used to explain skips. */
export function hasCommand (cmd: string): boolean {
  try {
    execFileSync(cmd, ['--version'], { timeout: 5000, stdio: 'ignore' })
    return true
  } catch (err) {
    // A non-zero exit still proves the binary exists (some tools reject --version).
    return (err as NodeJS.ErrnoException).code !== 'ENOENT'
  }
}

/** Argument vector that runs `cmd args` inside network namespace `ns`. */
export function inNs (ns: string, cmd: string, args: string[]): string[] {
  return ['netns', 'exec', ns, cmd, ...args]
}

/**
 * Sends SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited, or
 * after `graceMs + 1000` ms at the latest (a child that never started emits no 'exit').
 */
export async function stopChild (child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise<void>((resolve) => {
    const kill = setTimeout(() => { child.kill('SIGKILL') }, graceMs)
    const giveUp = setTimeout(done, graceMs + 1000)
    function done (): void {
      clearTimeout(kill)
      clearTimeout(giveUp)
      resolve()
    }
    child.once('exit', done)
    child.kill('SIGTERM')
  })
}
