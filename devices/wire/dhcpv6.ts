/**
 * DHCPv6 client/server messages (RFC 8415 8, options from 21). As with DHCPv4, options stay a
 * list in wire order (views into the buffer) so that a captured message re-encodes byte for byte;
 * `readDhcpv6Fields` turns the list into a typed record (IA_NA with its addresses, DUIDs, ORO,
 * DNS servers, status) and `dhcpv6OptionsFrom` turns a record back into a list. Relay messages
 * (relay-forward/reply, RFC 8415 9) have another header and are refused here.
 */
import { type Mac, macAt, put16, put32, putMac, u16, u32 } from './bytes.js';
import { DecodeError, EncodeError, need, room } from './errors.js';
import { IP6_LENGTH, type Ip6 } from './ip6addr.js';

const LAYER = 'dhcpv6';
export const DHCPV6_CLIENT_PORT = 546;
export const DHCPV6_SERVER_PORT = 547;

export const Dhcpv6Type = {
  SOLICIT: 1,
  ADVERTISE: 2,
  REQUEST: 3,
  CONFIRM: 4,
  RENEW: 5,
  REBIND: 6,
  REPLY: 7,
  RELEASE: 8,
  DECLINE: 9,
  RECONFIGURE: 10,
  INFORMATION_REQUEST: 11,
  RELAY_FORW: 12,
  RELAY_REPL: 13,
} as const;

export const Dhcpv6Opt = {
  CLIENTID: 1,
  SERVERID: 2,
  IA_NA: 3,
  IAADDR: 5,
  ORO: 6,
  PREFERENCE: 7,
  ELAPSED_TIME: 8,
  STATUS_CODE: 13,
  RAPID_COMMIT: 14,
  DNS_SERVERS: 23,
  DOMAIN_LIST: 24,
} as const;

/** Status codes (RFC 8415 21.13). */
export const Dhcpv6Status = { SUCCESS: 0, UNSPEC_FAIL: 1, NO_ADDRS_AVAIL: 2, NO_BINDING: 3, NOT_ON_LINK: 4, USE_MULTICAST: 5 } as const;

const TYPE_NAMES = ['', 'SOLICIT', 'ADVERTISE', 'REQUEST', 'CONFIRM', 'RENEW', 'REBIND', 'REPLY', 'RELEASE', 'DECLINE', 'RECONFIGURE', 'INFORMATION-REQUEST', 'RELAY-FORW', 'RELAY-REPL'];
export function dhcpv6TypeName(t: number): string {
  return (t >= 1 && t <= 13 && TYPE_NAMES[t]) || `TYPE${t}`;
}

export interface Dhcpv6Option {
  code: number;
  data: Uint8Array;
}

export interface Dhcpv6Message {
  msgType: number;
  /** 24 bits. */
  transactionId: number;
  /** In wire order; data are views into the decoded buffer. */
  options: Dhcpv6Option[];
}

/** Decodes the options in buf[p..end); a length running past `end` is malformed. */
export function decodeDhcpv6Options(buf: Uint8Array, p: number, end: number): Dhcpv6Option[] {
  const out: Dhcpv6Option[] = [];
  while (p < end) {
    if (p + 4 > end) throw new DecodeError(LAYER, 'option header cut short', p);
    const code = u16(buf, p);
    const len = u16(buf, p + 2);
    if (p + 4 + len > end) throw new DecodeError(LAYER, `option ${code} of ${len} bytes overruns its container`, p + 2);
    out.push({ code, data: buf.subarray(p + 4, p + 4 + len) });
    p += 4 + len;
  }
  return out;
}

