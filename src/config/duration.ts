/**
 * Go `time.ParseDuration` syntax ("300ms", "1.5h", "2h45m", "0"), because p2pd's duration
 * flags (`-connGrace 120s`) are written that way and harnesses pass them verbatim.
 */

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000
}

/**
 * Parses a Go duration string into milliseconds.
 *
 * @throws {RangeError} when the string is not a valid Go duration
 */
export function parseGoDuration (text: string): number {
  const s = text.trim()
  if (s === '0' || s === '+0' || s === '-0') return 0
  const m = /^([+-])?((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(s)
  if (m == null) throw new RangeError(`invalid duration "${text}"`)
  let total = 0
  for (const part of m[2].matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * UNITS[part[2]]
  }
  return m[1] === '-' ? -total : total
}

/** Formats milliseconds the way Go prints a `time.Duration` default (e.g. `2m0s`, `10s`, `0s`). */
export function formatGoDuration (ms: number): string {
  if (ms === 0) return '0s'
  if (ms < 1000) return `${ms}ms`
  let rest = ms / 1000
  const h = Math.floor(rest / 3600); rest -= h * 3600
  const m = Math.floor(rest / 60); rest -= m * 60
  const sec = `${Number(rest.toFixed(3))}s`
  if (h > 0) return `${h}h${m}m${sec}`
  if (m > 0) return `${m}m${sec}`
  return sec
}
