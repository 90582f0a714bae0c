/** ICMP for IPv4 (RFC 792, with the quoting and suppression rules of RFC 1122 and RFC 1812). */
import { type Ip4, checksum, checksumAdjust, onesSum, put16, put32, u16, u32 } from './bytes.js';
import { DecodeError, need, room } from './errors.js';
import { IPPROTO } from './ipv4.js';

export const ICMP_TYPE = {
  ECHO_REPLY: 0,
  DEST_UNREACHABLE: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
} as const;

/** Destination-unreachable codes 0..15 (RFC 792, RFC 1122 3.2.2.1, RFC 1812 5.2.7.1). */
export const UNREACH = {
  NET: 0,
  HOST: 1,
  PROTOCOL: 2,
  PORT: 3,
  FRAG_NEEDED: 4,
  SOURCE_ROUTE_FAILED: 5,
  NET_UNKNOWN: 6,
  HOST_UNKNOWN: 7,
  SOURCE_HOST_ISOLATED: 8,
  NET_PROHIBITED: 9,
  HOST_PROHIBITED: 10,
  NET_TOS: 11,
  HOST_TOS: 12,
  ADMIN_PROHIBITED: 13,
  HOST_PRECEDENCE_VIOLATION: 14,
  PRECEDENCE_CUTOFF: 15,
} as const;

export const TIME_EXCEEDED = { TTL: 0, REASSEMBLY: 1 } as const;

export const ICMP_HEADER_LENGTH = 8;
/**
 * RFC 1812 4.3.2.3: quote as much of the offending datagram as keeps the ICMP error within 576
 * bytes (576 - 20 IP - 8 ICMP). Linux does this; pass it as `maxQuote` to match.
 */
export const RFC1812_MAX_QUOTE = 548;

/** What encodeIcmp needs. */
export interface IcmpFields {
  type: number;
  code: number;
  /**
   * The 32-bit "rest of header". When absent it is built from id/seq (echo) or nextHopMtu
   * (fragmentation needed, RFC 1191), else zero.
   */
  rest?: number;
  id?: number;
  seq?: number;
  nextHopMtu?: number;
  /** Echo data, or the quoted datagram of an error. */
  payload: Uint8Array;
}

export interface IcmpMessage extends IcmpFields {
  rest: number;
  checksum: number;
  checksumOk: boolean;
  /** A view into the decoded buffer. */
  payload: Uint8Array;
  payloadOffset: number;
}

function isEcho(type: number): boolean {
  return type === ICMP_TYPE.ECHO_REQUEST || type === ICMP_TYPE.ECHO_REPLY;
}
/** Types that report on another datagram and quote it (RFC 1122 3.2.2 calls them errors). */
export function isIcmpError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

// ---- hot path ----
export function icmpType(b: Uint8Array, o: number): number {
  return b[o]!;
}
export function icmpCode(b: Uint8Array, o: number): number {
  return b[o + 1]!;
}
export function icmpEchoId(b: Uint8Array, o: number): number {
  return u16(b, o + 4);
}
export function icmpEchoSeq(b: Uint8Array, o: number): number {
  return u16(b, o + 6);
}

// ---- decode / encode ----

/**
 * `length` is the ICMP message length, i.e. the IPv4 payload length: ICMP has no length field
 * of its own and Ethernet padding must not enter the checksum.
 */
export function decodeIcmp(buf: Uint8Array, offset = 0, length = buf.length - offset): IcmpMessage {
  if (length < ICMP_HEADER_LENGTH) throw new DecodeError('icmp', `message of ${length} bytes is shorter than 8`, offset);
  need('icmp', buf, offset, length);
  const type = buf[offset]!;
  const code = buf[offset + 1]!;
  const rest = u32(buf, offset + 4);
  const m: IcmpMessage = {
    type,
    code,
    checksum: u16(buf, offset + 2),
    checksumOk: onesSum(buf, offset, length) === 0xffff,
    rest,
    payload: buf.subarray(offset + ICMP_HEADER_LENGTH, offset + length),
    payloadOffset: offset + ICMP_HEADER_LENGTH,
  };
  if (isEcho(type)) {
    m.id = rest >>> 16;
    m.seq = rest & 0xffff;
  } else if (type === ICMP_TYPE.DEST_UNREACHABLE && code === UNREACH.FRAG_NEEDED) {
    m.nextHopMtu = rest & 0xffff;
  }
  return m;
}

