// One program with its own daemon: it answers "/shout/1.0.0" requests (upper-cases
// them) and, when told, asks another peer. Start two of them and introduce them:
//
//   node --import tsx examples/typescript/peer.ts      # prints: ready <peerId> <addr>
//   then type on its stdin:  ask <peerId> <addr> <text>    (prints: answer <TEXT>)
//                            quit
import { createInterface } from 'node:readline'
import { spawnDaemon } from 'libp2pd/client'
import type { Libp2pdStream } from 'libp2pd/client'

const PROTOCOL = '/shout/1.0.0'

async function readAll (stream: Libp2pdStream): Promise<string> {
  let text = ''
  for await (const chunk of stream) text += String(chunk)
  return text
}

const daemon = await spawnDaemon()
const { client } = daemon

// request/response: read the whole request (until the caller half-closes), then answer
await client.handle(PROTOCOL, async stream => {
  const request = await readAll(stream)
  stream.end(request.toUpperCase())
})
console.log(`ready ${daemon.peerId} ${daemon.addrs[0]}`)

for await (const line of createInterface({ input: process.stdin })) {
  const [command, peerId, addr, ...words] = line.trim().split(' ')
  if (command === 'quit') break
  if (command !== 'ask') continue
  try {
    await client.peers.add(peerId, [addr])
    const stream = await client.openStream(peerId, PROTOCOL, { timeout: 10_000 })
    stream.end(words.join(' '))
    console.log(`answer ${await readAll(stream)}`)
  } catch (err: any) {
    // every failure is a named Libp2pdError: err.name, err.code and err.status say what happened
    console.log(`error ${err.name} ${err.code}`)
  }
}
await daemon.stop()
