/**
 * CONNMANAGER requests (go-libp2p-daemon's connmgr.go): TAG_PEER, UNTAG_PEER, TRIM.
 */
import { doTagPeer, doTrim, doUntagPeer } from '../../core/connmgr.js'
import { parsePeerId } from '../../core/parse.js'
import { Errors } from '../../errors.js'
import { ConnManagerRequest } from '../../proto/p2pd.js'
import { okResponse } from './responses.js'
import type { Reply, RequestContext } from './session.js'
import type { Request } from '../../proto/p2pd.js'

/** CONNMANAGER: dispatches on `connManager.type`. */
export async function connManager (rc: RequestContext, req: Request): Promise<Reply> {
  const c = req.connManager
  if (c === undefined || c.type === undefined) throw Errors.badRequest()
  const peer = (): ReturnType<typeof parsePeerId> => {
    if (c.peer === undefined || c.peer.byteLength === 0) throw Errors.badRequest('Malformed request; missing parameters: peer')
    return parsePeerId(c.peer)
  }
  switch (c.type) {
    case ConnManagerRequest.Type.TAG_PEER:
      await doTagPeer(rc.ctx, peer(), c.tag ?? '', Number(c.weight ?? 0n))
      return okResponse()
    case ConnManagerRequest.Type.UNTAG_PEER:
      await doUntagPeer(rc.ctx, peer(), c.tag ?? '')
      return okResponse()
    case ConnManagerRequest.Type.TRIM:
      await doTrim(rc.ctx)
      return okResponse()
    default:
      throw Errors.badRequest(`unknown connection manager request type ${String(c.type)}`)
  }
}
