/**
 * Backpressure end to end: when the reading program stops reading, the writing program is
 * held back (its socket stops draining) and neither daemon's memory grows; a program that
 * reads slowly gets every byte (the window is granted as it reads). Both directions.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { rssKiB, spawnDaemons } from './helpers/daemon.js'
import { request } from './helpers/http.js'
import { connectStream, sleep, startCallbackServer } from './helpers/program.js'
import type { SpawnedDaemon } from './helpers/daemon.js'
import type { CallbackServer } from './helpers/program.js'
import type { Socket } from 'node:net'

/** Writes 64 KiB chunks as fast as the socket drains; `accepted` counts what it handed over. */
function flood (s: Socket): { accepted: () => number, stop: () => void } {
  const chunk = Buffer.alloc(64 * 1024, 0x61)
  let accepted = 0
  let stopped = false
  const pump = (): void => {
    while (!stopped && !s.destroyed) {
      accepted += chunk.length
      if (!s.write(chunk)) { s.once('drain', pump); return }
    }
  }
  pump()
  return { accepted: () => accepted, stop: () => { stopped = true } }
}

describe('HTTP API backpressure: a reader that stops reading, and one that reads slowly', () => {
  let a: SpawnedDaemon
  let b: SpawnedDaemon
  let cb: CallbackServer
  let remote: Socket | undefined

  before(async () => {
    [a, b] = await spawnDaemons([[], []])
    assert.equal((await request(a.httpAddr ?? '', 'POST', '/api/daemon/peers', { body: { peerID: b.peerId, addresses: b.addrs } })).status, 204)
    cb = await startCallbackServer('unix', () => ({ run: s => { remote = s; s.pause() } }), b.dir)
    assert.equal((await request(b.httpAddr ?? '', 'POST', '/api/daemon/handlers', { body: { protocols: ['/hold/1'], callback: cb.url } })).status, 204)
  })
  after(async () => {
    await cb?.close()
    await Promise.all([a?.stop(), b?.stop()])
  })

  /**
   * Opens a /hold/1 stream A→B; both programs' sockets start paused. Resolves with the
   * stream's id and `[writer, reader]` for `direction` ("remote writes…" or "local…").
   */
  async function openHeld (direction: string): Promise<{ id: string, local: Socket, writer: Socket, reader: Socket }> {
    remote = undefined
    const res = await request(a.httpAddr ?? '', 'POST', `/api/daemon/peers/${b.peerId}/streams`, { body: { protocol: '/hold/1' } })
    assert.equal(res.status, 201)
    const { id, socketPath } = res.json()
    const local = connectStream(socketPath)
    local.pause()
    const t = Date.now()
    while (remote === undefined && Date.now() - t < 10_000) await sleep(20)
    assert.ok(remote !== undefined, 'the remote program got the stream')
    const [writer, reader] = direction.startsWith('remote') ? [remote, local] : [local, remote]
    return { id, local, writer, reader }
  }

  for (const direction of ['remote writes, local program stops reading', 'local program writes, remote program stops reading'] as const) {
    it(direction, async () => {
      const { id, local, writer, reader } = await openHeld(direction)
      const rss0 = [rssKiB(a.proc.pid ?? 0), rssKiB(b.proc.pid ?? 0)]

      const f = flood(writer)
      await sleep(3000)
      const at3 = f.accepted()
      await sleep(3000)
      const at6 = f.accepted()
      const rss1 = [rssKiB(a.proc.pid ?? 0), rssKiB(b.proc.pid ?? 0)]
      const growth = rss1.map((r, i) => (r - rss0[i]) / 1024)
      console.log(`# ${direction}: writer handed over ${(at3 / 1048576).toFixed(1)} MiB by 3 s, ${(at6 / 1048576).toFixed(1)} MiB by 6 s; RSS growth A ${growth[0].toFixed(1)} MiB, B ${growth[1].toFixed(1)} MiB`)
      // held back: nothing more drained in the last 3 s, and what is in flight is bounded
      // by socket buffers plus one muxer window (yamux: at most 16 MiB)
      assert.ok(at6 - at3 <= 1024 * 1024, `writer kept going: ${at6 - at3} bytes in 3 s`)
      assert.ok(at6 < 48 * 1024 * 1024, `too much in flight: ${at6} bytes`)
      assert.ok(growth.every(g => g < 96), `daemon memory grew: ${growth.join(', ')} MiB`)

      // the reader reads again: bytes flow again
      let got = 0
      reader.on('data', (c: Buffer) => { got += c.length })
      reader.resume()
      const t1 = Date.now()
      while (got < at6 + 4 * 1024 * 1024 && Date.now() - t1 < 20_000) await sleep(50)
      f.stop()
      if (got < at6 + 4 * 1024 * 1024) {
        const open = async (d: SpawnedDaemon): Promise<number> => (await request(d.httpAddr ?? '', 'GET', '/api/daemon/streams')).json().length
        assert.fail(`flow did not resume: read ${got} bytes after resuming; writer handed over ${f.accepted()}; ` +
          `reader ended ${String(reader.readableEnded)} destroyed ${String(reader.destroyed)}, writer destroyed ${String(writer.destroyed)}; ` +
          `open streams A ${await open(a)} B ${await open(b)}`)
      }
      assert.equal((await request(a.httpAddr ?? '', 'DELETE', `/api/daemon/streams/${id}`)).status, 204)
      local.destroy()
    })
  }

  /** Takes what `s` has read every 10 ms (a few MB/s, in bursts) until its EOF; resolves with all of it. */
  async function readSlowly (s: Socket, timeoutMs: number): Promise<Buffer> {
    const chunks: Buffer[] = []
    return await new Promise<Buffer>((resolve, reject) => {
      const tick = setInterval(() => {
        let chunk: Buffer | null
        while ((chunk = s.read()) !== null) chunks.push(chunk)
      }, 10)
      const timer = setTimeout(() => { clearInterval(tick); reject(new Error(`still reading after ${timeoutMs} ms: ${Buffer.concat(chunks).length} bytes`)) }, timeoutMs)
      s.once('end', () => { clearInterval(tick); clearTimeout(timer); resolve(Buffer.concat(chunks)) })
      s.once('error', (err) => { clearInterval(tick); clearTimeout(timer); reject(err) })
    })
  }

  for (const direction of ['remote writes, local program reads slowly', 'local program writes, remote program reads slowly'] as const) {
    it(`${direction}: every byte arrives, in order, then the writer's EOF`, async () => {
      const { local, writer, reader } = await openHeld(direction)
      const data = randomBytes(8 << 20)
      const got = readSlowly(reader, 60_000)
      writer.end(data)
      const received = await got
      assert.equal(received.length, data.length)
      assert.equal(createHash('sha256').update(received).digest('hex'), createHash('sha256').update(data).digest('hex'))
      reader.end()
      local.destroy()
    })
  }
})
