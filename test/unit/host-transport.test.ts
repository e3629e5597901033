/**
 * The host's two per-stream savings: TCP batches leave in one corked write (and `inOneWrite`
 * puts several frames in one), and js-libp2p gets a shared no-op logger unless `DEBUG` asks
 * for its logs.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, connect } from 'node:net'
import { describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { defaultLogger } from '@libp2p/logger'
import { createLibp2p } from 'libp2p'
import { coalesceWrites, coalescingTcp, inOneWrite } from '../../src/host/tcp-coalesce.js'
import { componentLogger } from '../../src/host/quiet-logger.js'
import type { Connection, Stream, StreamMessageEvent } from '@libp2p/interface'
import type { Socket } from 'node:net'

/** A socket stand-in that records what the batching does; `full` makes the n-th write fail. */
function recordingSocket (full = -1): { socket: Socket, calls: string[] } {
  const calls: string[] = []
  let n = 0
  const socket = {
    cork: () => { calls.push('cork') },
    uncork: () => { calls.push('uncork') },
    write: (buf: Uint8Array) => { calls.push(`write ${buf.byteLength}`); return n++ !== full }
  }
  return { socket: socket as unknown as Socket, calls }
}

const bufs = (...sizes: number[]): Uint8Array[] => sizes.map(s => new Uint8Array(s))

describe('TCP write batching', () => {
  it('writes a batch between one cork and one uncork', () => {
    const { socket, calls } = recordingSocket()
    const conn: any = { socket, sendData: () => { throw new Error('the original must not run') } }
    coalesceWrites(conn)
    assert.deepEqual(conn.sendData(bufs(2, 28, 100)), { sentBytes: 130, canSendMore: true })
    assert.deepEqual(calls, ['cork', 'write 2', 'write 28', 'write 100', 'uncork'])
  })

  it('stops at a full socket, still uncorks, and says so', () => {
    const { socket, calls } = recordingSocket(1)
    const conn: any = { socket, sendData: () => ({}) }
    coalesceWrites(conn)
    assert.deepEqual(conn.sendData(bufs(2, 65536, 10)), { sentBytes: 65538, canSendMore: false })
    assert.deepEqual(calls, ['cork', 'write 2', 'write 65536', 'uncork'])
  })

  it('is applied to the installed @libp2p/tcp: its connections get the batching sendData', async () => {
    const transport = coalescingTcp()({ logger: defaultLogger() } as any)
    let received: (maConn: any) => void = () => {}
    const upgraded = new Promise<any>(resolve => { received = resolve })
    // an upgrader that only hands over the connection it is given
    const upgrader = { upgradeInbound: async (maConn: any) => { received(maConn) } }
    const listener = transport.createListener({ upgrader })
    await listener.listen(multiaddr('/ip4/127.0.0.1/tcp/0'))
    const port = Number(listener.getAddrs()[0].toString().split('/')[4])
    const client = connect(port, '127.0.0.1').on('error', () => {})
    const maConn = await upgraded
    const stock = Object.getPrototypeOf(maConn).sendData
    assert.equal(typeof stock, 'function', '@libp2p/tcp connections still have sendData')
    assert.ok(maConn.socket != null, '@libp2p/tcp connections still expose their socket')
    assert.notEqual(maConn.sendData, stock, 'the batching sendData replaced it')
    client.destroy()
    maConn.abort(new Error('end of test'))
    await listener.close()
  })

  it('leaves connections without a socket alone', () => {
    const original = (): unknown => 'original'
    const conn: any = { sendData: original }
    coalesceWrites(conn)
    assert.equal(conn.sendData, original)
  })

  it('delivers the batches in order over real TCP', async () => {
    const server = createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const accepted = once(server, 'connection')
    const client = connect((server.address() as { port: number }).port, '127.0.0.1')
    await once(client, 'connect')
    const [peer] = await accepted as [Socket]
    const conn: any = { socket: client, sendData: () => ({}) }
    coalesceWrites(conn)
    const expected: number[] = []
    for (let i = 0; i < 50; i++) {
      const batch = [Uint8Array.of(i), new Uint8Array(i * 7).fill(i)]
      expected.push(i, ...batch[1])
      conn.sendData(batch)
    }
    client.end()
    const chunks: Buffer[] = []
    for await (const c of peer) chunks.push(c as Buffer)
    assert.deepEqual([...Buffer.concat(chunks)], expected)
    server.close()
  })
})

