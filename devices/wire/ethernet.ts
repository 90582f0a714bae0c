/**
 * Ethernet II and IEEE 802.3 framing, with 802.1Q / 802.1ad tags. A frame here is what the spec
 * calls a frame: destination MAC first, no preamble, no FCS.
 */
import { type Mac, macAt, putMac, put16, u16 } from './bytes.js';
import { DecodeError, need, room } from './errors.js';

export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  IPV6: 0x86dd,
  VLAN: 0x8100,
  QINQ: 0x88a8,
} as const;

export const ETH_HEADER_LENGTH = 14;
export const VLAN_TAG_LENGTH = 4;
/** Smallest frame on the wire without FCS (64 with it); shorter frames are runts. */
export const ETH_MIN_FRAME = 60;
/** Type/length values up to this are 802.3 lengths (IEEE 802.3 3.2.6). */
export const ETH_MAX_LENGTH = 1500;
/** Values from here up are EtherTypes; 1501..1535 mean nothing and are refused. */
export const ETH_MIN_ETHERTYPE = 0x0600;

export interface VlanTag {
  tpid: number;
  /** Priority code point, 0..7. */
  pcp: number;
  /** Drop eligible indicator, 0 or 1. */
  dei: number;
  /** VLAN id, 0..4095 (0 = priority tag only). */
  vid: number;
}

/** IEEE 802.2 LLC header of an 802.3 length frame (STP uses 0x42/0x42/0x03). */
export interface LlcHeader {
  dsap: number;
  ssap: number;
  /** First control octet; its low two bits say the format (11 = U-format, one octet). */
  control: number;
  /** Second control octet of I- and S-format PDUs, absent for U-format. */
  control2?: number;
}

/** What encodeEthernet needs. */
export interface EthernetFields {
  dst: Mac;
  src: Mac;
  /** Outermost first, as on the wire. */
  tags: VlanTag[];
  /** The type/length field after the tags: an EtherType, or the 802.3 length when <= 1500. */
  etherType: number;
  /** Present exactly when etherType is an 802.3 length. */
  llc?: LlcHeader;
}

export interface EthernetHeader extends EthernetFields {
  /** First byte after the header (after the LLC header for 802.3 frames). */
  payloadOffset: number;
  /**
   * Bytes of payload. For 802.3 the length field says it (padding excluded); for Ethernet II it
   * runs to the end of the buffer, padding included, and the next layer knows its own length.
   */
  payloadLength: number;
}

// ---- hot path: offset readers, no allocation, caller guarantees 14 bytes ----

export function ethDst(b: Uint8Array, o: number): Mac {
  return macAt(b, o);
}
export function ethSrc(b: Uint8Array, o: number): Mac {
  return macAt(b, o + 6);
}
/** The type/length field right after the MACs (0x8100 for a tagged frame). */
export function ethType(b: Uint8Array, o: number): number {
  return u16(b, o + 12);
}
function isTpid(t: number): boolean {
  return t === ETHERTYPE.VLAN || t === ETHERTYPE.QINQ;
}
/** Offset of the type/length field after all tags, or -1 when the frame ends inside a tag. */
export function ethInnerTypeOffset(b: Uint8Array, o: number): number {
  let p = o + 12;
  while (p + 2 <= b.length && isTpid(u16(b, p))) p += VLAN_TAG_LENGTH;
  return p + 2 <= b.length ? p : -1;
}
/** The EtherType (or 802.3 length) after all tags, or -1 when truncated. */
export function ethInnerType(b: Uint8Array, o: number): number {
  const p = ethInnerTypeOffset(b, o);
  return p < 0 ? -1 : u16(b, p);
}
/** Offset of the L3 payload of an Ethernet II frame (after tags), or -1 when truncated. */
export function ethPayloadOffset(b: Uint8Array, o: number): number {
  const p = ethInnerTypeOffset(b, o);
  return p < 0 ? -1 : p + 2;
}
/** VID of the outermost tag, or -1 for an untagged (or truncated) frame. */
export function ethVid(b: Uint8Array, o: number): number {
  if (o + 16 > b.length || !isTpid(u16(b, o + 12))) return -1;
  return u16(b, o + 14) & 0x0fff;
}
/** PCP of the outermost tag, or -1 when untagged. */
export function ethPcp(b: Uint8Array, o: number): number {
  if (o + 16 > b.length || !isTpid(u16(b, o + 12))) return -1;
  return b[o + 14]! >>> 5;
}

