import { describe, expect, it } from 'vitest';
import { Engine, Link, Port, Capture, TimerHeap, Rng, type FrameSink, type TimerTarget } from '../../devices/engine/index.js';
import { readPcap, readPcapng, concat } from '../helpers/pcapng.js';

class Recorder implements FrameSink {
  got: { t: number; port: string; frame: Uint8Array }[] = [];
  constructor(private readonly engine: Engine) {}
  onFrame(port: Port, frame: Uint8Array): void {
    this.got.push({ t: this.engine.now, port: port.name, frame });
  }
}

function frame(n: number, len = 64): Uint8Array {
  const f = new Uint8Array(len);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5]);
  f[14] = n & 0xff;
  f[15] = (n >> 8) & 0xff;
  return f;
}

function pair(engine: Engine, imp?: ConstructorParameters<typeof Link>[4]) {
  const ra = new Recorder(engine);
  const rb = new Recorder(engine);
  const a = new Port(ra, 'a');
  const b = new Port(rb, 'b');
  const link = new Link(engine, 'a-b', a, b, imp);
  return { ra, rb, a, b, link };
}

describe('timer heap', () => {
  it('fires in (time, insertion) order and cancels by handle', () => {
    const heap = new TimerHeap(2);
    const fired: number[] = [];
    const t: TimerTarget = { onTimer: (tag) => fired.push(tag) };
    const times = [50, 10, 30, 10, 70, 30, 0, 10];
    const handles = times.map((at, i) => heap.add(at, t, i, undefined));
    expect(heap.cancel(handles[4]!)).toBe(true);
    expect(heap.cancel(handles[4]!)).toBe(false);
    while (heap.size) heap.fireFirst();
    expect(fired).toEqual([6, 1, 3, 7, 2, 5, 0]);
    // A stale handle whose slot was reused must not cancel the new timer.
    const h = heap.add(5, t, 99, undefined);
    expect(heap.cancel(handles[0]!)).toBe(false);
    expect(heap.size).toBe(1);
    expect(heap.cancel(h)).toBe(true);
  });

  it('stays ordered under random inserts and cancels', () => {
    const rng = new Rng(7);
    const heap = new TimerHeap();
    const out: number[] = [];
    const t: TimerTarget = { onTimer: (_tag, arg) => out.push(arg as number) };
    const live = new Map<number, number>();
    for (let i = 0; i < 5000; i++) {
      const at = rng.below(1000);
      live.set(heap.add(at, t, 0, at), at);
      if (rng.random() < 0.3) {
        const keys = [...live.keys()];
        const k = keys[rng.below(keys.length)]!;
        expect(heap.cancel(k)).toBe(true);
        live.delete(k);
      }
    }
    while (heap.size) heap.fireFirst();
    expect(out.length).toBe(live.size);
    for (let i = 1; i < out.length; i++) expect(out[i]!).toBeGreaterThanOrEqual(out[i - 1]!);
  });
});

describe('rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const xa = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xa);
    const saved = a.save();
    const next = a.random();
    a.restore(saved);
    expect(a.random()).toBe(next);
  });
});

