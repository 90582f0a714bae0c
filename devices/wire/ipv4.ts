/** IPv4 (RFC 791): header codec, hot-path readers, TTL decrement, fragmentation and reassembly. */
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

// ---- reassembly (RFC 791 3.2 and RFC 815 hole descriptors) ----

/** A hole's last byte when the datagram's end is not known yet; beyond any real offset. */
const OPEN_END = IPV4_MAX_LENGTH;

/** One datagram being put together. Plain data so that a lab snapshot can copy it. */
export interface ReassemblyEntry {
  src: Ip4;
  dst: Ip4;
  protocol: number;
  id: number;
  /** When the first fragment arrived; the timer does not restart on later ones (as Linux). */
  firstNs: number;
  /** Header of fragment zero (with its options), once it came. */
  header: Uint8Array | null;
  /** Payload bytes at their offsets; grows as later offsets arrive. */
  data: Uint8Array;
  /** Flat [first, last] inclusive pairs of missing payload bytes. */
  holes: number[];
  /** Payload length once the fragment with MF clear came, else -1. */
  end: number;
}

export interface ReassemblerOptions {
  /** Default 30 s, the Linux ipfrag_time. */
  timeoutNs?: number;
  /** Default 64; the oldest reassembly is dropped to make room. */
  maxDatagrams?: number;
}

export interface ReassemblerStats {
  reassembled: number;
  /** Reassemblies abandoned: overlaps, inconsistent ends, oversize, evicted. */
  dropped: number;
  timedOut: number;
  /** Single fragments ignored: bad checksum, exact or contained duplicates, bad sizes. */
  ignored: number;
}

export class Reassembler {
  readonly timeoutNs: number;
  readonly maxDatagrams: number;
  /** Keyed by src/dst/protocol/id; Map order is arrival order, so the first key is the oldest. */
  readonly entries = new Map<string, ReassemblyEntry>();
  readonly stats: ReassemblerStats = { reassembled: 0, dropped: 0, timedOut: 0, ignored: 0 };

  constructor(opts: ReassemblerOptions = {}) {
    this.timeoutNs = opts.timeoutNs ?? 30e9;
    this.maxDatagrams = Math.max(1, opts.maxDatagrams ?? 64);
  }

  /**
   * Takes the IPv4 packet at `offset` of `bytes`. Returns the whole datagram (a new buffer) when
   * this fragment completes one, the packet itself (a view) when it was not a fragment, else null
   * (incomplete, or dropped: a bad header checksum, a bad size, an overlap; see `stats`).
   * Throws DecodeError only for a malformed header.
   *
   * Overlaps are how fragment attacks slip past filters (RFC 1858, RFC 3128), so, like Linux
   * since 2018, one that partly overlaps data we hold kills the whole datagram. A fragment lying
   * entirely inside data we hold is taken for a duplicate and ignored: first data wins, so
   * nothing already received is ever overwritten.
   */
  add(bytes: Uint8Array, offset: number, nowNs: number): Uint8Array | null {
    const h = decodeIpv4(bytes, offset);
    if (!h.checksumOk) {
      this.stats.ignored++;
      return null;
    }
    if (!h.mf && h.fragmentOffset === 0) return bytes.subarray(offset, offset + h.totalLength);
    const first = h.fragmentOffset;
    const len = h.payloadLength;
    const last = first + len - 1;
    // Every fragment but the last carries a multiple of 8 bytes (RFC 791); empty ones say nothing.
    if (len === 0 || (h.mf && (len & 7) !== 0)) {
      this.stats.ignored++;
      return null;
    }
    const key = `${h.src}/${h.dst}/${h.protocol}/${h.id}`;
    let e = this.entries.get(key);
    if (e && nowNs - e.firstNs >= this.timeoutNs) {
      this.entries.delete(key);
      this.stats.timedOut++;
      e = undefined;
    }
    // The smallest header is 20 bytes, so no payload byte may sit past 65515 (ping of death).
    if (first + len > IPV4_MAX_LENGTH - IPV4_HEADER_LENGTH) {
      if (e) this.kill(key);
      else this.stats.ignored++;
      return null;
    }
    if (!e) {
      while (this.entries.size >= this.maxDatagrams) this.kill(this.entries.keys().next().value as string);
      e = {
        src: h.src,
        dst: h.dst,
        protocol: h.protocol,
        id: h.id,
        firstNs: nowNs,
        header: null,
        data: new Uint8Array(0),
        holes: [0, OPEN_END],
        end: -1,
      };
      this.entries.set(key, e);
    }
    const holes = e.holes;
    let at = -1;
    for (let i = 0; i < holes.length; i += 2) {
      const hf = holes[i]!;
      const hlast = holes[i + 1]!;
      if (first >= hf && last <= hlast) {
        at = i;
        break;
      }
      if (first <= hlast && last >= hf) return this.kill(key);
    }
    if (at < 0) {
      // Entirely inside data we hold: a duplicate, unless it contradicts the known end.
      if ((e.end >= 0 && last >= e.end) || (!h.mf && last + 1 !== e.end)) return this.kill(key);
      this.stats.ignored++;
      return null;
    }
    const hf = holes[at]!;
    const hlast = holes[at + 1]!;
    // A last fragment cannot end before data we already hold.
    if (!h.mf && hlast !== OPEN_END) return this.kill(key);
    const pieces: number[] = [];
    if (first > hf) pieces.push(hf, first - 1);
    if (h.mf && last < hlast) pieces.push(last + 1, hlast);
    holes.splice(at, 2, ...pieces);
    if (!h.mf) e.end = last + 1;
    if (e.data.length < last + 1) {
      let cap = Math.max(e.data.length, 2048);
      while (cap < last + 1) cap *= 2;
      const grown = new Uint8Array(Math.min(cap, IPV4_MAX_LENGTH));
      grown.set(e.data);
      e.data = grown;
    }
    e.data.set(bytes.subarray(h.payloadOffset, h.payloadOffset + len), first);
    if (first === 0) e.header = bytes.slice(offset, offset + h.headerLength);
    if (holes.length > 0) return null;

    const header = e.header!;
    const total = header.length + e.end;
    if (total > IPV4_MAX_LENGTH) return this.kill(key);
    const out = new Uint8Array(total);
    out.set(header, 0);
    out.set(e.data.subarray(0, e.end), header.length);
    put16(out, 2, total);
    put16(out, 6, u16(out, 6) & (FLAG_RESERVED | FLAG_DF));
    put16(out, 10, 0);
    put16(out, 10, checksum(out, 0, header.length));
    this.entries.delete(key);
    this.stats.reassembled++;
    return out;
  }

  /**
   * Drops reassemblies older than the timeout. For each one whose fragment zero had arrived it
   * returns that fragment's header plus 8 data bytes: the quote for the ICMP time-exceeded
   * (code 1) that RFC 792 says to send only in that case.
   */
  expire(nowNs: number): Uint8Array[] {
    const quotes: Uint8Array[] = [];
    for (const [key, e] of this.entries) {
      if (nowNs - e.firstNs < this.timeoutNs) continue;
      this.entries.delete(key);
      this.stats.timedOut++;
      if (e.header) {
        const q = new Uint8Array(e.header.length + 8);
        q.set(e.header, 0);
        q.set(e.data.subarray(0, 8), e.header.length);
        quotes.push(q);
      }
    }
    return quotes;
  }

  get size(): number {
    return this.entries.size;
  }

  private kill(key: string): null {
    this.entries.delete(key);
    this.stats.dropped++;
    return null;
  }
}
