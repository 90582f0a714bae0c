/**
 * The stack against a scripted neighbour ("probe"): raw frames in, frames out, so ARP timing,
 * queueing and learning rules, reassembly timeouts, broadcasts and VLAN demultiplexing can be
 * checked byte by byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine, Link, Port, type FrameSink } from '../../devices/engine/index.js';
import { IpStack, RouteTable, makeRoute, type RxInfo, type UdpOwner, type UdpSocket } from '../../devices/stack/index.js';
import { ARP_REPLY, ARP_REQUEST, buildArpFrame, decodeArp, gratuitousArpFrame } from '../../devices/wire/arp.js';
import { type Ip4, MAC_BROADCAST, checksum, parseIp4, put16, u16 } from '../../devices/wire/bytes.js';
import { ETHERTYPE, buildEthernetFrame, pushVlanTag } from '../../devices/wire/ethernet.js';
import { IPPROTO, buildIpv4Packet, decodeIpv4, fragment } from '../../devices/wire/ipv4.js';
import { decodeIcmp } from '../../devices/wire/icmp.js';
import { encodeUdp } from '../../devices/wire/udp.js';

const ip = (s: string): Ip4 => parseIp4(s)!;
const ME = ip('10.0.0.1');
const PEER = ip('10.0.0.9');
const PEER_MAC = 0x020000000009;

class Dev implements FrameSink {
  readonly stack: IpStack;
  readonly ports: Port[] = [];
  constructor(engine: Engine, nPorts = 1, forwarding = false) {
    this.stack = new IpStack(engine, { name: 'dut', forwarding });
    for (let i = 0; i < nPorts; i++) {
      const p = new Port(this, `eth${i}`, i);
      this.ports.push(p);
      this.stack.addInterface(p, { mac: 0x020000000100 + i });
    }
  }
  onFrame(port: Port, frame: Uint8Array): void {
    this.stack.onFrame(port, frame);
  }
}

/** The neighbour: records what it gets, answers ARP for its address while `answers`. */
class Probe implements FrameSink {
  readonly port = new Port(this, 'probe');
  got: { at: number; frame: Uint8Array }[] = [];
  answers = true;
  constructor(
    readonly engine: Engine,
    readonly ip: Ip4 = PEER,
    readonly mac = PEER_MAC,
  ) {}
  onFrame(_p: Port, frame: Uint8Array): void {
    this.got.push({ at: this.engine.now, frame });
    if (u16(frame, 12) === ETHERTYPE.ARP && this.answers) {
      const a = decodeArp(frame, 14);
      if (a.op === ARP_REQUEST && a.targetIp === this.ip) {
        this.port.send(buildArpFrame({ op: ARP_REPLY, senderMac: this.mac, senderIp: this.ip, targetMac: a.senderMac, targetIp: a.senderIp }));
      }
    }
  }
  arps(): { at: number; op: number; dst: number; target: Ip4 }[] {
    return this.got.filter((g) => u16(g.frame, 12) === ETHERTYPE.ARP).map((g) => ({ at: g.at, op: decodeArp(g.frame, 14).op, dst: g.frame[0] === 0xff ? MAC_BROADCAST : PEER_MAC, target: decodeArp(g.frame, 14).targetIp }));
  }
  ipv4(): Uint8Array[] {
    return this.got.filter((g) => u16(g.frame, 12) === ETHERTYPE.IPV4).map((g) => g.frame);
  }
  sendIp(packet: Uint8Array, dstMac: number): void {
    this.port.send(buildEthernetFrame({ dst: dstMac, src: this.mac, tags: [], etherType: ETHERTYPE.IPV4 }, packet));
  }
}

class Sink implements UdpOwner {
  got: { src: Ip4; dst: Ip4; iface: string; broadcast: boolean; len: number }[] = [];
  onDatagram(_s: UdpSocket, src: Ip4, _sp: number, payload: Uint8Array, info: RxInfo): void {
    this.got.push({ src, dst: info.dstIp, iface: info.iface.name, broadcast: info.broadcast, len: payload.length });
  }
}

