/**
 * Network address translation for the router (RFC 3022 NAPT, with the behaviours of RFC 4787
 * for UDP, RFC 5382 for TCP and RFC 5508 for ICMP): source NAT with overload (PAT) of TCP and
 * UDP ports and ICMP echo identifiers onto one inside global address, and static one-to-one NAT.
 *
 * It works in place on an IPv4 datagram the caller owns (the router copies a received frame
 * before changing it): addresses, ports and identifiers are rewritten and every checksum is
 * patched incrementally (RFC 1624), except the checksum of an ICMP error, recomputed over the
 * message after its quote was translated. The translation table is typed arrays and counters,
 * plain data a snapshot can copy, and the per-packet path allocates nothing.
 *
 * Choices (IOS names in brackets):
 * - A session is keyed by protocol, inside local address and port, and outside address and port
 *   [extended entry]; replies must come from the outside endpoint the inside host talked to
 *   (address and port dependent filtering, as IOS and Linux conntrack do).
 * - The inside port is kept when that leaves the outside 5-tuple unique, as IOS and Linux try
 *   to; otherwise the next free port of 1024-65535 in sequence is used (deterministic).
 * - Idle timeouts (IOS defaults except TCP transitory, which follows RFC 5382 REQ-5): UDP 300 s,
 *   TCP established 24 h, TCP not yet established or closing 240 s, ICMP 60 s.
 * - The table holds at most `maxEntries` sessions [ip nat translation max-entries]; beyond it new
 *   flows are dropped and counted.
 * - Fragments are not port-translated (a non-first fragment has no ports to match): with
 *   overload they are dropped and counted; static NAT translates them (addresses only).
 */
import { type Ip4, checksum, checksumAdjust, ip4ToString, put16, put32, u16, u32 } from '../wire/bytes.js';

export const NAT_PROTO_ICMP = 1;
export const NAT_PROTO_TCP = 6;
export const NAT_PROTO_UDP = 17;

export interface NatTimeouts {
  udpS: number;
  tcpEstablishedS: number;
  tcpTransitoryS: number;
  icmpS: number;
}

export const NAT_DEFAULT_TIMEOUTS: Readonly<NatTimeouts> = {
  udpS: 300,
  tcpEstablishedS: 86_400,
  tcpTransitoryS: 240,
  icmpS: 60,
};

export interface NatStatic {
  /** Inside local address. */
  inside: Ip4;
  /** Inside global address it appears as outside. */
  outside: Ip4;
}

export interface NatOptions {
  /** The inside global address of PAT (usually the outside interface's); null for no overload. */
  overloadAddress?: Ip4 | null;
  statics?: readonly NatStatic[];
  maxEntries?: number;
  timeouts?: Partial<NatTimeouts>;
}

/** A row of `show ip nat translations`. */
export interface NatTranslation {
  /** "tcp", "udp", "icmp", or "---" for a static entry. */
  proto: string;
  insideGlobal: string;
  insideLocal: string;
  outsideLocal: string;
  outsideGlobal: string;
  /** Seconds of idleness left; -1 for static entries. */
  expiresInS: number;
}

export interface NatStats {
  /** Packets translated inside to outside and outside to inside. */
  outbound: number;
  inbound: number;
  /** Sessions made and ended by idleness. */
  created: number;
  expired: number;
  /** New flows dropped: table full, or no free port. */
  dropsFull: number;
  dropsNoPort: number;
  /** Fragments dropped on the overload path. */
  dropsFragment: number;
}

/** What translate* did with a packet. */
export const NAT_PASS = 0;
export const NAT_TRANSLATED = 1;
export const NAT_DROP = -1;

const EMPTY = -1;

/**
 * An open-addressing hash from four unsigned 32-bit words to a non-negative int: linear probing,
 * backward-shift deletion, no allocation per operation.
 */
export class TupleIndex {
  mask: number;
  size = 0;
  ka: Uint32Array;
  kb: Uint32Array;
  kc: Uint32Array;
  kd: Uint32Array;
  val: Int32Array;

