/**
 * Decoded frames written straight into JSON text, as bytes, for live traces that stream tens of
 * thousands of records a second. `decodeFrame` builds objects and strings that JSON.stringify
 * then walks again; here the common frames (Ethernet II with any tags, ARP, IPv4 and its
 * fragments, ICMP, UDP, TCP, other EtherTypes) are read in place and their JSON written byte by
 * byte, with no object per layer. The text is exactly what
 * `JSON.stringify({protocol, src, dst, info, layers})` of `decodeFrame` gives, minus the braces,
 * except that non-ASCII characters are written as \u escapes: the text is pure ASCII, so it
 * needs no UTF-8 encoding on the way out and a reader's JSON.parse gets a one-byte string. What
 * the fast path does not cover (LLC and STP, DHCP, DNS, anything malformed) goes through
 * `decodeFrame` and JSON.stringify, so both paths always agree.
 */
import { decodeFrame } from './decode.js';
import { onesSum } from '../wire/bytes.js';
import { decodeTcpOptions, tcpFlagNames, tcpOption } from '../wire/tcp.js';

/** A growing byte buffer of ASCII JSON text. */
export class JsonBytes {
  bytes: Uint8Array;
  /** The same bytes, for the fast path's 8-byte stores. */
  view: DataView;
  length = 0;

  constructor(capacity = 64 * 1024) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Makes room for `n` more bytes, so that callers may then write without checks. */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  /** Bytes that are already JSON text in ASCII (see `ascii`). */
  chunk(c: Uint8Array): void {
    this.reserve(c.length);
    this.bytes.set(c, this.length);
    this.length += c.length;
  }

  /** A constant piece of JSON (see Piece). */
  piece(c: Piece): void {
    this.reserve(c.length + 8);
    this.length = put(this.view, this.length, c);
  }

  byte(c: number): void {
    this.reserve(1);
    this.bytes[this.length++] = c;
  }

  uint(n: number): void {
    this.reserve(24);
    this.length = putUint(this.bytes, this.length, n);
  }

  /** A JSON string literal for `s`, escaped as JSON.stringify escapes it, non-ASCII as \u escapes. */
  string(s: string): void {
    this.json(JSON.stringify(s));
  }

  /** JSON text (from JSON.stringify): copied, with every non-ASCII UTF-16 unit written as a \u escape. */
  json(text: string): void {
    this.reserve(text.length * 6);
    const b = this.bytes;
    let p = this.length;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) b[p++] = c;
      else {
        b[p] = 0x5c;
        b[p + 1] = 0x75;
        b[p + 2] = HEX[c >>> 12]!;
        b[p + 3] = HEX[(c >>> 8) & 15]!;
        b[p + 4] = HEX[(c >>> 4) & 15]!;
        b[p + 5] = HEX[c & 15]!;
        p += 6;
      }
    }
    this.length = p;
  }

  /** The bytes of `data` in base64, as Buffer's toString('base64') writes them. */
  base64(data: Uint8Array): void {
    const n = data.length;
    this.reserve(((n + 2) / 3) * 4 + 4);
    const b = this.bytes;
    let p = this.length;
    let i = 0;
    for (; i + 3 <= n; i += 3) {
      const v = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
      b[p] = B64[v >>> 18]!;
      b[p + 1] = B64[(v >>> 12) & 63]!;
      b[p + 2] = B64[(v >>> 6) & 63]!;
      b[p + 3] = B64[v & 63]!;
      p += 4;
    }
    if (i < n) {
      const v = (data[i]! << 16) | (i + 1 < n ? data[i + 1]! << 8 : 0);
      b[p] = B64[v >>> 18]!;
      b[p + 1] = B64[(v >>> 12) & 63]!;
      b[p + 2] = i + 1 < n ? B64[(v >>> 6) & 63]! : 0x3d;
      b[p + 3] = 0x3d;
      p += 4;
    }
    this.length = p;
  }
}

/** ASCII text as bytes (for constant pieces of JSON). */
export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) throw new Error(`not ASCII: ${JSON.stringify(s)}`);
    out[i] = c;
  }
  return out;
}

