import { formatGoDuration } from '../config/duration.js'
import { OPTIONS } from '../config/options.js'
import type { OptionSpec } from '../config/options.js'

function defaultText (o: OptionSpec): string {
  if (o.kind === 'duration') return formatGoDuration(o.default as number)
  if (o.kind === 'string') return o.default === '' ? '' : JSON.stringify(o.default)
  return String(o.default)
}

/** The `--help` text: every flag, Go style, with its default. */
export function usage (): string {
  const lines = ['Usage of libp2pd (flags as p2pd: -name, --name, -name=value, -name value):']
  for (const o of OPTIONS) {
    const type = o.kind === 'bool' ? '' : ` ${o.kind === 'uint' ? 'uint' : o.kind}`
    const def = defaultText(o)
    const notes = [o.noEffect === true ? 'accepted, no effect' : '', o.origin !== 'p2pd' ? o.origin : ''].filter(Boolean).join('; ')
    lines.push(`  -${o.name}${type}`)
    lines.push(`    \t${o.help}${def !== '' && def !== 'false' ? ` (default ${def})` : ''}${notes !== '' ? ` [${notes}]` : ''}`)
  }
  return lines.join('\n') + '\n'
}
