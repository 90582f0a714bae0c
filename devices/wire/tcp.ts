/**
 * TCP header and options (RFC 9293, RFC 7323, RFC 2018). Options keep their wire order, NOP and
 * EOL included, so a decoded segment re-encodes to the same bytes; `linuxTcpOptions` builds the
 * layout Linux sends, for emulated hosts whose SYNs should look like a real Linux stack's.
 */
import { type Ip4, checksum, onesSum, pseudoHeaderSum, put16, put32, u16, u32 } from './bytes.js';
import { DecodeError, EncodeError, need, room } from './errors.js';

const LAYER = 'tcp';
export const TCP_HEADER_LEN = 20;
export const TCP_MAX_HEADER_LEN = 60;
export const IPPROTO_TCP = 6;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

const FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [TCP_FIN, 'FIN'],
  [TCP_SYN, 'SYN'],
  [TCP_RST, 'RST'],
  [TCP_PSH, 'PSH'],
  [TCP_ACK, 'ACK'],
  [TCP_URG, 'URG'],
  [TCP_ECE, 'ECE'],
  [TCP_CWR, 'CWR'],
];
/** Flag names as Wireshark's info column lists them, low bit first: "SYN, ACK", "FIN, PSH, ACK". */
export function tcpFlagNames(flags: number): string {
  const out: string[] = [];
  for (const [bit, name] of FLAG_NAMES) if (flags & bit) out.push(name);
  return out.join(', ');
}

export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WSCALE = 3;
export const TCPOPT_SACK_PERM = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;

export interface TcpSackBlock {
  left: number;
  right: number;
}
export type TcpOption =
  | { type: 'eol' }
  | { type: 'nop' }
  | { type: 'mss'; mss: number }
  | { type: 'wscale'; shift: number }
  | { type: 'sackPermitted' }
  | { type: 'sack'; blocks: TcpSackBlock[] }
  | { type: 'timestamp'; value: number; echo: number }
  /** Any other kind, or a known kind with an unexpected length: carried as it came. */
  | { type: 'raw'; kind: number; data: Uint8Array };

export interface TcpHeader {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Header length in bytes (data offset × 4). */
  headerLength: number;
  /** The 4 bits between data offset and flags (reserved, AE/NS); kept so re-encoding is exact. */
  reserved: number;
  flags: number;
  window: number;
  checksum: number;
  urgent: number;
  /** In wire order. After an EOL, decoding stops; the rest of the option space is zero padding. */
  options: TcpOption[];
  /** Absolute offset of the payload in the decoded buffer. */
  payloadOffset: number;
  payloadLength: number;
}

// Offset readers for the demultiplexing path: no allocation, no checks.
export function tcpSrcPort(b: Uint8Array, o: number): number {
  return u16(b, o);
}
export function tcpDstPort(b: Uint8Array, o: number): number {
  return u16(b, o + 2);
}
export function tcpSeq(b: Uint8Array, o: number): number {
  return u32(b, o + 4);
}
export function tcpAck(b: Uint8Array, o: number): number {
  return u32(b, o + 8);
}
/** Header length in bytes. */
export function tcpDataOffset(b: Uint8Array, o: number): number {
  return (b[o + 12]! >>> 4) * 4;
}
export function tcpFlags(b: Uint8Array, o: number): number {
  return b[o + 13]!;
}
export function tcpWindow(b: Uint8Array, o: number): number {
  return u16(b, o + 14);
}
export function tcpChecksum(b: Uint8Array, o: number): number {
  return u16(b, o + 16);
}

/**
 * The MSS option of the segment at `o`, or -1 when there is none. Walks the options in place,
 * for a router clamping MSS without decoding the whole header. Malformed options end the walk.
 */
export function tcpMssAt(b: Uint8Array, o: number, length = b.length - o): number {
  const end = o + Math.min(tcpDataOffset(b, o), length);
  let p = o + TCP_HEADER_LEN;
  while (p < end) {
    const kind = b[p]!;
    if (kind === TCPOPT_EOL) return -1;
    if (kind === TCPOPT_NOP) {
      p++;
      continue;
    }
    if (p + 1 >= end) return -1;
    const len = b[p + 1]!;
    if (len < 2 || p + len > end) return -1;
    if (kind === TCPOPT_MSS && len === 4) return u16(b, p + 2);
    p += len;
  }
  return -1;
}