/** JSON text of any value, as ASCII bytes (non-ASCII as \u escapes). */
export function jsonAscii(value: unknown): Uint8Array {
  const w = new JsonBytes(64);
  w.json(JSON.stringify(value));
  return w.bytes.slice(0, w.length);
}

// ---------------------------------------------------------------- byte writers

const HEX = ascii('0123456789abcdef');
const B64 = ascii('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');

/**
 * A constant piece of JSON as 8-byte words, written with one store per word: byte by byte, the
 * copying of constants was half the fast path's time. The last word may run past the piece;
 * what it spills is overwritten by whatever comes next, since every writer goes forwards, and
 * the buffer always has room (see `bound`). JSON text is printable ASCII and the padding is
 * spaces, so each word's top byte is 0x20..0x7e: its exponent is neither 0 nor all ones, every
 * word is a normal finite double, and it goes through a Float64Array and setFloat64 bit for bit.
 */
export interface Piece {
  readonly length: number;
  readonly words: Float64Array;
}

/** A Piece of ASCII text, or of bytes that are already ASCII JSON. */
export function piece(text: string | Uint8Array): Piece {
  const bytes = typeof text === 'string' ? ascii(text) : text;
  const padded = new Uint8Array(Math.ceil(bytes.length / 8) * 8).fill(0x20);
  padded.set(bytes);
  const words = new Float64Array(padded.length / 8);
  const view = new DataView(padded.buffer);
  for (let i = 0; i < words.length; i++) words[i] = view.getFloat64(i * 8, true);
  return { length: bytes.length, words };
}

function put(v: DataView, p: number, c: Piece): number {
  const words = c.words;
  for (let i = 0; i < words.length; i++) v.setFloat64(p + i * 8, words[i]!, true);
  return p + c.length;
}

/** Decimal text of 0..255 and a dot, as up to four bytes low first (for one 4-byte store), and the digits' count. */
const DEC_DOT = new Int32Array(256);
const DEC_LENGTH = new Uint8Array(256);
/** Two hex digits and a colon, low first (for one 4-byte store). */
const HEX_COLON = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const t = String(i) + '.';
  DEC_LENGTH[i] = t.length - 1;
  for (let j = 0; j < t.length; j++) DEC_DOT[i]! |= t.charCodeAt(j) << (8 * j);
  const h = i.toString(16).padStart(2, '0') + ':';
  HEX_COLON[i] = h.charCodeAt(0) | (h.charCodeAt(1) << 8) | (h.charCodeAt(2) << 16);
}

/** A non-negative integer (below 2^53) in decimal. */
function putUint(b: Uint8Array, p: number, n: number): number {
  if (n < 0x80000000) return putSmall(b, p, n | 0);
  // Lab times in ns pass 2^31 after two seconds: nine low digits at a time, in integers.
  const high = Math.floor(n / 1e9);
  p = putUint(b, p, high);
  let low = n - high * 1e9;
  for (let q = p + 8; q >= p; q--) {
    const next = (low / 10) | 0;
    b[q] = 48 + (low - next * 10);
    low = next;
  }
  return p + 9;
}

function putSmall(b: Uint8Array, p: number, n: number): number {
  if (n < 10) {
    b[p] = 48 + n;
    return p + 1;
  }
  let digits = 1;
  for (let t = n; t >= 10; t = (t / 10) | 0) digits++;
  let q = p + digits;
  let v = n;
  while (v >= 10) {
    const next = (v / 10) | 0;
    b[--q] = 48 + (v - next * 10);
    v = next;
  }
  b[--q] = 48 + v;
  return p + digits;
}

/** `0x` and at least `width` lowercase hex digits, as decode.ts's hex() writes them. */
function putHex(b: Uint8Array, p: number, n: number, width: number): number {
  b[p] = 48;
  b[p + 1] = 0x78;
  return putHexDigits(b, p + 2, n, width);
}

function putHexDigits(b: Uint8Array, p: number, n: number, width: number): number {
  let digits = 1;
  for (let t = n >>> 4; t > 0; t >>>= 4) digits++;
  if (digits < width) digits = width;
  for (let i = digits - 1; i >= 0; i--) {
    b[p + i] = HEX[n & 15]!;
    n >>>= 4;
  }
  return p + digits;
}

