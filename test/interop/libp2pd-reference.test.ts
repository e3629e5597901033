// Interop suite, libp2pd ⇄ reference daemon: connect, circuit relay v2, kad-DHT and pubsub.
import { runInteropPart } from './run-pairing.js'

runInteropPart('libp2pd-reference', { name: 'connect+relay+dht+pubsub', groups: ['connect', 'relay', 'dht', 'pubsub'] })