  constructor(capacity = 256) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.mask = cap - 1;
    this.ka = new Uint32Array(cap);
    this.kb = new Uint32Array(cap);
    this.kc = new Uint32Array(cap);
    this.kd = new Uint32Array(cap);
    this.val = new Int32Array(cap).fill(EMPTY);
  }

  private home(a: number, b: number, c: number, d: number): number {
    let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 15) ^ b, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 13) ^ c, 0x27d4eb2f);
    h = Math.imul(h ^ (h >>> 16) ^ d, 0x165667b1);
    return (h ^ (h >>> 15)) & this.mask;
  }

  get(a: number, b: number, c: number, d: number): number {
    const mask = this.mask;
    const val = this.val;
    for (let i = this.home(a, b, c, d); ; i = (i + 1) & mask) {
      const v = val[i]!;
      if (v === EMPTY) return EMPTY;
      if (this.ka[i] === a && this.kb[i] === b && this.kc[i] === c && this.kd[i] === d) return v;
    }
  }

  set(a: number, b: number, c: number, d: number, v: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const mask = this.mask;
    for (let i = this.home(a, b, c, d); ; i = (i + 1) & mask) {
      if (this.val[i] === EMPTY) {
        this.ka[i] = a;
        this.kb[i] = b;
        this.kc[i] = c;
        this.kd[i] = d;
        this.val[i] = v;
        this.size++;
        return;
      }
      if (this.ka[i] === a && this.kb[i] === b && this.kc[i] === c && this.kd[i] === d) {
        this.val[i] = v;
        return;
      }
    }
  }

  delete(a: number, b: number, c: number, d: number): boolean {
    const mask = this.mask;
    let i = this.home(a, b, c, d);
    for (; ; i = (i + 1) & mask) {
      if (this.val[i] === EMPTY) return false;
      if (this.ka[i] === a && this.kb[i] === b && this.kc[i] === c && this.kd[i] === d) break;
    }
    // Backward shift: pull later members of the probe run into the hole so lookups still find them.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (this.val[j] === EMPTY) break;
      const k = this.home(this.ka[j]!, this.kb[j]!, this.kc[j]!, this.kd[j]!);
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (stays) continue;
      this.ka[i] = this.ka[j]!;
      this.kb[i] = this.kb[j]!;
      this.kc[i] = this.kc[j]!;
      this.kd[i] = this.kd[j]!;
      this.val[i] = this.val[j]!;
      i = j;
    }
    this.val[i] = EMPTY;
    this.size--;
    return true;
  }

  private grow(): void {
    const { ka, kb, kc, kd, val } = this;
    const cap = (this.mask + 1) * 2;
    this.mask = cap - 1;
    this.ka = new Uint32Array(cap);
    this.kb = new Uint32Array(cap);
    this.kc = new Uint32Array(cap);
    this.kd = new Uint32Array(cap);
    this.val = new Int32Array(cap).fill(EMPTY);
    this.size = 0;
    for (let i = 0; i < val.length; i++) if (val[i] !== EMPTY) this.set(ka[i]!, kb[i]!, kc[i]!, kd[i]!, val[i]!);
  }
}

// TCP session flags.
const SEEN_OUT = 1;
const SEEN_IN = 2;
const CLOSING = 4;

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;

function adjust32(check: number, oldV: number, newV: number): number {
  return checksumAdjust(checksumAdjust(check, oldV >>> 16, newV >>> 16), oldV & 0xffff, newV & 0xffff);
}

function isIcmpErrorType(t: number): boolean {
  return t === 3 || t === 4 || t === 5 || t === 11 || t === 12;
}

/** Port pair as one unsigned key word. */
function ports(a: number, b: number): number {
  return a * 65536 + b;
}

