/**
 * Who the daemon is: `GET /api/daemon/identity` and `GET /api/daemon/version`.
 */
import { doIdentify } from '../../../core/identity.js'
import { PROTOCOL_VERSION, VERSION } from '../../../host/version.js'
import { IdentitySchema, VersionSchema, errorResponses } from '../schemas.js'
import type { App, HttpContext } from '../http-context.js'

/** Registers the identity routes. */
export function identityRoutes (app: App, hctx: HttpContext): void {
  app.get('/api/daemon/identity', {
    schema: { tags: ['identity'], summary: 'The daemon\'s peer ID, listen addresses and protocols', response: { 200: IdentitySchema, ...errorResponses() } }
  }, async () => {
    const id = doIdentify(hctx.core)
    return {
      peerID: id.peerId.toString(),
      addresses: id.addrs.map(a => a.toString()),
      protocols: id.protocols,
      agentVersion: id.agentVersion,
      version: id.version
    }
  })

  app.get('/api/daemon/version', {
    schema: { tags: ['identity'], summary: 'Daemon and protocol version', response: { 200: VersionSchema, ...errorResponses() } }
  }, async () => ({ name: 'libp2pd', version: VERSION, protocolVersion: PROTOCOL_VERSION }))
}
