// Interop suite, libp2pd ⇄ libp2pd: kad-DHT content fetching, content routing, peer routing.
import { runInteropPart } from './run-pairing.js'

runInteropPart('libp2pd-libp2pd', { name: 'dht', groups: ['dht'] })
