/**
 * ICMPv6 (RFC 4443) with Neighbor Discovery (RFC 4861, RDNSS from RFC 8106) and MLDv2 reports
 * (RFC 3810 5.2). Messages decode to a union by `kind`; reserved fields and unknown options are
 * kept so that a captured message re-encodes byte for byte. The checksum covers the RFC 8200 8.1
 * pseudo-header: callers pass its address part as a partial sum (`ipv6AddressSum` of the packet).
 */
import { type Mac, checksum, macAt, onesSum, put16, put32, putMac, u16, u32 } from './bytes.js';
import { DecodeError, EncodeError, need, room } from './errors.js';
import { IP6_LENGTH, type Ip6, ip6Equal, ip6IsLinkLocal, ip6IsMulticast, ip6IsUnspecified } from './ip6addr.js';
import {
  IPV6_DST,
  IPV6_HEADER_LENGTH,
  IPV6_MIN_MTU,
  IPV6_OPT,
  IPV6_SRC,
  IPV6_VERDICT,
  type Ipv6Extension,
  NEXT_HEADER,
  encodeIpv6Headers,
  ipv6HeadersLength,
  ipv6AddressSum,
  newIpv6Walk,
  walkIpv6,
} from './ipv6.js';

const LAYER = 'icmpv6';

export const ICMPV6_TYPE = {
  DEST_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAMETER_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  MLD_QUERY: 130,
  ROUTER_SOLICITATION: 133,
  ROUTER_ADVERTISEMENT: 134,
  NEIGHBOR_SOLICITATION: 135,
  NEIGHBOR_ADVERTISEMENT: 136,
  REDIRECT: 137,
  MLDV2_REPORT: 143,
} as const;

/** Destination-unreachable codes (RFC 4443 3.1). */
export const UNREACH6 = { NO_ROUTE: 0, ADMIN_PROHIBITED: 1, BEYOND_SCOPE: 2, ADDRESS: 3, PORT: 4, POLICY: 5, REJECT_ROUTE: 6 } as const;
/** Time-exceeded codes (RFC 4443 3.3). */
export const TIME_EXCEEDED6 = { HOP_LIMIT: 0, REASSEMBLY: 1 } as const;

export const ND_OPT = { SOURCE_LL: 1, TARGET_LL: 2, PREFIX_INFO: 3, REDIRECTED_HEADER: 4, MTU: 5, RDNSS: 25 } as const;

/** MLDv2 multicast address record types (RFC 3810 5.2.12). */
export const MLD_RECORD = { IS_INCLUDE: 1, IS_EXCLUDE: 2, TO_INCLUDE: 3, TO_EXCLUDE: 4, ALLOW: 5, BLOCK: 6 } as const;

/**
 * RFC 4443 2.4(c): an error quotes as much of the invoking packet as keeps it within the minimum
 * MTU: 1280 - 40 (IPv6) - 8 (ICMPv6).
 */
export const ICMPV6_MAX_QUOTE = IPV6_MIN_MTU - IPV6_HEADER_LENGTH - 8;

export type NdOption =
  | { type: 'sourceLinkLayer'; mac: Mac }
  | { type: 'targetLinkLayer'; mac: Mac }
  | {
      type: 'prefixInfo';
      prefixLength: number;
      onLink: boolean;
      autonomous: boolean;
      /** The six reserved flag bits (RFC 8425 gives one a meaning), kept for byte-exactness. */
      reservedFlags?: number;
      validLifetime: number;
      preferredLifetime: number;
      reserved2?: number;
      prefix: Ip6;
    }
  | { type: 'mtu'; mtu: number; reserved?: number }
  | { type: 'rdnss'; lifetime: number; servers: Ip6[]; reserved?: number }
  /** Any other option (redirected header included): `data` is what follows type and length. */
  | { type: 'raw'; code: number; data: Uint8Array };

export interface MldRecord {
  recordType: number;
  group: Ip6;
  sources: Ip6[];
  /** Auxiliary data (RFC 3810 says none is defined; kept when present). */
  aux?: Uint8Array;
}

