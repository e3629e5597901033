// Interop suite, libp2pd ⇄ libp2pd: the echo stream matrix (encryptions × muxers × directions) for rsa keys.
import { runInteropPart } from './run-pairing.js'

runInteropPart('libp2pd-libp2pd', { name: 'streams rsa', groups: ['streams'], include: /^rsa\// })
