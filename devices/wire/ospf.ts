/**
 * OSPFv2 packets (RFC 2328 appendix A.3, authentication from appendix D): the 24-byte header and
 * the Hello, Database Description, Link State Request, Link State Update and Link State
 * Acknowledgement bodies. The packet is the payload of an IPv4 datagram, protocol 89.
 *
 * Two levels, as the other codecs: decodeOspfHeader and the decode*View functions read in place and
 * return offsets (what a router does per packet), offset readers walk the lists; decodeOspfPacket
 * and encodeOspf use a whole-object model for origination, tools and tests. LSAs are in ospf-lsa.ts.
 */
import { onesSum, put16, put32, u16, u32 } from './bytes.js';
import { DecodeError, EncodeError, need, room } from './errors.js';
import { md5WithKey } from './md5.js';
import {
  LSA_HEADER_LENGTH,
  decodeLsa,
  decodeLsaHeader,
  encodeLsa,
  encodeLsaHeader,
  lsaEncodingLength,
  lsaLength,
  type Lsa,
  type LsaHeader,
} from './ospf-lsa.js';

const LAYER = 'ospf';
export const IPPROTO_OSPF = 89;
export const ALL_SPF_ROUTERS = 0xe000_0005;
export const ALL_D_ROUTERS = 0xe000_0006;
export const OSPF_VERSION = 2;
export const OSPF_HEADER_LENGTH = 24;
export const OSPF_TYPE = { HELLO: 1, DD: 2, LSR: 3, LSU: 4, LSACK: 5 } as const;
export const OSPF_AUTH = { NULL: 0, SIMPLE: 1, CRYPTO: 2 } as const;
/** The Options field (A.2; N/P from RFC 3101, O from RFC 5250). */
export const OSPF_OPTION = { MT: 0x01, E: 0x02, MC: 0x04, NP: 0x08, EA: 0x10, DC: 0x20, O: 0x40, DN: 0x80 } as const;
/** Database Description flags (A.3.3). */
export const DD_FLAG = { MS: 0x01, M: 0x02, I: 0x04 } as const;
export const OSPF_MD5_LENGTH = 16;
const HELLO_FIXED = 20;
const DD_FIXED = 8;
const LSR_ENTRY = 12;

export interface OspfHeader {
  version: number;
  type: number;
  /** The length field: header and body, not the MD5 digest that follows. */
  length: number;
  routerId: number;
  areaId: number;
  checksum: number;
  auType: number;
  /** Absolute offset of the 8-byte authentication field. */
  authOffset: number;
  /** AuType 2 fields (A.3.1); 0 otherwise. */
  keyId: number;
  authDataLength: number;
  /** Unsigned; RFC 2328 D.5 wants it non-decreasing per key. */
  cryptoSequence: number;
  bodyOffset: number;
  bodyLength: number;
  /** AuType 2: absolute offset of the digest after the packet; -1 otherwise. */
  digestOffset: number;
}

// Offset readers for demultiplexing: no allocation, no checks.
export function ospfType(b: Uint8Array, o: number): number {
  return b[o + 1]!;
}
export function ospfLength(b: Uint8Array, o: number): number {
  return u16(b, o + 2);
}
export function ospfRouterId(b: Uint8Array, o: number): number {
  return u32(b, o + 4);
}
export function ospfAreaId(b: Uint8Array, o: number): number {
  return u32(b, o + 8);
}
export function ospfAuType(b: Uint8Array, o: number): number {
  return u16(b, o + 14);
}

/**
 * Decodes the header of the packet at buf[offset..offset+length) (the IPv4 payload) and checks
 * what A.3.1 and D.3 fix: version 2, a known type, a length field that fits, and for AuType 2 a
 * 16-byte digest present after it. Checksum and authentication are separate checks.
 */
