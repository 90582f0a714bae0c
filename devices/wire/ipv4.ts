/**
 * IPv4 (RFC 791): header codec, hot-path readers, TTL decrement and fragmentation. Reassembly
 * keeps state, so it lives with the stack (devices/stack/reassembly.ts).
 */
import { type Ip4, checksum, checksumAdjust, onesSum, put16, put32, u16, u32 } from './bytes.js';
import { DecodeError, EncodeError, need, room } from './errors.js';

export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17 } as const;
export const IPV4_HEADER_LENGTH = 20;
export const IPV4_MAX_HEADER_LENGTH = 60;
export const IPV4_MAX_LENGTH = 65535;
/** RFC 791: every module must pass a 68-byte datagram without further fragmentation. */
export const IPV4_MIN_MTU = 68;

const FLAG_RESERVED = 0x8000;
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;

/** What encodeIpv4 needs. */
export interface Ipv4Fields {
  dscp: number;
  ecn: number;
  /** Header plus payload, in bytes. */
  totalLength: number;
  id: number;
  /** The reserved flag bit (RFC 3514 jokes aside, it must be zero; kept for byte-exactness). */
  flagReserved?: boolean;
  df: boolean;
  mf: boolean;
  /** In bytes, a multiple of 8 (the wire field is this divided by 8). */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  src: Ip4;
  dst: Ip4;
  /** Raw option bytes; padded with zeros (End of Option List) to a multiple of 4 on encode. */
  options?: Uint8Array;
}

export interface Ipv4Header extends Ipv4Fields {
  flagReserved: boolean;
  /** IHL * 4. */
  headerLength: number;
  /** A view into the decoded buffer, not a copy. */
  options: Uint8Array;
  checksum: number;
  /** False for a corrupted header: such frames exist on a wire, so decode reports, not throws. */
  checksumOk: boolean;
  payloadOffset: number;
  /** totalLength - headerLength: Ethernet padding after the datagram is not counted. */
  payloadLength: number;
}

// ---- hot path: offset readers, no allocation; caller has checked the header is there ----

export function ipv4Version(b: Uint8Array, o: number): number {
  return b[o]! >>> 4;
}
export function ipv4HeaderLength(b: Uint8Array, o: number): number {
  return (b[o]! & 0x0f) << 2;
}
export function ipv4TotalLength(b: Uint8Array, o: number): number {
  return u16(b, o + 2);
}
export function ipv4Id(b: Uint8Array, o: number): number {
  return u16(b, o + 4);
}
export function ipv4Df(b: Uint8Array, o: number): boolean {
  return (b[o + 6]! & 0x40) !== 0;
}
/** True for any fragment: MF set or a non-zero offset. */
export function ipv4IsFragment(b: Uint8Array, o: number): boolean {
  return (u16(b, o + 6) & 0x3fff) !== 0;
}
/** Fragment offset in bytes. */
export function ipv4FragmentOffset(b: Uint8Array, o: number): number {
  return (u16(b, o + 6) & 0x1fff) << 3;
}
export function ipv4Ttl(b: Uint8Array, o: number): number {
  return b[o + 8]!;
}
export function ipv4Protocol(b: Uint8Array, o: number): number {
  return b[o + 9]!;
}
export function ipv4Src(b: Uint8Array, o: number): Ip4 {
  return u32(b, o + 12);
}
export function ipv4Dst(b: Uint8Array, o: number): Ip4 {
  return u32(b, o + 16);
}
/** Verifies the header checksum in place: the sum over a correct header is 0xffff. */
export function ipv4ChecksumOk(b: Uint8Array, o: number): boolean {
  return onesSum(b, o, ipv4HeaderLength(b, o)) === 0xffff;
}

/**
 * Decrements the TTL in place and patches the checksum incrementally (RFC 1624), the way a
 * router does without summing the whole header again. Returns the new TTL. A TTL of 0 is left
 * alone (returns 0): the caller should have sent time-exceeded for TTL <= 1 instead.
 */
export function decrementTtl(b: Uint8Array, o: number): number {
  const ttl = b[o + 8]!;
  if (ttl === 0) return 0;
  // TTL shares its 16-bit checksum word with the protocol byte.
  const oldWord = (ttl << 8) | b[o + 9]!;
  b[o + 8] = ttl - 1;
  put16(b, o + 10, checksumAdjust(u16(b, o + 10), oldWord, oldWord - 0x100));
  return ttl - 1;
}

// ---- decode / encode ----

