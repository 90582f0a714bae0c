/**
 * IPv4 access lists as IOS has them: numbered standard lists (1-99, 1300-1999) match the source
 * only; every other list is extended (protocol, source, destination, TCP/UDP ports, ICMP type).
 * Rules are checked in order, the first match decides, and a datagram no rule matches is denied
 * (the implicit `deny ip any any`). Rules are written as IOS writes them:
 *
 *   permit 10.1.0.0 0.0.0.255                    (standard)
 *   deny   tcp any host 10.2.0.10 eq 23
 *   permit udp 10.1.0.0/24 any range 1000 2000   (a /prefix is accepted beside a wildcard)
 *   deny   icmp any any echo                      (ICMP type by name or number)
 *   permit ip any any
 *
 * Non-initial fragments carry no ports: as IOS does, a rule with port conditions still matches
 * them when it permits, and never when it denies.
 * A compiled list is typed arrays with per-rule hit counters; matching allocates nothing.
 */
import { type Ip4, ip4ToString, parseIp4, parseIp4Prefix, prefixToMask, u16, u32 } from '../wire/bytes.js';

export interface AclRule {
  action: 'permit' | 'deny';
  /** 0 (or absent) matches every protocol ("ip"). */
  protocol?: number;
  src?: Ip4;
  /** Bits that must match (the inverse of an IOS wildcard); 0 matches anything. */
  srcMask?: Ip4;
  dst?: Ip4;
  dstMask?: Ip4;
  /** Inclusive port ranges for TCP/UDP; absent matches every port. */
  srcPorts?: readonly [number, number];
  dstPorts?: readonly [number, number];
  /** ICMP type; absent matches every type. */
  icmpType?: number;
  /** The rule as the user wrote it, for show commands. */
  text?: string;
}

const PROTOCOLS: Record<string, number> = { ip: 0, icmp: 1, tcp: 6, udp: 17, gre: 47, esp: 50, ospf: 89 };
const ICMP_TYPES: Record<string, number> = {
  'echo-reply': 0,
  unreachable: 3,
  'source-quench': 4,
  redirect: 5,
  echo: 8,
  'time-exceeded': 11,
  'parameter-problem': 12,
};
const PORT_NAMES: Record<string, number> = {
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  bootps: 67,
  bootpc: 68,
  tftp: 69,
  www: 80,
  http: 80,
  ntp: 123,
  snmp: 161,
  https: 443,
};

/** True for the numbers IOS reserves to standard IPv4 lists. */
export function isStandardAclName(name: string): boolean {
  if (!/^\d+$/.test(name)) return false;
  const n = Number(name);
  return (n >= 1 && n <= 99) || (n >= 1300 && n <= 1999);
}

class AclSyntaxError extends Error {
  override readonly name = 'AclSyntaxError';
}

function addressSpec(words: string[], i: number, what: string): { ip: Ip4; mask: Ip4; next: number } {
  const w = words[i];
  if (w === undefined) throw new AclSyntaxError(`${what} address missing`);
  if (w === 'any') return { ip: 0, mask: 0, next: i + 1 };
  if (w === 'host') {
    const ip = parseIp4(words[i + 1] ?? '');
    if (ip === null) throw new AclSyntaxError(`${what}: "host" needs an address`);
    return { ip, mask: 0xffffffff, next: i + 2 };
  }
  if (w.includes('/')) {
    const p = parseIp4Prefix(w);
    if (p === null) throw new AclSyntaxError(`${what}: bad prefix ${w}`);
    const mask = prefixToMask(p.prefix);
    return { ip: (p.ip & mask) >>> 0, mask, next: i + 1 };
  }
  const ip = parseIp4(w);
  if (ip === null) throw new AclSyntaxError(`${what}: bad address ${w}`);
  const wild = words[i + 1] !== undefined ? parseIp4(words[i + 1]!) : null;
  if (wild === null) return { ip, mask: 0xffffffff, next: i + 1 };
  const mask = ~wild >>> 0;
  return { ip: (ip & mask) >>> 0, mask, next: i + 2 };
}

function portNumber(w: string | undefined): number {
  if (w === undefined) throw new AclSyntaxError('port missing');
  const n = /^\d+$/.test(w) ? Number(w) : PORT_NAMES[w];
  if (n === undefined || n > 65535) throw new AclSyntaxError(`bad port ${w}`);
  return n;
}

