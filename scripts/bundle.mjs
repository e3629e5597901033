#!/usr/bin/env node
// Bundles the daemon (dist/src/cli/entry.js, tsc's output) and its dependencies into one
// file, dist/libp2pd.mjs, which bin/libp2pd.js runs when LIBP2PD_BUNDLE=1. Node 20
// resolves, reads and links each ES module file on its own: the daemon loads ~2,500 at
// start-up, which is most of its start (docs/operations.md, "Start-up time").
//
// Left out of the bundle, loaded from node_modules as before:
// - native addons (QUIC, the LevelDB datastore): a .node file cannot be bundled;
// - @libp2p/upnp-nat: its SSDP library reads its package.json relative to its own file.
// Names are kept (keepNames): bundling renames classes whose names two modules share, and
// some code matches on them (@peculiar/asn1-schema, which parses TLS certificates, checks
// `constructor.name === "Sequence"`; asn1js's Sequence would be Sequence2). Two rewrites of
// esbuild's output keep the bundle's memory at the unbundled daemon's: see keepNamesCheaply
// and asciiOnly below.
import { build } from 'esbuild'
import { tokenizer, tokTypes } from 'acorn'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const outfile = 'dist/libp2pd.mjs'

/**
 * keepNames wraps every named function in `__name(fn, "name")`, which redefines `name` on the
 * function object, and V8 then gives that function a dictionary of its own properties (~256
 * bytes). On the closures made per stream (listeners, abort handlers: ~38 a stream) that
 * cost 9.7 MB per 1,000 idle streams in each daemon (heap snapshots). Our __name leaves a
 * function alone when its name is already right, or when it is an anonymous arrow, async
 * function or method (no `prototype`): those are the per-call closures, and nothing matches
 * on their names. Renamed classes and functions (Sequence2) still get their names back.
 */
function keepNamesCheaply (code) {
  const helper = /^var __name = \(target, (value\d*)\) => __defProp\(target, "name", \{ value: \1, configurable: true \}\);$/m
  if (!helper.test(code)) throw new Error('scripts/bundle.mjs: esbuild\'s __name helper changed shape; review keepNamesCheaply')
  return code.replace(helper, () => 'var __name = (target, value) => target.name === value || ' +
    '(target.name === "" && !Object.hasOwn(target, "prototype")) ? target : __defProp(target, "name", { value, configurable: true });')
}

/**
 * V8 keeps a script's source in memory for lazy compilation, at one byte a character only if
 * every character is Latin-1. esbuild escapes strings and identifiers but writes comments and
 * regular expressions as they are, and a few (a µ in our duration parser, doc comments of
 * dependencies) made the whole bundle a two-byte string: 16 MB instead of 8 in each daemon.
 * A \uXXXX escape means the same character in a regular expression, and anything in a comment
 * can go, so those are escaped. Anywhere else (a tagged template's raw text, where an escape
 * would change the value) the character is left and the build warns.
 */
function asciiOnly (code) {
  const ranges = []
  for (const token of tokenizer(code, { ecmaVersion: 'latest', sourceType: 'module', onComment: (_block, _text, start, end) => ranges.push([start, end]) })) {
    if (token.type === tokTypes.regexp) ranges.push([token.start, token.end])
  }
  ranges.sort((a, b) => a[0] - b[0])
  const escape = (text) => text.replace(/[^\0-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  let out = ''
  let at = 0
  for (const [start, end] of ranges) {
    if (start < at) continue
    out += code.slice(at, start) + escape(code.slice(start, end))
    at = end
  }
  out += code.slice(at)
  const left = /[^\0-\xff]/.exec(out)
  if (left != null) {
    console.warn(`scripts/bundle.mjs: a character past Latin-1 outside comments and regular expressions (${JSON.stringify(out.slice(left.index - 40, left.index + 40))}); the bundle's source will take two bytes a character in memory`)
  }
  return out
}

const result = await build({
  absWorkingDir: root,
  entryPoints: ['dist/src/cli/entry.js'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  keepNames: true,
  external: ['@chainsafe/libp2p-quic', 'classic-level', '@libp2p/upnp-nat'],
  // CommonJS dependencies (fastify, pino, ...) call require() for Node's built-ins
  banner: { js: "import { createRequire as __libp2pdCreateRequire } from 'node:module'\nconst require = __libp2pdCreateRequire(import.meta.url)" },
  logLevel: 'warning',
  metafile: true,
  write: false
})
const [output] = result.outputFiles
const code = asciiOnly(keepNamesCheaply(output.text))
writeFileSync(output.path, code)
const inputs = Object.keys(result.metafile.inputs).length
console.log(`${outfile}: ${inputs} modules, ${(code.length / 1e6).toFixed(1)} MB`)
