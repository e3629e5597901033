// Interop suite, libp2pd ⇄ libp2pd: kad-DHT and pubsub.
import { runInteropPart } from './run-pairing.js'

runInteropPart('libp2pd-libp2pd', { name: 'dht+pubsub', groups: ['dht', 'pubsub'] })