export type Icmpv6Message = { code: number } & (
  | { kind: 'echoRequest' | 'echoReply'; id: number; seq: number; data: Uint8Array }
  | { kind: 'destUnreachable' | 'timeExceeded'; unused?: number; invoking: Uint8Array }
  | { kind: 'packetTooBig'; mtu: number; invoking: Uint8Array }
  | { kind: 'parameterProblem'; pointer: number; invoking: Uint8Array }
  | { kind: 'routerSolicitation'; reserved?: number; options: NdOption[] }
  | {
      kind: 'routerAdvertisement';
      curHopLimit: number;
      managed: boolean;
      other: boolean;
      /** The other six flag bits (home agent, preference, proxy), kept for byte-exactness. */
      flagsRest?: number;
      routerLifetime: number;
      reachableTime: number;
      retransTimer: number;
      options: NdOption[];
    }
  | { kind: 'neighborSolicitation'; reserved?: number; target: Ip6; options: NdOption[] }
  | { kind: 'neighborAdvertisement'; router: boolean; solicited: boolean; override: boolean; reserved?: number; target: Ip6; options: NdOption[] }
  | { kind: 'redirect'; reserved?: number; target: Ip6; destination: Ip6; options: NdOption[] }
  | { kind: 'mldv2Report'; reserved?: number; records: MldRecord[] }
  /**
   * Multicast listener query: 24 bytes is MLDv1 (RFC 2710), longer is MLDv2 (RFC 3810 5.1) with
   * `v2`. `group` is :: for a general query.
   */
  | {
      kind: 'mldQuery';
      maxResponseCode: number;
      reserved?: number;
      group: Ip6;
      v2?: { suppress: boolean; robustness: number; qqic: number; sources: Ip6[]; reservedBits?: number };
    }
  /** Any other type: the 4 bytes after the checksum and the rest. */
  | { kind: 'other'; type: number; rest: number; body: Uint8Array }
);

export type Icmpv6Decoded = Icmpv6Message & { type: number; checksum: number; checksumOk: boolean };

// ---- hot path ----

export function icmpv6Type(b: Uint8Array, o: number): number {
  return b[o]!;
}
export function icmpv6Code(b: Uint8Array, o: number): number {
  return b[o + 1]!;
}
/** True when the message buf[offset..offset+length) sums correctly with this pseudo-header address sum. */
export function icmpv6ChecksumOk(b: Uint8Array, o: number, length: number, addressSum: number): boolean {
  need(LAYER, b, o, length);
  return onesSum(b, o, length, addressSum + NEXT_HEADER.ICMPV6 + length) === 0xffff;
}
/** Computes and stores the checksum of the message buf[o..o+length), already written. */
export function icmpv6FillChecksum(b: Uint8Array, o: number, length: number, addressSum: number): number {
  room(LAYER, b, o, length);
  put16(b, o + 2, 0);
  const c = checksum(b, o, length, addressSum + NEXT_HEADER.ICMPV6 + length);
  put16(b, o + 2, c);
  return c;
}

/** Types that report on another packet and quote it (RFC 4443 2.1: types 0..127). */
export function isIcmpv6Error(type: number): boolean {
  return type < 128;
}

// ---- options ----

function ip6View(b: Uint8Array, o: number): Ip6 {
  return b.subarray(o, o + IP6_LENGTH);
}

/** Decodes ND options in buf[p..end); views, not copies. A zero length is malformed (RFC 4861 4.6). */
export function decodeNdOptions(b: Uint8Array, p: number, end: number): NdOption[] {
  const out: NdOption[] = [];
  while (p < end) {
    if (p + 2 > end) throw new DecodeError(LAYER, 'option header cut short', p);
    const code = b[p]!;
    const len = b[p + 1]! * 8;
    if (len === 0) throw new DecodeError(LAYER, `option ${code} has length 0`, p + 1);
    if (p + len > end) throw new DecodeError(LAYER, `option ${code} of ${len} bytes overruns the message`, p);
    out.push(knownNdOption(b, p, code, len) ?? { type: 'raw', code, data: b.subarray(p + 2, p + len) });
    p += len;
  }
  return out;
}

function knownNdOption(b: Uint8Array, p: number, code: number, len: number): NdOption | null {
  switch (code) {
    case ND_OPT.SOURCE_LL:
    case ND_OPT.TARGET_LL:
      return len === 8 ? { type: code === ND_OPT.SOURCE_LL ? 'sourceLinkLayer' : 'targetLinkLayer', mac: macAt(b, p + 2) } : null;
    case ND_OPT.PREFIX_INFO: {
      if (len !== 32) return null;
      const f = b[p + 3]!;
      const o: NdOption = {
        type: 'prefixInfo',
        prefixLength: b[p + 2]!,
        onLink: (f & 0x80) !== 0,
        autonomous: (f & 0x40) !== 0,
        validLifetime: u32(b, p + 4),
        preferredLifetime: u32(b, p + 8),
        prefix: ip6View(b, p + 16),
      };
      if (f & 0x3f) o.reservedFlags = f & 0x3f;
      if (u32(b, p + 12) !== 0) o.reserved2 = u32(b, p + 12);
      return o;
    }
    case ND_OPT.MTU: {
      if (len !== 8) return null;
      const o: NdOption = { type: 'mtu', mtu: u32(b, p + 4) };
      if (u16(b, p + 2) !== 0) o.reserved = u16(b, p + 2);
      return o;
    }
    case ND_OPT.RDNSS: {
      if (len < 24 || (len - 8) % 16 !== 0) return null;
      const servers: Ip6[] = [];
      for (let q = p + 8; q < p + len; q += 16) servers.push(ip6View(b, q));
      const o: NdOption = { type: 'rdnss', lifetime: u32(b, p + 4), servers };
      if (u16(b, p + 2) !== 0) o.reserved = u16(b, p + 2);
      return o;
    }
    default:
      return null;
  }
}

