/**
 * Spanning tree in virtual time: root election, rapid convergence (proposal/agreement, edge
 * ports), a looped triangle that converges to one blocked port, the storm without it, failover
 * when a link is pulled or a bridge dies, topology-change flushing, 802.1D fallback against a
 * Linux bridge's real BPDUs, and BPDU bytes that decode (ours and tshark's decoder).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Capture, Engine, Link, Port, type EngineOptions, type FrameSink } from '../../devices/engine/index.js';
import { createSwitch, portMac, type Switch, type SwitchOptions } from '../../devices/switch/index.js';
import { createHub } from '../../devices/hub/index.js';
import {
  BPDU_TYPE,
  ETHERTYPE,
  MAC_BROADCAST,
  PORT_ROLE,
  STP_MULTICAST,
  buildEthernetFrame,
  buildStpFrame,
  decodeStpFrame,
  ethDst,
  fromHex,
  isStpFrame,
  parseMac,
  type ConfigBpdu,
  type Mac,
} from '../../devices/wire/index.js';
import { concat } from '../helpers/pcapng.js';
import { tsharkAvailable, tsharkFields, tsharkProblems } from '../helpers/tshark.js';

const SECOND = 1e9;

// A Configuration BPDU from a Linux kernel bridge (802.1D), from the reference capture vlan-stp.pcap
// (tests/fixtures/SOURCES.md):
// root = bridge = 32768/02:00:00:00:b0:00, port 0x8001, max age 20, hello 2, forward delay 4.
const LINUX_BPDU = fromHex('0180c200000002000000b00100264242030000000000800002000000b00000000000800002000000b00080010000140002000400');
const LINUX_BPDU_TC = fromHex('0180c200000002000000b00100264242030000000001800002000000b00000000000800002000000b00080010000140002000400');


class Station implements FrameSink {
  readonly port: Port;
  readonly got: Uint8Array[] = [];
  constructor(
    readonly name: string,
    readonly mac: Mac = 0,
  ) {
    this.port = new Port(this, name);
  }
  onFrame(_port: Port, frame: Uint8Array): void {
    this.got.push(frame);
  }
  send(frame: Uint8Array): void {
    this.port.send(frame);
  }
  /** Data frames received since the last call (BPDUs are set aside in `bpdus`). */
  take(): Uint8Array[] {
    return this.got.splice(0).filter((f) => !isStpFrame(f, 0));
  }
  bpdus(): ConfigBpdu[] {
    return this.got.filter((f) => isStpFrame(f, 0)).map((f) => decodeStpFrame(f).bpdu as ConfigBpdu);
  }
}

function mac(s: string): Mac {
  const m = parseMac(s);
  if (m === null) throw new Error(s);
  return m;
}

let seq = 0;
function data(dst: Mac, src: Mac): Uint8Array {
  const payload = new Uint8Array(46);
  payload[0] = ++seq & 0xff;
  return buildEthernetFrame({ dst, src, tags: [], etherType: ETHERTYPE.IPV4 }, payload);
}

function bridge(engine: Engine, name: string, id: number, opts: Partial<SwitchOptions> = {}): Switch {
  return createSwitch(engine, { name, ports: 4, mac: 0x02_00_00_00_00_00 + id * 0x100, ...opts });
}

interface Triangle {
  engine: Engine;
  s: [Switch, Switch, Switch];
  h: [Station, Station, Station];
  l12: Link;
  l23: Link;
  l13: Link;
}

/**
 * s1 (lowest id) - s2 - s3 in a ring: s1.e1-s2.e1, s2.e2-s3.e1, s1.e2-s3.e2; host hN on sN.e0.
 */
function triangle(opts: Partial<SwitchOptions> = {}, engineOpts: EngineOptions = {}): Triangle {
  const engine = new Engine({ mode: 'virtual', ...engineOpts });
  const s: [Switch, Switch, Switch] = [bridge(engine, 's1', 1, opts), bridge(engine, 's2', 2, opts), bridge(engine, 's3', 3, opts)];
  const h: [Station, Station, Station] = [1, 2, 3].map((k) => new Station(`h${k}`, mac(`02:00:00:00:aa:0${k}`))) as [Station, Station, Station];
  h.forEach((host, k) => new Link(engine, `h${k + 1}`, host.port, s[k]!.ports[0]!));
  const l12 = new Link(engine, 's1-s2', s[0].ports[1]!, s[1].ports[1]!);
  const l23 = new Link(engine, 's2-s3', s[1].ports[2]!, s[2].ports[1]!);
  const l13 = new Link(engine, 's1-s3', s[0].ports[2]!, s[2].ports[2]!);
  for (const sw of s) sw.start();
  return { engine, s, h, l12, l23, l13 };
}

/** "switch:port" of every port spanning tree keeps from forwarding while its link is up. */
function blockedPorts(switches: Switch[]): string[] {
  const out: string[] = [];
  for (const sw of switches) {
    for (const p of sw.stpStatus().ports) {
      if (p.role === 'alternate' || p.role === 'backup') {
        expect(p.state).toBe('discarding');
        out.push(`${sw.name}:${p.name}`);
      }
    }
  }
  return out;
}

