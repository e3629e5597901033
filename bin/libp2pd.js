#!/usr/bin/env node
// Runs the daemon from tsc's output (dist/src). LIBP2PD_BUNDLE=1 runs the one-file bundle
// dist/libp2pd.mjs instead (scripts/bundle.mjs): half the CPU to start, for harnesses that
// start daemons by the hundred; at steady state it was not faster (docs/operations.md,
// "Start-up time"). A bundle older than dist/src is not run, so that a bare `tsc` rebuild
// never runs stale code. (npm pack gives every file the same time: that runs the bundle.)
import { statSync } from 'node:fs'

const modified = (file) => statSync(new URL(file, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1
const bundle = modified('../dist/libp2pd.mjs')
if (process.env.LIBP2PD_BUNDLE === '1' && bundle >= 0 && bundle >= modified('../dist/src/cli/entry.js')) await import('../dist/libp2pd.mjs')
else await import('../dist/src/cli/entry.js')
