/**
 * DHCP and BOOTP messages (RFC 2131, options from RFC 2132). Options stay a list in wire order,
 * with PADs and the padding after END, because clients and servers differ in order and padding
 * and a re-encoded message must match the captured one byte for byte. `readDhcpFields` turns
 * the list into a typed record; `dhcpOptionsFrom` turns a record back into a list.
 */
import { type Ip4, type Mac, macAt, put16, put32, putMac, u16, u32 } from './bytes.js';
import { DecodeError, EncodeError, need, room } from './errors.js';

const LAYER = 'dhcp';
export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const DHCP_MAGIC_COOKIE = 0x63825363;
/** op through file: the fixed BOOTP part before the cookie. */
export const BOOTP_FIXED_LEN = 236;
/** Fixed part plus magic cookie: where options start. */
export const DHCP_OPTIONS_OFFSET = 240;
/** RFC 1542 2.1: relays may drop BOOTP messages shorter than this, so senders pad up to it. */
export const BOOTP_MIN_LEN = 300;
export const DHCP_BROADCAST_FLAG = 0x8000;

export const DhcpMessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;
export type DhcpMessageTypeName = keyof typeof DhcpMessageType;
const TYPE_NAMES: readonly string[] = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'];
/** "DISCOVER", "ACK", ...; "TYPE9" for values RFC 2132 does not define. */
export function dhcpMessageTypeName(t: number): string {
  return (t >= 1 && t <= 8 && TYPE_NAMES[t]) || `TYPE${t}`;
}

export const DhcpOpt = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS: 6,
  HOSTNAME: 12,
  DOMAIN_NAME: 15,
  BROADCAST_ADDRESS: 28,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  VENDOR_CLASS: 60,
  CLIENT_ID: 61,
  RELAY_AGENT_INFO: 82,
  END: 255,
} as const;

/** One TLV option. PAD appears as code 0 with empty data; END is implied, never listed. */
export interface DhcpOption {
  code: number;
  data: Uint8Array;
}

/** A decoded message; every field is present. */
export interface DhcpMessage {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  /** Bit 15 (DHCP_BROADCAST_FLAG) asks the server to broadcast its reply. */
  flags: number;
  ciaddr: Ip4;
  yiaddr: Ip4;
  siaddr: Ip4;
  giaddr: Ip4;
  /** The first 6 bytes of chaddr: the client MAC for Ethernet (htype 1, hlen 6). */
  chaddr: Mac;
  /** All 16 chaddr bytes (a view), present only when bytes 6..15 are not all zero. */
  chaddrRaw?: Uint8Array;
  /** Server host name, up to the first NUL (latin1). */
  sname: string;
  /** Boot file name, up to the first NUL (latin1). */
  file: string;
  /** The 64 sname bytes (a view), present only when `sname` alone would not re-encode them (e.g. option overload). */
  snameRaw?: Uint8Array;
  /** The 128 file bytes (a view), likewise. */
  fileRaw?: Uint8Array;
  /** In wire order; data are views into the decoded buffer. */
  options: DhcpOption[];
  /** True when the options ran to the end of the message without an END option. */
  missingEnd: boolean;
  /** Bytes after END. */
  padding: number;
  /** The bytes after END (a view), present only when they are not all zero. */
  trailer?: Uint8Array;
}

/** What the encoder needs; absent fields take the values a client's first message would have. */
export interface DhcpEncodeInput {
  op: number;
  xid: number;
  chaddr: Mac;
  options: readonly DhcpOption[];
  htype?: number;
  hlen?: number;
  hops?: number;
  secs?: number;
  flags?: number;
  ciaddr?: Ip4;
  yiaddr?: Ip4;
  siaddr?: Ip4;
  giaddr?: Ip4;
  chaddrRaw?: Uint8Array;
  sname?: string;
  file?: string;
  snameRaw?: Uint8Array;
  fileRaw?: Uint8Array;
  missingEnd?: boolean;
  /** Zero bytes after END. Default: as many as bring the message to BOOTP_MIN_LEN (300). */
  padding?: number;
  /** Written after END instead of `padding` zeros. */
  trailer?: Uint8Array;
}

