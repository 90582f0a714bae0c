/**
 * The host's DHCP client against a scripted server: a bare FrameSink that answers with the dhcp
 * codec, so every step of RFC 2131's state machine can be provoked and watched on the wire.
 */
import { describe, expect, it } from 'vitest';
import { Engine, Link, Port, type FrameSink } from '../../devices/engine/index.js';
import { Host } from '../../devices/host/index.js';
import { ARP_REPLY, ARP_REQUEST, buildArpFrame, decodeArp } from '../../devices/wire/arp.js';
import { type Ip4, MAC_BROADCAST, ip4ToString, parseIp4, prefixToMask } from '../../devices/wire/bytes.js';
import {
  BOOTREPLY,
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  DhcpMessageType,
  type DhcpFields,
  type DhcpMessage,
  decodeDhcp,
  dhcpEncodingLength,
  dhcpOptionsFrom,
  encodeDhcp,
  readDhcpFields,
} from '../../devices/wire/dhcp.js';
import { ETHERTYPE, buildEthernetFrame, decodeEthernet } from '../../devices/wire/ethernet.js';
import { IPPROTO, buildIpv4Packet, decodeIpv4 } from '../../devices/wire/ipv4.js';
import { decodeUdp, encodeUdp } from '../../devices/wire/udp.js';

const ip = (s: string): Ip4 => parseIp4(s)!;
const SERVER_IP = ip('10.0.0.1');
const SERVER_MAC = 0x0200000000fe;

interface Seen {
  at: number;
  type: string;
  srcIp: Ip4;
  dstIp: Ip4;
  dstMac: number;
  srcPort: number;
  dstPort: number;
  msg: DhcpMessage;
  f: DhcpFields;
}

/** Answers DISCOVER and REQUEST like a plain server, unless told to keep quiet or to NAK. */
class ScriptedServer implements FrameSink {
  readonly port = new Port(this, 'srv', 0);
  seen: Seen[] = [];
  answer = true;
  nak = false;
  leaseSeconds = 1000;
  offer = ip('10.0.0.100');

  constructor(readonly engine: Engine) {}

  onFrame(_port: Port, frame: Uint8Array): void {
    const eth = decodeEthernet(frame);
    if (eth.etherType === ETHERTYPE.ARP) {
      const a = decodeArp(frame, eth.payloadOffset);
      if (a.op === ARP_REQUEST && a.targetIp === SERVER_IP) {
        this.port.send(buildArpFrame({ op: ARP_REPLY, senderMac: SERVER_MAC, senderIp: SERVER_IP, targetMac: a.senderMac, targetIp: a.senderIp }));
      }
      return;
    }
    if (eth.etherType !== ETHERTYPE.IPV4) return;
    const h = decodeIpv4(frame, eth.payloadOffset);
    if (h.protocol !== IPPROTO.UDP) return;
    const u = decodeUdp(frame, h.payloadOffset, h.payloadLength);
    if (u.dstPort !== DHCP_SERVER_PORT) return;
    const msg = decodeDhcp(frame, u.payloadOffset, u.payloadLength);
    const f = readDhcpFields(msg.options);
    const type = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'][f.messageType!]!;
    this.seen.push({ at: this.engine.now, type, srcIp: h.src, dstIp: h.dst, dstMac: eth.dst, srcPort: u.srcPort, dstPort: u.dstPort, msg, f });
    if (!this.answer) return;
    if (type === 'DISCOVER') this.reply(msg, DhcpMessageType.OFFER, this.offer);
    else if (type === 'REQUEST') {
      if (this.nak) this.reply(msg, DhcpMessageType.NAK, 0);
      else this.reply(msg, DhcpMessageType.ACK, msg.ciaddr || f.requestedIp!);
    }
  }