/**
 * Writes an Ethernet II header at `o`: destination and source MAC, an 802.1Q tag carrying `vid`
 * (PCP and DEI 0) unless `vid` is negative, then `etherType`. Returns the header length (14 or
 * 18). The one writer of the header every sender of IP and ARP frames uses; allocates nothing.
 */
export function putEthernetHeader(b: Uint8Array, o: number, dst: Mac, src: Mac, vid: number, etherType: number): number {
  // Byte by byte, without calls, and the tag out of line: a router's fast path inlines this
  // into its frame loop, where V8 counts every inlined byte against one budget.
  const dstHi = Math.floor(dst / 0x1_0000_0000);
  b[o] = dstHi >>> 8;
  b[o + 1] = dstHi & 0xff;
  b[o + 2] = dst >>> 24;
  b[o + 3] = (dst >>> 16) & 0xff;
  b[o + 4] = (dst >>> 8) & 0xff;
  b[o + 5] = dst & 0xff;
  const srcHi = Math.floor(src / 0x1_0000_0000);
  b[o + 6] = srcHi >>> 8;
  b[o + 7] = srcHi & 0xff;
  b[o + 8] = src >>> 24;
  b[o + 9] = (src >>> 16) & 0xff;
  b[o + 10] = (src >>> 8) & 0xff;
  b[o + 11] = src & 0xff;
  if (vid >= 0) return putTagAndType(b, o + 12, vid, etherType);
  b[o + 12] = etherType >>> 8;
  b[o + 13] = etherType & 0xff;
  return ETH_HEADER_LENGTH;
}

/** The 802.1Q tag and the EtherType after it, at `p`. */
function putTagAndType(b: Uint8Array, p: number, vid: number, etherType: number): number {
  put16(b, p, ETHERTYPE.VLAN);
  put16(b, p + 2, vid & 0x0fff);
  put16(b, p + 4, etherType);
  return ETH_HEADER_LENGTH + VLAN_TAG_LENGTH;
}

// ---- decode / encode ----

function llcLength(control: number): number {
  return (control & 0x03) === 0x03 ? 3 : 4;
}

export function decodeEthernet(buf: Uint8Array, offset = 0): EthernetHeader {
  need('ethernet', buf, offset, ETH_HEADER_LENGTH);
  const dst = macAt(buf, offset);
  const src = macAt(buf, offset + 6);
  const tags: VlanTag[] = [];
  let p = offset + 12;
  let t = u16(buf, p);
  while (isTpid(t)) {
    need('ethernet', buf, p, VLAN_TAG_LENGTH + 2);
    const tci = u16(buf, p + 2);
    tags.push({ tpid: t, pcp: tci >>> 13, dei: (tci >>> 12) & 1, vid: tci & 0x0fff });
    p += VLAN_TAG_LENGTH;
    t = u16(buf, p);
  }
  p += 2;
  if (t <= ETH_MAX_LENGTH) {
    // 802.3: the length counts the LLC header and data, and lets us drop the padding.
    need('ethernet', buf, p, t);
    if (t < 3) throw new DecodeError('ethernet', `802.3 length ${t} leaves no room for LLC`, p - 2);
    const dsap = buf[p]!;
    const ssap = buf[p + 1]!;
    const control = buf[p + 2]!;
    const ll = llcLength(control);
    if (t < ll) throw new DecodeError('ethernet', 'LLC I/S-format control needs 2 bytes', p + 2);
    const llc: LlcHeader = ll === 3 ? { dsap, ssap, control } : { dsap, ssap, control, control2: buf[p + 3]! };
    return { dst, src, tags, etherType: t, llc, payloadOffset: p + ll, payloadLength: t - ll };
  }
  if (t < ETH_MIN_ETHERTYPE) throw new DecodeError('ethernet', `type/length 0x${t.toString(16)} is neither`, p - 2);
  return { dst, src, tags, etherType: t, payloadOffset: p, payloadLength: buf.length - p };
}

