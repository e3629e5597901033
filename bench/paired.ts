/**
 * The verdict of a paired comparison (bench/compare.ts): per-round ratios of two builds,
 * summarised as their geometric mean with a 95% interval.
 */

/** Student's t, two-sided 95%, by degrees of freedom (few rounds need the wider interval). */
const T95 = [12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.20, 2.18, 2.16, 2.14, 2.13]
const t95 = (df: number): number => T95[df - 1] ?? (df < 30 ? 2.08 : 1.96)

/** A ratio and its 95% interval. */
export interface PairedRatio { mean: number, low: number, high: number }

/**
 * Geometric mean of `ratios` and its 95% interval (Student's t on their logs). With one
 * ratio the interval is unbounded: a single round says nothing about the spread.
 */
export function pairedRatio (ratios: number[]): PairedRatio {
  if (ratios.length === 0) throw new RangeError('no ratios')
  const logs = ratios.map(Math.log)
  const mean = logs.reduce((a, b) => a + b, 0) / logs.length
  const sd = logs.length > 1 ? Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (logs.length - 1)) : 0
  const half = logs.length > 1 ? t95(logs.length - 1) * sd / Math.sqrt(logs.length) : Infinity
  return { mean: Math.exp(mean), low: Math.exp(mean - half), high: Math.exp(mean + half) }
}
