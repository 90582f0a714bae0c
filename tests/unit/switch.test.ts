/**
 * The switch's data plane in virtual time: learning, flooding, filtering, aging, the table bound,
 * and 802.1Q access/trunk behaviour. Hosts are test sinks that send frames built with the wire
 * codecs and record what reaches them.
 */
import { describe, expect, it } from 'vitest';
import { Engine, Link, Port, type FrameSink } from '../../devices/engine/index.js';
import { createSwitch, type SwitchOptions, type Switch } from '../../devices/switch/index.js';
import { MacTable } from '../../devices/switch/mac-table.js';
import { buildEthernetFrame, decodeEthernet, ETHERTYPE, MAC_BROADCAST, parseMac, type Mac, type VlanTag } from '../../devices/wire/index.js';

const SECOND = 1e9;

class Station implements FrameSink {
  readonly port: Port;
  readonly got: Uint8Array[] = [];
  constructor(readonly name: string) {
    this.port = new Port(this, name);
  }
  onFrame(_port: Port, frame: Uint8Array): void {
    this.got.push(frame);
  }
  send(frame: Uint8Array): void {
    this.port.send(frame);
  }
  take(): Uint8Array[] {
    return this.got.splice(0);
  }
}

function mac(s: string): Mac {
  const m = parseMac(s);
  if (m === null) throw new Error(s);
  return m;
}

const A = mac('02:00:00:00:00:0a');
const B = mac('02:00:00:00:00:0b');
const C = mac('02:00:00:00:00:0c');

let seq = 0;
/** An IPv4-typed frame whose payload carries a sequence number, so copies can be told apart. */
function frame(dst: Mac, src: Mac, tags: VlanTag[] = [], etherType: number = ETHERTYPE.IPV4): Uint8Array {
  const payload = new Uint8Array(46);
  payload[0] = ++seq & 0xff;
  payload[1] = (seq >>> 8) & 0xff;
  return buildEthernetFrame({ dst, src, tags, etherType }, payload);
}
const dot1q = (vid: number, pcp = 0): VlanTag => ({ tpid: ETHERTYPE.VLAN, pcp, dei: 0, vid });

interface Lab {
  engine: Engine;
  sw: Switch;
  hosts: Station[];
}

/** A switch without spanning tree and one station on each of its first `hostCount` ports. */
function lab(hostCount: number, opts: Partial<SwitchOptions> = {}): Lab {
  const engine = new Engine({ mode: 'virtual' });
  const sw = createSwitch(engine, { name: 'sw1', stp: false, ...opts });
  const hosts: Station[] = [];
  for (let i = 0; i < hostCount; i++) {
    const h = new Station(`h${i}`);
    new Link(engine, `h${i}-sw1`, h.port, sw.ports[i]!);
    hosts.push(h);
  }
  sw.start();
  return { engine, sw, hosts };
}

function delivered(engine: Engine): void {
  engine.runFor(1_000_000);
}