function ndOptionLength(opt: NdOption): number {
  switch (opt.type) {
    case 'sourceLinkLayer':
    case 'targetLinkLayer':
    case 'mtu':
      return 8;
    case 'prefixInfo':
      return 32;
    case 'rdnss':
      return 8 + 16 * opt.servers.length;
    case 'raw':
      return 2 + opt.data.length;
  }
}

export function ndOptionsLength(options: readonly NdOption[]): number {
  let n = 0;
  for (const o of options) n += ndOptionLength(o);
  return n;
}

export function encodeNdOptions(options: readonly NdOption[], b: Uint8Array, p: number): number {
  const start = p;
  for (const opt of options) {
    const len = ndOptionLength(opt);
    if ((len & 7) !== 0 || len > 2040) throw new EncodeError(`icmpv6: ND option of ${len} bytes is not a multiple of 8 up to 2040`);
    room(LAYER, b, p, len);
    b.fill(0, p, p + len);
    b[p + 1] = len / 8;
    switch (opt.type) {
      case 'sourceLinkLayer':
      case 'targetLinkLayer':
        b[p] = opt.type === 'sourceLinkLayer' ? ND_OPT.SOURCE_LL : ND_OPT.TARGET_LL;
        putMac(b, p + 2, opt.mac);
        break;
      case 'prefixInfo':
        b[p] = ND_OPT.PREFIX_INFO;
        b[p + 2] = opt.prefixLength;
        b[p + 3] = (opt.onLink ? 0x80 : 0) | (opt.autonomous ? 0x40 : 0) | ((opt.reservedFlags ?? 0) & 0x3f);
        put32(b, p + 4, opt.validLifetime >>> 0);
        put32(b, p + 8, opt.preferredLifetime >>> 0);
        put32(b, p + 12, (opt.reserved2 ?? 0) >>> 0);
        b.set(opt.prefix.subarray(0, IP6_LENGTH), p + 16);
        break;
      case 'mtu':
        b[p] = ND_OPT.MTU;
        put16(b, p + 2, opt.reserved ?? 0);
        put32(b, p + 4, opt.mtu >>> 0);
        break;
      case 'rdnss':
        b[p] = ND_OPT.RDNSS;
        put16(b, p + 2, opt.reserved ?? 0);
        put32(b, p + 4, opt.lifetime >>> 0);
        for (let i = 0; i < opt.servers.length; i++) b.set(opt.servers[i]!.subarray(0, IP6_LENGTH), p + 8 + 16 * i);
        break;
      case 'raw':
        b[p] = opt.code;
        b.set(opt.data, p + 2);
        break;
    }
    p += len;
  }
  return p - start;
}

/** The first option of a type, e.g. ndOption(msg.options, 'sourceLinkLayer')?.mac. */
export function ndOption<T extends NdOption['type']>(options: readonly NdOption[], type: T): Extract<NdOption, { type: T }> | undefined {
  for (const o of options) if (o.type === type) return o as Extract<NdOption, { type: T }>;
  return undefined;
}

// ---- decode / encode ----

function decodeMldRecords(b: Uint8Array, p: number, end: number, count: number): MldRecord[] {
  const out: MldRecord[] = [];
  for (let i = 0; i < count; i++) {
    if (p + 20 > end) throw new DecodeError(LAYER, `MLDv2 record ${i} cut short`, p);
    const auxLen = b[p + 1]! * 4;
    const n = u16(b, p + 2);
    const len = 20 + 16 * n + auxLen;
    if (p + len > end) throw new DecodeError(LAYER, `MLDv2 record ${i} of ${len} bytes overruns the message`, p);
    const sources: Ip6[] = [];
    for (let k = 0; k < n; k++) sources.push(ip6View(b, p + 20 + 16 * k));
    const r: MldRecord = { recordType: b[p]!, group: ip6View(b, p + 4), sources };
    if (auxLen > 0) r.aux = b.subarray(p + 20 + 16 * n, p + len);
    out.push(r);
    p += len;
  }
  if (p !== end) throw new DecodeError(LAYER, `${end - p} bytes after the last MLDv2 record`, p);
  return out;
}