function udpPacket(src: Ip4, dst: Ip4, dport: number, len = 4, ttl = 64): Uint8Array {
  const u = new Uint8Array(8 + len);
  encodeUdp({ srcPort: 1234, dstPort: dport, payload: new Uint8Array(len) }, u, 0, src, dst);
  return buildIpv4Packet({ src, dst, protocol: IPPROTO.UDP, ttl, id: 77 }, u);
}

function setup(): { engine: Engine; dev: Dev; probe: Probe; sock: UdpSocket } {
  const engine = new Engine();
  const dev = new Dev(engine);
  const probe = new Probe(engine);
  new Link(engine, 'l', dev.ports[0]!, probe.port);
  dev.stack.setAddresses(dev.stack.interfaces[0]!, [{ ip: ME, prefix: 24 }]);
  dev.stack.start();
  engine.runUntilIdle();
  probe.got = [];
  const sock = dev.stack.udp.bind(new Sink(), 5555);
  return { engine, dev, probe, sock };
}

describe('ARP cache', () => {
  it('goes stale after 30 s; in use again it sends at once, then checks with a unicast request after 5 s', () => {
    const { engine, dev, probe, sock } = setup();
    sock.sendTo(PEER, 9, new Uint8Array(1));
    engine.runFor(1e9);
    expect(probe.arps().map((a) => [a.at, a.op, a.dst])).toEqual([[0, ARP_REQUEST, MAC_BROADCAST]]);
    const iface = dev.stack.interfaces[0]!;
    expect(dev.stack.arpTable()[0]).toMatchObject({ ip: PEER, mac: PEER_MAC, state: 'reachable' });
    engine.runUntil(31e9);
    expect(dev.stack.arpTable()[0]!.state).toBe('stale');
    probe.got = [];
    sock.sendTo(PEER, 9, new Uint8Array(1));
    engine.runFor(0);
    expect(probe.ipv4().length).toBe(1); // no wait for ARP
    expect(iface.arp.get(PEER)!.state).toBe('delay');
    engine.runUntil(37e9);
    expect(probe.arps().map((a) => [a.at, a.op, a.dst])).toEqual([[36e9, ARP_REQUEST, PEER_MAC]]);
    expect(dev.stack.arpTable()[0]!.state).toBe('reachable');
  });

  it('forgets a neighbour that stops answering its unicast probes (3, one second apart)', () => {
    const { engine, dev, probe, sock } = setup();
    sock.sendTo(PEER, 9, new Uint8Array(1));
    engine.runUntil(40e9);
    probe.answers = false;
    probe.got = [];
    sock.sendTo(PEER, 9, new Uint8Array(1));
    engine.runUntil(60e9);
    expect(probe.arps().map((a) => [a.at / 1e9, a.dst])).toEqual([
      [45, PEER_MAC],
      [46, PEER_MAC],
      [47, PEER_MAC],
    ]);
    expect(dev.stack.arpTable()).toEqual([]);
    probe.got = [];
    sock.sendTo(PEER, 9, new Uint8Array(1));
    engine.runFor(0);
    expect(probe.arps().map((a) => a.dst)).toEqual([MAC_BROADCAST]);
  });

  it('drops stale entries nobody used for 60 s; permanent entries stay', () => {
    const { engine, dev, sock } = setup();
    dev.stack.addStaticArp(dev.stack.interfaces[0]!, ip('10.0.0.50'), 0x020000000050);
    sock.sendTo(PEER, 9, new Uint8Array(1));
    engine.runUntil(89e9);
    expect(dev.stack.arpTable().map((r) => r.state)).toEqual(['permanent', 'stale']);
    engine.runUntil(91e9);
    expect(dev.stack.arpTable().map((r) => [r.ip, r.state])).toEqual([[ip('10.0.0.50'), 'permanent']]);
  });

  it('keeps only the last 3 datagrams while resolving (unres_qlen), and counts the rest as dropped', () => {
    const { engine, dev, probe, sock } = setup();
    for (let i = 1; i <= 5; i++) expect(sock.sendTo(PEER, 9, new Uint8Array(i))).toBe('queued');
    engine.runFor(1e9);
    expect(probe.ipv4().map((f) => u16(f, 14 + 20 + 4) - 8)).toEqual([3, 4, 5]);
    expect(dev.stack.stats.arpDrops).toBe(2);
  });

  it('learns from requests aimed at it (RFC 826) but not from requests for others; updates known neighbours', () => {
    const { engine, dev, probe } = setup();
    const other = ip('10.0.0.77');
    probe.port.send(buildArpFrame({ op: ARP_REQUEST, senderMac: PEER_MAC, senderIp: PEER, targetMac: 0, targetIp: other }));
    engine.runFor(0);
    expect(dev.stack.arpTable()).toEqual([]);
    expect(probe.arps()).toEqual([]); // not ours: no reply
    probe.port.send(buildArpFrame({ op: ARP_REQUEST, senderMac: PEER_MAC, senderIp: PEER, targetMac: 0, targetIp: ME }));
    engine.runFor(0);
    expect(dev.stack.arpTable()).toMatchObject([{ ip: PEER, mac: PEER_MAC, state: 'stale' }]);
    const reply = decodeArp(probe.got[0]!.frame, 14);
    expect(reply).toEqual({ op: ARP_REPLY, senderMac: dev.stack.interfaces[0]!.mac, senderIp: ME, targetMac: PEER_MAC, targetIp: PEER });
    expect(probe.got[0]!.frame.length).toBe(60);
    // The neighbour moves to a new NIC and says so: the known entry follows.
    probe.port.send(gratuitousArpFrame(0x0200000000aa, PEER));
    engine.runFor(0);
    expect(dev.stack.arpTable()[0]!.mac).toBe(0x0200000000aa);
  });

  it('answers an ARP probe (sender 0.0.0.0) for its address without learning, and refuses to learn an impostor', () => {
    const { engine, dev, probe } = setup();
    probe.port.send(buildArpFrame({ op: ARP_REQUEST, senderMac: PEER_MAC, senderIp: 0, targetMac: 0, targetIp: ME }));
    engine.runFor(0);
    expect(decodeArp(probe.got[0]!.frame, 14)).toMatchObject({ op: ARP_REPLY, senderIp: ME, targetIp: 0 });
    expect(dev.stack.arpTable()).toEqual([]);
    probe.port.send(gratuitousArpFrame(PEER_MAC, ME));
    engine.runFor(0);
    expect(dev.stack.stats.arpConflicts).toBe(1);
    expect(dev.stack.arpTable()).toEqual([]);
  });
});