/** Decodes the message occupying buf[offset..offset+length) (the UDP payload). */
export function decodeDhcpv6(buf: Uint8Array, offset = 0, length = buf.length - offset): Dhcpv6Message {
  need(LAYER, buf, offset, length);
  if (length < 4) throw new DecodeError(LAYER, `message of ${length} bytes is shorter than 4`, offset);
  const msgType = buf[offset]!;
  if (msgType === Dhcpv6Type.RELAY_FORW || msgType === Dhcpv6Type.RELAY_REPL) throw new DecodeError(LAYER, 'relay messages are not supported', offset);
  return {
    msgType,
    transactionId: ((buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0,
    options: decodeDhcpv6Options(buf, offset + 4, offset + length),
  };
}

export function dhcpv6OptionsLength(options: readonly Dhcpv6Option[]): number {
  let n = 0;
  for (const o of options) n += 4 + o.data.length;
  return n;
}
export function dhcpv6EncodingLength(m: Dhcpv6Message): number {
  return 4 + dhcpv6OptionsLength(m.options);
}

export function encodeDhcpv6Options(options: readonly Dhcpv6Option[], buf: Uint8Array, p: number): number {
  const start = p;
  for (const o of options) {
    if (o.data.length > 0xffff) throw new EncodeError(`dhcpv6: option ${o.code} of ${o.data.length} bytes`);
    room(LAYER, buf, p, 4 + o.data.length);
    put16(buf, p, o.code);
    put16(buf, p + 2, o.data.length);
    buf.set(o.data, p + 4);
    p += 4 + o.data.length;
  }
  return p - start;
}

/** Writes the message at buf[offset..]; returns bytes written. */
export function encodeDhcpv6(m: Dhcpv6Message, buf: Uint8Array, offset = 0): number {
  const len = dhcpv6EncodingLength(m);
  room(LAYER, buf, offset, len);
  buf[offset] = m.msgType;
  buf[offset + 1] = (m.transactionId >>> 16) & 0xff;
  put16(buf, offset + 2, m.transactionId & 0xffff);
  encodeDhcpv6Options(m.options, buf, offset + 4);
  return len;
}

// ---- DUIDs (RFC 8415 11) ----

export type Duid =
  | { type: 'llt'; hwType: number; time: number; mac: Mac }
  | { type: 'll'; hwType: number; mac: Mac }
  | { type: 'en'; enterprise: number; id: Uint8Array }
  | { type: 'uuid'; uuid: Uint8Array }
  /** Another type, or a link-layer address that is not 6 bytes. */
  | { type: 'raw'; bytes: Uint8Array };

/** Reads a DUID (the data of a client or server identifier option). */
export function decodeDuid(b: Uint8Array): Duid {
  if (b.length < 2) throw new DecodeError(LAYER, `DUID of ${b.length} bytes`, 0);
  const t = u16(b, 0);
  if (t === 1 && b.length === 14) return { type: 'llt', hwType: u16(b, 2), time: u32(b, 4), mac: macAt(b, 8) };
  if (t === 3 && b.length === 10) return { type: 'll', hwType: u16(b, 2), mac: macAt(b, 4) };
  if (t === 2 && b.length > 6) return { type: 'en', enterprise: u32(b, 2), id: b.subarray(6) };
  if (t === 4 && b.length === 18) return { type: 'uuid', uuid: b.subarray(2) };
  return { type: 'raw', bytes: b };
}

export function encodeDuid(d: Duid): Uint8Array {
  switch (d.type) {
    case 'llt': {
      const b = new Uint8Array(14);
      put16(b, 0, 1);
      put16(b, 2, d.hwType);
      put32(b, 4, d.time >>> 0);
      putMac(b, 8, d.mac);
      return b;
    }
    case 'll': {
      const b = new Uint8Array(10);
      put16(b, 0, 3);
      put16(b, 2, d.hwType);
      putMac(b, 4, d.mac);
      return b;
    }
    case 'en': {
      const b = new Uint8Array(6 + d.id.length);
      put16(b, 0, 2);
      put32(b, 2, d.enterprise >>> 0);
      b.set(d.id, 6);
      return b;
    }
    case 'uuid': {
      const b = new Uint8Array(18);
      put16(b, 0, 4);
      b.set(d.uuid.subarray(0, 16), 2);
      return b;
    }
    case 'raw':
      return d.bytes.slice();
  }
}

// ---- typed fields ----

export interface Dhcpv6Status {
  code: number;
  message: string;
}
export interface Dhcpv6IaAddress {
  address: Ip6;
  preferredLifetime: number;
  validLifetime: number;
  status?: Dhcpv6Status;
}
export interface Dhcpv6IaNa {
  iaid: number;
  t1: number;
  t2: number;
  addresses: Dhcpv6IaAddress[];
  status?: Dhcpv6Status;
}

/** What solicit, advertise, request, reply and information-request carry, typed. */
export interface Dhcpv6Fields {
  clientId?: Uint8Array;
  serverId?: Uint8Array;
  iaNa?: Dhcpv6IaNa[];
  /** Requested option codes. */
  oro?: number[];
  preference?: number;
  /** Hundredths of a second since the client began the exchange. */
  elapsedTime?: number;
  status?: Dhcpv6Status;
  rapidCommit?: boolean;
  dnsServers?: Ip6[];
}

function readStatus(d: Uint8Array): Dhcpv6Status {
  if (d.length < 2) throw new DecodeError(LAYER, 'status code option shorter than 2 bytes', 0);
  return { code: u16(d, 0), message: new TextDecoder().decode(d.subarray(2)) };
}
function addresses(d: Uint8Array, code: number): Ip6[] {
  if (d.length % IP6_LENGTH !== 0) throw new DecodeError(LAYER, `option ${code} of ${d.length} bytes is not a list of addresses`, 0);
  const out: Ip6[] = [];
  for (let p = 0; p < d.length; p += IP6_LENGTH) out.push(d.subarray(p, p + IP6_LENGTH));
  return out;
}
function fixed(d: Uint8Array, code: number, len: number): void {
  if (d.length !== len) throw new DecodeError(LAYER, `option ${code} has ${d.length} bytes, not ${len}`, 0);
}

function readIaNa(d: Uint8Array): Dhcpv6IaNa {
  if (d.length < 12) throw new DecodeError(LAYER, `IA_NA of ${d.length} bytes is shorter than 12`, 0);
  const ia: Dhcpv6IaNa = { iaid: u32(d, 0), t1: u32(d, 4), t2: u32(d, 8), addresses: [] };
  for (const o of decodeDhcpv6Options(d, 12, d.length)) {
    if (o.code === Dhcpv6Opt.STATUS_CODE) ia.status = readStatus(o.data);
    if (o.code !== Dhcpv6Opt.IAADDR) continue;
    if (o.data.length < 24) throw new DecodeError(LAYER, `IA address of ${o.data.length} bytes is shorter than 24`, 0);
    const a: Dhcpv6IaAddress = { address: o.data.subarray(0, 16), preferredLifetime: u32(o.data, 16), validLifetime: u32(o.data, 20) };
    for (const s of decodeDhcpv6Options(o.data, 24, o.data.length)) if (s.code === Dhcpv6Opt.STATUS_CODE) a.status = readStatus(s.data);
    ia.addresses.push(a);
  }
  return ia;
}

/** The typed record of an option list; unknown options are left out. Throws DecodeError on malformed known ones. */
export function readDhcpv6Fields(options: readonly Dhcpv6Option[]): Dhcpv6Fields {
  const f: Dhcpv6Fields = {};
  for (const { code, data } of options) {
    switch (code) {
      case Dhcpv6Opt.CLIENTID:
        f.clientId = data;
        break;
      case Dhcpv6Opt.SERVERID:
        f.serverId = data;
        break;
      case Dhcpv6Opt.IA_NA:
        (f.iaNa ??= []).push(readIaNa(data));
        break;
      case Dhcpv6Opt.ORO: {
        if (data.length % 2) throw new DecodeError(LAYER, 'ORO of odd length', 0);
        const oro: number[] = [];
        for (let p = 0; p < data.length; p += 2) oro.push(u16(data, p));
        f.oro = oro;
        break;
      }
      case Dhcpv6Opt.PREFERENCE:
        fixed(data, code, 1);
        f.preference = data[0]!;
        break;
      case Dhcpv6Opt.ELAPSED_TIME:
        fixed(data, code, 2);
        f.elapsedTime = u16(data, 0);
        break;
      case Dhcpv6Opt.STATUS_CODE:
        f.status = readStatus(data);
        break;
      case Dhcpv6Opt.RAPID_COMMIT:
        fixed(data, code, 0);
        f.rapidCommit = true;
        break;
      case Dhcpv6Opt.DNS_SERVERS:
        f.dnsServers = addresses(data, code);
        break;
    }
  }
  return f;
}

function opt(code: number, data: Uint8Array): Dhcpv6Option {
  return { code, data };
}
function statusBytes(s: Dhcpv6Status): Uint8Array {
  const msg = new TextEncoder().encode(s.message);
  const b = new Uint8Array(2 + msg.length);
  put16(b, 0, s.code);
  b.set(msg, 2);
  return b;
}
function iaNaBytes(ia: Dhcpv6IaNa): Uint8Array {
  const inner: Dhcpv6Option[] = ia.addresses.map((a) => {
    const sub = a.status ? [opt(Dhcpv6Opt.STATUS_CODE, statusBytes(a.status))] : [];
    const b = new Uint8Array(24 + dhcpv6OptionsLength(sub));
    b.set(a.address.subarray(0, 16), 0);
    put32(b, 16, a.preferredLifetime >>> 0);
    put32(b, 20, a.validLifetime >>> 0);
    encodeDhcpv6Options(sub, b, 24);
    return opt(Dhcpv6Opt.IAADDR, b);
  });
  if (ia.status) inner.push(opt(Dhcpv6Opt.STATUS_CODE, statusBytes(ia.status)));
  const b = new Uint8Array(12 + dhcpv6OptionsLength(inner));
  put32(b, 0, ia.iaid >>> 0);
  put32(b, 4, ia.t1 >>> 0);
  put32(b, 8, ia.t2 >>> 0);
  encodeDhcpv6Options(inner, b, 12);
  return b;
}

/**
 * The option list for a typed record, in the order dnsmasq and ISC dhclient use: client ID,
 * server ID, IA_NA, status, preference, rapid commit, DNS servers, elapsed time, ORO.
 */
export function dhcpv6OptionsFrom(f: Dhcpv6Fields): Dhcpv6Option[] {
  const out: Dhcpv6Option[] = [];
  if (f.clientId) out.push(opt(Dhcpv6Opt.CLIENTID, f.clientId));
  if (f.serverId) out.push(opt(Dhcpv6Opt.SERVERID, f.serverId));
  for (const ia of f.iaNa ?? []) out.push(opt(Dhcpv6Opt.IA_NA, iaNaBytes(ia)));
  if (f.status) out.push(opt(Dhcpv6Opt.STATUS_CODE, statusBytes(f.status)));
  if (f.preference !== undefined) out.push(opt(Dhcpv6Opt.PREFERENCE, Uint8Array.of(f.preference)));
  if (f.rapidCommit) out.push(opt(Dhcpv6Opt.RAPID_COMMIT, new Uint8Array(0)));
  if (f.dnsServers) {
    const b = new Uint8Array(16 * f.dnsServers.length);
    f.dnsServers.forEach((s, i) => b.set(s.subarray(0, 16), 16 * i));
    out.push(opt(Dhcpv6Opt.DNS_SERVERS, b));
  }
  if (f.elapsedTime !== undefined) {
    const b = new Uint8Array(2);
    put16(b, 0, Math.min(f.elapsedTime, 0xffff));
    out.push(opt(Dhcpv6Opt.ELAPSED_TIME, b));
  }
  if (f.oro) {
    const b = new Uint8Array(2 * f.oro.length);
    f.oro.forEach((c, i) => put16(b, 2 * i, c));
    out.push(opt(Dhcpv6Opt.ORO, b));
  }
  return out;
}
