/**
 * The router in small labs, in virtual time. Hosts are bare IpStacks (the shared stack with
 * forwarding off) behind a port; DHCP clients are a minimal RFC 2131 client speaking raw frames;
 * a hub joins several hosts on one router port.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Capture, Engine, Link, Port, addTap, type FrameSink } from '../../devices/engine/index.js';
import { Router } from '../../devices/router/index.js';
import { IpStack, type EchoOwner, type EchoSocket, type IcmpErrorReport, type RxInfo, type UdpOwner, type UdpSocket } from '../../devices/stack/index.js';
import { buildArpFrame, ARP_REPLY, ARP_REQUEST, decodeArp } from '../../devices/wire/arp.js';
import { MAC_BROADCAST, ip4ToString, macAt, parseIp4, putMac, put16, u16, type Ip4, type Mac } from '../../devices/wire/bytes.js';
import {
  BOOTREQUEST,
  DHCP_BROADCAST_FLAG,
  DhcpMessageType,
  decodeDhcp,
  dhcpEncodingLength,
  dhcpOptionsFrom,
  encodeDhcp,
  readDhcpFields,
  type DhcpFields,
} from '../../devices/wire/dhcp.js';
import { ETHERTYPE, ethVid } from '../../devices/wire/ethernet.js';
import { ICMP_TYPE, UNREACH } from '../../devices/wire/icmp.js';
import { encodeIpv4 } from '../../devices/wire/ipv4.js';
import { encodeUdp } from '../../devices/wire/udp.js';
import { concat } from '../helpers/pcapng.js';
import { tsharkAvailable, tsharkFields, tsharkProblems } from '../helpers/tshark.js';
import { type RouterText, routerFrom } from '../helpers/devices.js';

const ip = (s: string): Ip4 => parseIp4(s)!;
const S = 1e9;
const MS = 1e6;

// ---------------------------------------------------------------- harness

class TestHost implements FrameSink, EchoOwner, UdpOwner {
  readonly port: Port;
  readonly stack: IpStack;
  readonly replies: { from: string; seq: number }[] = [];
  readonly errors: IcmpErrorReport[] = [];
  readonly datagrams: { from: string; port: number; data: string; ttl: number; to: string }[] = [];
  readonly echo: EchoSocket;
  readonly udp: UdpSocket;

  constructor(
    readonly engine: Engine,
    readonly name: string,
    cidr: string,
    gateway?: string,
    vlan?: number,
    mac: Mac = 0x020000000000 + (hashName(name) & 0xffffff),
  ) {
    this.port = new Port(this, 'eth0');
    this.stack = new IpStack(engine, { name });
    const iface = this.stack.addInterface(this.port, { mac, ...(vlan !== undefined ? { vlan } : {}) });
    const [a, p] = cidr.split('/');
    this.stack.setAddresses(iface, [{ ip: ip(a!), prefix: Number(p) }]);
    if (gateway) this.stack.setDefaultGateway(ip(gateway));
    this.echo = this.stack.echo.open(this, 0x4242);
    this.udp = this.stack.udp.bind(this, 40000);
    this.stack.start();
  }
  get ip(): Ip4 {
    return this.stack.interfaces[0]!.addresses[0]!.ip;
  }
  onFrame(port: Port, frame: Uint8Array): void {
    this.stack.onFrame(port, frame);
  }
  onEchoReply(_s: EchoSocket, srcIp: Ip4, seq: number): void {
    this.replies.push({ from: ip4ToString(srcIp), seq });
  }
  onIcmpError(_s: unknown, report: IcmpErrorReport): void {
    this.errors.push(report);
  }
  onDatagram(_s: UdpSocket, srcIp: Ip4, srcPort: number, payload: Uint8Array, info: RxInfo): void {
    this.datagrams.push({ from: ip4ToString(srcIp), port: srcPort, data: new TextDecoder().decode(payload), ttl: info.ttl, to: ip4ToString(info.dstIp) });
    // An echo service: answer "ping:" datagrams.
    const text = new TextDecoder().decode(payload);
    if (text.startsWith('ping:')) this.udp.sendTo(srcIp, srcPort, new TextEncoder().encode(`pong:${text.slice(5)}`));
  }
  ping(dst: string, seq = 1, ttl?: number): void {
    this.echo.send(ip(dst), seq, new Uint8Array(32).fill(0x61), ttl !== undefined ? { ttl } : {});
  }
  send(dst: string, port: number, text: string, ttl?: number): void {
    this.udp.sendTo(ip(dst), port, new TextEncoder().encode(text), ttl !== undefined ? { ttl } : {});
  }
}

function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Repeats every frame to every other port, like a hub: several hosts on one router port. */
class Hub implements FrameSink {
  readonly ports: Port[] = [];
  constructor(n: number) {
    for (let i = 0; i < n; i++) this.ports.push(new Port(this, `p${i}`, i));
  }
  onFrame(port: Port, frame: Uint8Array): void {
    for (const p of this.ports) if (p !== port) p.send(frame);
  }
}

/** Records every frame it gets; sends what it is told. */
class Probe implements FrameSink {
  readonly port = new Port(this, 'probe');
  readonly frames: Uint8Array[] = [];
  onFrame(_p: Port, frame: Uint8Array): void {
    this.frames.push(frame);
  }
}

/** A minimal DHCP client on raw frames: DISCOVER, REQUEST the first OFFER, note the ACK. */
class DhcpTestClient implements FrameSink {
  readonly port: Port;
  xid: number;
  lease: { ip: Ip4; fields: DhcpFields } | null = null;
  readonly seen: { type: number; dstMac: Mac; dstIp: Ip4; yiaddr: Ip4; vid: number }[] = [];
  offers = 0;

