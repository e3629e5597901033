// Golden-bytes tests: our p2pd codecs (src/proto/p2pd.ts) against js-libp2p's
// @libp2p/daemon-protocol, hand-derived bytes for the hivemind dialect, and the dialect classifier.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as upstream from '@libp2p/daemon-protocol'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import * as ours from '../../src/proto/p2pd.ts'
import { classifyRequest, decodeRequest } from '../../src/proto/dialect.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const unhex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'))

const peer = peerIdFromString('12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN').toMultihash().bytes
const addr = multiaddr('/ip4/127.0.0.1/tcp/4001').bytes
const addr2 = multiaddr('/ip6/::1/udp/4001/quic-v1').bytes
const cid = unhex('01551220' + 'ab'.repeat(32))

interface Codec { encode: (obj: any) => Uint8Array, decode: (buf: Uint8Array) => any }
interface Case { name: string, ours: Codec, theirs: Codec, value: unknown, golden?: string }

const cases: Case[] = [
  { name: 'IDENTIFY', ours: ours.Request, theirs: upstream.Request, value: { type: 'IDENTIFY' }, golden: '0800' },
  { name: 'LIST_PEERS', ours: ours.Request, theirs: upstream.Request, value: { type: 'LIST_PEERS' }, golden: '0805' },
  { name: 'CONNECT with addrs+timeout', ours: ours.Request, theirs: upstream.Request, value: { type: 'CONNECT', connect: { peer, addrs: [addr, addr2], timeout: 10n } } },
  { name: 'STREAM_OPEN', ours: ours.Request, theirs: upstream.Request, value: { type: 'STREAM_OPEN', streamOpen: { peer, proto: ['/echo/1.0.0', '/x/2'], timeout: 5n } } },
  { name: 'STREAM_HANDLER', ours: ours.Request, theirs: upstream.Request, value: { type: 'STREAM_HANDLER', streamHandler: { addr: multiaddr(`/unix/${encodeURIComponent('/tmp/c.sock')}`).bytes, proto: ['/echo/1.0.0'] } } },
  { name: 'DISCONNECT', ours: ours.Request, theirs: upstream.Request, value: { type: 'DISCONNECT', disconnect: { peer } } },
  { name: 'CONNMANAGER TAG_PEER', ours: ours.Request, theirs: upstream.Request, value: { type: 'CONNMANAGER', connManager: { type: 'TAG_PEER', peer, tag: 't', weight: 7n } } },
  { name: 'CONNMANAGER TRIM', ours: ours.Request, theirs: upstream.Request, value: { type: 'CONNMANAGER', connManager: { type: 'TRIM' } } },
  { name: 'PSRequest GET_TOPICS', ours: ours.Request, theirs: upstream.Request, value: { type: 'PUBSUB', pubsub: { type: 'GET_TOPICS' } } },
  { name: 'PSRequest PUBLISH', ours: ours.Request, theirs: upstream.Request, value: { type: 'PUBSUB', pubsub: { type: 'PUBLISH', topic: 'news', data: unhex('0102') } } },
  { name: 'PSRequest SUBSCRIBE', ours: ours.Request, theirs: upstream.Request, value: { type: 'PUBSUB', pubsub: { type: 'SUBSCRIBE', topic: 'news' } } },
  { name: 'PEERSTORE GET_PROTOCOLS', ours: ours.Request, theirs: upstream.Request, value: { type: 'PEERSTORE', peerStore: { type: 'GET_PROTOCOLS', id: peer } } },
  { name: 'PEERSTORE GET_PEER_INFO', ours: ours.Request, theirs: upstream.Request, value: { type: 'PEERSTORE', peerStore: { type: 'GET_PEER_INFO', id: peer, protos: ['/a'] } } },
  { name: 'Response OK', ours: ours.Response, theirs: upstream.Response, value: { type: 'OK' }, golden: '0800' },
  { name: 'Response ERROR', ours: ours.Response, theirs: upstream.Response, value: { type: 'ERROR', error: { msg: 'boom' } }, golden: '0801 1206 0a04626f6f6d' },
  { name: 'Response identify', ours: ours.Response, theirs: upstream.Response, value: { type: 'OK', identify: { id: peer, addrs: [addr, addr2] } } },
  { name: 'Response peers', ours: ours.Response, theirs: upstream.Response, value: { type: 'OK', peers: [{ id: peer, addrs: [addr] }, { id: peer, addrs: [] }] } },
  { name: 'Response streamInfo', ours: ours.Response, theirs: upstream.Response, value: { type: 'OK', streamInfo: { peer, addr, proto: '/echo/1.0.0' } } },
  { name: 'Response pubsub', ours: ours.Response, theirs: upstream.Response, value: { type: 'OK', pubsub: { topics: ['a', 'b'], peerIDs: [peer] } } },
  { name: 'Response peerStore', ours: ours.Response, theirs: upstream.Response, value: { type: 'OK', peerStore: { peer: { id: peer, addrs: [addr] }, protos: ['/a', '/b'] } } },
  { name: 'Response dht VALUE', ours: ours.Response, theirs: upstream.Response, value: { type: 'OK', dht: { type: 'VALUE', value: unhex('cafe') } } },
  { name: 'DHTResponse BEGIN', ours: ours.DHTResponse, theirs: upstream.DHTResponse, value: { type: 'BEGIN' }, golden: '0800' },
  { name: 'DHTResponse VALUE peer', ours: ours.DHTResponse, theirs: upstream.DHTResponse, value: { type: 'VALUE', peer: { id: peer, addrs: [addr] } } },
  { name: 'DHTResponse VALUE value', ours: ours.DHTResponse, theirs: upstream.DHTResponse, value: { type: 'VALUE', value: peer } },
  { name: 'DHTResponse END', ours: ours.DHTResponse, theirs: upstream.DHTResponse, value: { type: 'END' }, golden: '0802' },
  { name: 'bare StreamInfo', ours: ours.StreamInfo, theirs: upstream.StreamInfo, value: { peer, addr, proto: '/p' } },
  { name: 'PSMessage', ours: ours.PSMessage, theirs: upstream.PSMessage, value: { from: peer, data: unhex('00ff'), seqno: unhex('0000000000000001'), topicIDs: ['news'], signature: unhex('5151'), key: unhex('0801') } }
]