export class Nat {
  overloadAddress: Ip4 | null;
  readonly staticInside: Uint32Array;
  readonly staticOutside: Uint32Array;
  readonly maxEntries: number;
  readonly timeouts: NatTimeouts;
  readonly stats: NatStats = { outbound: 0, inbound: 0, created: 0, expired: 0, dropsFull: 0, dropsNoPort: 0, dropsFragment: 0 };

  // Sessions, struct of arrays; a free slot has proto 0.
  proto = new Uint8Array(64);
  insideIp = new Uint32Array(64);
  insidePort = new Uint16Array(64);
  globalIp = new Uint32Array(64);
  globalPort = new Uint16Array(64);
  outsideIp = new Uint32Array(64);
  outsidePort = new Uint16Array(64);
  flags = new Uint8Array(64);
  lastNs = new Float64Array(64);
  /** Free session slots, a stack. */
  free: number[] = [];
  used = 0;
  /** (inside ip, outside ip, inside port:outside port, proto) -> session. */
  readonly byInside = new TupleIndex(128);
  /** (global ip, outside ip, global port:outside port, proto) -> session. */
  readonly byGlobal = new TupleIndex(128);
  /** Where the search for a free port resumes. */
  portCursor = 1024;

  constructor(opts: NatOptions = {}) {
    this.overloadAddress = opts.overloadAddress ?? null;
    const statics = opts.statics ?? [];
    this.staticInside = Uint32Array.from(statics.map((s) => s.inside));
    this.staticOutside = Uint32Array.from(statics.map((s) => s.outside));
    this.maxEntries = Math.max(1, opts.maxEntries ?? 65_536);
    this.timeouts = { ...NAT_DEFAULT_TIMEOUTS, ...opts.timeouts };
    for (let i = 63; i >= 0; i--) this.free.push(i);
  }

  get size(): number {
    return this.used;
  }

  private staticByInside(ip: Ip4): number {
    const s = this.staticInside;
    for (let i = 0; i < s.length; i++) if (s[i] === ip) return i;
    return -1;
  }
  private staticByOutside(ip: Ip4): number {
    const s = this.staticOutside;
    for (let i = 0; i < s.length; i++) if (s[i] === ip) return i;
    return -1;
  }

  private timeoutNs(s: number): number {
    const p = this.proto[s]!;
    const t = this.timeouts;
    if (p === NAT_PROTO_UDP) return t.udpS * 1e9;
    if (p === NAT_PROTO_ICMP) return t.icmpS * 1e9;
    const f = this.flags[s]!;
    return (f & (SEEN_OUT | SEEN_IN | CLOSING)) === (SEEN_OUT | SEEN_IN) ? t.tcpEstablishedS * 1e9 : t.tcpTransitoryS * 1e9;
  }

  private expiredAt(s: number, nowNs: number): boolean {
    return nowNs - this.lastNs[s]! >= this.timeoutNs(s);
  }

  private growSessions(): void {
    const n = this.proto.length;
    const m = Math.min(n * 2, this.maxEntries);
    const grow8 = (a: Uint8Array): Uint8Array<ArrayBuffer> => {
      const b = new Uint8Array(m);
      b.set(a);
      return b;
    };
    const grow16 = (a: Uint16Array): Uint16Array<ArrayBuffer> => {
      const b = new Uint16Array(m);
      b.set(a);
      return b;
    };
    const grow32 = (a: Uint32Array): Uint32Array<ArrayBuffer> => {
      const b = new Uint32Array(m);
      b.set(a);
      return b;
    };
    this.proto = grow8(this.proto);
    this.flags = grow8(this.flags);
    this.insideIp = grow32(this.insideIp);
    this.globalIp = grow32(this.globalIp);
    this.outsideIp = grow32(this.outsideIp);
    this.insidePort = grow16(this.insidePort);
    this.globalPort = grow16(this.globalPort);
    this.outsidePort = grow16(this.outsidePort);
    const last = new Float64Array(m);
    last.set(this.lastNs);
    this.lastNs = last;
    for (let i = m - 1; i >= n; i--) this.free.push(i);
  }