function role(sw: Switch, port: string): { role: string; state: string } {
  const p = sw.stpStatus().ports.find((q) => q.name === port)!;
  return { role: p.role, state: p.state };
}

describe('spanning tree: two bridges', () => {
  it('elects the lower bridge id and forwards between RSTP bridges in well under a second', () => {
    const engine = new Engine({ mode: 'virtual' });
    const s1 = bridge(engine, 's1', 1);
    const s2 = bridge(engine, 's2', 2);
    new Link(engine, 'trunk', s1.ports[3]!, s2.ports[3]!);
    s2.start();
    s1.start();
    engine.runFor(0.1 * SECOND);
    expect(s1.stpStatus()).toMatchObject({ isRoot: true, rootId: '32768.02:00:00:00:01:00', rootPort: null, rootCost: 0 });
    expect(s2.stpStatus()).toMatchObject({ isRoot: false, rootId: '32768.02:00:00:00:01:00', rootPort: 'e3', rootCost: 20000 });
    expect(role(s1, 'e3')).toEqual({ role: 'designated', state: 'forwarding' });
    expect(role(s2, 'e3')).toEqual({ role: 'root', state: 'forwarding' });
  });

  it('brings host-facing ports to forwarding within a few seconds, and admin edge ports at once', () => {
    const engine = new Engine({ mode: 'virtual' });
    const sw = bridge(engine, 's1', 1, { interfaces: { e1: { edge: true } } });
    const a = new Station('a', mac('02:00:00:00:aa:01'));
    const b = new Station('b', mac('02:00:00:00:aa:02'));
    const c = new Station('c', mac('02:00:00:00:aa:03'));
    new Link(engine, 'a', a.port, sw.ports[0]!);
    new Link(engine, 'b', b.port, sw.ports[1]!);
    new Link(engine, 'c', c.port, sw.ports[2]!);
    sw.start();
    engine.runFor(1);
    expect(role(sw, 'e1')).toEqual({ role: 'designated', state: 'forwarding' });
    expect(role(sw, 'e0')).toEqual({ role: 'designated', state: 'discarding' });
    a.send(data(MAC_BROADCAST, a.mac));
    engine.runFor(1000);
    expect(b.take()).toHaveLength(0);
    expect(sw.portCounters()[0]!.stpDrops).toBe(1);
    engine.runUntil(3.5 * SECOND);
    expect(sw.stpStatus().ports.slice(0, 3).map((p) => [p.state, p.edge])).toEqual([
      ['forwarding', true],
      ['forwarding', true],
      ['forwarding', true],
    ]);
    // The uncabled port stays disabled.
    expect(role(sw, 'e3')).toEqual({ role: 'disabled', state: 'discarding' });
    a.send(data(MAC_BROADCAST, a.mac));
    engine.runFor(1000);
    expect(b.take()).toHaveLength(1);
    expect(c.take()).toHaveLength(1);
  });

  it('makes the bridge with the lowest priority root, whatever its MAC', () => {
    const engine = new Engine({ mode: 'virtual' });
    const s1 = bridge(engine, 's1', 1);
    const s2 = bridge(engine, 's2', 2);
    const s9 = bridge(engine, 's9', 9, { stpPriority: 4096 });
    new Link(engine, 'a', s1.ports[1]!, s2.ports[1]!);
    new Link(engine, 'b', s2.ports[2]!, s9.ports[2]!);
    for (const sw of [s1, s2, s9]) sw.start();
    engine.runFor(1 * SECOND);
    for (const sw of [s1, s2, s9]) expect(sw.stpStatus().rootId).toBe('4096.02:00:00:00:09:00');
    expect(s9.stpStatus().isRoot).toBe(true);
    expect(s2.stpStatus()).toMatchObject({ rootPort: 'e2', rootCost: 20000 });
    expect(s1.stpStatus()).toMatchObject({ rootPort: 'e1', rootCost: 40000 });
    expect(blockedPorts([s1, s2, s9])).toEqual([]);
  });
});

