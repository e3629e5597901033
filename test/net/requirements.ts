/**
 * Whether this machine can run namespace tests, as a reason string for `t.skip()` /
 * `{ skip }` so a missing prerequisite is reported, never silently passed.
 */
import { hasCommand } from './shell.js'
import { findPython } from './delay-wire.js'

/**
 * Why network-namespace tests cannot run here, or `undefined` when they can: needs root
 * and `ip`, `tc`, `iptables`, `ethtool` (scripts/ci-net-deps.sh installs them).
 */
export function netTestSkipReason (): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'network namespace tests need root'
  const missing = ['ip', 'tc', 'iptables', 'ethtool'].filter(c => !hasCommand(c))
  if (missing.length > 0) return `missing ${missing.join(', ')}: run scripts/ci-net-deps.sh`
  return undefined
}

/** Why link delay (which needs python3 for the delay wire) cannot be used, or `undefined`. */
export function delaySkipReason (): string | undefined {
  try {
    findPython()
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}
