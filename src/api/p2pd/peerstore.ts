/**
 * PEERSTORE requests of the JS/py dialect (`Request.Type 9` with a `peerStore` field):
 * GET_PROTOCOLS (the protocols a peer is known to speak) and GET_PEER_INFO (its
 * addresses and protocols), which the JS daemon declares but never implemented.
 */
import { doGetPeerRecord, doGetProtocols } from '../../core/peerstore.js'
import { parsePeerId } from '../../core/parse.js'
import { Errors } from '../../errors.js'
import { PeerstoreRequest } from '../../proto/p2pd.js'
import { okResponse, peerInfo } from './responses.js'
import type { Reply, RequestContext } from './session.js'
import type { Request } from '../../proto/p2pd.js'

/** PEERSTORE: dispatches on `peerStore.type`. */
export async function peerStore (rc: RequestContext, req: Request): Promise<Reply> {
  const p = req.peerStore
  if (p === undefined || p.id === undefined || p.id.byteLength === 0) throw Errors.badRequest()
  const peer = parsePeerId(p.id)
  switch (p.type) {
    case PeerstoreRequest.Type.GET_PROTOCOLS:
      return okResponse({ peerStore: { protos: await doGetProtocols(rc.ctx, peer) } })
    case PeerstoreRequest.Type.GET_PEER_INFO: {
      const rec = await doGetPeerRecord(rc.ctx, peer)
      return okResponse({ peerStore: { peer: peerInfo(rec.peerId, rec.addrs), protos: rec.protocols } })
    }
    default:
      throw Errors.badRequest(`unknown peerstore request type ${String(p.type)}`)
  }
}