// Offset readers for the server's receive path: no allocation, no checks.
export function dhcpOp(b: Uint8Array, o: number): number {
  return b[o]!;
}
export function dhcpXid(b: Uint8Array, o: number): number {
  return u32(b, o + 4);
}
export function dhcpChaddr(b: Uint8Array, o: number): Mac {
  return macAt(b, o + 28);
}

/**
 * The message type (option 53) of the message at buf[offset..offset+length), found without
 * decoding the rest; -1 when it is absent, the cookie is wrong or the options are malformed.
 */
export function dhcpMessageTypeAt(buf: Uint8Array, offset: number, length = buf.length - offset): number {
  const end = Math.min(offset + length, buf.length);
  if (offset < 0 || end - offset < DHCP_OPTIONS_OFFSET || u32(buf, offset + BOOTP_FIXED_LEN) !== DHCP_MAGIC_COOKIE) return -1;
  let p = offset + DHCP_OPTIONS_OFFSET;
  while (p < end) {
    const code = buf[p]!;
    if (code === DhcpOpt.PAD) {
      p++;
      continue;
    }
    if (code === DhcpOpt.END || p + 1 >= end) return -1;
    const len = buf[p + 1]!;
    if (p + 2 + len > end) return -1;
    if (code === DhcpOpt.MESSAGE_TYPE && len === 1) return buf[p + 2]!;
    p += 2 + len;
  }
  return -1;
}

const EMPTY = new Uint8Array(0);

function latin1(b: Uint8Array, o: number, len: number): { s: string; clean: boolean } {
  let s = '';
  let i = 0;
  for (; i < len && b[o + i] !== 0; i++) s += String.fromCharCode(b[o + i]!);
  let clean = true;
  for (; i < len; i++) if (b[o + i] !== 0) clean = false;
  return { s, clean };
}

function allZero(b: Uint8Array, o: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (b[o + i] !== 0) return false;
  return true;
}

/** Decodes the DHCP message occupying buf[offset..offset+length) (the UDP payload). */
export function decodeDhcp(buf: Uint8Array, offset = 0, length = buf.length - offset): DhcpMessage {
  need(LAYER, buf, offset, length);
  if (length < DHCP_OPTIONS_OFFSET) throw new DecodeError(LAYER, `message of ${length} bytes is shorter than ${DHCP_OPTIONS_OFFSET}`, offset);
  if (u32(buf, offset + BOOTP_FIXED_LEN) !== DHCP_MAGIC_COOKIE) {
    throw new DecodeError(LAYER, 'no DHCP magic cookie', offset + BOOTP_FIXED_LEN);
  }
  const sname = latin1(buf, offset + 44, 64);
  const file = latin1(buf, offset + 108, 128);
  const msg: DhcpMessage = {
    op: buf[offset]!,
    htype: buf[offset + 1]!,
    hlen: buf[offset + 2]!,
    hops: buf[offset + 3]!,
    xid: u32(buf, offset + 4),
    secs: u16(buf, offset + 8),
    flags: u16(buf, offset + 10),
    ciaddr: u32(buf, offset + 12),
    yiaddr: u32(buf, offset + 16),
    siaddr: u32(buf, offset + 20),
    giaddr: u32(buf, offset + 24),
    chaddr: macAt(buf, offset + 28),
    sname: sname.s,
    file: file.s,
    options: [],
    missingEnd: true,
    padding: 0,
  };
  if (!allZero(buf, offset + 34, 10)) msg.chaddrRaw = buf.subarray(offset + 28, offset + 44);
  if (!sname.clean) msg.snameRaw = buf.subarray(offset + 44, offset + 108);
  if (!file.clean) msg.fileRaw = buf.subarray(offset + 108, offset + 236);

  const end = offset + length;
  let p = offset + DHCP_OPTIONS_OFFSET;
  while (p < end) {
    const code = buf[p]!;
    if (code === DhcpOpt.PAD) {
      msg.options.push({ code, data: EMPTY });
      p++;
      continue;
    }
    if (code === DhcpOpt.END) {
      p++;
      msg.missingEnd = false;
      msg.padding = end - p;
      if (!allZero(buf, p, end - p)) msg.trailer = buf.subarray(p, end);
      break;
    }
    if (p + 1 >= end) throw new DecodeError(LAYER, `option ${code} has no length byte`, p);
    const len = buf[p + 1]!;
    if (p + 2 + len > end) throw new DecodeError(LAYER, `option ${code} of ${len} bytes overruns the message`, p);
    msg.options.push({ code, data: buf.subarray(p + 2, p + 2 + len) });
    p += 2 + len;
  }
  return msg;
}

