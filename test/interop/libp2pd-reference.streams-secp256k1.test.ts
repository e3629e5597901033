// Interop suite, libp2pd ⇄ reference daemon: the echo stream matrix (encryptions × muxers × directions) for secp256k1 keys.
import { runInteropPart } from './run-pairing.js'

runInteropPart('libp2pd-reference', { name: 'streams secp256k1', groups: ['streams'], include: /^secp256k1\// })
