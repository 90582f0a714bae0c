/**
 * IPv6 (RFC 8200): the fixed header, extension headers (hop-by-hop, routing, fragment, destination
 * options), the walk to the upper-layer header and the pseudo-header sum of 8.1. `walkIpv6` is the
 * hot path: it fills a caller-owned record, allocates nothing, and says what RFC 8200 wants done
 * with a packet it cannot process (a parameter problem with code and pointer, or a silent drop).
 * `decodeIpv6` lists every header for traces and tests. Reassembly keeps state: the stack's.
 */
import { onesSum, put16, put32, u16, u32 } from './bytes.js';
import { DecodeError, EncodeError, need, room } from './errors.js';
import { IP6_LENGTH, type Ip6, ip6IsMulticast } from './ip6addr.js';

export const IPV6_HEADER_LENGTH = 40;
/** RFC 8200 5: every link carries 1280-byte packets without fragmenting them. */
export const IPV6_MIN_MTU = 1280;
export const IPV6_SRC = 8;
export const IPV6_DST = 24;

export const NEXT_HEADER = {
  HOP_BY_HOP: 0,
  TCP: 6,
  UDP: 17,
  ROUTING: 43,
  FRAGMENT: 44,
  ICMPV6: 58,
  NO_NEXT: 59,
  DESTINATION: 60,
} as const;

/** Hop-by-hop and destination option types (RFC 8200 4.2, RFC 2711). */
export const IPV6_OPT = { PAD1: 0, PADN: 1, ROUTER_ALERT: 5 } as const;

/** ICMPv6 parameter-problem codes (RFC 4443 3.4) the walk reports. */
export const PARAM_PROBLEM = { HEADER_FIELD: 0, NEXT_HEADER: 1, OPTION: 2, INCOMPLETE_CHAIN: 3 } as const;

/** What walkIpv6 says about a packet. */
export const IPV6_VERDICT = {
  /** Hand `protocol` at `offset` to the upper layer (or to reassembly when `fragmentAt >= 0`). */
  DELIVER: 0,
  /** Drop and send an ICMPv6 parameter problem with `problemCode` and `problemPointer`. */
  PARAM_PROBLEM: 1,
  /** Drop without a word (an option whose type says so). */
  DISCARD: 2,
} as const;

/** The record walkIpv6 fills; make one with newIpv6Walk() and reuse it. */
export interface Ipv6Walk {
  /** The upper-layer protocol (next header after the last extension header processed). */
  protocol: number;
  /** Absolute offset of the upper-layer header (or of the fragment data). */
  offset: number;
  /** Absolute end of the packet (header + payload length): Ethernet padding excluded. */
  end: number;
  /** Absolute offset of a fragment header of a real fragment, else -1 (atomic fragments pass). */
  fragmentAt: number;
  /** Absolute offset of the next-header field that names that fragment header (reassembly rewrites it). */
  fragmentNextField: number;
  /** In bytes. */
  fragmentOffset: number;
  more: boolean;
  fragmentId: number;
  /** Router Alert value (RFC 2711: 0 is MLD), or -1. */
  routerAlert: number;
  problemCode: number;
  /** Offset from the start of the IPv6 header, as the ICMPv6 pointer field wants it. */
  problemPointer: number;
}

export function newIpv6Walk(): Ipv6Walk {
  return {
    protocol: 0,
    offset: 0,
    end: 0,
    fragmentAt: -1,
    fragmentNextField: -1,
    fragmentOffset: 0,
    more: false,
    fragmentId: 0,
    routerAlert: -1,
    problemCode: 0,
    problemPointer: 0,
  };
}

// ---- hot path: offset readers; the caller has checked 40 bytes are there ----

export function ipv6Version(b: Uint8Array, o: number): number {
  return b[o]! >>> 4;
}
export function ipv6TrafficClass(b: Uint8Array, o: number): number {
  return ((b[o]! & 0x0f) << 4) | (b[o + 1]! >>> 4);
}
export function ipv6FlowLabel(b: Uint8Array, o: number): number {
  return ((b[o + 1]! & 0x0f) << 16) | u16(b, o + 2);
}
export function ipv6PayloadLength(b: Uint8Array, o: number): number {
  return u16(b, o + 4);
}
export function ipv6NextHeader(b: Uint8Array, o: number): number {
  return b[o + 6]!;
}
export function ipv6HopLimit(b: Uint8Array, o: number): number {
  return b[o + 7]!;
}
/** Decrements the hop limit in place (no header checksum in IPv6); returns the new value, 0 stays 0. */
export function decrementHopLimit(b: Uint8Array, o: number): number {
  const h = b[o + 7]!;
  if (h > 0) b[o + 7] = h - 1;
  return b[o + 7]!;
}

