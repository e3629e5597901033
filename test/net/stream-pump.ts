/**
 * An endless transfer through a stream socket, for tests that break the path in the
 * middle: writes as fast as the stream accepts (with backpressure), counts what comes back,
 * and records when and how the socket ended.
 */
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'

/** How a pumped socket ended. */
export interface PumpEnd {
  /** 'end': EOF from the daemon; 'error': a socket error; 'close': closed without either. */
  how: 'end' | 'error' | 'close'
  /** `performance.now()` when it happened. */
  at: number
  error?: string
}

/** A running pump. */
export interface Pump {
  readonly sent: number
  readonly received: number
  /** Resolves with how the socket ended; rejects if it is still open after `timeoutMs`. */
  ended: (timeoutMs: number) => Promise<PumpEnd>
}

/**
 * Starts writing to `socket` until it ends. The pump never half-closes, so any EOF means
 * the daemon closed the stream (for an echo, after a reset or a lost connection).
 */
export function startPump (socket: Socket): Pump {
  let sent = 0
  let received = 0
  let end: PumpEnd | undefined
  const waiters: Array<(e: PumpEnd) => void> = []
  const finish = (how: PumpEnd['how'], error?: Error): void => {
    if (end !== undefined) return
    end = { how, at: performance.now(), error: error?.message }
    for (const w of waiters.splice(0)) w(end)
    socket.destroy()
  }
  socket.on('data', (c: Buffer) => { received += c.byteLength })
  socket.once('end', () => { finish('end') })
  socket.once('error', (err) => { finish('error', err) })
  socket.once('close', () => { finish('close') })

  // one random block, written over and over: the data need not vary, the CPU is shared
  const block = randomBytes(64 * 1024)
  const write = (): void => {
    while (end === undefined && !socket.destroyed) {
      sent += block.byteLength
      if (!socket.write(block)) {
        socket.once('drain', write)
        return
      }
    }
  }
  write()

  return {
    get sent () { return sent },
    get received () { return received },
    ended: async (timeoutMs) => {
      if (end !== undefined) return end
      return await new Promise<PumpEnd>((resolve, reject) => {
        const timer = setTimeout(() => {
          socket.destroy()
          reject(new Error(`stream socket still open ${timeoutMs} ms later (${sent} bytes sent, ${received} received)`))
        }, timeoutMs)
        waiters.push(e => { clearTimeout(timer); resolve(e) })
      })
    }
  }
}
