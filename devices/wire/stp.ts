/**
 * Spanning tree BPDUs: IEEE 802.1D Configuration and TCN, and 802.1w RST BPDUs. They travel in
 * 802.3 length frames with LLC 0x42/0x42/0x03 to 01:80:c2:00:00:00.
 */
import { type Mac, macAt, putMac, put16, u16, u32, put32 } from './bytes.js';
import { DecodeError, need, room } from './errors.js';
import { buildEthernetFrame, decodeEthernet, type EthernetHeader } from './ethernet.js';

export const STP_MULTICAST: Mac = 0x0180_c200_0000;
export const LLC_STP = { dsap: 0x42, ssap: 0x42, control: 0x03 } as const;

export const BPDU_TYPE = { CONFIG: 0x00, RST: 0x02, TCN: 0x80 } as const;
export const STP_VERSION = { STP: 0, RSTP: 2, MSTP: 3 } as const;
/** Port role in RST BPDU flags bits 3-2 (802.1w 9.3.3). */
export const PORT_ROLE = { UNKNOWN: 0, ALTERNATE_BACKUP: 1, ROOT: 2, DESIGNATED: 3 } as const;

export const CONFIG_BPDU_LENGTH = 35;
export const TCN_BPDU_LENGTH = 4;
/** Config fields plus the Version 1 Length octet (always 0). */
export const RST_BPDU_LENGTH = 36;

export interface BridgeId {
  /** The 16-bit priority field; since 802.1t its low 12 bits carry the system id extension (VLAN). */
  priority: number;
  mac: Mac;
}

export interface BpduFlags {
  tc: boolean;
  proposal: boolean;
  /** PORT_ROLE value. */
  role: number;
  learning: boolean;
  forwarding: boolean;
  agreement: boolean;
  tca: boolean;
}

export interface TcnBpdu {
  type: typeof BPDU_TYPE.TCN;
  protocolId: number;
  version: number;
}

export interface ConfigBpdu {
  /** CONFIG (802.1D) or RST (802.1w; version 2, or 3 for an MST BPDU read as RST). */
  type: typeof BPDU_TYPE.CONFIG | typeof BPDU_TYPE.RST;
  protocolId: number;
  version: number;
  flags: BpduFlags;
  rootId: BridgeId;
  rootPathCost: number;
  bridgeId: BridgeId;
  portId: number;
  /** Times in seconds; the wire carries 1/256 s units, so any n/256 round-trips exactly. */
  messageAge: number;
  maxAge: number;
  helloTime: number;
  forwardDelay: number;
}

export type Bpdu = TcnBpdu | ConfigBpdu;

export function flagsToByte(f: BpduFlags): number {
  return (
    (f.tc ? 0x01 : 0) |
    (f.proposal ? 0x02 : 0) |
    ((f.role & 3) << 2) |
    (f.learning ? 0x10 : 0) |
    (f.forwarding ? 0x20 : 0) |
    (f.agreement ? 0x40 : 0) |
    (f.tca ? 0x80 : 0)
  );
}
export function flagsFromByte(b: number): BpduFlags {
  return {
    tc: (b & 0x01) !== 0,
    proposal: (b & 0x02) !== 0,
    role: (b >>> 2) & 3,
    learning: (b & 0x10) !== 0,
    forwarding: (b & 0x20) !== 0,
    agreement: (b & 0x40) !== 0,
    tca: (b & 0x80) !== 0,
  };
}

function bridgeIdAt(b: Uint8Array, o: number): BridgeId {
  return { priority: u16(b, o), mac: macAt(b, o + 2) };
}
function putBridgeId(b: Uint8Array, o: number, id: BridgeId): void {
  put16(b, o, id.priority);
  putMac(b, o + 2, id.mac);
}
function timeAt(b: Uint8Array, o: number): number {
  return u16(b, o) / 256;
}
function putTime(b: Uint8Array, o: number, seconds: number): void {
  put16(b, o, Math.min(0xffff, Math.max(0, Math.round(seconds * 256))));
}

/**
 * Decodes the BPDU at buf[offset, offset+length) (the LLC payload). Validation follows 802.1D
 * 9.3.4: protocol id 0, a known type and enough bytes for it; extra bytes (MSTP's) are ignored.
 */
