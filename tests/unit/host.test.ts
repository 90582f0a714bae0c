import { describe, expect, it } from 'vitest';
import { Engine, Link } from '../../devices/engine/index.js';
import { Host } from '../../devices/host/index.js';
import type { UdpOwner, UdpSocket } from '../../devices/stack/index.js';
import { type Ip4, parseIp4 } from '../../devices/wire/bytes.js';
import { ETHERTYPE } from '../../devices/wire/ethernet.js';
import { ARP_REQUEST, decodeArp } from '../../devices/wire/arp.js';
import { decodeIpv4 } from '../../devices/wire/ipv4.js';
import { hostFrom } from '../helpers/devices.js';

const ip = (s: string): Ip4 => parseIp4(s)!;

/** Records every frame a host sends. */
function sniff(host: Host, ifName = 'eth0'): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const port = host.port(ifName);
  const send = port.send.bind(port);
  port.send = (f: Uint8Array): void => {
    frames.push(f);
    send(f);
  };
  return frames;
}

function etherTypes(frames: Uint8Array[]): number[] {
  return frames.map((f) => (f[12]! << 8) | f[13]!);
}

function run<T extends { isDone: boolean }>(engine: Engine, op: T): T {
  expect(engine.runUntilCondition(() => op.isDone, 120e9)).toBe(true);
  return op;
}

function twoHosts(opts: { delayNs?: number; services?: boolean } = {}): { engine: Engine; a: Host; b: Host; link: Link } {
  const engine = new Engine({ seed: 3 });
  const a = hostFrom(engine, { name: 'pc1', lab: 't', interfaces: { eth0: { ip: '10.0.0.1/24', gateway: '10.0.0.254' } } });
  const b = hostFrom(engine, {
    name: 'pc2',
    lab: 't',
    interfaces: { eth0: { ip: '10.0.0.2/24' } },
    ...(opts.services ? { services: { 'udp-echo': true, dns: { records: { 'www.lab': '10.0.0.2', 'multi.lab': ['10.0.0.7', '10.0.0.8'] } } } } : {}),
  });
  const link = new Link(engine, 'l', a.port(), b.port(), opts.delayNs ? { delayNs: opts.delayNs } : undefined);
  a.start();
  b.start();
  engine.runUntilIdle(1e9);
  return { engine, a, b, link };
}