  private remove(s: number): void {
    const p = this.proto[s]!;
    const oPort = p === NAT_PROTO_ICMP ? 0 : this.outsidePort[s]!;
    this.byInside.delete(this.insideIp[s]!, this.outsideIp[s]!, ports(this.insidePort[s]!, oPort), p);
    this.byGlobal.delete(this.globalIp[s]!, this.outsideIp[s]!, ports(this.globalPort[s]!, oPort), p);
    this.proto[s] = 0;
    this.free.push(s);
    this.used--;
  }

  /** A session for a new flow, or -1 (counted) when the table is full or no port is free. */
  private create(p: number, inIp: Ip4, inPort: number, outIp: Ip4, outPort: number, gIp: Ip4, nowNs: number): number {
    if (this.used >= this.maxEntries) {
      this.stats.dropsFull++;
      return -1;
    }
    const oKey = p === NAT_PROTO_ICMP ? 0 : outPort;
    let gPort = inPort;
    if (this.byGlobal.get(gIp, outIp, ports(gPort, oKey), p) !== EMPTY) {
      gPort = -1;
      let c = this.portCursor;
      for (let tries = 0; tries < 64512; tries++) {
        if (this.byGlobal.get(gIp, outIp, ports(c, oKey), p) === EMPTY) {
          gPort = c;
          break;
        }
        c = c === 65535 ? 1024 : c + 1;
      }
      if (gPort < 0) {
        this.stats.dropsNoPort++;
        return -1;
      }
      this.portCursor = gPort === 65535 ? 1024 : gPort + 1;
    }
    if (this.free.length === 0) this.growSessions();
    const s = this.free.pop()!;
    this.proto[s] = p;
    this.insideIp[s] = inIp;
    this.insidePort[s] = inPort;
    this.globalIp[s] = gIp;
    this.globalPort[s] = gPort;
    this.outsideIp[s] = outIp;
    this.outsidePort[s] = outPort;
    this.flags[s] = 0;
    this.lastNs[s] = nowNs;
    this.byInside.set(inIp, outIp, ports(inPort, oKey), p, s);
    this.byGlobal.set(gIp, outIp, ports(gPort, oKey), p, s);
    this.used++;
    this.stats.created++;
    return s;
  }

  private touchTcp(s: number, b: Uint8Array, l4: number, dir: number): void {
    const fl = b[l4 + 13]!;
    let f = this.flags[s]! | dir;
    if (fl & (TCP_FIN | TCP_RST)) f |= CLOSING;
    else if (fl & TCP_SYN && f & CLOSING) f = dir; // a new connection reusing the tuple
    this.flags[s] = f;
  }

  /** Whether `ip` is the inside global address of a static entry. */
  isStaticGlobal(ip: Ip4): boolean {
    return this.staticByOutside(ip) >= 0;
  }

  /**
   * Whether a datagram arriving outside may need translating (its destination is an inside
   * global address): the router copies a received frame only then.
   */
  concerns(b: Uint8Array, ip: number): boolean {
    const dst = u32(b, ip + 16);
    return dst === this.overloadAddress || this.staticByOutside(dst) >= 0;
  }

