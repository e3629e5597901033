/**
 * The pairings the interop suite runs with: which daemon stands for the suite's `go` peers and
 * which for its `js` peers. The suite skips go⇄go in its connect and stream matrices, so every
 * pairing mixes the two sides there; relay and DHT tests also run go⇄go and js⇄js.
 */
import { spawnLibp2pdPeer } from './libp2pd-peer.js'
import { spawnReferencePeer } from './reference-peer.js'
import type { Daemon, DaemonFactory, SpawnOptions } from '@libp2p/interop'

/** Which daemon implementation plays a side. */
export type Implementation = 'libp2pd' | 'reference'

/** One way of casting the suite's two peer types. */
export interface Pairing {
  /** Short name, used to select pairings (`INTEROP_PAIRINGS`). */
  name: string
  title: string
  go: Implementation
  js: Implementation
  /**
   * Test titles to leave out because another pairing already runs them with the same
   * implementations (mocha `--grep --invert`, applied by run-pairing.ts).
   */
  exclude?: RegExp
}

/** Titles of tests in which every peer is of the suite's `js` type. */
const ALL_JS = /js (sender|peer) to js (listener|peer)|^js to js over relay js/

/** Every pairing, in the order they run. */
export const PAIRINGS: readonly Pairing[] = [
  { name: 'reference-reference', title: 'reference ⇄ reference (harness control)', go: 'reference', js: 'reference' },
  { name: 'libp2pd-libp2pd', title: 'libp2pd ⇄ libp2pd', go: 'libp2pd', js: 'libp2pd' },
  // the all-js tests of this casting are reference ⇄ reference: the control pairing runs them
  { name: 'libp2pd-reference', title: 'libp2pd ⇄ reference', go: 'libp2pd', js: 'reference', exclude: ALL_JS }
]

/**
 * A factory that owns every daemon it starts: the suite's hooks stop them, and `stopAll` stops
 * whatever a failed or timed-out hook left running.
 */
export class PairingFactory implements DaemonFactory {
  private readonly running = new Set<Daemon>()
  private readonly starting = new Set<Promise<unknown>>()
  private closed = false

  constructor (private readonly pairing: Pairing) {}

  async spawn (options: SpawnOptions): Promise<Daemon> {
    if (this.closed) throw new Error('factory closed: the part is over')
    const impl = options.type === 'go' ? this.pairing.go : this.pairing.js
    const starting = impl === 'libp2pd' ? spawnLibp2pdPeer(options) : spawnReferencePeer(options)
    this.starting.add(starting)
    const t0 = Date.now()
    let daemon: Daemon
    try { daemon = await starting } finally { this.starting.delete(starting) }
    if (process.env.INTEROP_DEBUG !== undefined) console.error(`interop: ${impl} ${JSON.stringify(options)} up in ${Date.now() - t0} ms`)
    // a hook that timed out may still be spawning after stopAll(): stop what it gets
    if (this.closed) {
      await daemon.stop()
      throw new Error('factory closed: the part is over')
    }
    this.running.add(daemon)
    return {
      client: daemon.client,
      stop: async () => {
        this.running.delete(daemon)
        await daemon.stop()
      }
    }
  }

  /** Refuses new spawns, waits for those in flight, stops every daemon not stopped yet; returns how many there were. */
  async stopAll (): Promise<number> {
    this.closed = true
    await Promise.allSettled([...this.starting])
    const left = [...this.running]
    this.running.clear()
    await Promise.allSettled(left.map(async d => { await d.stop() }))
    return left.length
  }
}
