/**
 * Parsers for the small text values of lab.yaml: durations, rates, percentages, IPv4 addresses,
 * prefixes, ranges and IP:PORT endpoints. Each returns a typed value or a message that can be
 * shown to the user as is ("... is not ..."), so the schema and the API give the same wording.
 */
import { type Ip4, type Ip4Prefix, type Mac, isGroupMac, ip4ToString, parseIp4, parseIp4Prefix, parseMac, prefixToMask } from '../wire/bytes.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}
function fail<T>(error: string): Parsed<T> {
  return { ok: false, error };
}
const show = (s: string) => JSON.stringify(s);

// ---------------------------------------------------------------- durations

const DURATION_UNITS_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
  d: 86_400e9,
};
const DURATION_PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/y;

/**
 * A duration in nanoseconds from `250ms`, `30s`, `5m`, `1h`, `1d` or a sum such as `1h30m`.
 * A bare number is refused: `30` could mean seconds or milliseconds, and a lab file should not
 * leave the reader guessing.
 */
export function parseDuration(text: string): Parsed<number> {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return fail(`${show(text)} needs a unit: ms, s, m or h (for example ${s}s)`);
  if (s === '') return fail('a duration is empty; write one like 250ms, 30s, 5m or 1h');
  let ns = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < s.length) {
    const at = DURATION_PART.lastIndex;
    const m = DURATION_PART.exec(s);
    if (!m || m.index !== at) return fail(`${show(text)} is not a duration; write one like 250ms, 30s, 5m or 1h`);
    ns += Number(m[1]) * DURATION_UNITS_NS[m[2]!]!;
  }
  ns = Math.round(ns);
  if (!Number.isSafeInteger(ns)) return fail(`${show(text)} is too long a duration`);
  return ok(ns);
}

/** The shortest exact text for a duration in ns, for writing files and showing settings. */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const units: [string, number][] = [
    ['d', 86_400e9],
    ['h', 3600e9],
    ['m', 60e9],
    ['s', 1e9],
    ['ms', 1e6],
    ['us', 1e3],
    ['ns', 1],
  ];
  for (const [unit, size] of units) if (ns % size === 0) return `${ns / size}${unit}`;
  return `${ns}ns`;
}

// ---------------------------------------------------------------- rates

/**
 * Rates count bits per second with decimal multiples, like tc's `kbit`/`mbit`/`gbit`. `bps`,
 * `kbps`, `mbps`, `gbps` are also bits per second (the way link speeds are written on
 * datasheets), not tc's bytes per second: the surprise of a rate eight times off is worse than
 * departing from tc.
 */
const RATE_UNITS_BPS: Record<string, number> = {
  bit: 1,
  bps: 1,
  kbit: 1e3,
  kbps: 1e3,
  mbit: 1e6,
  mbps: 1e6,
  gbit: 1e9,
  gbps: 1e9,
  tbit: 1e12,
  tbps: 1e12,
};

/** A rate in bits per second from `512kbit`, `100mbit`, `1gbit`, `10mbps` (case-insensitive). */
export function parseRate(text: string): Parsed<number> {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return fail(`${show(text)} needs a unit: kbit, mbit or gbit (for example ${s}mbit)`);
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(s);
  const unit = m ? RATE_UNITS_BPS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) return fail(`${show(text)} is not a rate; write one like 512kbit, 100mbit or 1gbit`);
  const bps = Math.round(Number(m[1]) * unit);
  if (bps <= 0) return fail(`${show(text)}: a rate must be more than 0 (leave rate out for an unlimited link)`);
  if (!Number.isSafeInteger(bps)) return fail(`${show(text)} is too high a rate`);
  return ok(bps);
}

export function formatRate(bps: number): string {
  for (const [unit, size] of [
    ['gbit', 1e9],
    ['mbit', 1e6],
    ['kbit', 1e3],
  ] as const) {
    if (bps % size === 0) return `${bps / size}${unit}`;
  }
  return `${bps}bit`;
}

// ---------------------------------------------------------------- percentages

/** A probability 0..1 from `0.5%` .. `100%`. A bare number is refused (0.5 could be 50% or 0.5%). */
export function parsePercent(text: string): Parsed<number> {
  const s = text.trim();
  const m = /^(\d+(?:\.\d+)?)\s*%$/.exec(s);
  if (!m) {
    if (/^\d+(\.\d+)?$/.test(s)) return fail(`${show(text)} needs a % sign (for example ${s}%)`);
    return fail(`${show(text)} is not a percentage; write one like 0.5% or 10%`);
  }
  const pct = Number(m[1]);
  if (pct > 100) return fail(`${show(text)} is more than 100%`);
  return ok(pct / 100);
}