/** Decodes the header of the segment occupying buf[offset..offset+length) (the IPv4 payload). */
export function decodeTcp(buf: Uint8Array, offset = 0, length = buf.length - offset): TcpHeader {
  need(LAYER, buf, offset, length);
  if (length < TCP_HEADER_LEN) throw new DecodeError(LAYER, `segment of ${length} bytes is shorter than the header`, offset);
  const headerLength = tcpDataOffset(buf, offset);
  if (headerLength < TCP_HEADER_LEN) throw new DecodeError(LAYER, `data offset ${headerLength / 4} < 5`, offset + 12);
  if (headerLength > length) throw new DecodeError(LAYER, `header of ${headerLength} bytes exceeds segment of ${length}`, offset + 12);
  return {
    srcPort: u16(buf, offset),
    dstPort: u16(buf, offset + 2),
    seq: u32(buf, offset + 4),
    ack: u32(buf, offset + 8),
    headerLength,
    reserved: buf[offset + 12]! & 0x0f,
    flags: buf[offset + 13]!,
    window: u16(buf, offset + 14),
    checksum: u16(buf, offset + 16),
    urgent: u16(buf, offset + 18),
    options: decodeTcpOptions(buf, offset + TCP_HEADER_LEN, headerLength - TCP_HEADER_LEN),
    payloadOffset: offset + headerLength,
    payloadLength: length - headerLength,
  };
}

/** Decodes an option area; option data of unknown kinds are views into `buf`, not copies. */
export function decodeTcpOptions(buf: Uint8Array, offset: number, length: number): TcpOption[] {
  need(LAYER, buf, offset, length);
  const out: TcpOption[] = [];
  const end = offset + length;
  let p = offset;
  while (p < end) {
    const kind = buf[p]!;
    if (kind === TCPOPT_EOL) {
      out.push({ type: 'eol' });
      break;
    }
    if (kind === TCPOPT_NOP) {
      out.push({ type: 'nop' });
      p++;
      continue;
    }
    if (p + 1 >= end) throw new DecodeError(LAYER, `option ${kind} has no length byte`, p);
    const len = buf[p + 1]!;
    if (len < 2) throw new DecodeError(LAYER, `option ${kind} has length ${len}`, p + 1);
    if (p + len > end) throw new DecodeError(LAYER, `option ${kind} of ${len} bytes overruns the header`, p);
    out.push(knownOption(buf, p, kind, len) ?? { type: 'raw', kind, data: buf.subarray(p + 2, p + len) });
    p += len;
  }
  return out;
}

function knownOption(b: Uint8Array, p: number, kind: number, len: number): TcpOption | null {
  switch (kind) {
    case TCPOPT_MSS:
      return len === 4 ? { type: 'mss', mss: u16(b, p + 2) } : null;
    case TCPOPT_WSCALE:
      return len === 3 ? { type: 'wscale', shift: b[p + 2]! } : null;
    case TCPOPT_SACK_PERM:
      return len === 2 ? { type: 'sackPermitted' } : null;
    case TCPOPT_SACK: {
      if ((len - 2) % 8 !== 0 || len === 2) return null;
      const blocks: TcpSackBlock[] = [];
      for (let q = p + 2; q < p + len; q += 8) blocks.push({ left: u32(b, q), right: u32(b, q + 4) });
      return { type: 'sack', blocks };
    }
    case TCPOPT_TIMESTAMP:
      return len === 10 ? { type: 'timestamp', value: u32(b, p + 2), echo: u32(b, p + 6) } : null;
    default:
      return null;
  }
}

function optionLength(opt: TcpOption): number {
  switch (opt.type) {
    case 'eol':
    case 'nop':
      return 1;
    case 'mss':
      return 4;
    case 'wscale':
      return 3;
    case 'sackPermitted':
      return 2;
    case 'sack':
      return 2 + 8 * opt.blocks.length;
    case 'timestamp':
      return 10;
    case 'raw':
      return 2 + opt.data.length;
  }
}