describe('spanning tree: a looped triangle', () => {
  it('converges to exactly one blocked port, and a broadcast arrives once at each host', () => {
    const { engine, s, h } = triangle();
    engine.runFor(0.5 * SECOND);
    // The inter-switch ports agree within the first instant; hosts wait for edge detection.
    expect(blockedPorts(s)).toEqual(['s3:e1']);
    expect(role(s[2], 'e2')).toEqual({ role: 'root', state: 'forwarding' });
    expect(role(s[1], 'e2')).toEqual({ role: 'designated', state: 'forwarding' });
    engine.runUntil(4 * SECOND);
    h[0].send(data(MAC_BROADCAST, h[0].mac));
    engine.runFor(1 * SECOND);
    expect(h.map((x) => x.take().length)).toEqual([0, 1, 1]);
    // Still the same seconds later: the frame is not going round the loop.
    engine.runFor(10 * SECOND);
    expect(h.map((x) => x.take().length)).toEqual([0, 0, 0]);
    expect(engine.stormTicks).toBe(0);
    expect(blockedPorts(s)).toEqual(['s3:e1']);
    // Unicast both ways after learning.
    h[2].send(data(h[0].mac, h[2].mac));
    engine.runFor(1000);
    expect(h.map((x) => x.take().length)).toEqual([1, 0, 0]);
  });

  it('without spanning tree the same loop storms; the engine survives and the test finishes', () => {
    const { engine, h, s } = triangle({ stp: false }, { maxDeliveriesPerInstant: 20_000, stormTickNs: 1_000_000 });
    h[0].send(data(MAC_BROADCAST, h[0].mac));
    engine.runFor(20_000_000);
    expect(engine.stormTicks).toBeGreaterThan(5);
    // The broadcast keeps circling both ways, so every host sees it again and again.
    for (const x of h) expect(x.take().length).toBeGreaterThan(100);
    expect(s[0].counters().flooded).toBeGreaterThan(1000);
  });

  it('a storm that multiplies fills the delivery queue, and frames are dropped and counted', () => {
    const engine = new Engine({ mode: 'virtual', maxQueue: 4096, maxDeliveriesPerInstant: 50_000, stormTickNs: 1_000_000 });
    const s1 = bridge(engine, 's1', 1, { stp: false });
    const s2 = bridge(engine, 's2', 2, { stp: false });
    // Three parallel cables: each copy coming in becomes two going out.
    for (let k = 1; k <= 3; k++) new Link(engine, `p${k}`, s1.ports[k]!, s2.ports[k]!);
    for (const sw of [s1, s2]) sw.start();
    const host = new Station('h', mac('02:00:00:00:aa:01'));
    new Link(engine, 'h', host.port, s1.ports[0]!);
    host.send(data(MAC_BROADCAST, host.mac));
    engine.runFor(5_000_000);
    expect(engine.queueDrops).toBeGreaterThan(0);
  });

  it('fails over to the alternate port when the root link is pulled, and back when it returns', () => {
    const { engine, s, h, l13 } = triangle();
    engine.runUntil(4 * SECOND);
    expect(blockedPorts(s)).toEqual(['s3:e1']);
    l13.suspend();
    engine.runFor(1.5 * SECOND);
    expect(s[2].stpStatus()).toMatchObject({ rootPort: 'e1', rootCost: 40000 });
    expect(role(s[2], 'e1')).toEqual({ role: 'root', state: 'forwarding' });
    expect(blockedPorts(s)).toEqual([]);
    h[0].send(data(MAC_BROADCAST, h[0].mac));
    engine.runFor(1000);
    expect(h.map((x) => x.take().length)).toEqual([0, 1, 1]);

    l13.resume();
    engine.runFor(2 * SECOND);
    expect(s[2].stpStatus()).toMatchObject({ rootPort: 'e2', rootCost: 20000 });
    expect(blockedPorts(s)).toEqual(['s3:e1']);
    h[1].send(data(MAC_BROADCAST, h[1].mac));
    engine.runFor(1 * SECOND);
    expect(h.map((x) => x.take().length)).toEqual([1, 0, 1]);
  });

  it('says it has converged exactly when its status shows it, through convergence, a failover and a stop', () => {
    const { engine, s, l13 } = triangle();
    /** The verdict as read from the status a user sees. */
    const fromStatus = (sw: Switch): boolean => {
      const st = sw.stpStatus();
      if (!st.enabled) return true;
      return st.ports.every((p, i) => {
        if ((p.role === 'root' || p.role === 'designated') && p.state !== 'forwarding') return false;
        const port = sw.ports[i]!;
        const peer = port.peer;
        return !(p.role === 'disabled' && port.up && port.link !== null && !port.link.suspended && peer !== null && peer.up);
      });
    };
    const seen = new Set<string>();
    const check = () => {
      for (const sw of s) {
        expect(sw.stpConverged()).toBe(fromStatus(sw));
        seen.add(String(sw.stpConverged()));
      }
    };
    const steps = (n: number, ns: number) => {
      for (let i = 0; i < n; i++) {
        engine.runFor(ns);
        check();
      }
    };
    check();
    steps(40, 0.1 * SECOND);
    l13.suspend();
    steps(20, 0.1 * SECOND);
    l13.resume();
    steps(20, 0.1 * SECOND);
    s[0].stop();
    steps(20, 0.1 * SECOND);
    s[0].start();
    steps(40, 0.1 * SECOND);
    s[1].setSpanningTree({ enabled: false, version: 'rstp', priority: 32768 });
    steps(5, 0.1 * SECOND);
    expect([...seen].sort()).toEqual(['false', 'true']);
  });

  it('fails over when the root bridge is powered off: its links go dark', () => {
    const { engine, s, h } = triangle();
    engine.runUntil(4 * SECOND);
    s[0].stop();
    engine.runFor(1.5 * SECOND);
    expect(s[1].stpStatus()).toMatchObject({ isRoot: true, rootId: '32768.02:00:00:00:02:00' });
    expect(s[2].stpStatus()).toMatchObject({ rootId: '32768.02:00:00:00:02:00', rootPort: 'e1', rootCost: 20000 });
    expect(role(s[2], 'e1').state).toBe('forwarding');
    expect(role(s[1], 'e1').role).toBe('disabled');
    h[1].send(data(MAC_BROADCAST, h[1].mac));
    engine.runFor(1 * SECOND);
    expect(h.map((x) => x.take().length)).toEqual([0, 0, 1]);
  });

  it('ages out a root that falls silent on a live link after three hello times', () => {
    const engine = new Engine({ mode: 'virtual' });
    const sw = bridge(engine, 's1', 1);
    const peer = new Station('peer');
    new Link(engine, 'l', peer.port, sw.ports[0]!);
    sw.start();
    // The Linux bridge is root (02:00:00:00:b0:00 < ours only by priority 0 here).
    const superior = LINUX_BPDU.slice();
    superior[17 + 5] = 0x00; // root priority 0
    superior[17 + 17] = 0x00; // bridge priority 0
    for (let t = 0; t <= 10; t += 2) {
      engine.runUntil(t * SECOND);
      peer.send(superior);
    }
    engine.runFor(1000);
    expect(sw.stpStatus()).toMatchObject({ rootId: '0.02:00:00:00:b0:00', rootPort: 'e0' });
    // The peer stops sending (its STP was switched off); the cable stays in.
    engine.runFor(5 * SECOND);
    expect(sw.stpStatus().rootId).toBe('0.02:00:00:00:b0:00');
    engine.runFor(2 * SECOND);
    expect(sw.stpStatus()).toMatchObject({ isRoot: true, rootPort: null, rootId: '32768.02:00:00:00:01:00' });
    expect(role(sw, 'e0').role).toBe('designated');
  });

  it('prices a port by its cable speed (802.1t: 20000 at 1 Gbit/s, 200000 at 100 Mbit/s), or as configured', () => {
    const { engine, s, l13 } = triangle();
    l13.setImpairments({ rateBps: 100e6 });
    // A cable's speed is read when its port comes up: re-plug it.
    l13.suspend();
    engine.runFor(1.5 * SECOND);
    l13.resume();
    engine.runFor(2 * SECOND);
    expect(s[2].stpStatus().ports.find((p) => p.name === 'e2')!.cost).toBe(200_000);
    // The direct 100 Mbit/s path to the root costs more than two gigabit hops.
    expect(s[2].stpStatus()).toMatchObject({ rootPort: 'e1', rootCost: 40000 });
    expect(blockedPorts(s)).toEqual(['s3:e2']);
    s[2].configurePort('e2', { cost: 100 });
    engine.runFor(1000);
    expect(s[2].stpStatus()).toMatchObject({ rootPort: 'e2', rootCost: 100 });
    // Now s3 (cost 100) beats s2 (cost 20000) as designated bridge of their link.
    expect(blockedPorts(s)).toEqual(['s2:e2']);
  });

  it('reconverges at once when a port is shut down administratively', () => {
    const { engine, s } = triangle();
    engine.runUntil(4 * SECOND);
    s[2].setPortUp('e2', false);
    engine.runFor(1000);
    expect(role(s[2], 'e2').role).toBe('disabled');
    expect(role(s[2], 'e1')).toEqual({ role: 'root', state: 'forwarding' });
  });

  it('flushes addresses learned on other ports when the topology changes', () => {
    const { engine, s, h, l13 } = triangle();
    engine.runUntil(4 * SECOND);
    h[0].send(data(MAC_BROADCAST, h[0].mac));
    h[2].send(data(MAC_BROADCAST, h[2].mac));
    engine.runFor(1000);
    for (const x of h) x.take();
    expect(s[2].macTable().map((r) => [r.mac, r.port])).toEqual([
      ['02:00:00:00:aa:01', 'e2'],
      ['02:00:00:00:aa:03', 'e0'],
    ]);
    const before = s[1].stpStatus().topologyChanges;
    l13.suspend();
    engine.runFor(1.5 * SECOND);
    // h1 is now reached through s2: its stale entry went, the edge port's host stayed.
    expect(s[2].macTable().map((r) => [r.mac, r.port])).toEqual([['02:00:00:00:aa:03', 'e0']]);
    expect(s[1].stpStatus().topologyChanges).toBeGreaterThan(before);
    // So the next frame to h1 is flooded along the new path (s2 flushed its root port too).
    h[2].send(data(h[0].mac, h[2].mac));
    engine.runFor(1000);
    expect(h.map((x) => x.take().length)).toEqual([1, 1, 0]);
  });

  it('changes spanning-tree mode and priority on a running bridge (the console commands)', () => {
    const { engine, s, h } = triangle();
    engine.runUntil(4 * SECOND);
    s[2].setSpanningTree({ enabled: true, version: 'rstp', priority: 4096 });
    engine.runFor(4 * SECOND);
    for (const sw of s) expect(sw.stpStatus().rootId).toBe('4096.02:00:00:00:03:00');
    expect(blockedPorts(s)).toEqual(['s2:e1']);
    s[0].setSpanningTree({ enabled: true, version: 'stp', priority: 32768 });
    engine.runFor(60 * SECOND);
    expect(s[0].stpStatus().ports.filter((p) => p.name !== 'e0' && p.name !== 'e3').map((p) => p.protocol)).toEqual(['stp', 'stp']);
    expect(s[1].stpStatus().ports.find((p) => p.name === 'e1')!.protocol).toBe('stp');
    expect(blockedPorts(s)).toHaveLength(1);
    expect(() => s[0].setSpanningTree({ enabled: true, version: 'rstp', priority: 100 })).toThrow(/steps of 4096/);
    for (const x of h) x.take();
    h[1].send(data(MAC_BROADCAST, h[1].mac));
    engine.runFor(1 * SECOND);
    expect(h.map((x) => x.take().length)).toEqual([1, 0, 1]);
    expect(engine.stormTicks).toBe(0);
  });

  it('forgets its tree on stop and builds it again on start', () => {
    const { engine, s } = triangle();
    engine.runUntil(4 * SECOND);
    s[2].stop();
    expect(s[2].stpStatus().ports.every((p) => p.state === 'discarding')).toBe(true);
    expect(s[2].macTable()).toEqual([]);
    engine.runFor(8 * SECOND);
    s[2].start();
    engine.runFor(0.5 * SECOND);
    expect(blockedPorts(s)).toEqual(['s3:e1']);
    expect(s[2].stpStatus()).toMatchObject({ rootPort: 'e2', rootId: '32768.02:00:00:00:01:00' });
  });
});

