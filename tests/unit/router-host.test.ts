/**
 * The router with the real Host device (devices/host): its DHCP client, ping and traceroute, as a
 * lab user would drive them. Virtual time throughout.
 */
import { describe, expect, it } from 'vitest';
import { Engine, Link, Port, type FrameSink } from '../../devices/engine/index.js';
import { Host } from '../../devices/host/index.js';
import type { Router } from '../../devices/router/index.js';
import { ip4ToString } from '../../devices/wire/bytes.js';
import { hostFrom, routerFrom } from '../helpers/devices.js';

const S = 1e9;

class Hub implements FrameSink {
  readonly ports: Port[] = [];
  constructor(n: number) {
    for (let i = 0; i < n; i++) this.ports.push(new Port(this, `p${i}`, i));
  }
  onFrame(port: Port, frame: Uint8Array): void {
    for (const p of this.ports) if (p !== port) p.send(frame);
  }
}

let links = 0;
function cable(engine: Engine, a: Port, b: Port): Link {
  return new Link(engine, `l${links++}`, a, b);
}
function port(r: Router, name: string): Port {
  return r.ports.find((p) => p.name === name)!;
}
function dhcpHost(engine: Engine, name: string): Host {
  return hostFrom(engine, { name, lab: 'test', interfaces: { eth0: { ip: 'dhcp' } } });
}
function staticHost(engine: Engine, name: string, ip: string, gateway: string): Host {
  return hostFrom(engine, { name, lab: 'test', interfaces: { eth0: { ip, gateway } } });
}