function needBody(type: number, length: number, min: number, o: number): void {
  if (length < min) throw new DecodeError(LAYER, `type ${type} message of ${length} bytes is shorter than ${min}`, o);
}

/**
 * Decodes the message at buf[offset..offset+length) (the upper-layer length from the IPv6 walk,
 * so Ethernet padding stays out of the checksum). `addressSum` is ipv6AddressSum of its packet.
 */
export function decodeIcmpv6(buf: Uint8Array, offset: number, length: number, addressSum: number): Icmpv6Decoded {
  if (length < 4) throw new DecodeError(LAYER, `message of ${length} bytes is shorter than 4`, offset);
  need(LAYER, buf, offset, length);
  const type = buf[offset]!;
  const code = buf[offset + 1]!;
  const end = offset + length;
  const head = { type, code, checksum: u16(buf, offset + 2), checksumOk: icmpv6ChecksumOk(buf, offset, length, addressSum) };
  const o = offset;
  const reserved32 = (at: number): { reserved?: number } => (u32(buf, at) !== 0 ? { reserved: u32(buf, at) } : {});
  switch (type) {
    case ICMPV6_TYPE.ECHO_REQUEST:
    case ICMPV6_TYPE.ECHO_REPLY:
      needBody(type, length, 8, o);
      return { ...head, kind: type === 128 ? 'echoRequest' : 'echoReply', id: u16(buf, o + 4), seq: u16(buf, o + 6), data: buf.subarray(o + 8, end) };
    case ICMPV6_TYPE.DEST_UNREACHABLE:
    case ICMPV6_TYPE.TIME_EXCEEDED: {
      needBody(type, length, 8, o);
      const m: Icmpv6Decoded = { ...head, kind: type === 1 ? 'destUnreachable' : 'timeExceeded', invoking: buf.subarray(o + 8, end) };
      if (u32(buf, o + 4) !== 0) m.unused = u32(buf, o + 4);
      return m;
    }
    case ICMPV6_TYPE.PACKET_TOO_BIG:
      needBody(type, length, 8, o);
      return { ...head, kind: 'packetTooBig', mtu: u32(buf, o + 4), invoking: buf.subarray(o + 8, end) };
    case ICMPV6_TYPE.PARAMETER_PROBLEM:
      needBody(type, length, 8, o);
      return { ...head, kind: 'parameterProblem', pointer: u32(buf, o + 4), invoking: buf.subarray(o + 8, end) };
    case ICMPV6_TYPE.ROUTER_SOLICITATION:
      needBody(type, length, 8, o);
      return { ...head, kind: 'routerSolicitation', ...reserved32(o + 4), options: decodeNdOptions(buf, o + 8, end) };
    case ICMPV6_TYPE.ROUTER_ADVERTISEMENT: {
      needBody(type, length, 16, o);
      const f = buf[o + 5]!;
      const m: Icmpv6Decoded = {
        ...head,
        kind: 'routerAdvertisement',
        curHopLimit: buf[o + 4]!,
        managed: (f & 0x80) !== 0,
        other: (f & 0x40) !== 0,
        routerLifetime: u16(buf, o + 6),
        reachableTime: u32(buf, o + 8),
        retransTimer: u32(buf, o + 12),
        options: decodeNdOptions(buf, o + 16, end),
      };
      if (f & 0x3f) m.flagsRest = f & 0x3f;
      return m;
    }
    case ICMPV6_TYPE.NEIGHBOR_SOLICITATION:
      needBody(type, length, 24, o);
      return { ...head, kind: 'neighborSolicitation', ...reserved32(o + 4), target: ip6View(buf, o + 8), options: decodeNdOptions(buf, o + 24, end) };
    case ICMPV6_TYPE.NEIGHBOR_ADVERTISEMENT: {
      needBody(type, length, 24, o);
      const w = u32(buf, o + 4);
      const m: Icmpv6Decoded = {
        ...head,
        kind: 'neighborAdvertisement',
        router: (w & 0x8000_0000) !== 0,
        solicited: (w & 0x4000_0000) !== 0,
        override: (w & 0x2000_0000) !== 0,
        target: ip6View(buf, o + 8),
        options: decodeNdOptions(buf, o + 24, end),
      };
      if (w & 0x1fff_ffff) m.reserved = w & 0x1fff_ffff;
      return m;
    }
    case ICMPV6_TYPE.REDIRECT:
      needBody(type, length, 40, o);
      return {
        ...head,
        kind: 'redirect',
        ...reserved32(o + 4),
        target: ip6View(buf, o + 8),
        destination: ip6View(buf, o + 24),
        options: decodeNdOptions(buf, o + 40, end),
      };
    case ICMPV6_TYPE.MLD_QUERY: {
      needBody(type, length, 24, o);
      const m: Icmpv6Decoded = { ...head, kind: 'mldQuery', maxResponseCode: u16(buf, o + 4), group: ip6View(buf, o + 8) };
      if (u16(buf, o + 6) !== 0) m.reserved = u16(buf, o + 6);
      if (length > 24) {
        needBody(type, length, 28, o);
        const n = u16(buf, o + 26);
        if (length !== 28 + 16 * n) throw new DecodeError(LAYER, `MLDv2 query of ${length} bytes does not hold ${n} sources`, o + 26);
        const sources: Ip6[] = [];
        for (let k = 0; k < n; k++) sources.push(ip6View(buf, o + 28 + 16 * k));
        const f = buf[o + 24]!;
        m.v2 = { suppress: (f & 8) !== 0, robustness: f & 7, qqic: buf[o + 25]!, sources };
        if (f >>> 4) m.v2.reservedBits = f >>> 4;
      }
      return m;
    }
    case ICMPV6_TYPE.MLDV2_REPORT: {
      needBody(type, length, 8, o);
      const m: Icmpv6Decoded = { ...head, kind: 'mldv2Report', records: decodeMldRecords(buf, o + 8, end, u16(buf, o + 6)) };
      if (u16(buf, o + 4) !== 0) m.reserved = u16(buf, o + 4);
      return m;
    }
    default:
      return { ...head, kind: 'other', type, rest: length >= 8 ? u32(buf, o + 4) : 0, body: buf.subarray(Math.min(o + 8, end), end) };
  }
}