function optionsLength(options: readonly DhcpOption[]): number {
  let n = 0;
  for (const opt of options) n += opt.code === DhcpOpt.PAD ? 1 : 2 + opt.data.length;
  return n;
}

export function dhcpEncodingLength(msg: DhcpEncodeInput): number {
  const body = DHCP_OPTIONS_OFFSET + optionsLength(msg.options) + (msg.missingEnd ? 0 : 1);
  if (msg.trailer) return body + msg.trailer.length;
  if (msg.padding !== undefined) return body + msg.padding;
  return Math.max(body, BOOTP_MIN_LEN);
}

function putLatin1(b: Uint8Array, o: number, len: number, s: string | undefined, raw: Uint8Array | undefined, what: string): void {
  if (raw) {
    if (raw.length !== len) throw new EncodeError(`dhcp: ${what} raw must be ${len} bytes, got ${raw.length}`);
    b.set(raw, o);
    return;
  }
  b.fill(0, o, o + len);
  if (!s) return;
  // One byte is kept for the terminating NUL clients expect.
  if (s.length > len - 1) throw new EncodeError(`dhcp: ${what} "${s}" longer than ${len - 1} bytes`);
  for (let i = 0; i < s.length; i++) b[o + i] = s.charCodeAt(i) & 0xff;
}

/** Writes the message at `offset`; returns bytes written (dhcpEncodingLength). */
export function encodeDhcp(msg: DhcpEncodeInput, buf: Uint8Array, offset = 0): number {
  const len = dhcpEncodingLength(msg);
  room(LAYER, buf, offset, len);
  buf[offset] = msg.op;
  buf[offset + 1] = msg.htype ?? 1;
  buf[offset + 2] = msg.hlen ?? 6;
  buf[offset + 3] = msg.hops ?? 0;
  put32(buf, offset + 4, msg.xid);
  put16(buf, offset + 8, msg.secs ?? 0);
  put16(buf, offset + 10, msg.flags ?? 0);
  put32(buf, offset + 12, msg.ciaddr ?? 0);
  put32(buf, offset + 16, msg.yiaddr ?? 0);
  put32(buf, offset + 20, msg.siaddr ?? 0);
  put32(buf, offset + 24, msg.giaddr ?? 0);
  if (msg.chaddrRaw) {
    if (msg.chaddrRaw.length !== 16) throw new EncodeError(`dhcp: chaddrRaw must be 16 bytes, got ${msg.chaddrRaw.length}`);
    buf.set(msg.chaddrRaw, offset + 28);
  } else {
    putMac(buf, offset + 28, msg.chaddr);
    buf.fill(0, offset + 34, offset + 44);
  }
  putLatin1(buf, offset + 44, 64, msg.sname, msg.snameRaw, 'sname');
  putLatin1(buf, offset + 108, 128, msg.file, msg.fileRaw, 'file');
  put32(buf, offset + BOOTP_FIXED_LEN, DHCP_MAGIC_COOKIE);
  let p = offset + DHCP_OPTIONS_OFFSET;
  for (const opt of msg.options) {
    if (opt.code === DhcpOpt.PAD) {
      buf[p++] = 0;
      continue;
    }
    if (opt.data.length > 255) throw new EncodeError(`dhcp: option ${opt.code} has ${opt.data.length} bytes; split it (dhcpOptionsFrom does)`);
    buf[p] = opt.code;
    buf[p + 1] = opt.data.length;
    buf.set(opt.data, p + 2);
    p += 2 + opt.data.length;
  }
  if (!msg.missingEnd) buf[p++] = DhcpOpt.END;
  if (msg.trailer) buf.set(msg.trailer, p);
  else buf.fill(0, p, offset + len);
  return len;
}

