// Interop suite, libp2pd ⇄ libp2pd: connect and pubsub.
import { runInteropPart } from './run-pairing.js'

runInteropPart('libp2pd-libp2pd', { name: 'connect+pubsub', groups: ['connect', 'pubsub'] })
