/**
 * Last-resort teardown: topologies still alive when the process ends are removed
 * synchronously from the 'exit' event, and on SIGINT/SIGTERM (which skip 'exit' when
 * nothing handles them) before the signal is re-raised.
 */

/** What the hooks need from a topology. */
export interface SyncDestroyable {
  destroySync: () => void
}

const live = new Set<SyncDestroyable>()
let installed = false

function destroyAll (): void {
  for (const t of [...live]) {
    try { t.destroySync() } catch {}
  }
  live.clear()
}

function onSignal (signal: NodeJS.Signals): void {
  destroyAll()
  // If we were the only listener, behave as if we had never listened: die of the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
}

function install (): void {
  if (installed) return
  installed = true
  process.on('exit', destroyAll)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
}

/** Records a live topology so the hooks remove it if the test does not. */
export function registerLive (t: SyncDestroyable): void {
  install()
  live.add(t)
}

/** Forgets a topology that was destroyed normally. */
export function unregisterLive (t: SyncDestroyable): void {
  live.delete(t)
}