// one DHT request of each type, with the fields that type uses
const dhtRequests: Array<[string, Record<string, unknown>]> = [
  ['FIND_PEER', { peer }],
  ['FIND_PEERS_CONNECTED_TO_PEER', { peer }],
  ['FIND_PROVIDERS', { cid, count: 20 }],
  ['GET_CLOSEST_PEERS', { key: unhex('6b6579') }],
  ['GET_PUBLIC_KEY', { peer }],
  ['GET_VALUE', { key: unhex('6b'), timeout: 5n }],
  ['SEARCH_VALUE', { key: unhex('6b') }],
  ['PUT_VALUE', { key: unhex('6b'), value: unhex('76') }],
  ['PROVIDE', { cid }]
]
for (const [type, fields] of dhtRequests) {
  cases.push({ name: `DHT ${type}`, ours: ours.Request, theirs: upstream.Request, value: { type: 'DHT', dht: { type, ...fields } } })
}

describe('p2pd proto: byte-identical to @libp2p/daemon-protocol', () => {
  for (const c of cases) {
    it(c.name, () => {
      const mine = c.ours.encode(c.value)
      const theirs = c.theirs.encode(c.value)
      assert.equal(hex(mine), hex(theirs))
      if (c.golden !== undefined) assert.equal(hex(mine), c.golden.replace(/\s+/g, ''))
      // each decodes the other's bytes to the same message
      assert.equal(hex(c.ours.encode(c.ours.decode(theirs))), hex(theirs))
      assert.equal(hex(c.theirs.encode(c.theirs.decode(mine))), hex(mine))
      assert.deepEqual(c.ours.decode(theirs), c.theirs.decode(mine))
    })
  }

  it('hand-derived bytes: DHT GET_VALUE key "k" timeout 5', () => {
    // 08 04 (type DHT) 2a 07 (field 5, 7 bytes) { 08 05 GET_VALUE, 22 01 6b key, 38 05 timeout }
    const bytes = ours.Request.encode({ type: ours.Request.Type.DHT, dht: { type: ours.DHTRequest.Type.GET_VALUE, key: unhex('6b'), timeout: 5n } })
    assert.equal(hex(bytes), '08042a07080522016b3805')
  })
})