/** Like Piece, these write a few bytes past the end that the next writer overwrites. */
function putMac(v: DataView, p: number, f: Uint8Array, o: number): number {
  for (let i = 0; i < 6; i++) v.setInt32(p + 3 * i, HEX_COLON[f[o + i]!]!, true);
  return p + 17;
}

function putIp(v: DataView, p: number, f: Uint8Array, o: number): number {
  for (let i = 0; i < 4; i++) {
    const octet = f[o + i]!;
    v.setInt32(p, DEC_DOT[octet]!, true);
    p += DEC_LENGTH[octet]! + 1;
  }
  return p - 1;
}

// ---------------------------------------------------------------- the fast path

const K = {
  protocol: piece('"protocol":'),
  src: piece(',"src":"'),
  dst: piece('","dst":"'),
  info: piece('","info":"'),
  layers: piece('","layers":['),
  ethernet: piece('{"name":"Ethernet II","fields":{"dst":"'),
  ethSrc: piece('","src":"'),
  ethType: piece('","type":"'),
  closeStr: piece('"}}'),
  dot1q: piece(',{"name":"802.1Q","fields":{"vid":'),
  dot1ad: piece(',{"name":"802.1ad","fields":{"vid":'),
  pcp: piece(',"pcp":'),
  dei: piece(',"dei":'),
  close: piece('}}'),
  arp: piece(',{"name":"ARP","fields":{"op":"'),
  request: piece('request'),
  reply: piece('reply'),
  senderMac: piece('","senderMac":"'),
  senderIp: piece('","senderIp":"'),
  targetMac: piece('","targetMac":"'),
  targetIp: piece('","targetIp":"'),
  whoHas: piece('Who has '),
  tell: piece('? Tell '),
  isAt: piece(' is at '),
  ethertype: piece('Ethertype '),
  ipv4: piece(',{"name":"IPv4","fields":{"src":"'),
  ttl: piece('","ttl":'),
  ipProtocol: piece(',"protocol":'),
  id: piece(',"id":"'),
  ipLength: piece('","length":'),
  flags: piece(',"flags":"'),
  fragmentOffset: piece('","fragmentOffset":'),
  checksumOk: piece(',"checksum":"ok"}}'),
  checksumBad: piece(',"checksum":"BAD"}}'),
  df: piece('DF '),
  mf: piece('MF'),
  fragmented: piece('Fragmented IP protocol (proto='),
  off: piece(', off='),
  fragId: piece(', ID='),
  ipProtocolInfo: piece('IP protocol '),
  icmp: piece(',{"name":"ICMP","fields":{"type":'),
  code: piece(',"code":'),
  icmpId: piece(',"id":'),
  seq: piece(',"seq":'),
  idInfo: piece('  id='),
  seqInfo: piece(', seq='),
  ttlInfo: piece(', ttl='),
  typeInfo: piece('Type '),
  codeInfo: piece('code '),
  udp: piece(',{"name":"UDP","fields":{"srcPort":'),
  dstPort: piece(',"dstPort":'),
  length: piece(',"length":'),
  arrow: piece(' \\u2192 '),
  len: piece(' Len='),
  tcp: piece(',{"name":"TCP","fields":{"srcPort":'),
  tcpSeq: piece(',"seq":'),
  tcpAck: piece(',"ack":'),
  tcpFlags: piece(',"flags":"'),
  window: piece('","window":'),
  seqInfo2: piece('] Seq='),
  ackInfo: piece(' Ack='),
  win: piece(' Win='),
  mss: piece(' MSS='),
  ws: piece(' WS='),
  sackPerm: piece(' SACK_PERM'),
} as const;

const PROTOCOL = {
  ethernet: piece('"Ethernet"'),
  arp: piece('"ARP"'),
  ipv4: piece('"IPv4"'),
  icmp: piece('"ICMP"'),
  udp: piece('"UDP"'),
  tcp: piece('"TCP"'),
};

