import { readFileSync } from 'node:fs'

/** The package version, read once from package.json (works from src/ under tsx, from dist/src/ and from the bundle dist/libp2pd.mjs). */
export const VERSION: string = (() => {
  for (const rel of ['../package.json', '../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'libp2pd' && typeof pkg.version === 'string') return pkg.version
    } catch {}
  }
  return '0.0.0'
})()

/** The identify agent version this daemon announces. */
export const AGENT_VERSION = `libp2pd/${VERSION}`

/** The version of the control protocols spoken (p2pd wire protocol + our extensions; HTTP API). */
export const PROTOCOL_VERSION = 'p2pd/0.9.2+libp2pd.1'