export function decodeOspfHeader(buf: Uint8Array, offset = 0, length = buf.length - offset): OspfHeader {
  need(LAYER, buf, offset, length);
  if (length < OSPF_HEADER_LENGTH) throw new DecodeError(LAYER, `packet of ${length} bytes is shorter than the header`, offset);
  const version = buf[offset]!;
  if (version !== OSPF_VERSION) throw new DecodeError(LAYER, `version ${version}`, offset);
  const type = buf[offset + 1]!;
  if (type < OSPF_TYPE.HELLO || type > OSPF_TYPE.LSACK) throw new DecodeError(LAYER, `packet type ${type}`, offset + 1);
  const len = u16(buf, offset + 2);
  if (len < OSPF_HEADER_LENGTH || len > length) throw new DecodeError(LAYER, `length field ${len} for ${length} bytes`, offset + 2);
  const auType = u16(buf, offset + 14);
  let keyId = 0;
  let authDataLength = 0;
  let cryptoSequence = 0;
  let digestOffset = -1;
  if (auType === OSPF_AUTH.CRYPTO) {
    keyId = buf[offset + 18]!;
    authDataLength = buf[offset + 19]!;
    cryptoSequence = u32(buf, offset + 20);
    if (authDataLength !== OSPF_MD5_LENGTH) throw new DecodeError(LAYER, `auth data length ${authDataLength}`, offset + 19);
    if (len + OSPF_MD5_LENGTH > length) throw new DecodeError(LAYER, 'MD5 digest missing after the packet', offset + len);
    digestOffset = offset + len;
  }
  return {
    version,
    type,
    length: len,
    routerId: u32(buf, offset + 4),
    areaId: u32(buf, offset + 8),
    checksum: u16(buf, offset + 12),
    auType,
    authOffset: offset + 16,
    keyId,
    authDataLength,
    cryptoSequence,
    bodyOffset: offset + OSPF_HEADER_LENGTH,
    bodyLength: len - OSPF_HEADER_LENGTH,
    digestOffset,
  };
}

/** The IP-style checksum over the packet without its 64-bit authentication field (D.4.1). */
function ospfSum(b: Uint8Array, o: number, len: number): number {
  return ~onesSum(b, o + 24, len - 24, onesSum(b, o, 16)) & 0xffff;
}

/**
 * True when the checksum of the packet at `offset` is right. AuType 2 packets carry no checksum
 * (D.4.3: the digest protects them), so for them the answer is true.
 */
export function ospfChecksumOk(b: Uint8Array, offset: number): boolean {
  const len = u16(b, offset + 2);
  if (len < OSPF_HEADER_LENGTH || offset + len > b.length) return false;
  if (u16(b, offset + 14) === OSPF_AUTH.CRYPTO) return true;
  return ospfSum(b, offset, len) === 0;
}

const digest = new Uint8Array(16);

/**
 * Checks the authentication of a decoded packet against a password (AuType 1) or an MD5 key
 * (AuType 2). AuType 0 is right when `key` is null. The sequence-number check of D.5 needs the
 * neighbour's state and stays with the caller.
 */
export function ospfAuthOk(b: Uint8Array, h: OspfHeader, key: Uint8Array | null): boolean {
  if (h.auType === OSPF_AUTH.NULL) return key === null;
  if (key === null) return false;
  if (h.auType === OSPF_AUTH.SIMPLE) {
    for (let i = 0; i < 8; i++) if (b[h.authOffset + i] !== (i < key.length ? key[i] : 0)) return false;
    return true;
  }
  if (h.auType !== OSPF_AUTH.CRYPTO) return false;
  const start = h.authOffset - 16;
  md5WithKey(b, start, h.length, key, digest, 0);
  for (let i = 0; i < 16; i++) if (b[h.digestOffset + i] !== digest[i]) return false;
  return true;
}

// ---- body views ----

const TYPE_NAME = ['', 'Hello', 'DD', 'LSR', 'LSU', 'LSAck'];

/** Checks a view's packet type and that its body is `fixed` bytes plus whole `unit`-byte entries; returns how many. */
function entriesOf(h: OspfHeader, type: number, fixed: number, unit: number): number {
  if (h.type !== type) throw new DecodeError(LAYER, `type ${h.type} is not ${TYPE_NAME[type]}`, h.bodyOffset - OSPF_HEADER_LENGTH + 1);
  const n = h.bodyLength - fixed;
  if (n < 0 || n % unit) throw new DecodeError(LAYER, `${TYPE_NAME[type]} body of ${h.bodyLength} bytes`, h.bodyOffset);
  return n / unit;
}