const KIND_TYPE: Record<Icmpv6Message['kind'], number> = {
  echoRequest: 128,
  echoReply: 129,
  destUnreachable: 1,
  packetTooBig: 2,
  timeExceeded: 3,
  parameterProblem: 4,
  routerSolicitation: 133,
  routerAdvertisement: 134,
  neighborSolicitation: 135,
  neighborAdvertisement: 136,
  redirect: 137,
  mldv2Report: 143,
  mldQuery: 130,
  other: -1,
};

export function icmpv6TypeOf(m: Icmpv6Message): number {
  return m.kind === 'other' ? m.type : KIND_TYPE[m.kind];
}

export function icmpv6Length(m: Icmpv6Message): number {
  switch (m.kind) {
    case 'echoRequest':
    case 'echoReply':
      return 8 + m.data.length;
    case 'destUnreachable':
    case 'timeExceeded':
    case 'packetTooBig':
    case 'parameterProblem':
      return 8 + m.invoking.length;
    case 'routerSolicitation':
      return 8 + ndOptionsLength(m.options);
    case 'routerAdvertisement':
      return 16 + ndOptionsLength(m.options);
    case 'neighborSolicitation':
    case 'neighborAdvertisement':
      return 24 + ndOptionsLength(m.options);
    case 'redirect':
      return 40 + ndOptionsLength(m.options);
    case 'mldv2Report': {
      let n = 8;
      for (const r of m.records) n += 20 + 16 * r.sources.length + (r.aux?.length ?? 0);
      return n;
    }
    case 'mldQuery':
      return m.v2 ? 28 + 16 * m.v2.sources.length : 24;
    case 'other':
      return 8 + m.body.length;
  }
}

