// Interop suite, libp2pd ⇄ libp2pd: the echo stream matrix (encryptions × muxers × directions) for secp256k1 keys.
import { runInteropPart } from './run-pairing.js'

runInteropPart('libp2pd-libp2pd', { name: 'streams secp256k1', groups: ['streams'], include: /^secp256k1\// })