/** The typed view of the options this project uses; see `readDhcpFields`. */
export interface DhcpFields {
  messageType?: number;
  subnetMask?: Ip4;
  routers?: Ip4[];
  dns?: Ip4[];
  hostname?: string;
  domainName?: string;
  broadcastAddress?: Ip4;
  requestedIp?: Ip4;
  /** Seconds. */
  leaseTime?: number;
  overload?: number;
  serverId?: Ip4;
  parameterRequestList?: number[];
  message?: string;
  maxMessageSize?: number;
  renewalTime?: number;
  rebindingTime?: number;
  vendorClass?: string;
  /** Usually 1 (htype) followed by the MAC; see dhcpClientIdFromMac. */
  clientId?: Uint8Array;
  relayAgentInfo?: Uint8Array;
}

type FieldKind = 'u8' | 'u16' | 'u32' | 'ip' | 'ips' | 'str' | 'bytes' | 'u8s';
const FIELDS: ReadonlyArray<readonly [keyof DhcpFields, number, FieldKind]> = [
  ['messageType', DhcpOpt.MESSAGE_TYPE, 'u8'],
  ['subnetMask', DhcpOpt.SUBNET_MASK, 'ip'],
  ['routers', DhcpOpt.ROUTER, 'ips'],
  ['dns', DhcpOpt.DNS, 'ips'],
  ['hostname', DhcpOpt.HOSTNAME, 'str'],
  ['domainName', DhcpOpt.DOMAIN_NAME, 'str'],
  ['broadcastAddress', DhcpOpt.BROADCAST_ADDRESS, 'ip'],
  ['requestedIp', DhcpOpt.REQUESTED_IP, 'ip'],
  ['leaseTime', DhcpOpt.LEASE_TIME, 'u32'],
  ['overload', DhcpOpt.OVERLOAD, 'u8'],
  ['serverId', DhcpOpt.SERVER_ID, 'ip'],
  ['parameterRequestList', DhcpOpt.PARAMETER_REQUEST_LIST, 'u8s'],
  ['message', DhcpOpt.MESSAGE, 'str'],
  ['maxMessageSize', DhcpOpt.MAX_MESSAGE_SIZE, 'u16'],
  ['renewalTime', DhcpOpt.RENEWAL_TIME, 'u32'],
  ['rebindingTime', DhcpOpt.REBINDING_TIME, 'u32'],
  ['vendorClass', DhcpOpt.VENDOR_CLASS, 'str'],
  ['clientId', DhcpOpt.CLIENT_ID, 'bytes'],
  ['relayAgentInfo', DhcpOpt.RELAY_AGENT_INFO, 'bytes'],
];
const FIELD_BY_CODE = new Map(FIELDS.map((f) => [f[1], f] as const));
const FIELD_BY_NAME = new Map(FIELDS.map((f) => [f[0], f] as const));

const utf8Dec = new TextDecoder();
const utf8Enc = new TextEncoder();

