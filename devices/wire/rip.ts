/**
 * RIPv2 messages (RFC 2453 4), the UDP payload on port 520: a 4-byte header and 20-byte entries,
 * with the plain-text authentication entry (RFC 2453 4.1, type 2) and keyed MD5 (RFC 2082 /
 * RFC 4822, type 3: a first entry naming the trailer, and a trailer 0xFFFF 0x0001 + 16-byte digest).
 * RIPv1 messages (version 1) decode too: the same layout with the v2 fields zero.
 */
import { put16, put32, u16, u32 } from './bytes.js';
import { DecodeError, EncodeError, need, room } from './errors.js';
import { md5WithKey } from './md5.js';

const LAYER = 'rip';
export const RIP_PORT = 520;
export const RIP_MULTICAST = 0xe000_0009;
export const RIP_COMMAND = { REQUEST: 1, RESPONSE: 2 } as const;
export const RIP_AFI_INET = 2;
export const RIP_AFI_AUTH = 0xffff;
export const RIP_AUTH = { NONE: 0, PLAIN: 2, MD5: 3 } as const;
export const RIP_INFINITY = 16;
export const RIP_HEADER_LENGTH = 4;
export const RIP_ENTRY_LENGTH = 20;
/** The MD5 trailer: 0xFFFF, 0x0001, then the digest. */
export const RIP_MD5_TRAILER_LENGTH = 20;
/** Most entries one message carries (RFC 2453 4: 512-byte datagrams). */
export const RIP_MAX_ENTRIES = 25;

export interface RipHeader {
  command: number;
  version: number;
  /** RIP_AUTH value: NONE unless the first entry is an authentication entry. */
  authType: number;
  /** Absolute offset of the first entry, the authentication entry included. */
  entriesOffset: number;
  /** Route entries after the authentication entry (and before an MD5 trailer). */
  routeCount: number;
  /** Absolute offset of the first route entry. */
  routesOffset: number;
  /** MD5 fields (RFC 2082 3.2); 0 otherwise. */
  keyId: number;
  authDataLength: number;
  sequence: number;
  /** MD5: absolute offset of the trailer (0xFFFF 0x0001 digest); -1 otherwise. */
  trailerOffset: number;
}

// Offset readers for route entries: no allocation, no checks.
export function ripAfiAt(b: Uint8Array, o: number): number {
  return u16(b, o);
}
export function ripRouteTagAt(b: Uint8Array, o: number): number {
  return u16(b, o + 2);
}
export function ripAddressAt(b: Uint8Array, o: number): number {
  return u32(b, o + 4);
}
export function ripMaskAt(b: Uint8Array, o: number): number {
  return u32(b, o + 8);
}
export function ripNextHopAt(b: Uint8Array, o: number): number {
  return u32(b, o + 12);
}
export function ripMetricAt(b: Uint8Array, o: number): number {
  return u32(b, o + 16);
}

/**
 * Decodes the message at buf[offset..offset+length) (the UDP payload). Checks command, version
 * (not 0), whole entries and, for MD5, that the trailer is where the first entry says. Entry
 * contents (AFI, metric 1..16) are the receiver's to judge per entry, as RFC 2453 3.9.2 says.
 */
export function decodeRipHeader(buf: Uint8Array, offset = 0, length = buf.length - offset): RipHeader {
  need(LAYER, buf, offset, length);
  if (length < RIP_HEADER_LENGTH) throw new DecodeError(LAYER, `message of ${length} bytes`, offset);
  const command = buf[offset]!;
  if (command !== RIP_COMMAND.REQUEST && command !== RIP_COMMAND.RESPONSE) throw new DecodeError(LAYER, `command ${command}`, offset);
  const version = buf[offset + 1]!;
  if (version === 0) throw new DecodeError(LAYER, 'version 0', offset + 1);
  const entriesOffset = offset + RIP_HEADER_LENGTH;
  let end = offset + length;
  let authType: number = RIP_AUTH.NONE;
  let routesOffset = entriesOffset;
  let keyId = 0;
  let authDataLength = 0;
  let sequence = 0;
  let trailerOffset = -1;
  if (length >= RIP_HEADER_LENGTH + RIP_ENTRY_LENGTH && u16(buf, entriesOffset) === RIP_AFI_AUTH) {
    authType = u16(buf, entriesOffset + 2);
    routesOffset = entriesOffset + RIP_ENTRY_LENGTH;
    if (authType === RIP_AUTH.MD5) {
      const packetLength = u16(buf, entriesOffset + 4);
      keyId = buf[entriesOffset + 6]!;
      authDataLength = buf[entriesOffset + 7]!;
      sequence = u32(buf, entriesOffset + 8);
      if (packetLength < RIP_HEADER_LENGTH + RIP_ENTRY_LENGTH || packetLength + RIP_MD5_TRAILER_LENGTH > length) {
        throw new DecodeError(LAYER, `MD5 packet length ${packetLength} for ${length} bytes`, entriesOffset + 4);
      }
      trailerOffset = offset + packetLength;
      if (u16(buf, trailerOffset) !== RIP_AFI_AUTH || u16(buf, trailerOffset + 2) !== 1) throw new DecodeError(LAYER, 'MD5 trailer missing', trailerOffset);
      end = trailerOffset;
    }
  }
  if ((end - routesOffset) % RIP_ENTRY_LENGTH) throw new DecodeError(LAYER, `${end - entriesOffset} bytes are not whole entries`, entriesOffset);
  return {
    command,
    version,
    authType,
    entriesOffset,
    routeCount: (end - routesOffset) / RIP_ENTRY_LENGTH,
    routesOffset,
    keyId,
    authDataLength,
    sequence,
    trailerOffset,
  };
}