export function decodeBpdu(buf: Uint8Array, offset = 0, length = buf.length - offset): Bpdu {
  need('stp', buf, offset, length);
  if (length < TCN_BPDU_LENGTH) throw new DecodeError('stp', `BPDU of ${length} bytes`, offset);
  const protocolId = u16(buf, offset);
  if (protocolId !== 0) throw new DecodeError('stp', `protocol id ${protocolId}`, offset);
  const version = buf[offset + 2]!;
  const type = buf[offset + 3]!;
  if (type === BPDU_TYPE.TCN) return { type, protocolId, version };
  if (type !== BPDU_TYPE.CONFIG && type !== BPDU_TYPE.RST) throw new DecodeError('stp', `BPDU type 0x${type.toString(16)}`, offset + 3);
  const min = type === BPDU_TYPE.RST ? RST_BPDU_LENGTH : CONFIG_BPDU_LENGTH;
  if (length < min) throw new DecodeError('stp', `BPDU type ${type} needs ${min} bytes, has ${length}`, offset);
  return {
    type,
    protocolId,
    version,
    flags: flagsFromByte(buf[offset + 4]!),
    rootId: bridgeIdAt(buf, offset + 5),
    rootPathCost: u32(buf, offset + 13),
    bridgeId: bridgeIdAt(buf, offset + 17),
    portId: u16(buf, offset + 25),
    messageAge: timeAt(buf, offset + 27),
    maxAge: timeAt(buf, offset + 29),
    helloTime: timeAt(buf, offset + 31),
    forwardDelay: timeAt(buf, offset + 33),
  };
}

export function bpduLength(b: Bpdu): number {
  return b.type === BPDU_TYPE.TCN ? TCN_BPDU_LENGTH : b.type === BPDU_TYPE.RST ? RST_BPDU_LENGTH : CONFIG_BPDU_LENGTH;
}

export function encodeBpdu(b: Bpdu, buf: Uint8Array, offset = 0): number {
  const len = bpduLength(b);
  room('stp', buf, offset, len);
  put16(buf, offset, b.protocolId);
  buf[offset + 2] = b.version;
  buf[offset + 3] = b.type;
  if (b.type === BPDU_TYPE.TCN) return len;
  buf[offset + 4] = flagsToByte(b.flags);
  putBridgeId(buf, offset + 5, b.rootId);
  put32(buf, offset + 13, b.rootPathCost);
  putBridgeId(buf, offset + 17, b.bridgeId);
  put16(buf, offset + 25, b.portId);
  putTime(buf, offset + 27, b.messageAge);
  putTime(buf, offset + 29, b.maxAge);
  putTime(buf, offset + 31, b.helloTime);
  putTime(buf, offset + 33, b.forwardDelay);
  if (b.type === BPDU_TYPE.RST) buf[offset + 35] = 0; // Version 1 Length
  return len;
}

/**
 * The whole frame: 802.3 header to 01:80:c2:00:00:00 from the port's MAC, LLC, BPDU, padded to
 * 60 bytes. `pad` false gives the unpadded frame (the Linux bridge sends 52-byte ones).
 */
export function buildStpFrame(b: Bpdu, src: Mac, pad = true): Uint8Array {
  const body = new Uint8Array(bpduLength(b));
  encodeBpdu(b, body, 0);
  return buildEthernetFrame({ dst: STP_MULTICAST, src, tags: [], etherType: 3 + body.length, llc: { ...LLC_STP } }, body, pad);
}

export interface StpFrame {
  eth: EthernetHeader;
  bpdu: Bpdu;
}

/** Decodes a whole frame; throws DecodeError unless it is an 802.3/LLC 0x42 BPDU frame. */
export function decodeStpFrame(frame: Uint8Array, offset = 0): StpFrame {
  const eth = decodeEthernet(frame, offset);
  const llc = eth.llc;
  if (!llc || llc.dsap !== 0x42 || llc.ssap !== 0x42 || llc.control !== 0x03) {
    throw new DecodeError('stp', 'not an LLC 0x42/0x42/0x03 frame', offset + 12);
  }
  return { eth, bpdu: decodeBpdu(frame, eth.payloadOffset, eth.payloadLength) };
}

/** Allocation-free test for the hot path: an untagged 802.3 frame with the STP LLC header. */
export function isStpFrame(b: Uint8Array, o: number): boolean {
  if (o + 17 > b.length) return false;
  const len = u16(b, o + 12);
  return len <= 1500 && b[o + 14] === 0x42 && b[o + 15] === 0x42 && b[o + 16] === 0x03;
}
