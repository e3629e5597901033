/**
 * TCP with one syscall per batch: js-libp2p's TCP connection writes every buffer it is
 * given with its own `write(2)`, and noise hands it each frame as two buffers (the 2-byte
 * length, then the ciphertext). Opening a stream and sending one small message costs about
 * six frames, so twelve writes; on loopback each TCP write also runs the receiver's TCP
 * stack and wakes the receiver inside the sender's syscall. In profiles of
 * stream-per-request and unary calls those writes were ~20% of each daemon's busy time.
 *
 * This wrapper corks the socket around each batch, so a batch leaves in one `writev(2)`:
 * half the syscalls at no added latency (nothing waits for a later tick).
 *
 * It wraps the stock `@libp2p/tcp` transport without changing it: the upgrader handed to
 * `dial` and `createListener` is wrapped, and the connection (`maConn`) it receives gets a
 * batching `sendData` before the upgrade starts.
 */
import { tcp } from '@libp2p/tcp'
import type { TCPComponents, TCPOptions } from '@libp2p/tcp'
import type { Socket } from 'node:net'

interface SendResult { sentBytes: number, canSendMore: boolean }
interface SocketConn { socket?: Socket, sendData?: (data: Iterable<Uint8Array>) => SendResult }
type AnyFn = (...args: any[]) => any

/** Each connection `coalesceWrites` changed, with its socket (for `inOneWrite`). */
const coalesced = new WeakMap<object, Socket>()

/** Replaces `maConn.sendData` with one that writes each batch with a single `writev`. */
export function coalesceWrites (maConn: SocketConn): void {
  const socket = maConn.socket
  if (socket === undefined || typeof socket.cork !== 'function' || typeof maConn.sendData !== 'function') return
  coalesced.set(maConn, socket)
  maConn.sendData = (data: Iterable<Uint8Array>): SendResult => {
    let sentBytes = 0
    let canSendMore = true
    socket.cork()
    try {
      for (const buf of data) {
        sentBytes += buf.byteLength
        canSendMore = socket.write(buf)
        if (!canSendMore) break
      }
    } finally {
      socket.uncork()
    }
    // (write() answers from the buffered length before any syscall, corked or not)
    return { sentBytes, canSendMore }
  }
}

/**
 * Runs `fn` with the TCP socket under `connection` corked, and returns what it returns:
 * whatever frames `fn` sends synchronously (an async `fn`: before its first wait), on any
 * stream of that connection, leave in one `writev` when it returns. Nothing waits for a later
 * turn. The socket is found through js-libp2p's `Connection.maConn` (not part of its
 * interface); any other connection (QUIC, relayed, another shape) just runs `fn`.
 */
export function inOneWrite<T> (connection: object, fn: () => T): T {
  const maConn = (connection as { maConn?: object }).maConn
  const socket = maConn === undefined ? undefined : coalesced.get(maConn)
  if (socket === undefined || socket.destroyed) return fn()
  socket.cork()
  try {
    return fn()
  } finally {
    socket.uncork()
  }
}

function wrapUpgrader<U extends Record<string, any>> (upgrader: U): U {
  if (upgrader == null) return upgrader
  const wrap = (fn: AnyFn): AnyFn => async (maConn: SocketConn, ...rest: any[]) => {
    coalesceWrites(maConn)
    return await fn.call(upgrader, maConn, ...rest)
  }
  const wrapped: Record<string, AnyFn> = {
    upgradeOutbound: wrap(upgrader.upgradeOutbound),
    upgradeInbound: wrap(upgrader.upgradeInbound)
  }
  // everything else is the upgrader's own, called on the upgrader itself
  return new Proxy(upgrader, {
    get (target, prop) {
      if (typeof prop === 'string' && prop in wrapped) return wrapped[prop]
      const value: unknown = Reflect.get(target, prop, target)
      return typeof value === 'function' ? (value as AnyFn).bind(target) : value
    }
  })
}

/** `@libp2p/tcp`'s transport, each connection writing a batch of buffers in one syscall. */
export function coalescingTcp (init: TCPOptions = {}): (components: TCPComponents) => any {
  const make = tcp(init)
  return (components: TCPComponents) => {
    const transport = make(components) as any
    const dial = transport.dial.bind(transport) as AnyFn
    const createListener = transport.createListener.bind(transport) as AnyFn
    transport.dial = async (ma: unknown, options: Record<string, any>) => await dial(ma, { ...options, upgrader: wrapUpgrader(options.upgrader) })
    transport.createListener = (options: Record<string, any>) => createListener({ ...options, upgrader: wrapUpgrader(options.upgrader) })
    return transport
  }
}
