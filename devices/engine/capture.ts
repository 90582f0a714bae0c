import type { Engine } from './engine.js';
import type { Link } from './link.js';
import type { Port } from './port.js';
import { addTap, removeTap, type FrameTap } from './tap.js';

export type CaptureFormat = 'pcapng' | 'pcap';

export interface CaptureOptions {
  format?: CaptureFormat;
  /** Receives the file's bytes in order, chunk by chunk. A chunk is never reused after it is handed over. */
  sink: (chunk: Uint8Array) => void;
  /** Stop recording once the file would grow past this many bytes (frames beyond are counted as dropped). */
  maxBytes?: number;
  /** Bytes buffered before a chunk is handed to the sink; `flush()` hands over what is there. */
  chunkBytes?: number;
  /** Bytes of each frame kept (frames longer are truncated in the file, with their original length). */
  snaplen?: number;
}

const LINKTYPE_ETHERNET = 1;
const TWO32 = 4294967296;

/** A capture point on one link or port: a pcapng interface of its capture. */
export class CaptureTap implements FrameTap {
  constructor(
    readonly capture: Capture,
    readonly iface: number,
  ) {}

  /** Direction: 1 inbound, 2 outbound (pcapng epb_flags bits 0-1). */
  record(frame: Uint8Array, direction: 1 | 2): void {
    this.capture.write(this.iface, frame, direction);
  }
}

/**
 * Records frames to pcapng (one Interface Description Block per captured link or port, named
 * after it, nanosecond timestamps) or classic pcap (nanosecond magic). The file streams: every
 * chunk handed to the sink extends a valid file, so a reader can follow it while it grows.
 */
export class Capture {
  readonly format: CaptureFormat;
  private readonly sink: (chunk: Uint8Array) => void;
  private readonly maxBytes: number;
  private readonly chunkBytes: number;
  private readonly snaplen: number;
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  private readonly epochHi: number;
  private readonly epochLo: number;
  private readonly epochSec: number;
  private readonly epochFracNs: number;
  private readonly taps: { tap: CaptureTap; on: Link | Port }[] = [];
  readonly interfaces: string[] = [];
  /** Bytes of the file so far (handed over or buffered). */
  bytes = 0;
  frames = 0;
  /** Frames not recorded because the size cap was reached. */
  dropped = 0;
  closed = false;

  constructor(
    readonly engine: Engine,
    opts: CaptureOptions,
  ) {
    this.format = opts.format ?? 'pcapng';
    this.sink = opts.sink;
    this.maxBytes = opts.maxBytes ?? Infinity;
    this.chunkBytes = Math.max(opts.chunkBytes ?? 1 << 20, 4096);
    this.snaplen = opts.snaplen ?? 262144;
    this.buf = new Uint8Array(this.chunkBytes);
    this.view = new DataView(this.buf.buffer);
    const epoch = engine.epochNs;
    this.epochHi = Number(epoch >> 32n);
    this.epochLo = Number(epoch & 0xffffffffn);
    this.epochSec = Number(epoch / 1_000_000_000n);
    this.epochFracNs = Number(epoch % 1_000_000_000n);
    if (this.format === 'pcapng') this.writeSectionHeader();
    else this.writePcapHeader();
  }

  /** Starts recording a link (both directions, as seen by the receiving end). */
  attachLink(link: Link, name = link.id): CaptureTap {
    const tap = new CaptureTap(this, this.addInterface(name));
    addTap(link, tap);
    this.taps.push({ tap, on: link });
    return tap;
  }

  /** Starts recording a port (what it sends and what it receives). */
  attachPort(port: Port, name: string): CaptureTap {
    const tap = new CaptureTap(this, this.addInterface(name));
    addTap(port, tap);
    this.taps.push({ tap, on: port });
    return tap;
  }

  /** Stops recording everywhere, hands over what is buffered. */
  close(): void {
    if (this.closed) return;
    for (const { tap, on } of this.taps) removeTap(on, tap);
    this.taps.length = 0;
    this.flush();
    this.closed = true;
  }

