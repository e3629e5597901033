/**
 * The daemon's own control endpoints, so that a program cannot make the daemon deliver
 * libp2p streams to them. A STREAM_HANDLER aimed at the daemon's p2pd socket would have it
 * connect to itself: the StreamInfo fails as a request, and from then on every byte the
 * remote peer sends is read as a control request, which gives any peer that can open the
 * protocol the daemon's control plane (found by fuzzing: a remote VERSION was answered).
 */
import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { isLoopbackHost } from './endpoint.js'
import type { Endpoint } from './endpoint.js'

/** The endpoints a daemon serves its control planes on, as bound. */
export class OwnEndpoints {
  private readonly endpoints: Endpoint[] = []

  /** Records a plane's bound endpoint. */
  add (ep: Endpoint): void {
    this.endpoints.push(ep)
  }

  /**
   * Whether connecting to `ep` would reach one of this daemon's planes: the same unix
   * socket (by path, or by the file itself, through a symlink or a hard link), or the same
   * TCP port on a loopback address (the planes only ever listen on loopback).
   */
  includes (ep: Endpoint): boolean {
    if (ep.kind === 'tcp') return isLoopbackHost(ep.host) && this.endpoints.some(o => o.kind === 'tcp' && o.port === ep.port)
    const file = fileId(ep.path)
    return this.endpoints.some(o => o.kind === 'unix' && (resolve(o.path) === resolve(ep.path) || (file !== undefined && file === fileId(o.path))))
  }
}

/** Device and inode of a file, if it exists. */
function fileId (path: string): string | undefined {
  try {
    const st = statSync(path)
    return `${st.dev}:${st.ino}`
  } catch {
    return undefined
  }
}
