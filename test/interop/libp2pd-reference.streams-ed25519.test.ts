// Interop suite, libp2pd ⇄ reference daemon: the echo stream matrix (encryptions × muxers × directions) for ed25519 keys.
import { runInteropPart } from './run-pairing.js'

runInteropPart('libp2pd-reference', { name: 'streams ed25519', groups: ['streams'], include: /^ed25519\// })
