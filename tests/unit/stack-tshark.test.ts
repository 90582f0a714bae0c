/**
 * Every kind of frame the stack and the host put on a wire, captured to pcapng and read by
 * tshark: no malformed frame, no expert warning, every IPv4 and UDP checksum valid. The traffic
 * avoids what Wireshark rightly warns about in a healthy network (echo requests left without
 * reply), so unreachable cases use UDP as traceroute does.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Capture, Engine, Link, Port, type FrameSink } from '../../devices/engine/index.js';
import { IpStack, type UdpOwner } from '../../devices/stack/index.js';
import { type Ip4, MAC_BROADCAST, parseIp4, prefixToMask } from '../../devices/wire/bytes.js';
import {
  BOOTREPLY,
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  DhcpMessageType,
  decodeDhcp,
  dhcpEncodingLength,
  dhcpOptionsFrom,
  encodeDhcp,
  readDhcpFields,
} from '../../devices/wire/dhcp.js';
import { ETHERTYPE, buildEthernetFrame, decodeEthernet, popVlanTag, pushVlanTag } from '../../devices/wire/ethernet.js';
import { IPPROTO, buildIpv4Packet, decodeIpv4 } from '../../devices/wire/ipv4.js';
import { ARP_REPLY, ARP_REQUEST, buildArpFrame, decodeArp } from '../../devices/wire/arp.js';
import { decodeUdp, encodeUdp } from '../../devices/wire/udp.js';
import { concat } from '../helpers/pcapng.js';
import { tsharkAvailable, tsharkFields, tsharkProblems } from '../helpers/tshark.js';
import { hostFrom } from '../helpers/devices.js';

const ip = (s: string): Ip4 => parseIp4(s)!;
const tshark = tsharkAvailable();

/** Just enough of a DHCP server for one DORA and a RELEASE. */
class MiniDhcpServer implements FrameSink {
  readonly port = new Port(this, 'srv', 0);
  readonly ip = ip('10.5.0.1');
  readonly mac = 0x0200000005fe;
  onFrame(_p: Port, frame: Uint8Array): void {
    const eth = decodeEthernet(frame);
    if (eth.etherType === ETHERTYPE.ARP) {
      const a = decodeArp(frame, eth.payloadOffset);
      if (a.op === ARP_REQUEST && a.targetIp === this.ip) {
        this.port.send(buildArpFrame({ op: ARP_REPLY, senderMac: this.mac, senderIp: this.ip, targetMac: a.senderMac, targetIp: a.senderIp }));
      }
      return;
    }
    if (eth.etherType !== ETHERTYPE.IPV4) return;
    const h = decodeIpv4(frame, eth.payloadOffset);
    if (h.protocol !== IPPROTO.UDP) return;
    const u = decodeUdp(frame, h.payloadOffset, h.payloadLength);
    if (u.dstPort !== DHCP_SERVER_PORT) return;
    const req = decodeDhcp(frame, u.payloadOffset, u.payloadLength);
    const t = readDhcpFields(req.options).messageType;
    const reply = t === DhcpMessageType.DISCOVER ? DhcpMessageType.OFFER : t === DhcpMessageType.REQUEST ? DhcpMessageType.ACK : 0;
    if (reply === 0) return;
    const yiaddr = ip('10.5.0.100');
    const msg = {
      op: BOOTREPLY,
      xid: req.xid,
      chaddr: req.chaddr,
      yiaddr,
      siaddr: this.ip,
      options: dhcpOptionsFrom({ messageType: reply, serverId: this.ip, leaseTime: 3600, subnetMask: prefixToMask(24), routers: [this.ip] }),
    };
    const dhcp = new Uint8Array(dhcpEncodingLength(msg));
    encodeDhcp(msg, dhcp, 0);
    const udp = new Uint8Array(8 + dhcp.length);
    encodeUdp({ srcPort: DHCP_SERVER_PORT, dstPort: DHCP_CLIENT_PORT, payload: dhcp }, udp, 0, this.ip, yiaddr);
    const packet = buildIpv4Packet({ src: this.ip, dst: yiaddr, protocol: IPPROTO.UDP }, udp);
    this.port.send(buildEthernetFrame({ dst: req.chaddr === 0 ? MAC_BROADCAST : req.chaddr, src: this.mac, tags: [], etherType: ETHERTYPE.IPV4 }, packet));
  }
}

/** Access port for VLAN 20 on one side, trunk on the other. */
class Tagger implements FrameSink {
  readonly trunk = new Port(this, 'trunk', 0);
  readonly access = new Port(this, 'access', 1);
  onFrame(port: Port, frame: Uint8Array): void {
    if (port === this.trunk) this.access.send(popVlanTag(frame));
    else this.trunk.send(pushVlanTag(frame, 20));
  }
}

class RouterBox implements FrameSink {
  readonly stack: IpStack;
  readonly g0: Port;
  readonly g1: Port;
  constructor(engine: Engine) {
    this.stack = new IpStack(engine, { name: 'r', forwarding: true });
    this.g0 = new Port(this, 'g0/0', 0);
    this.g1 = new Port(this, 'g0/1', 1);
    const i0 = this.stack.addInterface(this.g0, { mac: 0x02cc00000000 });
    const i1 = this.stack.addInterface(this.g1, { mac: 0x02cc00000001, vlan: 20 });
    this.stack.setAddresses(i0, [{ ip: ip('10.1.0.1'), prefix: 24 }]);
    this.stack.setAddresses(i1, [{ ip: ip('10.2.0.1'), prefix: 24 }]);
  }
  onFrame(port: Port, frame: Uint8Array): void {
    this.stack.onFrame(port, frame);
  }
}