/** Bytes the options take on the wire, padded to a 4-byte boundary. */
export function tcpOptionsLength(options: readonly TcpOption[] | undefined): number {
  if (!options) return 0;
  let n = 0;
  for (const opt of options) n += optionLength(opt);
  return (n + 3) & ~3;
}

/**
 * Writes options in the given order, then zero bytes up to a 4-byte boundary (an EOL followed
 * by padding, RFC 9293 3.1). Linux never needs that tail: it aligns each option with leading
 * NOPs, which `linuxTcpOptions` reproduces. Returns the padded length.
 */
export function encodeTcpOptions(options: readonly TcpOption[], buf: Uint8Array, offset: number): number {
  const total = tcpOptionsLength(options);
  room(LAYER, buf, offset, total);
  let p = offset;
  for (const opt of options) {
    switch (opt.type) {
      case 'eol':
        buf[p++] = TCPOPT_EOL;
        break;
      case 'nop':
        buf[p++] = TCPOPT_NOP;
        break;
      case 'mss':
        buf[p] = TCPOPT_MSS;
        buf[p + 1] = 4;
        put16(buf, p + 2, opt.mss);
        p += 4;
        break;
      case 'wscale':
        buf[p] = TCPOPT_WSCALE;
        buf[p + 1] = 3;
        buf[p + 2] = opt.shift & 0xff;
        p += 3;
        break;
      case 'sackPermitted':
        buf[p] = TCPOPT_SACK_PERM;
        buf[p + 1] = 2;
        p += 2;
        break;
      case 'sack':
        buf[p] = TCPOPT_SACK;
        buf[p + 1] = 2 + 8 * opt.blocks.length;
        p += 2;
        for (const blk of opt.blocks) {
          put32(buf, p, blk.left);
          put32(buf, p + 4, blk.right);
          p += 8;
        }
        break;
      case 'timestamp':
        buf[p] = TCPOPT_TIMESTAMP;
        buf[p + 1] = 10;
        put32(buf, p + 2, opt.value);
        put32(buf, p + 6, opt.echo);
        p += 10;
        break;
      case 'raw':
        buf[p] = opt.kind & 0xff;
        buf[p + 1] = 2 + opt.data.length;
        buf.set(opt.data, p + 2);
        p += 2 + opt.data.length;
        break;
    }
  }
  buf.fill(0, p, offset + total);
  return total;
}

export interface LinuxTcpOptionsInput {
  mss?: number;
  sackPermitted?: boolean;
  timestamp?: { value: number; echo: number };
  windowScale?: number;
  sack?: TcpSackBlock[];
}

/**
 * The option list Linux's tcp_options_write() emits for these values: MSS; then SACK_PERM+TS
 * sharing one 12-byte slot, or NOP NOP TS, or NOP NOP SACK_PERM; then NOP WS; then NOP NOP SACK.
 * A Linux SYN is therefore MSS, SACK_PERM, TS, NOP, WS.
 */
export function linuxTcpOptions(o: LinuxTcpOptionsInput): TcpOption[] {
  const out: TcpOption[] = [];
  const nop: TcpOption = { type: 'nop' };
  if (o.mss !== undefined) out.push({ type: 'mss', mss: o.mss });
  if (o.timestamp) {
    if (o.sackPermitted) out.push({ type: 'sackPermitted' });
    else out.push(nop, nop);
    out.push({ type: 'timestamp', value: o.timestamp.value, echo: o.timestamp.echo });
  } else if (o.sackPermitted) {
    out.push(nop, nop, { type: 'sackPermitted' });
  }
  if (o.windowScale !== undefined) out.push(nop, { type: 'wscale', shift: o.windowScale });
  if (o.sack && o.sack.length > 0) out.push(nop, nop, { type: 'sack', blocks: o.sack });
  return out;
}

/** Looks an option up by type; the first one wins. */
export function tcpOption<T extends TcpOption['type']>(
  options: readonly TcpOption[],
  type: T,
): Extract<TcpOption, { type: T }> | undefined {
  for (const opt of options) if (opt.type === type) return opt as Extract<TcpOption, { type: T }>;
  return undefined;
}

