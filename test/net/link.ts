/**
 * One node's attachment to a LAN, and the impairments on it.
 *
 *   node ns                 LAN switch ns
 *   eth<k> ══ veth ══ p<N> ─── br0                       (plain link)
 *   eth<k> ══ veth ══ p<N> ~wire~ w<N> ══ veth ══ x<N> ─── br0   (link with delay)
 *
 * - loss: iptables `-m statistic --mode random` DROP in the switch namespace, matched with
 *   `physdev` on the bridge port in both directions (bridged frames pass iptables there
 *   because br_netfilter is on). Dropping in the switch rather than in the node namespace
 *   keeps it silent: a local OUTPUT drop would hand EPERM to the sender's socket.
 * - rate: `tc tbf` on the node's eth<k> (upload) and on p<N> (download).
 * - delay: a delay wire process (delay-wire.py) spliced between p<N> and the bridge.
 * - cut: the bridge port leaves the bridge, so frames vanish without the node seeing its
 *   carrier drop (like a failure further along the path); restore puts it back.
 */
import type { ChildProcess } from 'node:child_process'
import { DelayWire } from './delay-wire.js'
import { must, run, inNs } from './shell.js'

/** Impairments of one link; an omitted field means "none". Applies in both directions. */
export interface LinkShaping {
  /** Percentage (0–100) of frames dropped, independently in each direction. */
  lossPercent?: number
  /** Bandwidth limit in kbit/s, in each direction (token bucket, tc tbf). */
  rateKbit?: number
  /** One-way delay in ms added in each direction: the round-trip time grows by 2 × delayMs. */
  delayMs?: number
}

/** The bridge every LAN switch namespace holds. */
export const BRIDGE = 'br0'