describe('p2pd proto: extensions are invisible to upstream decoders', () => {
  it('Response.version (field 20) is skipped by @libp2p/daemon-protocol', () => {
    const bytes = ours.Response.encode({ type: ours.Response.Type.OK, identify: { id: peer, addrs: [addr] }, version: { name: 'libp2pd', version: '0.1.0', protocolVersion: 'p2pd/0.9.2' } })
    const decoded = upstream.Response.decode(bytes)
    assert.equal(decoded.type, 'OK')
    assert.equal(hex(decoded.identify?.id ?? new Uint8Array()), hex(peer))
    assert.equal(hex(upstream.Response.encode(decoded)), hex(ours.Response.encode({ type: ours.Response.Type.OK, identify: { id: peer, addrs: [addr] } })))
    assert.equal(ours.Response.decode(bytes).version?.name, 'libp2pd')
  })

  it('StreamInfo.id (field 20) is skipped, inside Response and bare', () => {
    const info = { peer, addr, proto: '/p', id: 'stream-1' }
    const bare = ours.StreamInfo.encode(info)
    assert.equal(hex(bare.subarray(bare.length - 11)), 'a2010873747265616d2d31') // tag 20/LEN = a2 01
    assert.deepEqual(upstream.StreamInfo.decode(bare), { peer, addr, proto: '/p' })
    const wrapped = upstream.Response.decode(ours.Response.encode({ type: ours.Response.Type.OK, streamInfo: info }))
    assert.equal(wrapped.streamInfo?.proto, '/p')
    assert.equal(ours.StreamInfo.decode(bare).id, 'stream-1')
  })

  it('extension request types use new numbers and round-trip', () => {
    assert.equal(hex(ours.Request.encode({ type: ours.Request.Type.VERSION })), '0814')
    const reset = ours.Request.encode({ type: ours.Request.Type.STREAM_RESET, streamReset: { id: 's' } })
    assert.equal(hex(reset), '0815 aa01 03 0a0173'.replace(/\s/g, ''))
    const remove = ours.Request.encode({ type: ours.Request.Type.REMOVE_STREAM_HANDLER_EXT, removeStreamHandler: { addr: unhex('0102'), proto: ['/x'] } })
    assert.equal(hex(remove), '0817 ba01 08 0a020102 12022f78'.replace(/\s/g, ''))
    assert.deepEqual(ours.Request.decode(remove).removeStreamHandler?.proto, ['/x'])
    // protons rejects unknown enum values, so a new *type* is only ever sent client→daemon
    // (upstream daemons close the connection on it); Response.Type never gains values
    assert.throws(() => upstream.Request.decode(remove), /Invalid enum value/)
  })

  it('Event feed message', () => {
    const ev = { type: ours.Event.Type.STREAM_OPENED, peer: unhex('01'), addr: unhex('02'), proto: '/p', streamId: 's1' }
    assert.equal(hex(ours.Event.encode(ev)), '0802 120101 1a0102 22022f70 2a027331'.replace(/\s/g, ''))
    assert.deepEqual(ours.Event.decode(ours.Event.encode(ev)), ev)
    assert.equal(hex(ours.Event.encode({ type: ours.Event.Type.CONNECTED })), '0800')
  })
})