describe('spanning tree: shared segments and 802.1D neighbours', () => {
  it('blocks the second of two ports on one hub as a backup port', () => {
    const engine = new Engine({ mode: 'virtual' });
    const sw = bridge(engine, 's1', 1);
    const hub = createHub(engine, { name: 'hub' });
    new Link(engine, 'a', sw.ports[1]!, hub.ports[0]!);
    new Link(engine, 'b', sw.ports[2]!, hub.ports[1]!);
    const host = new Station('h', mac('02:00:00:00:aa:01'));
    new Link(engine, 'c', host.port, hub.ports[2]!);
    hub.start();
    sw.start();
    engine.runFor(40 * SECOND);
    expect(role(sw, 'e1')).toEqual({ role: 'designated', state: 'forwarding' });
    expect(role(sw, 'e2')).toEqual({ role: 'backup', state: 'discarding' });
    host.take();
    host.send(data(MAC_BROADCAST, host.mac));
    engine.runFor(1 * SECOND);
    expect(host.take()).toHaveLength(0);
    expect(engine.stormTicks).toBe(0);
  });

  it('talks 802.1D to a Linux bridge that is root: follows it, and sends it TCNs until acknowledged', () => {
    const engine = new Engine({ mode: 'virtual' });
    const sw = bridge(engine, 's1', 0xc0);
    const linux = new Station('linux');
    new Link(engine, 'to-linux', linux.port, sw.ports[0]!);
    const s2 = bridge(engine, 's2', 0xc1);
    sw.start();
    for (let t = 0; t <= 8; t += 2) {
      engine.runUntil(t * SECOND);
      linux.send(LINUX_BPDU);
    }
    engine.runFor(0.5 * SECOND);
    expect(sw.stpStatus()).toMatchObject({ rootId: '32768.02:00:00:00:b0:00', rootPort: 'e0', rootCost: 20000, forwardDelay: 4 });
    expect(sw.stpStatus().ports[0]).toMatchObject({ role: 'root', state: 'forwarding', protocol: 'stp' });
    // Until then it offered RST BPDUs; a root port in 802.1D mode stays silent.
    const sent = linux.bpdus();
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((b) => b.type === BPDU_TYPE.RST)).toBe(true);
    linux.got.length = 0;

    // A new bridge behind us makes a topology change: we report it to the 802.1D root with TCNs.
    new Link(engine, 's1-s2', sw.ports[1]!, s2.ports[1]!);
    s2.start();
    for (let t = 9; t <= 13; t += 2) {
      engine.runUntil(t * SECOND);
      linux.send(LINUX_BPDU);
    }
    const tcns = linux.got.filter((f) => isStpFrame(f, 0) && decodeStpFrame(f).bpdu.type === BPDU_TYPE.TCN);
    expect(tcns.length).toBeGreaterThan(0);
    expect(tcns[0]!.length).toBe(60);
    // The root acknowledges (TCA) and sets TC; we stop sending TCNs.
    const ack = LINUX_BPDU_TC.slice();
    ack[21] = 0x81; // TC | TCA
    linux.send(ack);
    engine.runFor(1000);
    linux.got.length = 0;
    for (let t = 14; t <= 20; t += 2) {
      engine.runUntil(t * SECOND);
      linux.send(LINUX_BPDU_TC);
    }
    expect(linux.got.filter((f) => isStpFrame(f, 0))).toEqual([]);
    expect(s2.stpStatus().rootId).toBe('32768.02:00:00:00:b0:00');
  });

  it('answers an 802.1D bridge with Configuration BPDUs when it is the root itself', () => {
    const engine = new Engine({ mode: 'virtual' });
    const sw = bridge(engine, 's1', 0xc0, { stpPriority: 4096 });
    const linux = new Station('linux');
    new Link(engine, 'to-linux', linux.port, sw.ports[0]!);
    sw.start();
    for (let t = 0; t <= 10; t += 2) {
      engine.runUntil(t * SECOND);
      linux.send(LINUX_BPDU);
    }
    engine.runFor(1 * SECOND);
    linux.got.length = 0;
    engine.runFor(4 * SECOND);
    const sent = linux.bpdus();
    expect(sent.length).toBe(2);
    for (const b of sent) {
      expect(b).toMatchObject({ type: BPDU_TYPE.CONFIG, version: 0, rootId: { priority: 4096, mac: sw.mac }, rootPathCost: 0, portId: 0x8001 });
      expect(b.flags).toEqual({ tc: false, proposal: false, role: 0, learning: false, forwarding: false, agreement: false, tca: false });
    }
    // 802.1D timers: discarding, then learning after one forward delay, forwarding after two.
    expect(sw.stpStatus().ports[0]).toMatchObject({ role: 'designated', protocol: 'stp' });
    engine.runFor(30 * SECOND);
    expect(sw.stpStatus().ports[0]).toMatchObject({ role: 'designated', state: 'forwarding', protocol: 'stp' });
  });
});