function portSpec(words: string[], i: number): { range?: [number, number]; next: number } {
  switch (words[i]) {
    case 'eq': {
      const p = portNumber(words[i + 1]);
      return { range: [p, p], next: i + 2 };
    }
    case 'gt':
      return { range: [portNumber(words[i + 1]) + 1, 65535], next: i + 2 };
    case 'lt':
      return { range: [0, portNumber(words[i + 1]) - 1], next: i + 2 };
    case 'range':
      return { range: [portNumber(words[i + 1]), portNumber(words[i + 2])], next: i + 3 };
    default:
      return { next: i };
  }
}

/** Parses one rule in IOS syntax; throws an Error saying what is wrong. */
export function parseAclRule(line: string, standard: boolean): AclRule {
  const words = line.trim().toLowerCase().split(/\s+/);
  const action = words[0];
  if (action !== 'permit' && action !== 'deny') throw new AclSyntaxError(`"${line}": a rule starts with permit or deny`);
  try {
    if (standard) {
      const s = addressSpec(words, 1, 'source');
      if (s.next !== words.length) throw new AclSyntaxError(`unexpected "${words[s.next]}"`);
      return { action, src: s.ip, srcMask: s.mask, text: line.trim() };
    }
    const pw = words[1];
    if (pw === undefined) throw new AclSyntaxError('protocol missing');
    const protocol = /^\d+$/.test(pw) ? Number(pw) : PROTOCOLS[pw];
    if (protocol === undefined || protocol > 255) throw new AclSyntaxError(`unknown protocol ${pw}`);
    const rule: AclRule = { action, protocol, text: line.trim() };
    const s = addressSpec(words, 2, 'source');
    rule.src = s.ip;
    rule.srcMask = s.mask;
    let i = s.next;
    const ported = protocol === 6 || protocol === 17;
    if (ported) {
      const sp = portSpec(words, i);
      if (sp.range) rule.srcPorts = sp.range;
      i = sp.next;
    }
    const d = addressSpec(words, i, 'destination');
    rule.dst = d.ip;
    rule.dstMask = d.mask;
    i = d.next;
    if (ported) {
      const dp = portSpec(words, i);
      if (dp.range) rule.dstPorts = dp.range;
      i = dp.next;
    } else if (protocol === 1 && words[i] !== undefined) {
      const w = words[i]!;
      const t = /^\d+$/.test(w) ? Number(w) : ICMP_TYPES[w];
      if (t === undefined || t > 255) throw new AclSyntaxError(`unknown ICMP type ${w}`);
      rule.icmpType = t;
      i++;
    }
    if (i !== words.length) throw new AclSyntaxError(`unexpected "${words[i]}"`);
    return rule;
  } catch (e) {
    if (e instanceof AclSyntaxError) throw new AclSyntaxError(`"${line.trim()}": ${e.message}`);
    throw e;
  }
}

/** A compiled access list. */
export class Acl {
  readonly standard: boolean;
  readonly rules: readonly AclRule[];
  private readonly permit: Uint8Array;
  private readonly proto: Uint8Array;
  private readonly srcNet: Uint32Array;
  private readonly srcMask: Uint32Array;
  private readonly dstNet: Uint32Array;
  private readonly dstMask: Uint32Array;
  /** -1 where a rule has no port condition. */
  private readonly spLo: Int32Array;
  private readonly spHi: Int32Array;
  private readonly dpLo: Int32Array;
  private readonly dpHi: Int32Array;
  private readonly icmpType: Int16Array;
  /** Matches per rule, `show access-lists`. */
  readonly hits: Float64Array;
  /** Datagrams denied by the implicit deny at the end. */
  implicitDenies = 0;

