/**
 * UDP (RFC 768). Decoding reads the header in place and reports where the payload is; nothing is
 * copied. Checksums use the IPv4 pseudo-header, so the caller passes the addresses from IPv4; the
 * `...6` variants take the address part of the IPv6 pseudo-header as a partial sum instead
 * (`ipv6AddressSum` in ipv6.ts), so both families share one checksum routine.
 */
import { type Ip4, checksum, onesSum, pseudoHeaderSum, put16, u16 } from './bytes.js';
import { DecodeError, EncodeError, need, room } from './errors.js';

const LAYER = 'udp';
export const UDP_HEADER_LEN = 8;
export const IPPROTO_UDP = 17;

export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  /** The length field: header plus payload. */
  length: number;
  /** As on the wire; 0 means the sender computed none. */
  checksum: number;
  /** Absolute offset of the payload in the decoded buffer. */
  payloadOffset: number;
  payloadLength: number;
}

// Offset readers for the forwarding and demultiplexing path: no allocation, no checks.
export function udpSrcPort(b: Uint8Array, o: number): number {
  return u16(b, o);
}
export function udpDstPort(b: Uint8Array, o: number): number {
  return u16(b, o + 2);
}
export function udpLength(b: Uint8Array, o: number): number {
  return u16(b, o + 4);
}
export function udpChecksum(b: Uint8Array, o: number): number {
  return u16(b, o + 6);
}

function checkSpan(buf: Uint8Array, offset: number, length: number): void {
  need(LAYER, buf, offset, length);
  if (length < UDP_HEADER_LEN) throw new DecodeError(LAYER, `datagram of ${length} bytes is shorter than the header`, offset);
}

/**
 * Decodes the header of a datagram occupying buf[offset..offset+length) (the IPv4 payload).
 * Bytes beyond the UDP length field are ignored, as Linux does; a length field larger than the
 * datagram, or smaller than the header, is malformed.
 */
export function decodeUdp(buf: Uint8Array, offset = 0, length = buf.length - offset): UdpHeader {
  checkSpan(buf, offset, length);
  const len = u16(buf, offset + 4);
  if (len < UDP_HEADER_LEN) throw new DecodeError(LAYER, `length field ${len} < 8`, offset + 4);
  if (len > length) throw new DecodeError(LAYER, `length field ${len} exceeds datagram of ${length} bytes`, offset + 4);
  return {
    srcPort: u16(buf, offset),
    dstPort: u16(buf, offset + 2),
    length: len,
    checksum: u16(buf, offset + 6),
    payloadOffset: offset + UDP_HEADER_LEN,
    payloadLength: len - UDP_HEADER_LEN,
  };
}

/**
 * True when the datagram at buf[offset..offset+length) carries a correct checksum, or none
 * (0, allowed over IPv4). The sum covers the bytes named by the UDP length field. A length
 * field that does not fit is a malformed datagram, so the answer is false, not an exception.
 */
export function udpChecksumOk(buf: Uint8Array, offset: number, length: number, srcIp: Ip4, dstIp: Ip4): boolean {
  return checkSum(buf, offset, length, pseudoHeaderSum(srcIp, dstIp, 0, 0), true);
}
/** Over IPv6 (RFC 8200 8.1): `addressSum` from ipv6AddressSum, and checksum 0 is not allowed. */
export function udpChecksumOk6(buf: Uint8Array, offset: number, length: number, addressSum: number): boolean {
  return checkSum(buf, offset, length, addressSum, false);
}
function checkSum(buf: Uint8Array, offset: number, length: number, addressSum: number, zeroOk: boolean): boolean {
  checkSpan(buf, offset, length);
  const len = u16(buf, offset + 4);
  if (len < UDP_HEADER_LEN || len > length) return false;
  if (u16(buf, offset + 6) === 0) return zeroOk;
  // A correct datagram sums (checksum field included) to 0xffff; a transmitted 0xffff stands for 0.
  return onesSum(buf, offset, len, addressSum + IPPROTO_UDP + len) === 0xffff;
}

/**
 * Computes and stores the checksum of the datagram at `offset`, whose header (length field
 * included) and payload are already written. For senders that build the payload in place.
 */
export function udpFillChecksum(buf: Uint8Array, offset: number, srcIp: Ip4, dstIp: Ip4): number {
  return udpFillChecksum6(buf, offset, pseudoHeaderSum(srcIp, dstIp, 0, 0));
}
/** udpFillChecksum with the address part of either pseudo-header as a partial sum. */
export function udpFillChecksum6(buf: Uint8Array, offset: number, addressSum: number): number {
  const len = u16(buf, offset + 4);
  room(LAYER, buf, offset, len);
  put16(buf, offset + 6, 0);
  let c = checksum(buf, offset, len, addressSum + IPPROTO_UDP + len);
  // RFC 768: a computed 0 is sent as all ones, because 0 on the wire means "no checksum".
  if (c === 0) c = 0xffff;
  put16(buf, offset + 6, c);
  return c;
}

export interface UdpEncodeInput {
  srcPort: number;
  dstPort: number;
  /** Copied after the header. Omit it when the payload is already in the buffer after the header. */
  payload?: Uint8Array;
  /** Length of a payload already in place; ignored when `payload` is given. */
  payloadLength?: number;
  /** false sends checksum 0 ("none"); default true. */
  checksum?: boolean;
}

export function udpEncodingLength(u: UdpEncodeInput): number {
  return UDP_HEADER_LEN + (u.payload ? u.payload.length : (u.payloadLength ?? 0));
}

/** Writes header (and payload when given) at `offset` and the checksum; returns bytes written. */
export function encodeUdp(u: UdpEncodeInput, buf: Uint8Array, offset: number, srcIp: Ip4, dstIp: Ip4): number {
  return encodeUdp6(u, buf, offset, pseudoHeaderSum(srcIp, dstIp, 0, 0));
}
/** encodeUdp with the address part of either pseudo-header as a partial sum (over IPv6 the checksum is mandatory). */
export function encodeUdp6(u: UdpEncodeInput, buf: Uint8Array, offset: number, addressSum: number): number {
  const len = udpEncodingLength(u);
  if (len > 0xffff) throw new EncodeError(`udp: datagram of ${len} bytes does not fit the length field`);
  room(LAYER, buf, offset, len);
  put16(buf, offset, u.srcPort);
  put16(buf, offset + 2, u.dstPort);
  put16(buf, offset + 4, len);
  put16(buf, offset + 6, 0);
  if (u.payload) buf.set(u.payload, offset + UDP_HEADER_LEN);
  if (u.checksum !== false) udpFillChecksum6(buf, offset, addressSum);
  return len;
}