  /**
   * Translates a datagram going from an inside interface out of an outside one (after routing).
   * `ip` is the offset of the IPv4 header in `b`, which the caller owns. Returns NAT_TRANSLATED,
   * NAT_PASS (nothing applies: forward unchanged) or NAT_DROP.
   */
  translateOutbound(b: Uint8Array, ip: number, nowNs: number): number {
    const src = u32(b, ip + 12);
    const hl = (b[ip]! & 0x0f) << 2;
    const l4 = ip + hl;
    const p = b[ip + 9]!;
    const fragment = (u16(b, ip + 6) & 0x3fff) !== 0;
    const first = (u16(b, ip + 6) & 0x1fff) === 0;
    const end = ip + u16(b, ip + 2);
    if (p === NAT_PROTO_ICMP && first && end - l4 >= 8 && isIcmpErrorType(b[l4]!) && this.translateQuotedOutbound(b, ip, l4, end, nowNs)) {
      return NAT_TRANSLATED;
    }
    const st = this.staticByInside(src);
    if (st >= 0) {
      this.rewriteSrc(b, ip, l4, p, first, end, this.staticOutside[st]!, -1);
      this.stats.outbound++;
      return NAT_TRANSLATED;
    }
    const gIp = this.overloadAddress;
    if (gIp === null) return NAT_PASS;
    if (fragment) {
      this.stats.dropsFragment++;
      return NAT_DROP;
    }
    const dst = u32(b, ip + 16);
    let s: number;
    if (p === NAT_PROTO_TCP || p === NAT_PROTO_UDP) {
      if (end - l4 < (p === NAT_PROTO_TCP ? 20 : 8)) return NAT_DROP;
      const sport = u16(b, l4);
      const dport = u16(b, l4 + 2);
      s = this.byInside.get(src, dst, ports(sport, dport), p);
      if (s !== EMPTY && this.expiredAt(s, nowNs)) {
        this.remove(s);
        this.stats.expired++;
        s = EMPTY;
      }
      if (s === EMPTY) s = this.create(p, src, sport, dst, dport, gIp, nowNs);
      if (s < 0) return NAT_DROP;
      if (p === NAT_PROTO_TCP) this.touchTcp(s, b, l4, SEEN_OUT);
    } else if (p === NAT_PROTO_ICMP) {
      if (end - l4 < 8) return NAT_DROP;
      // Errors were handled above; replies and the rest have no session to make.
      if (b[l4] !== 8) return NAT_PASS;
      const id = u16(b, l4 + 4);
      s = this.byInside.get(src, dst, ports(id, 0), p);
      if (s !== EMPTY && this.expiredAt(s, nowNs)) {
        this.remove(s);
        this.stats.expired++;
        s = EMPTY;
      }
      if (s === EMPTY) s = this.create(p, src, id, dst, 0, gIp, nowNs);
      if (s < 0) return NAT_DROP;
    } else {
      return NAT_PASS;
    }
    this.lastNs[s] = nowNs;
    this.rewriteSrc(b, ip, l4, p, true, end, this.globalIp[s]!, this.globalPort[s]!);
    this.stats.outbound++;
    return NAT_TRANSLATED;
  }

  /**
   * Translates a datagram arriving on an outside interface (before routing): the destination
   * goes back to the inside local address and port of its session or static entry, and ICMP
   * errors have their quote translated too, so traceroute through NAT works.
   */
  translateInbound(b: Uint8Array, ip: number, nowNs: number): number {
    const dst = u32(b, ip + 16);
    const hl = (b[ip]! & 0x0f) << 2;
    const l4 = ip + hl;
    const p = b[ip + 9]!;
    const first = (u16(b, ip + 6) & 0x1fff) === 0;
    const end = ip + u16(b, ip + 2);
    if (p === NAT_PROTO_ICMP && first && end - l4 >= 8 && isIcmpErrorType(b[l4]!) && this.translateQuotedInbound(b, ip, l4, end, nowNs)) {
      return NAT_TRANSLATED;
    }
    const st = this.staticByOutside(dst);
    if (st >= 0) {
      this.rewriteDst(b, ip, l4, p, first, end, this.staticInside[st]!, -1);
      this.stats.inbound++;
      return NAT_TRANSLATED;
    }
    if (dst !== this.overloadAddress || !first || (u16(b, ip + 6) & 0x2000) !== 0) return NAT_PASS;
    const src = u32(b, ip + 12);
    let s: number;
    if (p === NAT_PROTO_TCP || p === NAT_PROTO_UDP) {
      if (end - l4 < (p === NAT_PROTO_TCP ? 20 : 8)) return NAT_PASS;
      s = this.byGlobal.get(dst, src, ports(u16(b, l4 + 2), u16(b, l4)), p);
    } else if (p === NAT_PROTO_ICMP) {
      if (end - l4 < 8 || b[l4] !== 0) return NAT_PASS;
      s = this.byGlobal.get(dst, src, ports(u16(b, l4 + 4), 0), p);
    } else {
      return NAT_PASS;
    }
    if (s === EMPTY) return NAT_PASS;
    if (this.expiredAt(s, nowNs)) {
      this.remove(s);
      this.stats.expired++;
      return NAT_PASS;
    }
    this.lastNs[s] = nowNs;
    if (p === NAT_PROTO_TCP) this.touchTcp(s, b, l4, SEEN_IN);
    this.rewriteDst(b, ip, l4, p, true, end, this.insideIp[s]!, this.insidePort[s]!);
    this.stats.inbound++;
    return NAT_TRANSLATED;
  }