export function icmpLength(f: Pick<IcmpFields, 'payload'>): number {
  return ICMP_HEADER_LENGTH + f.payload.length;
}

function restOf(f: IcmpFields): number {
  if (f.rest !== undefined) return f.rest >>> 0;
  if (f.id !== undefined || f.seq !== undefined) return (((f.id ?? 0) & 0xffff) * 0x10000 + ((f.seq ?? 0) & 0xffff)) >>> 0;
  if (f.nextHopMtu !== undefined) return f.nextHopMtu & 0xffff;
  return 0;
}

/** Writes header and payload, computing the checksum; returns bytes written. */
export function encodeIcmp(f: IcmpFields, buf: Uint8Array, offset = 0): number {
  const len = icmpLength(f);
  room('icmp', buf, offset, len);
  buf[offset] = f.type;
  buf[offset + 1] = f.code;
  put16(buf, offset + 2, 0);
  put32(buf, offset + 4, restOf(f));
  buf.set(f.payload, offset + ICMP_HEADER_LENGTH);
  put16(buf, offset + 2, checksum(buf, offset, len));
  return len;
}

export function buildIcmp(f: IcmpFields): Uint8Array {
  const out = new Uint8Array(icmpLength(f));
  encodeIcmp(f, out, 0);
  return out;
}

// ---- echo ----

export function echoRequest(id: number, seq: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  return buildIcmp({ type: ICMP_TYPE.ECHO_REQUEST, code: 0, id, seq, payload });
}
export function echoReply(id: number, seq: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  return buildIcmp({ type: ICMP_TYPE.ECHO_REPLY, code: 0, id, seq, payload });
}
/**
 * The reply to the echo request at buf[offset, offset+length): a copy with type 0 and the
 * checksum adjusted incrementally (RFC 1624), so even a request with a wrong checksum is echoed
 * with an equally wrong one rather than silently fixed.
 */
export function echoReplyFrom(buf: Uint8Array, offset: number, length: number): Uint8Array {
  if (length < ICMP_HEADER_LENGTH) throw new DecodeError('icmp', 'echo request shorter than 8 bytes', offset);
  need('icmp', buf, offset, length);
  const out = buf.slice(offset, offset + length);
  const oldWord = u16(out, 0);
  out[0] = ICMP_TYPE.ECHO_REPLY;
  put16(out, 2, checksumAdjust(u16(out, 2), oldWord, u16(out, 0)));
  return out;
}

// ---- errors ----

/**
 * The quote of the offending datagram at packet[offset..]: its IP header and the first 8 bytes of
 * its payload (RFC 792), or up to `maxQuote` bytes in all when given (RFC 1812). Never quotes
 * link-layer padding beyond the datagram's total length. The bytes may stop short of that total
 * length (a stored fragment header, as Reassembler.expire returns): the quote is what there is.
 */
export function icmpQuote(packet: Uint8Array, offset = 0, maxQuote?: number): Uint8Array {
  need('icmp', packet, offset, 20);
  if (packet[offset]! >>> 4 !== 4) throw new DecodeError('icmp', 'offending datagram is not IPv4', offset);
  const hl = (packet[offset]! & 0x0f) << 2;
  if (hl < 20) throw new DecodeError('icmp', `offending datagram has IHL ${hl >> 2}`, offset);
  need('icmp', packet, offset, hl);
  const want = maxQuote === undefined ? hl + 8 : Math.max(maxQuote, hl + 8);
  const total = Math.max(hl, u16(packet, offset + 2));
  return packet.subarray(offset, offset + Math.min(total, want, packet.length - offset));
}

export interface IcmpErrorOptions {
  /** Offset of the offending IPv4 datagram in its buffer; default 0. */
  offset?: number;
  /** Rest-of-header word (pointer for parameter problem, gateway for redirect). */
  rest?: number;
  /** Quote more than header + 8 bytes, e.g. RFC1812_MAX_QUOTE. */
  maxQuote?: number;
}