// Hivemind fork messages, hand-derived from its pb/p2pd.proto (tag = field << 3 | wire type).
const callId = unhex('000102030405060708090a0b0c0d0e0f')
const callIdHex = '0a10 000102030405060708090a0b0c0d0e0f' // field 1 LEN 16

describe('p2pd proto: hivemind dialect bytes', () => {
  const check = (bytes: Uint8Array, expected: string): void => {
    assert.equal(hex(bytes), expected.replace(/\s+/g, ''))
  }

  it('PERSISTENT_CONN_UPGRADE = 08 09', () => {
    check(ours.HivemindRequest.encode({ type: ours.HivemindRequest.Type.PERSISTENT_CONN_UPGRADE }), '0809')
  })

  it('REMOVE_STREAM_HANDLER{addr 0102, proto /x} on field 9', () => {
    // 08 0a type 10 | 4a 08 field 9 LEN 8 { 0a 02 0102 addr, 12 02 2f78 proto }
    const bytes = ours.HivemindRequest.encode({ type: ours.HivemindRequest.Type.REMOVE_STREAM_HANDLER, removeStreamHandler: { addr: unhex('0102'), proto: ['/x'] } })
    check(bytes, '080a 4a08 0a020102 12022f78')
    assert.deepEqual(ours.HivemindRequest.decode(bytes).removeStreamHandler, { addr: unhex('0102'), proto: ['/x'] })
  })

  it('STREAM_HANDLER with balanced = 3 (written even when false)', () => {
    // 08 03 | 22 0a field 4 LEN 10 { 0a02 0102, 12 02 2f78, 18 01 balanced }
    check(ours.Request.encode({ type: ours.Request.Type.STREAM_HANDLER, streamHandler: { addr: unhex('0102'), proto: ['/x'], balanced: true } }), '0803 220a 0a020102 12022f78 1801')
    check(ours.StreamHandlerRequest.encode({ addr: unhex('0102'), proto: ['/x'], balanced: false }), '0a020102 12022f78 1800')
  })

  it('PersistentConnectionRequest alternatives', () => {
    const P = ours.PersistentConnectionRequest
    // callUnary = field 3 { peer 0102, proto /x, data empty (required in the fork: written) }
    check(P.encode({ callId, callUnary: { peer: unhex('0102'), proto: '/x', data: new Uint8Array(0) } }), `${callIdHex} 1a0a 0a020102 12022f78 1a00`)
    check(P.encode({ callId, addUnaryHandler: { proto: '/x', balanced: false } }), `${callIdHex} 1206 0a022f78 1000`)
    check(P.encode({ callId, unaryResponse: { response: unhex('aa') } }), `${callIdHex} 2203 0a01aa`)
    check(P.encode({ callId, unaryResponse: { error: unhex('6262') } }), `${callIdHex} 2204 12026262`)
    check(P.encode({ callId, cancel: {} }), `${callIdHex} 2a00`)
    check(P.encode({ callId, removeUnaryHandler: { proto: '/x' } }), `${callIdHex} 3204 0a022f78`)
    const decoded = P.decode(unhex(`${callIdHex} 1a0a 0a020102 12022f78 1a00`))
    assert.equal(hex(decoded.callUnary?.data ?? unhex('ff')), '')
    assert.equal(decoded.addUnaryHandler, undefined)
  })

  it('PersistentConnectionResponse alternatives', () => {
    const P = ours.PersistentConnectionResponse
    check(P.encode({ callId }), callIdHex) // ack of addUnaryHandler: no alternative set
    check(P.encode({ callId, callUnaryResponse: { response: unhex('aa') } }), `${callIdHex} 1203 0a01aa`)
    check(P.encode({ callId, requestHandling: { peer: unhex('01'), proto: '/x', data: unhex('02') } }), `${callIdHex} 1a0a 0a0101 12022f78 1a0102`)
    check(P.encode({ callId, daemonError: { message: 'boom' } }), `${callIdHex} 2206 0a04626f6f6d`)
    check(P.encode({ callId, cancel: {} }), `${callIdHex} 2a00`)
    assert.equal(P.decode(unhex(`${callIdHex} 2206 0a04626f6f6d`)).daemonError?.message, 'boom')
  })
})

