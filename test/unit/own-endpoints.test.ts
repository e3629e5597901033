/**
 * `OwnEndpoints`: a handler address reaches one of the daemon's planes by its path, through
 * a symlink or a hard link to the socket, or by the same TCP port on any loopback address.
 */
import { strict as assert } from 'node:assert'
import { once } from 'node:events'
import { link, mkdtemp, rm, symlink } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { OwnEndpoints } from '../../src/net/own-endpoints.js'
import type { Server } from 'node:net'

describe('OwnEndpoints', () => {
  let dir: string
  let server: Server
  const own = new OwnEndpoints()

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'own-endpoints-'))
    server = createServer().listen(join(dir, 'p2pd.sock'))
    await once(server, 'listening')
    own.add({ kind: 'unix', path: join(dir, 'p2pd.sock') })
    own.add({ kind: 'tcp', host: '127.0.0.1', port: 4242, family: 4 })
  })
  after(async () => { server.close(); await rm(dir, { recursive: true, force: true }) })

  it('the same socket, by any path that reaches it', async () => {
    await symlink(join(dir, 'p2pd.sock'), join(dir, 'alias.sock'))
    await link(join(dir, 'p2pd.sock'), join(dir, 'hard.sock'))
    for (const path of [join(dir, 'p2pd.sock'), `${dir}/./p2pd.sock`, join(dir, 'alias.sock'), join(dir, 'hard.sock')]) {
      assert.equal(own.includes({ kind: 'unix', path }), true, path)
    }
    assert.equal(own.includes({ kind: 'unix', path: join(dir, 'program.sock') }), false, 'a path that does not exist yet')
  })

  it('the same TCP port on a loopback address, not another port or host', () => {
    assert.equal(own.includes({ kind: 'tcp', host: '127.0.0.1', port: 4242, family: 4 }), true)
    assert.equal(own.includes({ kind: 'tcp', host: '::1', port: 4242, family: 6 }), true)
    assert.equal(own.includes({ kind: 'tcp', host: '127.0.0.1', port: 4243, family: 4 }), false)
    assert.equal(own.includes({ kind: 'tcp', host: '192.0.2.1', port: 4242, family: 4 }), false)
  })
})
