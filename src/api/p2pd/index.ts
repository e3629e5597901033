import { listenOn } from '../../net/listen.js'
import type { CoreContext } from '../../core/context.js'
import type { Endpoint } from '../../net/endpoint.js'
import type { ControlPlane } from '../plane.js'

/** Starts the p2pd control protocol on `endpoint`. (Placeholder: being implemented.) */
export async function startP2pdPlane (ctx: CoreContext, endpoint: Endpoint): Promise<ControlPlane> {
  const listener = await listenOn(endpoint, socket => { socket.destroy() })
  void ctx
  return { address: listener.address, close: async () => { await listener.close() } }
}
