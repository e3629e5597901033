#!/usr/bin/env node
// Bundles the daemon (dist/src/cli/entry.js, tsc's output) and its dependencies into one
// file, dist/libp2pd.mjs, which bin/libp2pd.js runs when LIBP2PD_BUNDLE=1. Node 20 resolves,
// reads and links each ES module file on its own: the daemon loads ~2,500 at start-up, which
// is most of its start (docs/operations.md, "Start-up time"). Harnesses that start daemons by
// the hundred (the interop suite ~300 times) gain; a long-running daemon does not, and pays
// in memory per open stream, so the bundle is not the default.
//
// Left out of the bundle, loaded from node_modules as before:
// - native addons (QUIC, the LevelDB datastore): a .node file cannot be bundled;
// - @libp2p/upnp-nat: its SSDP library reads its package.json relative to its own file.
// Names are kept (keepNames): bundling renames classes whose names two modules share, and
// some code matches on them (@peculiar/asn1-schema, which parses TLS certificates, checks
// `constructor.name === "Sequence"`; asn1js's Sequence would be Sequence2).
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
