/** A minimal pcapng/pcap reader for tests: enough to check what our writer produced. */
export interface ReadBlock {
  type: number;
  body: DataView;
  length: number;
}
export interface ReadPacket {
  iface: number;
  tsNs: bigint;
  data: Uint8Array;
  origLen: number;
  flags?: number;
}
export interface ReadCapture {
  interfaces: { name: string; linktype: number; tsresol?: number }[];
  packets: ReadPacket[];
}

export function readPcapng(bytes: Uint8Array): ReadCapture {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: ReadCapture = { interfaces: [], packets: [] };
  let p = 0;
  while (p < bytes.length) {
    const type = v.getUint32(p, true);
    const len = v.getUint32(p + 4, true);
    if (len % 4 !== 0 || len < 12 || p + len > bytes.length) throw new Error(`bad block length ${len} at ${p}`);
    if (v.getUint32(p + len - 4, true) !== len) throw new Error(`trailing length mismatch at ${p}`);
    if (type === 0x0a0d0d0a) {
      if (v.getUint32(p + 8, true) !== 0x1a2b3c4d) throw new Error('byte-order magic');
    } else if (type === 1) {
      const iface: { name: string; linktype: number; tsresol?: number } = { name: '', linktype: v.getUint16(p + 8, true) };
      let q = p + 16;
      while (q < p + len - 4) {
        const code = v.getUint16(q, true);
        const olen = v.getUint16(q + 2, true);
        if (code === 0) break;
        const val = bytes.subarray(q + 4, q + 4 + olen);
        if (code === 2) iface.name = new TextDecoder().decode(val);
        if (code === 9) iface.tsresol = val[0];
        q += 4 + ((olen + 3) & ~3);
      }
      out.interfaces.push(iface);
    } else if (type === 6) {
      const caplen = v.getUint32(p + 20, true);
      const pkt: ReadPacket = {
        iface: v.getUint32(p + 8, true),
        tsNs: (BigInt(v.getUint32(p + 12, true)) << 32n) | BigInt(v.getUint32(p + 16, true)),
        data: bytes.slice(p + 28, p + 28 + caplen),
        origLen: v.getUint32(p + 24, true),
      };
      let q = p + 28 + ((caplen + 3) & ~3);
      while (q < p + len - 4) {
        const code = v.getUint16(q, true);
        const olen = v.getUint16(q + 2, true);
        if (code === 0) break;
        if (code === 2) pkt.flags = v.getUint32(q + 4, true);
        q += 4 + ((olen + 3) & ~3);
      }
      out.packets.push(pkt);
    }
    p += len;
  }
  return out;
}

export function readPcap(bytes: Uint8Array): ReadCapture {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = v.getUint32(0, true);
  const nano = magic === 0xa1b23c4d;
  if (!nano && magic !== 0xa1b2c3d4) throw new Error('not a little-endian pcap');
  const out: ReadCapture = { interfaces: [{ name: '', linktype: v.getUint32(20, true) }], packets: [] };
  let p = 24;
  while (p < bytes.length) {
    const sec = BigInt(v.getUint32(p, true));
    const frac = BigInt(v.getUint32(p + 4, true));
    const caplen = v.getUint32(p + 8, true);
    out.packets.push({
      iface: 0,
      tsNs: sec * 1_000_000_000n + (nano ? frac : frac * 1000n),
      data: bytes.slice(p + 16, p + 16 + caplen),
      origLen: v.getUint32(p + 12, true),
    });
    p += 16 + caplen;
  }
  return out;
}

/** Frames of a classic pcap file, e.g. the reference captures in tests/fixtures/captures. */
export function pcapFrames(bytes: Uint8Array): Uint8Array[] {
  return readPcap(bytes).packets.map((p) => p.data);
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  const n = chunks.reduce((s, c) => s + c.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