  constructor(
    readonly mac: Mac,
    readonly hostname?: string,
    readonly broadcastFlag = false,
  ) {
    this.port = new Port(this, 'eth0');
    this.xid = (mac & 0xffffff) * 7 + 1;
  }
  discover(): void {
    this.send(DhcpMessageType.DISCOVER, {});
  }
  /** INIT-REBOOT: ask to keep an address. */
  reboot(addr: Ip4): void {
    this.send(DhcpMessageType.REQUEST, { requestedIp: addr });
  }
  private send(type: number, fields: DhcpFields): void {
    const f: DhcpFields = { messageType: type, ...fields };
    if (this.hostname) f.hostname = this.hostname;
    const input = { op: BOOTREQUEST, xid: this.xid, chaddr: this.mac, flags: this.broadcastFlag ? DHCP_BROADCAST_FLAG : 0, options: dhcpOptionsFrom(f) };
    const dhcp = new Uint8Array(dhcpEncodingLength(input));
    encodeDhcp(input, dhcp, 0);
    const frame = new Uint8Array(14 + 20 + 8 + dhcp.length);
    putMac(frame, 0, MAC_BROADCAST);
    putMac(frame, 6, this.mac);
    put16(frame, 12, ETHERTYPE.IPV4);
    const total = 28 + dhcp.length;
    encodeIpv4({ dscp: 0, ecn: 0, totalLength: total, id: 1, df: false, mf: false, fragmentOffset: 0, ttl: 64, protocol: 17, src: 0, dst: 0xffffffff }, frame, 14);
    encodeUdp({ srcPort: 68, dstPort: 67, payload: dhcp }, frame, 34, 0, 0xffffffff);
    this.port.send(frame);
  }
  onFrame(_p: Port, frame: Uint8Array): void {
    let off = 14;
    if (u16(frame, 12) === ETHERTYPE.VLAN) off = 18;
    if (u16(frame, off - 2) !== ETHERTYPE.IPV4 || frame[off + 9] !== 17) return;
    const hl = (frame[off]! & 0x0f) << 2;
    const udp = off + hl;
    if (u16(frame, udp + 2) !== 68) return;
    const m = decodeDhcp(frame, udp + 8, u16(frame, udp + 4) - 8);
    if (m.xid !== this.xid || m.chaddr !== this.mac) return;
    const f = readDhcpFields(m.options);
    const dstMac = macAt(frame, 0);
    this.seen.push({ type: f.messageType!, dstMac, dstIp: u16(frame, off + 16) * 65536 + u16(frame, off + 18), yiaddr: m.yiaddr, vid: ethVid(frame, 0) });
    if (f.messageType === DhcpMessageType.OFFER && this.lease === null) {
      this.offers++;
      this.send(DhcpMessageType.REQUEST, { requestedIp: m.yiaddr, serverId: f.serverId! });
    } else if (f.messageType === DhcpMessageType.ACK) {
      this.lease = { ip: m.yiaddr, fields: f };
    }
  }
}

function cable(engine: Engine, a: Port, b: Port): Link {
  return new Link(engine, `${a.name}-${b.name}-${Math.random().toString(36).slice(2, 6)}`, a, b);
}
function port(r: Router, name: string): Port {
  return r.ports.find((p) => p.name === name)!;
}

/** h1 (10.1.0.10) -- g0/0 r1 g0/1 -- h2 (10.2.0.10) */
function twoSubnets(extra: Partial<RouterText> = {}) {
  const engine = new Engine({ mode: 'virtual', seed: 7 });
  const { interfaces: more = [], ...rest } = extra;
  const r1 = routerFrom(engine, {
    name: 'r1',
    ...rest,
    interfaces: [{ name: 'g0/0', ip: '10.1.0.1/24' }, { name: 'g0/1', ip: '10.2.0.1/24' }, ...more],
  });
  const h1 = new TestHost(engine, 'h1', '10.1.0.10/24', '10.1.0.1');
  const h2 = new TestHost(engine, 'h2', '10.2.0.10/24', '10.2.0.1');
  cable(engine, h1.port, port(r1, 'g0/0'));
  cable(engine, h2.port, port(r1, 'g0/1'));
  r1.start();
  engine.runFor(1 * MS);
  return { engine, r1, h1, h2 };
}

// ---------------------------------------------------------------- forwarding

