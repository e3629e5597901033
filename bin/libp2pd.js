#!/usr/bin/env node
// Runs the bundled daemon (dist/libp2pd.mjs, built by `npm run build`; scripts/bundle.mjs
// says why). LIBP2PD_UNBUNDLED=1 runs tsc's output file by file instead: stack traces then
// name the files of dist/src and node_modules.
if (process.env.LIBP2PD_UNBUNDLED === '1') await import('../dist/src/cli/entry.js')
else await import('../dist/libp2pd.mjs')