describe('switch: learning, flooding, filtering', () => {
  it('floods an unknown destination, then sends to the learned port only', () => {
    const { engine, sw, hosts } = lab(3);
    const [h0, h1, h2] = hosts as [Station, Station, Station];
    h0.send(frame(B, A));
    delivered(engine);
    expect(h1.take()).toHaveLength(1);
    expect(h2.take()).toHaveLength(1);
    expect(h0.take()).toHaveLength(0);

    h1.send(frame(A, B)); // A is known now: only h0 gets it
    delivered(engine);
    expect(h0.take()).toHaveLength(1);
    expect(h2.take()).toHaveLength(0);

    const f = frame(B, A);
    h0.send(f);
    delivered(engine);
    const got = h1.take();
    expect(got).toHaveLength(1);
    expect(got[0]).toBe(f); // forwarded as is, not copied
    expect(h2.take()).toHaveLength(0);

    expect(sw.macTable()).toEqual([
      { vlan: 1, mac: '02:00:00:00:00:0a', port: 'e0', age: 0 },
      { vlan: 1, mac: '02:00:00:00:00:0b', port: 'e1', age: 0 },
    ]);
    expect(sw.counters().unknownUnicast).toBe(1);
  });

  it('floods broadcast and multicast to every other port', () => {
    const { engine, hosts } = lab(4);
    hosts[1]!.send(frame(MAC_BROADCAST, B));
    hosts[1]!.send(frame(mac('01:00:5e:00:00:fb'), B));
    delivered(engine);
    expect(hosts.map((h) => h.take().length)).toEqual([2, 0, 2, 2]);
  });

  it('never sends a frame back out of the port it came in on', () => {
    const { engine, sw, hosts } = lab(3);
    hosts[0]!.send(frame(MAC_BROADCAST, A));
    hosts[0]!.send(frame(MAC_BROADCAST, C)); // C also sits behind e0 (say, a hub there)
    delivered(engine);
    for (const h of hosts) h.take();
    hosts[0]!.send(frame(C, A));
    delivered(engine);
    expect(hosts.map((h) => h.take().length)).toEqual([0, 0, 0]);
    expect(sw.portCounters()[0]!.filtered).toBe(1);
  });

  it('follows a station that moves to another port', () => {
    const { engine, sw, hosts } = lab(3);
    hosts[0]!.send(frame(MAC_BROADCAST, A));
    delivered(engine);
    hosts[2]!.send(frame(MAC_BROADCAST, A));
    delivered(engine);
    expect(sw.macTable()).toEqual([{ vlan: 1, mac: '02:00:00:00:00:0a', port: 'e2', age: 0 }]);
    for (const h of hosts) h.take();
    hosts[1]!.send(frame(A, B));
    delivered(engine);
    expect(hosts.map((h) => h.take().length)).toEqual([0, 0, 1]);
  });

  it('ages an address out after 300 s of virtual time and floods to it again', () => {
    const { engine, sw, hosts } = lab(3);
    hosts[0]!.send(frame(MAC_BROADCAST, A));
    delivered(engine);
    engine.runUntil(299 * SECOND);
    expect(sw.macTable()).toEqual([{ vlan: 1, mac: '02:00:00:00:00:0a', port: 'e0', age: 299 }]);
    engine.runUntil(301 * SECOND);
    expect(sw.macTable()).toEqual([]);
    expect(sw.counters().macEntries).toBe(0);
    for (const h of hosts) h.take();
    hosts[1]!.send(frame(A, B));
    delivered(engine);
    expect(hosts.map((h) => h.take().length)).toEqual([1, 0, 1]);
    // One sweep timer, not one per address; with nothing left to age the engine goes idle.
    hosts[2]!.send(frame(MAC_BROADCAST, C));
    expect(engine.runUntilIdle(3600 * SECOND)).toBe(true);
    expect(sw.macTable()).toEqual([]);
  });

  it('keeps an address that is still talking, and honours a custom aging time', () => {
    const { engine, sw, hosts } = lab(2, { macAgingNs: 10 * SECOND });
    for (let t = 0; t < 30; t += 5) {
      hosts[0]!.send(frame(MAC_BROADCAST, A));
      engine.runUntil((t + 5) * SECOND);
    }
    expect(sw.macTable().map((r) => r.mac)).toEqual(['02:00:00:00:00:0a']);
    engine.runFor(11 * SECOND);
    expect(sw.macTable()).toEqual([]);
  });

  it('learns no more than macTableMax addresses and floods to the ones it could not learn', () => {
    const { engine, sw, hosts } = lab(3, { macTableMax: 4 });
    const sources = [1, 2, 3, 4, 5, 6].map((k) => mac(`02:00:00:00:01:0${k}`));
    for (const s of sources) hosts[0]!.send(frame(MAC_BROADCAST, s));
    delivered(engine);
    expect(sw.macTable()).toHaveLength(4);
    expect(sw.counters().macLearnRefused).toBe(2);
    for (const h of hosts) h.take();
    hosts[1]!.send(frame(sources[5]!, B)); // not learned: flooded
    hosts[1]!.send(frame(sources[0]!, B)); // learned: to e0 only
    delivered(engine);
    expect(hosts.map((h) => h.take().length)).toEqual([2, 0, 1]);
  });

  it('drops runts and counts them', () => {
    const { engine, sw, hosts } = lab(2);
    hosts[0]!.send(new Uint8Array(10));
    delivered(engine);
    expect(hosts[1]!.take()).toHaveLength(0);
    expect(sw.portCounters()[0]!.malformed).toBe(1);
  });

  it('never forwards IEEE reserved addresses such as LLDP or pause frames', () => {
    const { engine, sw, hosts } = lab(3);
    hosts[0]!.send(frame(mac('01:80:c2:00:00:0e'), A, [], 0x88cc));
    hosts[0]!.send(frame(mac('01:80:c2:00:00:01'), A, [], 0x8808));
    delivered(engine);
    expect(hosts.map((h) => h.take().length)).toEqual([0, 0, 0]);
    expect(sw.counters().reservedDropped).toBe(2);
  });

  it('does nothing while powered off, and forgets its table on stop', () => {
    const { engine, sw, hosts } = lab(2);
    hosts[0]!.send(frame(MAC_BROADCAST, A));
    delivered(engine);
    expect(sw.macTable()).toHaveLength(1);
    sw.stop();
    expect(sw.macTable()).toEqual([]);
    hosts[1]!.take();
    hosts[0]!.send(frame(MAC_BROADCAST, A));
    delivered(engine);
    expect(hosts[1]!.take()).toHaveLength(0);
    sw.start();
    hosts[0]!.send(frame(MAC_BROADCAST, A));
    delivered(engine);
    expect(hosts[1]!.take()).toHaveLength(1);
  });

  it('stops forwarding to and from a port that is shut down', () => {
    const { engine, sw, hosts } = lab(3);
    hosts[0]!.send(frame(MAC_BROADCAST, A));
    delivered(engine);
    sw.setPortUp('e0', false);
    expect(sw.macTable()).toEqual([]);
    for (const h of hosts) h.take();
    hosts[1]!.send(frame(A, B));
    hosts[0]!.send(frame(MAC_BROADCAST, A));
    delivered(engine);
    expect(hosts.map((h) => h.take().length)).toEqual([0, 0, 1]);
    expect(sw.portCounters()[0]!.rxDrops).toBe(1);
    expect(sw.portConfig('e0').up).toBe(false);
  });

  it('refuses bad configuration with a clear error', () => {
    const engine = new Engine();
    expect(() => createSwitch(engine, { name: 's', interfaces: { e0: { vlan: 4095 } } })).toThrow(/VLAN 4095/);
    expect(() => createSwitch(engine, { name: 's', interfaces: { e9: {} } })).toThrow(/no port named e9/);
    expect(() => createSwitch(engine, { name: 's', stpPriority: 1000 })).toThrow(/steps of 4096/);
    expect(() => createSwitch(engine, { name: 's', interfaces: { e0: { mode: 'trunk', allowed: [0] } } })).toThrow(/VLAN 0/);
    const sw = createSwitch(engine, { name: 's', ports: ['gi1', 'gi2'] });
    expect(sw.ports.map((p) => p.name)).toEqual(['gi1', 'gi2']);
  });
});

