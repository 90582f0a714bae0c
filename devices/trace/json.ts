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
  length = 0;

  constructor(capacity = 64 * 1024) {
    this.bytes = new Uint8Array(capacity);
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
  }

  /** Bytes that are already JSON text in ASCII (see `ascii`). */
  chunk(c: Uint8Array): void {
    this.reserve(c.length);
    this.bytes.set(c, this.length);
    this.length += c.length;
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
/** Decimal text of 0..255, for dotted quads. */
const DEC: Uint8Array[] = Array.from({ length: 256 }, (_, i) => ascii(String(i)));

function put(b: Uint8Array, p: number, c: Uint8Array): number {
  const n = c.length;
  if (n > 24) {
    b.set(c, p);
    return p + n;
  }
  for (let i = 0; i < n; i++) b[p + i] = c[i]!;
  return p + n;
}

/** A non-negative integer (below 2^53) in decimal. */
function putUint(b: Uint8Array, p: number, n: number): number {
  if (n < 10) {
    b[p] = 48 + n;
    return p + 1;
  }
  let digits = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
  let q = p + digits;
  let v = n;
  if (v >= 0x80000000) {
    while (v >= 0x80000000) {
      const next = Math.floor(v / 10);
      b[--q] = 48 + (v - next * 10);
      v = next;
    }
  }
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

function putMac(b: Uint8Array, p: number, f: Uint8Array, o: number): number {
  for (let i = 0; i < 6; i++) {
    const v = f[o + i]!;
    b[p] = HEX[v >>> 4]!;
    b[p + 1] = HEX[v & 15]!;
    b[p + 2] = 0x3a;
    p += 3;
  }
  return p - 1;
}

function putIp(b: Uint8Array, p: number, f: Uint8Array, o: number): number {
  p = put(b, p, DEC[f[o]!]!);
  b[p++] = 0x2e;
  p = put(b, p, DEC[f[o + 1]!]!);
  b[p++] = 0x2e;
  p = put(b, p, DEC[f[o + 2]!]!);
  b[p++] = 0x2e;
  return put(b, p, DEC[f[o + 3]!]!);
}

// ---------------------------------------------------------------- the fast path

const K = {
  protocol: ascii('"protocol":'),
  src: ascii(',"src":"'),
  dst: ascii('","dst":"'),
  info: ascii('","info":"'),
  layers: ascii('","layers":['),
  ethernet: ascii('{"name":"Ethernet II","fields":{"dst":"'),
  ethSrc: ascii('","src":"'),
  ethType: ascii('","type":"'),
  closeStr: ascii('"}}'),
  dot1q: ascii(',{"name":"802.1Q","fields":{"vid":'),
  dot1ad: ascii(',{"name":"802.1ad","fields":{"vid":'),
  pcp: ascii(',"pcp":'),
  dei: ascii(',"dei":'),
  close: ascii('}}'),
  arp: ascii(',{"name":"ARP","fields":{"op":"'),
  request: ascii('request'),
  reply: ascii('reply'),
  senderMac: ascii('","senderMac":"'),
  senderIp: ascii('","senderIp":"'),
  targetMac: ascii('","targetMac":"'),
  targetIp: ascii('","targetIp":"'),
  whoHas: ascii('Who has '),
  tell: ascii('? Tell '),
  isAt: ascii(' is at '),
  ethertype: ascii('Ethertype '),
  ipv4: ascii(',{"name":"IPv4","fields":{"src":"'),
  ttl: ascii('","ttl":'),
  ipProtocol: ascii(',"protocol":'),
  id: ascii(',"id":"'),
  ipLength: ascii('","length":'),
  flags: ascii(',"flags":"'),
  fragmentOffset: ascii('","fragmentOffset":'),
  checksumOk: ascii(',"checksum":"ok"}}'),
  checksumBad: ascii(',"checksum":"BAD"}}'),
  df: ascii('DF '),
  mf: ascii('MF'),
  fragmented: ascii('Fragmented IP protocol (proto='),
  off: ascii(', off='),
  fragId: ascii(', ID='),
  ipProtocolInfo: ascii('IP protocol '),
  icmp: ascii(',{"name":"ICMP","fields":{"type":'),
  code: ascii(',"code":'),
  icmpId: ascii(',"id":'),
  seq: ascii(',"seq":'),
  idInfo: ascii('  id='),
  seqInfo: ascii(', seq='),
  ttlInfo: ascii(', ttl='),
  typeInfo: ascii('Type '),
  codeInfo: ascii('code '),
  udp: ascii(',{"name":"UDP","fields":{"srcPort":'),
  dstPort: ascii(',"dstPort":'),
  length: ascii(',"length":'),
  arrow: ascii(' \\u2192 '),
  len: ascii(' Len='),
  tcp: ascii(',{"name":"TCP","fields":{"srcPort":'),
  tcpSeq: ascii(',"seq":'),
  tcpAck: ascii(',"ack":'),
  tcpFlags: ascii(',"flags":"'),
  window: ascii('","window":'),
  seqInfo2: ascii('] Seq='),
  ackInfo: ascii(' Ack='),
  win: ascii(' Win='),
  mss: ascii(' MSS='),
  ws: ascii(' WS='),
  sackPerm: ascii(' SACK_PERM'),
} as const;

const PROTOCOL = {
  ethernet: ascii('"Ethernet"'),
  arp: ascii('"ARP"'),
  ipv4: ascii('"IPv4"'),
  icmp: ascii('"ICMP"'),
  udp: ascii('"UDP"'),
  tcp: ascii('"TCP"'),
};

/** decode.ts's ICMP_NAMES, UNREACH_NAMES and PROTO_NAMES, as bytes. */
const ICMP_NAMES: (Uint8Array | undefined)[] = [];
ICMP_NAMES[0] = ascii('Echo (ping) reply');
ICMP_NAMES[3] = ascii('Destination unreachable');
ICMP_NAMES[8] = ascii('Echo (ping) request');
ICMP_NAMES[11] = ascii('Time-to-live exceeded');
const UNREACH_NAMES: (Uint8Array | undefined)[] = [];
UNREACH_NAMES[0] = ascii('Network unreachable');
UNREACH_NAMES[1] = ascii('Host unreachable');
UNREACH_NAMES[2] = ascii('Protocol unreachable');
UNREACH_NAMES[3] = ascii('Port unreachable');
UNREACH_NAMES[4] = ascii('Fragmentation needed');
UNREACH_NAMES[13] = ascii('Communication administratively filtered');
const PROTO_NAMES: (Uint8Array | undefined)[] = [];
PROTO_NAMES[1] = ascii('ICMP');
PROTO_NAMES[6] = ascii('TCP');
PROTO_NAMES[17] = ascii('UDP');
/** tcpFlagNames of every flag byte. */
const TCP_FLAGS: Uint8Array[] = Array.from({ length: 256 }, (_, i) => ascii(tcpFlagNames(i)));

/**
 * Bytes the fast path writes at most for a frame of `n` bytes: every field is bounded (the
 * longest variable part is a TCP info line), and nothing repeats per byte of the frame except
 * VLAN tags, at most one per 4 bytes.
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
    end = writeFast(w.bytes, w.length, frame);
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
function writeFast(b: Uint8Array, p: number, f: Uint8Array): number {
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
    p = put(b, p, K.protocol);
    p = put(b, p, PROTOCOL.arp);
    p = put(b, p, K.src);
    p = putMac(b, p, f, 6);
    p = put(b, p, K.dst);
    p = putMac(b, p, f, 0);
    p = put(b, p, K.info);
    if (request) {
      p = put(b, p, K.whoHas);
      p = putIp(b, p, f, off + 24);
      p = put(b, p, K.tell);
      p = putIp(b, p, f, off + 14);
    } else {
      p = putIp(b, p, f, off + 14);
      p = put(b, p, K.isAt);
      p = putMac(b, p, f, off + 8);
    }
    p = put(b, p, K.layers);
    p = writeEthernet(b, p, f, tags, type);
    p = put(b, p, K.arp);
    p = put(b, p, request ? K.request : K.reply);
    p = put(b, p, K.senderMac);
    p = putMac(b, p, f, off + 8);
    p = put(b, p, K.senderIp);
    p = putIp(b, p, f, off + 14);
    p = put(b, p, K.targetMac);
    p = putMac(b, p, f, off + 18);
    p = put(b, p, K.targetIp);
    p = putIp(b, p, f, off + 24);
    p = put(b, p, K.closeStr);
    b[p] = 0x5d;
    return p + 1;
  }
  if (type !== 0x0800) {
    p = put(b, p, K.protocol);
    p = put(b, p, PROTOCOL.ethernet);
    p = put(b, p, K.src);
    p = putMac(b, p, f, 6);
    p = put(b, p, K.dst);
    p = putMac(b, p, f, 0);
    p = put(b, p, K.info);
    p = put(b, p, K.ethertype);
    p = putHex(b, p, type, 4);
    p = put(b, p, K.layers);
    p = writeEthernet(b, p, f, tags, type);
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

  p = put(b, p, K.protocol);
  p = put(b, p, l4 === 1 ? PROTOCOL.icmp : l4 === 17 ? PROTOCOL.udp : l4 === 6 ? PROTOCOL.tcp : PROTOCOL.ipv4);
  p = put(b, p, K.src);
  p = putIp(b, p, f, off + 12);
  p = put(b, p, K.dst);
  p = putIp(b, p, f, off + 16);
  p = put(b, p, K.info);
  // The info line, then the layers; L4 fields are read twice rather than kept in variables
  // for every protocol.
  let icmpType = 0;
  let icmpCode = 0;
  let echo = false;
  if (fragment) {
    p = put(b, p, K.fragmented);
    // `proto=${PROTO_NAMES[p] ?? p} ${p}`: the number twice when the protocol has no name.
    const name = PROTO_NAMES[proto];
    p = name ? put(b, p, name) : putUint(b, p, proto);
    b[p++] = 0x20;
    p = putUint(b, p, proto);
    p = put(b, p, K.off);
    p = putUint(b, p, fragmentOffset);
    p = put(b, p, K.fragId);
    p = putHexDigits(b, p, ipId, 1);
    b[p++] = 0x29;
  } else if (l4 === 1) {
    icmpType = f[po]!;
    icmpCode = f[po + 1]!;
    echo = icmpType === 0 || icmpType === 8;
    const name = ICMP_NAMES[icmpType];
    if (name) p = put(b, p, name);
    else {
      p = put(b, p, K.typeInfo);
      p = putUint(b, p, icmpType);
    }
    if (icmpType === 3) {
      b[p] = 0x20;
      b[p + 1] = 0x28;
      p += 2;
      const u = UNREACH_NAMES[icmpCode];
      if (u) p = put(b, p, u);
      else {
        p = put(b, p, K.codeInfo);
        p = putUint(b, p, icmpCode);
      }
      b[p++] = 0x29;
    }
    if (echo) {
      p = put(b, p, K.idInfo);
      p = putHex(b, p, (f[po + 4]! << 8) | f[po + 5]!, 4);
      p = put(b, p, K.seqInfo);
      p = putUint(b, p, (f[po + 6]! << 8) | f[po + 7]!);
      p = put(b, p, K.ttlInfo);
      p = putUint(b, p, ttl);
    }
  } else if (l4 === 17) {
    p = putUint(b, p, (f[po]! << 8) | f[po + 1]!);
    p = put(b, p, K.arrow);
    p = putUint(b, p, (f[po + 2]! << 8) | f[po + 3]!);
    p = put(b, p, K.len);
    p = putUint(b, p, ((f[po + 4]! << 8) | f[po + 5]!) - 8);
  } else if (l4 === 6) {
    p = writeTcpInfo(b, p, f, po, plen, tcpHeader);
  } else {
    p = put(b, p, K.ipProtocolInfo);
    p = putUint(b, p, proto);
  }

  p = put(b, p, K.layers);
  p = writeEthernet(b, p, f, tags, type);
  p = put(b, p, K.ipv4);
  p = putIp(b, p, f, off + 12);
  p = put(b, p, K.dst);
  p = putIp(b, p, f, off + 16);
  p = put(b, p, K.ttl);
  p = putUint(b, p, ttl);
  p = put(b, p, K.ipProtocol);
  p = putUint(b, p, proto);
  p = put(b, p, K.id);
  p = putHex(b, p, ipId, 4);
  p = put(b, p, K.ipLength);
  p = putUint(b, p, total);
  p = put(b, p, K.flags);
  if (df) p = put(b, p, K.df);
  if (mf) p = put(b, p, K.mf);
  p = put(b, p, K.fragmentOffset);
  p = putUint(b, p, fragmentOffset);
  p = put(b, p, onesSum(f, off, ihl) === 0xffff ? K.checksumOk : K.checksumBad);

  if (l4 === 1) {
    p = put(b, p, K.icmp);
    p = putUint(b, p, icmpType);
    p = put(b, p, K.code);
    p = putUint(b, p, icmpCode);
    if (echo) {
      p = put(b, p, K.icmpId);
      p = putUint(b, p, (f[po + 4]! << 8) | f[po + 5]!);
      p = put(b, p, K.seq);
      p = putUint(b, p, (f[po + 6]! << 8) | f[po + 7]!);
    }
    p = put(b, p, onesSum(f, po, plen) === 0xffff ? K.checksumOk : K.checksumBad);
  } else if (l4 === 17) {
    p = put(b, p, K.udp);
    p = putUint(b, p, (f[po]! << 8) | f[po + 1]!);
    p = put(b, p, K.dstPort);
    p = putUint(b, p, (f[po + 2]! << 8) | f[po + 3]!);
    p = put(b, p, K.length);
    p = putUint(b, p, (f[po + 4]! << 8) | f[po + 5]!);
    p = put(b, p, K.close);
  } else if (l4 === 6) {
    const flags = f[po + 13]!;
    p = put(b, p, K.tcp);
    p = putUint(b, p, (f[po]! << 8) | f[po + 1]!);
    p = put(b, p, K.dstPort);
    p = putUint(b, p, (f[po + 2]! << 8) | f[po + 3]!);
    p = put(b, p, K.tcpSeq);
    p = putUint(b, p, u32(f, po + 4));
    p = put(b, p, K.tcpAck);
    p = putUint(b, p, u32(f, po + 8));
    p = put(b, p, K.tcpFlags);
    p = put(b, p, TCP_FLAGS[flags]!);
    p = put(b, p, K.window);
    p = putUint(b, p, (f[po + 14]! << 8) | f[po + 15]!);
    p = put(b, p, K.length);
    p = putUint(b, p, plen - tcpHeader);
    p = put(b, p, K.close);
  }
  b[p] = 0x5d;
  return p + 1;
}

function u32(f: Uint8Array, o: number): number {
  return ((f[o]! << 24) | (f[o + 1]! << 16) | (f[o + 2]! << 8) | f[o + 3]!) >>> 0;
}

/** `{"name":"Ethernet II",...}` and one layer per tag; `type` is the EtherType after the tags. */
function writeEthernet(b: Uint8Array, p: number, f: Uint8Array, tags: number, type: number): number {
  p = put(b, p, K.ethernet);
  p = putMac(b, p, f, 0);
  p = put(b, p, K.ethSrc);
  p = putMac(b, p, f, 6);
  p = put(b, p, K.ethType);
  p = putHex(b, p, type, 4);
  p = put(b, p, K.closeStr);
  for (let i = 0, o = 12; i < tags; i++, o += 4) {
    const tci = (f[o + 2]! << 8) | f[o + 3]!;
    p = put(b, p, f[o] === 0x88 ? K.dot1ad : K.dot1q);
    p = putUint(b, p, tci & 0x0fff);
    p = put(b, p, K.pcp);
    p = putUint(b, p, tci >>> 13);
    p = put(b, p, K.dei);
    p = putUint(b, p, (tci >>> 12) & 1);
    p = put(b, p, K.close);
  }
  return p;
}

/** decode.ts's TCP info line; options (rare outside SYNs) are read with the codec. */
function writeTcpInfo(b: Uint8Array, p: number, f: Uint8Array, po: number, plen: number, header: number): number {
  const flags = f[po + 13]!;
  p = putUint(b, p, (f[po]! << 8) | f[po + 1]!);
  p = put(b, p, K.arrow);
  p = putUint(b, p, (f[po + 2]! << 8) | f[po + 3]!);
  b[p] = 0x20;
  b[p + 1] = 0x5b;
  p = put(b, p + 2, TCP_FLAGS[flags]!);
  p = put(b, p, K.seqInfo2);
  p = putUint(b, p, u32(f, po + 4));
  if (flags & 0x10) {
    p = put(b, p, K.ackInfo);
    p = putUint(b, p, u32(f, po + 8));
  }
  p = put(b, p, K.win);
  p = putUint(b, p, (f[po + 14]! << 8) | f[po + 15]!);
  p = put(b, p, K.len);
  p = putUint(b, p, plen - header);
  if (header > 20) {
    // Throws a DecodeError for a bad option area: the caller then takes decodeFrame's way.
    const options = decodeTcpOptions(f, po + 20, header - 20);
    const mss = tcpOption(options, 'mss');
    if (mss && flags & 0x02) {
      p = put(b, p, K.mss);
      p = putUint(b, p, mss.mss);
    }
    const ws = tcpOption(options, 'wscale');
    if (ws) {
      // 2 ** shift is written in exponent notation past 2^52: decodeFrame's business.
      if (ws.shift > 52) throw new RangeError('window scale beyond integers');
      p = put(b, p, K.ws);
      p = putUint(b, p, 2 ** ws.shift);
    }
    if (tcpOption(options, 'sackPermitted')) p = put(b, p, K.sackPerm);
  }
  return p;
}
