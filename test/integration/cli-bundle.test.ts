/**
 * Which build `bin/libp2pd.js` runs: the one-file bundle (dist/libp2pd.mjs) by default,
 * tsc's output (dist/src) with LIBP2PD_BUNDLE=0 or when the bundle is missing or older (a
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
  it('the bundle by default, also when both files have the same time (npm pack)', async () => {
    const { bin, bundle, tsc } = standIns(tempDir())
    const env = { LIBP2PD_BUNDLE: undefined }
    assert.equal((await runToExit([], { bin, env })).stdout, 'bundle\n')
    at(bundle, 499_162_000)
    at(tsc, 499_162_000)
    assert.equal((await runToExit([], { bin, env })).stdout, 'bundle\n')
  })

  it("tsc's output with LIBP2PD_BUNDLE=0, when the bundle is older, or missing", async () => {
    const { bin, bundle, tsc } = standIns(tempDir())
    const run = async (env: NodeJS.ProcessEnv = { LIBP2PD_BUNDLE: undefined }): Promise<string> => (await runToExit([], { bin, env })).stdout
    assert.equal(await run({ LIBP2PD_BUNDLE: '0' }), 'tsc\n')
    assert.equal(await run({ LIBP2PD_BUNDLE: '1' }), 'bundle\n')
    at(bundle, 1_000_000_000)
    at(tsc, 1_000_000_001)
    assert.equal(await run(), 'tsc\n')
    at(bundle, 1_000_000_002)
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
