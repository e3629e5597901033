/**
 * The verdict of `npm run bench:compare` (bench/paired.ts): a geometric mean of per-round
 * ratios with a Student's t interval, so that a few noisy rounds cannot pass for a result.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { pairedRatio } from '../../bench/paired.ts'

describe('pairedRatio', () => {
  it('is the geometric mean: a round twice as fast and one half as fast cancel', () => {
    const r = pairedRatio([2, 0.5])
    assert.ok(Math.abs(r.mean - 1) < 1e-12)
    assert.ok(r.low < 0.5 && r.high > 2, 'two rounds this far apart prove nothing')
  })

  it('rounds that agree give a tight interval around their ratio', () => {
    const r = pairedRatio([1.1, 1.1, 1.1, 1.1])
    assert.ok(Math.abs(r.mean - 1.1) < 1e-12)
    assert.ok(Math.abs(r.low - 1.1) < 1e-12 && Math.abs(r.high - 1.1) < 1e-12)
  })

  it('uses Student\'s t: 8 rounds of ±10% noise around 1.16 stay clear of 1, 3 rounds do not', () => {
    const eight = pairedRatio([1.28, 1.05, 1.16, 1.27, 1.05, 1.16, 1.22, 1.1])
    assert.ok(eight.low > 1, `8 rounds: ${eight.low}–${eight.high}`)
    // by hand: logs' sd 0.0806, t(7) 2.36, half-width 0.0673 around ln(mean)
    assert.ok(Math.abs(eight.high / eight.low - Math.exp(2 * 2.36 * 0.0806 / Math.sqrt(8))) < 0.01)
    const three = pairedRatio([1.28, 1.05, 1.16])
    assert.ok(three.low < 1, `3 rounds: ${three.low}–${three.high}`)
  })

  it('a single round has no interval, and no rounds are an error', () => {
    const r = pairedRatio([1.3])
    assert.equal(r.low, 0)
    assert.equal(r.high, Infinity)
    assert.throws(() => pairedRatio([]), RangeError)
  })
})
