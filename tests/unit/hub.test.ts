/** The hub repeats every frame to every other port, byte for byte, and nothing while it is off. */
import { describe, expect, it } from 'vitest';
import { Engine, Link, Port, type FrameSink } from '../../devices/engine/index.js';
import { createHub } from '../../devices/hub/index.js';
import { createSwitch } from '../../devices/switch/index.js';
import { buildEthernetFrame, ETHERTYPE, MAC_BROADCAST, type Mac } from '../../devices/wire/index.js';

class Station implements FrameSink {
  readonly port: Port;
  readonly got: Uint8Array[] = [];
  constructor(name: string) {
    this.port = new Port(this, name);
  }
  onFrame(_port: Port, frame: Uint8Array): void {
    this.got.push(frame);
  }
  take(): Uint8Array[] {
    return this.got.splice(0);
  }
}

function frame(dst: Mac, src: Mac): Uint8Array {
  return buildEthernetFrame({ dst, src, tags: [], etherType: ETHERTYPE.IPV4 }, new Uint8Array(46).fill(0x5a));
}

const A: Mac = 0x02_00_00_00_00_0a;
const B: Mac = 0x02_00_00_00_00_0b;

function hubLab(ports?: number): { engine: Engine; stations: Station[]; hub: ReturnType<typeof createHub> } {
  const engine = new Engine({ mode: 'virtual' });
  const hub = createHub(engine, { name: 'hub1', ...(ports === undefined ? {} : { ports }) });
  const stations = hub.ports.map((p, i) => {
    const s = new Station(`s${i}`);
    new Link(engine, `l${i}`, s.port, p);
    return s;
  });
  hub.start();
  return { engine, stations, hub };
}

describe('hub', () => {
  it('has ports p0..p3 by default, or as many as asked', () => {
    const engine = new Engine();
    expect(createHub(engine, { name: 'h' }).ports.map((p) => p.name)).toEqual(['p0', 'p1', 'p2', 'p3']);
    expect(createHub(engine, { name: 'h', ports: 6 }).ports).toHaveLength(6);
    expect(createHub(engine, { name: 'h', ports: ['a', 'b'] }).ports.map((p) => p.name)).toEqual(['a', 'b']);
    expect(createHub(engine, { name: 'h' }).kind).toBe('hub');
  });

  it('repeats every frame, unicast included, to every other port unchanged', () => {
    const { engine, stations, hub } = hubLab();
    const f = frame(B, A);
    stations[1]!.port.send(f);
    engine.runFor(1000);
    expect(stations.map((s) => s.got.length)).toEqual([1, 0, 1, 1]);
    for (const s of [stations[0]!, stations[2]!, stations[3]!]) expect(s.take()[0]).toBe(f);
    stations[3]!.port.send(frame(MAC_BROADCAST, B));
    stations[3]!.port.send(new Uint8Array(5)); // a runt is repeated too: a hub does not look at frames
    engine.runFor(1000);
    expect(stations.map((s) => s.take().length)).toEqual([2, 2, 2, 0]);
    expect(hub.repeated).toBe(3);
  });

  it('skips uncabled and shut-down ports, and repeats nothing while off', () => {
    const engine = new Engine({ mode: 'virtual' });
    const hub = createHub(engine, { name: 'hub1' });
    const a = new Station('a');
    const b = new Station('b');
    const c = new Station('c');
    new Link(engine, 'a', a.port, hub.ports[0]!);
    new Link(engine, 'b', b.port, hub.ports[1]!);
    new Link(engine, 'c', c.port, hub.ports[2]!);
    hub.start();
    hub.ports[2]!.up = false;
    a.port.send(frame(MAC_BROADCAST, A));
    engine.runFor(1000);
    expect([b.take().length, c.take().length]).toEqual([1, 0]);
    expect(hub.ports[3]!.txDrops).toBe(0);
    hub.stop();
    a.port.send(frame(MAC_BROADCAST, A));
    engine.runFor(1000);
    expect(b.take()).toHaveLength(0);
  });

  it('puts two stations on one switch port: the switch learns both there and filters their traffic', () => {
    const engine = new Engine({ mode: 'virtual' });
    const hub = createHub(engine, { name: 'hub1' });
    const sw = createSwitch(engine, { name: 'sw1', stp: false });
    const a = new Station('a');
    const b = new Station('b');
    const c = new Station('c');
    new Link(engine, 'a', a.port, hub.ports[0]!);
    new Link(engine, 'b', b.port, hub.ports[1]!);
    new Link(engine, 'up', hub.ports[3]!, sw.ports[0]!);
    new Link(engine, 'c', c.port, sw.ports[1]!);
    hub.start();
    sw.start();
    a.port.send(frame(MAC_BROADCAST, A));
    b.port.send(frame(MAC_BROADCAST, B));
    engine.runFor(1000);
    expect(sw.macTable().map((r) => [r.mac, r.port])).toEqual([
      ['02:00:00:00:00:0a', 'e0'],
      ['02:00:00:00:00:0b', 'e0'],
    ]);
    for (const s of [a, b, c]) s.take();
    a.port.send(frame(B, A));
    engine.runFor(1000);
    expect([a.take().length, b.take().length, c.take().length]).toEqual([0, 1, 0]);
    expect(sw.portCounters()[0]!.filtered).toBe(1);
  });
});
