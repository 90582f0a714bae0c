/**
 * The check clock in real time: a lab left idle sleeps (no slice runs, so nothing moves the
 * engine's clock), then checks run. Wall time is faked by shifting performance.now, which the
 * engine, the runtime and the checks all read, so a two-minute idle costs nothing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Engine } from '../../devices/engine/engine.js';
import { Host, type PingOperation } from '../../devices/host/index.js';
import { validateLab, type Lab } from '../../devices/lab/schema.js';
import { LabRuntime } from '../../devices/lab/runtime.js';

function lab(file: Record<string, unknown>): Lab {
  const r = validateLab({ wirelab: 1, name: 'clock', time: 'real', ...file });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.lab;
}

const realNow = performance.now.bind(performance);
let shiftMs = 0;
/** Wall time jumps by `ms` at once, as if the process had sat idle that long. */
function idle(ms: number): void {
  shiftMs += ms;
}
function fakeWallClock(): void {
  shiftMs = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => realNow() + shiftMs);
}

/** Every ping the checks start, to read their probes' times. */
function recordPings(): PingOperation[] {
  const pings: PingOperation[] = [];
  const ping = Host.prototype.ping;
  vi.spyOn(Host.prototype, 'ping').mockImplementation(function (this: Host, ...args: Parameters<Host['ping']>) {
    const op = ping.apply(this, args);
    pings.push(op);
    return op;
  });
  return pings;
}

afterEach(() => {
  vi.restoreAllMocks();
});

const twoHosts = {
  nodes: {
    a: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } } },
    b: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.2/24' } } },
    sw: { kind: 'switch' },
  },
  links: [
    ['a:eth0', 'sw:e0'],
    ['b:eth0', 'sw:e1'],
  ],
  checks: [
    { name: 'a reaches b', ping: { from: 'a', to: 'b', count: 2 } },
    { name: 'all pairs', pingall: { among: ['a', 'b'] } },
    { name: 'b resolves a', arp: { node: 'b', ip: '10.0.0.1' } },
    { name: 'nobody at .9', ping: { from: 'a', to: '10.0.0.9', count: 1 }, expect: 'failure', timeout: '1s' },
  ],
};

describe('check clock in real time', () => {
  it('after two idle minutes, durations and round trips are whole nanoseconds within the wall time of the run', async () => {
    fakeWallClock();
    const pings = recordPings();
    const rt = new LabRuntime(lab(twoHosts));
    const startMs = performance.now();
    try {
      rt.start();
      expect(await rt.settle(10e9)).toBe(true);
      idle(150_000);

      const w0 = performance.now();
      const results = await rt.runChecks();
      const wallNs = (performance.now() - w0) * 1e6;

      expect(results.map((r) => [r.name, r.passed])).toEqual([
        ['a reaches b', true],
        ['all pairs', true],
        ['b resolves a', true],
        ['nobody at .9', true],
      ]);
      for (const r of results) {
        expect(Number.isInteger(r.durationNs), `${r.name}: ${r.durationNs}`).toBe(true);
        expect(r.durationNs).toBeGreaterThanOrEqual(0);
        expect(r.durationNs, r.name).toBeLessThanOrEqual(wallNs);
      }
      // The failing check waited out its timeout, as the wall clock measured it.
      expect(results[3]!.durationNs).toBeGreaterThanOrEqual(0.9e9);

      expect(pings.length).toBeGreaterThanOrEqual(4);
      for (const op of pings)
        for (const p of op.result.probes) {
          expect(Number.isInteger(p.sentNs), `sent at ${p.sentNs}`).toBe(true);
          if (p.status !== 'reply') continue;
          expect(Number.isInteger(p.rttNs), `rtt ${p.rttNs}`).toBe(true);
          expect(p.rttNs).toBeGreaterThanOrEqual(0);
          expect(p.rttNs).toBeLessThanOrEqual(wallNs);
          // In-process replies come within a slice or two; only a lost wake-up (or a stall) takes this long.
          expect(p.rttNs).toBeLessThan(0.5e9);
        }
      // The ping check's probes went a second apart, not both at once after the clock caught up.
      const [first, second] = pings[0]!.result.probes;
      expect(second!.sentNs - first!.sentNs).toBeGreaterThanOrEqual(0.9e9);
      expect(pings[0]!.result.received).toBe(2);

      // A node powered on after another idle spell starts its timers from wall time too.
      idle(120_000);
      rt.stopNode('b');
      const wallLabNs = (performance.now() - startMs) * 1e6;
      rt.startNode('b');
      expect(Number.isInteger(rt.engine.now)).toBe(true);
      expect(rt.engine.now).toBeGreaterThanOrEqual(wallLabNs - 1e9);
    } finally {
      rt.stop();
    }
  }, 20_000);
});

describe('engine clock in real time', () => {
  it('tracks wall time in whole nanoseconds, also after sleeping', async () => {
    fakeWallClock();
    const engine = new Engine({ mode: 'real' });
    const startedMs = performance.now();
    engine.start();
    try {
      await new Promise((r) => setTimeout(r, 5));
      idle(130_000);
      engine.sync();
      const laggingNs = (performance.now() - startedMs) * 1e6 - engine.now; // the wall clock read last: never behind
      expect(Number.isInteger(engine.now)).toBe(true);
      expect(engine.now).toBeGreaterThan(130e9);
      expect(laggingNs).toBeGreaterThanOrEqual(0);
      expect(laggingNs).toBeLessThan(1e9);
      // A timer set from outside the engine lands a delay after wall time, not in the past.
      let firedAt = -1;
      engine.after(2e6, { onTimer: () => (firedAt = engine.now) });
      await new Promise((r) => setTimeout(r, 50));
      expect(Number.isInteger(firedAt)).toBe(true);
      expect(firedAt).toBeGreaterThan(130e9 + 2e6);
    } finally {
      engine.stop();
    }
  });
});

describe('check clock in virtual time', () => {
  it('keeps whole nanoseconds over a link whose rate and jitter give fractional delays', async () => {
    const pings = recordPings();
    const rt = new LabRuntime(
      lab({
        time: 'virtual',
        nodes: twoHosts.nodes,
        links: [{ endpoints: ['a:eth0', 'sw:e0'], rate: '3mbit', delay: '1.3ms', jitter: '0.7ms' }, ['b:eth0', 'sw:e1']],
        checks: [{ ping: { from: 'a', to: 'b', count: 3 } }],
      }),
    );
    const [r] = await rt.runChecks();
    expect(r!.passed).toBe(true);
    expect(Number.isInteger(r!.durationNs), String(r!.durationNs)).toBe(true);
    expect(Number.isInteger(rt.engine.now)).toBe(true);
    const probes = pings[0]!.result.probes;
    expect(probes.map((p) => p.status)).toEqual(['reply', 'reply', 'reply']);
    for (const p of probes) expect(Number.isInteger(p.rttNs), String(p.rttNs)).toBe(true);
  });
});