/** One pcapng per link, as a user captures a link: one file with every link would show each forwarded datagram thrice. */
function scenario(): { files: Map<string, Uint8Array>; frames: number } {
  const engine = new Engine({ seed: 42 });
  const captures = new Map<string, { cap: Capture; chunks: Uint8Array[] }>();
  const cap = {
    attachLink(link: Link): void {
      const chunks: Uint8Array[] = [];
      const c = new Capture(engine, { sink: (x) => chunks.push(x) });
      c.attachLink(link);
      captures.set(link.id, { cap: c, chunks });
    },
  };
  const a = hostFrom(engine, { name: 'a', lab: 'x', interfaces: { eth0: { ip: '10.1.0.10/24', gateway: '10.1.0.1' } }, dns: ['10.2.0.20'] });
  const b = hostFrom(engine, {
    name: 'b',
    lab: 'x',
    interfaces: { eth0: { ip: '10.2.0.20/24', gateway: '10.2.0.1' } },
    services: { 'udp-echo': true, dns: { records: { 'www.lab': '10.2.0.20' } } },
  });
  const c = hostFrom(engine, { name: 'c', lab: 'x', interfaces: { eth0: { ip: 'dhcp' } } });
  const r = new RouterBox(engine);
  const sw = new Tagger();
  const srv = new MiniDhcpServer();
  cap.attachLink(new Link(engine, 'a-r', a.port(), r.g0));
  cap.attachLink(new Link(engine, 'r-trunk', r.g1, sw.trunk));
  cap.attachLink(new Link(engine, 'sw-b', sw.access, b.port()));
  cap.attachLink(new Link(engine, 'c-srv', c.port(), srv.port));
  for (const d of [a, b, c, r.stack]) d.start();
  const done = <T extends { isDone: boolean }>(op: T): T => {
    expect(engine.runUntilCondition(() => op.isDone, 300e9)).toBe(true);
    return op;
  };
  expect(engine.runUntilCondition(() => c.settled, 60e9)).toBe(true);
  expect(c.dhcpStatus()!.bound).toBe(true);
  expect(done(a.ping('10.2.0.20', { count: 2 })).result.received).toBe(2);
  expect(done(a.ping('10.2.0.20', { count: 1, size: 3000 })).result.received).toBe(1);
  expect(done(a.traceroute('10.2.0.20')).result.reached).toBe(true);
  expect(done(a.resolve('www.lab')).result.addresses).toEqual([ip('10.2.0.20')]);
  expect(done(a.resolve('nope.lab')).result.error).toBe('NXDOMAIN');
  const quiet: UdpOwner = { onDatagram() {} };
  const s = a.stack.udp.bind(quiet, 41000);
  s.sendTo(ip('10.2.0.20'), 7, new TextEncoder().encode('echo me'));
  s.sendTo(ip('10.2.0.99'), 33434, new Uint8Array(12)); // host unreachable from r
  s.sendTo(ip('10.9.0.1'), 33434, new Uint8Array(12)); // net unreachable from r
  engine.runFor(5e9);
  r.stack.setMtu(r.stack.interfaces[1]!, 1400);
  s.sendTo(ip('10.2.0.20'), 7, new Uint8Array(1450), { df: true }); // fragmentation needed
  engine.runFor(1e9);
  // 40 s later the neighbours are stale: the next ping re-checks them with unicast ARP.
  engine.runFor(40e9);
  expect(done(a.ping('10.2.0.20', { count: 1 })).result.received).toBe(1);
  engine.runFor(10e9);
  c.releaseDhcp();
  a.setStatic('eth0', ip('10.1.0.11'), 24, ip('10.1.0.1')); // gratuitous ARP
  engine.runUntilIdle(120e9);
  const files = new Map<string, Uint8Array>();
  let frames = 0;
  for (const [id, { cap: c, chunks }] of captures) {
    c.close();
    frames += c.frames;
    files.set(id, concat(chunks));
  }
  return { files, frames };
}

describe('tshark reads every frame the stack and hosts send', () => {
  it.skipIf(!tshark.ok)('with no malformed frame, no warning, valid IPv4 and UDP checksums', () => {
    const { files, frames } = scenario();
    expect(frames).toBeGreaterThan(80);
    const dir = mkdtempSync(join(tmpdir(), 'wirelab-stack-'));
    try {
      const rows: string[][] = [];
      for (const [id, bytes] of files) {
        const file = join(dir, `${id}.pcapng`);
        writeFileSync(file, bytes);
        expect(tsharkProblems(file), `tshark on link ${id}`).toEqual([]);
        rows.push(...tsharkFields(file, ['_ws.col.Protocol', '_ws.col.Info']));
      }
      const protocols = new Set(rows.map((r) => r[0]));
      for (const p of ['ARP', 'ICMP', 'DNS', 'DHCP', 'ECHO', 'UDP', 'IPv4']) expect(protocols).toContain(p);
      const info = rows.map((r) => r[1]!).join('\n');
      for (const text of [
        'Time-to-live exceeded',
        'Destination unreachable (Port unreachable)',
        'Destination unreachable (Host unreachable)',
        'Destination unreachable (Network unreachable)',
        'Destination unreachable (Fragmentation needed)',
        'DHCP Discover',
        'DHCP Release',
        'ARP Announcement for 10.1.0.11',
        'No such name',
      ]) {
        expect(info).toContain(text);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports why it is skipped', () => {
    if (!tshark.ok) {
      console.warn(`tshark check skipped: ${tshark.reason}`);
      expect(process.env.CI, 'tshark must be installed in CI').not.toBe('true');
    }
  });

  it('the scenario is deterministic: the same seed gives the same bytes', () => {
    const one = scenario().files;
    const two = scenario().files;
    for (const [id, bytes] of one) expect(Buffer.from(bytes).equals(Buffer.from(two.get(id)!)), id).toBe(true);
  });
});