/**
 * The address part of the RFC 8200 8.1 pseudo-header of the packet at b[o..] (source and
 * destination sit side by side), for encodeUdp6, udpChecksumOk6, encodeTcp6 and the like, which
 * add the upper-layer length and next header themselves.
 */
export function ipv6AddressSum(b: Uint8Array, o: number): number {
  return onesSum(b, o + IPV6_SRC, 2 * IP6_LENGTH);
}
/** The same for two addresses held apart from a packet. */
export function ip6AddressSum(src: Ip6, dst: Ip6): number {
  return onesSum(dst, 0, IP6_LENGTH, onesSum(src, 0, IP6_LENGTH));
}

function isExtension(nh: number): boolean {
  return nh === NEXT_HEADER.HOP_BY_HOP || nh === NEXT_HEADER.ROUTING || nh === NEXT_HEADER.FRAGMENT || nh === NEXT_HEADER.DESTINATION;
}

/** True when the extension headers from p on, starting with `nh`, all end by `end`. */
function chainComplete(b: Uint8Array, p: number, end: number, nh: number): boolean {
  while (isExtension(nh) && nh !== NEXT_HEADER.FRAGMENT) {
    if (p + 8 > end || p + (b[p + 1]! + 1) * 8 > end) return false;
    nh = b[p]!;
    p += (b[p + 1]! + 1) * 8;
  }
  return true;
}

/** Checks the options of a hop-by-hop or destination header at p (whole header p..end). */
function walkOptions(b: Uint8Array, o: number, p: number, end: number, w: Ipv6Walk): number {
  let q = p + 2;
  while (q < end) {
    const type = b[q]!;
    if (type === IPV6_OPT.PAD1) {
      q++;
      continue;
    }
    if (q + 2 > end || q + 2 + b[q + 1]! > end) throw new DecodeError('ipv6', `option ${type} overruns its header`, q);
    const len = b[q + 1]!;
    if (type === IPV6_OPT.ROUTER_ALERT && len === 2) w.routerAlert = u16(b, q + 2);
    else if (type !== IPV6_OPT.PADN && type !== IPV6_OPT.ROUTER_ALERT) {
      // RFC 8200 4.2: the two high bits of an unknown option's type say what to do.
      const action = type >>> 6;
      if (action === 1) return IPV6_VERDICT.DISCARD;
      if (action === 2 || (action === 3 && !ip6IsMulticast(b, o + IPV6_DST))) {
        w.problemCode = PARAM_PROBLEM.OPTION;
        w.problemPointer = q - o;
        return IPV6_VERDICT.PARAM_PROBLEM;
      }
      if (action === 3) return IPV6_VERDICT.DISCARD;
    }
    q += 2 + len;
  }
  return IPV6_VERDICT.DELIVER;
}

/**
 * Walks the extension headers of the packet at b[o..] as its destination does (RFC 8200 4) and
 * returns an IPV6_VERDICT, `w` filled. Stops at the first upper-layer header, at No Next Header,
 * or after the fragment header of a real fragment (the rest is fragment data). Throws DecodeError
 * for bytes that are not an IPv6 packet (truncated, wrong version, headers overrunning the payload).
 * A first fragment must hold the whole extension-header chain (RFC 7112: code 3, pointer 0).
 * Routing type 0 (RFC 5095) and every other routing type are unknown here: with segments left
 * they are a parameter problem pointing at the type, without they are skipped (RFC 8200 4.4).
 */