/** Writes the message at buf[offset..] with its checksum; returns bytes written. */
export function encodeIcmpv6(m: Icmpv6Message, buf: Uint8Array, offset: number, addressSum: number): number {
  const len = icmpv6Length(m);
  room(LAYER, buf, offset, len);
  const o = offset;
  buf.fill(0, o, o + 8);
  buf[o] = icmpv6TypeOf(m);
  buf[o + 1] = m.code;
  switch (m.kind) {
    case 'echoRequest':
    case 'echoReply':
      put16(buf, o + 4, m.id);
      put16(buf, o + 6, m.seq);
      buf.set(m.data, o + 8);
      break;
    case 'destUnreachable':
    case 'timeExceeded':
      put32(buf, o + 4, (m.unused ?? 0) >>> 0);
      buf.set(m.invoking, o + 8);
      break;
    case 'packetTooBig':
      put32(buf, o + 4, m.mtu >>> 0);
      buf.set(m.invoking, o + 8);
      break;
    case 'parameterProblem':
      put32(buf, o + 4, m.pointer >>> 0);
      buf.set(m.invoking, o + 8);
      break;
    case 'routerSolicitation':
      put32(buf, o + 4, (m.reserved ?? 0) >>> 0);
      encodeNdOptions(m.options, buf, o + 8);
      break;
    case 'routerAdvertisement':
      buf[o + 4] = m.curHopLimit;
      buf[o + 5] = (m.managed ? 0x80 : 0) | (m.other ? 0x40 : 0) | ((m.flagsRest ?? 0) & 0x3f);
      put16(buf, o + 6, m.routerLifetime);
      put32(buf, o + 8, m.reachableTime >>> 0);
      put32(buf, o + 12, m.retransTimer >>> 0);
      encodeNdOptions(m.options, buf, o + 16);
      break;
    case 'neighborSolicitation':
      put32(buf, o + 4, (m.reserved ?? 0) >>> 0);
      buf.set(m.target.subarray(0, IP6_LENGTH), o + 8);
      encodeNdOptions(m.options, buf, o + 24);
      break;
    case 'neighborAdvertisement':
      put32(buf, o + 4, ((m.router ? 0x8000_0000 : 0) | (m.solicited ? 0x4000_0000 : 0) | (m.override ? 0x2000_0000 : 0) | ((m.reserved ?? 0) & 0x1fff_ffff)) >>> 0);
      buf.set(m.target.subarray(0, IP6_LENGTH), o + 8);
      encodeNdOptions(m.options, buf, o + 24);
      break;
    case 'redirect':
      put32(buf, o + 4, (m.reserved ?? 0) >>> 0);
      buf.set(m.target.subarray(0, IP6_LENGTH), o + 8);
      buf.set(m.destination.subarray(0, IP6_LENGTH), o + 24);
      encodeNdOptions(m.options, buf, o + 40);
      break;
    case 'mldv2Report': {
      put16(buf, o + 4, m.reserved ?? 0);
      put16(buf, o + 6, m.records.length);
      let p = o + 8;
      for (const r of m.records) {
        const aux = r.aux?.length ?? 0;
        if ((aux & 3) !== 0) throw new EncodeError(`icmpv6: MLDv2 aux data of ${aux} bytes is not a multiple of 4`);
        buf[p] = r.recordType;
        buf[p + 1] = aux / 4;
        put16(buf, p + 2, r.sources.length);
        buf.set(r.group.subarray(0, IP6_LENGTH), p + 4);
        p += 20;
        for (const s of r.sources) {
          buf.set(s.subarray(0, IP6_LENGTH), p);
          p += 16;
        }
        if (r.aux) {
          buf.set(r.aux, p);
          p += aux;
        }
      }
      break;
    }
    case 'mldQuery':
      put16(buf, o + 4, m.maxResponseCode);
      put16(buf, o + 6, m.reserved ?? 0);
      buf.set(m.group.subarray(0, IP6_LENGTH), o + 8);
      if (m.v2) {
        buf[o + 24] = (((m.v2.reservedBits ?? 0) & 0xf) << 4) | (m.v2.suppress ? 8 : 0) | (m.v2.robustness & 7);
        buf[o + 25] = m.v2.qqic;
        put16(buf, o + 26, m.v2.sources.length);
        m.v2.sources.forEach((src, k) => buf.set(src.subarray(0, IP6_LENGTH), o + 28 + 16 * k));
      }
      break;
    case 'other':
      put32(buf, o + 4, m.rest >>> 0);
      buf.set(m.body, o + 8);
      break;
  }
  icmpv6FillChecksum(buf, o, len, addressSum);
  return len;
}

/** Hop-by-hop header with Router Alert 0 (MLD) and PadN, as Linux puts before an MLD report. */
export const MLD_HOP_BY_HOP: Ipv6Extension = {
  kind: 'hopByHop',
  options: [
    { type: IPV6_OPT.ROUTER_ALERT, data: new Uint8Array(2) },
    { type: IPV6_OPT.PADN, data: new Uint8Array(0) },
  ],
};

export interface Icmpv6PacketInit {
  src: Ip6;
  dst: Ip6;
  /** Default: 255 for Neighbor Discovery (RFC 4861 checks it), 1 for MLD, else 64. */
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  /** Default: MLD_HOP_BY_HOP for MLD, else none. */
  extensions?: readonly Ipv6Extension[];
}

/** A whole IPv6 packet carrying `m`, checksummed over its pseudo-header. */
export function buildIcmpv6Packet(init: Icmpv6PacketInit, m: Icmpv6Message): Uint8Array {
  const type = icmpv6TypeOf(m);
  const nd = type >= 133 && type <= 137;
  const mld = type === ICMPV6_TYPE.MLDV2_REPORT || type === ICMPV6_TYPE.MLD_QUERY;
  const headers = {
    src: init.src,
    dst: init.dst,
    protocol: NEXT_HEADER.ICMPV6,
    hopLimit: init.hopLimit ?? (nd ? 255 : mld ? 1 : 64),
    trafficClass: init.trafficClass ?? 0,
    flowLabel: init.flowLabel ?? 0,
    extensions: init.extensions ?? (mld ? [MLD_HOP_BY_HOP] : []),
  };
  const len = icmpv6Length(m);
  const out = new Uint8Array(ipv6HeadersLength(headers) + len);
  const p = encodeIpv6Headers(headers, len, out, 0);
  encodeIcmpv6(m, out, p, ipv6AddressSum(out, 0));
  return out;
}