describe('links', () => {
  it('delivers full duplex, in order, through the queue rather than by recursion', () => {
    const engine = new Engine();
    const { ra, rb, a, b } = pair(engine);
    a.send(frame(1));
    b.send(frame(2));
    a.send(frame(3));
    expect(rb.got.length).toBe(0); // queued, not delivered inside send()
    engine.runUntilIdle();
    expect(rb.got.map((g) => g.frame[14])).toEqual([1, 3]);
    expect(ra.got.map((g) => g.frame[14])).toEqual([2]);
    expect(a.txFrames).toBe(2);
    expect(b.rxFrames).toBe(2);
  });

  it('a ping-pong of a million zero-delay frames does not grow the stack', () => {
    const engine = new Engine();
    let n = 0;
    const bouncer: FrameSink = { onFrame: (port, f) => { if (++n < 1_000_000) port.send(f); } };
    const a = new Port(bouncer, 'a');
    const b = new Port(bouncer, 'b');
    new Link(engine, 'l', a, b);
    a.send(frame(0));
    engine.runUntilIdle();
    expect(n).toBe(1_000_000);
  });

  it('applies delay and keeps order under jitter', () => {
    const engine = new Engine({ seed: 3 });
    const { rb, a } = pair(engine, { delayNs: 5e6, jitterNs: 2e6 });
    for (let i = 0; i < 100; i++) {
      a.send(frame(i));
      engine.runFor(1e5);
    }
    engine.runUntilIdle();
    expect(rb.got.map((g) => g.frame[14])).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const first = rb.got[0]!.t;
    expect(first).toBeGreaterThanOrEqual(3e6);
    expect(first).toBeLessThanOrEqual(7e6);
    const delays = rb.got.map((g, i) => g.t - i * 1e5);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(1e6); // jitter really varies
  });

  it('serialises at the rate limit and tail-drops beyond the queue', () => {
    const engine = new Engine();
    // 1 Mbit/s: a 1000-byte frame plus 24 bytes of overhead takes 8.192 ms.
    const { rb, a, link } = pair(engine, { rateBps: 1e6, queueBytes: 5000 });
    for (let i = 0; i < 20; i++) a.send(frame(i, 1000));
    engine.runUntilIdle();
    const d = link.stats(1);
    expect(d.queueDrops).toBeGreaterThan(0);
    expect(rb.got.length + d.queueDrops).toBe(20);
    expect(rb.got[0]!.t).toBeCloseTo(8.192e6, -1);
    for (let i = 1; i < rb.got.length; i++) expect(rb.got[i]!.t - rb.got[i - 1]!.t).toBeCloseTo(8.192e6, -1);
  });

  it('loses, duplicates and corrupts at the configured probabilities', () => {
    const engine = new Engine({ seed: 11 });
    const { rb, a, link } = pair(engine, { loss: 0.25, duplicate: 0.1, corrupt: 0.2 });
    const n = 20000;
    const sent = frame(0, 100);
    for (let i = 0; i < n; i++) a.send(sent);
    engine.runUntilIdle();
    const s = link.stats(1);
    expect(s.lost / n).toBeGreaterThan(0.23);
    expect(s.lost / n).toBeLessThan(0.27);
    expect(s.duplicated / (n - s.lost)).toBeGreaterThan(0.08);
    expect(s.duplicated / (n - s.lost)).toBeLessThan(0.12);
    expect(rb.got.length).toBe(n - s.lost + s.duplicated);
    const changed = rb.got.filter((g) => g.frame.some((x, i) => x !== sent[i]));
    expect(changed.length).toBe(s.corrupted);
    for (const c of changed) {
      expect(c.frame.subarray(0, 14)).toEqual(sent.subarray(0, 14)); // addressing intact
      let bits = 0;
      for (let i = 0; i < sent.length; i++) bits += popcount(c.frame[i]! ^ sent[i]!);
      expect(bits).toBe(1);
    }
    expect(sent.every((x, i) => x === frame(0, 100)[i])).toBe(true); // the sender's frame was not touched
  });

  it('changes impairments while frames flow, and suspends and resumes', () => {
    const engine = new Engine();
    const { rb, a, link } = pair(engine);
    a.send(frame(1));
    engine.runUntilIdle();
    link.setImpairments({ delayNs: 1e6 });
    a.send(frame(2));
    link.suspend();
    a.send(frame(3));
    engine.runUntilIdle();
    link.resume();
    a.send(frame(4));
    engine.runUntilIdle();
    expect(rb.got.map((g) => g.frame[14])).toEqual([1, 4]);
    expect(link.stats(1).suspendedDrops).toBe(2);
    link.setImpairments({});
    const t = engine.now;
    a.send(frame(5));
    engine.runUntilIdle();
    expect(rb.got.at(-1)!.t).toBe(t);
  });

  it('bounds the delivery queue and counts what it drops', () => {
    const engine = new Engine({ maxQueue: 1024 });
    const { rb, a } = pair(engine);
    for (let i = 0; i < 5000; i++) a.send(frame(i));
    expect(engine.queueDrops).toBeGreaterThan(0);
    engine.runUntilIdle();
    expect(rb.got.length + engine.queueDrops).toBe(5000);
  });

  it('keeps virtual time moving during a zero-delay forwarding storm', () => {
    const engine = new Engine({ maxDeliveriesPerInstant: 10_000 });
    const repeat: FrameSink = { onFrame: (port, f) => port.send(f) };
    const a = new Port(repeat, 'a');
    const b = new Port(repeat, 'b');
    new Link(engine, 'l', a, b);
    a.send(frame(0));
    let fired = false;
    engine.after(1e6, { onTimer: () => (fired = true) });
    engine.runFor(2e6);
    expect(fired).toBe(true);
    expect(engine.stormTicks).toBeGreaterThan(0);
  });
});