/** Counts the writes `socket` hands to the kernel (each `_write` or `_writev` is one syscall). */
function countWrites (socket: Socket): () => number {
  let n = 0
  const s = socket as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>
  const write = s._write
  const writev = s._writev
  s._write = function (this: unknown, ...args: unknown[]) { n++; return write.apply(this, args) }
  s._writev = function (this: unknown, ...args: unknown[]) { n++; return writev.apply(this, args) }
  return () => n
}

describe('frames in one write (inOneWrite)', () => {
  it('corks the socket of a batching connection around everything sent', () => {
    const { socket, calls } = recordingSocket()
    const maConn: any = { socket, sendData: () => ({}) }
    coalesceWrites(maConn)
    inOneWrite({ maConn }, () => {
      maConn.sendData(bufs(2, 30))
      maConn.sendData(bufs(2, 16))
    })
    assert.deepEqual(calls, ['cork', 'cork', 'write 2', 'write 30', 'uncork', 'cork', 'write 2', 'write 16', 'uncork', 'uncork'])
  })

  it('just runs the function on any other connection, and returns what it returns', () => {
    assert.equal(inOneWrite({}, () => 1), 1)
    assert.equal(inOneWrite({ maConn: { socket: recordingSocket().socket } }, () => 2), 2)
    const { socket, calls } = recordingSocket()
    const maConn: any = { socket, sendData: () => ({}) }
    coalesceWrites(maConn)
    assert.equal(inOneWrite({ maConn }, () => 3), 3)
    assert.deepEqual(calls, ['cork', 'uncork'])
  })

  it('sends a response and its FIN in one TCP write on a real js-libp2p connection', async () => {
    const node = async (): Promise<any> => await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [coalescingTcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()]
    })
    const [a, b] = [await node(), await node()]
    try {
      let writes = -1
      // B answers A's request with a response and its FIN
      await b.handle('/t/1', (stream: Stream, connection: Connection) => {
        stream.addEventListener('message', () => {
          // (js-libp2p's Connection keeps the transport's connection as `maConn`)
          const count = countWrites((connection as any).maConn.socket)
          inOneWrite(connection, () => {
            stream.send(Uint8Array.of(1, 2, 3))
            void stream.close()
          })
          writes = count()
        }, { once: true })
      })
      const stream = await a.dialProtocol(b.getMultiaddrs()[0], '/t/1')
      const got: number[] = []
      stream.addEventListener('message', (evt: StreamMessageEvent) => { got.push(...evt.data.subarray()) })
      const ended = once(stream, 'remoteCloseWrite')
      stream.send(Uint8Array.of(0))
      await ended
      assert.deepEqual(got, [1, 2, 3])
      assert.equal(writes, 1)
    } finally {
      await a.stop()
      await b.stop()
    }
  })
})

describe('js-libp2p component logger', () => {
  it('is one shared no-op without DEBUG', () => {
    const logger = componentLogger({})
    const log = logger.forComponent('libp2p:yamux')
    assert.equal(log.enabled, false)
    assert.equal(log.newScope('stream'), log)
    assert.equal(logger.forComponent('other'), log)
    log('nothing %s', 'printed')
    log.error('nor this')
    log.trace('nor this')
  })

  it('is the stock logger when DEBUG is set', () => {
    const log = componentLogger({ DEBUG: 'libp2p:*' }).forComponent('libp2p:test')
    assert.equal(typeof log.newScope, 'function')
    assert.notEqual(log.newScope('x'), log)
  })
})
