/**
 * Capture file blocks, written into the caller's buffer: pcapng (Section Header, Interface
 * Description and Enhanced Packet Blocks, nanosecond timestamps) and classic pcap with the
 * nanosecond magic. Pure and stateless, so the engine's streaming capture and the browser's trace
 * download write the same bytes. Each writer takes a DataView over `buf`'s whole buffer, writes at
 * `p` and returns where the block ends; the caller reserves the block's length first.
 */

export const LINKTYPE_ETHERNET = 1;
/** Enhanced Packet Block direction flag (epb_flags bits 0-1). */
export const PCAPNG_INBOUND = 1;
export const PCAPNG_OUTBOUND = 2;

export function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** An option holding text: code, length, the bytes padded to 32 bits. */
function writeTextOption(v: DataView, buf: Uint8Array, p: number, code: number, text: Uint8Array): number {
  v.setUint16(p, code, true);
  v.setUint16(p + 2, text.length, true);
  buf.set(text, p + 4);
  const end = p + 4 + pad4(text.length);
  buf.fill(0, p + 4 + text.length, end);
  return end;
}

/** Length of a Section Header Block naming the writing application. */
export function pcapngSectionHeaderLength(app: Uint8Array): number {
  return 24 + 4 + pad4(app.length) + 4 + 4;
}

/** A Section Header Block of unknown section length (the file streams), with shb_userappl. */
export function writePcapngSectionHeader(v: DataView, buf: Uint8Array, p: number, app: Uint8Array): number {
  const len = pcapngSectionHeaderLength(app);
  v.setUint32(p, 0x0a0d0d0a, true);
  v.setUint32(p + 4, len, true);
  v.setUint32(p + 8, 0x1a2b3c4d, true); // byte-order magic
  v.setUint16(p + 12, 1, true); // version 1.0
  v.setUint16(p + 14, 0, true);
  v.setInt32(p + 16, -1, true); // section length unknown
  v.setInt32(p + 20, -1, true);
  p = writeTextOption(v, buf, p + 24, 4, app); // shb_userappl
  v.setUint32(p, 0, true); // opt_endofopt
  v.setUint32(p + 4, len, true);
  return p + 8;
}

/** Length of an Interface Description Block with an if_name and if_tsresol. */
export function pcapngInterfaceLength(name: Uint8Array): number {
  return 16 + 4 + pad4(name.length) + 8 + 4 + 4;
}

/** An Ethernet Interface Description Block named `name`, nanosecond timestamps. */
export function writePcapngInterface(v: DataView, buf: Uint8Array, p: number, name: Uint8Array, snaplen: number): number {
  const len = pcapngInterfaceLength(name);
  v.setUint32(p, 1, true);
  v.setUint32(p + 4, len, true);
  v.setUint16(p + 8, LINKTYPE_ETHERNET, true);
  v.setUint16(p + 10, 0, true);
  v.setUint32(p + 12, snaplen, true);
  p = writeTextOption(v, buf, p + 16, 2, name); // if_name
  v.setUint16(p, 9, true); // if_tsresol: 10^-9 s
  v.setUint16(p + 2, 1, true);
  v.setUint32(p + 4, 9, true);
  p += 8;
  v.setUint32(p, 0, true); // opt_endofopt
  v.setUint32(p + 4, len, true);
  return p + 8;
}

/** Length of an Enhanced Packet Block keeping `caplen` bytes of a frame, with epb_flags. */
export function pcapngPacketLength(caplen: number): number {
  return 28 + pad4(caplen) + 12 + 4;
}

/**
 * An Enhanced Packet Block: the first `caplen` bytes of `frame` on interface `iface`, at the
 * timestamp whose 64-bit nanosecond count is `tsHi * 2^32 + tsLo`, with a direction flag.
 */
export function writePcapngPacket(
  v: DataView,
  buf: Uint8Array,
  p: number,
  iface: number,
  tsHi: number,
  tsLo: number,
  frame: Uint8Array,
  caplen: number,
  direction: number,
): number {
  const len = pcapngPacketLength(caplen);
  v.setUint32(p, 6, true);
  v.setUint32(p + 4, len, true);
  v.setUint32(p + 8, iface, true);
  v.setUint32(p + 12, tsHi, true);
  v.setUint32(p + 16, tsLo, true);
  v.setUint32(p + 20, caplen, true);
  v.setUint32(p + 24, frame.length, true);
  buf.set(caplen === frame.length ? frame : frame.subarray(0, caplen), p + 28);
  const q = p + 28 + pad4(caplen);
  for (let i = p + 28 + caplen; i < q; i++) buf[i] = 0;
  v.setUint16(q, 2, true); // epb_flags
  v.setUint16(q + 2, 4, true);
  v.setUint32(q + 4, direction, true);
  v.setUint32(q + 8, 0, true); // opt_endofopt
  v.setUint32(q + 12, len, true);
  return p + len;
}

export const PCAP_HEADER_LENGTH = 24;

/** A classic pcap file header, nanosecond-resolution magic, Ethernet. */
export function writePcapHeader(v: DataView, p: number, snaplen: number): number {
  v.setUint32(p, 0xa1b23c4d, true);
  v.setUint16(p + 4, 2, true);
  v.setUint16(p + 6, 4, true);
  v.setInt32(p + 8, 0, true);
  v.setUint32(p + 12, 0, true);
  v.setUint32(p + 16, snaplen, true);
  v.setUint32(p + 20, LINKTYPE_ETHERNET, true);
  return p + PCAP_HEADER_LENGTH;
}

/** A classic pcap record: the first `caplen` bytes of `frame` at `sec` seconds and `ns` nanoseconds. */
export function writePcapRecord(v: DataView, buf: Uint8Array, p: number, sec: number, ns: number, frame: Uint8Array, caplen: number): number {
  v.setUint32(p, sec >>> 0, true);
  v.setUint32(p + 4, ns, true);
  v.setUint32(p + 8, caplen, true);
  v.setUint32(p + 12, frame.length, true);
  buf.set(caplen === frame.length ? frame : frame.subarray(0, caplen), p + 16);
  return p + 16 + caplen;
}
