// Interop suite, libp2pd ⇄ reference daemon: the echo stream matrix (key types × encryptions × muxers).
import { runInteropPart } from './run-pairing.js'

runInteropPart('libp2pd-reference', { name: 'streams', groups: ['streams'] })