  constructor(
    readonly name: string,
    rules: readonly (AclRule | string)[],
  ) {
    this.standard = isStandardAclName(name);
    const parsed = rules.map((r) => (typeof r === 'string' ? parseAclRule(r, this.standard) : r));
    this.rules = parsed;
    const n = parsed.length;
    this.permit = new Uint8Array(n);
    this.proto = new Uint8Array(n);
    this.srcNet = new Uint32Array(n);
    this.srcMask = new Uint32Array(n);
    this.dstNet = new Uint32Array(n);
    this.dstMask = new Uint32Array(n);
    this.spLo = new Int32Array(n).fill(-1);
    this.spHi = new Int32Array(n).fill(-1);
    this.dpLo = new Int32Array(n).fill(-1);
    this.dpHi = new Int32Array(n).fill(-1);
    this.icmpType = new Int16Array(n).fill(-1);
    this.hits = new Float64Array(n);
    parsed.forEach((r, i) => {
      this.permit[i] = r.action === 'permit' ? 1 : 0;
      this.proto[i] = r.protocol ?? 0;
      this.srcMask[i] = r.srcMask ?? 0;
      this.srcNet[i] = ((r.src ?? 0) & (r.srcMask ?? 0)) >>> 0;
      this.dstMask[i] = r.dstMask ?? 0;
      this.dstNet[i] = ((r.dst ?? 0) & (r.dstMask ?? 0)) >>> 0;
      if (r.srcPorts) [this.spLo[i], this.spHi[i]] = r.srcPorts;
      if (r.dstPorts) [this.dpLo[i], this.dpHi[i]] = r.dstPorts;
      if (r.icmpType !== undefined) this.icmpType[i] = r.icmpType;
    });
  }

  /** Whether the IPv4 datagram at packet[off..] is permitted; counts the hit. */
  permits(packet: Uint8Array, off = 0): boolean {
    const src = u32(packet, off + 12);
    const dst = u32(packet, off + 16);
    const p = packet[off + 9]!;
    const hl = (packet[off]! & 0x0f) << 2;
    const l4 = off + hl;
    const end = off + u16(packet, off + 2);
    const nonInitial = (u16(packet, off + 6) & 0x1fff) !== 0;
    const havePorts = !nonInitial && (p === 6 || p === 17) && end - l4 >= 4;
    const sport = havePorts ? u16(packet, l4) : -1;
    const dport = havePorts ? u16(packet, l4 + 2) : -1;
    const icmpType = !nonInitial && p === 1 && end > l4 ? packet[l4]! : -1;
    const n = this.permit.length;
    for (let i = 0; i < n; i++) {
      const rp = this.proto[i]!;
      if (rp !== 0 && rp !== p) continue;
      if (((src & this.srcMask[i]!) >>> 0) !== this.srcNet[i]) continue;
      if (((dst & this.dstMask[i]!) >>> 0) !== this.dstNet[i]) continue;
      const l4Rule = this.spLo[i]! >= 0 || this.dpLo[i]! >= 0 || this.icmpType[i]! >= 0;
      if (l4Rule) {
        if (nonInitial) {
          if (this.permit[i] === 0) continue;
        } else {
          if (this.spLo[i]! >= 0 && (sport < this.spLo[i]! || sport > this.spHi[i]!)) continue;
          if (this.dpLo[i]! >= 0 && (dport < this.dpLo[i]! || dport > this.dpHi[i]!)) continue;
          if (this.icmpType[i]! >= 0 && icmpType !== this.icmpType[i]) continue;
        }
      }
      this.hits[i]!++;
      return this.permit[i] === 1;
    }
    this.implicitDenies++;
    return false;
  }

  /** `show access-lists` lines. */
  show(): string[] {
    const head = `${this.standard ? 'Standard' : 'Extended'} IP access list ${this.name}`;
    return [head, ...this.rules.map((r, i) => `    ${(i + 1) * 10} ${r.text ?? describeRule(r)}${this.hits[i]! > 0 ? ` (${this.hits[i]} matches)` : ''}`)];
  }
}

function describeRule(r: AclRule): string {
  const addr = (ip: Ip4 | undefined, mask: Ip4 | undefined): string => {
    if (!mask) return 'any';
    if (mask === 0xffffffff) return `host ${ip4ToString(ip ?? 0)}`;
    return `${ip4ToString(ip ?? 0)} ${ip4ToString(~mask >>> 0)}`;
  };
  const proto = Object.entries(PROTOCOLS).find(([, v]) => v === (r.protocol ?? 0))?.[0] ?? String(r.protocol);
  return `${r.action} ${proto} ${addr(r.src, r.srcMask)} ${addr(r.dst, r.dstMask)}`;
}