describe('spanning tree: 802.1D bridges', () => {
  it('a ring of 802.1D-only bridges converges on forward-delay timers to one blocked port', () => {
    const { engine, s, h } = triangle({ stpVersion: 'stp' });
    engine.runFor(10 * SECOND);
    // Timer-driven: nothing forwards yet, so nothing can loop.
    expect(s.flatMap((sw) => sw.stpStatus().ports.filter((p) => p.state === 'forwarding' && p.name !== 'e0'))).toEqual([]);
    expect(blockedPorts(s)).toEqual(['s3:e1']);
    engine.runUntil(60 * SECOND);
    expect(blockedPorts(s)).toEqual(['s3:e1']);
    expect(s.every((sw) => sw.stpStatus().ports.every((p) => p.protocol === 'stp'))).toBe(true);
    for (const x of h) x.take();
    h[0].send(data(MAC_BROADCAST, h[0].mac));
    engine.runFor(1 * SECOND);
    expect(h.map((x) => x.take().length)).toEqual([0, 1, 1]);
    expect(engine.stormTicks).toBe(0);
  });

  it('RSTP bridges fall back to 802.1D on the ports facing an 802.1D bridge, and the ring still converges', () => {
    const engine = new Engine({ mode: 'virtual' });
    const s1 = bridge(engine, 's1', 1);
    const s2 = bridge(engine, 's2', 2, { stpVersion: 'stp' });
    const s3 = bridge(engine, 's3', 3);
    new Link(engine, 's1-s2', s1.ports[1]!, s2.ports[1]!);
    new Link(engine, 's2-s3', s2.ports[2]!, s3.ports[1]!);
    new Link(engine, 's1-s3', s1.ports[2]!, s3.ports[2]!);
    const hosts = [s1, s2, s3].map((sw, k) => {
      const st = new Station(`h${k}`, 0x02_00_00_aa_00_00 + k);
      new Link(engine, `h${k}`, st.port, sw.ports[0]!);
      return st;
    });
    for (const sw of [s1, s2, s3]) sw.start();
    engine.runUntil(60 * SECOND);
    expect(s1.stpStatus().ports.map((p) => p.protocol)).toEqual(['rstp', 'stp', 'rstp', 'rstp']);
    expect(s3.stpStatus().ports.map((p) => p.protocol)).toEqual(['rstp', 'stp', 'rstp', 'rstp']);
    expect(blockedPorts([s1, s2, s3])).toEqual(['s3:e1']);
    for (const sw of [s1, s2, s3]) expect(sw.stpStatus().rootId).toBe('32768.02:00:00:00:01:00');
    for (const x of hosts) x.take();
    hosts[1]!.send(data(MAC_BROADCAST, hosts[1]!.mac));
    engine.runFor(1 * SECOND);
    expect(hosts.map((x) => x.take().length)).toEqual([1, 0, 1]);
  });
});

