import { Rng } from './rng.js';
import { TimerHeap, type TimerTarget } from './timers.js';
import type { Port } from './port.js';

export type { TimerTarget } from './timers.js';
export type TimeMode = 'real' | 'virtual';

export interface EngineOptions {
  /** `virtual`: the clock jumps to the next event and a run is deterministic; `real`: wall time. */
  mode?: TimeMode;
  /** Seed of the engine's random source (loss, jitter, ids chosen by devices). */
  seed?: number;
  /** Most frames waiting in the zero-delay delivery queue; beyond it frames are dropped and counted. */
  maxQueue?: number;
  /**
   * In virtual time, a forwarding loop with zero-delay links would keep the clock at one instant
   * forever. After this many deliveries at one instant the clock moves on by `stormTickNs`, so
   * timers (spanning tree, checks) still fire while a storm rages.
   */
  maxDeliveriesPerInstant?: number;
  stormTickNs?: number;
  /** Wall-clock time of engine time 0, in nanoseconds since the Unix epoch, as a bigint (captures use it). */
  epochNs?: bigint;
}

const REAL_SLICE_DELIVERIES = 65_536;

/**
 * The event engine: one FIFO of zero-delay frame deliveries and one timer heap. A frame sent
 * on a link is queued, never delivered by a recursive call, so ordering is deterministic and a
 * broadcast storm cannot grow the stack.
 */
export class Engine {
  readonly mode: TimeMode;
  readonly rng: Rng;
  readonly epochNs: bigint;
  /**
   * The current time in nanoseconds since engine start. In real time it is the wall time of the
   * running slice, in whole nanoseconds; between slices (an idle lab sleeps) it stands still, so
   * code acting from outside the engine calls `sync()` first.
   */
  now = 0;

  private readonly timers = new TimerHeap();
  private qPort: (Port | undefined)[];
  private qFrame: (Uint8Array | undefined)[];
  private qHead = 0;
  private qTail = 0;
  private qMask: number;
  private readonly maxQueue: number;
  private readonly maxPerInstant: number;
  private readonly stormTickNs: number;
  private instantDeliveries = 0;
  private draining = false;

  // Real-time driver state.
  private running = false;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private wakeAt = Infinity;
  private realStart = 0;

  /** Frames dropped because the delivery queue was full. */
  queueDrops = 0;
  /** Frames delivered since the engine was made. */
  delivered = 0;
  /** Times the storm guard moved the virtual clock on. */
  stormTicks = 0;

  constructor(opts: EngineOptions = {}) {
    this.mode = opts.mode ?? 'virtual';
    this.rng = new Rng(opts.seed ?? 1);
    this.maxQueue = opts.maxQueue ?? 1 << 20;
    this.maxPerInstant = opts.maxDeliveriesPerInstant ?? 1_000_000;
    this.stormTickNs = opts.stormTickNs ?? 1_000;
    this.epochNs = opts.epochNs ?? (this.mode === 'real' ? BigInt(Date.now()) * 1_000_000n : 0n);
    const initial = 1024;
    this.qPort = new Array(initial).fill(undefined);
    this.qFrame = new Array(initial).fill(undefined);
    this.qMask = initial - 1;
  }

  /** Frames waiting in the delivery queue. */
  get queued(): number {
    return (this.qTail - this.qHead) & this.qMask;
  }

  /** Queues a frame for delivery to `port` at the current instant. */
  enqueue(port: Port, frame: Uint8Array): void {
    const tail = this.qTail;
    const next = (tail + 1) & this.qMask;
    if (next === this.qHead) {
      if (this.qMask + 1 >= this.maxQueue) {
        this.queueDrops++;
        return;
      }
      this.growQueue();
      this.enqueue(port, frame);
      return;
    }
    this.qPort[tail] = port;
    this.qFrame[tail] = frame;
    this.qTail = next;
    if (!this.draining && this.running) this.wakeSoon();
  }