export function formatPercent(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(12))}%`;
}

// ---------------------------------------------------------------- addresses

export function parseIp(text: string): Parsed<Ip4> {
  const ip = parseIp4(text);
  if (ip !== null) return ok(ip);
  const octets = text.trim().split('.');
  if (octets.length === 4 && octets.every((o) => /^\d+$/.test(o))) {
    const big = octets.find((o) => Number(o) > 255);
    if (big !== undefined) return fail(`${show(text)} is not an IPv4 address: ${big} is more than 255`);
    return fail(`${show(text)} is not an IPv4 address: leading zeros are ambiguous (octal or decimal?)`);
  }
  return fail(`${show(text)} is not an IPv4 address (like 10.1.0.10)`);
}

/** A unicast MAC from `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff`. */
export function parseMacAddress(text: string): Parsed<Mac> {
  const mac = parseMac(text);
  if (mac === null) return fail(`${show(text)} is not a MAC address (like 02:00:00:aa:bb:01)`);
  if (isGroupMac(mac)) return fail(`${show(text)} is a group (multicast) MAC; an interface needs a unicast one (even first octet)`);
  return ok(mac);
}

/** An interface address with its prefix, and the subnet it implies. */
export interface Cidr extends Ip4Prefix {
  mask: Ip4;
  /** First address of the subnet (host bits cleared). */
  network: Ip4;
  /** Last address of the subnet. */
  broadcast: Ip4;
}

/** `10.1.0.10/24`: an address and a prefix length 0..32; host bits may be set. */
export function parseCidr(text: string): Parsed<Cidr> {
  const c = parseIp4Prefix(text);
  if (c !== null) return ok(makeCidr(c.ip, c.prefix));
  // Not one: say which part is wrong.
  const s = text.trim();
  const slash = s.indexOf('/');
  if (slash < 0) return fail(`${show(text)} needs a prefix length, like ${parseIp4(s) !== null ? s : '10.1.0.10'}/24`);
  const ip = parseIp(s.slice(0, slash));
  if (!ip.ok) return fail(`${show(text)}: ${ip.error}`);
  return fail(`${show(text)}: the prefix length must be 0..32, not ${show(s.slice(slash + 1))}`);
}

export function makeCidr(ip: Ip4, prefix: number): Cidr {
  const mask = prefixToMask(prefix);
  const network = (ip & mask) >>> 0;
  return { ip, prefix, mask, network, broadcast: (network | ~mask) >>> 0 };
}

/** A subnet such as `192.168.145.0/24`: host bits must be zero, as IOS insists for routes. */
export function parseSubnet(text: string): Parsed<Cidr> {
  const c = parseCidr(text);
  if (!c.ok) return c;
  if (c.value.ip !== c.value.network) {
    return fail(`${show(text)} has host bits set; the subnet is ${formatSubnet(c.value)}`);
  }
  return c;
}

export function formatCidr(c: Cidr): string {
  return `${ip4ToString(c.ip)}/${c.prefix}`;
}
export function formatSubnet(c: Cidr): string {
  return `${ip4ToString(c.network)}/${c.prefix}`;
}
export function cidrContains(c: Cidr, ip: Ip4): boolean {
  return ((ip & c.mask) >>> 0) === c.network;
}
/** True when `ip` can be a host in the subnet: inside it and, for prefixes up to /30, neither its network nor broadcast address. */
export function isHostAddress(c: Cidr, ip: Ip4): boolean {
  if (!cidrContains(c, ip)) return false;
  if (c.prefix >= 31) return true;
  return ip !== c.network && ip !== c.broadcast;
}
export function subnetsOverlap(a: Cidr, b: Cidr): boolean {
  const mask = a.prefix < b.prefix ? a.mask : b.mask;
  return ((a.network & mask) >>> 0) === ((b.network & mask) >>> 0);
}

/** An inclusive range of addresses. */
export interface IpRange {
  start: Ip4;
  end: Ip4;
}

/** `192.168.145.128-192.168.145.253`, both ends included, start not after end. */
export function parseIpRange(text: string): Parsed<IpRange> {
  const parts = text.split('-');
  if (parts.length !== 2) return fail(`${show(text)} is not an address range; write one like 10.0.0.100-10.0.0.199`);
  const start = parseIp(parts[0]!);
  if (!start.ok) return fail(`${show(text)}: ${start.error}`);
  const end = parseIp(parts[1]!);
  if (!end.ok) return fail(`${show(text)}: ${end.error}`);
  if (start.value > end.value) return fail(`${show(text)} starts after it ends`);
  return ok({ start: start.value, end: end.value });
}

export function formatIpRange(r: IpRange): string {
  return `${ip4ToString(r.start)}-${ip4ToString(r.end)}`;
}
export function rangeContains(r: IpRange, ip: Ip4): boolean {
  return ip >= r.start && ip <= r.end;
}
export function rangeInSubnet(r: IpRange, c: Cidr): boolean {
  return cidrContains(c, r.start) && cidrContains(c, r.end);
}
export function rangesOverlap(a: IpRange, b: IpRange): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/** An IPv4 transport endpoint. */
export interface IpPort {
  ip: Ip4;
  port: number;
}

/**
 * `127.0.0.1:8080`. With `defaultPort` the port may be left out (`10.0.0.1` for a DNS server).
 * Port 0 is refused: every endpoint in a lab file is one that something connects to or listens on.
 */
export function parseIpPort(text: string, defaultPort?: number): Parsed<IpPort> {
  const s = text.trim();
  const colon = s.lastIndexOf(':');
  if (colon < 0) {
    if (defaultPort !== undefined) {
      const ip = parseIp(s);
      return ip.ok ? ok({ ip: ip.value, port: defaultPort }) : fail(ip.error);
    }
    return fail(`${show(text)} needs a port; write it as IP:PORT, like 127.0.0.1:8080`);
  }
  const ip = parseIp(s.slice(0, colon));
  if (!ip.ok) return fail(`${show(text)}: ${ip.error}`);
  const p = s.slice(colon + 1);
  if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) return fail(`${show(text)}: the port must be 1..65535, not ${show(p)}`);
  return ok({ ip: ip.value, port: Number(p) });
}

export function formatIpPort(e: IpPort): string {
  return `${ip4ToString(e.ip)}:${e.port}`;
}
