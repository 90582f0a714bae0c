/**
 * OSPFv2 link-state advertisements (RFC 2328 A.4, NSSA from RFC 3101): the 20-byte LSA header, the
 * bodies of types 1, 2, 3, 4, 5 and 7, the Fletcher checksum (RFC 2328 12.1.7, the ISO 8473 algorithm
 * RFC 905 annex B describes) and which of two instances is newer (RFC 2328 13.1).
 * Offset readers serve the flooding path without allocating; decodeLsa builds the full object for
 * the LSDB and tools. Other LSA types (opaque 9-11) keep their body as a view.
 */
import { put16, put32, u16, u32 } from './bytes.js';
import { DecodeError, EncodeError, need, room } from './errors.js';

const LAYER = 'ospf';
export const LSA_HEADER_LENGTH = 20;
export const LSA_TYPE = { ROUTER: 1, NETWORK: 2, SUMMARY: 3, ASBR_SUMMARY: 4, AS_EXTERNAL: 5, NSSA: 7 } as const;
/** Architectural constants of RFC 2328 appendix B, in seconds. */
export const MAX_AGE = 3600;
export const MAX_AGE_DIFF = 900;
export const LS_REFRESH_TIME = 1800;
/** Sequence numbers are signed 32-bit (RFC 2328 12.1.6). */
export const INITIAL_SEQUENCE_NUMBER = 0x8000_0001 | 0;
export const MAX_SEQUENCE_NUMBER = 0x7fff_ffff;
/** Router-LSA link types (A.4.2). */
export const ROUTER_LINK = { P2P: 1, TRANSIT: 2, STUB: 3, VIRTUAL: 4 } as const;
/** Router-LSA flag bits (A.4.2; Nt from RFC 3101). */
export const ROUTER_FLAG = { B: 0x01, E: 0x02, V: 0x04, NT: 0x10 } as const;

export interface LsaHeader {
  age: number;
  options: number;
  type: number;
  linkStateId: number;
  advertisingRouter: number;
  /** Signed, as RFC 2328 12.1.6 compares it. */
  sequence: number;
  checksum: number;
  /** Header plus body. */
  length: number;
}

/** A TOS-specific metric (RFC 2328 keeps the fields; TOS routing itself is gone). */
export interface TosMetric {
  tos: number;
  metric: number;
}
export interface RouterLink {
  linkId: number;
  linkData: number;
  type: number;
  metric: number;
  tos: TosMetric[];
}
export interface RouterLsaBody {
  kind: 'router';
  flags: number;
  links: RouterLink[];
}
export interface NetworkLsaBody {
  kind: 'network';
  mask: number;
  attachedRouters: number[];
}
/** Types 3 and 4; a type 4's mask is 0. */
export interface SummaryLsaBody {
  kind: 'summary';
  mask: number;
  metric: number;
  tos: TosMetric[];
}
export interface ExternalTos {
  tos: number;
  /** E bit: a type 2 external metric. */
  e: boolean;
  metric: number;
  forwardingAddress: number;
  routeTag: number;
}
/** Types 5 and 7: the same layout (RFC 3101 2.2). */
export interface ExternalLsaBody {
  kind: 'external';
  mask: number;
  e: boolean;
  metric: number;
  forwardingAddress: number;
  routeTag: number;
  tos: ExternalTos[];
}
export interface OpaqueLsaBody {
  kind: 'raw';
  /** A view into the decoded buffer. */
  bytes: Uint8Array;
}
export type LsaBody = RouterLsaBody | NetworkLsaBody | SummaryLsaBody | ExternalLsaBody | OpaqueLsaBody;

export interface Lsa {
  /** On encode, `length` and `checksum` are computed and these two fields are ignored. */
  header: LsaHeader;
  body: LsaBody;
}

// Offset readers for flooding and acknowledgement: no allocation, no checks.
export function lsaAge(b: Uint8Array, o: number): number {
  return u16(b, o);
}
export function lsaOptions(b: Uint8Array, o: number): number {
  return b[o + 2]!;
}
export function lsaType(b: Uint8Array, o: number): number {
  return b[o + 3]!;
}
export function lsaLinkStateId(b: Uint8Array, o: number): number {
  return u32(b, o + 4);
}
export function lsaAdvertisingRouter(b: Uint8Array, o: number): number {
  return u32(b, o + 8);
}
export function lsaSequence(b: Uint8Array, o: number): number {
  return u32(b, o + 12) | 0;
}
export function lsaChecksum(b: Uint8Array, o: number): number {
  return u16(b, o + 16);
}
export function lsaLength(b: Uint8Array, o: number): number {
  return u16(b, o + 18);
}
/** Sets the age in place (flooding adds InfTransDelay) without touching the checksum, which excludes it. */
export function setLsaAge(b: Uint8Array, o: number, age: number): void {
  put16(b, o, age);
}

