/**
 * The TypeScript examples run as real programs (`node --import tsx`, no polyfill: the
 * client must not need one), each spawning its own daemons; and the copies of them in
 * docs/client.md must match the files, so neither can rot.
 */
import { strict as assert } from 'node:assert'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { describe, it } from 'node:test'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'

const ROOT = new URL('../../', import.meta.url)
const example = (name: string): string => new URL(`examples/typescript/${name}`, ROOT).pathname

function run (name: string): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', example(name)], { cwd: ROOT.pathname, stdio: 'pipe' })
}

/** Runs a program to its end; resolves with its stdout, fails on a non-zero exit. */
async function runToEnd (name: string, ms = 60_000): Promise<string> {
  const child = run(name)
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (t: string) => { out += t })
  child.stderr.setEncoding('utf8').on('data', (t: string) => { err += t })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, ms)
  const [code] = await once(child, 'exit')
  clearTimeout(timer)
  assert.equal(code, 0, `${name} failed: ${err}`)
  return out
}

/** Lines of a running program's stdout, one at a time. */
function lines (child: ChildProcessWithoutNullStreams): () => Promise<string> {
  const it = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  return async () => {
    let timer: NodeJS.Timeout | undefined
    const r = await Promise.race([it.next(), new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error('no output')) }, 60_000) })])
    clearTimeout(timer)
    if (r.done === true) throw new Error('the program ended')
    return r.value
  }
}

describe('client: examples/typescript', { timeout: 180_000 }, () => {
  it('echo.ts', async () => {
    assert.equal((await runToEnd('echo.ts')).trim(), 'echoed: hello, libp2p')
  })

  it('pubsub.ts', async () => {
    assert.match(await runToEnd('pubsub.ts'), /^alice says: libp2pd speaks TypeScript$/m)
  })

  it('peer.ts: two programs, each with its own daemon, handler and caller', async () => {
    const programs = [run('peer.ts'), run('peer.ts')]
    try {
      const next = programs.map(lines)
      const ready = await Promise.all(next.map(async n => (await n()).split(' ')))
      for (const r of ready) assert.equal(r[0], 'ready')
      // each asks the other
      programs[0].stdin.write(`ask ${ready[1][1]} ${ready[1][2]} hello from one\n`)
      programs[1].stdin.write(`ask ${ready[0][1]} ${ready[0][2]} hello from two\n`)
      assert.equal(await next[0](), 'answer HELLO FROM ONE')
      assert.equal(await next[1](), 'answer HELLO FROM TWO')
      // failures come out as named errors
      programs[0].stdin.write(`ask ${ready[1][1]} /ip4/127.0.0.1/tcp/1 nobody there\n`)
      assert.match(await next[0](), /^(answer NOBODY THERE|error \w+Error ERR_\w+)$/)
      for (const p of programs) p.stdin.end('quit\n')
      const codes = await Promise.all(programs.map(async p => (await once(p, 'exit'))[0]))
      assert.deepEqual(codes, [0, 0])
    } finally {
      for (const p of programs) if (p.exitCode === null) p.kill('SIGKILL')
    }
  })

  it('docs/client.md carries the examples verbatim', () => {
    const doc = readFileSync(new URL('docs/client.md', ROOT), 'utf8')
    for (const name of ['echo.ts', 'peer.ts', 'pubsub.ts']) {
      const m = new RegExp(`<!-- example: ${name.replace('.', '\\.')} -->\\n\`\`\`ts\\n([\\s\\S]*?)\`\`\`\\n`).exec(doc)
      assert.ok(m !== null, `docs/client.md includes ${name}`)
      assert.equal(m[1], readFileSync(example(name), 'utf8'), `docs/client.md copy of ${name} is current`)
    }
  })
})