describe('router with hosts', () => {
  it('hosts lease from the router’s pool, with a reservation by node name, and then ping each other through it', () => {
    const engine = new Engine({ mode: 'virtual', seed: 4 });
    const r1 = routerFrom(engine, {
      name: 'r1',
      lab: 'test',
      interfaces: [{ name: 'g0/0', ip: '10.1.0.1/24' }, { name: 'g0/1', ip: '10.2.0.1/24' }],
      dhcpServer: {
        pools: [
          {
            interface: 'g0/0',
            range: '10.1.0.100-10.1.0.199',
            gateway: '10.1.0.1',
            dns: ['10.1.0.1'],
            lease: 3600,
            reservations: [{ node: 'pc9', ip: '10.1.0.9' }],
          },
        ],
      },
    });
    const hub = new Hub(4);
    const pcs = ['pc1', 'pc2', 'pc9'].map((n) => dhcpHost(engine, n));
    const far = staticHost(engine, 'far', '10.2.0.10/24', '10.2.0.1');
    cable(engine, hub.ports[0]!, port(r1, 'g0/0'));
    pcs.forEach((pc, i) => cable(engine, hub.ports[i + 1]!, pc.port()));
    cable(engine, far.port(), port(r1, 'g0/1'));
    r1.start();
    far.start();
    for (const pc of pcs) pc.start();
    expect(engine.runUntilCondition(() => pcs.every((pc) => pc.settled), 120 * S)).toBe(true);
    const addrs = pcs.map((pc) => pc.address());
    expect(new Set(addrs).size).toBe(3);
    expect(addrs[2]).toBe('10.1.0.9/24');
    expect(addrs.slice(0, 2).every((a) => /^10\.1\.0\.1\d\d\/24$/.test(a))).toBe(true);
    expect(pcs[0]!.showIp()[0]!.gateway).toBe(0x0a010001);
    expect(r1.dhcpBindings().map((b) => b.hostname).sort()).toEqual(['pc1', 'pc2', 'pc9']);
    const ping = pcs[0]!.ping('10.2.0.10', { count: 2 });
    expect(engine.runUntilCondition(() => ping.isDone, 30 * S)).toBe(true);
    expect(ping.result.received).toBe(2);
    // The lease is renewed at T1 (30 min) and the binding's clock restarts.
    engine.runFor(1900 * S);
    expect(r1.dhcpBindings().every((b) => b.expiresInS > 3000)).toBe(true);
  });

  it('traceroute through three routers lists each router, from the interface facing the sender', () => {
    const engine = new Engine({ mode: 'virtual', seed: 8 });
    const r1 = routerFrom(engine, {
      name: 'r1',
      interfaces: [{ name: 'g0/0', ip: '10.1.0.1/24' }, { name: 'g0/1', ip: '10.12.0.1/30' }],
      routes: [{ to: '0.0.0.0/0', via: '10.12.0.2' }],
    });
    const r2 = routerFrom(engine, {
      name: 'r2',
      interfaces: [{ name: 'g0/0', ip: '10.12.0.2/30' }, { name: 'g0/1', ip: '10.23.0.1/30' }],
      routes: [
        { to: '10.1.0.0/24', via: '10.12.0.1' },
        { to: '10.3.0.0/24', via: '10.23.0.2' },
      ],
    });
    const r3 = routerFrom(engine, {
      name: 'r3',
      interfaces: [{ name: 'g0/0', ip: '10.23.0.2/30' }, { name: 'g0/1', ip: '10.3.0.1/24' }],
      routes: [{ to: '0.0.0.0/0', via: '10.23.0.1' }],
    });
    const a = staticHost(engine, 'a', '10.1.0.10/24', '10.1.0.1');
    const b = staticHost(engine, 'b', '10.3.0.10/24', '10.3.0.1');
    cable(engine, a.port(), port(r1, 'g0/0'));
    cable(engine, port(r1, 'g0/1'), port(r2, 'g0/0'));
    cable(engine, port(r2, 'g0/1'), port(r3, 'g0/0'));
    cable(engine, port(r3, 'g0/1'), b.port());
    for (const d of [r1, r2, r3, a, b]) d.start();
    const trace = a.traceroute('10.3.0.10');
    expect(engine.runUntilCondition(() => trace.isDone, 300 * S)).toBe(true);
    expect(trace.path.map((p) => (p === null ? '*' : ip4ToString(p)))).toEqual(['10.1.0.1', '10.12.0.2', '10.23.0.2', '10.3.0.10']);
    expect(trace.result.reached).toBe(true);
  });

  it('relayed DHCP picks the pool by giaddr, and the lease survives a restart of the server router', () => {
    const engine = new Engine({ mode: 'virtual', seed: 6 });
    const relay = routerFrom(engine, {
      name: 'relay',
      interfaces: [{ name: 'g0/0', ip: '10.9.0.1/24' }, { name: 'g0/1', ip: '10.1.0.1/24' }],
      dhcpRelay: { 'g0/1': '10.9.0.5' },
    });
    const serverCfg = {
      name: 'srv',
      interfaces: [{ name: 'g0/0', ip: '10.9.0.5/24' }],
      routes: [{ to: '10.0.0.0/8', via: '10.9.0.1' }],
      dhcpServer: {
        pools: [
          { name: 'wrong', network: '10.7.0.0/24', gateway: '10.7.0.1' },
          { name: 'branch', network: '10.1.0.0/24', range: '10.1.0.50-10.1.0.59', gateway: '10.1.0.1', lease: 600 },
        ],
      },
    };
    let server = routerFrom(engine, serverCfg);
    const pc = dhcpHost(engine, 'pc1');
    cable(engine, pc.port(), port(relay, 'g0/1'));
    const wan = cable(engine, port(relay, 'g0/0'), port(server, 'g0/0'));
    for (const d of [relay, server, pc]) d.start();
    expect(engine.runUntilCondition(() => pc.settled, 60 * S)).toBe(true);
    expect(pc.address()).toBe('10.1.0.50/24');
    expect(pc.showIp()[0]!.gateway).toBe(0x0a010001);
    // The server goes down and comes back as a new node with its saved leases.
    server.stop();
    const saved = JSON.parse(JSON.stringify(server.exportLeases()));
    wan.disconnect();
    server = routerFrom(engine, serverCfg);
    cable(engine, port(relay, 'g0/0'), port(server, 'g0/0'));
    expect(server.importLeases(saved)).toBe(1);
    server.start();
    // A newcomer gets another address; pc1 renews its own at T1.
    const pc2 = dhcpHost(engine, 'pc2');
    const hub = new Hub(3);
    pc.port().link!.disconnect();
    port(relay, 'g0/1').link?.disconnect();
    cable(engine, hub.ports[0]!, port(relay, 'g0/1'));
    cable(engine, hub.ports[1]!, pc.port());
    cable(engine, hub.ports[2]!, pc2.port());
    pc2.start();
    expect(engine.runUntilCondition(() => pc2.settled, 60 * S)).toBe(true);
    expect(pc2.address()).toBe('10.1.0.51/24');
    engine.runFor(400 * S);
    expect(pc.address()).toBe('10.1.0.50/24');
    expect(server.dhcpBindings().map((b) => [b.ip, b.hostname])).toEqual([
      ['10.1.0.50', 'pc1'],
      ['10.1.0.51', 'pc2'],
    ]);
  });

  it('NAT overload: inside hosts ping out, the outside sees one address, and traceroute works through it', () => {
    const engine = new Engine({ mode: 'virtual', seed: 12 });
    const r1 = routerFrom(engine, {
      name: 'r1',
      interfaces: [{ name: 'g0/0', ip: '203.0.113.2/24' }, { name: 'g0/1', ip: '10.1.0.1/24' }],
      routes: [{ to: '0.0.0.0/0', via: '203.0.113.1' }],
      dhcpServer: { pools: [{ interface: 'g0/1', range: '10.1.0.100-10.1.0.110', gateway: '10.1.0.1' }] },
      nat: { inside: ['g0/1'], outside: 'g0/0', overload: true },
    });
    const r2 = routerFrom(engine, { name: 'r2', interfaces: [{ name: 'g0/0', ip: '203.0.113.1/24' }, { name: 'g0/1', ip: '198.51.100.1/24' }] });
    const srv = hostFrom(engine, { name: 'srv', interfaces: { eth0: { ip: '198.51.100.10/24', gateway: '198.51.100.1' } }, services: { 'udp-echo': true } });
    const hub = new Hub(3);
    const in1 = dhcpHost(engine, 'in1');
    const in2 = dhcpHost(engine, 'in2');
    cable(engine, hub.ports[0]!, port(r1, 'g0/1'));
    cable(engine, hub.ports[1]!, in1.port());
    cable(engine, hub.ports[2]!, in2.port());
    cable(engine, port(r1, 'g0/0'), port(r2, 'g0/0'));
    cable(engine, port(r2, 'g0/1'), srv.port());
    for (const d of [r1, r2, srv, in1, in2]) d.start();
    expect(engine.runUntilCondition(() => in1.settled && in2.settled, 60 * S)).toBe(true);
    const p1 = in1.ping('198.51.100.10', { count: 3 });
    const p2 = in2.ping('198.51.100.10', { count: 3 });
    expect(engine.runUntilCondition(() => p1.isDone && p2.isDone, 60 * S)).toBe(true);
    expect([p1.result.received, p2.result.received]).toEqual([3, 3]);
    const icmp = r1.natTranslations().filter((t) => t.proto === 'icmp');
    expect(icmp.length).toBe(2);
    expect(new Set(icmp.map((t) => t.insideGlobal.split(':')[0]))).toEqual(new Set(['203.0.113.2']));
    expect(new Set(icmp.map((t) => t.insideLocal.split(':')[0]))).toEqual(new Set([in1.address().split('/')[0], in2.address().split('/')[0]]));
    const trace = in2.traceroute('198.51.100.10');
    expect(engine.runUntilCondition(() => trace.isDone, 300 * S)).toBe(true);
    expect(trace.path.map((p) => (p === null ? '*' : ip4ToString(p)))).toEqual(['10.1.0.1', '203.0.113.1', '198.51.100.10']);
    // Idle sessions go: after 5 minutes without traffic the table is empty.
    engine.runFor(301 * S);
    expect(r1.natTranslations()).toEqual([]);
  });
});
