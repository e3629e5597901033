/**
 * Process accounting from /proc (Linux): CPU seconds, current and peak RSS, plus latency
 * statistics and a description of the machine for the report.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'

/** Clock ticks per second for /proc/<pid>/stat; read once because it never changes. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/**
 * The fields of `/proc/<pid>/stat` after the command name, from `state` on (`[0]` state,
 * `[1]` ppid, `[11]` utime, `[12]` stime), or undefined if the process is gone.
 */
export function procStat (pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name may contain spaces; fields are counted after its closing paren
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** utime + stime of one process in seconds, or 0 if it is gone. */
export function cpuSeconds (pid: number): number {
  const fields = procStat(pid)
  return fields === undefined ? 0 : (Number(fields[11]) + Number(fields[12])) / CLK_TCK
}

function statusKiB (pid: number, key: string): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))
    return match == null ? 0 : Number(match[1])
  } catch {
    return 0
  }
}

/** Current resident set size in bytes. */
export function rssBytes (pid: number): number {
  return statusKiB(pid, 'VmRSS') * 1024
}

/** Peak resident set size over the process's life, in bytes. */
export function peakRssBytes (pid: number): number {
  return statusKiB(pid, 'VmHWM') * 1024
}

/** Total CPU seconds of a set of processes. */
export function totalCpu (pids: number[]): number {
  return pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0)
}

/** Sum of current RSS of a set of processes. */
export function totalRss (pids: number[]): number {
  return pids.reduce((sum, pid) => sum + rssBytes(pid), 0)
}

/** Largest peak RSS among a set of processes (the limit is per daemon). */
export function maxPeakRss (pids: number[]): number {
  return Math.max(0, ...pids.map(peakRssBytes))
}

/**
 * Samples the largest per-process RSS every `intervalMs` until stopped; complements
 * VmHWM, which cannot be reset and so would include setup for long-lived processes.
 */
export function sampleRss (pids: number[], intervalMs = 50): { stop: () => number } {
  let max = Math.max(0, ...pids.map(rssBytes))
  const timer = setInterval(() => {
    for (const pid of pids) max = Math.max(max, rssBytes(pid))
  }, intervalMs)
  return {
    stop () {
      clearInterval(timer)
      for (const pid of pids) max = Math.max(max, rssBytes(pid))
      return max
    }
  }
}

/** The q-quantile (0..1) of unsorted samples, nearest-rank; NaN when empty. */
export function quantile (samples: number[], q: number): number {
  if (samples.length === 0) return NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

/** Median of samples, ignoring NaN; NaN when none are left. */
export function median (samples: number[]): number {
  const finite = samples.filter(Number.isFinite)
  if (finite.length === 0) return NaN
  const sorted = finite.sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** One line about the machine, for the report. */
export function machineInfo (): { cpu: string, cores: number, memoryGiB: number, node: string, os: string, load: string } {
  return {
    // other work on the machine skews everything; the report shows how busy it was
    load: os.loadavg().map((l) => l.toFixed(1)).join(' / '),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`
  }
}