/** Interface offloads off, so frames a delay wire reads are complete (checksummed, ≤ MTU). */
export async function disableOffloads (ns: string, dev: string): Promise<void> {
  await must('ip', inNs(ns, 'ethtool', ['-K', dev, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']))
}

function checkShaping (s: LinkShaping): void {
  const bad = (what: string): never => { throw new Error(`setLink: ${what}`) }
  if (s.lossPercent !== undefined && !(s.lossPercent >= 0 && s.lossPercent <= 100)) bad('lossPercent must be 0..100')
  if (s.rateKbit !== undefined && !(Number.isInteger(s.rateKbit) && s.rateKbit >= 8)) bad('rateKbit must be an integer ≥ 8')
  if (s.delayMs !== undefined && !(s.delayMs >= 0 && s.delayMs <= 10_000)) bad('delayMs must be 0..10000')
}

/** One node's veth attachment to one LAN; owns its shaping rules and its delay wire. */
export class Link {
  /** Interface name inside the node namespace (`eth0`, `eth1`, …). */
  readonly nodeIf: string
  /** The veth peer in the switch namespace. */
  readonly port: string
  private shaping: LinkShaping = {}
  private cut = false
  private wire: DelayWire | undefined
  private chainReady = false

  constructor (
    readonly lan: string,
    readonly switchNs: string,
    readonly nodeNs: string,
    nodeIndex: number,
    readonly index: number,
    readonly ip: string,
    private readonly track: (child: ChildProcess) => void
  ) {
    this.nodeIf = `eth${nodeIndex}`
    this.port = `p${index}`
  }

  private get chain (): string { return `L${this.index}` }
  private get wirePort (): string { return `w${this.index}` }
  private get wireBridgePort (): string { return `x${this.index}` }
  /** The interface currently enslaved to the bridge. */
  private get bridgePort (): string { return this.wire !== undefined ? this.wireBridgePort : this.port }

  /** Current impairments (a copy). */
  get current (): LinkShaping & { cut: boolean } {
    return { ...this.shaping, cut: this.cut }
  }

  /** Replaces the link's impairments with `shaping` (omitted fields are removed). */
  async set (shaping: LinkShaping): Promise<void> {
    checkShaping(shaping)
    await this.setDelay(shaping.delayMs ?? 0)
    await this.setLoss(shaping.lossPercent ?? 0)
    await this.setRate(shaping.rateKbit)
    this.shaping = { ...shaping }
  }

  /** Cuts (`true`) or restores (`false`) the link. */
  async setCut (cut: boolean): Promise<void> {
    this.cut = cut
    await this.sw('ip', ['link', 'set', 'dev', this.bridgePort, ...(cut ? ['nomaster'] : ['master', BRIDGE])])
  }

  /** Stops the delay wire, if any (namespace deletion removes everything else). */
  async close (): Promise<void> {
    await this.wire?.stop()
    this.wire = undefined
  }

  private async sw (cmd: string, args: string[]): Promise<string> {
    return await must('ip', inNs(this.switchNs, cmd, args))
  }

  private async setDelay (delayMs: number): Promise<void> {
    if (delayMs > 0 && this.wire !== undefined) { this.wire.setDelay(delayMs); return }
    if (delayMs > 0) {
      // Splice the wire in: a fresh veth pair whose far end takes p<N>'s place on the bridge.
      await run('ip', inNs(this.switchNs, 'ip', ['link', 'del', this.wirePort]))
      await this.sw('ip', ['link', 'add', this.wirePort, 'type', 'veth', 'peer', 'name', this.wireBridgePort])
      await disableOffloads(this.switchNs, this.wirePort)
      await disableOffloads(this.switchNs, this.wireBridgePort)
      for (const dev of [this.wirePort, this.wireBridgePort]) await this.sw('ip', ['link', 'set', 'dev', dev, 'up'])
      this.wire = await DelayWire.start(this.switchNs, this.port, this.wirePort, delayMs, this.track)
      await this.sw('ip', ['link', 'set', 'dev', this.port, 'nomaster'])
      if (!this.cut) await this.sw('ip', ['link', 'set', 'dev', this.wireBridgePort, 'master', BRIDGE])
      return
    }
    if (this.wire === undefined) return
    await this.close()
    await this.sw('ip', ['link', 'del', this.wirePort])
    if (!this.cut) await this.sw('ip', ['link', 'set', 'dev', this.port, 'master', BRIDGE])
  }

  private async setLoss (lossPercent: number): Promise<void> {
    if (!this.chainReady) {
      if (lossPercent === 0) return
      await this.sw('iptables', ['-w', '5', '-N', this.chain])
      await this.sw('iptables', ['-w', '5', '-A', 'FORWARD', '-j', this.chain])
      this.chainReady = true
    }
    await this.sw('iptables', ['-w', '5', '-F', this.chain])
    if (lossPercent === 0) return
    const p = (lossPercent / 100).toFixed(6)
    for (const dir of ['--physdev-in', '--physdev-out']) {
      await this.sw('iptables', ['-w', '5', '-A', this.chain, '-m', 'physdev', dir, this.bridgePort,
        '-m', 'statistic', '--mode', 'random', '--probability', p, '-j', 'DROP'])
    }
  }

  private async setRate (rateKbit: number | undefined): Promise<void> {
    const targets: Array<[string, string]> = [[this.nodeNs, this.nodeIf], [this.switchNs, this.port]]
    for (const [ns, dev] of targets) {
      if (rateKbit === undefined) {
        await run('ip', inNs(ns, 'tc', ['qdisc', 'del', 'dev', dev, 'root']))
        continue
      }
      // Burst must hold at least one tick's worth of tokens and one full frame.
      const burst = Math.max(4096, Math.ceil(rateKbit * 1000 / 8 / 100))
      await must('ip', inNs(ns, 'tc', ['qdisc', 'replace', 'dev', dev, 'root', 'tbf',
        'rate', `${rateKbit}kbit`, 'burst', String(burst), 'latency', '200ms']))
    }
  }
}