/** The fixed part of a Hello (A.3.2), shared by the view and the object model. */
export interface HelloFields {
  networkMask: number;
  helloInterval: number;
  options: number;
  priority: number;
  deadInterval: number;
  dr: number;
  bdr: number;
}
export interface HelloView extends HelloFields {
  neighborCount: number;
  /** Absolute offset of the first neighbour's router ID; the rest follow every 4 bytes. */
  neighborsOffset: number;
}
export function decodeHelloView(b: Uint8Array, h: OspfHeader): HelloView {
  const neighborCount = entriesOf(h, OSPF_TYPE.HELLO, HELLO_FIXED, 4);
  const o = h.bodyOffset;
  return {
    networkMask: u32(b, o),
    helloInterval: u16(b, o + 4),
    options: b[o + 6]!,
    priority: b[o + 7]!,
    deadInterval: u32(b, o + 8),
    dr: u32(b, o + 12),
    bdr: u32(b, o + 16),
    neighborCount,
    neighborsOffset: o + HELLO_FIXED,
  };
}
export function helloNeighborAt(b: Uint8Array, v: HelloView, i: number): number {
  return u32(b, v.neighborsOffset + 4 * i);
}

/** The fixed part of a Database Description (A.3.3). */
export interface DdFields {
  mtu: number;
  options: number;
  /** DD_FLAG bits. */
  flags: number;
  sequence: number;
}
export interface DdView extends DdFields {
  lsaHeaderCount: number;
  /** Absolute offset of the first 20-byte LSA header (read them with the ospf-lsa.ts readers). */
  lsaHeadersOffset: number;
}
export function decodeDdView(b: Uint8Array, h: OspfHeader): DdView {
  const lsaHeaderCount = entriesOf(h, OSPF_TYPE.DD, DD_FIXED, LSA_HEADER_LENGTH);
  const o = h.bodyOffset;
  return {
    mtu: u16(b, o),
    options: b[o + 2]!,
    flags: b[o + 3]!,
    sequence: u32(b, o + 4),
    lsaHeaderCount,
    lsaHeadersOffset: o + DD_FIXED,
  };
}

/** Where a list of fixed-size entries lies: LSR entries, LSAck headers, LSU LSAs. */
export interface ListView {
  count: number;
  /** Absolute offset of the first entry. */
  offset: number;
}
export function decodeLsrView(_b: Uint8Array, h: OspfHeader): ListView {
  return { count: entriesOf(h, OSPF_TYPE.LSR, 0, LSR_ENTRY), offset: h.bodyOffset };
}
/** The i-th request of an LSR: LS type, Link State ID, Advertising Router. */
export function lsrTypeAt(b: Uint8Array, v: ListView, i: number): number {
  return u32(b, v.offset + LSR_ENTRY * i);
}
export function lsrLinkStateIdAt(b: Uint8Array, v: ListView, i: number): number {
  return u32(b, v.offset + LSR_ENTRY * i + 4);
}
export function lsrAdvertisingRouterAt(b: Uint8Array, v: ListView, i: number): number {
  return u32(b, v.offset + LSR_ENTRY * i + 8);
}
export function decodeLsAckView(_b: Uint8Array, h: OspfHeader): ListView {
  return { count: entriesOf(h, OSPF_TYPE.LSACK, 0, LSA_HEADER_LENGTH), offset: h.bodyOffset };
}
/**
 * An LSU: `count` LSAs from `offset`, each as long as its header says. Every LSA is checked to fit
 * the packet here, so a walk with lsaLength() afterwards stays in bounds; bodies are decoded on demand.
 */
export function decodeLsuView(b: Uint8Array, h: OspfHeader): ListView {
  entriesOf(h, OSPF_TYPE.LSU, 4, 1);
  const count = u32(b, h.bodyOffset);
  const end = h.bodyOffset + h.bodyLength;
  let o = h.bodyOffset + 4;
  for (let i = 0; i < count; i++) {
    if (o + LSA_HEADER_LENGTH > end) throw new DecodeError(LAYER, `LSA ${i} of ${count} overruns the LSU`, o);
    const len = lsaLength(b, o);
    if (len < LSA_HEADER_LENGTH || o + len > end) throw new DecodeError(LAYER, `LSA ${i} length ${len} does not fit the LSU`, o + 18);
    o += len;
  }
  return { count, offset: h.bodyOffset + 4 };
}

// ---- whole-packet model ----

export type OspfAuth =
  | { type: typeof OSPF_AUTH.NULL }
  | { type: typeof OSPF_AUTH.SIMPLE; /** Up to 8 bytes, zero-padded on the wire. */ password: Uint8Array }
  | {
      type: typeof OSPF_AUTH.CRYPTO;
      keyId: number;
      sequence: number;
      /** Up to 16 bytes; needed to encode. A decoded packet has none (the digest is not reversible). */
      key?: Uint8Array;
    };

