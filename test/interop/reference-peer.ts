/**
 * The reference daemon: an in-process `@libp2p/daemon-server` around a real js-libp2p node,
 * configured from the interop suite's `SpawnOptions` the way js-libp2p's own interop runner
 * configures its JS peers (one encrypter, one muxer, identify + ping, optional floodsub or
 * gossipsub, relay server and kad-DHT server on `/ipfs/kad/1.0.0`).
 */
import { readFile } from 'node:fs/promises'
import { gossipsub } from '@libp2p/gossipsub'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { createClient } from '@libp2p/daemon-client'
import { createServer } from '@libp2p/daemon-server'
import { floodsub } from '@libp2p/floodsub'
import { identify } from '@libp2p/identify'
import { UnsupportedError } from '@libp2p/interop'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { mplex } from '@libp2p/mplex'
import { ping } from '@libp2p/ping'
import { plaintext } from '@libp2p/plaintext'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { Daemon, SpawnOptions } from '@libp2p/interop'

function encrypter (options: SpawnOptions): (components: any) => unknown {
  if (options.encryption === 'tls') return tls()
  if (options.encryption === 'plaintext') return plaintext()
  return noise()
}

function muxer (options: SpawnOptions): (components: any) => unknown {
  return options.muxer === 'mplex' ? mplex() : yamux()
}

/** Starts a reference daemon for `options`; throws `UnsupportedError` for transports not installed here. */
export async function spawnReferencePeer (options: SpawnOptions): Promise<Daemon> {
  // @libp2p/webrtc and a WebTransport listener are not dependencies of this project
  if (options.transport !== undefined && options.transport !== 'tcp') {
    throw new UnsupportedError(`the reference peer has no ${options.transport} transport here`)
  }
  const privateKey = options.key !== undefined ? privateKeyFromProtobuf(await readFile(options.key)) : undefined

  const services: Record<string, (components: any) => unknown> = {
    identify: identify(),
    ping: ping()
  }
  if (options.pubsub === true) {
    services.pubsub = options.pubsubRouter === 'floodsub' ? floodsub() : gossipsub() as any
  }
  if (options.relay === true) services.relay = circuitRelayServer()
  if (options.dht === true) {
    services.dht = kadDHT({ protocol: '/ipfs/kad/1.0.0', peerInfoMapper: passthroughMapper, clientMode: false })
  }

  const node = await createLibp2p({
    privateKey,
    addresses: { listen: options.noListen === true ? [] : ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp(), circuitRelayTransport()],
    connectionEncrypters: [encrypter(options)],
    streamMuxers: [muxer(options)],
    services
  } as any)

  const server = createServer(multiaddr('/ip4/127.0.0.1/tcp/0'), node as any)
  try {
    await server.start()
  } catch (err) {
    await node.stop()
    throw err
  }

  let stopped: Promise<void> | undefined
  return {
    client: createClient(server.getMultiaddr()),
    // idempotent: the suite's hooks and the factory's sweep may both stop a peer
    stop: async () => {
      stopped ??= (async () => {
        await server.stop()
        await node.stop()
      })()
      await stopped
    }
  }
}