describe('p2pd proto: dialect classifier', () => {
  const jsPeerstore = upstream.Request.encode({ type: upstream.Request.Type.PEERSTORE, peerStore: { type: upstream.PeerstoreRequest.Type.GET_PROTOCOLS, id: peer, protos: [] } })

  it('requests both dialects agree on are common', () => {
    assert.equal(classifyRequest(unhex('0800')), 'common')
    for (const c of cases.filter(c => c.ours === ours.Request && !c.name.startsWith('PEERSTORE'))) {
      assert.equal(classifyRequest(c.ours.encode(c.value)), 'common', c.name)
    }
    assert.equal(classifyRequest(unhex('0803 220a 0a020102 12022f78 1801')), 'common') // balanced handler
    assert.equal(classifyRequest(unhex('0817 ba01 08 0a020102 12022f78')), 'common') // our ext field 23
  })

  it('JS/py PEERSTORE is js', () => {
    assert.equal(classifyRequest(jsPeerstore), 'js')
    // UNSPECIFIED (0) is still written because the enum field is optional
    assert.equal(classifyRequest(upstream.Request.encode({ type: upstream.Request.Type.PEERSTORE, peerStore: { type: upstream.PeerstoreRequest.Type.UNSPECIFIED, protos: [] } })), 'js')
    assert.equal(classifyRequest(unhex('0809 4a04 1a022f61')), 'js') // only protos (field 3)
    assert.equal(classifyRequest(unhex('0809 4a00')), 'js') // empty peerStore with PEERSTORE
  })

  it('hivemind upgrade and removal are hivemind', () => {
    assert.equal(classifyRequest(unhex('0809')), 'hivemind')
    assert.equal(classifyRequest(unhex('080a')), 'hivemind')
    assert.equal(classifyRequest(unhex('080a 4a08 0a020102 12022f78')), 'hivemind')
    assert.equal(classifyRequest(unhex('080a 4a04 12022f78')), 'hivemind') // proto only
    assert.equal(classifyRequest(unhex('4a08 0a020102 12022f78 080a')), 'hivemind') // field order
    // the field-9 contents decide even if the type were missing or odd
    assert.equal(classifyRequest(unhex('4a04 0a020102')), 'hivemind')
    assert.equal(classifyRequest(unhex('4a02 0801')), 'js')
  })

  it('never throws on malformed bytes', () => {
    for (const h of ['', '08', '80', '0a05', '4aff', 'ffffffffffffffffffffff', '0b', '0809 4a05 0a']) {
      assert.equal(typeof classifyRequest(unhex(h)), 'string', h)
    }
  })

  it('decodeRequest picks the message type', () => {
    const js = decodeRequest(jsPeerstore)
    assert.equal(js.dialect, 'js')
    assert.equal(js.dialect === 'js' && js.request.peerStore?.type, ours.PeerstoreRequest.Type.GET_PROTOCOLS)
    const hm = decodeRequest(unhex('080a 4a08 0a020102 12022f78'))
    assert.equal(hm.dialect === 'hivemind' && hm.request.type, ours.HivemindRequest.Type.REMOVE_STREAM_HANDLER)
    assert.deepEqual(hm.dialect === 'hivemind' && hm.request.removeStreamHandler?.proto, ['/x'])
    assert.equal(decodeRequest(unhex('0809')).request.type, ours.HivemindRequest.Type.PERSISTENT_CONN_UPGRADE)
    assert.equal(decodeRequest(unhex('0814')).request.type, ours.Request.Type.VERSION)
  })
})