describe('spanning tree: BPDU bytes', () => {
  it('sends RST BPDUs every hello time, from the port MAC to 01:80:c2:00:00:00, that decode to what it means', () => {
    const engine = new Engine({ mode: 'virtual' });
    const sw = bridge(engine, 's1', 1, { stpPriority: 8192 });
    const peer = new Station('peer');
    new Link(engine, 'l', peer.port, sw.ports[2]!);
    sw.start();
    engine.runUntil(10.5 * SECOND);
    const frames = peer.got.filter((f) => isStpFrame(f, 0));
    // One at start, then one per 2 s hello (the edge transition adds none: edges send no TC).
    expect(frames.length).toBe(6);
    for (const f of frames) {
      expect(f.length).toBe(60);
      expect(ethDst(f, 0)).toBe(STP_MULTICAST);
      const { eth, bpdu } = decodeStpFrame(f);
      expect(eth.src).toBe(portMac(sw.mac, 2));
      expect(eth.etherType).toBe(39);
      expect(bpdu).toMatchObject({
        type: BPDU_TYPE.RST,
        version: 2,
        rootId: { priority: 8192, mac: sw.mac },
        rootPathCost: 0,
        bridgeId: { priority: 8192, mac: sw.mac },
        portId: 0x8003,
        messageAge: 0,
        maxAge: 20,
        helloTime: 2,
        forwardDelay: 15,
      });
    }
    const first = decodeStpFrame(frames[0]!).bpdu as ConfigBpdu;
    expect(first.flags).toMatchObject({ proposal: true, role: PORT_ROLE.DESIGNATED, learning: false, forwarding: false });
    const last = decodeStpFrame(frames.at(-1)!).bpdu as ConfigBpdu;
    expect(last.flags).toMatchObject({ proposal: false, role: PORT_ROLE.DESIGNATED, learning: true, forwarding: true, agreement: false, tc: false });
    // Our encoder and the codec agree byte for byte.
    expect(frames.at(-1)).toEqual(buildStpFrame(last, portMac(sw.mac, 2)));
  });

  it('ignores malformed BPDUs, counting them', () => {
    const engine = new Engine({ mode: 'virtual' });
    const sw = bridge(engine, 's1', 1);
    const peer = new Station('peer');
    new Link(engine, 'l', peer.port, sw.ports[0]!);
    sw.start();
    const bad = LINUX_BPDU.slice();
    bad[17] = 0x01; // protocol id 1
    peer.send(bad);
    peer.send(LINUX_BPDU.slice(0, 30)); // truncated
    engine.runFor(1000);
    expect(sw.portCounters()[0]!.malformed).toBe(2);
    expect(sw.stpStatus().isRoot).toBe(true);
  });

  const tshark = tsharkAvailable();
  it('writes BPDUs (RST, Configuration, TCN, with TC, proposal and agreement) that tshark decodes without a warning', () => {
    if (!tshark.ok) {
      console.warn(`tshark check skipped: ${tshark.reason}`);
      expect(process.env.CI, 'tshark must be installed in CI').not.toBe('true');
      return;
    }
    const chunks: Uint8Array[] = [];
    const { engine, l12, l13, l23 } = (() => {
      const t = triangle();
      return { engine: t.engine, l12: t.l12, l13: t.l13, l23: t.l23 };
    })();
    const cap = new Capture(engine, { sink: (c) => chunks.push(c) });
    // Attach after start: the BPDUs sent at start are still queued, so they are captured too.
    for (const l of [l12, l13, l23]) cap.attachLink(l);
    engine.runUntil(4 * SECOND);
    l13.suspend();
    engine.runFor(3 * SECOND);
    l13.resume();
    engine.runFor(3 * SECOND);
    // An 802.1D neighbour as well, for Configuration and TCN BPDUs.
    const e2 = new Engine({ mode: 'virtual' });
    const sw = bridge(e2, 'stp', 0xc0);
    const linux = new Station('linux');
    const link = new Link(e2, 'to-linux', linux.port, sw.ports[0]!);
    const cap2 = new Capture(e2, { sink: (c) => chunks2.push(c) });
    const chunks2: Uint8Array[] = [];
    cap2.attachLink(link);
    const sw2 = bridge(e2, 'stp2', 0xc1);
    sw.start();
    for (let t = 0; t <= 8; t += 2) {
      e2.runUntil(t * SECOND);
      linux.send(LINUX_BPDU);
    }
    new Link(e2, 'x', sw.ports[1]!, sw2.ports[1]!);
    sw2.start();
    e2.runFor(5 * SECOND);
    cap.close();
    cap2.close();

    const dir = mkdtempSync(join(tmpdir(), 'wirelab-stp-'));
    try {
      const f1 = join(dir, 'rstp.pcapng');
      const f2 = join(dir, 'stp.pcapng');
      writeFileSync(f1, concat(chunks));
      writeFileSync(f2, concat(chunks2));
      expect(tsharkProblems(f1)).toEqual([]);
      expect(tsharkProblems(f2)).toEqual([]);
      const rows = [...tsharkFields(f1, ['stp.type', 'stp.flags']), ...tsharkFields(f2, ['stp.type', 'stp.flags'])];
      const types = new Set(rows.map((r) => r[0]));
      expect(types).toEqual(new Set(['0x02', '0x00', '0x80']));
      const flags = rows.filter((r) => r[0] === '0x02').map((r) => parseInt(r[1]!, 16));
      expect(flags.some((f) => f & 0x01)).toBe(true); // topology change
      expect(flags.some((f) => f & 0x02)).toBe(true); // proposal
      expect(flags.some((f) => f & 0x40)).toBe(true); // agreement
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('spanning tree: random meshes', () => {
  /**
   * Random meshes (parallel cables too) with random priorities and MACs. After every change
   * (start, a cable pulled, a cable put back), within max age: in each connected part of the
   * mesh, one root (the lowest bridge id), the links forwarding at both ends form a spanning
   * tree, and a broadcast reaches every host of the part exactly once.
   */
  it('always converges to one loop-free spanning tree per connected part', () => {
    let x = 20240611;
    const rnd = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 8) % n;
    };
    const settle: number[] = [];
    for (let trial = 0; trial < Number(process.env.STP_TRIALS ?? 25); trial++) {
      const engine = new Engine({ mode: 'virtual', seed: trial + 1 });
      const count = 3 + rnd(5);
      const portsPer = 8;
      const switches = Array.from({ length: count }, (_, k) =>
        createSwitch(engine, { name: `s${k}`, ports: portsPer, mac: 0x02_00_00_00_00_00 + (rnd(200) + 1) * 0x10000 + k, stpPriority: 4096 * (rnd(3) + 7) }),
      );
      const free = switches.map(() => [...Array(portsPer - 1).keys()].map((p) => p + 1));
      const links: { link: Link; a: number; b: number }[] = [];
      const connect = (a: number, b: number): void => {
        if (a === b || free[a]!.length === 0 || free[b]!.length === 0) return;
        const pa = free[a]!.shift()!;
        const pb = free[b]!.shift()!;
        links.push({ link: new Link(engine, `l${links.length}`, switches[a]!.ports[pa]!, switches[b]!.ports[pb]!), a, b });
      };
      for (let k = 1; k < count; k++) connect(k, rnd(k)); // a tree first, then extra cables (parallel ones too)
      for (let e = 0, extra = 1 + rnd(count + 2); e < extra; e++) connect(rnd(count), rnd(count));
      const hosts = switches.map((sw, k) => {
        const h = new Station(`h${k}`, 0x02_00_00_aa_00_00 + k);
        new Link(engine, `h${k}`, h.port, sw.ports[0]!);
        return h;
      });
      for (const sw of switches) sw.start();

      /** Connected parts of the mesh as it is cabled now. */
      const parts = (): number[][] => {
        const parent = switches.map((_, k) => k);
        const find = (k: number): number => (parent[k] === k ? k : (parent[k] = find(parent[k]!)));
        for (const l of links) if (!l.link.suspended) parent[find(l.a)] = find(l.b);
        const groups = new Map<number, number[]>();
        switches.forEach((_, k) => groups.set(find(k), [...(groups.get(find(k)) ?? []), k]));
        return [...groups.values()];
      };
      const numericId = (id: string): number => {
        const [prio, m] = id.split('.');
        return Number(prio) * 2 ** 48 + parseMac(m!)!;
      };
      /** Empty when converged, else what is wrong. */
      const problems = (): string[] => {
        const out: string[] = [];
        const forwarding = (sw: Switch, port: Port): boolean => sw.stpStatus().ports.find((p) => p.name === port.name)!.state === 'forwarding';
        const active = links.filter((l) => !l.link.suspended && forwarding(switches[l.a]!, l.link.ends[0]) && forwarding(switches[l.b]!, l.link.ends[1]));
        for (const members of parts()) {
          const lowest = members.map((k) => switches[k]!.stpStatus().bridgeId).sort((p, q) => numericId(p) - numericId(q))[0]!;
          for (const k of members) if (switches[k]!.stpStatus().rootId !== lowest) out.push(`s${k} root ${switches[k]!.stpStatus().rootId}, not ${lowest}`);
          const inside = active.filter((l) => members.includes(l.a));
          if (inside.length !== members.length - 1) out.push(`${inside.length} forwarding links among ${members.length} bridges`);
          const tree = new Map(members.map((k) => [k, k]));
          const f = (k: number): number => (tree.get(k) === k ? k : f(tree.get(k)!));
          for (const l of inside) tree.set(f(l.a), f(l.b));
          if (new Set(members.map(f)).size !== 1) out.push('forwarding links do not connect the part');
        }
        return out;
      };
      const converge = (when: string): void => {
        const t0 = engine.now;
        while (problems().length > 0 && engine.now - t0 < 20 * SECOND) engine.runFor(0.25 * SECOND);
        expect(problems(), `trial ${trial} ${when}`).toEqual([]);
        settle.push((engine.now - t0) / SECOND);
        if (process.env.STP_SETTLE && engine.now - t0 > 4 * SECOND) console.log(`slow: trial ${trial} ${when}: ${(engine.now - t0) / SECOND} s, ${switches.length} bridges, links ${links.map((q) => `${q.link.id}:${q.a}-${q.b}${q.link.suspended ? '(x)' : ''}`).join(' ')}`);
        // One broadcast from the first host of each part: once to every other host there, nowhere else.
        for (const members of parts()) {
          for (const h of hosts) h.take();
          const from = members[0]!;
          hosts[from]!.send(data(MAC_BROADCAST, hosts[from]!.mac));
          engine.runFor(1_000_000);
          hosts.forEach((h, k) => expect(h.take().length, `trial ${trial} ${when}: copies at h${k}`).toBe(k === from ? 0 : members.includes(k) ? 1 : 0));
        }
      };
      engine.runUntil(5 * SECOND);
      converge('after start');
      for (let change = 0; change < 3; change++) {
        const l = links[rnd(links.length)]!;
        l.link.suspend();
        converge(`after pulling ${l.link.id}`);
        l.link.resume();
        converge(`after restoring ${l.link.id}`);
      }
      expect(engine.stormTicks).toBe(0);
    }
    settle.sort((a, b) => a - b);
    if (process.env.STP_SETTLE) console.log('settle times (s): median', settle[settle.length >> 1], 'p90', settle[Math.floor(settle.length * 0.9)], 'max', settle.at(-1), 'mean', (settle.reduce((a, b) => a + b, 0) / settle.length).toFixed(3), 'over 2s', settle.filter((t) => t > 2).length, 'n', settle.length);
  });
});