export function walkIpv6(b: Uint8Array, o: number, w: Ipv6Walk): number {
  need('ipv6', b, o, IPV6_HEADER_LENGTH);
  if (b[o]! >>> 4 !== 6) throw new DecodeError('ipv6', `version ${b[o]! >>> 4}`, o);
  const end = o + IPV6_HEADER_LENGTH + u16(b, o + 4);
  need('ipv6', b, o, end - o);
  w.end = end;
  w.fragmentAt = -1;
  w.fragmentNextField = -1;
  w.fragmentOffset = 0;
  w.more = false;
  w.fragmentId = 0;
  w.routerAlert = -1;
  w.problemCode = 0;
  w.problemPointer = 0;
  let nh = b[o + 6]!;
  let nhField = o + 6;
  let p = o + IPV6_HEADER_LENGTH;
  while (isExtension(nh)) {
    if (nh === NEXT_HEADER.HOP_BY_HOP && p !== o + IPV6_HEADER_LENGTH) {
      w.problemCode = PARAM_PROBLEM.NEXT_HEADER;
      w.problemPointer = nhField - o;
      return IPV6_VERDICT.PARAM_PROBLEM;
    }
    if (p + 8 > end) throw new DecodeError('ipv6', `extension header ${nh} overruns the payload`, p);
    const len = nh === NEXT_HEADER.FRAGMENT ? 8 : (b[p + 1]! + 1) * 8;
    if (p + len > end) throw new DecodeError('ipv6', `extension header ${nh} of ${len} bytes overruns the payload`, p);
    if (nh === NEXT_HEADER.HOP_BY_HOP || nh === NEXT_HEADER.DESTINATION) {
      const v = walkOptions(b, o, p, p + len, w);
      if (v !== IPV6_VERDICT.DELIVER) return v;
    } else if (nh === NEXT_HEADER.ROUTING) {
      if (b[p + 3] !== 0) {
        w.problemCode = PARAM_PROBLEM.HEADER_FIELD;
        w.problemPointer = p + 2 - o;
        return IPV6_VERDICT.PARAM_PROBLEM;
      }
    } else {
      const fo = u16(b, p + 2);
      const offset = fo & 0xfff8;
      const more = (fo & 1) !== 0;
      if (offset !== 0 || more) {
        // RFC 8200 4.5: every fragment but the last carries a multiple of 8 bytes.
        if (more && ((end - p - 8) & 7) !== 0) {
          w.problemCode = PARAM_PROBLEM.HEADER_FIELD;
          w.problemPointer = 4;
          return IPV6_VERDICT.PARAM_PROBLEM;
        }
        // RFC 7112: a first fragment carries the whole header chain, or earns code 3, pointer 0.
        if (offset === 0 && !chainComplete(b, p + 8, end, b[p]!)) {
          w.problemCode = PARAM_PROBLEM.INCOMPLETE_CHAIN;
          w.problemPointer = 0;
          return IPV6_VERDICT.PARAM_PROBLEM;
        }
        w.fragmentAt = p;
        w.fragmentNextField = nhField;
        w.fragmentOffset = offset;
        w.more = more;
        w.fragmentId = u32(b, p + 4);
        w.protocol = b[p]!;
        w.offset = p + 8;
        return IPV6_VERDICT.DELIVER;
      }
    }
    nhField = p;
    nh = b[p]!;
    p += len;
  }
  w.protocol = nh;
  w.offset = p;
  return IPV6_VERDICT.DELIVER;
}

/**
 * The reassembled packet (RFC 8200 4.5): the first fragment's unfragmentable part (its bytes from
 * `o` up to its fragment header, `w` being its walk) with the next-header field that named the
 * fragment header set to the fragment header's own, the payload length fixed, then `data`, the
 * fragments' data in order. Keeping the fragments is the stack's; this only assembles.
 */
export function ipv6Reassembled(first: Uint8Array, o: number, w: Ipv6Walk, data: Uint8Array): Uint8Array {
  if (w.fragmentAt < 0) throw new EncodeError('ipv6: the walk found no fragment header');
  const head = w.fragmentAt - o;
  const payloadLength = head - IPV6_HEADER_LENGTH + data.length;
  if (payloadLength > 0xffff) throw new EncodeError(`ipv6: reassembled payload of ${payloadLength} bytes exceeds 65535`);
  const out = new Uint8Array(head + data.length);
  out.set(first.subarray(o, w.fragmentAt), 0);
  out[w.fragmentNextField - o] = first[w.fragmentAt]!;
  put16(out, 4, payloadLength);
  out.set(data, head);
  return out;
}

// ---- decode / encode ----

/** One option of a hop-by-hop or destination header, in wire order; Pad1 is type 0 with no data. */
export interface Ipv6Option {
  type: number;
  data: Uint8Array;
}

export type Ipv6Extension =
  | { kind: 'hopByHop' | 'destination'; options: Ipv6Option[] }
  | { kind: 'routing'; routingType: number; segmentsLeft: number; /** Bytes after the first four. */ data: Uint8Array }
  | { kind: 'fragment'; fragmentOffset: number; more: boolean; id: number; /** Byte 1 and the two reserved bits, kept for byte-exactness. */ reserved?: number; reservedBits?: number };

