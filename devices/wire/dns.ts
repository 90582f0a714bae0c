/**
 * DNS messages through the dns-packet library, behind the same decode/encode/encodingLength
 * shape as the other codecs: Uint8Array in and out, and only DecodeError for bad input.
 */
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet } from 'dns-packet';
import { DecodeError, EncodeError, room } from './errors.js';

export type {
  Answer as DnsAnswer,
  DecodedPacket as DnsDecodedPacket,
  OptAnswer as DnsOptAnswer,
  Packet as DnsPacket,
  PacketOpt as DnsPacketOpt,
  Question as DnsQuestion,
  RecordClass as DnsRecordClass,
  RecordType as DnsRecordType,
  StringAnswer as DnsStringAnswer,
} from 'dns-packet';

const LAYER = 'dns';
export const DNS_PORT = 53;
export const DNS_HEADER_LEN = 12;

export const DNS_FLAG_AA = dnsPacket.AUTHORITATIVE_ANSWER;
export const DNS_FLAG_TC = dnsPacket.TRUNCATED_RESPONSE;
export const DNS_FLAG_RD = dnsPacket.RECURSION_DESIRED;
export const DNS_FLAG_RA = dnsPacket.RECURSION_AVAILABLE;
export const DNS_FLAG_AD = dnsPacket.AUTHENTIC_DATA;
export const DNS_FLAG_CD = dnsPacket.CHECKING_DISABLED;
export const DNS_FLAG_DO = dnsPacket.DNSSEC_OK;
/** Response codes, carried in the low 4 bits of `flags` when encoding. */
export const DNS_RCODE_NOERROR = 0;
export const DNS_RCODE_FORMERR = 1;
export const DNS_RCODE_SERVFAIL = 2;
export const DNS_RCODE_NXDOMAIN = 3;
export const DNS_RCODE_NOTIMP = 4;
export const DNS_RCODE_REFUSED = 5;

/** What decodeDns returns: dns-packet also sets these two, which its typings leave out. */
export interface DnsMessage extends DecodedPacket {
  /** "QUERY", "IQUERY", "STATUS", ... */
  opcode: string;
  /** "NOERROR", "NXDOMAIN", "REFUSED", ... */
  rcode: string;
}

/**
 * dns-packet calls Buffer methods on what it is given. `devices/` imports no Node module, so the
 * global is used; a browser build must install a Buffer polyfill on globalThis.
 */
function view(buf: Uint8Array, offset: number, length: number): Buffer {
  return globalThis.Buffer.from(buf.buffer, buf.byteOffset + offset, length);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// Offset readers for the resolver's receive path (matching replies by id).
export function dnsId(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
export function dnsIsResponse(b: Uint8Array, o: number): boolean {
  return (b[o + 2]! & 0x80) !== 0;
}

/**
 * Decodes the message occupying buf[offset..offset+length) (a UDP payload, or a TCP message
 * after its 2-byte length prefix). Buffer-valued fields (OPT option data, unknown RDATA) are
 * views into `buf`, not copies: copy them before reusing the buffer.
 */
export function decodeDns(buf: Uint8Array, offset = 0, length = buf.length - offset): DnsMessage {
  if (offset < 0 || length < 0 || offset + length > buf.length) {
    throw new DecodeError(LAYER, `truncated: need ${length} bytes, have ${Math.max(0, buf.length - offset)}`, offset);
  }
  if (length < DNS_HEADER_LEN) throw new DecodeError(LAYER, `message of ${length} bytes is shorter than the header`, offset);
  let msg: DnsMessage;
  try {
    msg = dnsPacket.decode(view(buf, offset, length), 0) as DnsMessage;
  } catch (e) {
    throw new DecodeError(LAYER, message(e), offset);
  }
  // dns-packet slices RDATA without checking the end, so a record cut short decodes silently;
  // only its count of consumed bytes gives it away.
  if (dnsPacket.decode.bytes > length) {
    throw new DecodeError(LAYER, `truncated: records need ${dnsPacket.decode.bytes} bytes, have ${length}`, offset);
  }
  return msg;
}

/** Bytes `encodeDns` will write. dns-packet does not compress names, so replies can be longer than a real server's. */
export function dnsEncodingLength(packet: Packet): number {
  try {
    return dnsPacket.encodingLength(packet);
  } catch (e) {
    throw new EncodeError(`dns: ${message(e)}`);
  }
}

/** Writes the message at `offset`; returns bytes written. A packet dns-packet cannot encode is an EncodeError. */
export function encodeDns(packet: Packet, buf: Uint8Array, offset = 0): number {
  const len = dnsEncodingLength(packet);
  room(LAYER, buf, offset, len);
  try {
    dnsPacket.encode(packet, view(buf, offset, len), 0);
  } catch (e) {
    throw new EncodeError(`dns: ${message(e)}`);
  }
  return len;
}

type AnswerOfType<A, T> = A extends { type: infer U } ? (T extends U ? A : never) : never;
/** The record shape of an answer type: DnsAnswerOf<'AAAA'> has a string `data`. */
export type DnsAnswerOf<T extends Answer['type']> = AnswerOfType<Answer, T>;

/** The answers of one type, e.g. dnsAnswersOf(p, 'A') for the addresses. */
export function dnsAnswersOf<T extends Answer['type']>(p: Packet, type: T): DnsAnswerOf<T>[] {
  return (p.answers ?? []).filter((a) => a.type === type) as DnsAnswerOf<T>[];
}