describe('router forwarding', () => {
  it('forwards between two subnets, decrementing TTL by exactly one, both ways', () => {
    const { engine, h1, h2 } = twoSubnets();
    h1.send('10.2.0.10', 40000, 'ping:hello', 64);
    engine.runFor(1 * S);
    expect(h2.datagrams).toEqual([{ from: '10.1.0.10', port: 40000, data: 'ping:hello', ttl: 63, to: '10.2.0.10' }]);
    // The echo service answers with TTL 64, which reaches h1 as 63.
    expect(h1.datagrams).toEqual([{ from: '10.2.0.10', port: 40000, data: 'pong:hello', ttl: 63, to: '10.1.0.10' }]);
    h1.ping('10.2.0.10', 5);
    engine.runFor(1 * S);
    expect(h1.replies).toEqual([{ from: '10.2.0.10', seq: 5 }]);
  });

  it('forwards on the fast path once the next hop is resolved, with the same bytes the stack sends', () => {
    const { engine, r1, h2 } = twoSubnets();
    const probe = new Probe();
    port(r1, 'g0/0').link!.disconnect();
    cable(engine, probe.port, port(r1, 'g0/0'));
    const arrived: Uint8Array[] = [];
    addTap(h2.port, { record: (f, direction) => void (direction === 1 && u16(f, 12) === ETHERTYPE.IPV4 && arrived.push(f)) });
    const frame = new Uint8Array(14 + 28 + 100);
    putMac(frame, 0, r1.stack.interfaces[0]!.mac);
    putMac(frame, 6, 0x020000000077);
    put16(frame, 12, ETHERTYPE.IPV4);
    encodeIpv4({ dscp: 0, ecn: 0, totalLength: 128, id: 99, df: true, mf: false, fragmentOffset: 0, ttl: 9, protocol: 17, src: ip('10.1.0.77'), dst: ip('10.2.0.10') }, frame, 14);
    encodeUdp({ srcPort: 5, dstPort: 40000, payload: new Uint8Array(100).fill(3) }, frame, 34, ip('10.1.0.77'), ip('10.2.0.10'));
    probe.port.send(frame); // resolves h2 through the stack
    engine.runFor(1 * S);
    probe.port.send(frame);
    engine.runFor(1 * S);
    expect(r1.fastPath.forwarded).toBe(1);
    const stackOnly = r1.fastPath.forward.bind(r1.fastPath);
    r1.fastPath.forward = () => false;
    probe.port.send(frame);
    engine.runFor(1 * S);
    r1.fastPath.forward = stackOnly;
    expect(arrived.length).toBe(3);
    expect(Array.from(arrived[1]!)).toEqual(Array.from(arrived[2]!));
    expect(arrived[1]![14 + 8]).toBe(8);
    expect(r1.stack.stats.ipForwarded).toBe(3);
    expect(h2.datagrams.length).toBe(3);
  });

  it('answers pings to its own addresses, on either interface', () => {
    const { engine, h1 } = twoSubnets();
    h1.ping('10.1.0.1', 1);
    h1.ping('10.2.0.1', 2);
    engine.runFor(1 * S);
    expect(h1.replies).toEqual([
      { from: '10.1.0.1', seq: 1 },
      { from: '10.2.0.1', seq: 2 },
    ]);
  });

  it('sends net unreachable for a destination it has no route to, sourced from the ingress interface', () => {
    const { engine, h1, r1 } = twoSubnets();
    h1.ping('8.8.8.8', 1);
    engine.runFor(1 * S);
    expect(h1.replies).toEqual([]);
    expect(h1.errors.map((e) => [e.type, e.code, ip4ToString(e.from), ip4ToString(e.quotedDst)])).toEqual([[ICMP_TYPE.DEST_UNREACHABLE, UNREACH.NET, '10.1.0.1', '8.8.8.8']]);
    expect(r1.stack.stats.ipNoRoute).toBe(1);
  });

  it('sends time exceeded for TTL 1, from the interface facing the sender', () => {
    const { engine, h2 } = twoSubnets();
    h2.send('10.1.0.10', 33434, 'probe', 1);
    engine.runFor(1 * S);
    expect(h2.errors.map((e) => [e.type, e.code, ip4ToString(e.from)])).toEqual([[ICMP_TYPE.TIME_EXCEEDED, 0, '10.2.0.1']]);
  });

  it('traceroute through three routers shows each hop, then the destination', () => {
    const engine = new Engine({ mode: 'virtual', seed: 3 });
    // h1 10.1.0.0/24 r1 10.12.0.0/30 r2 10.23.0.0/30 r3 10.3.0.0/24 h2
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
      routes: [{ to: '0.0.0.0/0', via: '10.23.0.1', iface: 'g0/0' }],
    });
    const h1 = new TestHost(engine, 'h1', '10.1.0.10/24', '10.1.0.1');
    const h2 = new TestHost(engine, 'h2', '10.3.0.10/24', '10.3.0.1');
    cable(engine, h1.port, port(r1, 'g0/0'));
    cable(engine, port(r1, 'g0/1'), port(r2, 'g0/0'));
    cable(engine, port(r2, 'g0/1'), port(r3, 'g0/0'));
    cable(engine, port(r3, 'g0/1'), h2.port);
    for (const r of [r1, r2, r3]) r.start();
    const hops: string[] = [];
    for (let ttl = 1; ttl <= 4; ttl++) {
      h1.errors.length = 0;
      h1.send('10.3.0.10', 33433 + ttl, 'probe', ttl);
      engine.runFor(1 * S);
      expect(h1.errors.length).toBe(1);
      const e = h1.errors[0]!;
      hops.push(`${ip4ToString(e.from)} ${e.type}/${e.code}`);
    }
    expect(hops).toEqual(['10.1.0.1 11/0', '10.12.0.2 11/0', '10.23.0.2 11/0', '10.3.0.10 3/3']);
    expect(r2.routes().map((r) => [r.code, r.prefix, r.via, r.iface])).toEqual([
      ['C', '10.12.0.0/30', null, 'g0/0'],
      ['C', '10.23.0.0/30', null, 'g0/1'],
      ['S', '10.1.0.0/24', '10.12.0.1', null],
      ['S', '10.3.0.0/24', '10.23.0.2', null],
    ]);
  });

  it('answers ARP only for the receiving interface’s own addresses', () => {
    const engine = new Engine({ mode: 'virtual' });
    const r1 = routerFrom(engine, { name: 'r1', interfaces: [{ name: 'g0/0', ip: '10.1.0.1/24' }, { name: 'g0/1', ip: '10.2.0.1/24' }] });
    const probe = new Probe();
    cable(engine, probe.port, port(r1, 'g0/0'));
    r1.start();
    engine.runFor(1 * MS);
    probe.frames.length = 0; // the gratuitous ARP at start
    const ask = (target: string): void =>
      probe.port.send(buildArpFrame({ op: ARP_REQUEST, senderMac: 0x020000000099, senderIp: ip('10.1.0.99'), targetMac: 0, targetIp: ip(target) }));
    ask('10.1.0.55'); // a neighbour's address
    ask('10.2.0.1'); // the router's, but on another interface: no proxy ARP
    engine.runFor(1 * S);
    expect(probe.frames).toEqual([]);
    ask('10.1.0.1');
    engine.runFor(1 * S);
    expect(probe.frames.length).toBe(1);
    const reply = decodeArp(probe.frames[0]!, 14);
    expect(reply.op).toBe(ARP_REPLY);
    expect(reply.senderIp).toBe(ip('10.1.0.1'));
    expect(reply.senderMac).toBe(r1.stack.interfaces[0]!.mac);
    expect(r1.arp().map((a) => [a.ip, a.iface, a.ageMin === null ? '-' : a.ageMin])).toEqual([
      ['10.1.0.1', 'g0/0', '-'],
      ['10.1.0.99', 'g0/0', 0],
      ['10.2.0.1', 'g0/1', '-'],
    ]);
  });

  it('routes between 802.1Q sub-interfaces on one tagged trunk', () => {
    const engine = new Engine({ mode: 'virtual', seed: 5 });
    const r1 = routerFrom(engine, {
      name: 'r1',
      interfaces: [
        { name: 'g0/2.20', ip: '10.20.0.1/24' },
        { name: 'g0/2.30', vlan: 30, ip: '10.30.0.1/24' },
      ],
    });
    const trunk = new Hub(3);
    const a = new TestHost(engine, 'a', '10.20.0.10/24', '10.20.0.1', 20);
    const b = new TestHost(engine, 'b', '10.30.0.10/24', '10.30.0.1', 30);
    const rport = port(r1, 'g0/2');
    cable(engine, trunk.ports[0]!, rport);
    cable(engine, trunk.ports[1]!, a.port);
    cable(engine, trunk.ports[2]!, b.port);
    const sent: Uint8Array[] = [];
    addTap(rport, { record: (f, direction) => void (direction === 2 && sent.push(f)) });
    r1.start();
    a.ping('10.30.0.10', 1);
    engine.runFor(1 * S);
    expect(a.replies).toEqual([{ from: '10.30.0.10', seq: 1 }]);
    // Everything the router put on the trunk was tagged, ARP and IP alike, with both VLANs in use.
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((f) => u16(f, 12) === ETHERTYPE.VLAN)).toBe(true);
    expect(new Set(sent.map((f) => ethVid(f, 0)))).toEqual(new Set([20, 30]));
    // Shutting the port takes both sub-interfaces down; bringing it back restores them.
    r1.setShutdown('g0/2', true);
    expect(r1.routes().filter((r) => r.iface?.startsWith('g0/2'))).toEqual([]);
    r1.setShutdown('g0/2.30', true);
    r1.setShutdown('g0/2', false);
    expect(r1.routes().filter((r) => r.iface?.startsWith('g0/2')).map((r) => r.iface)).toEqual(['g0/2.20']);
    r1.setShutdown('g0/2.30', false);
    a.ping('10.30.0.10', 2);
    engine.runFor(1 * S);
    expect(a.replies.map((r) => r.seq)).toEqual([1, 2]);
    const rows = r1.interfaces().filter((i) => i.name.startsWith('g0/2'));
    expect(rows.map((r) => [r.name, r.ip, r.status, r.vlan])).toEqual([
      ['g0/2', 'unassigned', 'up', null],
      ['g0/2.20', '10.20.0.1/24', 'up', 20],
      ['g0/2.30', '10.30.0.1/24', 'up', 30],
    ]);
  });

  it('shows interface states and stops forwarding through a shut interface', () => {
    const { engine, r1, h1, h2 } = twoSubnets();
    expect(r1.interfaces().map((i) => [i.name, i.ip, i.status, i.protocol])).toEqual([
      ['g0/0', '10.1.0.1/24', 'up', 'up'],
      ['g0/1', '10.2.0.1/24', 'up', 'up'],
      ['g0/2', 'unassigned', 'down', 'down'],
      ['g0/3', 'unassigned', 'down', 'down'],
    ]);
    r1.setShutdown('g0/1', true);
    expect(r1.interfaces()[1]!.status).toBe('administratively down');
    expect(r1.routes().map((r) => r.prefix)).toEqual(['10.1.0.0/24']);
    h1.send('10.2.0.10', 40000, 'x');
    engine.runFor(1 * S);
    expect(h2.datagrams).toEqual([]);
    expect(h1.errors.map((e) => [e.type, e.code])).toEqual([[3, 0]]);
    r1.setShutdown('g0/1', false);
    h1.send('10.2.0.10', 40000, 'y');
    engine.runFor(5 * S);
    expect(h2.datagrams.map((d) => d.data)).toEqual(['y']);
  });

  it('refuses configurations that cannot work, saying why', () => {
    const engine = new Engine();
    expect(() => routerFrom(engine, { name: 'r', interfaces: [{ name: 'g0/0', ip: '10.1.0.1' }] })).toThrow(/needs a prefix length/);
    expect(() => routerFrom(engine, { name: 'r', routes: [{ to: '10.0.0.0/8' }] })).toThrow(/via/);
    expect(() => routerFrom(engine, { name: 'r', interfaces: [{ name: 'g0/0', aclIn: 'nope' }] })).toThrow(/not defined/);
    expect(() => routerFrom(engine, { name: 'r', acls: { X: ['allow ip any any'] } })).toThrow(/permit or deny/);
    expect(() => routerFrom(engine, { name: 'r', dhcpServer: { pools: [{ interface: 'g0/1' }] } })).toThrow(/no address/);
    expect(() => routerFrom(engine, { name: 'r', nat: { inside: ['g0/1'], outside: 'g0/9' } })).toThrow(/no interface g0\/9/);
  });
});

