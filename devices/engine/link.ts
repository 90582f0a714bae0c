import type { Engine, TimerTarget } from './engine.js';
import type { Port } from './port.js';
import type { FrameTap } from './tap.js';

/** Impairments of one direction of a link; every field optional, all off by default. */
export interface Impairments {
  /** One-way propagation delay, ns. */
  delayNs?: number;
  /** Uniform jitter added to the delay, +/- ns. Frames keep their order, as with a FIFO qdisc. */
  jitterNs?: number;
  /** Probability 0..1 that a frame is lost. */
  loss?: number;
  /** Probability 0..1 that a frame is delivered twice. */
  duplicate?: number;
  /** Probability 0..1 that one bit of a frame is flipped (past the Ethernet header; checksums left wrong). */
  corrupt?: number;
  /** Serialisation rate in bits per second; 0 or absent means unlimited. */
  rateBps?: number;
  /** Tail-drop limit of the rate queue in bytes (default: 100 ms at the rate, at least 10 full frames). */
  queueBytes?: number;
}

/** Counters of one direction. */
export interface DirectionStats {
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  corrupted: number;
  queueDrops: number;
  suspendedDrops: number;
}

/**
 * Frames in flight in one direction: a ring of (arrival time, frame) kept in arrival order,
 * with one engine timer armed for the head. Frames never overtake each other.
 */
class Direction implements TimerTarget {
  delayNs = 0;
  jitterNs = 0;
  loss = 0;
  duplicate = 0;
  corrupt = 0;
  rateBps = 0;
  queueBytes = 0;
  /** True when no impairment applies: the zero-delay fast path. */
  plain = true;
  busyUntil = 0;
  lastArrival = 0;
  // Allocated on the first delayed frame: most links never hold one, and big labs have many links.
  times = new Float64Array(0);
  frames: (Uint8Array | undefined)[] = [];
  head = 0;
  count = 0;
  timer = -1;
  readonly stats: DirectionStats = { sent: 0, delivered: 0, lost: 0, duplicated: 0, corrupted: 0, queueDrops: 0, suspendedDrops: 0 };

  constructor(
    readonly link: Link,
    readonly to: number,
  ) {}

  set(imp: Impairments): void {
    this.delayNs = Math.max(0, imp.delayNs ?? 0);
    this.jitterNs = Math.max(0, imp.jitterNs ?? 0);
    this.loss = clamp01(imp.loss ?? 0);
    this.duplicate = clamp01(imp.duplicate ?? 0);
    this.corrupt = clamp01(imp.corrupt ?? 0);
    this.rateBps = Math.max(0, imp.rateBps ?? 0);
    this.queueBytes = imp.queueBytes ?? Math.max(10 * 1514, (this.rateBps * 0.1) / 8);
    this.plain = this.delayNs === 0 && this.jitterNs === 0 && this.loss === 0 && this.duplicate === 0 && this.corrupt === 0 && this.rateBps === 0;
  }

  get(): Impairments {
    const imp: Impairments = {};
    if (this.delayNs) imp.delayNs = this.delayNs;
    if (this.jitterNs) imp.jitterNs = this.jitterNs;
    if (this.loss) imp.loss = this.loss;
    if (this.duplicate) imp.duplicate = this.duplicate;
    if (this.corrupt) imp.corrupt = this.corrupt;
    if (this.rateBps) {
      imp.rateBps = this.rateBps;
      imp.queueBytes = this.queueBytes;
    }
    return imp;
  }

  push(at: number, frame: Uint8Array): void {
    if (this.count === this.times.length) this.grow();
    const i = (this.head + this.count) & (this.times.length - 1);
    this.times[i] = at;
    this.frames[i] = frame;
    this.count++;
    if (this.count === 1) this.timer = this.link.engine.schedule(at, this, 0);
  }

  private grow(): void {
    const n = Math.max(16, this.times.length * 2);
    const times = new Float64Array(n);
    const frames: (Uint8Array | undefined)[] = new Array(n).fill(undefined);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & (this.times.length - 1);
      times[k] = this.times[i]!;
      frames[k] = this.frames[i];
    }
    this.times = times;
    this.frames = frames;
    this.head = 0;
  }

  onTimer(): void {
    const engine = this.link.engine;
    const now = engine.now;
    const mask = this.times.length - 1;
    this.timer = -1;
    while (this.count > 0 && this.times[this.head]! <= now) {
      const frame = this.frames[this.head]!;
      this.frames[this.head] = undefined;
      this.head = (this.head + 1) & mask;
      this.count--;
      this.link.arrive(this.to, frame);
    }
    if (this.count > 0) this.timer = engine.schedule(this.times[this.head]!, this, 0);
  }

  /** Drops everything in flight (a cable pulled). */
  flush(): number {
    const n = this.count;
    const mask = this.times.length - 1;
    for (let k = 0; k < n; k++) this.frames[(this.head + k) & mask] = undefined;
    this.count = 0;
    this.head = 0;
    if (this.timer !== -1) this.link.engine.cancel(this.timer);
    this.timer = -1;
    this.busyUntil = 0;
    return n;
  }
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/**
 * A full-duplex Ethernet cable between two ports. The common case, no impairment and no
 * capture, is one queue push per frame.
 */
