/**
 * The trace panel's records as a pcapng file, written by the engine's own capture writer
 * (devices/engine/capture.ts) so the browser's download is byte for byte what the server's
 * captures are: one interface per link, nanosecond timestamps, direction flags.
 */
import { Capture } from '../../../devices/engine/capture.js';
import type { Engine } from '../../../devices/engine/engine.js';
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
  const clock = { now: 0, epochNs };
  const chunks: Uint8Array[] = [];
  const cap = new Capture(clock as unknown as Engine, { sink: (c) => chunks.push(c) });
  const ifaces = new Map<string, number>();
  let frames = 0;
  let skipped = 0;
  for (const r of records) {
    if (!r.raw) {
      skipped++;
      continue;
    }
    let iface = ifaces.get(r.link);
    if (iface === undefined) {
      iface = cap.addInterface(r.link);
      ifaces.set(r.link, iface);
    }
    clock.now = r.time;
    // Outbound when it travels from the link's first end (as the id names it) to its second.
    const direction = r.link.startsWith(`${r.from}--`) ? 2 : 1;
    cap.write(iface, base64ToBytes(r.raw), direction);
    frames++;
  }
  cap.close();
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const bytes = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    bytes.set(c, o);
    o += c.length;
  }
  return { bytes, frames, skipped };
}
