import { AGENT_VERSION, PROTOCOL_VERSION, VERSION } from '../host/version.js'
import type { CoreContext } from './context.js'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'

/** The daemon's identity: who it is, where it listens, what it speaks. */
export interface Identity {
  peerId: PeerId
  /** Listen/announce addresses without the `/p2p/<id>` suffix (as p2pd reports them). */
  addrs: Multiaddr[]
  protocols: string[]
  agentVersion: string
  version: string
  protocolVersion: string
}

/** Returns the daemon's identity. */
export function doIdentify (ctx: CoreContext): Identity {
  const { node } = ctx
  return {
    peerId: node.peerId,
    addrs: node.getMultiaddrs().map(ma => ma.decapsulateCode(421)),
    protocols: node.getProtocols(),
    agentVersion: AGENT_VERSION,
    version: VERSION,
    protocolVersion: PROTOCOL_VERSION
  }
}