// ---------------------------------------------------------------- ACLs

describe('router access lists', () => {
  it('an inbound extended list blocks pings to one host and lets the rest through, counting hits', () => {
    const { engine, r1, h1, h2 } = twoSubnets({
      interfaces: [],
      acls: { EDGE: ['deny icmp any host 10.2.0.10 echo', 'permit ip any any'] },
    });
    r1.setAccessGroup('g0/0', 'in', 'EDGE');
    h1.ping('10.2.0.10', 1);
    h1.send('10.2.0.10', 40000, 'udp passes');
    engine.runFor(1 * S);
    expect(h1.replies).toEqual([]);
    expect(h1.errors.map((e) => [e.type, e.code, ip4ToString(e.from)])).toEqual([[3, UNREACH.ADMIN_PROHIBITED, '10.1.0.1']]);
    expect(h2.datagrams.map((d) => d.data)).toEqual(['udp passes']);
    // The router itself is still reachable: the deny names one host.
    h1.ping('10.1.0.1', 2);
    engine.runFor(1 * S);
    expect(h1.replies).toEqual([{ from: '10.1.0.1', seq: 2 }]);
    expect(r1.accessLists()).toEqual([
      'Extended IP access list EDGE',
      '    10 deny icmp any host 10.2.0.10 echo (1 matches)',
      '    20 permit ip any any (2 matches)',
    ]);
  });

  it('an outbound standard list passes only the listed source, with the implicit deny', () => {
    const engine = new Engine({ mode: 'virtual' });
    const r1 = routerFrom(engine, {
      name: 'r1',
      interfaces: [
        { name: 'g0/0', ip: '10.1.0.1/24' },
        { name: 'g0/1', ip: '10.2.0.1/24', aclOut: '10' },
      ],
      acls: { '10': ['permit host 10.1.0.10'] },
    });
    const hub = new Hub(3);
    const good = new TestHost(engine, 'good', '10.1.0.10/24', '10.1.0.1');
    const bad = new TestHost(engine, 'bad', '10.1.0.11/24', '10.1.0.1');
    const h2 = new TestHost(engine, 'h2', '10.2.0.10/24', '10.2.0.1');
    cable(engine, hub.ports[0]!, port(r1, 'g0/0'));
    cable(engine, hub.ports[1]!, good.port);
    cable(engine, hub.ports[2]!, bad.port);
    cable(engine, h2.port, port(r1, 'g0/1'));
    r1.start();
    good.send('10.2.0.10', 40000, 'from good');
    bad.send('10.2.0.10', 40000, 'from bad');
    engine.runFor(1 * S);
    expect(h2.datagrams.map((d) => d.data)).toEqual(['from good']);
    expect(bad.errors.map((e) => [e.code, ip4ToString(e.from), e.quotedTtl])).toEqual([[UNREACH.ADMIN_PROHIBITED, '10.1.0.1', 64]]);
    expect(r1.acls.get('10')!.implicitDenies).toBe(1);
    // The router's own traffic is not filtered outbound.
    const pinger = r1.stack.echo.open({ onEchoReply: () => (ownReplies += 1) }, 7);
    let ownReplies = 0;
    pinger.send(ip('10.2.0.10'), 1, new Uint8Array(8));
    engine.runFor(1 * S);
    expect(ownReplies).toBe(1);
  });
});

