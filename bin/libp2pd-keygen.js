#!/usr/bin/env node
import '../dist/src/polyfill.js'
const { keygen } = await import('../dist/src/cli/keygen.js')
process.exitCode = await keygen(process.argv.slice(2))
