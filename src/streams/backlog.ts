/**
 * A stream's backlog: bytes its reader has taken from the stream but the program has not yet
 * read. For a bridged stream (`bridge.ts`) that is what waits in the program's socket.
 *
 * js-libp2p's yamux grants the remote new receive window as data arrives, and again whenever
 * a paused stream resumes. A stream that resumes because the program's socket drained hands
 * its whole read buffer to the socket first (up to a window, 16 MiB on a fast link), and the
 * grant that follows counts all of it as consumed: the remote may then send another window
 * while the first still waits for the program. A daemon between a fast network and a slower
 * program so holds up to two windows per stream, in buffers that live long enough to be
 * promoted, and their collection was most of a receiving daemon's GC in bulk transfers
 * (docs/performance.md, "What limits the open goals").
 *
 * go-yamux grants window in `Read`, as the application consumes. The muxer wrapper
 * (`src/host/yamux-window.ts`) does the same, once the window is large (from its last
 * doubling on), by asking this registry before it grants: whatever is still in the backlog
 * stays counted against the window, and is granted once the program reads it (the bridge
 * resumes the stream on the socket's drain, which grants). A stream so holds at most one
 * window of the largest size for the program.
 *
 * The registry is keyed by the stream object and holds no strong reference to it; a reader
 * that stops tracking (or a stream that is collected) leaves nothing behind. A stream nobody
 * tracks has a backlog of 0, and its muxer behaves as before.
 */

const probes = new WeakMap<object, () => number>()

/**
 * Tells the stream's muxer how to read the backlog of `stream`: `probe` returns the bytes
 * taken from it and not yet read by the program. `undefined` stops tracking.
 */
export function trackBacklog (stream: object, probe: (() => number) | undefined): void {
  if (probe === undefined) probes.delete(stream)
  else probes.set(stream, probe)
}

/** Bytes taken from `stream` that the program has not read yet; 0 when nobody tracks it. */
export function backlogOf (stream: object): number {
  const probe = probes.get(stream)
  if (probe === undefined) return 0
  const bytes = probe()
  return Number.isFinite(bytes) && bytes > 0 ? bytes : 0
}
