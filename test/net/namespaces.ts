/**
 * Network namespace lifecycle: names that identify the owning process, creation with a
 * usable loopback, removal that first kills whatever still runs inside, and the sweep
 * of namespaces left behind by crashed runs.
 *
 * A namespace is named `<prefix>-<pid>-<run>-<node>`: the pid lets a later run tell a
 * crashed owner (pid gone) from a concurrent test file using the same prefix (pid alive),
 * so parallel test files never delete each other's namespaces.
 */
import { randomBytes } from 'node:crypto'
import { must, run, runSyncQuiet, inNs } from './shell.js'

const PREFIX_RE = /^[a-z][a-z0-9]{0,11}$/

/** Validates a topology prefix: lowercase letters and digits, at most 12, no dashes. */
export function checkPrefix (prefix: string): void {
  if (!PREFIX_RE.test(prefix)) {
    throw new Error(`topology prefix ${JSON.stringify(prefix)} must match ${String(PREFIX_RE)}`)
  }
}

/** The `<prefix>-<pid>-<run>` stem shared by every namespace of one topology. */
export function newRunId (prefix: string): string {
  checkPrefix(prefix)
  return `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`
}

/** Turns a node name into a namespace-name-safe suffix. */
export function nsSuffix (name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]+/g, '_').slice(0, 24)
}

/** Parses `ip netns list` output (lines like `name (id: 3)`) into names. */
function parseNetnsList (out: string): string[] {
  return out.split('\n').map(l => l.trim().split(/\s+/)[0]).filter(n => n !== undefined && n !== '')
}

/** Namespace names that currently exist. */
export async function listNamespaces (): Promise<string[]> {
  return parseNetnsList(await must('ip', ['netns', 'list']))
}

function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Creates namespace `ns` with `lo` up (each namespace has its own loopback, which the
 * daemon's 127.0.0.1 API listener needs) and IPv6 off on interfaces added later, so
 * nodes only ever have the IPv4 addresses the topology assigned (plus ::1 on lo).
 */
export async function createNamespace (ns: string, sysctls: string[] = []): Promise<void> {
  await must('ip', ['netns', 'add', ns])
  await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
  await must('ip', inNs(ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1', ...sysctls]))
}

function killPids (out: string): void {
  for (const pid of out.split(/\s+/).filter(p => /^\d+$/.test(p)).map(Number)) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
}

/**
 * Kills every process still inside `ns`, then deletes it. Deleting only unmounts the
 * name: a namespace with live processes would keep its interfaces, hence the kill first.
 */
export async function deleteNamespace (ns: string): Promise<void> {
  const pids = await run('ip', ['netns', 'pids', ns], { timeoutMs: 5000 }).catch(() => undefined)
  if (pids !== undefined) killPids(pids.stdout)
  await run('ip', ['netns', 'del', ns], { timeoutMs: 5000 }).catch(() => undefined)
}

/** Synchronous {@link deleteNamespace} for the process 'exit' hook. */
export function deleteNamespaceSync (ns: string): void {
  killPids(runSyncQuiet('ip', ['netns', 'pids', ns]))
  runSyncQuiet('ip', ['netns', 'del', ns])
}

/**
 * Deletes namespaces named `<prefix>-<pid>-…` whose owning pid no longer runs (left by a
 * crashed or SIGKILLed test). Returns the names it removed.
 */
export async function sweepStaleNamespaces (prefix: string): Promise<string[]> {
  checkPrefix(prefix)
  const re = new RegExp(`^${prefix}-(\\d+)-[0-9a-f]+-`)
  const stale = (await listNamespaces()).filter(ns => {
    const m = re.exec(ns)
    return m !== null && !pidAlive(Number(m[1]))
  })
  for (const ns of stale) await deleteNamespace(ns)
  return stale
}
