// Interop suite, libp2pd ⇄ reference daemon: the echo stream matrix (encryptions × muxers × directions) for rsa keys.
import { runInteropPart } from './run-pairing.js'

runInteropPart('libp2pd-reference', { name: 'streams rsa', groups: ['streams'], include: /^rsa\// })