// ---------------------------------------------------------------- DHCP

function dhcpLab(pool: Partial<NonNullable<RouterText['dhcpServer']>['pools'][number]>, clients: DhcpTestClient[]) {
  const engine = new Engine({ mode: 'virtual', seed: 11 });
  const r1 = routerFrom(engine, {
    name: 'r1',
    interfaces: [{ name: 'g0/1', ip: '10.1.0.1/24' }],
    dhcpServer: { pools: [{ interface: 'g0/1', range: '10.1.0.100-10.1.0.199', gateway: '10.1.0.1', dns: ['10.1.0.1'], domain: 'lab.test', lease: 3600, ...pool }] },
  });
  const hub = new Hub(clients.length + 1);
  cable(engine, hub.ports[0]!, port(r1, 'g0/1'));
  clients.forEach((c, i) => cable(engine, hub.ports[i + 1]!, c.port));
  r1.start();
  return { engine, r1, clients };
}

/** clients -- g0/1 (and g0/2.30, tagged) relay g0/0 -- 10.9.0.0/24 -- g0/0 server */
function relayLab() {
  const engine = new Engine({ mode: 'virtual', seed: 2 });
  const relay = routerFrom(engine, {
    name: 'relay',
    interfaces: [{ name: 'g0/0', ip: '10.9.0.1/24' }, { name: 'g0/1', ip: '10.1.0.1/24' }, { name: 'g0/2.30', ip: '10.3.0.1/24' }],
    dhcpRelay: { 'g0/1': ['10.9.0.5'], 'g0/2.30': '10.9.0.5' },
  });
  const server = routerFrom(engine, {
    name: 'server',
    interfaces: [{ name: 'g0/0', ip: '10.9.0.5/24' }],
    routes: [
      { to: '10.1.0.0/24', via: '10.9.0.1' },
      { to: '10.3.0.0/24', via: '10.9.0.1' },
    ],
    dhcpServer: {
      pools: [
        { name: 'ten-one', network: '10.1.0.0/24', range: '10.1.0.50-10.1.0.60', gateway: '10.1.0.1' },
        { name: 'ten-three', network: '10.3.0.0/24', range: '10.3.0.50-10.3.0.60', gateway: '10.3.0.1' },
      ],
    },
  });
  const c1 = new DhcpTestClient(0x020000000001);
  const tagged = new Hub(2);
  const c3 = new DhcpTestClient(0x020000000003, undefined, true);
  cable(engine, port(relay, 'g0/0'), port(server, 'g0/0'));
  cable(engine, c1.port, port(relay, 'g0/1'));
  cable(engine, tagged.ports[0]!, port(relay, 'g0/2'));
  // c3 speaks untagged; a tagging shim on the hub stands in for an access port of VLAN 30.
  const shim = new VlanShim(30);
  cable(engine, tagged.ports[1]!, shim.trunk);
  cable(engine, shim.access, c3.port);
  relay.start();
  server.start();
  return { engine, relay, server, c1, c3 };
}