  flush(): void {
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = new Uint8Array(this.chunkBytes);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
    this.sink(chunk);
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) {
      this.buf = new Uint8Array(n);
      this.view = new DataView(this.buf.buffer);
    }
  }

  addInterface(name: string): number {
    const id = this.interfaces.length;
    this.interfaces.push(name);
    if (this.format === 'pcap') return id;
    const nameBytes = new TextEncoder().encode(name);
    const nameOpt = 4 + pad4(nameBytes.length);
    const len = 16 + nameOpt + 8 + 4 + 4;
    this.reserve(len);
    const v = this.view, b = this.buf;
    let p = this.pos;
    v.setUint32(p, 1, true); // Interface Description Block
    v.setUint32(p + 4, len, true);
    v.setUint16(p + 8, LINKTYPE_ETHERNET, true);
    v.setUint16(p + 10, 0, true);
    v.setUint32(p + 12, this.snaplen, true);
    p += 16;
    v.setUint16(p, 2, true); // if_name
    v.setUint16(p + 2, nameBytes.length, true);
    b.set(nameBytes, p + 4);
    b.fill(0, p + 4 + nameBytes.length, p + nameOpt);
    p += nameOpt;
    v.setUint16(p, 9, true); // if_tsresol: 10^-9 s
    v.setUint16(p + 2, 1, true);
    v.setUint32(p + 4, 9, true);
    p += 8;
    v.setUint32(p, 0, true); // opt_endofopt
    v.setUint32(p + 4, len, true);
    this.pos = p + 8;
    this.bytes += len;
    return id;
  }

  /** Records one frame on interface `iface` at the engine's current time. */
  write(iface: number, frame: Uint8Array, direction: 1 | 2): void {
    const caplen = frame.length < this.snaplen ? frame.length : this.snaplen;
    const padded = (caplen + 3) & ~3;
    const len = this.format === 'pcapng' ? 28 + padded + 12 + 4 : 16 + caplen;
    if (this.closed || this.bytes + len > this.maxBytes) {
      this.dropped++;
      return;
    }
    this.reserve(len);
    const v = this.view;
    const p = this.pos;
    const t = Math.round(this.engine.now);
    if (this.format === 'pcapng') {
      // 64-bit nanoseconds since the Unix epoch, added in 32-bit halves to stay exact.
      const tHi = Math.floor(t / TWO32);
      let lo = this.epochLo + (t - tHi * TWO32);
      let hi = this.epochHi + tHi;
      if (lo >= TWO32) {
        lo -= TWO32;
        hi += 1;
      }
      v.setUint32(p, 6, true); // Enhanced Packet Block
      v.setUint32(p + 4, len, true);
      v.setUint32(p + 8, iface, true);
      v.setUint32(p + 12, hi, true);
      v.setUint32(p + 16, lo, true);
      v.setUint32(p + 20, caplen, true);
      v.setUint32(p + 24, frame.length, true);
      this.buf.set(caplen === frame.length ? frame : frame.subarray(0, caplen), p + 28);
      const q = p + 28 + padded;
      for (let i = p + 28 + caplen; i < q; i++) this.buf[i] = 0;
      v.setUint16(q, 2, true); // epb_flags: direction
      v.setUint16(q + 2, 4, true);
      v.setUint32(q + 4, direction, true);
      v.setUint32(q + 8, 0, true); // opt_endofopt
      v.setUint32(q + 12, len, true);
    } else {
      let ns = this.epochFracNs + (t % 1_000_000_000);
      let sec = this.epochSec + Math.floor(t / 1_000_000_000);
      if (ns >= 1_000_000_000) {
        ns -= 1_000_000_000;
        sec += 1;
      }
      v.setUint32(p, sec >>> 0, true);
      v.setUint32(p + 4, ns, true);
      v.setUint32(p + 8, caplen, true);
      v.setUint32(p + 12, frame.length, true);
      this.buf.set(caplen === frame.length ? frame : frame.subarray(0, caplen), p + 16);
    }
    this.pos = p + len;
    this.bytes += len;
    this.frames++;
    if (this.pos >= this.chunkBytes) this.flush();
  }

  private writeSectionHeader(): void {
    const app = new TextEncoder().encode('wirelab');
    const appOpt = 4 + pad4(app.length);
    const len = 24 + appOpt + 4 + 4;
    this.reserve(len);
    const v = this.view;
    let p = this.pos;
    v.setUint32(p, 0x0a0d0d0a, true); // Section Header Block
    v.setUint32(p + 4, len, true);
    v.setUint32(p + 8, 0x1a2b3c4d, true);
    v.setUint16(p + 12, 1, true);
    v.setUint16(p + 14, 0, true);
    v.setInt32(p + 16, -1, true); // section length unknown: the file streams
    v.setInt32(p + 20, -1, true);
    p += 24;
    v.setUint16(p, 4, true); // shb_userappl
    v.setUint16(p + 2, app.length, true);
    this.buf.set(app, p + 4);
    this.buf.fill(0, p + 4 + app.length, p + appOpt);
    p += appOpt;
    v.setUint32(p, 0, true);
    v.setUint32(p + 4, len, true);
    this.pos = p + 8;
    this.bytes += len;
  }

  private writePcapHeader(): void {
    this.reserve(24);
    const v = this.view;
    v.setUint32(0, 0xa1b23c4d, true); // nanosecond-resolution pcap
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setInt32(8, 0, true);
    v.setUint32(12, 0, true);
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, LINKTYPE_ETHERNET, true);
    this.pos = 24;
    this.bytes += 24;
  }
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}