/** decode.ts's ICMP_NAMES, UNREACH_NAMES and PROTO_NAMES, as bytes. */
const ICMP_NAMES: (Piece | undefined)[] = [];
ICMP_NAMES[0] = piece('Echo (ping) reply');
ICMP_NAMES[3] = piece('Destination unreachable');
ICMP_NAMES[8] = piece('Echo (ping) request');
ICMP_NAMES[11] = piece('Time-to-live exceeded');
const UNREACH_NAMES: (Piece | undefined)[] = [];
UNREACH_NAMES[0] = piece('Network unreachable');
UNREACH_NAMES[1] = piece('Host unreachable');
UNREACH_NAMES[2] = piece('Protocol unreachable');
UNREACH_NAMES[3] = piece('Port unreachable');
UNREACH_NAMES[4] = piece('Fragmentation needed');
UNREACH_NAMES[13] = piece('Communication administratively filtered');
const PROTO_NAMES: (Piece | undefined)[] = [];
PROTO_NAMES[1] = piece('ICMP');
PROTO_NAMES[6] = piece('TCP');
PROTO_NAMES[17] = piece('UDP');
/** tcpFlagNames of every flag byte. */
const TCP_FLAGS: Piece[] = Array.from({ length: 256 }, (_, i) => piece(tcpFlagNames(i)));

/**
 * Bytes the fast path writes at most for a frame of `n` bytes, with what a Piece spills past
 * the end: every field is bounded (the longest variable part is a TCP info line), and nothing
 * repeats per byte of the frame except VLAN tags, at most one per 4 bytes.
 */
function bound(n: number): number {
  return 1024 + n * 16;
}

/**
 * Appends the decoded fields of `frame` (`"protocol":...,"layers":[...]`) to `w`. Never throws:
 * what cannot be decoded is described as decodeFrame describes it.
 */
export function writeDecodedJson(w: JsonBytes, frame: Uint8Array): void {
  if (writeDecodedJsonFast(w, frame)) return;
  const d = decodeFrame(frame);
  const text = JSON.stringify({ protocol: d.protocol, src: d.src, dst: d.dst, info: d.info, layers: d.layers });
  w.json(text.slice(1, -1));
}

/** The fast path alone: false (and nothing written) for a frame it leaves to decodeFrame. */
export function writeDecodedJsonFast(w: JsonBytes, frame: Uint8Array): boolean {
  w.reserve(bound(frame.length));
  let end: number;
  try {
    end = writeFast(w.bytes, w.view, w.length, frame);
  } catch {
    end = -1;
  }
  if (end < 0) return false;
  w.length = end;
  return true;
}

/**
 * The fast path: returns the end of what it wrote, or -1 for frames it leaves to decodeFrame
 * (what it writes then is garbage the caller overwrites). It refuses exactly where a codec
 * would throw, so that the Malformed layer is always decodeFrame's.
 */
