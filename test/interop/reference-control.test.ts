// The whole interop suite with the reference daemon on both sides: the control that proves the harness.
import { runInteropPart } from './run-pairing.js'

runInteropPart('reference-reference', { name: 'all', groups: ['connect', 'relay', 'dht', 'pubsub', 'streams'], concurrency: 4 })