export interface LsaKey {
  type: number;
  linkStateId: number;
  advertisingRouter: number;
}
export interface HelloBody extends HelloFields {
  type: typeof OSPF_TYPE.HELLO;
  neighbors: number[];
}
export interface DdBody extends DdFields {
  type: typeof OSPF_TYPE.DD;
  lsaHeaders: LsaHeader[];
}
export interface LsrBody {
  type: typeof OSPF_TYPE.LSR;
  requests: LsaKey[];
}
export interface LsuBody {
  type: typeof OSPF_TYPE.LSU;
  /** Objects are encoded (checksum computed); byte arrays are copied as they are (flooding). */
  lsas: (Lsa | Uint8Array)[];
}
export interface LsAckBody {
  type: typeof OSPF_TYPE.LSACK;
  lsaHeaders: LsaHeader[];
}
export type OspfBody = HelloBody | DdBody | LsrBody | LsuBody | LsAckBody;

export interface OspfPacket {
  routerId: number;
  areaId: number;
  auth: OspfAuth;
  body: OspfBody;
}

function lsaHeaders(b: Uint8Array, o: number, count: number): LsaHeader[] {
  const out: LsaHeader[] = [];
  for (let i = 0; i < count; i++) out.push(decodeLsaHeader(b, o + i * LSA_HEADER_LENGTH));
  return out;
}

/** Decodes a whole packet into the object model (allocates; the views above do not). */
export function decodeOspfPacket(buf: Uint8Array, offset = 0, length = buf.length - offset): OspfPacket {
  const h = decodeOspfHeader(buf, offset, length);
  let auth: OspfAuth;
  if (h.auType === OSPF_AUTH.NULL) auth = { type: OSPF_AUTH.NULL };
  else if (h.auType === OSPF_AUTH.SIMPLE) auth = { type: OSPF_AUTH.SIMPLE, password: buf.subarray(h.authOffset, h.authOffset + 8) };
  else if (h.auType === OSPF_AUTH.CRYPTO) auth = { type: OSPF_AUTH.CRYPTO, keyId: h.keyId, sequence: h.cryptoSequence };
  else throw new DecodeError(LAYER, `AuType ${h.auType}`, offset + 14);
  let body: OspfBody;
  switch (h.type) {
    case OSPF_TYPE.HELLO: {
      const v = decodeHelloView(buf, h);
      const neighbors: number[] = [];
      for (let i = 0; i < v.neighborCount; i++) neighbors.push(helloNeighborAt(buf, v, i));
      const { neighborCount: _n, neighborsOffset: _o, ...fixed } = v;
      body = { type: OSPF_TYPE.HELLO, ...fixed, neighbors };
      break;
    }
    case OSPF_TYPE.DD: {
      const v = decodeDdView(buf, h);
      body = { type: OSPF_TYPE.DD, mtu: v.mtu, options: v.options, flags: v.flags, sequence: v.sequence, lsaHeaders: lsaHeaders(buf, v.lsaHeadersOffset, v.lsaHeaderCount) };
      break;
    }
    case OSPF_TYPE.LSR: {
      const v = decodeLsrView(buf, h);
      const requests: LsaKey[] = [];
      for (let i = 0; i < v.count; i++) requests.push({ type: lsrTypeAt(buf, v, i), linkStateId: lsrLinkStateIdAt(buf, v, i), advertisingRouter: lsrAdvertisingRouterAt(buf, v, i) });
      body = { type: OSPF_TYPE.LSR, requests };
      break;
    }
    case OSPF_TYPE.LSU: {
      const v = decodeLsuView(buf, h);
      const lsas: Lsa[] = [];
      for (let i = 0, o = v.offset; i < v.count; i++, o += lsaLength(buf, o)) lsas.push(decodeLsa(buf, o));
      body = { type: OSPF_TYPE.LSU, lsas };
      break;
    }
    default: {
      const v = decodeLsAckView(buf, h);
      body = { type: OSPF_TYPE.LSACK, lsaHeaders: lsaHeaders(buf, v.offset, v.count) };
    }
  }
  return { routerId: h.routerId, areaId: h.areaId, auth, body };
}

