// Pubsub between two daemons: subscribe on one, publish on the other.
// Run: node --import tsx examples/typescript/pubsub.ts
import { spawnDaemon } from 'libp2pd/client'

// floodsub: see docs/client.md for why the default router is not used here
const options = { pubsub: true, pubsubRouter: 'floodsub' } as const
const [alice, bob] = await Promise.all([spawnDaemon(options), spawnDaemon(options)])
try {
  await alice.client.connect(bob.peerId, bob.addrs)
  const subscription = bob.client.pubsub.subscribe('news')
  await subscription.ready() // the daemon is subscribed from here on

  // wait until Alice's daemon knows that Bob listens, then publish
  while ((await alice.client.pubsub.peers('news')).length === 0) await new Promise(resolve => setTimeout(resolve, 100))
  await alice.client.pubsub.publish('news', 'libp2pd speaks TypeScript')

  for await (const message of subscription) {
    console.log(`${message.from === alice.peerId ? 'alice' : message.from} says: ${new TextDecoder().decode(message.data)}`)
    break // leaving the loop ends the subscription
  }
} finally {
  await Promise.all([alice.stop(), bob.stop()])
}