export function decodeLsaHeader(buf: Uint8Array, offset = 0): LsaHeader {
  need(LAYER, buf, offset, LSA_HEADER_LENGTH);
  return {
    age: u16(buf, offset),
    options: buf[offset + 2]!,
    type: buf[offset + 3]!,
    linkStateId: u32(buf, offset + 4),
    advertisingRouter: u32(buf, offset + 8),
    sequence: u32(buf, offset + 12) | 0,
    checksum: u16(buf, offset + 16),
    length: u16(buf, offset + 18),
  };
}

/** Writes a header as given (checksum and length included): DD and LSAck packets carry headers. */
export function encodeLsaHeader(h: LsaHeader, buf: Uint8Array, offset = 0): number {
  room(LAYER, buf, offset, LSA_HEADER_LENGTH);
  put16(buf, offset, h.age);
  buf[offset + 2] = h.options;
  buf[offset + 3] = h.type;
  put32(buf, offset + 4, h.linkStateId);
  put32(buf, offset + 8, h.advertisingRouter);
  put32(buf, offset + 12, h.sequence >>> 0);
  put16(buf, offset + 16, h.checksum);
  put16(buf, offset + 18, h.length);
  return LSA_HEADER_LENGTH;
}

/**
 * The two Fletcher sums over the LSA at `offset` from its Options field (the age is excluded, so
 * ageing does not change the checksum) to its end: both 0 when the stored checksum is right.
 */
function fletcherSums(b: Uint8Array, offset: number, length: number, zeroChecksum: boolean): number {
  let c0 = 0;
  let c1 = 0;
  const end = offset + length;
  const ck = offset + 16;
  // Reducing every 4,102 bytes keeps the sums within 2^31 (the bound ISO 8473 and FRR use).
  let i = offset + 2;
  while (i < end) {
    const stop = Math.min(end, i + 4102);
    for (; i < stop; i++) {
      const v = zeroChecksum && (i === ck || i === ck + 1) ? 0 : b[i]!;
      c0 += v;
      c1 += c0;
    }
    c0 %= 255;
    c1 %= 255;
  }
  return (c1 << 8) | c0;
}

/** The checksum an LSA of `length` bytes at `offset` should carry (its stored checksum is ignored). */
export function lsaFletcher(b: Uint8Array, offset: number, length = lsaLength(b, offset)): number {
  need(LAYER, b, offset, length);
  if (length < LSA_HEADER_LENGTH) throw new DecodeError(LAYER, `LSA of ${length} bytes`, offset);
  const sums = fletcherSums(b, offset, length, true);
  const c0 = sums & 0xff;
  const c1 = sums >>> 8;
  // The checksum field is 15 bytes into the summed span (which starts at Options); n is the span length.
  const n = length - 2;
  let x = ((n - 14 - 1) * c0 - c1) % 255;
  if (x <= 0) x += 255;
  let y = 510 - c0 - x;
  if (y > 255) y -= 255;
  return (x << 8) | y;
}

/** True when the stored Fletcher checksum of the LSA at `offset` is right (RFC 2328 13 step 1). */
export function lsaChecksumOk(b: Uint8Array, offset: number): boolean {
  if (offset + LSA_HEADER_LENGTH > b.length) return false;
  const length = lsaLength(b, offset);
  if (length < LSA_HEADER_LENGTH || offset + length > b.length) return false;
  return fletcherSums(b, offset, length, false) === 0;
}

/** Computes and stores the checksum of a written LSA (after its age changes nothing needs redoing). */
export function lsaFillChecksum(b: Uint8Array, offset: number): number {
  const c = lsaFletcher(b, offset);
  put16(b, offset + 16, c);
  return c;
}