// ---- Neighbor Discovery validity ----

/**
 * Why a decoded ND message in the packet at b[ipOffset..] must be dropped (RFC 4861 6.1.1, 6.1.2,
 * 7.1.1, 7.1.2, 8.1), or null when it is valid: hop limit 255 (so it came from the link), a good
 * checksum, code 0, and the per-type rules on source, destination, target and options. Option
 * lengths of zero and short messages were refused by decodeIcmpv6 already. Null for other kinds.
 */
export function ndInvalid(b: Uint8Array, ipOffset: number, m: Icmpv6Decoded): string | null {
  if (m.type < ICMPV6_TYPE.ROUTER_SOLICITATION || m.type > ICMPV6_TYPE.REDIRECT) return null;
  if (b[ipOffset + 7] !== 255) return `hop limit ${b[ipOffset + 7]} is not 255`;
  if (!m.checksumOk) return 'bad checksum';
  if (m.code !== 0) return `code ${m.code}`;
  const src = ipOffset + IPV6_SRC;
  const dst = ipOffset + IPV6_DST;
  const fromNobody = ip6IsUnspecified(b, src);
  switch (m.kind) {
    case 'routerSolicitation':
      return fromNobody && ndOption(m.options, 'sourceLinkLayer') ? 'source link-layer option from the unspecified address' : null;
    case 'routerAdvertisement':
      return ip6IsLinkLocal(b, src) ? null : 'source is not link-local';
    case 'neighborSolicitation':
      if (ip6IsMulticast(m.target, 0)) return 'multicast target';
      if (!fromNobody) return null;
      // DAD: sent to the target's solicited-node group, without a source link-layer option.
      if (!(b[dst] === 0xff && b[dst + 1] === 0x02 && b[dst + 11] === 1 && b[dst + 12] === 0xff)) return 'DAD probe not sent to a solicited-node group';
      return ndOption(m.options, 'sourceLinkLayer') ? 'source link-layer option from the unspecified address' : null;
    case 'neighborAdvertisement':
      if (ip6IsMulticast(m.target, 0)) return 'multicast target';
      return m.solicited && ip6IsMulticast(b, dst) ? 'solicited advertisement sent to a group' : null;
    case 'redirect':
      if (!ip6IsLinkLocal(b, src)) return 'source is not link-local';
      if (ip6IsMulticast(m.destination, 0)) return 'multicast destination';
      return ip6IsLinkLocal(m.target, 0) || ip6Equal(m.target, 0, m.destination, 0) ? null : 'target is neither link-local nor the destination';
    default:
      return null;
  }
}

// ---- errors ----

/**
 * May an ICMPv6 error be sent about the packet at b[o..]? RFC 4443 2.4(e): not about an ICMPv6
 * error or redirect, not from the unspecified or a multicast source, and not to a multicast
 * destination, except packet too big and parameter problem code 2 (`type`/`code` of the error
 * to send). Allocation-free when the caller passes its walk record; false for bytes that are
 * not an IPv6 packet. The link-layer rule (e.3: not about a frame sent to a group MAC) and rate
 * limiting (2.4(f)) need the frame and a clock: they are the caller's.
 */
export function icmpv6ErrorAllowed(b: Uint8Array, o: number, type: number, code: number, walk = newIpv6Walk()): boolean {
  if (o + IPV6_HEADER_LENGTH > b.length || b[o]! >>> 4 !== 6) return false;
  if (ip6IsUnspecified(b, o + IPV6_SRC) || ip6IsMulticast(b, o + IPV6_SRC)) return false;
  const toGroupOk = type === ICMPV6_TYPE.PACKET_TOO_BIG || (type === ICMPV6_TYPE.PARAMETER_PROBLEM && code === 2);
  if (ip6IsMulticast(b, o + IPV6_DST) && !toGroupOk) return false;
  let verdict: number;
  try {
    verdict = walkIpv6(b, o, walk);
  } catch {
    // A packet cut short still earns an error (e.g. a quote-sized one); its own header said ICMPv6 or not.
    return b[o + 6] !== NEXT_HEADER.ICMPV6 || o + IPV6_HEADER_LENGTH >= b.length || !errorOrRedirect(b[o + IPV6_HEADER_LENGTH]!);
  }
  if (verdict !== IPV6_VERDICT.DELIVER || walk.protocol !== NEXT_HEADER.ICMPV6 || walk.fragmentAt >= 0) return true;
  return walk.offset >= walk.end || !errorOrRedirect(b[walk.offset]!);
}
function errorOrRedirect(type: number): boolean {
  return isIcmpv6Error(type) || type === ICMPV6_TYPE.REDIRECT;
}