describe('switch: 802.1Q access and trunk ports', () => {
  /** e0 access 10, e1 access 20, e2 trunk [1,10,20,30] native 1, e3 access 1. */
  function vlanLab(): Lab {
    return lab(4, {
      interfaces: {
        e0: { mode: 'access', vlan: 10 },
        e1: { mode: 'access', vlan: 20 },
        e2: { mode: 'trunk', allowed: [1, 10, 20, 30], native: 1 },
        e3: { mode: 'access' },
      },
    });
  }

  it('tags access-VLAN frames on the trunk and keeps VLANs apart', () => {
    const { engine, hosts } = vlanLab();
    const [h0, h1, h2, h3] = hosts as [Station, Station, Station, Station];
    h0.send(frame(MAC_BROADCAST, A));
    delivered(engine);
    expect(h1.take()).toHaveLength(0);
    expect(h3.take()).toHaveLength(0);
    const onTrunk = h2.take();
    expect(onTrunk).toHaveLength(1);
    const eth = decodeEthernet(onTrunk[0]!);
    expect(eth.tags).toEqual([dot1q(10)]);
    expect(eth.etherType).toBe(ETHERTYPE.IPV4);
    expect(onTrunk[0]!.length).toBe(64);
  });

  it('untags trunk frames for the access port of their VLAN', () => {
    const { engine, hosts } = vlanLab();
    const [h0, h1, h2, h3] = hosts as [Station, Station, Station, Station];
    const tagged = frame(MAC_BROADCAST, C, [dot1q(20, 5)]);
    h2.send(tagged);
    delivered(engine);
    const got = h1.take();
    expect(got).toHaveLength(1);
    expect(decodeEthernet(got[0]!).tags).toEqual([]);
    expect(got[0]!.length).toBe(60);
    expect(got[0]!.subarray(14)).toEqual(tagged.subarray(18, 64));
    expect(h0.take()).toHaveLength(0);
    expect(h3.take()).toHaveLength(0);
  });

  it('carries the native VLAN untagged in both directions', () => {
    const { engine, hosts } = vlanLab();
    const [h0, h1, h2, h3] = hosts as [Station, Station, Station, Station];
    const f = frame(MAC_BROADCAST, C);
    h3.send(f);
    delivered(engine);
    const trunk = h2.take();
    expect(trunk).toHaveLength(1);
    expect(trunk[0]).toBe(f);
    h2.send(frame(MAC_BROADCAST, B));
    delivered(engine);
    expect(h3.take()).toHaveLength(1);
    expect(h0.take()).toHaveLength(0);
    expect(h1.take()).toHaveLength(0);
  });

  it('drops trunk frames of VLANs the trunk does not allow, and tagged frames on access ports', () => {
    const { engine, sw, hosts } = vlanLab();
    const [h0, h1, h2, h3] = hosts as [Station, Station, Station, Station];
    h2.send(frame(MAC_BROADCAST, C, [dot1q(40)]));
    h0.send(frame(MAC_BROADCAST, A, [dot1q(10)])); // tagged on an access port, even its own VLAN
    h0.send(frame(MAC_BROADCAST, A, [dot1q(20)])); // VLAN hopping attempt
    delivered(engine);
    expect(hosts.map((h) => h.take().length)).toEqual([0, 0, 0, 0]);
    const c = sw.portCounters();
    expect(c[2]!.vlanDrops).toBe(1);
    expect(c[0]!.vlanDrops).toBe(2);
    void h1;
    void h3;
  });

  it('treats priority-tagged frames (VID 0) on an access port as untagged, keeping the priority on trunks', () => {
    const { engine, hosts } = vlanLab();
    const [h0, h1, h2] = hosts as [Station, Station, Station, Station];
    h0.send(frame(MAC_BROADCAST, A, [dot1q(0, 6)]));
    delivered(engine);
    const trunk = h2.take();
    expect(trunk).toHaveLength(1);
    expect(decodeEthernet(trunk[0]!).tags).toEqual([dot1q(10, 6)]);
    expect(h1.take()).toHaveLength(0);
    // And from the trunk side to an access port the priority tag goes.
    h2.send(frame(MAC_BROADCAST, C, [dot1q(0, 3)]));
    delivered(engine);
    const access = hosts[3]!.take();
    expect(access).toHaveLength(1);
    expect(decodeEthernet(access[0]!).tags).toEqual([]);
  });

  it('never leaks between two access VLANs, even for a MAC known in the other one', () => {
    const { engine, sw, hosts } = vlanLab();
    const [h0, h1, h2] = hosts as [Station, Station, Station, Station];
    h1.send(frame(MAC_BROADCAST, B)); // B learned in VLAN 20 on e1
    delivered(engine);
    for (const h of hosts) h.take();
    h0.send(frame(B, A)); // to B, but from VLAN 10: unknown there, flooded in VLAN 10 only
    h0.send(frame(MAC_BROADCAST, A));
    delivered(engine);
    expect(h1.take()).toHaveLength(0);
    expect(h2.take().map((f) => decodeEthernet(f).tags[0]!.vid)).toEqual([10, 10]);
    // The same MAC may live in two VLANs on different ports.
    h2.send(frame(MAC_BROADCAST, B, [dot1q(10)]));
    delivered(engine);
    expect(sw.macTable().filter((r) => r.mac === '02:00:00:00:00:0b')).toEqual([
      { vlan: 10, mac: '02:00:00:00:00:0b', port: 'e2', age: 0 },
      { vlan: 20, mac: '02:00:00:00:00:0b', port: 'e1', age: 0 },
    ]);
  });

  it('refuses untagged frames on a trunk whose native VLAN is not allowed', () => {
    const { engine, sw, hosts } = lab(2, { interfaces: { e0: { mode: 'trunk', allowed: [10], native: 1 }, e1: { vlan: 1 } } });
    hosts[0]!.send(frame(MAC_BROADCAST, A));
    delivered(engine);
    expect(hosts[1]!.take()).toHaveLength(0);
    expect(sw.portCounters()[0]!.vlanDrops).toBe(1);
  });

  it('forwards an 802.1ad S-tagged frame as plain data within the access VLAN', () => {
    const { engine, hosts } = vlanLab();
    const qinq = frame(MAC_BROADCAST, A, [{ tpid: ETHERTYPE.QINQ, pcp: 0, dei: 0, vid: 300 }, dot1q(7)]);
    hosts[0]!.send(qinq);
    delivered(engine);
    const trunk = hosts[2]!.take();
    expect(trunk).toHaveLength(1);
    const eth = decodeEthernet(trunk[0]!);
    expect(eth.tags.map((t) => [t.tpid, t.vid])).toEqual([
      [ETHERTYPE.VLAN, 10],
      [ETHERTYPE.QINQ, 300],
      [ETHERTYPE.VLAN, 7],
    ]);
  });

  it('carries VLANs end to end over a trunk between two switches', () => {
    const engine = new Engine({ mode: 'virtual' });
    const trunk = { mode: 'trunk' as const, allowed: [10, 20] };
    const s1 = createSwitch(engine, { name: 's1', stp: false, interfaces: { e0: { vlan: 10 }, e1: { vlan: 20 }, e7: trunk } });
    const s2 = createSwitch(engine, { name: 's2', stp: false, interfaces: { e0: { vlan: 10 }, e1: { vlan: 20 }, e7: trunk } });
    new Link(engine, 'trunk', s1.ports[7]!, s2.ports[7]!);
    const hosts = [new Station('a10'), new Station('a20'), new Station('b10'), new Station('b20')];
    new Link(engine, 'l0', hosts[0]!.port, s1.ports[0]!);
    new Link(engine, 'l1', hosts[1]!.port, s1.ports[1]!);
    new Link(engine, 'l2', hosts[2]!.port, s2.ports[0]!);
    new Link(engine, 'l3', hosts[3]!.port, s2.ports[1]!);
    s1.start();
    s2.start();
    hosts[0]!.send(frame(MAC_BROADCAST, A));
    hosts[3]!.send(frame(MAC_BROADCAST, B));
    delivered(engine);
    expect(hosts.map((h) => h.take().length)).toEqual([0, 1, 1, 0]);
    hosts[2]!.send(frame(A, C)); // back to A: learned on s2's trunk in VLAN 10
    delivered(engine);
    expect(hosts.map((h) => h.take().length)).toEqual([1, 0, 0, 0]);
    expect(s2.macTable().find((r) => r.mac === '02:00:00:00:00:0a')).toEqual({ vlan: 10, mac: '02:00:00:00:00:0a', port: 'e7', age: 0 });
  });

  it('reconfigures a port while running and lists VLAN membership', () => {
    const { engine, sw, hosts } = vlanLab();
    expect(sw.vlans()).toEqual([
      { vlan: 1, untagged: ['e2', 'e3', 'e4', 'e5', 'e6', 'e7'], tagged: [] },
      { vlan: 10, untagged: ['e0'], tagged: ['e2'] },
      { vlan: 20, untagged: ['e1'], tagged: ['e2'] },
      { vlan: 30, untagged: [], tagged: ['e2'] },
    ]);
    sw.configurePort('e1', { vlan: 10 });
    expect(sw.portConfig('e1')).toMatchObject({ mode: 'access', vlan: 10 });
    hosts[0]!.send(frame(MAC_BROADCAST, A));
    delivered(engine);
    expect(hosts[1]!.take()).toHaveLength(1);
  });

  it('applies a reconfiguration to VLANs that already carried traffic', () => {
    const { engine, sw, hosts } = vlanLab();
    const [h0, h1, h2, h3] = hosts as [Station, Station, Station, Station];
    const flood = (from: Station, tags: VlanTag[] = []) => {
      from.send(frame(MAC_BROADCAST, from === h2 ? C : from === h0 ? A : B, tags));
      delivered(engine);
      return hosts.map((h) => h.take().map((f) => decodeEthernet(f).tags.map((t) => t.vid)));
    };
    expect(flood(h0)).toEqual([[], [], [[10]], []]);
    expect(flood(h1)).toEqual([[], [], [[20]], []]);
    sw.configurePort('e1', { vlan: 10 });
    expect(flood(h0)).toEqual([[], [[]], [[10]], []]);
    // The trunk stops carrying 10 and makes it its native VLAN (not allowed, so untagged frames are refused).
    sw.configurePort('e2', { allowed: [1, 20, 30], native: 10 });
    expect(flood(h0)).toEqual([[], [[]], [], []]);
    expect(flood(h2, [dot1q(10)])).toEqual([[], [], [], []]);
    expect(flood(h2)).toEqual([[], [], [], []]);
    sw.configurePort('e2', { allowed: [1, 10, 20, 30], native: 10 });
    expect(flood(h2)).toEqual([[[]], [[]], [], []]);
    expect(flood(h0)).toEqual([[], [[]], [[]], []]);
    expect(flood(h3)).toEqual([[], [], [[1]], []]);
  });
});

