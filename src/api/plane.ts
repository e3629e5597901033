/** A running control plane (HTTP API or p2pd protocol). */
export interface ControlPlane {
  /** The endpoint actually bound, as a multiaddr (real port, never tcp/0). */
  readonly address: string
  /** Stops accepting, closes its connections, removes its socket file. */
  close(): Promise<void>
}
