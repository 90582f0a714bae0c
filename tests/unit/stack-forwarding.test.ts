/**
 * A stack in forwarding mode between hosts: TTL, ICMP errors and where they come from, MTU and
 * DF, rate limiting, the hooks a router's ACL and NAT use, and 802.1Q sub-interfaces.
 */
import { describe, expect, it } from 'vitest';
import { Engine, Link, Port, type FrameSink } from '../../devices/engine/index.js';
import { IpStack, type IcmpErrorReport, type IpHooks, type IpInterface, type RxInfo, type UdpOwner, type UdpSocket } from '../../devices/stack/index.js';
import { type Ip4, checksum, ip4ToString, parseIp4, put16, put32, u16 } from '../../devices/wire/bytes.js';
import { ETHERTYPE, buildEthernetFrame, popVlanTag, pushVlanTag } from '../../devices/wire/ethernet.js';
import { IPPROTO, buildIpv4Packet, decodeIpv4 } from '../../devices/wire/ipv4.js';
import { echoRequest } from '../../devices/wire/icmp.js';
import { udpFillChecksum } from '../../devices/wire/udp.js';
import { hostFrom, prefix } from '../helpers/devices.js';

const ip = (s: string): Ip4 => parseIp4(s)!;

/** A router as the router engineer will build it, reduced to its stack. */
class Router implements FrameSink {
  readonly stack: IpStack;
  readonly ports: Port[] = [];
  constructor(engine: Engine, name: string, addrs: string[], hooks?: IpHooks) {
    this.stack = new IpStack(engine, { name, forwarding: true, ...(hooks ? { hooks } : {}) });
    addrs.forEach((a, i) => {
      const port = new Port(this, `g0/${i}`, i);
      this.ports.push(port);
      const iface = this.stack.addInterface(port, { mac: 0x02aa00000000 + name.charCodeAt(1) * 256 + i });
      this.stack.setAddresses(iface, [prefix(a)]);
    });
  }
  onFrame(port: Port, frame: Uint8Array): void {
    this.stack.onFrame(port, frame);
  }
  iface(i: number): IpInterface {
    return this.stack.interfaces[i]!;
  }
}

function sniff(port: Port): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const send = port.send.bind(port);
  port.send = (f: Uint8Array): void => {
    frames.push(f);
    send(f);
  };
  return frames;
}

/** a (10.1.0.10) -- r1 (10.1.0.1 | 10.3.0.1) -- r2 (10.3.0.2 | 10.2.0.1) -- b (10.2.0.20) */
function chain(opts: { r1Hooks?: IpHooks } = {}) {
  const engine = new Engine({ seed: 11 });
  const a = hostFrom(engine, { name: 'a', interfaces: { eth0: { ip: '10.1.0.10/24', gateway: '10.1.0.1' } } });
  const b = hostFrom(engine, { name: 'b', interfaces: { eth0: { ip: '10.2.0.20/24', gateway: '10.2.0.1' } }, services: { 'udp-echo': true } });
  const r1 = new Router(engine, 'r1', ['10.1.0.1/24', '10.3.0.1/24'], opts.r1Hooks);
  const r2 = new Router(engine, 'r2', ['10.3.0.2/24', '10.2.0.1/24']);
  r1.stack.addRoute({ prefix: ip('10.2.0.0'), prefixLength: 16, via: ip('10.3.0.2') });
  r2.stack.addRoute({ prefix: ip('10.1.0.0'), prefixLength: 24, via: ip('10.3.0.1') });
  new Link(engine, 'a-r1', a.port(), r1.ports[0]!);
  const core = new Link(engine, 'r1-r2', r1.ports[1]!, r2.ports[0]!);
  new Link(engine, 'r2-b', r2.ports[1]!, b.port());
  for (const d of [a, b, r1.stack, r2.stack]) d.start();
  engine.runUntilIdle(1e9);
  return { engine, a, b, r1, r2, core };
}

function run<T extends { isDone: boolean }>(engine: Engine, op: T, limit = 120e9): T {
  expect(engine.runUntilCondition(() => op.isDone, limit)).toBe(true);
  return op;
}

