// Interop suite, libp2pd ⇄ libp2pd: connect and circuit relay v2.
import { runInteropPart } from './run-pairing.js'

runInteropPart('libp2pd-libp2pd', { name: 'connect+relay', groups: ['connect', 'relay'] })
