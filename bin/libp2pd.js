#!/usr/bin/env node
// The polyfill must load before any libp2p module (Node 20 lacks Promise.withResolvers).
import '../dist/src/polyfill.js'
const { run } = await import('../dist/src/cli/main.js')
run()