/** A decoded extension header with where it sat. */
export type Ipv6ExtensionAt = Ipv6Extension & { nextHeader: number; offset: number; length: number };

export interface Ipv6Fields {
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  /** The first next header: an extension's number or the upper-layer protocol. */
  nextHeader: number;
  hopLimit: number;
  src: Ip6;
  dst: Ip6;
}

export interface Ipv6Packet extends Ipv6Fields {
  /** Views into the decoded buffer. */
  src: Ip6;
  dst: Ip6;
  extensions: Ipv6ExtensionAt[];
  /** What walkIpv6 said, with the upper-layer protocol, offset and length. */
  verdict: number;
  problemCode: number;
  problemPointer: number;
  protocol: number;
  /** Absolute offset of the upper layer (of the fragment data for a fragment). */
  payloadOffset: number;
  /** The upper layer's bytes: end minus payloadOffset. */
  upperLength: number;
  fragment?: { offset: number; more: boolean; id: number };
}

function extensionKind(nh: number): 'hopByHop' | 'destination' | 'routing' | 'fragment' {
  return nh === 0 ? 'hopByHop' : nh === 60 ? 'destination' : nh === 43 ? 'routing' : 'fragment';
}
function extensionNumber(kind: Ipv6Extension['kind']): number {
  return kind === 'hopByHop' ? 0 : kind === 'destination' ? 60 : kind === 'routing' ? 43 : 44;
}

/** Decodes an option area; data are views. */
export function decodeIpv6Options(b: Uint8Array, p: number, end: number): Ipv6Option[] {
  const out: Ipv6Option[] = [];
  while (p < end) {
    const type = b[p]!;
    if (type === IPV6_OPT.PAD1) {
      out.push({ type, data: b.subarray(p, p) });
      p++;
      continue;
    }
    if (p + 2 > end || p + 2 + b[p + 1]! > end) throw new DecodeError('ipv6', `option ${type} overruns its header`, p);
    out.push({ type, data: b.subarray(p + 2, p + 2 + b[p + 1]!) });
    p += 2 + b[p + 1]!;
  }
  return out;
}

/** Decodes the packet at buf[offset..]: every header listed, the walk's verdict reported (not thrown). */
export function decodeIpv6(buf: Uint8Array, offset = 0): Ipv6Packet {
  const w = newIpv6Walk();
  const verdict = walkIpv6(buf, offset, w);
  const extensions: Ipv6ExtensionAt[] = [];
  let nh = buf[offset + 6]!;
  let p = offset + IPV6_HEADER_LENGTH;
  // List the headers the walk passed (all of them up to the upper layer, or up to a problem).
  while (isExtension(nh) && p + 8 <= w.end) {
    const next = buf[p]!;
    const kind = extensionKind(nh);
    const length = kind === 'fragment' ? 8 : (buf[p + 1]! + 1) * 8;
    if (p + length > w.end) break;
    let ext: Ipv6Extension;
    if (kind === 'fragment') {
      const fo = u16(buf, p + 2);
      ext = { kind, fragmentOffset: fo & 0xfff8, more: (fo & 1) !== 0, id: u32(buf, p + 4) };
      if (buf[p + 1] !== 0) ext.reserved = buf[p + 1]!;
      if ((fo & 6) !== 0) ext.reservedBits = (fo >>> 1) & 3;
    } else if (kind === 'routing') {
      ext = { kind, routingType: buf[p + 2]!, segmentsLeft: buf[p + 3]!, data: buf.subarray(p + 4, p + length) };
    } else {
      ext = { kind, options: decodeIpv6Options(buf, p + 2, p + length) };
    }
    extensions.push({ ...ext, nextHeader: next, offset: p, length });
    if (kind === 'fragment' && (ext as { fragmentOffset: number }).fragmentOffset + (buf[p + 3]! & 1) !== 0) {
      p += length;
      break;
    }
    nh = next;
    p += length;
  }
  const deliver = verdict === IPV6_VERDICT.DELIVER;
  const payloadOffset = deliver ? w.offset : p;
  return {
    trafficClass: ipv6TrafficClass(buf, offset),
    flowLabel: ipv6FlowLabel(buf, offset),
    payloadLength: u16(buf, offset + 4),
    nextHeader: buf[offset + 6]!,
    hopLimit: buf[offset + 7]!,
    src: buf.subarray(offset + IPV6_SRC, offset + IPV6_SRC + IP6_LENGTH),
    dst: buf.subarray(offset + IPV6_DST, offset + IPV6_DST + IP6_LENGTH),
    extensions,
    verdict,
    problemCode: w.problemCode,
    problemPointer: w.problemPointer,
    protocol: deliver ? w.protocol : nh,
    payloadOffset,
    upperLength: w.end - payloadOffset,
    ...(w.fragmentAt >= 0 ? { fragment: { offset: w.fragmentOffset, more: w.more, id: w.fragmentId } } : {}),
  };
}