  private growQueue(): void {
    const size = this.qMask + 1;
    const ports: (Port | undefined)[] = new Array(size * 2).fill(undefined);
    const frames: (Uint8Array | undefined)[] = new Array(size * 2).fill(undefined);
    let n = 0;
    for (let i = this.qHead; i !== this.qTail; i = (i + 1) & this.qMask) {
      ports[n] = this.qPort[i];
      frames[n] = this.qFrame[i];
      n++;
    }
    this.qPort = ports;
    this.qFrame = frames;
    this.qHead = 0;
    this.qTail = n;
    this.qMask = size * 2 - 1;
  }

  /** Sets a timer at absolute engine time `at` (ns); returns a handle for `cancel`. */
  schedule(at: number, target: TimerTarget, tag = 0, arg?: unknown): number {
    // Whole nanoseconds (rounded up, never early): a rate's serialisation time or jitter would
    // otherwise make virtual time, and so check durations and round trips, fractional.
    const handle = this.timers.add(at < this.now ? this.now : Math.ceil(at), target, tag, arg);
    if (this.running && at < this.wakeAt) this.armWake();
    return handle;
  }

  /** Sets a timer `delayNs` from now. */
  after(delayNs: number, target: TimerTarget, tag = 0, arg?: unknown): number {
    return this.schedule(this.now + delayNs, target, tag, arg);
  }

