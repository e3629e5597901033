/**
 * The adapter interface between benchmark scenarios and the things being measured.
 *
 * A scenario is written once against {@link Pair}; each target (raw sockets, in-process
 * js-libp2p, the reference daemon, libp2pd over HTTP or p2pd) supplies a {@link BenchTarget}
 * that builds two connected peers, A and B. Scenarios never know which target they drive.
 */

/**
 * A minimal byte pipe: one end of a bidirectional stream. Both Node sockets and libp2p
 * streams are adapted to it (see `pipes.ts`) so that scenarios do not care which it is.
 */
export interface BytePipe {
  /** Queue bytes; resolves once the pipe can take more (backpressure is honoured). */
  write (data: Uint8Array, options?: { signal?: AbortSignal }): Promise<void>
  /** Next chunk of any size, or `null` at end of stream. Rejects when the signal aborts. */
  read (options?: { signal?: AbortSignal }): Promise<Uint8Array | null>
  /** Half-close: no more writes from this side; reads keep working. */
  end (options?: { signal?: AbortSignal }): Promise<void>
  /** Tear down both directions at once (reset); never throws. */
  destroy (): void
}

/**
 * What B does with each inbound stream; implemented once in `handlers.ts` (`serveHandler`).
 * Handlers are named rather than passed as functions so that a target may run B's
 * application side in another process (needed when every stream costs a file descriptor:
 * 10,000 streams would otherwise put 20,000 sockets in the worker, past the fd limit).
 *  - `echo`: write every byte back until end of stream, then end.
 *  - `sink`: read an 8-byte big-endian length L, then L bytes, then reply with one byte.
 *  - `stall`: never read (a reader that stopped reading).
 */
export type HandlerKind = 'echo' | 'sink' | 'stall'

/** Optional unary (request → response) plane, e.g. the hivemind-style p2pd extension. */
export interface UnaryPlane {
  /** Serve `protocol` on B, answering each request with its own bytes (echo). */
  handle (protocol: string): Promise<void>
  /** Call `protocol` on B from A over the persistent connection. */
  call (protocol: string, request: Uint8Array, options?: { signal?: AbortSignal }): Promise<Uint8Array>
}

/** Two connected peers, A (dialer) and B (listener), as one target sees them. */
export interface Pair {
  /** Open a stream from A to B on `protocol`; B's handler for it must be registered first. */
  open (protocol: string, options?: { signal?: AbortSignal }): Promise<BytePipe>
  /** Serve every inbound stream on `protocol` at B with the named handler. */
  handle (protocol: string, kind: HandlerKind, options?: { signal?: AbortSignal }): Promise<void>
  /**
   * Processes whose CPU time and RSS make up the cost of this target: the daemon processes
   * for daemon targets (not the application side), the benchmark worker's own pid for
   * in-process targets, every process involved for raw sockets.
   */
  pids (): number[]
  /** Present only when the target has a unary plane (libp2pd over p2pd). */
  unary?: UnaryPlane
  /** Release everything `setup` created, including child processes. Never throws. */
  close (): Promise<void>
}

/** Options every target's `setup` receives. */
export interface SetupOptions {
  /** Bounds the whole setup (spawning, connecting); targets must honour it. */
  signal: AbortSignal
  /** Hint for targets that must raise stream limits (the concurrency scenario). */
  maxStreams: number
}

/** What kind of thing a target is; scenarios use it to decide whether they apply. */
export type TargetKind = 'raw' | 'in-process' | 'daemon'

/** One thing to benchmark. */
export interface BenchTarget {
  /** Short name used on the command line (`--target`) and in the table. */
  name: string
  kind: TargetKind
  /** One line for the report. */
  description: string
  /** `true` when usable on this machine now, otherwise the reason it is not. */
  available (): Promise<true | string>
  /** Build a fresh connected pair. The caller always calls `close()` on it. */
  setup (options: SetupOptions): Promise<Pair>
}