/** Writes the 40-byte fixed header; returns 40. */
export function encodeIpv6(h: Ipv6Fields, buf: Uint8Array, offset = 0): number {
  room('ipv6', buf, offset, IPV6_HEADER_LENGTH);
  put32(buf, offset, ((6 << 28) | ((h.trafficClass & 0xff) << 20) | (h.flowLabel & 0xfffff)) >>> 0);
  put16(buf, offset + 4, h.payloadLength);
  buf[offset + 6] = h.nextHeader;
  buf[offset + 7] = h.hopLimit;
  buf.set(h.src.subarray(0, IP6_LENGTH), offset + IPV6_SRC);
  buf.set(h.dst.subarray(0, IP6_LENGTH), offset + IPV6_DST);
  return IPV6_HEADER_LENGTH;
}

function optionsLength(options: readonly Ipv6Option[]): number {
  let n = 2;
  for (const opt of options) n += opt.type === IPV6_OPT.PAD1 ? 1 : 2 + opt.data.length;
  return n;
}

/**
 * Pads an option list to a multiple of 8 bytes (with the 2-byte header), Pad1 for one byte and
 * PadN otherwise (RFC 8200 4.2), as a sender does.
 */
export function padIpv6Options(options: readonly Ipv6Option[]): Ipv6Option[] {
  const gap = (8 - (optionsLength(options) & 7)) & 7;
  if (gap === 0) return [...options];
  if (gap === 1) return [...options, { type: IPV6_OPT.PAD1, data: new Uint8Array(0) }];
  return [...options, { type: IPV6_OPT.PADN, data: new Uint8Array(gap - 2) }];
}

export function ipv6ExtensionLength(ext: Ipv6Extension): number {
  if (ext.kind === 'fragment') return 8;
  if (ext.kind === 'routing') return 4 + ext.data.length;
  return optionsLength(ext.options);
}

/** Writes one extension header; its length must be a multiple of 8. Returns bytes written. */
export function encodeIpv6Extension(ext: Ipv6Extension, nextHeader: number, buf: Uint8Array, offset: number): number {
  const len = ipv6ExtensionLength(ext);
  if ((len & 7) !== 0 || len > 2048) throw new EncodeError(`ipv6: ${ext.kind} header of ${len} bytes is not a multiple of 8 up to 2048`);
  room('ipv6', buf, offset, len);
  buf[offset] = nextHeader;
  if (ext.kind === 'fragment') {
    if ((ext.fragmentOffset & 7) !== 0) throw new EncodeError(`ipv6: fragment offset ${ext.fragmentOffset} is not a multiple of 8`);
    buf[offset + 1] = ext.reserved ?? 0;
    put16(buf, offset + 2, (ext.fragmentOffset & 0xfff8) | (((ext.reservedBits ?? 0) & 3) << 1) | (ext.more ? 1 : 0));
    put32(buf, offset + 4, ext.id >>> 0);
    return 8;
  }
  buf[offset + 1] = len / 8 - 1;
  if (ext.kind === 'routing') {
    buf[offset + 2] = ext.routingType;
    buf[offset + 3] = ext.segmentsLeft;
    buf.set(ext.data, offset + 4);
    return len;
  }
  let p = offset + 2;
  for (const opt of ext.options) {
    buf[p] = opt.type;
    if (opt.type === IPV6_OPT.PAD1) {
      p++;
      continue;
    }
    buf[p + 1] = opt.data.length;
    buf.set(opt.data, p + 2);
    p += 2 + opt.data.length;
  }
  return len;
}

export interface Ipv6PacketInit {
  src: Ip6;
  dst: Ip6;
  /** The upper-layer protocol, after the extension headers. */
  protocol: number;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  extensions?: readonly Ipv6Extension[];
}