export function decodeIpv4(buf: Uint8Array, offset = 0): Ipv4Header {
  need('ipv4', buf, offset, IPV4_HEADER_LENGTH);
  const version = buf[offset]! >>> 4;
  if (version !== 4) throw new DecodeError('ipv4', `version ${version}`, offset);
  const headerLength = (buf[offset]! & 0x0f) << 2;
  if (headerLength < IPV4_HEADER_LENGTH) throw new DecodeError('ipv4', `IHL ${headerLength >> 2} < 5`, offset);
  need('ipv4', buf, offset, headerLength);
  const totalLength = u16(buf, offset + 2);
  if (totalLength < headerLength) throw new DecodeError('ipv4', `total length ${totalLength} < header length ${headerLength}`, offset + 2);
  // Only the datagram must fit: anything after it is link-layer padding.
  need('ipv4', buf, offset, totalLength);
  const ff = u16(buf, offset + 6);
  return {
    dscp: buf[offset + 1]! >>> 2,
    ecn: buf[offset + 1]! & 3,
    totalLength,
    id: u16(buf, offset + 4),
    flagReserved: (ff & FLAG_RESERVED) !== 0,
    df: (ff & FLAG_DF) !== 0,
    mf: (ff & FLAG_MF) !== 0,
    fragmentOffset: (ff & 0x1fff) << 3,
    ttl: buf[offset + 8]!,
    protocol: buf[offset + 9]!,
    checksum: u16(buf, offset + 10),
    checksumOk: onesSum(buf, offset, headerLength) === 0xffff,
    src: u32(buf, offset + 12),
    dst: u32(buf, offset + 16),
    headerLength,
    options: buf.subarray(offset + IPV4_HEADER_LENGTH, offset + headerLength),
    payloadOffset: offset + headerLength,
    payloadLength: totalLength - headerLength,
  };
}

export function ipv4HeaderLengthOf(h: Pick<Ipv4Fields, 'options'>): number {
  const opt = h.options?.length ?? 0;
  return IPV4_HEADER_LENGTH + ((opt + 3) & ~3);
}

/** Writes the header (checksum computed) and returns its length; the payload is the caller's. */
export function encodeIpv4(h: Ipv4Fields, buf: Uint8Array, offset = 0): number {
  const hl = ipv4HeaderLengthOf(h);
  if (hl > IPV4_MAX_HEADER_LENGTH) throw new EncodeError(`ipv4: ${hl - IPV4_HEADER_LENGTH} bytes of options exceed 40`);
  if ((h.fragmentOffset & 7) !== 0) throw new EncodeError(`ipv4: fragment offset ${h.fragmentOffset} is not a multiple of 8`);
  room('ipv4', buf, offset, hl);
  buf[offset] = 0x40 | (hl >> 2);
  buf[offset + 1] = ((h.dscp & 0x3f) << 2) | (h.ecn & 3);
  put16(buf, offset + 2, h.totalLength);
  put16(buf, offset + 4, h.id);
  put16(
    buf,
    offset + 6,
    (h.flagReserved ? FLAG_RESERVED : 0) | (h.df ? FLAG_DF : 0) | (h.mf ? FLAG_MF : 0) | ((h.fragmentOffset >>> 3) & 0x1fff),
  );
  buf[offset + 8] = h.ttl;
  buf[offset + 9] = h.protocol;
  put16(buf, offset + 10, 0);
  put32(buf, offset + 12, h.src);
  put32(buf, offset + 16, h.dst);
  const opt = h.options;
  if (opt) {
    buf.set(opt, offset + IPV4_HEADER_LENGTH);
    buf.fill(0, offset + IPV4_HEADER_LENGTH + opt.length, offset + hl);
  }
  put16(buf, offset + 10, checksum(buf, offset, hl));
  return hl;
}

export interface Ipv4PacketInit {
  src: Ip4;
  dst: Ip4;
  protocol: number;
  ttl?: number;
  id?: number;
  df?: boolean;
  dscp?: number;
  ecn?: number;
  options?: Uint8Array;
}

/** A whole datagram: header (TTL 64 and DF off unless told) followed by `payload`. */
export function buildIpv4Packet(init: Ipv4PacketInit, payload: Uint8Array): Uint8Array {
  const hl = ipv4HeaderLengthOf(init);
  const totalLength = hl + payload.length;
  if (totalLength > IPV4_MAX_LENGTH) throw new EncodeError(`ipv4: datagram of ${totalLength} bytes exceeds 65535`);
  const out = new Uint8Array(totalLength);
  encodeIpv4(
    {
      dscp: init.dscp ?? 0,
      ecn: init.ecn ?? 0,
      totalLength,
      id: init.id ?? 0,
      df: init.df ?? false,
      mf: false,
      fragmentOffset: 0,
      ttl: init.ttl ?? 64,
      protocol: init.protocol,
      src: init.src,
      dst: init.dst,
      ...(init.options ? { options: init.options } : {}),
    },
    out,
    0,
  );
  out.set(payload, hl);
  return out;
}

