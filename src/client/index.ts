/**
 * `libp2pd/client`: control a libp2pd daemon from TypeScript. Imports nothing from the
 * daemon and nothing from libp2p: peer IDs and multiaddrs are strings.
 *
 * @example
 * ```ts
 * import { spawnDaemon } from 'libp2pd/client'
 * const daemon = await spawnDaemon()
 * console.log(await daemon.client.identity())
 * await daemon.stop()
 * ```
 */
export { Libp2pdClient, createClient } from './client.js'
export type { ClientOptions, HandleOptions, OpenStreamOptions } from './client.js'
export { Libp2pdStream } from './stream-socket.js'
export type { StreamHandler, CallbackKind, ErrorReporter } from './callback-server.js'
export { Subscription } from './subscription.js'
export type { DhtApi, PubsubApi, ConnmgrApi, PeerstoreApi } from './services.js'
export { spawnDaemon, attach, defaultDaemonCommand, daemonArgs, DAEMON_NODE_FLAGS } from './spawn.js'
export type { SpawnOptions, SpawnedDaemon } from './spawn.js'
export { parseEndpoint } from './transport.js'
export type { Endpoint } from './transport.js'
export {
  Libp2pdError, BadRequestError, UnauthorizedError, PeerNotFoundError, StreamNotFoundError, HandlerNotFoundError, NotFoundError,
  ServiceNotEnabledError, ConflictError, LimitReachedError, DialFailedError, ProtocolNotSupportedError, StreamResetError,
  TimeoutError, AbortError, DaemonUnreachableError, errorFromResponse
} from './errors.js'
export type * from './types.js'
