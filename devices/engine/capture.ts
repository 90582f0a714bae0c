import type { Engine } from './engine.js';
import type { Link } from './link.js';
import type { Port } from './port.js';
import { addTap, removeTap, type FrameTap } from './tap.js';
import {
  PCAP_HEADER_LENGTH,
  pcapngInterfaceLength,
  pcapngPacketLength,
  pcapngSectionHeaderLength,
  writePcapHeader,
  writePcapngInterface,
  writePcapngPacket,
  writePcapngSectionHeader,
  writePcapRecord,
} from '../wire/pcapng.js';

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
    const len = pcapngInterfaceLength(nameBytes);
    this.reserve(len);
    this.pos = writePcapngInterface(this.view, this.buf, this.pos, nameBytes, this.snaplen);
    this.bytes += len;
    return id;
  }

  /** Records one frame on interface `iface` at the engine's current time. */
  write(iface: number, frame: Uint8Array, direction: 1 | 2): void {
    const caplen = frame.length < this.snaplen ? frame.length : this.snaplen;
    const len = this.format === 'pcapng' ? pcapngPacketLength(caplen) : 16 + caplen;
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
      writePcapngPacket(v, this.buf, p, iface, hi, lo, frame, caplen, direction);
    } else {
      let ns = this.epochFracNs + (t % 1_000_000_000);
      let sec = this.epochSec + Math.floor(t / 1_000_000_000);
      if (ns >= 1_000_000_000) {
        ns -= 1_000_000_000;
        sec += 1;
      }
      writePcapRecord(v, this.buf, p, sec, ns, frame, caplen);
    }
    this.pos = p + len;
    this.bytes += len;
    this.frames++;
    if (this.pos >= this.chunkBytes) this.flush();
  }

  private writeSectionHeader(): void {
    const app = new TextEncoder().encode('wirelab');
    const len = pcapngSectionHeaderLength(app);
    this.reserve(len);
    this.pos = writePcapngSectionHeader(this.view, this.buf, this.pos, app);
    this.bytes += len;
  }

  private writePcapHeader(): void {
    this.reserve(PCAP_HEADER_LENGTH);
    this.pos = writePcapHeader(this.view, 0, this.snaplen);
    this.bytes += PCAP_HEADER_LENGTH;
  }
}
