/**
 * Multi-host test networks from Linux network namespaces, for node:test tests.
 *
 * Every LAN is a namespace holding a bridge (`br0`); every host and NAT gateway is a
 * namespace joined to LANs by veth pairs. Nothing is created in, or routed through, the
 * root namespace: the root namespace's interfaces, routes and firewall are never touched.
 * Tests drive daemons inside namespaces through unix sockets, which are filesystem objects
 * and so reachable from the root namespace (see docs/testing.md).
 *
 *   const topo = await createTopology({ prefix: 'dht' })
 *   try {
 *     await topo.addLan('wan', { subnet: '10.77.0.0/24' })
 *     const a = await topo.addHost('a', { lan: 'wan' })
 *     const child = topo.spawn('a', process.execPath, ['server.js'])
 *   } finally { await topo.destroy() }
 */
import { spawn } from 'node:child_process'
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import { BRIDGE, Link, disableOffloads } from './link.js'
import type { LinkShaping } from './link.js'
import { createNamespace, deleteNamespace, deleteNamespaceSync, newRunId, nsSuffix, sweepStaleNamespaces } from './namespaces.js'
import { must, run, inNs, stopChild } from './shell.js'
import type { RunOptions, RunResult } from './shell.js'
import { Subnet } from './subnet.js'
import { registerLive, unregisterLive } from './cleanup-hooks.js'
import { addNatRules } from './nat.js'
import type { NatType } from './nat.js'

export type { LinkShaping } from './link.js'
export type { NatType } from './nat.js'
export type { RunOptions, RunResult } from './shell.js'
export { netTestSkipReason, delaySkipReason } from './requirements.js'

/** Options of {@link createTopology}. */
export interface TopologyOptions {
  /** Namespace name prefix: lowercase letters/digits, ≤ 12 chars. Default `l2pt`. */
  prefix?: string
}

/** A LAN as the test sees it. */
export interface LanInfo {
  name: string
  /** The namespace holding the LAN's bridge. */
  ns: string
  subnet: string
  /** Inside address of the NAT gateway serving this LAN, once one was added. */
  gateway?: string
}

/** A host or NAT gateway as the test sees it. */
export interface NodeInfo {
  name: string
  kind: 'host' | 'nat'
  /** Its network namespace: `ip netns exec <ns> …` runs inside it. */
  ns: string
  /** Address on its first LAN (for a NAT gateway: its outside, "public" address). */
  ip: string
  /** Address per LAN name. */
  ips: Record<string, string>
  /** Interface name inside `ns` per LAN name. */
  interfaces: Record<string, string>
}

interface Lan { info: LanInfo, subnet: Subnet }
interface Node { info: NodeInfo, links: Link[], uplink: string }

/** Where a link operation applies, for nodes on several LANs (NAT gateways). */
export interface LinkSelector {
  /** LAN whose attachment to change; default: the node's uplink (a gateway's outside LAN). */
  lan?: string
}

/**
 * Creates an empty topology after removing namespaces left by crashed runs with the same
 * prefix. Whatever it creates is removed by `destroy()`, or by the process 'exit' /
 * SIGINT / SIGTERM hooks if the test never gets that far.
 */
export async function createTopology (opts: TopologyOptions = {}): Promise<Topology> {
  const prefix = opts.prefix ?? 'l2pt'
  await sweepStaleNamespaces(prefix)
  return new Topology(newRunId(prefix))
}

/** A set of namespaces, veths, rules and processes owned by one test. */
export class Topology {
  /** Stem of every namespace name of this topology: `<prefix>-<pid>-<random>`. */
  readonly runId: string
  private readonly lans = new Map<string, Lan>()
  private readonly nodes = new Map<string, Node>()
  private readonly namespaces: string[] = []
  private readonly children = new Set<ChildProcess>()
  private nextLink = 0
  private destroying: Promise<void> | undefined

  constructor (runId: string) {
    this.runId = runId
    registerLive(this)
  }