describe('Host ping', () => {
  it('resolves the neighbour with ARP, then gets replies with the round-trip time of the link', () => {
    const { engine, a, b } = twoHosts({ delayNs: 2e6 });
    const frames = sniff(a);
    const ping = a.ping('10.0.0.2', { count: 3 });
    expect(engine.runUntilCondition(() => ping.isDone, 60e9)).toBe(true);
    const r = ping.result;
    expect(r.transmitted).toBe(3);
    expect(r.received).toBe(3);
    expect(r.probes.map((p) => p.status)).toEqual(['reply', 'reply', 'reply']);
    // The first reply waited for ARP (two round trips), the others for one.
    expect(r.probes.map((p) => p.rttNs)).toEqual([8e6, 4e6, 4e6]);
    expect(r.probes[0]!.ttl).toBe(64);
    expect(r.probes[0]!.bytes).toBe(64);
    expect(r.lines[1]).toBe('64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=8.00 ms');
    expect(r.lines.at(-2)).toBe('3 packets transmitted, 3 received, 0% packet loss');
    // On the wire: one broadcast ARP request for 10.0.0.2, then three echo requests.
    expect(etherTypes(frames)).toEqual([ETHERTYPE.ARP, ETHERTYPE.IPV4, ETHERTYPE.IPV4, ETHERTYPE.IPV4]);
    const req = decodeArp(frames[0]!, 14);
    expect([req.op, req.senderIp, req.targetIp, req.targetMac]).toEqual([ARP_REQUEST, ip('10.0.0.1'), ip('10.0.0.2'), 0]);
    expect(a.stack.arpTable().map((e) => [e.ip, e.mac, e.state])).toEqual([[ip('10.0.0.2'), b.iface().mac, 'reachable']]);
  });

  it('to an address nobody has: three ARP requests a second apart, then Destination Host Unreachable like Linux', () => {
    const { engine, a } = twoHosts();
    const frames = sniff(a);
    const ping = a.ping('10.0.0.99', { count: 2 });
    engine.runUntilCondition(() => ping.isDone, 60e9);
    const r = ping.result;
    expect(r.received).toBe(0);
    expect(r.probes.map((p) => [p.status, p.message, p.from])).toEqual([
      ['error', 'Destination Host Unreachable', ip('10.0.0.1')],
      ['error', 'Destination Host Unreachable', ip('10.0.0.1')],
    ]);
    expect(r.lines).toContain('From 10.0.0.1 icmp_seq=1 Destination Host Unreachable');
    expect(frames.map((f) => [(f[12]! << 8) | f[13]!, f[0]])).toEqual([
      [ETHERTYPE.ARP, 0xff],
      [ETHERTYPE.ARP, 0xff],
      [ETHERTYPE.ARP, 0xff],
    ]);
    expect(a.stack.arpTable()).toEqual([]);
  });

  it('off-link without a gateway answering: the ARP for the gateway fails the same way', () => {
    const { engine, a } = twoHosts();
    const ping = a.ping('192.0.2.1', { count: 1 });
    engine.runUntilCondition(() => ping.isDone, 60e9);
    expect(ping.result.probes[0]!.message).toBe('Destination Host Unreachable');
  });

  it('with no route at all says Network is unreachable and sends nothing', () => {
    const { engine, b } = twoHosts();
    const frames = sniff(b);
    const ping = b.ping('192.0.2.1', { count: 1 });
    engine.runUntilCondition(() => ping.isDone, 10e9);
    expect(ping.result.error).toBe('Network is unreachable');
    expect(ping.result.transmitted).toBe(0);
    expect(frames).toEqual([]);
  });

  it('times out when replies are lost', () => {
    const { engine, a, link } = twoHosts();
    const ping0 = a.ping('10.0.0.2', { count: 1 });
    engine.runUntilCondition(() => ping0.isDone, 10e9);
    link.setImpairments({ loss: 1 }, 0);
    const ping = a.ping('10.0.0.2', { count: 2, timeoutNs: 2e9 });
    engine.runUntilCondition(() => ping.isDone, 60e9);
    expect(ping.result.probes.map((p) => p.status)).toEqual(['timeout', 'timeout']);
    expect(ping.result.lines.at(-1)).toBe('2 packets transmitted, 0 received, 100% packet loss');
  });

  it('a 3000-byte ping goes out in three fragments and the reply is reassembled', () => {
    const { engine, a, b } = twoHosts();
    const frames = sniff(a);
    const framesB = sniff(b);
    const ping = a.ping('10.0.0.2', { count: 1, size: 3000 });
    engine.runUntilCondition(() => ping.isDone, 10e9);
    expect(ping.result.received).toBe(1);
    expect(ping.result.probes[0]!.bytes).toBe(3008);
    const ipFrames = (fs: Uint8Array[]) => fs.filter((f) => ((f[12]! << 8) | f[13]!) === ETHERTYPE.IPV4).map((f) => decodeIpv4(f, 14));
    const out = ipFrames(frames);
    expect(out.map((h) => [h.totalLength, h.mf, h.fragmentOffset])).toEqual([
      [1500, true, 0],
      [1500, true, 1480],
      [68, false, 2960],
    ]);
    expect(ipFrames(framesB).map((h) => h.totalLength)).toEqual([1500, 1500, 68]);
    expect(a.stack.stats.ipReassembled).toBe(1);
    expect(b.stack.stats.ipReassembled).toBe(1);
  });

  it('pings itself through loopback without touching the wire', () => {
    const { engine, a } = twoHosts();
    const frames = sniff(a);
    const ping = a.ping('10.0.0.1', { count: 1 });
    engine.runUntilCondition(() => ping.isDone, 10e9);
    expect(ping.result.probes[0]!.status).toBe('reply');
    expect(ping.result.probes[0]!.rttNs).toBe(0);
    expect(frames).toEqual([]);
  });
});

describe('Host addressing', () => {
  it('announces a new static address with a gratuitous ARP, and neighbours update their cache', () => {
    const { engine, a, b } = twoHosts();
    const ping = b.ping('10.0.0.1', { count: 1 });
    engine.runUntilCondition(() => ping.isDone, 10e9);
    const frames = sniff(a);
    // Same address, new MAC would be a NIC swap; here pc1 moves to another address.
    a.setStatic('eth0', ip('10.0.0.11'), 24, ip('10.0.0.254'));
    engine.runUntilIdle(1e9);
    expect(frames.length).toBe(1);
    const g = decodeArp(frames[0]!, 14);
    expect(frames[0]![0]).toBe(0xff);
    expect([g.op, g.senderIp, g.targetIp, g.senderMac, g.targetMac]).toEqual([ARP_REQUEST, ip('10.0.0.11'), ip('10.0.0.11'), a.iface().mac, 0]);
    expect(a.address()).toBe('10.0.0.11/24');
    expect(a.showIp()[0]).toMatchObject({ ip: ip('10.0.0.11'), prefix: 24, gateway: ip('10.0.0.254'), mode: 'static' });
  });

  it('start announces static addresses; stop forgets the ARP cache and cancels timers', () => {
    const engine = new Engine();
    const a = hostFrom(engine, { name: 'a', interfaces: { eth0: { ip: '10.0.0.1/24' } } });
    const b = hostFrom(engine, { name: 'b', interfaces: { eth0: { ip: '10.0.0.2/24' } } });
    new Link(engine, 'l', a.port(), b.port());
    const frames = sniff(a);
    a.start();
    b.start();
    expect(frames.length).toBe(1);
    expect(decodeArp(frames[0]!, 14).targetIp).toBe(ip('10.0.0.1'));
    const ping = a.ping('10.0.0.2', { count: 1 });
    engine.runUntilCondition(() => ping.isDone, 10e9);
    expect(a.stack.arpTable().length).toBe(1);
    const long = a.ping('10.0.0.2', { count: 100 });
    engine.runFor(2.5e9);
    a.stop();
    b.stop();
    expect(long.isDone).toBe(true);
    expect(a.stack.arpTable()).toEqual([]);
    expect(engine.pendingTimers).toBe(0);
  });
});

