/** Every scenario, in table order. */
import { bulk } from './bulk.ts'
import { concurrent } from './concurrent.ts'
import { idleRss, idleStreams } from './idle.ts'
import { roundTrips } from './round-trips.ts'
import { stalledReader } from './stalled-reader.ts'
import { streamPerRequestScenario } from './stream-per-request.ts'
import { unary } from './unary.ts'
import type { Scenario } from '../scenario.ts'

export const scenarios: Scenario[] = [
  bulk,
  roundTrips,
  streamPerRequestScenario,
  unary,
  concurrent,
  idleStreams,
  idleRss,
  stalledReader
]
