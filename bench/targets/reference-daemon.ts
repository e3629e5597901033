/**
 * Child-process entry for one reference JS daemon: `@libp2p/daemon-server` around a real
 * js-libp2p node (TCP + noise + yamux). Sends `{ control, peerId, addrs }` over IPC once
 * listening. Usage: node --import tsx reference-daemon.ts <control multiaddr>
 */
import '../../src/polyfill.ts'
import { createServer } from '@libp2p/daemon-server'
import { multiaddr } from '@multiformats/multiaddr'
import { exitWithParent } from '../child.ts'
import { createBenchNode } from './libp2p-node.ts'

exitWithParent()

const node = await createBenchNode()
// daemon-server 9.x types the node as carrying dht and pubsub services, but the code only
// builds DHT/PubSub operations when they are present (`services.dht != null`) and never
// touches them on the stream path, so a node without them is a faithful stream daemon.
const server = createServer(multiaddr(process.argv[2]), node as any)
await server.start()

process.send?.({
  control: server.getMultiaddr().toString(),
  peerId: node.peerId.toString(),
  addrs: node.getMultiaddrs().map((ma) => ma.toString())
})