class Client implements UdpOwner {
  got: { from: Ip4; port: number; text: string }[] = [];
  onDatagram(_s: UdpSocket, from: Ip4, port: number, p: Uint8Array): void {
    this.got.push({ from, port, text: new TextDecoder().decode(p) });
  }
}

describe('Host services', () => {
  it('udp-echo sends datagrams back on port 7', () => {
    const { engine, a, b } = twoHosts({ services: true });
    const c = new Client();
    const s = a.stack.udp.bind(c, 40000);
    s.sendTo(ip('10.0.0.2'), 7, new TextEncoder().encode('hello lab'));
    engine.runUntilIdle(10e9);
    expect(c.got).toEqual([{ from: ip('10.0.0.2'), port: 7, text: 'hello lab' }]);
    expect(b.udpEcho!.echoed).toBe(1);
  });

  it('dns answers A records, NXDOMAIN otherwise; ping and traceroute take names', () => {
    const { engine, a } = twoHosts({ services: true });
    a.dnsServers = [ip('10.0.0.2')];
    const ok = a.resolve('WWW.lab.');
    const multi = a.resolve('multi.lab');
    const nx = a.resolve('nope.lab');
    engine.runUntilCondition(() => ok.isDone && nx.isDone && multi.isDone, 30e9);
    expect(ok.result).toMatchObject({ addresses: [ip('10.0.0.2')], error: null, server: ip('10.0.0.2') });
    expect(multi.result.addresses).toEqual([ip('10.0.0.7'), ip('10.0.0.8')]);
    expect(nx.result).toMatchObject({ addresses: [], error: 'NXDOMAIN' });
    const ping = a.ping('www.lab', { count: 1 });
    engine.runUntilCondition(() => ping.isDone, 30e9);
    expect(ping.result.dst).toBe(ip('10.0.0.2'));
    expect(ping.result.received).toBe(1);
    expect(ping.result.lines[0]).toBe('PING www.lab (10.0.0.2) 56(84) bytes of data.');
    const bad = a.ping('nope.lab', { count: 1 });
    engine.runUntilCondition(() => bad.isDone, 30e9);
    expect(bad.result.error).toBe('unknown host (NXDOMAIN)');
  });

  it('a name server that does not run DNS answers port unreachable; the resolver gives up', () => {
    const { engine, a } = twoHosts();
    a.dnsServers = [ip('10.0.0.2')];
    const q = a.resolve('www.lab');
    engine.runUntilCondition(() => q.isDone, 60e9);
    expect(q.result.error).toBe('Destination Port Unreachable');
  });

  it('VPCS-style UDP ping (-P 17): replies from udp-echo, port unreachable where nothing listens', () => {
    const { engine, a } = twoHosts({ services: true });
    const ok = run(engine, a.ping('10.0.0.2', { protocol: 'udp', count: 3 }));
    expect(ok.result.probes.map((p) => [p.seq, p.status, p.bytes])).toEqual([
      [1, 'reply', 64],
      [2, 'reply', 64],
      [3, 'reply', 64],
    ]);
    expect(ok.result.lines[1]).toMatch(/^64 bytes from 10\.0\.0\.2: udp_seq=1 ttl=64 time=/);
    const closed = run(engine, a.ping('10.0.0.2', { protocol: 'udp', port: 9, count: 2 }));
    expect(closed.result.received).toBe(0);
    expect(closed.result.probes.map((p) => [p.seq, p.status, p.message])).toEqual([
      [1, 'error', 'Destination Port Unreachable'],
      [2, 'error', 'Destination Port Unreachable'],
    ]);
  });

  it('traceroute to a neighbour: one hop; a UDP answer on the probe port also counts as reaching it', () => {
    const { engine, a } = twoHosts({ services: true });
    const t = run(engine, a.traceroute('10.0.0.2'));
    expect(t.path).toEqual([ip('10.0.0.2')]);
    expect(t.result.reached).toBe(true);
    const echoPort = run(engine, a.traceroute('10.0.0.2', { port: 7, probes: 1 }));
    expect(echoPort.result).toMatchObject({ reached: true, hops: [{ ttl: 1, probes: [{ from: ip('10.0.0.2'), annotation: '' }] }] });
  });

  it('a hosts-table name needs no DNS', () => {
    const engine = new Engine();
    const a = hostFrom(engine, { name: 'a', interfaces: { eth0: { ip: '10.0.0.1/24' } }, hosts: { me: '10.0.0.1' } });
    a.start();
    const ping = a.ping('me', { count: 1 });
    engine.runUntilCondition(() => ping.isDone, 10e9);
    expect(ping.result.received).toBe(1);
  });
});
