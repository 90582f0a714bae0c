/**
 * IPv6 addresses (RFC 4291): text per RFC 5952, interface identifiers from MACs (EUI-64, RFC 4291
 * appendix A), solicited-node groups and the 33:33 multicast MACs (RFC 2464 7). An address is a
 * 16-byte Uint8Array, or 16 bytes at an offset of a packet: the readers take (buffer, offset) so
 * the hot path compares and sums addresses in place without a view per packet.
 */
import { type Mac, parseAddressPrefix, parseIp4, put16, u16 } from './bytes.js';

/** 16 bytes, network order. */
export type Ip6 = Uint8Array;
export const IP6_LENGTH = 16;

export interface Ip6Prefix {
  ip: Ip6;
  prefix: number;
}

const HEX4 = /^[0-9a-f]{1,4}$/i;

/**
 * Parses RFC 4291 2.2 text: eight groups, `::` once, an optional dotted quad in the last 32 bits.
 * Zone indices (`%eth0`) are not addresses and are refused. Null when it is not an address.
 */
export function parseIp6(s: string): Ip6 | null {
  const t = s.trim();
  if (t.length < 2 || t.length > 45) return null;
  const dbl = t.indexOf('::');
  if (dbl >= 0 && t.indexOf('::', dbl + 1) >= 0) return null;
  const head = dbl >= 0 ? t.slice(0, dbl) : t;
  const tail = dbl >= 0 ? t.slice(dbl + 2) : '';
  const hp = head === '' ? [] : head.split(':');
  const tp = tail === '' ? [] : tail.split(':');
  const words: number[] = [];
  const last = dbl >= 0 ? tp : hp;
  // A dotted quad may end the text (::ffff:192.0.2.1): it stands for two groups.
  let v4: number | null = null;
  if (last.length > 0 && last[last.length - 1]!.includes('.')) {
    v4 = parseIp4(last.pop()!);
    if (v4 === null) return null;
  }
  for (const g of [...hp, ...tp]) if (!HEX4.test(g)) return null;
  const groups = hp.length + tp.length + (v4 !== null ? 2 : 0);
  if (dbl >= 0 ? groups > 7 : groups !== 8) return null;
  for (const g of hp) words.push(parseInt(g, 16));
  if (dbl >= 0) for (let i = groups; i < 8; i++) words.push(0);
  for (const g of tp) words.push(parseInt(g, 16));
  if (v4 !== null) words.push(v4 >>> 16, v4 & 0xffff);
  const out = new Uint8Array(IP6_LENGTH);
  for (let i = 0; i < 8; i++) put16(out, i * 2, words[i]!);
  return out;
}

/**
 * RFC 5952 4: lower case, no leading zeros, the longest run of two or more zero groups (the first
 * on a tie) as `::`; and 5: IPv4-mapped addresses end in a dotted quad (::ffff:192.0.2.1).
 */
export function ip6ToString(b: Uint8Array, o = 0): string {
  let mapped = true;
  for (let i = 0; i < 10; i++) if (b[o + i] !== 0) mapped = false;
  if (mapped && b[o + 10] === 0xff && b[o + 11] === 0xff) {
    return `::ffff:${b[o + 12]}.${b[o + 13]}.${b[o + 14]}.${b[o + 15]}`;
  }
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (u16(b, o + i * 2) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && u16(b, o + j * 2) === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestAt) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += u16(b, o + i * 2).toString(16);
  }
  return s;
}

/** `2001:db8::/32` or `2001:db8::1/64` (host bits may be set); null when it is not one. */
export function parseIp6Prefix(s: string): Ip6Prefix | null {
  return parseAddressPrefix(s, parseIp6, 128);
}