function writeFast(b: Uint8Array, v: DataView, p: number, f: Uint8Array): number {
  const n = f.length;
  if (n < 14) return -1;
  // Tags and the type after them, checked as decodeEthernet checks them.
  let o = 12;
  let type = (f[12]! << 8) | f[13]!;
  let tags = 0;
  while (type === 0x8100 || type === 0x88a8) {
    if (o + 6 > n) return -1;
    tags++;
    o += 4;
    type = (f[o]! << 8) | f[o + 1]!;
  }
  if (type < 0x0600) return -1; // 802.3/LLC (STP) and the invalid range
  const off = o + 2;

  // What is known before the upper layers are read: the Ethernet layer, written after the
  // summary fields once those are known, is the same for every EtherType.
  if (type === 0x0806) {
    if (off + 28 > n) return -1;
    if (f[off] !== 0 || f[off + 1] !== 1 || f[off + 2] !== 0x08 || f[off + 3] !== 0 || f[off + 4] !== 6 || f[off + 5] !== 4) return -1;
    const request = f[off + 6] === 0 && f[off + 7] === 1;
    p = put(v, p, K.protocol);
    p = put(v, p, PROTOCOL.arp);
    p = put(v, p, K.src);
    p = putMac(v, p, f, 6);
    p = put(v, p, K.dst);
    p = putMac(v, p, f, 0);
    p = put(v, p, K.info);
    if (request) {
      p = put(v, p, K.whoHas);
      p = putIp(v, p, f, off + 24);
      p = put(v, p, K.tell);
      p = putIp(v, p, f, off + 14);
    } else {
      p = putIp(v, p, f, off + 14);
      p = put(v, p, K.isAt);
      p = putMac(v, p, f, off + 8);
    }
    p = put(v, p, K.layers);
    p = writeEthernet(b, v, p, f, tags, type);
    p = put(v, p, K.arp);
    p = put(v, p, request ? K.request : K.reply);
    p = put(v, p, K.senderMac);
    p = putMac(v, p, f, off + 8);
    p = put(v, p, K.senderIp);
    p = putIp(v, p, f, off + 14);
    p = put(v, p, K.targetMac);
    p = putMac(v, p, f, off + 18);
    p = put(v, p, K.targetIp);
    p = putIp(v, p, f, off + 24);
    p = put(v, p, K.closeStr);
    b[p] = 0x5d;
    return p + 1;
  }
  if (type !== 0x0800) {
    p = put(v, p, K.protocol);
    p = put(v, p, PROTOCOL.ethernet);
    p = put(v, p, K.src);
    p = putMac(v, p, f, 6);
    p = put(v, p, K.dst);
    p = putMac(v, p, f, 0);
    p = put(v, p, K.info);
    p = put(v, p, K.ethertype);
    p = putHex(b, p, type, 4);
    p = put(v, p, K.layers);
    p = writeEthernet(b, v, p, f, tags, type);
    b[p] = 0x5d;
    return p + 1;
  }

  // IPv4, checked as decodeIpv4 checks it.
  if (off + 20 > n || f[off]! >>> 4 !== 4) return -1;
  const ihl = (f[off]! & 15) << 2;
  if (ihl < 20 || off + ihl > n) return -1;
  const total = (f[off + 2]! << 8) | f[off + 3]!;
  if (total < ihl || off + total > n) return -1;
  const ipId = (f[off + 4]! << 8) | f[off + 5]!;
  const ff = (f[off + 6]! << 8) | f[off + 7]!;
  const df = (ff & 0x4000) !== 0;
  const mf = (ff & 0x2000) !== 0;
  const fragmentOffset = (ff & 0x1fff) << 3;
  const ttl = f[off + 8]!;
  const proto = f[off + 9]!;
  const po = off + ihl;
  const plen = total - ihl;
  const fragment = mf || fragmentOffset > 0;

  // Layer 4 is checked before anything is written, so that a refusal costs nothing.
  let l4 = 0; // 0: none (fragment or other protocol), 1: ICMP, 17: UDP, 6: TCP
  let tcpHeader = 0;
  if (!fragment) {
    if (proto === 1) {
      if (plen < 8) return -1;
      l4 = 1;
    } else if (proto === 17) {
      if (plen < 8) return -1;
      const len = (f[po + 4]! << 8) | f[po + 5]!;
      if (len < 8 || len > plen) return -1;
      const sp = (f[po]! << 8) | f[po + 1]!;
      const dp = (f[po + 2]! << 8) | f[po + 3]!;
      if (sp === 67 || sp === 68 || dp === 67 || dp === 68 || sp === 53 || dp === 53) return -1; // DHCP, DNS
      l4 = 17;
    } else if (proto === 6) {
      if (plen < 20) return -1;
      tcpHeader = (f[po + 12]! >>> 4) << 2;
      if (tcpHeader < 20 || tcpHeader > plen) return -1;
      l4 = 6;
    }
  }

  p = put(v, p, K.protocol);
  p = put(v, p, l4 === 1 ? PROTOCOL.icmp : l4 === 17 ? PROTOCOL.udp : l4 === 6 ? PROTOCOL.tcp : PROTOCOL.ipv4);
  p = put(v, p, K.src);
  p = putIp(v, p, f, off + 12);
  p = put(v, p, K.dst);
  p = putIp(v, p, f, off + 16);
  p = put(v, p, K.info);
  // The info line, then the layers; L4 fields are read twice rather than kept in variables
  // for every protocol.
  let icmpType = 0;
  let icmpCode = 0;
  let echo = false;
  if (fragment) {
    p = put(v, p, K.fragmented);
    // `proto=${PROTO_NAMES[p] ?? p} ${p}`: the number twice when the protocol has no name.
    const name = PROTO_NAMES[proto];
    p = name ? put(v, p, name) : putUint(b, p, proto);
    b[p++] = 0x20;
    p = putUint(b, p, proto);
    p = put(v, p, K.off);
    p = putUint(b, p, fragmentOffset);
    p = put(v, p, K.fragId);
    p = putHexDigits(b, p, ipId, 1);
    b[p++] = 0x29;
  } else if (l4 === 1) {
    icmpType = f[po]!;
    icmpCode = f[po + 1]!;
    echo = icmpType === 0 || icmpType === 8;
    const name = ICMP_NAMES[icmpType];
    if (name) p = put(v, p, name);
    else {
      p = put(v, p, K.typeInfo);
      p = putUint(b, p, icmpType);
    }
    if (icmpType === 3) {
      b[p] = 0x20;
      b[p + 1] = 0x28;
      p += 2;
      const u = UNREACH_NAMES[icmpCode];
      if (u) p = put(v, p, u);
      else {
        p = put(v, p, K.codeInfo);
        p = putUint(b, p, icmpCode);
      }
      b[p++] = 0x29;
    }
    if (echo) {
      p = put(v, p, K.idInfo);
      p = putHex(b, p, (f[po + 4]! << 8) | f[po + 5]!, 4);
      p = put(v, p, K.seqInfo);
      p = putUint(b, p, (f[po + 6]! << 8) | f[po + 7]!);
      p = put(v, p, K.ttlInfo);
      p = putUint(b, p, ttl);
    }
  } else if (l4 === 17) {
    p = putUint(b, p, (f[po]! << 8) | f[po + 1]!);
    p = put(v, p, K.arrow);
    p = putUint(b, p, (f[po + 2]! << 8) | f[po + 3]!);
    p = put(v, p, K.len);
    p = putUint(b, p, ((f[po + 4]! << 8) | f[po + 5]!) - 8);
  } else if (l4 === 6) {
    p = writeTcpInfo(b, v, p, f, po, plen, tcpHeader);
  } else {
    p = put(v, p, K.ipProtocolInfo);
    p = putUint(b, p, proto);
  }

  p = put(v, p, K.layers);
  p = writeEthernet(b, v, p, f, tags, type);
  p = put(v, p, K.ipv4);
  p = putIp(v, p, f, off + 12);
  p = put(v, p, K.dst);
  p = putIp(v, p, f, off + 16);
  p = put(v, p, K.ttl);
  p = putUint(b, p, ttl);
  p = put(v, p, K.ipProtocol);
  p = putUint(b, p, proto);
  p = put(v, p, K.id);
  p = putHex(b, p, ipId, 4);
  p = put(v, p, K.ipLength);
  p = putUint(b, p, total);
  p = put(v, p, K.flags);
  if (df) p = put(v, p, K.df);
  if (mf) p = put(v, p, K.mf);
  p = put(v, p, K.fragmentOffset);
  p = putUint(b, p, fragmentOffset);
  p = put(v, p, onesSum(f, off, ihl) === 0xffff ? K.checksumOk : K.checksumBad);

  if (l4 === 1) {
    p = put(v, p, K.icmp);
    p = putUint(b, p, icmpType);
    p = put(v, p, K.code);
    p = putUint(b, p, icmpCode);
    if (echo) {
      p = put(v, p, K.icmpId);
      p = putUint(b, p, (f[po + 4]! << 8) | f[po + 5]!);
      p = put(v, p, K.seq);
      p = putUint(b, p, (f[po + 6]! << 8) | f[po + 7]!);
    }
    p = put(v, p, onesSum(f, po, plen) === 0xffff ? K.checksumOk : K.checksumBad);
  } else if (l4 === 17) {
    p = put(v, p, K.udp);
    p = putUint(b, p, (f[po]! << 8) | f[po + 1]!);
    p = put(v, p, K.dstPort);
    p = putUint(b, p, (f[po + 2]! << 8) | f[po + 3]!);
    p = put(v, p, K.length);
    p = putUint(b, p, (f[po + 4]! << 8) | f[po + 5]!);
    p = put(v, p, K.close);
  } else if (l4 === 6) {
    const flags = f[po + 13]!;
    p = put(v, p, K.tcp);
    p = putUint(b, p, (f[po]! << 8) | f[po + 1]!);
    p = put(v, p, K.dstPort);
    p = putUint(b, p, (f[po + 2]! << 8) | f[po + 3]!);
    p = put(v, p, K.tcpSeq);
    p = putUint(b, p, u32(f, po + 4));
    p = put(v, p, K.tcpAck);
    p = putUint(b, p, u32(f, po + 8));
    p = put(v, p, K.tcpFlags);
    p = put(v, p, TCP_FLAGS[flags]!);
    p = put(v, p, K.window);
    p = putUint(b, p, (f[po + 14]! << 8) | f[po + 15]!);
    p = put(v, p, K.length);
    p = putUint(b, p, plen - tcpHeader);
    p = put(v, p, K.close);
  }
  b[p] = 0x5d;
  return p + 1;
}

