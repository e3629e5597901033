/**
 * Handler lookups that miss without capturing a stack. Every stream js-libp2p opens asks
 * the registrar for the local handler of its protocol (`findOutgoingStreamLimit` in
 * `libp2p/dist/src/connection.js`, to read its `maxOutboundStreams`), and a daemon opens
 * streams for protocols it does not handle itself. The registrar answers a miss by throwing
 * a new `UnhandledProtocolError`, which js-libp2p catches and ignores at once. Capturing
 * that error's stack is most of the cost: 4.8 µs per miss under eight async frames in a
 * microbenchmark, 1.8 µs without (docs/performance.md).
 *
 * The miss still throws an `UnhandledProtocolError` (callers test `err.name`) with the
 * same message, built with `Error.stackTraceLimit = 0`. A hit returns what it always did.
 * A registrar of another shape is left as it is (`patchHandlerLookups` returns false; a
 * unit test pins the installed shape).
 */
import { withoutStack } from '../errors.js'

/** The registrar's miss, as js-libp2p names it (`libp2p/src/errors.ts` is not exported). */
export class UnhandledProtocolError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UnhandledProtocolError'
  }
}

/** The part of js-libp2p's `Registrar` (3.x) this module touches. */
interface RegistrarShape {
  handlers: Map<string, unknown>
  getHandler: (protocol: string) => unknown
}

function hasShape (registrar: unknown): registrar is RegistrarShape {
  const r = registrar as Partial<RegistrarShape> | undefined
  return r?.handlers instanceof Map && typeof r.getHandler === 'function'
}

/**
 * Makes `registrar.getHandler` throw its miss without a stack. Returns false (and changes
 * nothing) when the registrar does not have the shape this was written for.
 */
export function patchHandlerLookups (registrar: unknown): boolean {
  if (!hasShape(registrar)) return false
  const handlers = registrar.handlers
  registrar.getHandler = function getHandler (protocol: string): unknown {
    const handler = handlers.get(protocol)
    if (handler == null) throw withoutStack(() => new UnhandledProtocolError(`No handler registered for protocol ${protocol}`))
    return handler
  }
  return true
}
