/**
 * Which build `bin/libp2pd.js` runs: tsc's output (dist/src) by default, the one-file bundle
 * (dist/libp2pd.mjs) with LIBP2PD_BUNDLE=1 unless it is missing or older than dist/src (a
 * bare `tsc` rebuild must not run a stale bundle). The choice is checked on a copy of the
 * shim next to stand-in builds that say who they are; both real builds are started too.
 */
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { BIN, runToExit, startDaemon, tempDir } from './cli-harness.js'

/** A copy of the shim with stand-ins for both builds; returns the copy's path. */
function standIns (dir: string): { bin: string, bundle: string, tsc: string } {
  mkdirSync(path.join(dir, 'bin'))
  mkdirSync(path.join(dir, 'dist', 'src', 'cli'), { recursive: true })
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}')
  const bin = path.join(dir, 'bin', 'libp2pd.js')
  copyFileSync(BIN, bin)
  const bundle = path.join(dir, 'dist', 'libp2pd.mjs')
  const tsc = path.join(dir, 'dist', 'src', 'cli', 'entry.js')
  writeFileSync(bundle, 'console.log("bundle")\n')
  writeFileSync(tsc, 'console.log("tsc")\n')
  return { bin, bundle, tsc }
}

const at = (file: string, seconds: number): void => { utimesSync(file, seconds, seconds) }

describe('which build the binary runs', { concurrency: true }, () => {
  it("tsc's output by default and with LIBP2PD_BUNDLE=0", async () => {
    const { bin } = standIns(tempDir())
    assert.equal((await runToExit([], { bin, env: { LIBP2PD_BUNDLE: undefined } })).stdout, 'tsc\n')
    assert.equal((await runToExit([], { bin, env: { LIBP2PD_BUNDLE: '0' } })).stdout, 'tsc\n')
  })

  it('LIBP2PD_BUNDLE=1: the bundle, also at the same time (npm pack), but not when older or missing', async () => {
    const { bin, bundle, tsc } = standIns(tempDir())
    const run = async (): Promise<string> => (await runToExit([], { bin, env: { LIBP2PD_BUNDLE: '1' } })).stdout
    assert.equal(await run(), 'bundle\n')
    at(bundle, 499_162_000)
    at(tsc, 499_162_000)
    assert.equal(await run(), 'bundle\n')
    at(tsc, 499_162_001)
    assert.equal(await run(), 'tsc\n')
    at(bundle, 499_162_002)
    assert.equal(await run(), 'bundle\n')
    rmSync(bundle)
    assert.equal(await run(), 'tsc\n')
  })

  it('both real builds start and stop cleanly', async () => {
    for (const LIBP2PD_BUNDLE of ['1', '0']) {
      const daemon = await startDaemon([], { env: { LIBP2PD_BUNDLE } })
      assert.match(daemon.banner.peerId, /^12D3KooW/, `LIBP2PD_BUNDLE=${LIBP2PD_BUNDLE}`)
      assert.equal(await daemon.stop(), 143, `LIBP2PD_BUNDLE=${LIBP2PD_BUNDLE}`)
    }
  })
})