  /** Adds a LAN: a switch namespace with a bridge. `subnet` defaults to 10.77.<n>.0/24. */
  async addLan (name: string, opts: { subnet?: string } = {}): Promise<LanInfo> {
    this.checkOpen()
    if (this.lans.has(name)) throw new Error(`LAN ${name} exists`)
    const subnet = new Subnet(opts.subnet ?? `10.77.${this.lans.size + 1}.0/24`)
    const ns = await this.newNamespace(`lan_${nsSuffix(name)}`)
    await must('ip', ['-n', ns, 'link', 'add', BRIDGE, 'type', 'bridge'])
    await must('ip', ['-n', ns, 'link', 'set', BRIDGE, 'up'])
    const lan: Lan = { info: { name, ns, subnet: subnet.cidr }, subnet }
    this.lans.set(name, lan)
    return { ...lan.info }
  }

  /** Adds a host on `lan` with `ip` (default: next free address). Hosts behind a NAT route through it. */
  async addHost (name: string, opts: { lan: string, ip?: string }): Promise<NodeInfo> {
    const node = await this.addNode(name, 'host', opts.lan)
    await this.attach(node, opts.lan, opts.ip)
    await this.setDefaultRoute(node)
    return this.host(name)
  }

  /**
   * Adds a NAT gateway routing `inside` to `outside` with iptables MASQUERADE (see nat.ts
   * for what each type means). Hosts on `inside`, now and later, get it as default route.
   */
  async addNatGateway (name: string, opts: { inside: string, outside: string, type: NatType, insideIp?: string, outsideIp?: string }): Promise<NodeInfo> {
    const inside = this.lan(opts.inside)
    if (inside.info.gateway !== undefined) throw new Error(`LAN ${opts.inside} already has a gateway`)
    const node = await this.addNode(name, 'nat', opts.outside)
    const out = await this.attach(node, opts.outside, opts.outsideIp)
    const inn = await this.attach(node, opts.inside, opts.insideIp)
    await addNatRules(node.info.ns, inn.nodeIf, out.nodeIf, opts.type)
    await this.setDefaultRoute(node)
    inside.info.gateway = inn.ip
    for (const other of this.nodes.values()) {
      if (other.uplink === opts.inside) await this.setDefaultRoute(other)
    }
    return this.host(name)
  }

  /** Replaces the impairments of `node`'s link (omitted fields are removed). */
  async setLink (node: string, shaping: LinkShaping, at: LinkSelector = {}): Promise<void> {
    this.checkOpen()
    await this.link(node, at).set(shaping)
  }

  /** Cuts `node`'s link: frames vanish silently in the switch, the node keeps its carrier. */
  async cutLink (node: string, at: LinkSelector = {}): Promise<void> {
    this.checkOpen()
    await this.link(node, at).setCut(true)
  }

  /** Undoes {@link cutLink}. */
  async restoreLink (node: string, at: LinkSelector = {}): Promise<void> {
    this.checkOpen()
    await this.link(node, at).setCut(false)
  }

  /** Runs `cmd args` inside `node`'s namespace; resolves with its exit code and output. */
  async exec (node: string, cmd: string, args: string[] = [], opts: RunOptions = {}): Promise<RunResult> {
    this.checkOpen()
    return await run('ip', inNs(this.node(node).info.ns, cmd, args), opts)
  }

  /**
   * Starts `cmd args` inside `node`'s namespace (`ip netns exec` execs it, so the child's
   * pid is the command's). The topology kills it on destroy if it still runs.
   */
  spawn (node: string, cmd: string, args: string[] = [], opts: SpawnOptions = {}): ChildProcess {
    this.checkOpen()
    const child = spawn('ip', inNs(this.node(node).info.ns, cmd, args), opts)
    this.track(child)
    return child
  }

  /** Describes a host or gateway. */
  host (name: string): NodeInfo {
    const info = this.node(name).info
    return { ...info, ips: { ...info.ips }, interfaces: { ...info.interfaces } }
  }

  /** Address of `node` on `lan` (default: its uplink LAN). */
  ip (node: string, lan?: string): string {
    const n = this.node(node)
    const ip = n.info.ips[lan ?? n.uplink]
    if (ip === undefined) throw new Error(`${node} is not on LAN ${String(lan)}`)
    return ip
  }

  /** Describes a LAN. */
  lanInfo (name: string): LanInfo {
    return { ...this.lan(name).info }
  }

  /** Every namespace this topology created, in creation order. */
  get namespaceNames (): string[] {
    return [...this.namespaces]
  }

