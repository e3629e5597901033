/**
 * NAT gateway rules (iptables inside the gateway's namespace).
 *
 * Linux conntrack always filters inbound packets per mapping (only the exact remote
 * address and port a mapping was made for may answer), so the two types differ in
 * *mapping*, which is what decides whether hole punching can work:
 *
 * - `full-cone`: plain MASQUERADE, which keeps the inside source port whenever it is free,
 *   so one inside socket appears as the same outside ip:port to every remote
 *   (endpoint-independent mapping). With conntrack's filtering this is, strictly, a
 *   port-restricted cone NAT: unsolicited inbound packets are dropped, but simultaneous
 *   open (DCUtR) succeeds because both sides' outbound packets create the mappings.
 * - `symmetric`: MASQUERADE `--random-fully`, a random outside port per new mapping, so
 *   each remote sees a different port (endpoint-dependent mapping); hole punching fails.
 *
 * Both forward inside → outside freely and outside → inside only for established flows.
 */
import { must, inNs } from './shell.js'

/** How a NAT gateway maps inside sockets to outside ports. */
export type NatType = 'full-cone' | 'symmetric'

/** Installs forwarding and masquerading from `insideIf` to `outsideIf` in namespace `ns`. */
export async function addNatRules (ns: string, insideIf: string, outsideIf: string, type: NatType): Promise<void> {
  if (type !== 'full-cone' && type !== 'symmetric') throw new Error(`unknown NAT type ${String(type)}`)
  const ipt = async (args: string[]): Promise<void> => {
    await must('ip', inNs(ns, 'iptables', ['-w', '5', ...args]))
  }
  await ipt(['-t', 'nat', '-A', 'POSTROUTING', '-o', outsideIf, '-j', 'MASQUERADE',
    ...(type === 'symmetric' ? ['--random-fully'] : [])])
  await ipt(['-P', 'FORWARD', 'DROP'])
  await ipt(['-A', 'FORWARD', '-i', insideIf, '-o', outsideIf, '-j', 'ACCEPT'])
  await ipt(['-A', 'FORWARD', '-i', outsideIf, '-o', insideIf, '-m', 'conntrack',
    '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'])
}
