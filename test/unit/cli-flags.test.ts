/**
 * The Go-style flag parser against every option in the table: each syntax form Go's `flag`
 * package accepts, and the errors (exit 2 in the CLI) that name the flag.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FlagError, parseFlags } from '../../src/cli/flags.js'
import { usage } from '../../src/cli/usage.js'
import { formatGoDuration, parseGoDuration } from '../../src/config/duration.js'
import { OPTIONS } from '../../src/config/options.js'
import type { OptionSpec } from '../../src/config/options.js'

/** A valid, non-default value for each kind, as text and as parsed. */
function sample (o: OptionSpec): { text: string, value: boolean | number | string } {
  switch (o.kind) {
    case 'bool': return { text: String(!(o.default as boolean)), value: !(o.default as boolean) }
    case 'int': return { text: '7', value: 7 }
    case 'uint': return { text: '8', value: 8 }
    case 'duration': return { text: '1m30s', value: 90_000 }
    case 'string': return { text: '/ip4/127.0.0.1/tcp/1234', value: '/ip4/127.0.0.1/tcp/1234' }
  }
}

describe('flag parser: every option in every Go syntax form', () => {
  for (const o of OPTIONS) {
    it(`-${o.name}`, () => {
      const { text, value } = sample(o)
      const forms = [[`-${o.name}=${text}`], [`--${o.name}=${text}`]]
      if (o.kind !== 'bool') forms.push([`-${o.name}`, text], [`--${o.name}`, text])
      for (const argv of forms) {
        const p = parseFlags(argv)
        assert.deepEqual(p.values[o.name], value, argv.join(' '))
        assert.ok(p.given.has(o.name))
        assert.deepEqual(p.rest, [])
      }
      if (o.kind === 'bool') {
        for (const [t, v] of [['', true], ['=true', true], ['=1', true], ['=t', true], ['=false', false], ['=0', false], ['=F', false]] as const) {
          assert.equal(parseFlags([`-${o.name}${t}`]).values[o.name], v)
          assert.equal(parseFlags([`--${o.name}${t}`]).values[o.name], v)
        }
        assert.throws(() => parseFlags([`-${o.name}=yes`]), (err: Error) => err instanceof FlagError && err.message.includes(`-${o.name}`))
        // a bool does not consume the next argument (Go: -x false is -x then an argument)
        assert.deepEqual(parseFlags([`-${o.name}`, 'false']).rest, ['false'])
      } else {
        assert.throws(() => parseFlags([`-${o.name}`]), /flag needs an argument: -/)
        if (o.kind !== 'string') {
          assert.throws(() => parseFlags([`-${o.name}=abc`]), (err: Error) => err instanceof FlagError && err.message.includes(`-${o.name}`))
        }
      }
      assert.equal(parseFlags([]).values[o.name], o.default)
    })
  }

  it('unknown flags, bad syntax and values name the flag', () => {
    assert.throws(() => parseFlags(['-nope']), /flag provided but not defined: -nope/)
    assert.throws(() => parseFlags(['--nope=1']), /flag provided but not defined: -nope/)
    assert.throws(() => parseFlags(['---listen']), /bad flag syntax/)
    assert.throws(() => parseFlags(['-connLo=1.5']), /invalid value "1.5" for flag -connLo/)
    assert.throws(() => parseFlags(['-pprofPort=-1']), /flag -pprofPort/)
    assert.throws(() => parseFlags(['-connGrace=120']), /invalid value "120" for flag -connGrace/)
  })

  it('Go integer forms and durations', () => {
    assert.equal(parseFlags(['-connLo=0x10']).values.connLo, 16)
    assert.equal(parseFlags(['-connLo=010']).values.connLo, 8)
    assert.equal(parseFlags(['-connLo=-3']).values.connLo, -3)
    assert.equal(parseGoDuration('1h2m3.5s'), 3_723_500)
    assert.equal(parseGoDuration('300ms'), 300)
    assert.equal(parseGoDuration('0'), 0)
    assert.throws(() => parseGoDuration('5'))
    assert.equal(formatGoDuration(120_000), '2m0s')
    assert.equal(formatGoDuration(30 * 60_000), '30m0s')
  })

  it('stops at -- and at the first argument; -h and -help ask for usage', () => {
    assert.deepEqual(parseFlags(['-q', '--', '-b']).rest, ['-b'])
    assert.deepEqual(parseFlags(['-q', 'x', '-b']).rest, ['x', '-b'])
    assert.equal(parseFlags(['-h']).help, true)
    assert.equal(parseFlags(['--help']).help, true)
  })

  it('usage lists every flag with its non-empty default', () => {
    const text = usage()
    for (const o of OPTIONS) {
      assert.match(text, new RegExp(`^  -${o.name}( |$)`, 'm'), o.name)
    }
    assert.match(text, /-listen string\n.*\(default "\/unix\/tmp\/p2pd.sock"\)/)
    assert.match(text, /-connGrace duration\n.*\(default 2m0s\)/)
    assert.match(text, /-connHi int\n.*\(default 512\)/)
    assert.match(text, /-relay\n.*\(default true\)/)
  })
})