/** An ICMP error message (header + quote) about the IPv4 datagram `offending`. */
export function icmpError(type: number, code: number, offending: Uint8Array, opts: IcmpErrorOptions = {}): Uint8Array {
  const payload = icmpQuote(offending, opts.offset ?? 0, opts.maxQuote);
  return buildIcmp({ type, code, rest: opts.rest ?? 0, payload });
}

/** Destination unreachable; `nextHopMtu` is for code 4 (RFC 1191) and ignored otherwise. */
export function destinationUnreachable(
  code: number,
  offending: Uint8Array,
  opts: Omit<IcmpErrorOptions, 'rest'> & { nextHopMtu?: number } = {},
): Uint8Array {
  const rest = code === UNREACH.FRAG_NEEDED ? (opts.nextHopMtu ?? 0) & 0xffff : 0;
  return icmpError(ICMP_TYPE.DEST_UNREACHABLE, code, offending, { ...opts, rest });
}

/** Time exceeded: code 0 TTL exceeded in transit, code 1 fragment reassembly time exceeded. */
export function timeExceeded(code: number, offending: Uint8Array, opts: Omit<IcmpErrorOptions, 'rest'> = {}): Uint8Array {
  return icmpError(ICMP_TYPE.TIME_EXCEEDED, code, offending, { ...opts, rest: 0 });
}

function isMulticastOrClassE(ip: Ip4): boolean {
  return ip >>> 28 >= 0xe;
}

/**
 * RFC 1122 3.2.2 / RFC 1812 4.3.2.7: may an ICMP error be sent about this datagram? No for an
 * ICMP error (storms of errors about errors), a non-first fragment, a datagram sent to
 * broadcast or multicast, or one whose source is not a single host. Directed broadcasts need
 * the subnet and stay the caller's to check. Allocation-free; false for a truncated header.
 */
export function icmpErrorAllowed(b: Uint8Array, o: number): boolean {
  if (o + 20 > b.length || b[o]! >>> 4 !== 4) return false;
  const hl = (b[o]! & 0x0f) << 2;
  if ((u16(b, o + 6) & 0x1fff) !== 0) return false;
  const src = u32(b, o + 12);
  const dst = u32(b, o + 16);
  if (dst === 0xffffffff || isMulticastOrClassE(dst)) return false;
  if (src === 0 || src === 0xffffffff || isMulticastOrClassE(src) || src >>> 24 === 127) return false;
  if (b[o + 9] === IPPROTO.ICMP) {
    if (o + hl >= b.length) return false;
    if (isIcmpError(b[o + hl]!)) return false;
  }
  return true;
}

export interface QuotedDatagram {
  src: Ip4;
  dst: Ip4;
  protocol: number;
  id: number;
  ttl: number;
  /** Total length the original datagram claimed (the quote is usually shorter). */
  totalLength: number;
  headerOffset: number;
  headerLength: number;
  /** Offset of the quoted transport header (UDP ports, ICMP echo id, TCP ports). */
  transportOffset: number;
  /** Quoted transport bytes present: at least 8 in a well-formed error. */
  transportLength: number;
}

/**
 * Reads the datagram quoted in an ICMP error (traceroute and sockets match replies with it).
 * Unlike decodeIpv4 it accepts a quote shorter than the total length the header claims.
 */
export function decodeQuotedIpv4(buf: Uint8Array, offset: number, length = buf.length - offset): QuotedDatagram {
  need('icmp', buf, offset, length);
  if (length < 20) throw new DecodeError('icmp', `quote of ${length} bytes has no IPv4 header`, offset);
  if (buf[offset]! >>> 4 !== 4) throw new DecodeError('icmp', 'quoted datagram is not IPv4', offset);
  const hl = (buf[offset]! & 0x0f) << 2;
  if (hl < 20 || hl > length) throw new DecodeError('icmp', `quoted IHL ${hl >> 2} is bad`, offset);
  return {
    src: u32(buf, offset + 12),
    dst: u32(buf, offset + 16),
    protocol: buf[offset + 9]!,
    id: u16(buf, offset + 4),
    ttl: buf[offset + 8]!,
    totalLength: u16(buf, offset + 2),
    headerOffset: offset,
    headerLength: hl,
    transportOffset: offset + hl,
    transportLength: length - hl,
  };
}