export interface TcpEncodeInput {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent?: number;
  reserved?: number;
  options?: readonly TcpOption[];
  /** Copied after the header. Omit when the payload is already in place after the header. */
  payload?: Uint8Array;
  /** Length of a payload already at offset + 20 + tcpOptionsLength(options); ignored with `payload`. */
  payloadLength?: number;
}

export function tcpHeaderLength(seg: Pick<TcpEncodeInput, 'options'>): number {
  return TCP_HEADER_LEN + tcpOptionsLength(seg.options);
}

export function tcpEncodingLength(seg: TcpEncodeInput): number {
  return tcpHeaderLength(seg) + (seg.payload ? seg.payload.length : (seg.payloadLength ?? 0));
}

/** Writes the segment at `offset` with its checksum; returns bytes written (header + payload). */
export function encodeTcp(seg: TcpEncodeInput, buf: Uint8Array, offset: number, srcIp: Ip4, dstIp: Ip4): number {
  return encodeTcp6(seg, buf, offset, pseudoHeaderSum(srcIp, dstIp, 0, 0));
}
/** encodeTcp with the address part of either pseudo-header as a partial sum (`ipv6AddressSum` for IPv6). */
export function encodeTcp6(seg: TcpEncodeInput, buf: Uint8Array, offset: number, addressSum: number): number {
  const hlen = tcpHeaderLength(seg);
  if (hlen > TCP_MAX_HEADER_LEN) throw new EncodeError(`tcp: options need ${hlen - TCP_HEADER_LEN} bytes, at most 40 fit`);
  const len = tcpEncodingLength(seg);
  room(LAYER, buf, offset, len);
  put16(buf, offset, seg.srcPort);
  put16(buf, offset + 2, seg.dstPort);
  put32(buf, offset + 4, seg.seq >>> 0);
  put32(buf, offset + 8, seg.ack >>> 0);
  buf[offset + 12] = ((hlen / 4) << 4) | ((seg.reserved ?? 0) & 0x0f);
  buf[offset + 13] = seg.flags & 0xff;
  put16(buf, offset + 14, seg.window);
  put16(buf, offset + 16, 0);
  put16(buf, offset + 18, seg.urgent ?? 0);
  if (seg.options) encodeTcpOptions(seg.options, buf, offset + TCP_HEADER_LEN);
  if (seg.payload) buf.set(seg.payload, offset + hlen);
  tcpFillChecksum6(buf, offset, len, addressSum);
  return len;
}

/** Computes and stores the checksum of the segment buf[offset..offset+length), already written. */
export function tcpFillChecksum(buf: Uint8Array, offset: number, length: number, srcIp: Ip4, dstIp: Ip4): number {
  return tcpFillChecksum6(buf, offset, length, pseudoHeaderSum(srcIp, dstIp, 0, 0));
}
/** tcpFillChecksum with the address part of either pseudo-header as a partial sum. */
export function tcpFillChecksum6(buf: Uint8Array, offset: number, length: number, addressSum: number): number {
  room(LAYER, buf, offset, length);
  put16(buf, offset + 16, 0);
  const c = checksum(buf, offset, length, addressSum + IPPROTO_TCP + length);
  put16(buf, offset + 16, c);
  return c;
}

/** True when the segment buf[offset..offset+length) (the whole IPv4 payload) sums correctly. */
export function tcpChecksumOk(buf: Uint8Array, offset: number, length: number, srcIp: Ip4, dstIp: Ip4): boolean {
  return tcpChecksumOk6(buf, offset, length, pseudoHeaderSum(srcIp, dstIp, 0, 0));
}
/** tcpChecksumOk with the address part of either pseudo-header as a partial sum. */
export function tcpChecksumOk6(buf: Uint8Array, offset: number, length: number, addressSum: number): boolean {
  need(LAYER, buf, offset, length);
  if (length < TCP_HEADER_LEN) return false;
  return onesSum(buf, offset, length, addressSum + IPPROTO_TCP + length) === 0xffff;
}

/** Sequence-space comparison (RFC 1982 style): a < b modulo 2^32. */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