/** The invoking packet at packet[offset..] as an error quotes it: at most ICMPV6_MAX_QUOTE bytes, no link padding. */
export function icmpv6Quote(packet: Uint8Array, offset = 0): Uint8Array {
  need(LAYER, packet, offset, IPV6_HEADER_LENGTH);
  const total = IPV6_HEADER_LENGTH + u16(packet, offset + 4);
  return packet.subarray(offset, offset + Math.min(total, ICMPV6_MAX_QUOTE, packet.length - offset));
}

export interface QuotedIpv6 {
  src: Ip6;
  dst: Ip6;
  hopLimit: number;
  /** Payload length the original packet claimed (the quote is usually shorter). */
  payloadLength: number;
  /** The upper-layer protocol after the quoted extension headers, or -1 when the quote ends inside them. */
  protocol: number;
  /** Offset of the quoted upper-layer header (UDP ports, ICMPv6 echo id, TCP ports). */
  transportOffset: number;
  /** Quoted upper-layer bytes present. */
  transportLength: number;
  /** True when the quote is of a non-first fragment: no upper-layer header to match on. */
  laterFragment: boolean;
}

/**
 * Reads the packet quoted in an ICMPv6 error at buf[offset..offset+length) (traceroute and sockets
 * match the error to what they sent). Unlike decodeIpv6 it accepts a quote shorter than the packet
 * it claims to be, walking extension headers only as far as the quote goes.
 */
export function decodeQuotedIpv6(buf: Uint8Array, offset: number, length: number): QuotedIpv6 {
  need(LAYER, buf, offset, length);
  if (length < IPV6_HEADER_LENGTH) throw new DecodeError(LAYER, `quote of ${length} bytes has no IPv6 header`, offset);
  if (buf[offset]! >>> 4 !== 6) throw new DecodeError(LAYER, 'quoted packet is not IPv6', offset);
  const end = offset + length;
  let nh = buf[offset + 6]!;
  let p = offset + IPV6_HEADER_LENGTH;
  let protocol = -1;
  let laterFragment = false;
  for (;;) {
    if (nh !== NEXT_HEADER.HOP_BY_HOP && nh !== NEXT_HEADER.ROUTING && nh !== NEXT_HEADER.DESTINATION && nh !== NEXT_HEADER.FRAGMENT) {
      protocol = nh;
      break;
    }
    if (p + 8 > end) {
      p = end; // the quote ends inside the extension headers
      break;
    }
    if (nh === NEXT_HEADER.FRAGMENT && (u16(buf, p + 2) & 0xfff8) !== 0) laterFragment = true;
    const len = nh === NEXT_HEADER.FRAGMENT ? 8 : (buf[p + 1]! + 1) * 8;
    nh = buf[p]!;
    p += len;
    if (laterFragment) {
      protocol = nh;
      break;
    }
  }
  p = Math.min(p, end);
  return {
    src: buf.subarray(offset + IPV6_SRC, offset + IPV6_SRC + IP6_LENGTH),
    dst: buf.subarray(offset + IPV6_DST, offset + IPV6_DST + IP6_LENGTH),
    hopLimit: buf[offset + 7]!,
    payloadLength: u16(buf, offset + 4),
    protocol,
    transportOffset: p,
    transportLength: end - p,
    laterFragment,
  };
}

/** An error about the packet at offending[offset..]; `value` is the MTU (packet too big) or the pointer (parameter problem). */
export function icmpv6ErrorMessage(
  kind: 'destUnreachable' | 'packetTooBig' | 'timeExceeded' | 'parameterProblem',
  code: number,
  offending: Uint8Array,
  value = 0,
  offset = 0,
): Icmpv6Message {
  const invoking = icmpv6Quote(offending, offset);
  if (kind === 'packetTooBig') return { kind, code, mtu: value, invoking };
  if (kind === 'parameterProblem') return { kind, code, pointer: value, invoking };
  return { kind, code, invoking };
}

/** The echo reply to a decoded echo request: same id, seq and data. */
export function echoReply6(req: { id: number; seq: number; data: Uint8Array }): Icmpv6Message {
  return { kind: 'echoReply', code: 0, id: req.id, seq: req.seq, data: req.data };
}
