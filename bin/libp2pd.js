#!/usr/bin/env node
// Runs the daemon from tsc's output (dist/src). LIBP2PD_BUNDLE=1 runs the one-file bundle
// dist/libp2pd.mjs instead (scripts/bundle.mjs): half the CPU to start, for harnesses that
// start daemons by the hundred, at a cost in memory per open stream (docs/operations.md,
// "Start-up time").
if (process.env.LIBP2PD_BUNDLE === '1') await import('../dist/libp2pd.mjs')
else await import('../dist/src/cli/entry.js')