/** The data of option `code`, with repeated instances concatenated (RFC 3396); undefined when absent. */
export function dhcpOptionData(options: readonly DhcpOption[], code: number): Uint8Array | undefined {
  let first: Uint8Array | undefined;
  let parts: Uint8Array[] | undefined;
  for (const opt of options) {
    if (opt.code !== code) continue;
    if (!first) first = opt.data;
    else (parts ??= [first]).push(opt.data);
  }
  if (!parts) return first;
  const out = new Uint8Array(parts.reduce((n, d) => n + d.length, 0));
  let p = 0;
  for (const d of parts) {
    out.set(d, p);
    p += d.length;
  }
  return out;
}

function readField(kind: FieldKind, d: Uint8Array, code: number): unknown {
  const bad = (): never => {
    throw new DecodeError(LAYER, `option ${code} has bad length ${d.length}`, 0);
  };
  switch (kind) {
    case 'u8':
      return d.length === 1 ? d[0]! : bad();
    case 'u16':
      return d.length === 2 ? u16(d, 0) : bad();
    case 'u32':
    case 'ip':
      return d.length === 4 ? u32(d, 0) : bad();
    case 'ips': {
      if (d.length === 0 || d.length % 4 !== 0) bad();
      const out: Ip4[] = [];
      for (let i = 0; i < d.length; i += 4) out.push(u32(d, i));
      return out;
    }
    case 'u8s':
      return Array.from(d);
    case 'str':
      return utf8Dec.decode(d);
    case 'bytes':
      return d;
  }
}

/**
 * The known options as a typed record. Throws DecodeError when one has a length its type does
 * not allow (a 3-byte subnet mask); unknown options are left in the list.
 */
export function readDhcpFields(options: readonly DhcpOption[]): DhcpFields {
  const out: Record<string, unknown> = {};
  const seen = new Set<number>();
  for (const opt of options) {
    const f = FIELD_BY_CODE.get(opt.code);
    if (!f || seen.has(opt.code)) continue;
    seen.add(opt.code);
    out[f[0]] = readField(f[2], dhcpOptionData(options, opt.code)!, opt.code);
  }
  return out as DhcpFields;
}

function fieldBytes(kind: FieldKind, v: unknown): Uint8Array {
  switch (kind) {
    case 'u8':
      return Uint8Array.of(v as number);
    case 'u16': {
      const d = new Uint8Array(2);
      put16(d, 0, v as number);
      return d;
    }
    case 'u32':
    case 'ip': {
      const d = new Uint8Array(4);
      put32(d, 0, v as number);
      return d;
    }
    case 'ips': {
      const ips = v as Ip4[];
      const d = new Uint8Array(4 * ips.length);
      ips.forEach((ip, i) => put32(d, 4 * i, ip));
      return d;
    }
    case 'u8s':
      return Uint8Array.from(v as number[]);
    case 'str':
      return utf8Enc.encode(v as string);
    case 'bytes':
      return v as Uint8Array;
  }
}

/**
 * Options for a record, in the record's key order (so a server can mimic dnsmasq's order by
 * listing fields in that order). Data longer than 255 bytes become consecutive options (RFC 3396).
 */
export function dhcpOptionsFrom(fields: DhcpFields): DhcpOption[] {
  const out: DhcpOption[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const f = FIELD_BY_NAME.get(name as keyof DhcpFields);
    if (!f) throw new EncodeError(`dhcp: unknown field ${name}`);
    const data = fieldBytes(f[2], value);
    if (data.length <= 255) out.push({ code: f[1], data });
    else for (let i = 0; i < data.length; i += 255) out.push({ code: f[1], data: data.subarray(i, i + 255) });
  }
  return out;
}

/** The client identifier Ethernet clients send: htype 1 followed by the MAC. */
export function dhcpClientIdFromMac(mac: Mac): Uint8Array {
  const d = new Uint8Array(7);
  d[0] = 1;
  putMac(d, 1, mac);
  return d;
}