describe('IPv4 receive', () => {
  it('reassembly that never completes earns the sender a time-exceeded (code 1) after 30 s', () => {
    const { engine, probe } = setup();
    const whole = udpPacket(PEER, ME, 5555, 3000);
    const [first] = fragment(whole, 1500);
    probe.sendIp(first!, 0x020000000100);
    engine.runUntil(29e9);
    expect(probe.ipv4()).toEqual([]);
    engine.runUntil(31e9);
    const [err] = probe.ipv4();
    const h = decodeIpv4(err!, 14);
    const icmp = decodeIcmp(err!, h.payloadOffset, h.payloadLength);
    expect([h.src, h.dst, icmp.type, icmp.code]).toEqual([ME, PEER, 11, 1]);
  });

  it('delivers limited and directed broadcasts to sockets, flagged as broadcast; not a unicast inside a link broadcast', () => {
    const { engine, dev, probe } = setup();
    const sink = new Sink();
    dev.stack.udp.bind(sink, 6000);
    probe.sendIp(udpPacket(PEER, 0xffffffff, 6000), MAC_BROADCAST);
    probe.sendIp(udpPacket(PEER, ip('10.0.0.255'), 6000), MAC_BROADCAST);
    probe.sendIp(udpPacket(PEER, ME, 6000), MAC_BROADCAST);
    probe.sendIp(udpPacket(PEER, ME, 6000), 0x020000000100);
    probe.sendIp(udpPacket(PEER, ME, 6000), 0x0200000000ee); // another station's MAC
    engine.runFor(0);
    expect(sink.got.map((g) => [g.dst, g.broadcast])).toEqual([
      [0xffffffff, true],
      [ip('10.0.0.255'), true],
      [ME, true],
      [ME, false],
    ]);
  });

  it('answers a ping to its address even inside a link broadcast, but not a ping to a broadcast address', () => {
    const { engine, probe } = setup();
    const echo = (dst: Ip4) => buildIpv4Packet({ src: PEER, dst, protocol: IPPROTO.ICMP }, Uint8Array.of(8, 0, 0xf7, 0xfe, 0, 1, 0, 0));
    probe.sendIp(echo(ME), MAC_BROADCAST);
    probe.sendIp(echo(ip('10.0.0.255')), MAC_BROADCAST);
    probe.sendIp(echo(0xffffffff), MAC_BROADCAST);
    engine.runFor(1e9);
    const replies = probe.ipv4().map((f) => decodeIpv4(f, 14));
    expect(replies.map((h) => [h.src, h.dst, h.protocol])).toEqual([[ME, PEER, IPPROTO.ICMP]]);
  });

  it('sends port unreachable for a closed port, never for a broadcast', () => {
    const { engine, probe } = setup();
    probe.sendIp(udpPacket(PEER, 0xffffffff, 7777), MAC_BROADCAST);
    probe.sendIp(udpPacket(PEER, ME, 7777), 0x020000000100);
    engine.runFor(1e9);
    const errs = probe.ipv4().map((f) => decodeIcmp(f, 34, decodeIpv4(f, 14).payloadLength));
    expect(errs.map((e) => [e.type, e.code])).toEqual([[3, 3]]);
    // RFC 1812 quote: the whole offending datagram (it is short).
    expect(errs[0]!.payload.length).toBe(32);
  });

  it('counts UDP drops as Linux does: broadcasts nobody listens for unchecked (IgnoredMulti), bad checksums to a listener or a closed unicast port as errors', () => {
    const { engine, dev, probe } = setup();
    const corrupt = (p: Uint8Array) => {
      const c = p.slice();
      c[c.length - 1] ^= 0xff; // the UDP checksum no longer matches; the IP header is intact
      return c;
    };
    probe.sendIp(udpPacket(PEER, 0xffffffff, 7777), MAC_BROADCAST);
    probe.sendIp(corrupt(udpPacket(PEER, ip('10.0.0.255'), 7777)), MAC_BROADCAST);
    engine.runFor(1e9);
    const udp = dev.stack.udp;
    expect([udp.ignoredMulti, udp.inErrors, udp.noPorts]).toEqual([2, 0, 0]);
    const sink = new Sink();
    dev.stack.udp.bind(sink, 7777);
    probe.sendIp(corrupt(udpPacket(PEER, 0xffffffff, 7777)), MAC_BROADCAST);
    probe.sendIp(corrupt(udpPacket(PEER, ME, 7778)), 0x020000000100);
    probe.sendIp(udpPacket(PEER, ME, 7778), 0x020000000100);
    engine.runFor(1e9);
    expect(sink.got).toEqual([]);
    expect([udp.ignoredMulti, udp.inErrors, udp.noPorts]).toEqual([2, 2, 1]);
    // Only the intact datagram to the closed port earns a port unreachable.
    const errs = probe.ipv4().map((f) => decodeIcmp(f, 34, decodeIpv4(f, 14).payloadLength));
    expect(errs.map((e) => [e.type, e.code])).toEqual([[3, 3]]);
  });

  it('a router with many addresses knows each of them, and forgets those of an interface that goes down', () => {
    const engine = new Engine();
    const r = new Dev(engine, 8, true);
    const probes = r.stack.interfaces.map((_, i) => new Probe(engine, ip(`10.${i}.0.9`), 0x020000000a00 + i));
    r.stack.interfaces.forEach((iface, i) => {
      new Link(engine, `l${i}`, r.ports[i]!, probes[i]!.port);
      r.stack.setAddresses(iface, [{ ip: ip(`10.${i}.0.1`), prefix: 24 }]);
    });
    r.stack.start();
    engine.runUntilIdle();
    for (let i = 0; i < 8; i++) {
      expect(r.stack.ifaceOwning(ip(`10.${i}.0.1`))?.name).toBe(`eth${i}`);
      expect(r.stack.isLocalAddress(ip(`10.${i}.0.9`))).toBe(false);
    }
    const echo = (dst: Ip4, i: number) => buildIpv4Packet({ src: ip(`10.${i}.0.9`), dst, protocol: IPPROTO.ICMP }, Uint8Array.of(8, 0, 0xf7, 0xfe, 0, 1, 0, 0));
    // A ping to an address of another interface is answered too (Linux's weak host model).
    probes[7]!.sendIp(echo(ip('10.3.0.1'), 7), 0x020000000107);
    engine.runFor(1e9);
    expect(probes[7]!.ipv4().map((f) => decodeIpv4(f, 14)).map((h) => [h.src, h.dst])).toEqual([[ip('10.3.0.1'), ip('10.7.0.9')]]);
    r.stack.setUp(r.stack.interfaces[3]!, false);
    expect(r.stack.isLocalAddress(ip('10.3.0.1'))).toBe(false);
    expect(r.stack.ifaceOwning(ip('10.4.0.1'))?.name).toBe('eth4');
    r.stack.setAddresses(r.stack.interfaces[4]!, [{ ip: ip('10.4.0.2'), prefix: 24 }]);
    expect(r.stack.isLocalAddress(ip('10.4.0.1'))).toBe(false);
    expect(r.stack.isLocalAddress(ip('10.4.0.2'))).toBe(true);
  });

  it('protocol unreachable for a protocol nobody registered', () => {
    const { engine, probe } = setup();
    probe.sendIp(buildIpv4Packet({ src: PEER, dst: ME, protocol: 47 }, new Uint8Array(8)), 0x020000000100);
    engine.runFor(1e9);
    const [f] = probe.ipv4();
    expect(decodeIcmp(f!, 34, 8 + 28)).toMatchObject({ type: 3, code: 2 });
  });

  it('ignores malformed headers and counts them', () => {
    const { engine, dev, probe } = setup();
    const p = udpPacket(PEER, ME, 5555);
    const badLen = p.slice();
    put16(badLen, 2, 200);
    put16(badLen, 10, 0);
    put16(badLen, 10, checksum(badLen, 0, 20));
    probe.sendIp(badLen, 0x020000000100);
    const v6 = p.slice();
    v6[0] = 0x65;
    probe.sendIp(v6, 0x020000000100);
    engine.runFor(1e9);
    expect(dev.stack.stats.ipInHdrErrors).toBe(2);
    expect(probe.ipv4()).toEqual([]);
  });

  it('tells a UDP server which interface a broadcast came in on (DHCP server, relay giaddr)', () => {
    const engine = new Engine();
    const r = new Dev(engine, 3, true);
    const probes = [0, 1, 2].map((i) => new Probe(engine, ip(`10.${i}.0.9`), 0x020000000a00 + i));
    r.stack.interfaces.forEach((iface, i) => {
      new Link(engine, `l${i}`, r.ports[i]!, probes[i]!.port);
      r.stack.setAddresses(iface, [{ ip: ip(`10.${i}.0.1`), prefix: 24 }]);
    });
    r.stack.start();
    const server = new Sink();
    r.stack.udp.bind(server, 67);
    probes[2]!.sendIp(udpPacket(0, 0xffffffff, 67, 300), MAC_BROADCAST);
    engine.runFor(0);
    expect(server.got.map((g) => [g.src, g.iface, g.broadcast])).toEqual([[0, 'eth2', true]]);
    // A priority-tagged frame (VID 0) belongs to the untagged interface.
    const tagged = pushVlanTag(buildEthernetFrame({ dst: MAC_BROADCAST, src: 0x020000000a01, tags: [], etherType: ETHERTYPE.IPV4 }, udpPacket(0, 0xffffffff, 67, 300)), 0);
    probes[1]!.port.send(tagged);
    engine.runFor(0);
    expect(server.got.map((g) => g.iface)).toEqual(['eth2', 'eth1']);
    // Routers do not forward limited broadcasts.
    expect(probes[0]!.ipv4()).toEqual([]);
  });
});