/** The length of header plus extension headers. */
export function ipv6HeadersLength(init: Pick<Ipv6PacketInit, 'extensions'>): number {
  let n = IPV6_HEADER_LENGTH;
  for (const e of init.extensions ?? []) n += ipv6ExtensionLength(e);
  return n;
}

/**
 * Writes the fixed header and the extension headers, chained, for `upperLength` bytes of upper
 * layer the caller puts after them. Returns the offset of the upper layer from `offset`.
 */
export function encodeIpv6Headers(init: Ipv6PacketInit, upperLength: number, buf: Uint8Array, offset = 0): number {
  const exts = init.extensions ?? [];
  const hl = ipv6HeadersLength(init);
  const payloadLength = hl - IPV6_HEADER_LENGTH + upperLength;
  if (payloadLength > 0xffff) throw new EncodeError(`ipv6: payload of ${payloadLength} bytes needs a jumbogram`);
  encodeIpv6(
    {
      trafficClass: init.trafficClass ?? 0,
      flowLabel: init.flowLabel ?? 0,
      payloadLength,
      nextHeader: exts.length > 0 ? extensionNumber(exts[0]!.kind) : init.protocol,
      hopLimit: init.hopLimit ?? 64,
      src: init.src,
      dst: init.dst,
    },
    buf,
    offset,
  );
  let p = offset + IPV6_HEADER_LENGTH;
  for (let i = 0; i < exts.length; i++) {
    const next = i + 1 < exts.length ? extensionNumber(exts[i + 1]!.kind) : init.protocol;
    p += encodeIpv6Extension(exts[i]!, next, buf, p);
  }
  return p - offset;
}

/** A whole packet: headers (hop limit 64 unless told) followed by `payload`. */
export function buildIpv6Packet(init: Ipv6PacketInit, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(ipv6HeadersLength(init) + payload.length);
  const p = encodeIpv6Headers(init, payload.length, out, 0);
  out.set(payload, p);
  return out;
}

/** Where the unfragmentable part ends (RFC 8200 4.5): after hop-by-hop and up to the last routing header. */
function unfragmentableEnd(b: Uint8Array): { end: number; nhField: number } {
  let nh = b[6]!;
  let nhField = 6;
  let p = IPV6_HEADER_LENGTH;
  let end = p;
  let endField = nhField;
  while (nh === NEXT_HEADER.HOP_BY_HOP || nh === NEXT_HEADER.ROUTING || nh === NEXT_HEADER.DESTINATION) {
    need('ipv6', b, p, 8);
    const len = (b[p + 1]! + 1) * 8;
    need('ipv6', b, p, len);
    if (nh !== NEXT_HEADER.DESTINATION) {
      end = p + len;
      endField = p;
    }
    nhField = p;
    nh = b[p]!;
    p += len;
  }
  return { end, nhField: endField };
}

/**
 * Splits a packet into fragments no longer than `mtu` with fragment headers of identification
 * `id` (RFC 8200 4.5; only the source fragments in IPv6). A packet that fits comes back as one
 * view of the input. Throws EncodeError when the MTU cannot carry 8 bytes of fragment data.
 */
export function fragment6(packet: Uint8Array, mtu: number, id: number): Uint8Array[] {
  need('ipv6', packet, 0, IPV6_HEADER_LENGTH);
  const total = IPV6_HEADER_LENGTH + u16(packet, 4);
  need('ipv6', packet, 0, total);
  if (total <= mtu) return [packet.subarray(0, total)];
  const { end: uEnd, nhField } = unfragmentableEnd(packet);
  const max = (mtu - uEnd - 8) & ~7;
  if (max < 8) throw new EncodeError(`ipv6: MTU ${mtu} cannot carry a fragment`);
  const nextAfter = packet[nhField]!;
  const out: Uint8Array[] = [];
  for (let pos = 0; uEnd + pos < total; pos += max) {
    const chunk = Math.min(max, total - uEnd - pos);
    const f = new Uint8Array(uEnd + 8 + chunk);
    f.set(packet.subarray(0, uEnd), 0);
    f[nhField] = NEXT_HEADER.FRAGMENT;
    put16(f, 4, f.length - IPV6_HEADER_LENGTH);
    f[uEnd] = nextAfter;
    f[uEnd + 1] = 0;
    put16(f, uEnd + 2, pos | (uEnd + pos + chunk < total ? 1 : 0));
    put32(f, uEnd + 4, id >>> 0);
    f.set(packet.subarray(uEnd + pos, uEnd + pos + chunk), uEnd + 8);
    out.push(f);
  }
  return out;
}