  /** Source address (and port or echo id when `port` >= 0) of the datagram, checksums patched. */
  private rewriteSrc(b: Uint8Array, ip: number, l4: number, p: number, first: boolean, end: number, newIp: Ip4, port: number): void {
    const oldIp = u32(b, ip + 12);
    put32(b, ip + 12, newIp);
    put16(b, ip + 10, adjust32(u16(b, ip + 10), oldIp, newIp));
    if (!first) return;
    this.patchL4(b, l4, p, end, oldIp, newIp, 0, port);
  }

  private rewriteDst(b: Uint8Array, ip: number, l4: number, p: number, first: boolean, end: number, newIp: Ip4, port: number): void {
    const oldIp = u32(b, ip + 16);
    put32(b, ip + 16, newIp);
    put16(b, ip + 10, adjust32(u16(b, ip + 10), oldIp, newIp));
    if (!first) return;
    this.patchL4(b, l4, p, end, oldIp, newIp, 2, port);
  }

  /**
   * Patches the transport header after an address change (pseudo-header) and, when `port` >= 0,
   * sets the port at l4+portOff (0 source, 2 destination) or the ICMP echo id.
   */
  private patchL4(b: Uint8Array, l4: number, p: number, end: number, oldIp: Ip4, newIp: Ip4, portOff: number, port: number): void {
    if (p === NAT_PROTO_TCP) {
      if (end - l4 < 18) return;
      let c = adjust32(u16(b, l4 + 16), oldIp, newIp);
      if (port >= 0) {
        c = checksumAdjust(c, u16(b, l4 + portOff), port);
        put16(b, l4 + portOff, port);
      }
      put16(b, l4 + 16, c);
    } else if (p === NAT_PROTO_UDP) {
      if (end - l4 < 8) return;
      const old = u16(b, l4 + 6);
      if (port >= 0) {
        const oldPort = u16(b, l4 + portOff);
        put16(b, l4 + portOff, port);
        if (old !== 0) {
          let c = checksumAdjust(adjust32(old, oldIp, newIp), oldPort, port);
          if (c === 0) c = 0xffff;
          put16(b, l4 + 6, c);
        }
      } else if (old !== 0) {
        let c = adjust32(old, oldIp, newIp);
        if (c === 0) c = 0xffff;
        put16(b, l4 + 6, c);
      }
    } else if (p === NAT_PROTO_ICMP) {
      if (port < 0 || end - l4 < 8) return;
      put16(b, l4 + 2, checksumAdjust(u16(b, l4 + 2), u16(b, l4 + 4), port));
      put16(b, l4 + 4, port);
    }
  }

