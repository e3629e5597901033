// Interop suite, libp2pd ⇄ reference daemon: connect and circuit relay v2.
import { runInteropPart } from './run-pairing.js'

runInteropPart('libp2pd-reference', { name: 'connect+relay', groups: ['connect', 'relay'] })
