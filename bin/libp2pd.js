#!/usr/bin/env node
// Runs the daemon from dist/libp2pd.mjs, the one-file bundle `npm run build` makes from tsc's
// output (scripts/bundle.mjs): it starts in half the CPU of dist/src loaded file by file, with
// the same memory per stream (docs/operations.md, "Start-up time"). LIBP2PD_BUNDLE=0 runs
// dist/src instead, and so does a bundle older than dist/src, so that a bare `tsc` rebuild
// never runs stale code. (npm pack gives every file the same time: that is the bundle.)
import { statSync } from 'node:fs'

const modified = (file) => statSync(new URL(file, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1
const bundle = modified('../dist/libp2pd.mjs')
if (process.env.LIBP2PD_BUNDLE !== '0' && bundle >= 0 && bundle >= modified('../dist/src/cli/entry.js')) await import('../dist/libp2pd.mjs')
else await import('../dist/src/cli/entry.js')
