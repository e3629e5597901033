/**
 * libp2pd targets — placeholders until the daemon exists. They report "not available", so
 * the table shows their rows as pending; the adapters will be filled in by whoever lands
 * the daemon, against the same {@link BenchTarget} interface as the baselines.
 *
 * TODO(libp2pd adapters), intended approach for both targets:
 *  - setup(): spawn `node bin/libp2pd.js` twice (plain `spawn`, stdio piped, killed in
 *    close() like `child.ts` does: SIGTERM then SIGKILL), each with
 *      -hostAddrs /ip4/127.0.0.1/tcp/0 -listen /unix/<tmp>/<a|b>.sock -httpListen /unix/<tmp>/<a|b>-http.sock
 *    and read stdout, bounded by the setup signal, until the banner lines `Control socket:`,
 *    `Peer ID:`, `Peer Addrs:` and `HTTP API:` have all been seen. pids() = the two children.
 *    Connect A to B once (HTTP: the connect endpoint; p2pd: CONNECT).
 *  - libp2pd-http: handle() registers B's handler through the HTTP API (inbound streams
 *    arrive as unix sockets → `socketPipe`); open() asks A's HTTP API for a stream and
 *    connects to the unix socket it returns → `socketPipe`.
 *  - libp2pd-p2pd: speak the p2pd protocol directly on Node sockets (varint-delimited
 *    `Request`/`Response` from @libp2p/daemon-protocol): STREAM_OPEN on a fresh control
 *    connection, then the socket is the stream; STREAM_HANDLER pointing at one persistent
 *    unix listener that reads StreamInfo and dispatches (see reference.ts). Also provide
 *    `pair.unary` through the hivemind-style unary extension so the `unary` scenario runs.
 *  - available(): check that `dist/` is built and `bin/libp2pd.js` exists.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { BenchTarget } from '../target.ts'

const BIN = fileURLToPath(new URL('../../bin/libp2pd.js', import.meta.url))

function pending (name: string, plane: string): BenchTarget {
  return {
    name,
    kind: 'daemon',
    description: `two libp2pd processes driven through ${plane} (pending)`,
    async available () {
      return existsSync(BIN) ? 'adapter not implemented yet (see TODO in bench/targets/libp2pd.ts)' : 'bin/libp2pd.js not built yet'
    },
    async setup () {
      throw new Error(`${name}: not available yet`)
    }
  }
}

export const libp2pdHttpTarget = pending('libp2pd-http', 'the HTTP API (unix stream sockets)')
export const libp2pdP2pdTarget = pending('libp2pd-p2pd', 'the p2pd control protocol')