  /**
   * Kills every process it started (SIGTERM, SIGKILL after 2 s), then deletes every
   * namespace (killing anything else left inside). Idempotent; concurrent calls share one run.
   */
  async destroy (): Promise<void> {
    this.destroying ??= (async () => {
      await Promise.all([...this.children].map(async c => { await stopChild(c) }))
      for (const node of this.nodes.values()) for (const l of node.links) await l.close()
      for (const ns of this.namespaces.reverse()) await deleteNamespace(ns)
      this.namespaces.length = 0
      unregisterLive(this)
    })()
    await this.destroying
  }

  /** Synchronous teardown for the process 'exit' hook; prefer {@link destroy}. */
  destroySync (): void {
    for (const c of this.children) c.kill('SIGKILL')
    for (const ns of this.namespaces.reverse()) deleteNamespaceSync(ns)
    this.namespaces.length = 0
    unregisterLive(this)
  }

  private checkOpen (): void {
    if (this.destroying !== undefined) throw new Error('topology is destroyed')
  }

  private track (child: ChildProcess): void {
    this.children.add(child)
    child.once('exit', () => { this.children.delete(child) })
    child.once('error', () => { this.children.delete(child) })
  }

  private async newNamespace (suffix: string, sysctls: string[] = []): Promise<string> {
    let ns = `${this.runId}-${suffix}`
    // Different node names can sanitize to the same suffix: keep namespace names unique.
    if (this.namespaces.includes(ns)) ns = `${ns}_${this.namespaces.length}`
    // Recorded before creation so a half-made namespace is still removed.
    this.namespaces.push(ns)
    await createNamespace(ns, sysctls)
    return ns
  }

  private async addNode (name: string, kind: 'host' | 'nat', uplink: string): Promise<Node> {
    this.checkOpen()
    if (this.nodes.has(name)) throw new Error(`node ${name} exists`)
    this.lan(uplink)
    const ns = await this.newNamespace(nsSuffix(name), kind === 'nat' ? ['net.ipv4.ip_forward=1'] : [])
    const node: Node = { info: { name, kind, ns, ip: '', ips: {}, interfaces: {} }, links: [], uplink }
    this.nodes.set(name, node)
    return node
  }

  private async attach (node: Node, lanName: string, wantIp?: string): Promise<Link> {
    const lan = this.lan(lanName)
    const ip = lan.subnet.allocate(wantIp)
    const link = new Link(lanName, lan.info.ns, node.info.ns, node.links.length, this.nextLink++, ip, c => { this.track(c) })
    await must('ip', ['-n', lan.info.ns, 'link', 'add', link.port, 'type', 'veth', 'peer', 'name', link.nodeIf, 'netns', node.info.ns])
    await disableOffloads(lan.info.ns, link.port)
    await disableOffloads(node.info.ns, link.nodeIf)
    await must('ip', ['-n', lan.info.ns, 'link', 'set', 'dev', link.port, 'master', BRIDGE, 'up'])
    await must('ip', ['-n', node.info.ns, 'addr', 'add', `${ip}/${lan.subnet.prefixLength}`, 'dev', link.nodeIf])
    await must('ip', ['-n', node.info.ns, 'link', 'set', 'dev', link.nodeIf, 'up'])
    node.links.push(link)
    node.info.ips[lanName] = ip
    node.info.interfaces[lanName] = link.nodeIf
    if (node.info.ip === '') node.info.ip = ip
    return link
  }

  private async setDefaultRoute (node: Node): Promise<void> {
    const gw = this.lan(node.uplink).info.gateway
    if (gw === undefined) return
    await must('ip', ['-n', node.info.ns, 'route', 'replace', 'default', 'via', gw])
  }

  private lan (name: string): Lan {
    const lan = this.lans.get(name)
    if (lan === undefined) throw new Error(`no LAN ${name}`)
    return lan
  }

  private node (name: string): Node {
    const node = this.nodes.get(name)
    if (node === undefined) throw new Error(`no host ${name}`)
    return node
  }

  private link (name: string, at: LinkSelector): Link {
    const node = this.node(name)
    const lan = at.lan ?? node.uplink
    const link = node.links.find(l => l.lan === lan)
    if (link === undefined) throw new Error(`${name} is not on LAN ${lan}`)
    return link
  }
}
