// Interop suite, libp2pd ⇄ reference daemon: kad-DHT and pubsub.
import { runInteropPart } from './run-pairing.js'

runInteropPart('libp2pd-reference', { name: 'dht+pubsub', groups: ['dht', 'pubsub'] })
