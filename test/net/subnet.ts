/**
 * IPv4 subnet arithmetic for the topology: parse a CIDR, hand out free host addresses.
 */

/** A LAN's IPv4 subnet and the addresses already given out on it. */
export class Subnet {
  readonly cidr: string
  readonly prefixLength: number
  private readonly base: number
  private readonly size: number
  private readonly used = new Set<number>()

  constructor (cidr: string) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr)
    if (m === null) throw new Error(`subnet ${JSON.stringify(cidr)} is not an IPv4 CIDR like 10.77.1.0/24`)
    const len = Number(m[5])
    if (len < 8 || len > 29) throw new Error(`subnet ${cidr}: prefix length must be 8..29`)
    const ip = toInt(m.slice(1, 5).join('.'))
    this.size = 2 ** (32 - len)
    this.base = ip - (ip % this.size)
    this.prefixLength = len
    this.cidr = `${toDotted(this.base)}/${len}`
  }

  /** Whether `ip` is a usable host address of this subnet (not network or broadcast). */
  contains (ip: string): boolean {
    const n = toInt(ip)
    return n > this.base && n < this.base + this.size - 1
  }

  /**
   * Reserves `ip` if given (it must be in the subnet and free), otherwise the lowest
   * free host address. Returns the dotted address.
   */
  allocate (ip?: string): string {
    if (ip !== undefined) {
      if (!this.contains(ip)) throw new Error(`${ip} is not a host address of ${this.cidr}`)
      const n = toInt(ip)
      if (this.used.has(n)) throw new Error(`${ip} is already used on ${this.cidr}`)
      this.used.add(n)
      return ip
    }
    for (let n = this.base + 1; n < this.base + this.size - 1; n++) {
      if (!this.used.has(n)) {
        this.used.add(n)
        return toDotted(n)
      }
    }
    throw new Error(`subnet ${this.cidr} is full`)
  }
}

function toInt (ip: string): number {
  const parts = ip.split('.').map(Number)
  if (parts.length !== 4 || parts.some(p => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`${JSON.stringify(ip)} is not an IPv4 address`)
  }
  return ((parts[0] * 256 + parts[1]) * 256 + parts[2]) * 256 + parts[3]
}

function toDotted (n: number): string {
  return [24, 16, 8, 0].map(s => Math.floor(n / 2 ** s) % 256).join('.')
}