describe('virtual time', () => {
  it('jumps to the next event; the same seed gives the same run', () => {
    const run = (seed: number) => {
      const engine = new Engine({ seed });
      const { rb, a } = pair(engine, { delayNs: 1e9, jitterNs: 5e8, loss: 0.3 });
      for (let i = 0; i < 50; i++) a.send(frame(i));
      const t0 = performance.now();
      engine.runUntilIdle();
      expect(performance.now() - t0).toBeLessThan(5000); // 1.5 s of virtual time, no sleeping
      return rb.got.map((g) => `${g.t}:${g.frame[14]}`).join(',');
    };
    expect(run(1)).toBe(run(1));
    expect(run(1)).not.toBe(run(2));
  });
});

describe('real time', () => {
  it('delivers delayed frames at wall-clock time and sleeps when idle', async () => {
    const engine = new Engine({ mode: 'real' });
    const { rb, a } = pair(engine, { delayNs: 30e6 });
    engine.start();
    const t0 = performance.now();
    a.send(frame(1));
    await new Promise((r) => setTimeout(r, 100));
    expect(rb.got.length).toBe(1);
    expect(rb.got[0]!.t).toBeGreaterThanOrEqual(30e6 - 1e6);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(30);
    expect(engine.pendingTimers).toBe(0);
    engine.stop();
  });
});

describe('capture', () => {
  it('writes pcapng with one named interface per link, ns timestamps and direction', () => {
    const engine = new Engine({ epochNs: 1_700_000_000_123_456_789n });
    const { a, b, link } = pair(engine, { delayNs: 1500 });
    const chunks: Uint8Array[] = [];
    const cap = new Capture(engine, { sink: (c) => chunks.push(c) });
    cap.attachLink(link, 'pc1:eth0<->sw1:e0');
    a.send(frame(1, 61));
    engine.runUntilIdle();
    b.send(frame(2, 1514));
    engine.runUntilIdle();
    cap.close();
    const file = readPcapng(concat(chunks));
    expect(file.interfaces).toEqual([{ name: 'pc1:eth0<->sw1:e0', linktype: 1, tsresol: 9 }]);
    expect(file.packets.length).toBe(2);
    expect(file.packets[0]!.tsNs).toBe(1_700_000_000_123_456_789n + 1500n);
    expect(file.packets[0]!.data).toEqual(frame(1, 61));
    expect(file.packets[0]!.flags).toBe(2);
    expect(file.packets[1]!.flags).toBe(1);
    expect(file.packets[1]!.tsNs).toBe(1_700_000_000_123_456_789n + 3000n);
    // Closing detaches the tap: nothing more is recorded, and the link is back on its fast path.
    expect(link.taps).toBeNull();
  });

  it('streams: every chunk boundary leaves a readable file, and the size cap holds', () => {
    const engine = new Engine();
    const { a, link } = pair(engine);
    const chunks: Uint8Array[] = [];
    const cap = new Capture(engine, { sink: (c) => chunks.push(c), chunkBytes: 4096, maxBytes: 50_000 });
    cap.attachLink(link);
    for (let i = 0; i < 1000; i++) a.send(frame(i, 200));
    engine.runUntilIdle();
    cap.flush();
    expect(chunks.length).toBeGreaterThan(3);
    for (let k = 1; k <= chunks.length; k++) readPcapng(concat(chunks.slice(0, k)));
    const total = concat(chunks);
    expect(total.length).toBeLessThanOrEqual(50_000);
    const file = readPcapng(total);
    expect(file.packets.length).toBe(cap.frames);
    expect(cap.frames + cap.dropped).toBe(1000);
  });

  it('writes classic pcap with nanosecond timestamps on request, and taps ports', () => {
    const engine = new Engine({ epochNs: 10_999_999_999n });
    const { a, b } = pair(engine, { delayNs: 2 });
    const chunks: Uint8Array[] = [];
    const cap = new Capture(engine, { format: 'pcap', sink: (c) => chunks.push(c) });
    cap.attachPort(b, 'b');
    a.send(frame(7));
    engine.runUntilIdle();
    b.send(frame(8));
    engine.runUntilIdle();
    cap.close();
    const file = readPcap(concat(chunks));
    expect(file.packets.map((p) => p.data[14])).toEqual([7, 8]);
    expect(file.packets[0]!.tsNs).toBe(11_000_000_001n);
  });
});

function popcount(x: number): number {
  let n = 0;
  while (x) {
    n += x & 1;
    x >>= 1;
  }
  return n;
}
