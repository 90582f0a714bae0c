/**
 * Byte helpers shared by the codecs. Addresses travel as numbers so that the hot path can
 * compare and hash them without allocating: an IPv4 address is an unsigned 32-bit integer,
 * a MAC address is a 48-bit integer (exact in a double).
 */

export type Mac = number;
export type Ip4 = number;

export const MAC_BROADCAST: Mac = 0xffff_ffff_ffff;

export function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
export function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

export function macAt(b: Uint8Array, o: number): Mac {
  return ((b[o]! << 8) | b[o + 1]!) * 0x1_0000_0000 + (((b[o + 2]! << 24) | (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!) >>> 0);
}
export function putMac(b: Uint8Array, o: number, mac: Mac): void {
  const hi = Math.floor(mac / 0x1_0000_0000);
  const lo = mac >>> 0;
  b[o] = (hi >>> 8) & 0xff;
  b[o + 1] = hi & 0xff;
  put32(b, o + 2, lo);
}
/** True for group (multicast and broadcast) MACs: the I/G bit of the first octet. */
export function isGroupMac(mac: Mac): boolean {
  return (Math.floor(mac / 0x100_0000_0000) & 1) === 1;
}

export function macToString(mac: Mac): string {
  let s = '';
  for (let i = 5; i >= 0; i--) {
    const byte = Math.floor(mac / 2 ** (8 * i)) & 0xff;
    s += (byte < 16 ? '0' : '') + byte.toString(16) + (i ? ':' : '');
  }
  return s;
}
const MAC_RE = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i;
/** Parses "aa:bb:cc:dd:ee:ff" (or with dashes); returns null when it is not a MAC. */
export function parseMac(s: string): Mac | null {
  const m = MAC_RE.exec(s.trim());
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 6; i++) v = v * 256 + parseInt(m[i]!, 16);
  return v;
}

export function ip4At(b: Uint8Array, o: number): Ip4 {
  return u32(b, o);
}
export function ip4ToString(ip: Ip4): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}
const IP_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
/** Parses a dotted quad; returns null when it is not one. */
export function parseIp4(s: string): Ip4 | null {
  const m = IP_RE.exec(s.trim());
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255 || (m[i]!.length > 1 && m[i]![0] === '0')) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}
/** An address with a prefix length: an interface's address (host bits set) or a subnet. */
export interface Ip4Prefix {
  ip: Ip4;
  prefix: number;
}
/**
 * `address/length` with `parse` for the address and a length 0..max (host bits may be set); null
 * when it is not one. Shared by the IPv4 and IPv6 prefix parsers.
 */
export function parseAddressPrefix<T>(s: string, parse: (text: string) => T | null, max: number): { ip: T; prefix: number } | null {
  const t = s.trim();
  const slash = t.indexOf('/');
  if (slash < 0) return null;
  const ip = parse(t.slice(0, slash));
  const len = t.slice(slash + 1);
  // No more digits than `max` has: "/032" is refused as before.
  if (ip === null || !/^\d+$/.test(len) || len.length > String(max).length || Number(len) > max) return null;
  return { ip, prefix: Number(len) };
}
/**
 * Parses `10.0.0.1/24` (a dotted quad, `/`, a prefix length 0..32; host bits may be set); null
 * when it is not one. The one parser of this notation: lab/units.ts words its failures for users.
 */
export function parseIp4Prefix(s: string): Ip4Prefix | null {
  return parseAddressPrefix(s, parseIp4, 32);
}
/** `10.0.0.0/24`, or a bare address as its /32 (what a filter matches); null when it is neither. */
export function parseIp4OrPrefix(s: string): Ip4Prefix | null {
  if (s.includes('/')) return parseIp4Prefix(s);
  const ip = parseIp4(s);
  return ip === null ? null : { ip, prefix: 32 };
}
export function prefixToMask(len: number): Ip4 {
  return len === 0 ? 0 : (0xffff_ffff << (32 - len)) >>> 0;
}
/** Returns the prefix length of a contiguous mask, or -1 when the mask has holes. */
export function maskToPrefix(mask: Ip4): number {
  const inv = ~mask >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1;
  return Math.clz32(inv);
}

/**
 * RFC 1071 one's-complement sum over b[o..o+len), folded to 16 bits but not inverted,
 * so partial sums (pseudo-headers) can be added before the final complement.
 */
export function onesSum(b: Uint8Array, o: number, len: number, initial = 0): number {
  let sum = initial;
  const end = o + (len & ~1);
  for (let i = o; i < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (len & 1) sum += b[o + len - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
/** The Internet checksum of b[o..o+len) plus an optional partial sum: the value to store. */
export function checksum(b: Uint8Array, o: number, len: number, initial = 0): number {
  return ~onesSum(b, o, len, initial) & 0xffff;
}
/** Partial sum of the IPv4 pseudo-header used by UDP and TCP (RFC 768, RFC 9293 3.1). */
export function pseudoHeaderSum(src: Ip4, dst: Ip4, protocol: number, length: number): number {
  let sum = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
/**
 * RFC 1624 incremental update: the new checksum after a 16-bit word changed from `oldWord`
 * to `newWord`, HC' = ~(~HC + ~m + m').
 */
export function checksumAdjust(check: number, oldWord: number, newWord: number): number {
  let sum = (~check & 0xffff) + (~oldWord & 0xffff) + newWord;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Hex of bytes, for traces and tests. */
export function toHex(b: Uint8Array, o = 0, len = b.length - o): string {
  let s = '';
  for (let i = o; i < o + len; i++) s += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return s;
}
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[^0-9a-fA-F]/g, '');
  if (clean.length % 2) throw new Error('odd number of hex digits');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.substr(i * 2, 2), 16);
  return out;
}
