import { listenOn } from '../../net/listen.js'
import type { CoreContext } from '../../core/context.js'
import type { Endpoint } from '../../net/endpoint.js'
import type { ControlPlane } from '../plane.js'

/** Starts the HTTP API on `endpoint`. (Placeholder: being implemented.) */
export async function startHttpPlane (ctx: CoreContext, endpoint: Endpoint): Promise<ControlPlane> {
  const listener = await listenOn(endpoint, socket => { socket.destroy() })
  void ctx
  return { address: listener.address, close: async () => { await listener.close() } }
}
