#!/usr/bin/env node
// Bundles the daemon (dist/src/cli/entry.js, tsc's output) and its dependencies into one
// file, dist/libp2pd.mjs, which bin/libp2pd.js runs. Node 20 resolves, reads and links each
// ES module file on its own: the unbundled daemon loads ~1,700 files at start-up and spends
// most of its ~1.7 s start there (docs/operations.md, "Start-up time"). Harnesses start
// daemons by the hundred (the interop suite ~300 times), so this is worth a build step.
//
// Left out of the bundle, loaded from node_modules as before:
// - native addons (QUIC, the LevelDB datastore): a .node file cannot be bundled;
// - @libp2p/upnp-nat: its SSDP library reads its package.json relative to its own file.
// Names are kept (keepNames): libp2p code and ours match errors by name, and bundling renames
// a class whose name two modules share.
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

const result = await build({
  absWorkingDir: root,
  entryPoints: ['dist/src/cli/entry.js'],
  outfile: 'dist/libp2pd.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  keepNames: true,
  external: ['@chainsafe/libp2p-quic', 'classic-level', '@libp2p/upnp-nat'],
  // CommonJS dependencies (fastify, pino, ...) call require() for Node's built-ins
  banner: { js: "import { createRequire as __libp2pdCreateRequire } from 'node:module'\nconst require = __libp2pdCreateRequire(import.meta.url)" },
  logLevel: 'warning',
  metafile: true
})
const inputs = Object.keys(result.metafile.inputs).length
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0)
console.log(`dist/libp2pd.mjs: ${inputs} modules, ${(bytes / 1e6).toFixed(1)} MB`)