describe('router DHCP server', () => {
  it('leases distinct addresses from the pool with its options; replies unicast or broadcast as the client asked', () => {
    const c1 = new DhcpTestClient(0x020000000001, 'pc1');
    const c2 = new DhcpTestClient(0x020000000002, 'pc2', true);
    const c3 = new DhcpTestClient(0x020000000003, 'pc3');
    const { engine, r1 } = dhcpLab({}, [c1, c2, c3]);
    for (const c of [c1, c2, c3]) c.discover();
    engine.runFor(2 * S);
    expect([c1, c2, c3].map((c) => ip4ToString(c.lease!.ip))).toEqual(['10.1.0.100', '10.1.0.101', '10.1.0.102']);
    const f = c1.lease!.fields;
    expect([f.serverId, f.routers, f.dns, f.domainName, f.leaseTime, f.subnetMask]).toEqual([ip('10.1.0.1'), [ip('10.1.0.1')], [ip('10.1.0.1')], 'lab.test', 3600, ip('255.255.255.0')]);
    // c1 did not set the broadcast flag: OFFER and ACK went to its MAC and the offered address.
    expect(c1.seen.map((s) => [s.type, s.dstMac, ip4ToString(s.dstIp)])).toEqual([
      [DhcpMessageType.OFFER, 0x020000000001, '10.1.0.100'],
      [DhcpMessageType.ACK, 0x020000000001, '10.1.0.100'],
    ]);
    expect(c2.seen.every((s) => s.dstMac === MAC_BROADCAST && s.dstIp === 0xffffffff)).toBe(true);
    expect(r1.dhcpBindings().map((b) => [b.ip, b.mac, b.hostname])).toEqual([
      ['10.1.0.100', '02:00:00:00:00:01', 'pc1'],
      ['10.1.0.101', '02:00:00:00:00:02', 'pc2'],
      ['10.1.0.102', '02:00:00:00:00:03', 'pc3'],
    ]);
  });

  it('gives reserved addresses to their node or MAC only', () => {
    const c1 = new DhcpTestClient(0x020000000001, 'web');
    const c2 = new DhcpTestClient(0x020000000002, 'other');
    const c3 = new DhcpTestClient(0x0200000000cc);
    const { engine } = dhcpLab(
      {
        range: '10.1.0.100-10.1.0.101',
        reservations: [
          { ip: '10.1.0.100', node: 'web' },
          { ip: '10.1.0.50', mac: '02:00:00:00:00:cc' },
        ],
      },
      [c1, c2, c3],
    );
    c2.discover();
    engine.runFor(1 * S);
    c1.discover();
    c3.discover();
    engine.runFor(1 * S);
    expect([c1, c2, c3].map((c) => ip4ToString(c.lease!.ip))).toEqual(['10.1.0.100', '10.1.0.101', '10.1.0.50']);
  });

  it('an exhausted pool leaves the extra client without an offer, and no address is leased twice', () => {
    const clients = [1, 2, 3].map((n) => new DhcpTestClient(0x020000000000 + n));
    const { engine, r1 } = dhcpLab({ range: '10.1.0.100-10.1.0.101' }, clients);
    for (const c of clients) c.discover();
    engine.runFor(2 * S);
    const leased = clients.filter((c) => c.lease !== null).map((c) => c.lease!.ip);
    expect(leased.length).toBe(2);
    expect(new Set(leased).size).toBe(2);
    const left = clients.find((c) => c.lease === null)!;
    expect(left.offers).toBe(0);
    expect(r1.dhcp!.stats.exhausted).toBe(1);
    // Trying again changes nothing.
    left.discover();
    engine.runFor(2 * S);
    expect(left.lease).toBeNull();
    expect(r1.dhcp!.stats.exhausted).toBe(2);
    expect(r1.dhcpBindings().length).toBe(2);
    expect(r1.dhcpPools()).toEqual([{ pool: 'g0/1', network: '10.1.0.0/24', size: 2, leased: 2, held: 0, exhausted: 2 }]);
  });

  it('serves relayed clients from the pool chosen by giaddr, through a relay on another router', () => {
    const { engine, relay, server, c1, c3 } = relayLab();
    c1.discover();
    c3.discover();
    engine.runFor(2 * S);
    expect(ip4ToString(c1.lease!.ip)).toBe('10.1.0.50');
    expect(c1.lease!.fields.routers).toEqual([ip('10.1.0.1')]);
    expect(c1.lease!.fields.serverId).toBe(ip('10.9.0.5'));
    expect(ip4ToString(c3.lease!.ip)).toBe('10.3.0.50');
    // The relay hands replies to the client at its MAC (no broadcast flag) or broadcast (flag set).
    expect(c1.seen.map((s) => s.dstMac)).toEqual([0x020000000001, 0x020000000001]);
    expect(c3.seen.map((s) => s.dstMac)).toEqual([MAC_BROADCAST, MAC_BROADCAST]);
    expect(server.dhcpBindings().map((b) => [b.pool, b.ip])).toEqual([
      ['ten-one', '10.1.0.50'],
      ['ten-three', '10.3.0.50'],
    ]);
    expect(relay.relayStats).toEqual({ toServer: 4, toClient: 4, dropped: 0 });
  });

  it('keeps leases over a restart through exportLeases/importLeases', () => {
    const c1 = new DhcpTestClient(0x020000000001, 'pc1');
    const c2 = new DhcpTestClient(0x020000000002);
    const cfg: RouterText = {
      name: 'r1',
      interfaces: [{ name: 'g0/1', ip: '10.1.0.1/24' }],
      dhcpServer: { pools: [{ interface: 'g0/1', range: '10.1.0.100-10.1.0.199', lease: 3600 }] },
    };
    const engine = new Engine({ mode: 'virtual' });
    const r1 = routerFrom(engine, cfg);
    const hub = new Hub(3);
    cable(engine, hub.ports[0]!, port(r1, 'g0/1'));
    cable(engine, hub.ports[1]!, c1.port);
    cable(engine, hub.ports[2]!, c2.port);
    r1.start();
    c1.discover();
    engine.runFor(1 * S);
    const got = c1.lease!.ip;
    engine.runFor(600 * S);
    r1.stop();
    const saved = JSON.parse(JSON.stringify(r1.exportLeases()));
    // A new node with the same configuration, as a lab restart makes.
    const hub2 = new Hub(3);
    const r1b = routerFrom(engine, cfg);
    cable(engine, hub2.ports[0]!, port(r1b, 'g0/1'));
    hub.ports[1]!.link!.disconnect();
    hub.ports[2]!.link!.disconnect();
    cable(engine, hub2.ports[1]!, c1.port);
    cable(engine, hub2.ports[2]!, c2.port);
    expect(r1b.importLeases(saved)).toBe(1);
    r1b.start();
    expect(r1b.dhcpBindings().map((b) => [b.ip, b.hostname, b.expiresInS])).toEqual([[ip4ToString(got), 'pc1', 2999]]);
    // The newcomer does not get pc1's address, and pc1 keeps it on INIT-REBOOT.
    c2.discover();
    c1.lease = null;
    c1.reboot(got);
    engine.runFor(1 * S);
    expect(c1.lease!.ip).toBe(got);
    expect(c2.lease!.ip).not.toBe(got);
  });
});