  /**
   * An ICMP error from outside about a datagram we translated on the way out: the quote holds
   * the translated source; find its session and put the inside local endpoint back, in the
   * outer destination and in the quote.
   */
  private translateQuotedInbound(b: Uint8Array, ip: number, l4: number, end: number, nowNs: number): boolean {
    const q = l4 + 8;
    if (end - q < 20 || b[q]! >>> 4 !== 4) return false;
    const qhl = (b[q]! & 0x0f) << 2;
    const ql4 = q + qhl;
    const qp = b[q + 9]!;
    const qsrc = u32(b, q + 12);
    const qdst = u32(b, q + 16);
    const st = this.staticByOutside(qsrc);
    let newIp: Ip4;
    let newPort = -1;
    if (st >= 0) {
      newIp = this.staticInside[st]!;
    } else {
      if (qsrc !== this.overloadAddress || end - ql4 < 8) return false;
      let s: number;
      if (qp === NAT_PROTO_TCP || qp === NAT_PROTO_UDP) s = this.byGlobal.get(qsrc, qdst, ports(u16(b, ql4), u16(b, ql4 + 2)), qp);
      else if (qp === NAT_PROTO_ICMP && b[ql4] === 8) s = this.byGlobal.get(qsrc, qdst, ports(u16(b, ql4 + 4), 0), qp);
      else return false;
      if (s === EMPTY || this.expiredAt(s, nowNs)) return false;
      newIp = this.insideIp[s]!;
      newPort = this.insidePort[s]!;
    }
    const outerDst = u32(b, ip + 16);
    if (outerDst === qsrc) {
      put32(b, ip + 16, newIp);
      put16(b, ip + 10, adjust32(u16(b, ip + 10), qsrc, newIp));
    }
    this.rewriteQuoted(b, q, ql4, qp, end, 12, newIp, 0, newPort);
    this.fixIcmpChecksum(b, l4, end);
    this.stats.inbound++;
    return true;
  }

  /** An inside host's ICMP error about a datagram that came in: the quote's destination was translated. */
  private translateQuotedOutbound(b: Uint8Array, ip: number, l4: number, end: number, nowNs: number): boolean {
    const q = l4 + 8;
    if (end - q < 20 || b[q]! >>> 4 !== 4) return false;
    const qhl = (b[q]! & 0x0f) << 2;
    const ql4 = q + qhl;
    const qp = b[q + 9]!;
    const qsrc = u32(b, q + 12);
    const qdst = u32(b, q + 16);
    const st = this.staticByInside(qdst);
    let newIp: Ip4;
    let newPort = -1;
    if (st >= 0) {
      newIp = this.staticOutside[st]!;
    } else {
      if (end - ql4 < 8) return false;
      let s: number;
      if (qp === NAT_PROTO_TCP || qp === NAT_PROTO_UDP) s = this.byInside.get(qdst, qsrc, ports(u16(b, ql4 + 2), u16(b, ql4)), qp);
      else if (qp === NAT_PROTO_ICMP && b[ql4] === 0) s = this.byInside.get(qdst, qsrc, ports(u16(b, ql4 + 4), 0), qp);
      else return false;
      if (s === EMPTY || this.expiredAt(s, nowNs)) return false;
      newIp = this.globalIp[s]!;
      newPort = this.globalPort[s]!;
    }
    const outerSrc = u32(b, ip + 12);
    if (outerSrc === qdst) {
      put32(b, ip + 12, newIp);
      put16(b, ip + 10, adjust32(u16(b, ip + 10), qdst, newIp));
    }
    this.rewriteQuoted(b, q, ql4, qp, end, 16, newIp, 2, newPort);
    this.fixIcmpChecksum(b, l4, end);
    this.stats.outbound++;
    return true;
  }