function tosMetrics(buf: Uint8Array, o: number, count: number, end: number, width: 2 | 3): TosMetric[] {
  if (o + count * 4 > end) throw new DecodeError(LAYER, `${count} TOS metrics overrun the LSA`, o);
  const out: TosMetric[] = [];
  for (let i = 0; i < count; i++, o += 4) {
    out.push({ tos: buf[o]!, metric: width === 2 ? u16(buf, o + 2) : u32(buf, o) & 0xff_ffff });
  }
  return out;
}

/** Decodes a whole LSA at `offset`, checking that its length fits and its body is well formed. */
export function decodeLsa(buf: Uint8Array, offset = 0): Lsa {
  const header = decodeLsaHeader(buf, offset);
  if (header.length < LSA_HEADER_LENGTH) throw new DecodeError(LAYER, `LSA length ${header.length}`, offset + 18);
  need(LAYER, buf, offset, header.length);
  const end = offset + header.length;
  let o = offset + LSA_HEADER_LENGTH;
  const bodyLen = end - o;
  const short = (min: number): void => {
    if (bodyLen < min) throw new DecodeError(LAYER, `type ${header.type} LSA body of ${bodyLen} bytes`, o);
  };
  switch (header.type) {
    case LSA_TYPE.ROUTER: {
      short(4);
      const flags = buf[o]!;
      const count = u16(buf, o + 2);
      o += 4;
      const links: RouterLink[] = [];
      for (let i = 0; i < count; i++) {
        if (o + 12 > end) throw new DecodeError(LAYER, `router-LSA link ${i} of ${count} overruns the LSA`, o);
        const tosCount = buf[o + 9]!;
        links.push({
          linkId: u32(buf, o),
          linkData: u32(buf, o + 4),
          type: buf[o + 8]!,
          metric: u16(buf, o + 10),
          tos: tosMetrics(buf, o + 12, tosCount, end, 2),
        });
        o += 12 + tosCount * 4;
      }
      if (o !== end) throw new DecodeError(LAYER, `router-LSA has ${end - o} bytes after its links`, o);
      return { header, body: { kind: 'router', flags, links } };
    }
    case LSA_TYPE.NETWORK: {
      short(4);
      if ((bodyLen - 4) % 4) throw new DecodeError(LAYER, `network-LSA body of ${bodyLen} bytes`, o);
      const attachedRouters: number[] = [];
      for (let p = o + 4; p < end; p += 4) attachedRouters.push(u32(buf, p));
      return { header, body: { kind: 'network', mask: u32(buf, o), attachedRouters } };
    }
    case LSA_TYPE.SUMMARY:
    case LSA_TYPE.ASBR_SUMMARY: {
      short(8);
      if (bodyLen % 4) throw new DecodeError(LAYER, `summary-LSA body of ${bodyLen} bytes`, o);
      return {
        header,
        body: { kind: 'summary', mask: u32(buf, o), metric: u32(buf, o + 4) & 0xff_ffff, tos: tosMetrics(buf, o + 8, (bodyLen - 8) / 4, end, 3) },
      };
    }
    case LSA_TYPE.AS_EXTERNAL:
    case LSA_TYPE.NSSA: {
      short(16);
      if ((bodyLen - 4) % 12) throw new DecodeError(LAYER, `AS-external-LSA body of ${bodyLen} bytes`, o);
      const tos: ExternalTos[] = [];
      for (let p = o + 16; p < end; p += 12) {
        tos.push({ tos: buf[p]! & 0x7f, e: (buf[p]! & 0x80) !== 0, metric: u32(buf, p) & 0xff_ffff, forwardingAddress: u32(buf, p + 4), routeTag: u32(buf, p + 8) });
      }
      return {
        header,
        body: {
          kind: 'external',
          mask: u32(buf, o),
          e: (buf[o + 4]! & 0x80) !== 0,
          metric: u32(buf, o + 4) & 0xff_ffff,
          forwardingAddress: u32(buf, o + 8),
          routeTag: u32(buf, o + 12),
          tos,
        },
      };
    }
    default:
      return { header, body: { kind: 'raw', bytes: buf.subarray(o, end) } };
  }
}

export function lsaBodyLength(body: LsaBody): number {
  switch (body.kind) {
    case 'router':
      return 4 + body.links.reduce((s, l) => s + 12 + 4 * l.tos.length, 0);
    case 'network':
      return 4 + 4 * body.attachedRouters.length;
    case 'summary':
      return 8 + 4 * body.tos.length;
    case 'external':
      return 16 + 12 * body.tos.length;
    case 'raw':
      return body.bytes.length;
  }
}
export function lsaEncodingLength(l: Lsa): number {
  return LSA_HEADER_LENGTH + lsaBodyLength(l.body);
}

