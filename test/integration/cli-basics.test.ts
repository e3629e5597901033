/**
 * The command line of the real binary: --help/--version, exit 2 for bad flags naming them,
 * identity files of every key type (same file ⇒ same peer ID), keygen, and the JSON config
 * from a file (-f) and from stdin (-i).
 */
import assert from 'node:assert/strict'
import { existsSync, statSync, writeFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { OPTIONS } from '../../src/config/options.js'
import { KEYGEN_BIN, keygen, runToExit, startDaemon, tempDir } from './cli-harness.js'

describe('command line', { concurrency: true }, () => {
  it('--help lists every flag with its default and exits 0; --version prints the version', async () => {
    const [help, h, version] = await Promise.all([runToExit(['--help']), runToExit(['-h']), runToExit(['-version'])])
    assert.equal(help.code, 0)
    assert.equal(h.stdout, help.stdout)
    for (const o of OPTIONS) assert.match(help.stdout, new RegExp(`^  -${o.name}\\b`, 'm'), o.name)
    assert.match(help.stdout, /\(default "\/unix\/tmp\/p2pd\.sock"\)/)
    assert.match(help.stdout, /\(default 2m0s\)/)
    assert.equal(version.code, 0)
    assert.match(version.stdout, /^libp2pd \d+\.\d+\.\d+\n$/)
  })

  it('exits 2 naming the flag for unknown flags, bad values and bad combinations', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['-nope'], /flag provided but not defined: -nope/],
      [['--connLo=many'], /invalid value "many" for flag -connLo/],
      [['-connGrace', '10'], /invalid value "10" for flag -connGrace/],
      [['-relay=maybe'], /invalid value "maybe" for flag -relay/],
      [['-muxer', 'spdy'], /-muxer/],
      [['-noise=false', '-tls=false', '-plaintext=false'], /at least one of -noise, -tls, -plaintext/],
      [['-forceReachabilityPublic', '-forceReachabilityPrivate'], /forceReachability/],
      [['-hostAddrs', 'not-a-multiaddr'], /flag -hostAddrs/],
      [['-bootstrapPeers', '/ip4/127.0.0.1/tcp/1'], /flag -bootstrapPeers/],
      [['-listen'], /flag needs an argument: -listen/],
      [['-q', 'extra'], /unexpected argument: extra/]
    ]
    const results = await Promise.all(cases.map(async ([args]) => await runToExit(args)))
    results.forEach((r, i) => {
      assert.equal(r.code, 2, `${cases[i][0].join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, cases[i][1])
      assert.equal(r.stdout, '')
    })
  })

  it('keygen: -h prints its usage; a bad flag, key type or RSA size exits 2 and writes nothing', async () => {
    const help = await runToExit(['-h'], { bin: KEYGEN_BIN })
    assert.equal(help.code, 0)
    assert.match(help.stdout, /^Usage: libp2pd-keygen/)
    const file = `${tempDir()}/never.key`
    const cases: Array<[string[], RegExp]> = [
      [['-x', '1', '-f', file], /flag provided but not defined: -x/],
      [['-t', 'dsa', '-f', file], /invalid key type "dsa"/],
      [['-t', 'rsa', '-b', '1024', '-f', file], /invalid RSA size 1024/],
      [['-f'], /flag needs an argument: -f/],
      [['stray'], /unexpected argument: stray/]
    ]
    for (const [args, message] of cases) {
      const r = await runToExit(args, { bin: KEYGEN_BIN })
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, message)
    }
    assert.equal(existsSync(file), false)
  })

  it('keygen writes 0400 keys of each type; the daemon loads them with the same peer ID every start', async () => {
    const dir = tempDir()
    const ids: Record<string, string> = {}
    for (const t of ['ed25519', 'rsa', 'secp256k1']) ids[t] = await keygen(`${dir}/${t}.key`, t)
    for (const t of Object.keys(ids)) assert.equal(statSync(`${dir}/${t}.key`).mode & 0o777, 0o400, t)
    assert.match(ids.ed25519, /^12D3KooW/)
    assert.match(ids.rsa, /^Qm/)
    assert.match(ids.secp256k1, /^16Uiu2/)
    const again = await runToExit(['-f', `${dir}/rsa.key`], { bin: KEYGEN_BIN })
    assert.equal(again.code, 1, 'keygen never overwrites')
    assert.match(again.stderr, /already exists/)

    const starts = await Promise.all([...Object.keys(ids), 'ed25519'].map(async t => await startDaemon(['-id', `${dir}/${t}.key`])))
    assert.deepEqual(starts.map(d => d.banner.peerId), [ids.ed25519, ids.rsa, ids.secp256k1, ids.ed25519])
    await Promise.all(starts.map(async d => await d.stop()))
  })

  it('a missing or garbage identity file is a clear error, exit 1', async () => {
    const dir = tempDir()
    writeFileSync(`${dir}/garbage`, 'this is not a key')
    const [missing, garbage] = await Promise.all([
      runToExit(['-listen=', '-httpListen=', '-id', `${dir}/nope`]),
      runToExit(['-listen=', '-httpListen=', '-id', `${dir}/garbage`])
    ])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /cannot read identity file .*nope: ENOENT/)
    assert.equal(garbage.code, 1)
    assert.match(garbage.stderr, /identity file .*garbage does not hold a protobuf-encoded private key/)
  })

  it('reads p2pd JSON config from -f and -i; explicit flags win', async () => {
    const dir = tempDir()
    const id = await keygen(`${dir}/id.key`)
    const config = {
      ListenAddr: `/unix${dir}/from-config.sock`,
      ID: `${dir}/id.key`,
      HostAddresses: ['/ip4/127.0.0.1/tcp/0'],
      Security: { Noise: true, TLS: false, Plaintext: false },
      PubSub: { Enabled: true, Router: 'floodsub' },
      httpListen: ''
    }
    writeFileSync(`${dir}/config.json`, JSON.stringify(config))
    const [fromFile, fromStdin] = await Promise.all([
      startDaemon(['-f', `${dir}/config.json`, '-listen', `/unix${dir}/flag.sock`]),
      startDaemon(['-i', '-listen', `/unix${dir}/stdin.sock`, '-q=false'], { input: JSON.stringify({ ...config, Quiet: true }) })
    ])
    assert.equal(fromFile.banner.peerId, id)
    assert.equal(fromFile.banner.control, `/unix${dir}/flag.sock`)
    assert.equal(fromStdin.banner.peerId, id)
    assert.equal(fromStdin.banner.control, `/unix${dir}/stdin.sock`, '-q=false on the command line beats Quiet')
    await Promise.all([fromFile.stop(), fromStdin.stop()])

    writeFileSync(`${dir}/bad.json`, '{"DHT": {"Mode": "sideways"}}')
    const bad = await runToExit(['-f', `${dir}/bad.json`])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /DHT\.Mode/)
    const notJson = await runToExit(['-i'], { input: '{' })
    assert.equal(notJson.code, 2)
    assert.match(notJson.stderr, /config is not valid JSON/)
  })
})
