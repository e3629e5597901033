/**
 * The one registry of protocol handlers, shared by both control planes: a protocol
 * registered over HTTP or over p2pd is served the same way. Each protocol has one or more
 * targets (an HTTP callback, a p2pd client address, a hivemind unary connection); inbound
 * streams go to them round-robin. The libp2p handler is installed with the first target
 * and removed with the last.
 */
import { Errors } from '../errors.js'
import type { StreamTable } from './table.js'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'

/** Where inbound streams for a protocol are delivered. */
export interface HandlerTarget {
  /** Identifies the target within a protocol (callback URL, client multiaddr, connection id). */
  key: string
  kind: 'http' | 'p2pd' | 'unary'
  /** Human-readable address for listings. */
  address: string
  /**
   * Takes ownership of an inbound stream. Rejecting (or throwing) makes the registry reset
   * the stream; once resolved, the target is responsible for it.
   */
  deliver: (stream: Stream, connection: Connection) => Promise<void>
}

/** How a registration treats targets already registered for the protocol. */
export type RegisterMode =
  /** replace all existing targets (upstream p2pd, HTTP default) */
  | 'replace'
  /** add to the round-robin set (`balanced: true`) */
  | 'balanced'
  /** fail with ERR_HANDLER_EXISTS if another target exists (hivemind non-balanced) */
  | 'exclusive'

/** A protocol and its targets, for listings. */
export interface HandlerListing {
  protocol: string
  targets: Array<{ kind: HandlerTarget['kind'], address: string }>
}

interface Entry {
  targets: HandlerTarget[]
  next: number
}

/**
 * Most protocols in one request (handler registration, the HTTP schema's `maxItems` too).
 * js-libp2p rewrites the daemon's own peer record for every protocol it handles, in time
 * that grows with how many it handles, with the event loop held: 10,000 in one p2pd
 * request blocked a daemon for 28 s (found by fuzzing).
 */
export const MAX_PROTOCOLS_PER_REQUEST = 64

/** Most protocols the daemon handles at once, for the same reason. */
export const MAX_HANDLED_PROTOCOLS = 1024

/** Options of the registry. */
export interface HandlerRegistryOptions {
  /** Max concurrent inbound streams per protocol per connection. @default 16384 */
  maxInboundStreams?: number
  /**
   * The stream table whose limits (total, per peer, per protocol) inbound streams respect:
   * an inbound stream beyond a limit is reset at once and never reaches a program.
   */
  streams?: StreamTable
}

/** The registry of protocol handlers. */
export class HandlerRegistry {
  private readonly entries = new Map<string, Entry>()
  private readonly maxInboundStreams: number
  private readonly streams?: StreamTable

  constructor (private readonly node: Libp2p, private readonly log: Logger, options: HandlerRegistryOptions = {}) {
    this.maxInboundStreams = options.maxInboundStreams ?? 16384
    this.streams = options.streams
  }

  /** Registers `target` for each protocol. */
  async add (protocols: string[], target: HandlerTarget, mode: RegisterMode): Promise<void> {
    if (protocols.length > MAX_PROTOCOLS_PER_REQUEST) throw Errors.badRequest(`${protocols.length} protocols in one request; at most ${MAX_PROTOCOLS_PER_REQUEST}`)
    const added = new Set(protocols.filter(p => !this.entries.has(p))).size
    if (this.entries.size + added > MAX_HANDLED_PROTOCOLS) throw Errors.limitReached(`the daemon would handle ${this.entries.size + added} protocols; at most ${MAX_HANDLED_PROTOCOLS}`)
    for (const protocol of protocols) {
      const entry = this.entries.get(protocol)
      if (entry !== undefined && mode === 'exclusive' && entry.targets.some(t => t.key !== target.key)) {
        throw Errors.handlerExists(`handler for protocol ${protocol} already set`)
      }
    }
    for (const protocol of protocols) {
      let entry = this.entries.get(protocol)
      if (entry === undefined) {
        entry = { targets: [], next: 0 }
        this.entries.set(protocol, entry)
        try {
          await this.node.handle(protocol, (stream, connection) => { this.dispatch(protocol, stream, connection) }, {
            runOnLimitedConnection: true,
            maxInboundStreams: this.maxInboundStreams,
            maxOutboundStreams: this.maxInboundStreams,
            force: true
          })
        } catch (err) {
          this.entries.delete(protocol)
          throw err
        }
      }
      if (mode === 'balanced') {
        entry.targets = entry.targets.filter(t => t.key !== target.key)
        entry.targets.push(target)
      } else {
        entry.targets = [target]
      }
    }
  }

  /**
   * Removes the target `key` from each protocol (or every target if `key` is undefined).
   *
   * @throws ERR_HANDLER_NOT_FOUND if a protocol (or the key in it) is not registered
   */
  async remove (protocols: string[], key?: string): Promise<void> {
    for (const protocol of protocols) {
      const entry = this.entries.get(protocol)
      if (entry === undefined || (key !== undefined && !entry.targets.some(t => t.key === key))) {
        throw Errors.handlerNotFound(`no handler for protocol ${protocol}${key !== undefined ? ` at ${key}` : ''}`)
      }
    }
    for (const protocol of protocols) {
      const entry = this.entries.get(protocol)
      if (entry === undefined) continue
      entry.targets = key === undefined ? [] : entry.targets.filter(t => t.key !== key)
      if (entry.targets.length === 0) {
        this.entries.delete(protocol)
        await this.node.unhandle(protocol)
      }
    }
  }

  /** Removes `key` from every protocol it serves (its owner went away). */
  async removeTarget (key: string): Promise<void> {
    const protocols = [...this.entries].filter(([, e]) => e.targets.some(t => t.key === key)).map(([p]) => p)
    if (protocols.length > 0) await this.remove(protocols, key)
  }

  /** The protocols this registry serves and their targets. */
  list (): HandlerListing[] {
    return [...this.entries].map(([protocol, e]) => ({
      protocol,
      targets: e.targets.map(t => ({ kind: t.kind, address: t.address }))
    }))
  }

  has (protocol: string): boolean {
    return this.entries.has(protocol)
  }

  /**
   * Whether every inbound stream on `protocol` goes to hivemind unary handlers, which always
   * answer the caller's request on the stream (or reset it): request/response by definition.
   */
  answersEveryStream (protocol: string): boolean {
    const targets = this.entries.get(protocol)?.targets
    return targets !== undefined && targets.length > 0 && targets.every(t => t.kind === 'unary')
  }

  private dispatch (protocol: string, stream: Stream, connection: Connection): void {
    const entry = this.entries.get(protocol)
    if (entry === undefined || entry.targets.length === 0) {
      stream.abort(Errors.handlerNotFound(`no handler for ${protocol}`))
      return
    }
    let release = (): void => {}
    try {
      // held until the target has put the stream in the table (or failed to)
      if (this.streams !== undefined) release = this.streams.reserve(connection.remotePeer.toString(), protocol)
    } catch (err: any) {
      this.log.debug({ protocol, peer: connection.remotePeer.toString(), err: err.message }, 'inbound stream refused: limit reached')
      stream.abort(err)
      return
    }
    const target = entry.targets[entry.next++ % entry.targets.length]
    if (entry.next >= entry.targets.length) entry.next = 0
    target.deliver(stream, connection).catch((err: Error) => {
      this.log.warn({ protocol, target: target.address, err: err.message }, 'inbound stream delivery failed; stream reset')
      stream.abort(err)
    }).finally(release)
  }
}