function u32(f: Uint8Array, o: number): number {
  return ((f[o]! << 24) | (f[o + 1]! << 16) | (f[o + 2]! << 8) | f[o + 3]!) >>> 0;
}

/** `{"name":"Ethernet II",...}` and one layer per tag; `type` is the EtherType after the tags. */
function writeEthernet(b: Uint8Array, v: DataView, p: number, f: Uint8Array, tags: number, type: number): number {
  p = put(v, p, K.ethernet);
  p = putMac(v, p, f, 0);
  p = put(v, p, K.ethSrc);
  p = putMac(v, p, f, 6);
  p = put(v, p, K.ethType);
  p = putHex(b, p, type, 4);
  p = put(v, p, K.closeStr);
  for (let i = 0, o = 12; i < tags; i++, o += 4) {
    const tci = (f[o + 2]! << 8) | f[o + 3]!;
    p = put(v, p, f[o] === 0x88 ? K.dot1ad : K.dot1q);
    p = putUint(b, p, tci & 0x0fff);
    p = put(v, p, K.pcp);
    p = putUint(b, p, tci >>> 13);
    p = put(v, p, K.dei);
    p = putUint(b, p, (tci >>> 12) & 1);
    p = put(v, p, K.close);
  }
  return p;
}

/** decode.ts's TCP info line; options (rare outside SYNs) are read with the codec. */
function writeTcpInfo(b: Uint8Array, v: DataView, p: number, f: Uint8Array, po: number, plen: number, header: number): number {
  const flags = f[po + 13]!;
  p = putUint(b, p, (f[po]! << 8) | f[po + 1]!);
  p = put(v, p, K.arrow);
  p = putUint(b, p, (f[po + 2]! << 8) | f[po + 3]!);
  b[p] = 0x20;
  b[p + 1] = 0x5b;
  p = put(v, p + 2, TCP_FLAGS[flags]!);
  p = put(v, p, K.seqInfo2);
  p = putUint(b, p, u32(f, po + 4));
  if (flags & 0x10) {
    p = put(v, p, K.ackInfo);
    p = putUint(b, p, u32(f, po + 8));
  }
  p = put(v, p, K.win);
  p = putUint(b, p, (f[po + 14]! << 8) | f[po + 15]!);
  p = put(v, p, K.len);
  p = putUint(b, p, plen - header);
  if (header > 20) {
    // Throws a DecodeError for a bad option area: the caller then takes decodeFrame's way.
    const options = decodeTcpOptions(f, po + 20, header - 20);
    const mss = tcpOption(options, 'mss');
    if (mss && flags & 0x02) {
      p = put(v, p, K.mss);
      p = putUint(b, p, mss.mss);
    }
    const ws = tcpOption(options, 'wscale');
    if (ws) {
      // 2 ** shift is written in exponent notation past 2^52: decodeFrame's business.
      if (ws.shift > 52) throw new RangeError('window scale beyond integers');
      p = put(v, p, K.ws);
      p = putUint(b, p, 2 ** ws.shift);
    }
    if (tcpOption(options, 'sackPermitted')) p = put(v, p, K.sackPerm);
  }
  return p;
}
