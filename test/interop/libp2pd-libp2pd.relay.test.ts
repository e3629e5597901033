// Interop suite, libp2pd ⇄ libp2pd: circuit relay v2.
import { runInteropPart } from './run-pairing.js'

runInteropPart('libp2pd-libp2pd', { name: 'relay', groups: ['relay'] })
