/** ARP (RFC 826) for Ethernet and IPv4 only: the one combination a lab ever carries. */
import { type Ip4, type Mac, MAC_BROADCAST, macAt, putMac, put16, put32, u16, u32 } from './bytes.js';
import { DecodeError, need, room } from './errors.js';
import { ETHERTYPE, buildEthernetFrame } from './ethernet.js';

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const ARP_LENGTH = 28;

export interface ArpPacket {
  /** 1 request, 2 reply; other values decode but mean nothing to an IPv4 stack. */
  op: number;
  senderMac: Mac;
  senderIp: Ip4;
  targetMac: Mac;
  targetIp: Ip4;
}

// ---- hot path: caller guarantees 28 bytes ----
export function arpOp(b: Uint8Array, o: number): number {
  return u16(b, o + 6);
}
export function arpSenderMac(b: Uint8Array, o: number): Mac {
  return macAt(b, o + 8);
}
export function arpSenderIp(b: Uint8Array, o: number): Ip4 {
  return u32(b, o + 14);
}
export function arpTargetMac(b: Uint8Array, o: number): Mac {
  return macAt(b, o + 18);
}
export function arpTargetIp(b: Uint8Array, o: number): Ip4 {
  return u32(b, o + 24);
}

export function arpLength(): number {
  return ARP_LENGTH;
}

/** Decodes the 28-byte body; trailing Ethernet padding after it is ignored. */
export function decodeArp(buf: Uint8Array, offset = 0): ArpPacket {
  need('arp', buf, offset, ARP_LENGTH);
  if (u16(buf, offset) !== 1) throw new DecodeError('arp', `hardware type ${u16(buf, offset)} is not Ethernet`, offset);
  if (u16(buf, offset + 2) !== ETHERTYPE.IPV4) throw new DecodeError('arp', 'protocol type is not IPv4', offset + 2);
  if (buf[offset + 4] !== 6 || buf[offset + 5] !== 4) throw new DecodeError('arp', 'address lengths are not 6 and 4', offset + 4);
  return {
    op: u16(buf, offset + 6),
    senderMac: macAt(buf, offset + 8),
    senderIp: u32(buf, offset + 14),
    targetMac: macAt(buf, offset + 18),
    targetIp: u32(buf, offset + 24),
  };
}

export function encodeArp(p: ArpPacket, buf: Uint8Array, offset = 0): number {
  room('arp', buf, offset, ARP_LENGTH);
  put16(buf, offset, 1);
  put16(buf, offset + 2, ETHERTYPE.IPV4);
  buf[offset + 4] = 6;
  buf[offset + 5] = 4;
  put16(buf, offset + 6, p.op);
  putMac(buf, offset + 8, p.senderMac);
  put32(buf, offset + 14, p.senderIp);
  putMac(buf, offset + 18, p.targetMac);
  put32(buf, offset + 24, p.targetIp);
  return ARP_LENGTH;
}

/**
 * A whole Ethernet frame carrying `p`. Requests go to broadcast and replies to the target MAC
 * unless `dst` says otherwise; padded to 60 bytes unless `pad` is false (Linux sends 42).
 */
export function buildArpFrame(p: ArpPacket, dst: Mac = p.op === ARP_REQUEST ? MAC_BROADCAST : p.targetMac, pad = true): Uint8Array {
  const body = new Uint8Array(ARP_LENGTH);
  encodeArp(p, body, 0);
  return buildEthernetFrame({ dst, src: p.senderMac, tags: [], etherType: ETHERTYPE.ARP }, body, pad);
}

/**
 * Gratuitous ARP announcing `ip` at `mac` (RFC 5227 2.3 announcement: a broadcast request with
 * sender and target IP both ours). RFC 5227 wants the target MAC zero; VPCS sends broadcast, so
 * it is a parameter.
 */
export function gratuitousArp(mac: Mac, ip: Ip4, targetMac: Mac = 0): ArpPacket {
  return { op: ARP_REQUEST, senderMac: mac, senderIp: ip, targetMac, targetIp: ip };
}

/** The gratuitous ARP as a broadcast Ethernet frame. */
export function gratuitousArpFrame(mac: Mac, ip: Ip4, targetMac: Mac = 0, pad = true): Uint8Array {
  return buildArpFrame(gratuitousArp(mac, ip, targetMac), MAC_BROADCAST, pad);
}