describe('route table', () => {
  it('longest prefix first, then distance, then metric; recursive next hops; routes out of down interfaces skipped', () => {
    const engine = new Engine();
    const r = new Dev(engine, 2, true);
    const [i0, i1] = r.stack.interfaces as [never, never];
    r.stack.setAddresses(i0, [{ ip: ip('10.0.0.1'), prefix: 24 }]);
    r.stack.setAddresses(i1, [{ ip: ip('10.1.0.1'), prefix: 24 }]);
    r.stack.addRoute({ prefix: 0, prefixLength: 0, via: ip('10.0.0.254') });
    r.stack.addRoute({ prefix: ip('172.16.0.0'), prefixLength: 12, via: ip('10.1.0.254') });
    r.stack.addRoute({ prefix: ip('172.16.5.0'), prefixLength: 24, via: ip('10.0.0.5'), metric: 5 });
    r.stack.addRoute({ prefix: ip('172.16.5.0'), prefixLength: 24, via: ip('10.1.0.5'), metric: 1 });
    const hop = (d: string): string | null => {
      const x = r.stack.lookupRoute(ip(d));
      return x === null ? null : `${x.iface.name} ${x.nextHop >>> 24}.${(x.nextHop >>> 16) & 255}.${(x.nextHop >>> 8) & 255}.${x.nextHop & 255}`;
    };
    expect(hop('10.0.0.7')).toBe('eth0 10.0.0.7');
    expect(hop('172.16.9.9')).toBe('eth1 10.1.0.254');
    expect(hop('172.16.5.9')).toBe('eth1 10.1.0.5');
    expect(hop('8.8.8.8')).toBe('eth0 10.0.0.254');
    r.stack.setUp(r.stack.interfaces[1]!, false);
    // With eth1 down, its connected route goes, and so do the routes resolved through it.
    expect(hop('172.16.5.9')).toBe('eth0 10.0.0.5');
    expect(hop('172.16.9.9')).toBe('eth0 10.0.0.254');
    expect(r.stack.removeRoute(0, 0)).toBe(1);
    expect(hop('8.8.8.8')).toBe(null);
  });

  it('replaces an identical route rather than duplicating it', () => {
    const t = new RouteTable();
    t.add(makeRoute({ prefix: ip('10.9.0.0'), prefixLength: 16, via: ip('10.0.0.2'), metric: 3 }));
    t.add(makeRoute({ prefix: ip('10.9.1.2'), prefixLength: 16, via: ip('10.0.0.2'), metric: 1 }));
    expect(t.routes.map((r) => [r.prefix, r.metric])).toEqual([[ip('10.9.0.0'), 1]]);
  });

  it('replaces the routes of one source as removing them and adding the new ones one by one would', () => {
    const route = fc
      .record({
        prefix: fc.constantFrom(0, ip('10.0.0.0'), ip('10.1.0.0'), ip('10.1.2.0'), ip('192.168.0.0')),
        prefixLength: fc.constantFrom(0, 8, 16, 24),
        via: fc.constantFrom(0, ip('10.0.0.1'), ip('10.1.0.1')),
        ifIndex: fc.constantFrom(-1, 0, 1, 2),
        metric: fc.constantFrom(0, 1, 5),
        source: fc.constantFrom('connected' as const, 'static' as const, 'dhcp' as const),
      })
      .filter((r) => r.via !== 0 || r.ifIndex >= 0)
      .map((r) => makeRoute(r));
    fc.assert(
      fc.property(fc.array(route, { maxLength: 12 }), fc.array(route, { maxLength: 12 }), fc.constantFrom('connected' as const, 'static' as const), (before, fresh, source) => {
        const a = new RouteTable();
        const b = new RouteTable();
        for (const r of before) {
          a.add(r);
          b.add(r);
        }
        const news = fresh.map((r) => ({ ...r, source }));
        a.removeWhere((r) => r.source === source);
        for (const r of news) a.add(r);
        b.replaceSource(source, news);
        expect(b.routes).toEqual(a.routes);
      }),
      { numRuns: 2000, seed: 20260103 },
    );
  });
});