const digest = new Uint8Array(16);

/**
 * Checks a decoded message's authentication against `key` (the password or MD5 key); no
 * authentication is right when `key` is null. RFC 4822's sequence check stays with the caller.
 */
export function ripAuthOk(b: Uint8Array, h: RipHeader, key: Uint8Array | null): boolean {
  if (h.authType === RIP_AUTH.NONE) return key === null;
  if (key === null) return false;
  if (h.authType === RIP_AUTH.PLAIN) {
    for (let i = 0; i < 16; i++) if (b[h.entriesOffset + 4 + i] !== (i < key.length ? key[i] : 0)) return false;
    return true;
  }
  if (h.authType !== RIP_AUTH.MD5) return false;
  const start = h.entriesOffset - RIP_HEADER_LENGTH;
  md5WithKey(b, start, h.trailerOffset + 4 - start, key, digest, 0);
  for (let i = 0; i < 16; i++) if (b[h.trailerOffset + 4 + i] !== digest[i]) return false;
  return true;
}

// ---- whole-message model ----

export interface RipEntry {
  afi: number;
  routeTag: number;
  address: number;
  mask: number;
  nextHop: number;
  metric: number;
}
export type RipAuthData =
  | { type: typeof RIP_AUTH.NONE }
  | { type: typeof RIP_AUTH.PLAIN; /** Up to 16 bytes, zero-padded on the wire. */ password: Uint8Array }
  | {
      type: typeof RIP_AUTH.MD5;
      keyId: number;
      sequence: number;
      /** FRR 8.4 sends 20 (trailer header plus digest), others 16; the digest is 16 bytes either way. */
      authDataLength: number;
      /** Needed to encode; a decoded message has none. */
      key?: Uint8Array;
    };
export interface RipPacket {
  command: number;
  version: number;
  auth: RipAuthData;
  entries: RipEntry[];
}

export function ripEntryAt(b: Uint8Array, o: number): RipEntry {
  return { afi: u16(b, o), routeTag: u16(b, o + 2), address: u32(b, o + 4), mask: u32(b, o + 8), nextHop: u32(b, o + 12), metric: u32(b, o + 16) };
}

/** Decodes a whole message into the object model (allocates; decodeRipHeader does not). */
export function decodeRipPacket(buf: Uint8Array, offset = 0, length = buf.length - offset): RipPacket {
  const h = decodeRipHeader(buf, offset, length);
  const entries: RipEntry[] = [];
  for (let i = 0; i < h.routeCount; i++) entries.push(ripEntryAt(buf, h.routesOffset + i * RIP_ENTRY_LENGTH));
  let auth: RipAuthData;
  if (h.authType === RIP_AUTH.NONE) auth = { type: RIP_AUTH.NONE };
  else if (h.authType === RIP_AUTH.PLAIN) auth = { type: RIP_AUTH.PLAIN, password: buf.subarray(h.entriesOffset + 4, h.entriesOffset + 20) };
  else if (h.authType === RIP_AUTH.MD5) auth = { type: RIP_AUTH.MD5, keyId: h.keyId, sequence: h.sequence, authDataLength: h.authDataLength };
  else throw new DecodeError(LAYER, `authentication type ${h.authType}`, h.entriesOffset + 2);
  return { command: h.command, version: h.version, auth, entries };
}

export function ripEncodingLength(p: RipPacket): number {
  const auth = p.auth.type === RIP_AUTH.NONE ? 0 : RIP_ENTRY_LENGTH;
  const trailer = p.auth.type === RIP_AUTH.MD5 ? RIP_MD5_TRAILER_LENGTH : 0;
  return RIP_HEADER_LENGTH + auth + RIP_ENTRY_LENGTH * p.entries.length + trailer;
}

/** Writes the message at `offset`, the MD5 digest computed last; returns bytes written. */
export function encodeRip(p: RipPacket, buf: Uint8Array, offset = 0): number {
  const len = ripEncodingLength(p);
  room(LAYER, buf, offset, len);
  buf[offset] = p.command;
  buf[offset + 1] = p.version;
  put16(buf, offset + 2, 0);
  let o = offset + RIP_HEADER_LENGTH;
  const auth = p.auth;
  if (auth.type !== RIP_AUTH.NONE) {
    put16(buf, o, RIP_AFI_AUTH);
    put16(buf, o + 2, auth.type);
    buf.fill(0, o + 4, o + RIP_ENTRY_LENGTH);
    if (auth.type === RIP_AUTH.PLAIN) buf.set(auth.password.subarray(0, 16), o + 4);
    else {
      put16(buf, o + 4, len - RIP_MD5_TRAILER_LENGTH);
      buf[o + 6] = auth.keyId;
      buf[o + 7] = auth.authDataLength;
      put32(buf, o + 8, auth.sequence);
    }
    o += RIP_ENTRY_LENGTH;
  }
  for (const e of p.entries) {
    put16(buf, o, e.afi);
    put16(buf, o + 2, e.routeTag);
    put32(buf, o + 4, e.address);
    put32(buf, o + 8, e.mask);
    put32(buf, o + 12, e.nextHop);
    put32(buf, o + 16, e.metric);
    o += RIP_ENTRY_LENGTH;
  }
  if (auth.type === RIP_AUTH.MD5) {
    if (!auth.key) throw new EncodeError('rip: MD5 authentication needs the key to compute the digest');
    put16(buf, o, RIP_AFI_AUTH);
    put16(buf, o + 2, 1);
    md5WithKey(buf, offset, o + 4 - offset, auth.key, buf, o + 4);
  }
  return len;
}
