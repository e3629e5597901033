/**
 * A lingering close for responses sent before the request body was read (413, a refused
 * token, a bad body): the client may still be writing. Closing the socket at once discards
 * what it sent unread, and the kernel answers that with a reset, which can reach the client
 * before it has read the response: it then sees EPIPE/ECONNRESET instead of the error the
 * daemon sent (seen about once in 60 oversized uploads). As Go's net/http does, the socket
 * is half-closed after the response, what still arrives is read and dropped, and the socket
 * is destroyed when the client closes, or after `LINGER_MS` at the latest.
 */
import type { Socket } from 'node:net'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** The longest a closing connection keeps reading what the client still sends. */
const LINGER_MS = 2_000

/** Makes `socket`'s next `destroySoon()` (node's close after a `Connection: close` response) linger. */
function lingerOnClose (socket: Socket): void {
  socket.destroySoon = function lingeringDestroySoon (this: Socket): void {
    if (this.destroyed) return
    const timer = setTimeout(() => { this.destroy() }, LINGER_MS)
    timer.unref()
    this.once('close', () => { clearTimeout(timer) })
    // after the response: FIN, then drop whatever the client was still sending
    this.once('end', () => { this.destroy() })
    this.on('data', () => {})
    this.resume()
    if (!this.writableEnded) this.end()
  }
}

/** Installs the lingering close on every response that closes before its request was read. */
export function installLingeringClose (app: FastifyInstance): void {
  app.addHook('onSend', (req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload?: unknown) => void) => {
    if (!req.raw.complete && String(reply.getHeader('connection') ?? '').toLowerCase() === 'close') lingerOnClose(req.raw.socket)
    done(null, payload)
  })
}
