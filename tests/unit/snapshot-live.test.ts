/**
 * Live snapshots of running labs, in virtual time: a TCP transfer snapshotted half-way completes
 * after a restore with the same bytes; two restores of one snapshot give byte-identical captures;
 * a ping sequence running at snapshot time carries on; identities, tables, leases and NAT
 * sessions come back; whatever cannot be recorded (a closure, an unknown class) fails loudly
 * with the path to it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Capture } from '../../devices/engine/index.js';
import { Host, type PingOperation } from '../../devices/host/index.js';
import { loadLabText } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import type { Lab } from '../../devices/lab/schema.js';
import { Router } from '../../devices/router/index.js';
import { HttpGet, HttpServer } from '../../devices/services/index.js';
import { SnapshotError, captureRuntime, decodeState, encodeState, restoreRuntime } from '../../devices/snapshot/index.js';
import { attachTcp } from '../../devices/stack/tcp-ip.js';
import { Switch } from '../../devices/switch/index.js';
import { macToString } from '../../devices/wire/bytes.js';

function lab(text: string): Lab {
  const r = loadLabText(text, 'lab.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.lab;
}

function sample(name: string): Lab {
  const r = loadLabText(readFileSync(`labs/${name}/lab.yaml`, 'utf8'), `${name}/lab.yaml`, { folderName: name });
  if (!r.ok) throw new Error(`sample ${name} does not load`);
  return r.lab;
}

/** Records every link of the runtime from now on; `bytes()` stops and returns the pcapng file. */
function captureAll(rt: LabRuntime): { bytes(): Buffer } {
  const chunks: Uint8Array[] = [];
  const cap = new Capture(rt.engine, { sink: (c) => chunks.push(c) });
  for (const id of rt.linkIds()) cap.attachLink(rt.link(id)!, id);
  return {
    bytes() {
      cap.close();
      return Buffer.concat(chunks);
    },
  };
}

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** A deterministic body of printable bytes. */
function body(n: number): string {
  let s = '';
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += String.fromCharCode(33 + ((x >>> 16) % 90));
  }
  return s;
}

const TCP_LAB = `
wirelab: 1
name: tcp
nodes:
  srv: { kind: host, interfaces: { eth0: { ip: 10.0.0.1/24 } } }
  cli: { kind: host, interfaces: { eth0: { ip: 10.0.0.2/24 } } }
links:
  - { endpoints: [srv:eth0, cli:eth0], delay: 2ms, rate: 20mbit }
`;

describe('a TCP transfer across a snapshot', () => {
  const BODY = body(120_000);

  function start(): { rt: LabRuntime; get: HttpGet } {
    const rt = new LabRuntime(lab(TCP_LAB), { time: 'virtual' });
    const srvTcp = attachTcp(rt.host('srv')!.stack);
    const cliTcp = attachTcp(rt.host('cli')!.stack);
    rt.start();
    new HttpServer(srvTcp, { port: 80, body: BODY });
    const get = new HttpGet(cliTcp, 'http://10.0.0.1/', { maxBodyBytes: 1 << 20, timeoutNs: 120e9 });
    return { rt, get };
  }

  it('completes after a restore taken half-way with the same bytes, and two restores capture byte for byte the same', () => {
    // The reference: the same transfer, never interrupted.
    const ref = start();
    ref.rt.engine.runFor(60e6);
    const refCapture = captureAll(ref.rt);
    ref.rt.engine.runUntilCondition(() => ref.get.result.done, 60e9);
    ref.rt.engine.runFor(2e9);
    const refBytes = refCapture.bytes();
    expect(ref.get.result.status).toBe(200);
    expect(sha(ref.get.result.body)).toBe(sha(BODY));

    const t = start();
    t.rt.engine.runFor(60e6);
    expect(t.get.result.done).toBe(false);
    const inFlight = t.rt.link('srv:eth0--cli:eth0')!.stats(1);
    expect(inFlight.sent - inFlight.delivered).toBeGreaterThan(0); // segments are on the wire right now
    const state = encodeState(captureRuntime(t.rt, { get: t.get }));

    const hashes: string[] = [];
    const captures: string[] = [];
    for (let round = 0; round < 2; round++) {
      const restored = restoreRuntime(t.rt, decodeState(state), t.rt.lab);
      const get = restored.extra['get'] as HttpGet;
      expect(get).toBeInstanceOf(HttpGet);
      expect(get).not.toBe(t.get);
      expect(get.result.done).toBe(false);
      const cap = captureAll(t.rt);
      t.rt.engine.runUntilCondition(() => get.result.done, 60e9);
      t.rt.engine.runFor(2e9);
      captures.push(sha(cap.bytes()));
      expect(get.result.error).toBeNull();
      expect(get.result.status).toBe(200);
      hashes.push(sha(get.result.body));
    }
    expect(hashes).toEqual([sha(BODY), sha(BODY)]);
    // Restored twice: the same frames at the same instants; and the same as never interrupted.
    expect(captures[0]).toBe(captures[1]);
    expect(captures[0]).toBe(sha(refBytes));
  });
});

