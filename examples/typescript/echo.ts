// Two daemons in one program: one serves an echo protocol, the other calls it.
// Run: node --import tsx examples/typescript/echo.ts
import { spawnDaemon } from 'libp2pd/client'

const server = await spawnDaemon()
const caller = await spawnDaemon()
try {
  // every incoming stream of the protocol is a Node Duplex: pipe it back to itself
  await server.client.handle('/echo-example/1.0.0', stream => { stream.pipe(stream) })

  await caller.client.peers.add(server.peerId, server.addrs)
  const stream = await caller.client.openStream(server.peerId, '/echo-example/1.0.0')
  stream.end('hello, libp2p') // half-close: we are done writing, but keep reading
  let answer = ''
  for await (const chunk of stream) answer += String(chunk)
  console.log(`echoed: ${answer}`)
} finally {
  await Promise.all([server.stop(), caller.stop()])
}