function bodyLength(body: OspfBody): number {
  switch (body.type) {
    case OSPF_TYPE.HELLO:
      return HELLO_FIXED + 4 * body.neighbors.length;
    case OSPF_TYPE.DD:
      return DD_FIXED + LSA_HEADER_LENGTH * body.lsaHeaders.length;
    case OSPF_TYPE.LSR:
      return LSR_ENTRY * body.requests.length;
    case OSPF_TYPE.LSU:
      return 4 + body.lsas.reduce((s, l) => s + (l instanceof Uint8Array ? l.length : lsaEncodingLength(l)), 0);
    case OSPF_TYPE.LSACK:
      return LSA_HEADER_LENGTH * body.lsaHeaders.length;
  }
}

/** Bytes encodeOspf writes: the OSPF length plus, for AuType 2, the digest (the IP payload length). */
export function ospfEncodingLength(p: OspfPacket): number {
  return OSPF_HEADER_LENGTH + bodyLength(p.body) + (p.auth.type === OSPF_AUTH.CRYPTO ? OSPF_MD5_LENGTH : 0);
}

function encodeBody(body: OspfBody, buf: Uint8Array, o: number): void {
  switch (body.type) {
    case OSPF_TYPE.HELLO:
      put32(buf, o, body.networkMask);
      put16(buf, o + 4, body.helloInterval);
      buf[o + 6] = body.options;
      buf[o + 7] = body.priority;
      put32(buf, o + 8, body.deadInterval);
      put32(buf, o + 12, body.dr);
      put32(buf, o + 16, body.bdr);
      body.neighbors.forEach((n, i) => put32(buf, o + HELLO_FIXED + 4 * i, n));
      return;
    case OSPF_TYPE.DD:
      put16(buf, o, body.mtu);
      buf[o + 2] = body.options;
      buf[o + 3] = body.flags;
      put32(buf, o + 4, body.sequence);
      body.lsaHeaders.forEach((lh, i) => encodeLsaHeader(lh, buf, o + DD_FIXED + LSA_HEADER_LENGTH * i));
      return;
    case OSPF_TYPE.LSR:
      body.requests.forEach((r, i) => {
        put32(buf, o + LSR_ENTRY * i, r.type);
        put32(buf, o + LSR_ENTRY * i + 4, r.linkStateId);
        put32(buf, o + LSR_ENTRY * i + 8, r.advertisingRouter);
      });
      return;
    case OSPF_TYPE.LSU: {
      put32(buf, o, body.lsas.length);
      let p = o + 4;
      for (const l of body.lsas) {
        if (l instanceof Uint8Array) {
          buf.set(l, p);
          p += l.length;
        } else p += encodeLsa(l, buf, p);
      }
      return;
    }
    case OSPF_TYPE.LSACK:
      body.lsaHeaders.forEach((lh, i) => encodeLsaHeader(lh, buf, o + LSA_HEADER_LENGTH * i));
  }
}

/**
 * Writes the packet at `offset`: header, body, checksum and authentication as RFC 2328 D.4 orders
 * them (checksum over the packet with the auth field left out; for AuType 2 no checksum, the
 * digest of packet + key appended). Returns the bytes written, digest included.
 */
export function encodeOspf(p: OspfPacket, buf: Uint8Array, offset = 0): number {
  const total = ospfEncodingLength(p);
  const len = OSPF_HEADER_LENGTH + bodyLength(p.body);
  if (len > 0xffff) throw new EncodeError(`ospf: packet of ${len} bytes does not fit the length field`);
  room(LAYER, buf, offset, total);
  buf[offset] = OSPF_VERSION;
  buf[offset + 1] = p.body.type;
  put16(buf, offset + 2, len);
  put32(buf, offset + 4, p.routerId);
  put32(buf, offset + 8, p.areaId);
  put16(buf, offset + 12, 0);
  put16(buf, offset + 14, p.auth.type);
  buf.fill(0, offset + 16, offset + 24);
  encodeBody(p.body, buf, offset + OSPF_HEADER_LENGTH);
  const auth = p.auth;
  if (auth.type === OSPF_AUTH.CRYPTO) {
    if (!auth.key) throw new EncodeError('ospf: AuType 2 needs the key to compute the digest');
    buf[offset + 18] = auth.keyId;
    buf[offset + 19] = OSPF_MD5_LENGTH;
    put32(buf, offset + 20, auth.sequence);
    md5WithKey(buf, offset, len, auth.key, buf, offset + len);
    return total;
  }
  put16(buf, offset + 12, ospfSum(buf, offset, len));
  if (auth.type === OSPF_AUTH.SIMPLE) buf.set(auth.password.subarray(0, 8), offset + 16);
  return total;
}