/** An access port of one VLAN in front of a trunk: tags what the access side sends, untags the rest. */
class VlanShim implements FrameSink {
  readonly trunk = new Port(this, 'trunk', 0);
  readonly access = new Port(this, 'access', 1);
  constructor(readonly vid: number) {}
  onFrame(p: Port, frame: Uint8Array): void {
    if (p === this.access) {
      const out = new Uint8Array(frame.length + 4);
      out.set(frame.subarray(0, 12));
      put16(out, 12, ETHERTYPE.VLAN);
      put16(out, 14, this.vid);
      out.set(frame.subarray(12), 16);
      this.trunk.send(out);
    } else if (u16(frame, 12) === ETHERTYPE.VLAN && ethVid(frame, 0) === this.vid) {
      const out = new Uint8Array(Math.max(60, frame.length - 4));
      out.set(frame.subarray(0, 12));
      out.set(frame.subarray(16), 12);
      this.access.send(out);
    }
  }
}

// ---------------------------------------------------------------- NAT

/**
 * in1, in2 (10.1.0.0/24) -- g0/1 r1 (NAT) g0/0 203.0.113.2 -- g0/0 r2 g0/1 -- srv 198.51.100.10
 */
function natLab(nat: Partial<NonNullable<RouterText['nat']>> = {}) {
  const engine = new Engine({ mode: 'virtual', seed: 9 });
  const r1 = routerFrom(engine, {
    name: 'r1',
    interfaces: [{ name: 'g0/0', ip: '203.0.113.2/24' }, { name: 'g0/1', ip: '10.1.0.1/24' }],
    routes: [{ to: '0.0.0.0/0', via: '203.0.113.1' }],
    nat: { inside: ['g0/1'], outside: 'g0/0', overload: true, ...nat },
  });
  // r2 knows nothing of 10.1.0.0/24: only translated traffic can come back.
  const r2 = routerFrom(engine, {
    name: 'r2',
    interfaces: [{ name: 'g0/0', ip: '203.0.113.1/24' }, { name: 'g0/1', ip: '198.51.100.1/24' }],
  });
  const hub = new Hub(3);
  const in1 = new TestHost(engine, 'in1', '10.1.0.10/24', '10.1.0.1');
  const in2 = new TestHost(engine, 'in2', '10.1.0.11/24', '10.1.0.1');
  const srv = new TestHost(engine, 'srv', '198.51.100.10/24', '198.51.100.1');
  cable(engine, hub.ports[0]!, port(r1, 'g0/1'));
  cable(engine, hub.ports[1]!, in1.port);
  cable(engine, hub.ports[2]!, in2.port);
  const wan = cable(engine, port(r1, 'g0/0'), port(r2, 'g0/0'));
  cable(engine, port(r2, 'g0/1'), srv.port);
  r1.start();
  r2.start();
  engine.runFor(1 * MS);
  return { engine, r1, r2, in1, in2, srv, wan };
}

describe('router NAT', () => {
  it('overload: two inside hosts reach an outside host that sees only the outside address; replies go back to each', () => {
    const { engine, r1, in1, in2, srv } = natLab();
    in1.ping('198.51.100.10', 1);
    in2.ping('198.51.100.10', 1); // the same echo id and sequence as in1's
    // Linux-like ARP queues 3 datagrams per unresolved neighbour: let it resolve first.
    engine.runFor(1 * MS);
    in1.send('198.51.100.10', 40000, 'ping:one');
    in2.send('198.51.100.10', 40000, 'ping:two');
    engine.runFor(1 * S);
    expect(in1.replies).toEqual([{ from: '198.51.100.10', seq: 1 }]);
    expect(in2.replies).toEqual([{ from: '198.51.100.10', seq: 1 }]);
    expect(new Set(srv.datagrams.map((d) => d.from))).toEqual(new Set(['203.0.113.2']));
    expect(srv.datagrams.map((d) => d.data).sort()).toEqual(['ping:one', 'ping:two']);
    expect(in1.datagrams.map((d) => d.data)).toEqual(['pong:one']);
    expect(in2.datagrams.map((d) => d.data)).toEqual(['pong:two']);
    const rows = r1.natTranslations();
    expect(rows.length).toBe(4);
    expect(rows.every((r) => r.insideGlobal.startsWith('203.0.113.2:'))).toBe(true);
    expect(rows.map((r) => `${r.proto} ${r.insideLocal} ${r.outsideGlobal.split(':')[0]}`).sort()).toEqual([
      'icmp 10.1.0.10:16962 198.51.100.10',
      'icmp 10.1.0.11:16962 198.51.100.10',
      'udp 10.1.0.10:40000 198.51.100.10',
      'udp 10.1.0.11:40000 198.51.100.10',
    ]);
    // Idle entries expire: ICMP after 60 s, UDP after 5 min.
    engine.runFor(61 * S);
    expect(r1.natTranslations().map((r) => r.proto)).toEqual(['udp', 'udp']);
    engine.runFor(300 * S);
    expect(r1.natTranslations()).toEqual([]);
    expect(r1.nat!.size).toBe(0);
    // After expiry the outside host cannot get in on the old mapping.
    srv.send('203.0.113.2', 40000, 'late');
    engine.runFor(1 * S);
    expect(in1.datagrams.length + in2.datagrams.length).toBe(2);
  });

  it('traceroute from inside through NAT sees every hop', () => {
    const { engine, in2, in1 } = natLab();
    in1.send('198.51.100.10', 33434, 'occupy the port first');
    const hops: string[] = [];
    for (let ttl = 1; ttl <= 3; ttl++) {
      in2.errors.length = 0;
      in2.send('198.51.100.10', 33434, 'probe', ttl);
      engine.runFor(1 * S);
      expect(in2.errors.length).toBe(1);
      const e = in2.errors[0]!;
      hops.push(`${ip4ToString(e.from)} ${e.type}/${e.code} quoted ${ip4ToString(e.quotedSrc)}:${e.quotedSrcPort}`);
    }
    expect(hops).toEqual(['10.1.0.1 11/0 quoted 10.1.0.11:40000', '203.0.113.1 11/0 quoted 10.1.0.11:40000', '198.51.100.10 3/3 quoted 10.1.0.11:40000']);
  });

  it('static NAT makes an inside host reachable from outside at its global address', () => {
    const { engine, r1, in1, srv } = natLab({ static: [{ inside: '10.1.0.10', outside: '203.0.113.80' }] });
    // r2 finds 203.0.113.80 on its connected /24 by ARP: r1 answers for its static global address, as IOS does.
    srv.ping('203.0.113.80', 1);
    srv.send('203.0.113.80', 40000, 'ping:hi');
    engine.runFor(5 * S);
    expect(srv.replies).toEqual([{ from: '203.0.113.80', seq: 1 }]);
    expect(srv.datagrams.map((d) => [d.from, d.data])).toEqual([['203.0.113.80', 'pong:hi']]);
    expect(in1.datagrams.map((d) => [d.from, d.data])).toEqual([['198.51.100.10', 'ping:hi']]);
    expect(r1.natTranslations()).toEqual([
      { proto: '---', insideGlobal: '203.0.113.80', insideLocal: '10.1.0.10', outsideLocal: '---', outsideGlobal: '---', expiresInS: -1 },
    ]);
  });
});