function putMetric24(b: Uint8Array, o: number, top: number, metric: number): void {
  b[o] = top;
  b[o + 1] = (metric >>> 16) & 0xff;
  put16(b, o + 2, metric & 0xffff);
}

/** Writes the LSA with its length and Fletcher checksum computed; returns bytes written. */
export function encodeLsa(l: Lsa, buf: Uint8Array, offset = 0): number {
  const len = lsaEncodingLength(l);
  if (len > 0xffff) throw new EncodeError(`ospf: LSA of ${len} bytes does not fit the length field`);
  room(LAYER, buf, offset, len);
  encodeLsaHeader({ ...l.header, checksum: 0, length: len }, buf, offset);
  let o = offset + LSA_HEADER_LENGTH;
  const body = l.body;
  switch (body.kind) {
    case 'router':
      buf[o] = body.flags;
      buf[o + 1] = 0;
      put16(buf, o + 2, body.links.length);
      o += 4;
      for (const link of body.links) {
        put32(buf, o, link.linkId);
        put32(buf, o + 4, link.linkData);
        buf[o + 8] = link.type;
        buf[o + 9] = link.tos.length;
        put16(buf, o + 10, link.metric);
        o += 12;
        for (const t of link.tos) {
          buf[o] = t.tos;
          buf[o + 1] = 0;
          put16(buf, o + 2, t.metric);
          o += 4;
        }
      }
      break;
    case 'network':
      put32(buf, o, body.mask);
      o += 4;
      for (const r of body.attachedRouters) {
        put32(buf, o, r);
        o += 4;
      }
      break;
    case 'summary':
      put32(buf, o, body.mask);
      putMetric24(buf, o + 4, 0, body.metric);
      o += 8;
      for (const t of body.tos) {
        putMetric24(buf, o, t.tos, t.metric);
        o += 4;
      }
      break;
    case 'external':
      put32(buf, o, body.mask);
      putMetric24(buf, o + 4, body.e ? 0x80 : 0, body.metric);
      put32(buf, o + 8, body.forwardingAddress);
      put32(buf, o + 12, body.routeTag);
      o += 16;
      for (const t of body.tos) {
        putMetric24(buf, o, (t.e ? 0x80 : 0) | (t.tos & 0x7f), t.metric);
        put32(buf, o + 4, t.forwardingAddress);
        put32(buf, o + 8, t.routeTag);
        o += 12;
      }
      break;
    case 'raw':
      buf.set(body.bytes, o);
      break;
  }
  lsaFillChecksum(buf, offset);
  return len;
}

/** The fields RFC 2328 13.1 compares, taken from a decoded header or read in place. */
export type LsaInstance = Pick<LsaHeader, 'age' | 'sequence' | 'checksum'>;

/**
 * RFC 2328 13.1: 1 when `a` is the more recent instance of the same LSA, -1 when `b` is, 0 when
 * they count as identical. Order: sequence number (signed), then the larger checksum, then an
 * instance at MaxAge, then an age smaller by more than MaxAgeDiff.
 */
export function compareLsaInstances(a: LsaInstance, b: LsaInstance): -1 | 0 | 1 {
  return compareLsaFields(a.sequence | 0, a.checksum, a.age, b.sequence | 0, b.checksum, b.age);
}

/** compareLsaInstances over two LSA headers in buffers, without allocating. */
export function compareLsaAt(a: Uint8Array, ao: number, b: Uint8Array, bo: number): -1 | 0 | 1 {
  return compareLsaFields(lsaSequence(a, ao), lsaChecksum(a, ao), lsaAge(a, ao), lsaSequence(b, bo), lsaChecksum(b, bo), lsaAge(b, bo));
}

function compareLsaFields(sa: number, ca: number, ageA: number, sb: number, cb: number, ageB: number): -1 | 0 | 1 {
  if (sa !== sb) return sa > sb ? 1 : -1;
  if (ca !== cb) return ca > cb ? 1 : -1;
  const aMax = ageA >= MAX_AGE;
  const bMax = ageB >= MAX_AGE;
  if (aMax !== bMax) return aMax ? 1 : -1;
  if (Math.abs(ageA - ageB) > MAX_AGE_DIFF) return ageA < ageB ? 1 : -1;
  return 0;
}