  private reply(req: DhcpMessage, type: number, yiaddr: Ip4): void {
    const fields: DhcpFields =
      type === DhcpMessageType.NAK
        ? { messageType: type, serverId: SERVER_IP, message: 'wrong network' }
        : {
            messageType: type,
            serverId: SERVER_IP,
            leaseTime: this.leaseSeconds,
            subnetMask: prefixToMask(24),
            routers: [SERVER_IP],
            dns: [ip('10.0.0.53')],
          };
    const msg = { op: BOOTREPLY, xid: req.xid, chaddr: req.chaddr, yiaddr, ciaddr: req.ciaddr, options: dhcpOptionsFrom(fields) };
    const dhcp = new Uint8Array(dhcpEncodingLength(msg));
    encodeDhcp(msg, dhcp, 0);
    // RFC 2131 4.1: NAKs are broadcast; with ciaddr set unicast to it; else to yiaddr at chaddr.
    let dstIp = yiaddr;
    let dstMac = req.chaddr;
    if (type === DhcpMessageType.NAK) {
      dstIp = 0xffffffff;
      dstMac = MAC_BROADCAST;
    } else if (req.ciaddr !== 0) dstIp = req.ciaddr;
    const udp = new Uint8Array(8 + dhcp.length);
    encodeUdp({ srcPort: DHCP_SERVER_PORT, dstPort: DHCP_CLIENT_PORT, payload: dhcp }, udp, 0, SERVER_IP, dstIp);
    const packet = buildIpv4Packet({ src: SERVER_IP, dst: dstIp, protocol: IPPROTO.UDP }, udp);
    this.port.send(buildEthernetFrame({ dst: dstMac, src: SERVER_MAC, tags: [], etherType: ETHERTYPE.IPV4 }, packet));
  }

  types(): string[] {
    return this.seen.map((s) => s.type);
  }
}

function setup(seed = 5): { engine: Engine; host: Host; server: ScriptedServer } {
  const engine = new Engine({ seed });
  const host = new Host(engine, { name: 'pc1', lab: 'dhcp', interfaces: { eth0: { ip: 'dhcp' } } });
  const server = new ScriptedServer(engine);
  new Link(engine, 'l', host.port(), server.port);
  return { engine, host, server };
}

function boot(engine: Engine, host: Host): void {
  host.start();
  expect(engine.runUntilCondition(() => host.settled, 120e9)).toBe(true);
}