/** Header bytes encodeEthernet writes: MACs, tags, type/length and the LLC header if any. */
export function ethernetHeaderLength(h: EthernetFields): number {
  return ETH_HEADER_LENGTH + VLAN_TAG_LENGTH * h.tags.length + (h.llc ? llcLength(h.llc.control) : 0);
}

/** Writes the header only; the caller puts the payload after it. Returns bytes written. */
export function encodeEthernet(h: EthernetFields, buf: Uint8Array, offset: number): number {
  const len = ethernetHeaderLength(h);
  room('ethernet', buf, offset, len);
  putMac(buf, offset, h.dst);
  putMac(buf, offset + 6, h.src);
  let p = offset + 12;
  for (const tag of h.tags) {
    put16(buf, p, tag.tpid);
    put16(buf, p + 2, ((tag.pcp & 7) << 13) | ((tag.dei & 1) << 12) | (tag.vid & 0x0fff));
    p += VLAN_TAG_LENGTH;
  }
  put16(buf, p, h.etherType);
  p += 2;
  if (h.llc) {
    buf[p] = h.llc.dsap;
    buf[p + 1] = h.llc.ssap;
    buf[p + 2] = h.llc.control;
    if (llcLength(h.llc.control) === 4) buf[p + 3] = h.llc.control2 ?? 0;
  }
  return len;
}

/** A whole frame: header, payload, and zero padding up to 60 bytes unless `pad` is false. */
export function buildEthernetFrame(h: EthernetFields, payload: Uint8Array, pad = true): Uint8Array {
  const hl = ethernetHeaderLength(h);
  const out = new Uint8Array(Math.max(hl + payload.length, pad ? ETH_MIN_FRAME : 0));
  encodeEthernet(h, out, 0);
  out.set(payload, hl);
  return out;
}

/**
 * Inserts a tag as the new outermost one (after the MACs). Use tpid 0x88a8 to add an S-tag in
 * front of an existing C-tag. Returns a new frame; the input is not changed.
 */
export function pushVlanTag(frame: Uint8Array, vid: number, pcp = 0, tpid: number = ETHERTYPE.VLAN, dei = 0): Uint8Array {
  need('ethernet', frame, 0, ETH_HEADER_LENGTH);
  const out = new Uint8Array(frame.length + VLAN_TAG_LENGTH);
  out.set(frame.subarray(0, 12), 0);
  put16(out, 12, tpid);
  put16(out, 14, ((pcp & 7) << 13) | ((dei & 1) << 12) | (vid & 0x0fff));
  out.set(frame.subarray(12), 16);
  return out;
}

/**
 * Removes the outermost tag and returns a new frame. It does not pad: a minimum-size tagged frame
 * (64 bytes) pops to exactly 60, and shorter ones are the caller's to pad with padFrame.
 */
export function popVlanTag(frame: Uint8Array): Uint8Array {
  need('ethernet', frame, 0, ETH_HEADER_LENGTH + VLAN_TAG_LENGTH);
  if (!isTpid(u16(frame, 12))) throw new DecodeError('ethernet', 'frame has no VLAN tag to pop', 12);
  const out = new Uint8Array(frame.length - VLAN_TAG_LENGTH);
  out.set(frame.subarray(0, 12), 0);
  out.set(frame.subarray(16), 12);
  return out;
}

/** Returns the frame itself when long enough, else a zero-padded copy of `min` bytes. */
export function padFrame(frame: Uint8Array, min = ETH_MIN_FRAME): Uint8Array {
  if (frame.length >= min) return frame;
  const out = new Uint8Array(min);
  out.set(frame);
  return out;
}
