/** Medians over runs, ratios against the baselines of the same run, and the markdown table. */
import { median } from './measure.ts'
import type { RunResult, Scenario } from './scenario.ts'

/** All runs of one scenario on one target, or why there are none. */
export interface Cell {
  scenario: Scenario
  target: string
  runs: RunResult[]
  errors: string[]
  /** Set when the cell was not run: not applicable, or target not available. */
  skipped?: string
}

/** The median of one cell, in numbers. */
export interface Summary {
  scenario: string
  target: string
  unit: string
  value: number
  p50Ms: number
  p99Ms: number
  cpu: number
  cpuUnit?: string
  peakRssMB: number
  ok: boolean | undefined
  runs: number
  vsJslibp2p: number
  vsReference: number
  /** This row over the relay floor (two processes that only forward bytes). */
  vsRelay: number
  note: string
}

/** Baselines that every row is compared with. */
const BASELINES = ['jslibp2p', 'reference', 'relay'] as const

function med (runs: RunResult[], key: keyof RunResult): number {
  return median(runs.map((r) => r[key] as number ?? NaN))
}

/** Summarize every cell; ratios are this row's median over the baseline's, same scenario. */
export function summarize (cells: Cell[]): Summary[] {
  const value = (scenario: string, target: string): number => {
    const cell = cells.find((c) => c.scenario.name === scenario && c.target === target)
    return cell == null ? NaN : med(cell.runs, 'value')
  }
  return cells.map((cell) => {
    const v = med(cell.runs, 'value')
    const [js, ref, relay] = BASELINES.map((b) => v / value(cell.scenario.name, b))
    const notes = cell.skipped ?? [
      ...new Set([...cell.runs.map((r) => r.note ?? ''), ...cell.errors.map((e) => `error: ${e.split('\n')[0].slice(0, 100)}`)])
    ].filter(Boolean).join('; ')
    return {
      scenario: cell.scenario.name,
      target: cell.target,
      unit: cell.scenario.unit,
      value: v,
      p50Ms: med(cell.runs, 'p50Ms'),
      p99Ms: med(cell.runs, 'p99Ms'),
      cpu: med(cell.runs, 'cpu'),
      cpuUnit: cell.scenario.cpuUnit,
      peakRssMB: med(cell.runs, 'peakRssMB'),
      ok: cell.runs.length === 0 ? undefined : cell.runs.every((r) => r.ok) && cell.errors.length === 0,
      runs: cell.runs.length,
      vsJslibp2p: js,
      vsReference: ref,
      vsRelay: relay,
      note: notes
    }
  })
}

function fmt (n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '–'
  if (Math.abs(n) >= 100 || digits === 0) return Math.round(n).toLocaleString('en-US')
  return n.toFixed(digits)
}

function ratio (n: number): string {
  return Number.isFinite(n) ? `${n.toFixed(2)}×` : '–'
}

/** The markdown table of medians; one row per scenario × target. */
export function markdownTable (summaries: Summary[], scenarios: Scenario[]): string {
  const lines = [
    '| scenario | target | median | p50 ms | p99 ms | CPU | peak RSS MB | × jslibp2p | × reference | × relay | ok | notes |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|:-:|---|'
  ]
  for (const s of summaries) {
    const scenario = scenarios.find((x) => x.name === s.scenario)
    const value = Number.isFinite(s.value) ? `${fmt(s.value, 2)} ${s.unit}` : '–'
    const cpu = Number.isFinite(s.cpu) ? `${s.cpu.toFixed(2)} ${s.cpuUnit ?? ''}` : '–'
    const ok = s.ok === undefined ? '' : s.ok ? 'yes' : 'NO'
    const title = scenario?.title ?? s.scenario
    lines.push(`| ${title} | ${s.target} | ${value} | ${fmt(s.p50Ms, 3)} | ${fmt(s.p99Ms, 3)} | ${cpu} | ${fmt(s.peakRssMB)} | ${ratio(s.vsJslibp2p)} | ${ratio(s.vsReference)} | ${ratio(s.vsRelay)} | ${ok} | ${s.note.replace(/\|/g, '/')} |`)
  }
  return lines.join('\n')
}
