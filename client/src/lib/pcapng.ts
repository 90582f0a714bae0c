/**
 * The trace panel's records as a pcapng file, written with the same block writers as the
 * engine's captures (devices/wire/pcapng.ts) so the browser's download is byte for byte what the
 * server's captures are: one interface per link, nanosecond timestamps, direction flags.
 */
import {
  PCAPNG_INBOUND,
  PCAPNG_OUTBOUND,
  pcapngInterfaceLength,
  pcapngPacketLength,
  pcapngSectionHeaderLength,
  writePcapngInterface,
  writePcapngPacket,
  writePcapngSectionHeader,
} from '../../../devices/wire/pcapng.js';

/** The engine's capture snaplen: the trace's frames are never longer. */
const SNAPLEN = 262144;

/** What a frame needs to be written: its bytes (base64), time and the link it crossed. */
export interface FrameRecord {
  time: number;
  link: string;
  from: string;
  raw?: string | undefined;
}

export function base64ToBytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * `epochNs` is the wall-clock time of lab time 0, so Wireshark shows real dates. Records
 * without their bytes (a subscription without raw) are skipped; the count says how many.
 */
export function recordsToPcapng(records: Iterable<FrameRecord>, epochNs: bigint): { bytes: Uint8Array; frames: number; skipped: number } {
  const encoder = new TextEncoder();
  const app = encoder.encode('wirelab');
  // First pass: decode the frames and size the file exactly. A link's interface block goes
  // right before the first frame that crossed it, as the engine's capture writes it.
  const ifaces = new Map<string, number>();
  const blocks: ({ name: Uint8Array } | { iface: number; ns: bigint; frame: Uint8Array; direction: number })[] = [];
  let total = pcapngSectionHeaderLength(app);
  let frames = 0;
  let skipped = 0;
  for (const r of records) {
    if (!r.raw) {
      skipped++;
      continue;
    }
    let iface = ifaces.get(r.link);
    if (iface === undefined) {
      iface = ifaces.size;
      ifaces.set(r.link, iface);
      const name = encoder.encode(r.link);
      blocks.push({ name });
      total += pcapngInterfaceLength(name);
    }
    const frame = base64ToBytes(r.raw);
    // Outbound when it travels from the link's first end (as the id names it) to its second.
    const direction = r.link.startsWith(`${r.from}--`) ? PCAPNG_OUTBOUND : PCAPNG_INBOUND;
    blocks.push({ iface, ns: epochNs + BigInt(Math.round(r.time)), frame, direction });
    total += pcapngPacketLength(Math.min(frame.length, SNAPLEN));
    frames++;
  }
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  let p = writePcapngSectionHeader(view, bytes, 0, app);
  for (const b of blocks) {
    if ('name' in b) p = writePcapngInterface(view, bytes, p, b.name, SNAPLEN);
    else p = writePcapngPacket(view, bytes, p, b.iface, Number(b.ns >> 32n), Number(b.ns & 0xffffffffn), b.frame, Math.min(b.frame.length, SNAPLEN), b.direction);
  }
  return { bytes, frames, skipped };
}
