/**
 * The daemon's private directory of per-stream unix sockets (mode 0700). Paths are short
 * (`<dir>/<stream id>.sock`) so they stay well under the OS limit of 107 bytes.
 */
import { rmSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkUnixPathLength } from '../net/endpoint.js'

/** A private directory holding stream sockets. */
export class SocketDir {
  private constructor (readonly path: string, private readonly owned: boolean) {}

  /**
   * Creates (or adopts) the directory. With no `dir` a fresh one is made under the system
   * temp directory and removed on `close`; a given directory is created 0700 if missing and
   * must not be readable by others.
   */
  static async open (dir = ''): Promise<SocketDir> {
    if (dir === '') {
      const path = await mkdtemp(join(tmpdir(), 'libp2pd-'))
      await chmod(path, 0o700)
      return new SocketDir(path, true)
    }
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const st = await stat(dir)
    if ((st.mode & 0o077) !== 0) await chmod(dir, 0o700)
    return new SocketDir(dir, false)
  }

  /** The socket path for a stream; the name is checked against the OS length limit. */
  socketPath (streamId: string): string {
    const p = join(this.path, `${streamId}.sock`)
    checkUnixPathLength(p)
    return p
  }

  /** Removes the directory if this daemon created it; a second call does nothing. */
  async close (): Promise<void> {
    if (this.owned) await rm(this.path, { recursive: true, force: true })
  }

  /** `close`, synchronously: for a process about to exit. */
  removeSync (): void {
    if (this.owned) rmSync(this.path, { recursive: true, force: true })
  }
}