describe('MAC table', () => {
  it('survives many inserts, removals and lookups like a Map would', () => {
    const t = new MacTable(5000);
    const ref = new Map<string, number>();
    let x = 12345;
    const rnd = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    for (let step = 0; step < 40000; step++) {
      const vlan = 1 + (rnd() % 3);
      const hi = (vlan << 16) | (rnd() & 0x3);
      const lo = rnd() & 0x1ff;
      const key = `${hi}/${lo}`;
      const op = rnd() % 10;
      if (op < 6) {
        const r = t.learn(hi, lo, step % 7, step);
        if (r !== 2) ref.set(key, step % 7);
      } else if (op < 9) {
        expect(t.lookup(hi, lo, step, Infinity)).toBe(ref.get(key) ?? -1);
      } else {
        const port = rnd() % 7;
        t.removeWhere((p) => p === port);
        for (const [k, v] of ref) if (v === port) ref.delete(k);
      }
      if (step % 5000 === 0) {
        // Expire everything older than 1000 steps through the lazy path.
        for (const e of t.entries()) {
          const k = `${(e.vlan << 16) | Math.floor(e.mac / 2 ** 32)}/${e.mac % 2 ** 32 | 0}`;
          if (step - e.seen >= 1000) {
            expect(t.lookup((e.vlan << 16) | Math.floor(e.mac / 2 ** 32), e.mac % 2 ** 32 | 0, step, 1000)).toBe(-1);
            ref.delete(k);
          }
        }
      }
      expect(t.count).toBe(ref.size);
    }
  });
});