describe('forwarding', () => {
  it('carries a ping across two routers, decrementing the TTL at each', () => {
    const { engine, a, b } = chain();
    const toB = sniff(b.port());
    const ping = run(engine, a.ping('10.2.0.20', { count: 2 }));
    expect(ping.result.received).toBe(2);
    expect(ping.result.probes[0]!.ttl).toBe(62);
    // b receives frames that r2 sent; b's replies are what we sniffed: look at what arrived by the replies' TTL instead.
    expect(toB.filter((f) => u16(f, 12) === ETHERTYPE.IPV4).map((f) => decodeIpv4(f, 14).ttl)).toEqual([64, 64]);
  });

  it('traceroute lists each hop by the address facing the sender, then the destination', () => {
    const { engine, a } = chain();
    const t = run(engine, a.traceroute('10.2.0.20'));
    expect(t.result.reached).toBe(true);
    expect(t.path.map((x) => (x === null ? '*' : ip4ToString(x)))).toEqual(['10.1.0.1', '10.3.0.2', '10.2.0.20']);
    expect(t.result.hops.map((h) => h.probes.length)).toEqual([3, 3, 3]);
    expect(t.result.lines[0]).toBe('traceroute to 10.2.0.20 (10.2.0.20), 30 hops max, 60 byte packets');
    expect(t.result.lines[2]).toMatch(/^ 2  10\.3\.0\.2 {2}\d+\.\d{3} ms {2}\d+\.\d{3} ms {2}\d+\.\d{3} ms$/);
  });

  it('a TTL of 1 expires at the first router, which says so from its interface facing the sender', () => {
    const { engine, a, r1 } = chain();
    const ping = run(engine, a.ping('10.2.0.20', { count: 1, ttl: 1 }));
    expect(ping.result.probes[0]).toMatchObject({ status: 'error', from: ip('10.1.0.1'), errorType: 11, errorCode: 0, message: 'Time to live exceeded' });
    expect(r1.stack.stats.ipTtlExceeded).toBe(1);
  });

  it('net unreachable comes from the ingress interface of the router without a route', () => {
    const { engine, a, r2 } = chain();
    const ping = run(engine, a.ping('10.2.99.1', { count: 1 }));
    // r2 has 10.2.0.0/24 only; it answers from 10.3.0.2, where the ping came in, not from 10.2.0.1.
    expect(ping.result.probes[0]).toMatchObject({ status: 'error', from: ip('10.3.0.2'), message: 'Destination Net Unreachable' });
    expect(r2.stack.stats.ipNoRoute).toBe(1);
  });

  it('host unreachable when the last router cannot resolve the destination, after its three ARP requests', () => {
    const { engine, a, r2 } = chain();
    const ping = run(engine, a.ping('10.2.0.99', { count: 1 }));
    expect(ping.result.probes[0]).toMatchObject({ status: 'error', from: ip('10.3.0.2'), message: 'Destination Host Unreachable' });
    expect(r2.stack.stats.arpRequestsSent).toBe(3);
    expect(r2.stack.stats.arpDrops).toBe(1);
  });

  it('DF and a smaller MTU: fragmentation needed, with the next-hop MTU; without DF the router fragments', () => {
    const { engine, a, r1 } = chain();
    r1.stack.setMtu(r1.iface(1), 1400);
    const df = run(engine, a.ping('10.2.0.20', { count: 1, size: 1450, df: true }));
    expect(df.result.probes[0]).toMatchObject({ status: 'error', from: ip('10.1.0.1'), errorType: 3, errorCode: 4, message: 'Frag needed and DF set (mtu = 1400)' });
    const frag = run(engine, a.ping('10.2.0.20', { count: 1, size: 1450 }));
    expect(frag.result.probes[0]!.status).toBe('reply');
    expect(r1.stack.stats.ipFragCreates).toBe(2);
  });

  it('rate-limits ICMP errors with a token bucket (burst 50, then 1000 per second)', () => {
    const { engine, a, r1 } = chain();
    const errs: IcmpErrorReport[] = [];
    const owner: UdpOwner = { onDatagram() {}, onIcmpError: (_s, r) => void errs.push(r) };
    const s = a.stack.udp.bind(owner, 40000);
    // Resolve the gateway first, so that all 100 probes leave at one instant.
    s.sendTo(ip('10.2.0.20'), 33434, new Uint8Array(4));
    engine.runUntilIdle(1e9);
    expect(errs.map((e) => [e.type, e.from])).toEqual([[3, ip('10.2.0.20')]]); // b's port unreachable
    errs.length = 0;
    for (let i = 0; i < 100; i++) s.sendTo(ip('10.2.0.20'), 33434, new Uint8Array(4), { ttl: 1 });
    engine.runFor(0);
    expect(errs.length).toBe(50);
    expect(errs.every((e) => e.type === 11 && e.from === ip('10.1.0.1'))).toBe(true);
    expect(r1.stack.stats.icmpRateLimited).toBe(50);
    engine.runFor(10e6); // 10 ms: 10 tokens
    for (let i = 0; i < 20; i++) s.sendTo(ip('10.2.0.20'), 33434, new Uint8Array(4), { ttl: 1 });
    engine.runFor(0);
    expect(errs.length).toBe(60);
  });

  it('sends no ICMP error about broadcasts, ICMP errors, or non-first fragments', () => {
    const { engine, a, r1 } = chain();
    const errs: IcmpErrorReport[] = [];
    const owner: UdpOwner = { onDatagram() {}, onIcmpError: (_s, r) => void errs.push(r) };
    const s = a.stack.udp.bind(owner, 40001);
    s.sendTo(ip('10.1.0.255'), 9, new Uint8Array(4)); // directed broadcast, nobody on port 9
    s.sendTo(ip('255.255.255.255'), 9, new Uint8Array(4), { iface: a.iface() });
    engine.runUntilIdle(5e9);
    expect(errs).toEqual([]);
    expect(r1.stack.stats.icmpErrorsSent).toBe(0);
    // An ICMP error with TTL 1 expiring at r1: no error about it.
    const inject = new Port({ onFrame() {} }, 'x');
    const r1port = r1.ports[0]!;
    r1port.link!.disconnect();
    new Link(engine, 'x-r1', inject, r1port);
    const err = buildIpv4Packet({ src: ip('10.1.0.10'), dst: ip('10.2.0.20'), protocol: IPPROTO.ICMP, ttl: 1 }, Uint8Array.of(3, 3, 0xfc, 0xfc, 0, 0, 0, 0));
    inject.send(buildEthernetFrame({ dst: r1.iface(0).mac, src: 0x020000000001, tags: [], etherType: ETHERTYPE.IPV4 }, err));
    // A non-first fragment with TTL 1.
    const frag = buildIpv4Packet({ src: ip('10.1.0.10'), dst: ip('10.2.0.20'), protocol: IPPROTO.UDP, ttl: 1 }, new Uint8Array(16));
    put16(frag, 6, 0x0002); // offset 16 bytes
    put16(frag, 10, 0);
    put16(frag, 10, checksum(frag, 0, 20));
    inject.send(buildEthernetFrame({ dst: r1.iface(0).mac, src: 0x020000000001, tags: [], etherType: ETHERTYPE.IPV4 }, frag));
    engine.runUntilIdle(5e9);
    expect(r1.stack.stats.ipTtlExceeded).toBe(2);
    expect(r1.stack.stats.icmpErrorsSent).toBe(0);
  });

  it('counts and drops a datagram with a bad header checksum', () => {
    const { engine, r1 } = chain();
    const inject = new Port({ onFrame() {} }, 'x');
    r1.ports[0]!.link!.disconnect();
    new Link(engine, 'x-r1', inject, r1.ports[0]!);
    const p = buildIpv4Packet({ src: ip('10.1.0.10'), dst: ip('10.2.0.20'), protocol: IPPROTO.ICMP }, echoRequest(1, 1));
    p[10] ^= 0xff;
    inject.send(buildEthernetFrame({ dst: r1.iface(0).mac, src: 0x020000000001, tags: [], etherType: ETHERTYPE.IPV4 }, p));
    engine.runUntilIdle(1e9);
    expect(r1.stack.stats.ipInBadChecksum).toBe(1);
    expect(r1.stack.stats.ipForwarded).toBe(0);
  });

  it('hooks: an input filter drops what the ACL denies, post-routing rewrites the source (SNAT)', () => {
    class Nat implements IpHooks {
      seen: string[] = [];
      denyUdp = false;
      inputFilter(iface: IpInterface, packet: Uint8Array): boolean {
        this.seen.push(`in ${iface.name} ${ip4ToString(decodeIpv4(packet).dst)}`);
        return !(this.denyUdp && packet[9] === IPPROTO.UDP);
      }
      postRouting(ingress: IpInterface | null, egress: IpInterface, packet: Uint8Array): Uint8Array | null {
        if (ingress !== null && egress.index === 1) {
          put32(packet, 12, ip('10.3.0.1'));
          put16(packet, 10, 0);
          put16(packet, 10, checksum(packet, 0, 20));
          if (packet[9] === IPPROTO.UDP) udpFillChecksum(packet, 20, ip('10.3.0.1'), decodeIpv4(packet).dst);
        }
        return packet;
      }
    }
    const nat = new Nat();
    const { engine, a, b } = chain({ r1Hooks: nat });
    const seenByB: Ip4[] = [];
    const sink: UdpOwner = { onDatagram: (_s: UdpSocket, src: Ip4, _p: number, _d: Uint8Array, _i: RxInfo) => void seenByB.push(src) };
    b.stack.udp.bind(sink, 5000);
    const s = a.stack.udp.bind({ onDatagram() {} }, 40002);
    s.sendTo(ip('10.2.0.20'), 5000, new Uint8Array(8));
    engine.runUntilIdle(5e9);
    expect(seenByB).toEqual([ip('10.3.0.1')]);
    expect(nat.seen).toContain('in g0/0 10.2.0.20');
    nat.denyUdp = true;
    s.sendTo(ip('10.2.0.20'), 5000, new Uint8Array(8));
    engine.runUntilIdle(5e9);
    expect(seenByB.length).toBe(1);
  });

  it('the router answers pings to any of its addresses, and ARP only for the receiving interface (no proxy ARP)', () => {
    const { engine, a, r1 } = chain();
    const far = run(engine, a.ping('10.3.0.1', { count: 1 }));
    expect(far.result.probes[0]).toMatchObject({ status: 'reply', from: ip('10.3.0.1') });
    // a asks on its wire for r1's other address: no answer.
    a.setStatic('eth0', ip('10.1.0.10'), 8);
    const arp = run(engine, a.ping('10.3.0.1', { count: 1 }));
    expect(arp.result.probes[0]!.message).toBe('Destination Host Unreachable');
    expect(r1.stack.stats.arpRepliesSent).toBe(1);
  });
});