export class Link {
  readonly ends: [Port, Port];
  /** dirs[i] carries frames towards ends[i]. */
  private readonly dirs: [Direction, Direction];
  suspended = false;
  /** Capture taps on this link, null when none. */
  taps: FrameTap[] | null = null;

  constructor(
    readonly engine: Engine,
    readonly id: string,
    a: Port,
    b: Port,
    impairments?: Impairments,
  ) {
    if (a.link !== null || b.link !== null) throw new Error(`port already cabled: ${a.link ? a.name : b.name}`);
    this.ends = [a, b];
    a.link = this;
    a.side = 0;
    b.link = this;
    b.side = 1;
    this.dirs = [new Direction(this, 0), new Direction(this, 1)];
    if (impairments) this.setImpairments(impairments);
  }

  /** Sets impairments for both directions, or for the direction towards end `towards` only. */
  setImpairments(imp: Impairments, towards?: 0 | 1): void {
    if (towards === undefined || towards === 0) this.dirs[0].set(imp);
    if (towards === undefined || towards === 1) this.dirs[1].set(imp);
  }

  impairments(towards: 0 | 1 = 1): Impairments {
    return this.dirs[towards].get();
  }

  stats(towards: 0 | 1): Readonly<DirectionStats> {
    return this.dirs[towards].stats;
  }

  /** Pulls the cable: frames in flight and frames sent meanwhile are lost. */
  suspend(): void {
    this.suspended = true;
    for (const d of this.dirs) d.stats.suspendedDrops += d.flush();
  }

  resume(): void {
    this.suspended = false;
  }

  /** Unplugs both ends; the link is unusable afterwards. */
  disconnect(): void {
    this.suspend();
    for (const p of this.ends) if (p.link === this) p.link = null;
  }

  /** Called by the port at end `fromSide` when it sends. */
  transmit(fromSide: number, frame: Uint8Array): void {
    const to = 1 - fromSide;
    const dir = this.dirs[to]!;
    dir.stats.sent++;
    if (this.suspended) {
      dir.stats.suspendedDrops++;
      return;
    }
    if (dir.plain) {
      this.arrive(to, frame);
      return;
    }
    this.impaired(dir, frame);
  }

  private impaired(dir: Direction, frame: Uint8Array): void {
    const rng = this.engine.rng;
    if (dir.loss > 0 && rng.random() < dir.loss) {
      dir.stats.lost++;
      return;
    }
    let copies = 1;
    if (dir.duplicate > 0 && rng.random() < dir.duplicate) {
      copies = 2;
      dir.stats.duplicated++;
    }
    for (let c = 0; c < copies; c++) {
      let f = frame;
      if (dir.corrupt > 0 && frame.length > 14 && rng.random() < dir.corrupt) {
        f = frame.slice();
        const at = 14 + rng.below(f.length - 14);
        f[at] = f[at]! ^ (1 << rng.below(8));
        dir.stats.corrupted++;
      }
      const now = this.engine.now;
      let departure = now;
      if (dir.rateBps > 0) {
        const start = dir.busyUntil > now ? dir.busyUntil : now;
        const backlogBytes = ((start - now) * dir.rateBps) / 8e9;
        if (backlogBytes + f.length > dir.queueBytes) {
          dir.stats.queueDrops++;
          continue;
        }
        // 20 bytes of preamble, start delimiter and inter-frame gap, plus 4 of FCS, occupy the wire too.
        departure = start + ((f.length + 24) * 8 * 1e9) / dir.rateBps;
        dir.busyUntil = departure;
      }
      let arrival = departure + dir.delayNs;
      if (dir.jitterNs > 0) arrival += (rng.random() * 2 - 1) * dir.jitterNs;
      if (arrival < dir.lastArrival) arrival = dir.lastArrival;
      if (arrival < now) arrival = now;
      dir.lastArrival = arrival;
      if (arrival === now && dir.count === 0) this.arrive(dir.to, f);
      else dir.push(arrival, f);
    }
  }

  /** A frame reaches end `to` (after any delay): captures see it, the port's owner gets it. */
  arrive(to: number, frame: Uint8Array): void {
    const dir = this.dirs[to]!;
    if (this.suspended) {
      dir.stats.suspendedDrops++;
      return;
    }
    dir.stats.delivered++;
    if (this.taps !== null) this.tapFrame(to, frame);
    this.engine.enqueue(this.ends[to]!, frame);
  }

  // Kept out of arrive() so that the per-frame path stays small enough for V8 to inline.
  private tapFrame(to: number, frame: Uint8Array): void {
    const d: 1 | 2 = to === 1 ? 2 : 1;
    for (const t of this.taps!) t.record(frame, d);
  }
}