describe('DHCP client', () => {
  it('DISCOVER, OFFER, REQUEST, ACK: binds the address, gateway and name server', () => {
    const { engine, host, server } = setup();
    boot(engine, host);
    expect(server.types()).toEqual(['DISCOVER', 'REQUEST']);
    const [d, r] = server.seen as [Seen, Seen];
    expect([d.srcIp, d.dstIp, d.dstMac, d.srcPort, d.dstPort]).toEqual([0, 0xffffffff, MAC_BROADCAST, 68, 67]);
    expect(d.msg.flags).toBe(0);
    expect(d.msg.chaddr).toBe(host.iface().mac);
    expect(d.f.clientId).toEqual(Uint8Array.of(1, ...macBytes(host.iface().mac)));
    expect(d.f.hostname).toBe('pc1');
    expect(d.f.parameterRequestList).toEqual([1, 3, 6, 15, 51, 58, 59]);
    expect([r.f.requestedIp, r.f.serverId, r.msg.ciaddr, r.msg.xid]).toEqual([ip('10.0.0.100'), SERVER_IP, 0, d.msg.xid]);
    const st = host.dhcpStatus()!;
    expect(st).toMatchObject({ state: 'bound', bound: true, gaveUp: false });
    expect(st.lease).toMatchObject({ ip: ip('10.0.0.100'), prefix: 24, serverId: SERVER_IP, routers: [SERVER_IP], dns: [ip('10.0.0.53')], leaseSeconds: 1000, t1Seconds: 500, t2Seconds: 875 });
    expect(host.address()).toBe('10.0.0.100/24');
    expect(host.showIp()[0]).toMatchObject({ gateway: SERVER_IP, mode: 'dhcp' });
    expect(host.nameservers()).toEqual([ip('10.0.0.53')]);
    expect(host.dhcp()!.history.map((e) => e.event)).toEqual(['DISCOVER', 'OFFER 10.0.0.100 from 10.0.0.1', 'REQUEST', 'ACK 10.0.0.100/24 gw 10.0.0.1 lease 1000s']);
    // The bound host reaches the server (the unicast OFFER came before it had an address).
    const ping = host.ping(ip4ToString(SERVER_IP), { count: 1 });
    engine.runUntilCondition(() => ping.isDone, 10e9);
    expect(ping.result.received).toBe(0); // the scripted server does not answer pings...
    expect(host.stack.arpLookup(host.iface(), SERVER_IP)).toBe(SERVER_MAC); // ...but ARP works.
  });

  it('renews at T1 with a unicast REQUEST to the server and keeps the address', () => {
    const { engine, host, server } = setup();
    boot(engine, host);
    const start = host.dhcpStatus()!.lease!.startNs;
    server.seen = [];
    engine.runUntil(start + 499e9);
    expect(server.seen).toEqual([]);
    engine.runUntil(start + 501e9);
    expect(server.types()).toEqual(['REQUEST']);
    const r = server.seen[0]!;
    expect([r.srcIp, r.dstIp, r.dstMac, r.msg.ciaddr, r.f.requestedIp, r.f.serverId]).toEqual([
      ip('10.0.0.100'),
      SERVER_IP,
      SERVER_MAC,
      ip('10.0.0.100'),
      undefined,
      undefined,
    ]);
    expect(r.at).toBe(start + 500e9);
    const st = host.dhcpStatus()!;
    expect(st.state).toBe('bound');
    expect(st.lease!.startNs).toBe(start + 500e9);
    expect(host.address()).toBe('10.0.0.100/24');
  });

  it('rebinds at T2 with a broadcast when the server stops answering renewals', () => {
    const { engine, host, server } = setup();
    boot(engine, host);
    const start = host.dhcpStatus()!.lease!.startNs;
    server.answer = false;
    server.seen = [];
    engine.runUntil(start + 874e9);
    expect(host.dhcpStatus()!.state).toBe('renewing');
    // RFC 2131 4.4.5: retransmit after half the time left until T2, down to 60 s, none past T2.
    expect(server.seen.map((s) => [s.type, s.at - start, s.dstIp])).toEqual([
      ['REQUEST', 500e9, SERVER_IP],
      ['REQUEST', 687.5e9, SERVER_IP],
      ['REQUEST', 781.25e9, SERVER_IP],
      ['REQUEST', 841.25e9, SERVER_IP],
    ]);
    server.answer = true;
    engine.runUntil(start + 876e9);
    const rebind = server.seen[4]!;
    expect([rebind.type, rebind.at - start, rebind.srcIp, rebind.dstIp, rebind.dstMac, rebind.msg.ciaddr]).toEqual([
      'REQUEST',
      875e9,
      ip('10.0.0.100'),
      0xffffffff,
      MAC_BROADCAST,
      ip('10.0.0.100'),
    ]);
    expect(host.dhcpStatus()!.state).toBe('bound');
    expect(host.dhcp()!.history.map((e) => e.event).slice(4)).toEqual([
      'RENEWING',
      'REQUEST (renewing)',
      'REQUEST (renewing)',
      'REQUEST (renewing)',
      'REQUEST (renewing)',
      'REBINDING',
      'REQUEST (rebinding)',
      'ACK 10.0.0.100/24 gw 10.0.0.1 lease 1000s',
    ]);
  });

  it('drops the address when the lease expires and starts over with DISCOVER', () => {
    const { engine, host, server } = setup();
    boot(engine, host);
    const start = host.dhcpStatus()!.lease!.startNs;
    server.answer = false;
    engine.runUntil(start + 999e9);
    expect(host.dhcpStatus()!.state).toBe('rebinding');
    expect(host.address()).toBe('10.0.0.100/24');
    server.seen = [];
    engine.runUntil(start + 1000e9);
    expect(host.address()).toBe('');
    expect(host.showIp()[0]!.gateway).toBe(0);
    expect(host.dhcpStatus()).toMatchObject({ state: 'selecting', bound: false, lease: null });
    expect(server.types()).toEqual(['DISCOVER']);
    expect(host.dhcp()!.history.some((e) => e.event === 'EXPIRED 10.0.0.100')).toBe(true);
    // Nothing answers, so after the retransmissions it gives up and says so.
    expect(engine.runUntilCondition(() => host.dhcpStatus()!.gaveUp, 600e9)).toBe(true);
  });

  it('a NAK to the REQUEST sends the client back to DISCOVER after a backoff; a NAK while renewing drops the address', () => {
    const { engine, host, server } = setup();
    server.nak = true;
    host.start();
    expect(engine.runUntilCondition(() => host.settled, 300e9)).toBe(true);
    expect(server.types()).toEqual(['DISCOVER', 'REQUEST', 'DISCOVER', 'REQUEST', 'DISCOVER', 'REQUEST']);
    const at = server.seen.map((s) => s.at / 1e9);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(3);
    expect(at[4]! - at[3]!).toBeGreaterThanOrEqual(7);
    expect(host.dhcp()!.history.filter((e) => e.event === 'NAK (wrong network)').length).toBe(3);
    expect(host.dhcpStatus()).toMatchObject({ state: 'failed', gaveUp: true });
    expect(host.address()).toBe('');
    server.nak = false;
    host.useDhcp('eth0');
    engine.runUntilCondition(() => host.settled, 60e9);
    expect(host.address()).toBe('10.0.0.100/24');
    const start = host.dhcpStatus()!.lease!.startNs;
    server.nak = true;
    engine.runUntil(start + 500e9);
    expect(host.address()).toBe('');
    expect(host.showIp()[0]!.gateway).toBe(0);
    expect(host.dhcpStatus()!.state).toBe('init');
    server.nak = false;
    expect(engine.runUntilCondition(() => host.dhcpStatus()!.bound, 60e9)).toBe(true);
    expect(host.address()).toBe('10.0.0.100/24');
  });

  it('gives up after a bounded number of DISCOVERs with backoff 4 s, 8 s, 16 s, 32 s (+/- 1 s)', () => {
    const { engine, host, server } = setup();
    server.answer = false;
    host.start();
    expect(host.settled).toBe(false);
    expect(engine.runUntilCondition(() => host.settled, 600e9)).toBe(true);
    expect(host.dhcpStatus()).toMatchObject({ state: 'failed', gaveUp: true, bound: false, lease: null });
    const at = server.seen.map((s) => s.at / 1e9);
    expect(server.types()).toEqual(['DISCOVER', 'DISCOVER', 'DISCOVER', 'DISCOVER', 'DISCOVER']);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    [4, 8, 16, 32].forEach((base, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(base - 1);
      expect(gaps[i]).toBeLessThanOrEqual(base + 1);
    });
    // secs counts from the first DISCOVER (RFC 2131 4.4.1); all share one xid.
    expect(server.seen.map((s) => s.msg.secs)).toEqual(at.map((t) => Math.floor(t - at[0]!)));
    expect(new Set(server.seen.map((s) => s.msg.xid)).size).toBe(1);
  });

  it('release() sends DHCPRELEASE to the server and forgets the address', () => {
    const { engine, host, server } = setup();
    boot(engine, host);
    server.seen = [];
    expect(host.releaseDhcp()).toBe(true);
    engine.runUntilIdle(10e9);
    expect(server.types()).toEqual(['RELEASE']);
    const r = server.seen[0]!;
    expect([r.srcIp, r.dstIp, r.msg.ciaddr, r.f.serverId]).toEqual([ip('10.0.0.100'), SERVER_IP, ip('10.0.0.100'), SERVER_IP]);
    expect(host.address()).toBe('');
    expect(host.dhcpStatus()!.state).toBe('stopped');
    expect(engine.pendingTimers).toBe(0);
  });

  it('INIT-REBOOT asks for the previous address with a broadcast REQUEST and no server id', () => {
    const { engine, host, server } = setup();
    host.start();
    host.useDhcp('eth0', ip('10.0.0.100'));
    engine.runUntilCondition(() => host.settled, 60e9);
    // The first DISCOVER from start() is superseded by the reboot REQUEST.
    const req = server.seen.find((s) => s.type === 'REQUEST')!;
    expect([req.dstIp, req.f.requestedIp, req.f.serverId, req.msg.ciaddr]).toEqual([0xffffffff, ip('10.0.0.100'), undefined, 0]);
    expect(host.address()).toBe('10.0.0.100/24');
  });

  it('stop() forgets the lease and cancels every timer', () => {
    const { engine, host } = setup();
    boot(engine, host);
    host.stop();
    expect(host.address()).toBe('');
    expect(engine.pendingTimers).toBe(0);
  });
});

function macBytes(mac: number): number[] {
  const out: number[] = [];
  for (let i = 5; i >= 0; i--) out.push(Math.floor(mac / 2 ** (8 * i)) & 0xff);
  return out;
}