/** A two-VLAN switch reduced to tagging: access ports for VLAN 10 and 20, one trunk. */
class Tagger implements FrameSink {
  readonly trunk = new Port(this, 'trunk', 0);
  readonly v10 = new Port(this, 'v10', 1);
  readonly v20 = new Port(this, 'v20', 2);
  tagged: number[] = [];
  onFrame(port: Port, frame: Uint8Array): void {
    if (port === this.trunk) {
      const vid = u16(frame, 14) & 0xfff;
      this.tagged.push(vid);
      (vid === 10 ? this.v10 : this.v20).send(popVlanTag(frame));
    } else this.trunk.send(pushVlanTag(frame, port === this.v10 ? 10 : 20));
  }
}

describe('802.1Q sub-interfaces', () => {
  it('route between VLANs on one port (router on a stick), tagged both ways', () => {
    const engine = new Engine();
    const sw = new Tagger();
    const r = new (class implements FrameSink {
      stack = new IpStack(engine, { name: 'r', forwarding: true });
      port = new Port(this, 'g0/2', 0);
      onFrame(p: Port, f: Uint8Array): void {
        this.stack.onFrame(p, f);
      }
    })();
    const s10 = r.stack.addInterface(r.port, { mac: 0x02bb00000001, vlan: 10 });
    const s20 = r.stack.addInterface(r.port, { mac: 0x02bb00000001, vlan: 20 });
    expect([s10.name, s20.name]).toEqual(['g0/2.10', 'g0/2.20']);
    r.stack.setAddresses(s10, [{ ip: ip('10.10.0.1'), prefix: 24 }]);
    r.stack.setAddresses(s20, [{ ip: ip('10.20.0.1'), prefix: 24 }]);
    const a = hostFrom(engine, { name: 'a', interfaces: { eth0: { ip: '10.10.0.5/24', gateway: '10.10.0.1' } } });
    const b = hostFrom(engine, { name: 'b', interfaces: { eth0: { ip: '10.20.0.5/24', gateway: '10.20.0.1' } } });
    new Link(engine, 'a', a.port(), sw.v10);
    new Link(engine, 'b', b.port(), sw.v20);
    new Link(engine, 't', r.port, sw.trunk);
    r.stack.start();
    a.start();
    b.start();
    const t = run(engine, a.traceroute('10.20.0.5'));
    expect(t.path).toEqual([ip('10.10.0.1'), ip('10.20.0.5')]);
    expect(new Set(sw.tagged)).toEqual(new Set([10, 20]));
    // Untagged frames on the trunk belong to no interface here.
    expect(r.stack.stats.rxIgnored).toBe(0);
  });
});