export function ip6Equal(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  for (let i = 0; i < IP6_LENGTH; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

/** True when the first `prefix` bits of the two addresses agree. */
export function ip6PrefixMatch(a: Uint8Array, ao: number, b: Uint8Array, bo: number, prefix: number): boolean {
  const full = prefix >>> 3;
  for (let i = 0; i < full; i++) if (a[ao + i] !== b[bo + i]) return false;
  const rem = prefix & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return ((a[ao + full]! ^ b[bo + full]!) & mask) === 0;
}

export function ip6IsUnspecified(b: Uint8Array, o = 0): boolean {
  for (let i = 0; i < IP6_LENGTH; i++) if (b[o + i] !== 0) return false;
  return true;
}
export function ip6IsLoopback(b: Uint8Array, o = 0): boolean {
  for (let i = 0; i < 15; i++) if (b[o + i] !== 0) return false;
  return b[o + 15] === 1;
}
export function ip6IsMulticast(b: Uint8Array, o = 0): boolean {
  return b[o] === 0xff;
}
/** fe80::/10. */
export function ip6IsLinkLocal(b: Uint8Array, o = 0): boolean {
  return b[o] === 0xfe && (b[o + 1]! & 0xc0) === 0x80;
}

/**
 * Writes the modified EUI-64 interface identifier of `mac` into b[o..o+8): the MAC split by
 * ff:fe with the universal/local bit inverted (RFC 4291 appendix A).
 */
export function putEui64(b: Uint8Array, o: number, mac: Mac): void {
  const hi = Math.floor(mac / 0x1_0000_0000);
  const lo = mac >>> 0;
  b[o] = ((hi >>> 8) & 0xff) ^ 0x02;
  b[o + 1] = hi & 0xff;
  b[o + 2] = (lo >>> 24) & 0xff;
  b[o + 3] = 0xff;
  b[o + 4] = 0xfe;
  b[o + 5] = (lo >>> 16) & 0xff;
  b[o + 6] = (lo >>> 8) & 0xff;
  b[o + 7] = lo & 0xff;
}

/** The address `prefix` (its first 64 bits) with the EUI-64 interface identifier of `mac`. */
export function ip6FromPrefixAndMac(prefix: Uint8Array, mac: Mac): Ip6 {
  const out = new Uint8Array(IP6_LENGTH);
  out.set(prefix.subarray(0, 8), 0);
  putEui64(out, 8, mac);
  return out;
}

/** fe80::/64 with the EUI-64 interface identifier of `mac`, as Linux forms it by default. */
export function linkLocalFromMac(mac: Mac): Ip6 {
  const out = new Uint8Array(IP6_LENGTH);
  out[0] = 0xfe;
  out[1] = 0x80;
  putEui64(out, 8, mac);
  return out;
}

/** Writes ff02::1:ffXX:XXXX, the solicited-node group of the address at a[ao..] (RFC 4291 2.7.1). */
export function putSolicitedNode(out: Uint8Array, o: number, a: Uint8Array, ao: number): void {
  out.fill(0, o, o + IP6_LENGTH);
  out[o] = 0xff;
  out[o + 1] = 0x02;
  out[o + 11] = 0x01;
  out[o + 12] = 0xff;
  out[o + 13] = a[ao + 13]!;
  out[o + 14] = a[ao + 14]!;
  out[o + 15] = a[ao + 15]!;
}
export function solicitedNode(a: Uint8Array, ao = 0): Ip6 {
  const out = new Uint8Array(IP6_LENGTH);
  putSolicitedNode(out, 0, a, ao);
  return out;
}

/** The Ethernet destination of an IPv6 multicast: 33:33 and the group's last 32 bits (RFC 2464 7). */
export function multicastMac(a: Uint8Array, ao = 0): Mac {
  return 0x3333 * 0x1_0000_0000 + (((a[ao + 12]! << 24) | (a[ao + 13]! << 16) | (a[ao + 14]! << 8) | a[ao + 15]!) >>> 0);
}

/** ff02::1, all nodes on the link. */
export const IP6_ALL_NODES: Ip6 = parseIp6('ff02::1')!;
/** ff02::2, all routers on the link. */
export const IP6_ALL_ROUTERS: Ip6 = parseIp6('ff02::2')!;
/** ff02::16, where MLDv2 reports go (RFC 3810 5.2.14). */
export const IP6_ALL_MLDV2_ROUTERS: Ip6 = parseIp6('ff02::16')!;
/** ff02::1:2, all DHCPv6 relay agents and servers (RFC 8415 7.1). */
export const IP6_ALL_DHCP_AGENTS: Ip6 = parseIp6('ff02::1:2')!;
export const IP6_UNSPECIFIED: Ip6 = new Uint8Array(IP6_LENGTH);
