/**
 * A parser for Go `flag` package syntax, so p2pd command lines work unchanged:
 * `-x`, `--x`, `-x=v`, `-x v` (non-booleans), booleans as `-x` or `-x=true|false|1|0|t|f`,
 * durations like `120s`. Parsing stops at the first non-flag argument or after `--`.
 */
import { parseGoDuration } from '../config/duration.js'
import { OPTIONS_BY_NAME, defaultOptionValues } from '../config/options.js'
import type { OptionSpec, OptionValues } from '../config/options.js'

/** A command line error; the CLI prints its message and the usage, and exits 2 (as Go does). */
export class FlagError extends Error {
  readonly code = 'ERR_BAD_FLAG'
  constructor (message: string) {
    super(message)
    this.name = 'FlagError'
  }
}

/** The outcome of parsing a command line. */
export interface ParsedFlags {
  /** Every option's value (defaults filled in). */
  values: OptionValues
  /** The names of the options given explicitly on the command line. */
  given: Set<string>
  /** `-h`, `-help` or `--help` was given. */
  help: boolean
  /** Arguments after the flags. */
  rest: string[]
}

const BOOL_TEXT: Record<string, boolean> = {
  1: true,
  t: true,
  T: true,
  true: true,
  TRUE: true,
  True: true,
  0: false,
  f: false,
  F: false,
  false: false,
  FALSE: false,
  False: false
}

/** Converts one flag value from text, as Go's flag package would. */
export function parseFlagValue (spec: OptionSpec, text: string): boolean | number | string {
  const bad = (): FlagError => new FlagError(`invalid value "${text}" for flag -${spec.name}: parse error`)
  switch (spec.kind) {
    case 'bool': {
      const v = BOOL_TEXT[text]
      if (v === undefined) throw bad()
      return v
    }
    case 'int':
    case 'uint': {
      // Go accepts decimal, 0x hex, 0o/0 octal and 0b binary with an optional sign
      if (!/^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]*|[1-9][0-9_]*)$/.test(text)) throw bad()
      const sign = text.startsWith('-') ? -1 : 1
      const body = text.replace(/^[+-]/, '').replaceAll('_', '')
      const n = /^0[0-7]+$/.test(body) ? parseInt(body, 8) : Number(body.replace(/^0[oO]/, '0o'))
      if (!Number.isSafeInteger(n)) throw bad()
      if (spec.kind === 'uint' && sign < 0) throw bad()
      return sign * n
    }
    case 'duration':
      try { return parseGoDuration(text) } catch { throw bad() }
    case 'string':
      return text
  }
}

/**
 * Parses a command line.
 *
 * @throws {FlagError} on an unknown flag or a bad value
 */
export function parseFlags (argv: readonly string[]): ParsedFlags {
  const values = defaultOptionValues()
  const given = new Set<string>()
  let help = false
  let i = 0
  for (; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') { i++; break }
    if (arg.length < 2 || arg[0] !== '-') break
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1)
    if (body.length === 0 || body[0] === '-' || body[0] === '=') throw new FlagError(`bad flag syntax: ${arg}`)
    const eq = body.indexOf('=')
    const name = eq >= 0 ? body.slice(0, eq) : body
    if (name === 'h' || name === 'help') { help = true; continue }
    const spec = OPTIONS_BY_NAME.get(name)
    if (spec === undefined) throw new FlagError(`flag provided but not defined: -${name}`)
    let text: string
    if (eq >= 0) {
      text = body.slice(eq + 1)
    } else if (spec.kind === 'bool') {
      text = 'true'
    } else {
      if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${name}`)
      text = argv[++i]
    }
    values[name] = parseFlagValue(spec, text)
    given.add(name)
  }
  return { values, given, help, rest: argv.slice(i) }
}