describe('a running lab after a restore', () => {
  it('carries on a ping sequence that was running, with its sequence numbers', () => {
    const rt = new LabRuntime(sample('triangle'), { time: 'virtual' });
    rt.start();
    rt.engine.runFor(5e9);
    const hosts = rt.nodeNames().filter((n) => rt.host(n));
    const from = rt.host(hosts[0]!)!;
    const toIp = rt.host(hosts[1]!)!.showIp()[0]!.ip;
    const ping = from.ping(toIp, { count: 8, intervalNs: 1e9 });
    rt.engine.runFor(3.5e9);
    expect(ping.result.transmitted).toBe(4);
    const state = encodeState(captureRuntime(rt, { ping }));
    // The lab moves on (and the ping finishes) before going back.
    rt.engine.runFor(10e9);
    expect(ping.isDone).toBe(true);
    const r = restoreRuntime(rt, decodeState(state), rt.lab);
    const restored = r.extra['ping'] as PingOperation;
    expect(restored.isDone).toBe(false);
    expect(restored.result.transmitted).toBe(4);
    rt.engine.runUntilCondition(() => restored.isDone, 30e9);
    expect(restored.result.transmitted).toBe(8);
    expect(restored.result.received).toBe(8);
    expect(restored.result.probes.map((p) => p.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // The host's own list of operations is the restored one: the same object.
    expect((rt.host(hosts[0]!) as unknown as { ops: unknown[] }).ops).toContain(restored);
  });

  it('keeps identities, ARP and MAC tables, DHCP leases on both sides and NAT sessions', async () => {
    const rt = new LabRuntime(sample('office'), { time: 'virtual' });
    rt.start();
    await rt.settle();
    const ping = rt.host('pc1')!.ping('203.0.113.10', { count: 2 });
    rt.engine.runUntilCondition(() => ping.isDone, 20e9);
    expect(ping.result.received).toBe(2);
    const r1Before = rt.node('r1');
    // Every read goes through the runtime: a restore replaces the devices.
    const view = () => {
      const r1 = rt.node('r1') as Router;
      const sw = rt.node('sw1') as Switch;
      const pc1 = rt.host('pc1')!;
      return {
      nodes: rt.nodeNames(),
      links: rt.linkIds(),
      macs: rt.nodeNames().flatMap((n) => rt.node(n)!.ports.map((p) => `${n}:${p.name}`)),
      hostMacs: ['pc1', 'pc2', 'pc3'].map((n) => macToString(rt.host(n)!.showIp()[0]!.mac)),
      ips: ['pc1', 'pc2', 'pc3'].map((n) => rt.host(n)!.address('eth0')),
      lease: rt.host('pc1')!.dhcpStatus('eth0'),
      leases: r1.exportLeases(),
      nat: r1.natTranslations(),
      arp: pc1.stack.arpTable().map((a) => `${a.ip}/${a.mac}/${a.state}`),
      macTable: sw.macTable(),
      now: rt.engine.now,
      };
    };
    const before = view();
    expect(before.nat.length).toBeGreaterThan(0);
    expect(before.leases.leases.length).toBe(3);
    expect(before.macTable.length).toBeGreaterThan(0);
    const state = encodeState(captureRuntime(rt));
    rt.stop();
    rt.start();
    rt.engine.runFor(5e9);
    restoreRuntime(rt, decodeState(state), rt.lab);
    const after = view();
    expect(after).toEqual(before);
    expect(rt.node('r1')).not.toBe(r1Before);
    // And the restored lab works: its checks pass as they did.
    const results = await rt.runChecks({ settle: false });
    expect(results.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
  });

  it('restores into a freshly built runtime of the same lab (a server that restarted)', () => {
    const a = new LabRuntime(sample('stp-ring'), { time: 'virtual' });
    a.start();
    a.engine.runFor(40e9);
    const state = encodeState(captureRuntime(a));
    const capA = captureAll(a);
    a.engine.runFor(10e9);
    const b = new LabRuntime(sample('stp-ring'), { time: 'virtual' });
    restoreRuntime(b, decodeState(state), b.lab);
    expect(b.status).toBe('running');
    expect(b.engine.now).toBe(40e9);
    const capB = captureAll(b);
    b.engine.runFor(10e9);
    expect(sha(capB.bytes())).toBe(sha(capA.bytes()));
  });
});

describe('what a snapshot refuses or leaves out', () => {
  it('fails loudly, with the path, on a closure in device state', () => {
    const rt = new LabRuntime(sample('triangle'), { time: 'virtual' });
    rt.start();
    (rt.host(rt.nodeNames().find((n) => rt.host(n))!) as unknown as Record<string, unknown>)['onDone'] = () => 1;
    expect(() => captureRuntime(rt)).toThrow(SnapshotError);
    expect(() => captureRuntime(rt)).toThrow(/nodes\.get\("[^"]+"\)\.device\.onDone: a function/);
  });

  it('fails loudly on an instance of a class the registry does not know', () => {
    class Gadget {
      x = 1;
    }
    const rt = new LabRuntime(sample('triangle'), { time: 'virtual' });
    (rt.node('r1') as unknown as Record<string, unknown>)['gadget'] = new Gadget();
    expect(() => captureRuntime(rt)).toThrow(/class Gadget, which the snapshot registry/);
  });

  it('leaves out timers of objects outside the lab, and says how many', () => {
    class ConsoleLike {
      onTimer(): void {}
    }
    const rt = new LabRuntime(sample('triangle'), { time: 'virtual' });
    rt.start();
    const outside = new ConsoleLike();
    rt.engine.after(5e9, outside, 0);
    const before = rt.engine.pendingTimers;
    const state = captureRuntime(rt);
    expect(state.info.droppedTimers).toEqual({ ConsoleLike: 1 });
    restoreRuntime(rt, decodeState(encodeState(state)), rt.lab);
    expect(rt.engine.pendingTimers).toBe(before - 1);
    expect(rt.engine.timerList().some((t) => t.target === outside)).toBe(false);
  });

  it('keeps capture taps out of the snapshot and the lab runs on with them', () => {
    const rt = new LabRuntime(sample('triangle'), { time: 'virtual' });
    rt.start();
    const cap = captureAll(rt);
    rt.engine.runFor(2e9);
    const state = captureRuntime(rt);
    expect(JSON.stringify(state.graph.data.shapes)).not.toContain('Capture');
    cap.bytes();
  });
});

describe('a host made by hand', () => {
  it('is a Host again after a restore', () => {
    const rt = new LabRuntime(sample('triangle'), { time: 'virtual' });
    const name = rt.nodeNames().find((n) => rt.host(n))!;
    restoreRuntime(rt, decodeState(encodeState(captureRuntime(rt))), rt.lab);
    expect(rt.node(name)).toBeInstanceOf(Host);
  });
});