// ---- fragmentation (RFC 791 3.2, "An Example Fragmentation Procedure") ----

/** The options a non-first fragment carries: those with the copy flag, zero-padded to 4. */
function copiedOptions(b: Uint8Array, o: number, len: number): Uint8Array {
  const kept: number[] = [];
  let i = 0;
  while (i < len) {
    const type = b[o + i]!;
    if (type === 0) break; // End of Option List
    if (type === 1) {
      i++; // NOP has copy flag 0
      continue;
    }
    if (i + 2 > len) throw new DecodeError('ipv4', 'option length missing', o + i);
    const olen = b[o + i + 1]!;
    if (olen < 2 || i + olen > len) throw new DecodeError('ipv4', `bad option length ${olen}`, o + i + 1);
    if (type & 0x80) for (let k = 0; k < olen; k++) kept.push(b[o + i + k]!);
    i += olen;
  }
  const out = new Uint8Array((kept.length + 3) & ~3);
  out.set(kept);
  return out;
}

/**
 * Splits a datagram into fragments no longer than `mtu`. A datagram that fits comes back as one
 * view of the input, trimmed to its total length. Refragmenting a fragment works: offsets add up
 * and the last piece keeps the original MF. Throws EncodeError when DF is set (the caller owes the
 * sender an ICMP fragmentation-needed instead) or the MTU cannot carry 8 bytes of data.
 */
export function fragment(packet: Uint8Array, mtu: number): Uint8Array[] {
  const h = decodeIpv4(packet, 0);
  if (h.totalLength <= mtu) return [packet.subarray(0, h.totalLength)];
  if (h.df) throw new EncodeError('ipv4: DF is set; send ICMP fragmentation needed instead');
  const hl = h.headerLength;
  const laterOptions = copiedOptions(packet, IPV4_HEADER_LENGTH, hl - IPV4_HEADER_LENGTH);
  const laterHl = IPV4_HEADER_LENGTH + laterOptions.length;
  if (((mtu - hl) & ~7) < 8) throw new EncodeError(`ipv4: MTU ${mtu} cannot carry a fragment`);
  const flagsKeep = u16(packet, 6) & (FLAG_RESERVED | FLAG_DF);
  const out: Uint8Array[] = [];
  const payloadLength = h.payloadLength;
  let pos = 0;
  while (pos < payloadLength) {
    const thisHl = pos === 0 ? hl : laterHl;
    const max = (mtu - thisHl) & ~7;
    const last = payloadLength - pos <= max;
    const chunk = last ? payloadLength - pos : max;
    const f = new Uint8Array(thisHl + chunk);
    f.set(packet.subarray(0, IPV4_HEADER_LENGTH), 0);
    if (pos === 0) f.set(packet.subarray(IPV4_HEADER_LENGTH, hl), IPV4_HEADER_LENGTH);
    else f.set(laterOptions, IPV4_HEADER_LENGTH);
    f[0] = 0x40 | (thisHl >> 2);
    put16(f, 2, thisHl + chunk);
    const mf = !last || h.mf;
    put16(f, 6, flagsKeep | (mf ? FLAG_MF : 0) | (((h.fragmentOffset + pos) >>> 3) & 0x1fff));
    put16(f, 10, 0);
    put16(f, 10, checksum(f, 0, thisHl));
    f.set(packet.subarray(hl + pos, hl + pos + chunk), thisHl);
    out.push(f);
    pos += chunk;
  }
  return out;
}

/**
 * Makes the header at `o` that of a whole datagram of `totalLength` bytes, as reassembly does:
 * MF and the fragment offset cleared (reserved and DF kept), the checksum recomputed.
 */
export function ipv4SetWhole(b: Uint8Array, o: number, totalLength: number): void {
  put16(b, o + 2, totalLength);
  put16(b, o + 6, u16(b, o + 6) & (FLAG_RESERVED | FLAG_DF));
  put16(b, o + 10, 0);
  put16(b, o + 10, checksum(b, o, (b[o]! & 0x0f) << 2));
}