  cancel(handle: number): boolean {
    return this.timers.cancel(handle);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Pending timers in firing order (for snapshots and inspection). */
  timerList(): ReturnType<TimerHeap['pending']> {
    return this.timers.pending();
  }

  /** Delivers every queued frame at the current instant; frames sent meanwhile join the queue. */
  private drain(limit: number): number {
    this.draining = true;
    let n = 0;
    const maxPerInstant = this.maxPerInstant;
    while (this.qHead !== this.qTail && n < limit) {
      const head = this.qHead;
      const port = this.qPort[head]!;
      const frame = this.qFrame[head]!;
      this.qPort[head] = undefined;
      this.qFrame[head] = undefined;
      this.qHead = (head + 1) & this.qMask;
      n++;
      port.receive(frame);
      if (++this.instantDeliveries >= maxPerInstant && this.mode === 'virtual') {
        // A storm: let virtual time move so that timers keep firing.
        this.instantDeliveries = 0;
        this.stormTicks++;
        this.now += this.stormTickNs;
        break;
      }
    }
    this.delivered += n;
    this.draining = false;
    return n;
  }

  /** After the storm guard moved the clock, timers left behind fire before more frames. */
  private fireOverdue(): void {
    while (this.timers.peekTime() < this.now) this.timers.fireFirst();
  }

  // ---- virtual time ----

  /** Runs events up to and including time `until` (ns), then sets the clock to `until`. */
  runUntil(until: number): void {
    if (this.mode !== 'virtual') throw new Error('runUntil needs virtual time');
    for (;;) {
      if (this.qHead !== this.qTail) {
        this.drain(Infinity);
        this.fireOverdue();
        if (this.now > until) return;
        continue;
      }
      const next = this.timers.peekTime();
      if (next > until) break;
      if (next > this.now) {
        this.now = next;
        this.instantDeliveries = 0;
      }
      this.timers.fireFirst();
    }
    if (until > this.now && until !== Infinity) {
      this.now = until;
      this.instantDeliveries = 0;
    }
  }

  /** Runs for `durationNs` of engine time. */
  runFor(durationNs: number): void {
    this.runUntil(this.now + durationNs);
  }

  /**
   * Runs until nothing is queued and no timer is due before `limitNs` from now; returns true
   * when the engine went idle, false when it hit the limit (periodic timers never go idle).
   */
  runUntilIdle(limitNs = Infinity): boolean {
    const until = this.now + limitNs;
    for (;;) {
      if (this.qHead !== this.qTail) {
        this.drain(Infinity);
        this.fireOverdue();
        continue;
      }
      const next = this.timers.peekTime();
      if (next === Infinity) return true;
      if (next > until) {
        this.now = until;
        return false;
      }
      if (next > this.now) {
        this.now = next;
        this.instantDeliveries = 0;
      }
      this.timers.fireFirst();
    }
  }

  /**
   * Runs until `done()` is true, checking after every event, or until `limitNs` passes.
   * Returns whether `done()` became true.
   */
  runUntilCondition(done: () => boolean, limitNs: number): boolean {
    if (done()) return true;
    const until = this.now + limitNs;
    for (;;) {
      if (this.qHead !== this.qTail) {
        this.drain(1);
        if (done()) return true;
        continue;
      }
      const next = this.timers.peekTime();
      if (next > until) {
        this.now = until;
        return done();
      }
      if (next > this.now) {
        this.now = next;
        this.instantDeliveries = 0;
      }
      this.timers.fireFirst();
      if (done()) return true;
    }
  }

  // ---- real time ----

  /** Wall time since engine time 0, in whole nanoseconds. */
  private realNow(): number {
    return Math.floor((performance.now() - this.realStart) * 1e6);
  }

  /** Moves the real-time clock on to wall time (never back). */
  private catchUp(): void {
    const t = this.realNow();
    if (t > this.now) this.now = t;
  }

  /**
   * Real time: brings `now` up to wall time, for callers outside the engine's own slices (checks,
   * API changes) that read the clock or set timers; a lab idle for minutes would otherwise time
   * them from its last slice. Nothing to do in virtual time or while stopped.
   */
  sync(): void {
    if (this.running) this.catchUp();
  }

  /** Starts the real-time driver; an idle engine then sleeps until its next timer. */
  start(): void {
    if (this.mode !== 'real') throw new Error('start needs real time');
    if (this.running) return;
    this.running = true;
    this.realStart = performance.now() - this.now / 1e6;
    this.armWake();
  }

  stop(): void {
    this.running = false;
    if (this.wakeImmediate !== undefined) clearImmediate(this.wakeImmediate);
    this.wakeImmediate = undefined;
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.wakeAt = Infinity;
  }

  get isRunning(): boolean {
    return this.running;
  }

  private readonly onWake = (): void => {
    this.wakeTimer = undefined;
    this.wakeAt = Infinity;
    if (!this.running) return;
    this.slice();
    this.armWake();
  };

  // setTimeout(0) waits at least 1 ms in Node; a frame from outside must not.
  private wakeImmediate: ReturnType<typeof setImmediate> | undefined;
  private readonly onImmediate = (): void => {
    this.wakeImmediate = undefined;
    // A timer armed meanwhile would be forgotten by onWake and keep the process alive for nothing.
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    this.onWake();
  };

  private wakeSoon(): void {
    // Only a pending immediate is sure to come at once: a wake timer due by `now` may be a
    // setTimeout armed before `sync()` moved the clock on, still waiting for its wall time.
    if (this.wakeImmediate !== undefined) return;
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.wakeAt = this.now;
    this.wakeImmediate = setImmediate(this.onImmediate);
  }

  private armWake(): void {
    if (!this.running) return;
    if (this.qHead !== this.qTail) {
      this.wakeSoon();
      return;
    }
    const at = this.timers.peekTime();
    if (at === Infinity) return; // idle: nothing scheduled, no CPU spent
    if (this.wakeTimer !== undefined) {
      if (at >= this.wakeAt) return;
      clearTimeout(this.wakeTimer);
    }
    this.wakeAt = at;
    const delayMs = Math.max(0, (at - this.realNow()) / 1e6);
    this.wakeTimer = setTimeout(this.onWake, delayMs);
  }

  /** One bounded slice of real-time work, so sockets and the HTTP server keep their turn. */
  private slice(): void {
    this.catchUp();
    let budget = REAL_SLICE_DELIVERIES;
    for (;;) {
      if (this.qHead !== this.qTail) {
        budget -= this.drain(Math.min(budget, 1024));
        if (budget <= 0) return;
        this.catchUp();
        continue;
      }
      const next = this.timers.peekTime();
      if (next > this.now) return;
      this.timers.fireFirst();
      if (--budget <= 0) return;
    }
  }

  /** Runs pending work now (real time): for callers that inject frames from outside. */
  poke(): void {
    if (this.running) this.wakeSoon();
  }
}