// ---------------------------------------------------------------- capture

describe('router frames in Wireshark', () => {
  const tshark = tsharkAvailable();
  it('every frame of a routed, NATed, DHCP-serving lab decodes with no warning and valid checksums', () => {
    if (!tshark.ok) {
      console.warn(`router tshark check skipped: ${tshark.reason}`);
      expect(process.env.CI, 'tshark must be installed in CI').not.toBe('true');
      return;
    }
    const { engine, r1, r2, in1, in2, srv } = natLab({ static: [{ inside: '10.1.0.10', outside: '203.0.113.80' }] });
    const chunks: Uint8Array[] = [];
    const cap = new Capture(engine, { sink: (c) => chunks.push(c) });
    for (const r of [r1, r2]) for (const p of r.ports) if (p.link) cap.attachPort(p, `${r.name} ${p.name}`);
    in1.ping('198.51.100.10', 1);
    in2.ping('198.51.100.10', 1);
    engine.runFor(1 * MS);
    in2.send('198.51.100.10', 40000, 'ping:x');
    for (let ttl = 1; ttl <= 3; ttl++) in2.send('198.51.100.10', 33434 + ttl, 'probe', ttl);
    srv.ping('203.0.113.80', 7);
    in1.ping('8.8.8.8', 2); // r2 has no route: net unreachable comes back through NAT
    engine.runFor(5 * S);
    // DHCP on the same capture: a relay-less pool on a fresh router.
    const d = dhcpLab({}, [new DhcpTestClient(0x020000000001, 'pc1'), new DhcpTestClient(0x020000000002, 'pc2', true)]);
    const cap2Chunks: Uint8Array[] = [];
    const cap2 = new Capture(d.engine, { sink: (c) => cap2Chunks.push(c) });
    for (const p of d.r1.ports) if (p.link) cap2.attachPort(p, `dhcp ${p.name}`);
    for (const c of d.clients) c.discover();
    d.engine.runFor(2 * S);
    expect(d.clients.every((c) => c.lease !== null)).toBe(true);
    const rl = relayLab();
    const cap3Chunks: Uint8Array[] = [];
    const cap3 = new Capture(rl.engine, { sink: (c) => cap3Chunks.push(c) });
    for (const r of [rl.relay, rl.server]) for (const p of r.ports) if (p.link) cap3.attachPort(p, `${r.name} ${p.name}`);
    rl.c1.discover();
    rl.c3.discover();
    rl.engine.runFor(2 * S);
    cap3.close();
    expect(rl.c1.lease !== null && rl.c3.lease !== null).toBe(true);
    cap.close();
    cap2.close();
    expect(in2.errors.length).toBeGreaterThan(0);
    expect(in1.errors.map((e) => [e.type, e.code])).toEqual([[3, 0]]);
    const dir = mkdtempSync(join(tmpdir(), 'wirelab-router-'));
    try {
      for (const [name, data] of [
        ['nat.pcapng', concat(chunks)],
        ['dhcp.pcapng', concat(cap2Chunks)],
        ['relay.pcapng', concat(cap3Chunks)],
      ] as const) {
        const file = join(dir, name);
        writeFileSync(file, data);
        expect(tsharkProblems(file), name).toEqual([]);
        const info = tsharkFields(file, ['_ws.col.Info']).map((r) => r[0]!);
        const wanted =
          name === 'nat.pcapng'
            ? ['Echo (ping) request', 'Echo (ping) reply', 'Time-to-live exceeded', 'Port unreachable', 'Network unreachable', '203.0.113.80 is at']
            : ['DHCP Discover', 'DHCP Offer', 'DHCP Request', 'DHCP ACK'];
        if (name === 'relay.pcapng') {
          const vlans = tsharkFields(file, ['vlan.id']).map((r) => r[0]!).filter((v) => v !== '');
          expect(vlans.length).toBeGreaterThan(0);
          expect(new Set(vlans)).toEqual(new Set(['30']));
        }
        for (const w of wanted) expect(info.some((i) => i.includes(w)), `${name}: ${w}`).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
