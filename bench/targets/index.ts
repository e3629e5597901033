/** Every benchmark target, in table order: the baselines first, then libp2pd. */
import { jslibp2pTarget } from './jslibp2p.ts'
import { libp2pdHttpTarget, libp2pdP2pdTarget } from './libp2pd.ts'
import { rawTarget } from './raw.ts'
import { referenceTarget } from './reference.ts'
import { relayTarget } from './relay.ts'
import type { BenchTarget } from '../target.ts'

export const targets: BenchTarget[] = [
  rawTarget,
  relayTarget,
  jslibp2pTarget,
  referenceTarget,
  libp2pdHttpTarget,
  libp2pdP2pdTarget
]