  /**
   * Rewrites the quoted datagram's address at q+addrOff (12 source, 16 destination) and, when
   * `port` >= 0, its port at ql4+portOff or its echo id, patching the quoted IP header checksum
   * and the quoted transport checksum when the quote holds it.
   */
  private rewriteQuoted(b: Uint8Array, q: number, ql4: number, qp: number, end: number, addrOff: number, newIp: Ip4, portOff: number, port: number): void {
    const oldIp = u32(b, q + addrOff);
    put32(b, q + addrOff, newIp);
    put16(b, q + 10, adjust32(u16(b, q + 10), oldIp, newIp));
    if (qp === NAT_PROTO_ICMP) {
      if (port < 0 || end - ql4 < 8) return;
      put16(b, ql4 + 2, checksumAdjust(u16(b, ql4 + 2), u16(b, ql4 + 4), port));
      put16(b, ql4 + 4, port);
      return;
    }
    if (qp !== NAT_PROTO_TCP && qp !== NAT_PROTO_UDP) return;
    const csOff = qp === NAT_PROTO_TCP ? 16 : 6;
    const haveCs = end - ql4 >= csOff + 2;
    let c = haveCs ? u16(b, ql4 + csOff) : 0;
    const udpNone = qp === NAT_PROTO_UDP && c === 0;
    if (haveCs && !udpNone) c = adjust32(c, oldIp, newIp);
    if (port >= 0 && end - ql4 >= portOff + 2) {
      const oldPort = u16(b, ql4 + portOff);
      put16(b, ql4 + portOff, port);
      if (haveCs && !udpNone) c = checksumAdjust(c, oldPort, port);
    }
    if (haveCs && !udpNone) put16(b, ql4 + csOff, qp === NAT_PROTO_UDP && c === 0 ? 0xffff : c);
  }

  private fixIcmpChecksum(b: Uint8Array, l4: number, end: number): void {
    put16(b, l4 + 2, 0);
    put16(b, l4 + 2, checksum(b, l4, end - l4));
  }

  // ---- expiry and inspection ----

  /** Ends every session idle past its timeout; returns how many ended. */
  expire(nowNs: number): number {
    let n = 0;
    for (let s = 0; s < this.proto.length; s++) {
      if (this.proto[s] === 0 || !this.expiredAt(s, nowNs)) continue;
      this.remove(s);
      n++;
    }
    this.stats.expired += n;
    return n;
  }

  /** When the next session would end if left idle; Infinity for an empty table. */
  nextExpiryNs(): number {
    let next = Infinity;
    for (let s = 0; s < this.proto.length; s++) {
      if (this.proto[s] === 0) continue;
      const at = this.lastNs[s]! + this.timeoutNs(s);
      if (at < next) next = at;
    }
    return next;
  }

  /** Forgets every session (the node stopped); static entries stay. */
  clear(): void {
    for (let s = 0; s < this.proto.length; s++) if (this.proto[s] !== 0) this.remove(s);
  }

  /** `show ip nat translations`: sessions first, then static entries, as IOS lists them. */
  translations(nowNs: number): NatTranslation[] {
    const rows: NatTranslation[] = [];
    for (let s = 0; s < this.proto.length; s++) {
      const p = this.proto[s]!;
      if (p === 0 || this.expiredAt(s, nowNs)) continue;
      const name = p === NAT_PROTO_TCP ? 'tcp' : p === NAT_PROTO_UDP ? 'udp' : 'icmp';
      // IOS shows the translated echo id on the outside columns too.
      const oPort = p === NAT_PROTO_ICMP ? this.globalPort[s]! : this.outsidePort[s]!;
      const out = `${ip4ToString(this.outsideIp[s]!)}:${oPort}`;
      rows.push({
        proto: name,
        insideGlobal: `${ip4ToString(this.globalIp[s]!)}:${this.globalPort[s]}`,
        insideLocal: `${ip4ToString(this.insideIp[s]!)}:${this.insidePort[s]}`,
        outsideLocal: out,
        outsideGlobal: out,
        expiresInS: Math.ceil((this.lastNs[s]! + this.timeoutNs(s) - nowNs) / 1e9),
      });
    }
    for (let i = 0; i < this.staticInside.length; i++) {
      rows.push({
        proto: '---',
        insideGlobal: ip4ToString(this.staticOutside[i]!),
        insideLocal: ip4ToString(this.staticInside[i]!),
        outsideLocal: '---',
        outsideGlobal: '---',
        expiresInS: -1,
      });
    }
    return rows;
  }
}
