/**
 * tshark (Wireshark 4.0, a decoder nobody here wrote) reads one frame of every IPv6 message the
 * codecs build: no malformed packet, no expert warning, every checksum verified good, and the
 * fields it decodes are the ones we encoded.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Mac, isGroupMac } from '../../devices/wire/bytes.js';
import { ETHERTYPE, buildEthernetFrame } from '../../devices/wire/ethernet.js';
import { linkLocalFromMac, multicastMac, parseIp6, solicitedNode } from '../../devices/wire/ip6addr.js';
import { NEXT_HEADER, encodeIpv6Headers, fragment6, ipv6AddressSum } from '../../devices/wire/ipv6.js';
import { buildIcmpv6Packet, icmpv6ErrorMessage, type Icmpv6Message } from '../../devices/wire/icmpv6.js';
import { encodeUdp6 } from '../../devices/wire/udp.js';
import { TCP_SYN, encodeTcp6, linuxTcpOptions } from '../../devices/wire/tcp.js';
import { LINKTYPE_ETHERNET, pcapngInterfaceLength, pcapngPacketLength, pcapngSectionHeaderLength, writePcapngInterface, writePcapngPacket, writePcapngSectionHeader } from '../../devices/wire/pcapng.js';
import { DHCPV6_CLIENT_PORT, DHCPV6_SERVER_PORT, Dhcpv6Type, dhcpv6EncodingLength, dhcpv6OptionsFrom, encodeDhcpv6, encodeDuid, type Dhcpv6Message } from '../../devices/wire/dhcpv6.js';
import { reportTsharkSkip, tsharkAvailable, tsharkFields, tsharkProblems } from '../helpers/tshark.js';

const tshark = tsharkAvailable();
const ip6 = (s: string): Uint8Array => parseIp6(s)!;

const HOST_MAC: Mac = 0x0200_0000_0010;
const ROUTER_MAC: Mac = 0x0200_0000_0001;
const HOST_LL = linkLocalFromMac(HOST_MAC);
const ROUTER_LL = linkLocalFromMac(ROUTER_MAC);
const HOST = ip6('2001:db8:8::10');
const SERVER = ip6('2001:db8:9::80');

function frame(src: Mac, packet: Uint8Array): Uint8Array {
  const dstIp = packet.subarray(24, 40);
  const dst = dstIp[0] === 0xff ? multicastMac(dstIp) : src === HOST_MAC ? ROUTER_MAC : HOST_MAC;
  expect(isGroupMac(dst)).toBe(dstIp[0] === 0xff);
  return buildEthernetFrame({ dst, src, tags: [], etherType: ETHERTYPE.IPV6 }, packet);
}

function udpPacket(src: Uint8Array, dst: Uint8Array, sport: number, dport: number, payload: Uint8Array, hopLimit = 64): Uint8Array {
  const init = { src, dst, protocol: NEXT_HEADER.UDP, hopLimit };
  const out = new Uint8Array(40 + 8 + payload.length);
  const p = encodeIpv6Headers(init, 8 + payload.length, out, 0);
  encodeUdp6({ srcPort: sport, dstPort: dport, payload }, out, p, ipv6AddressSum(out, 0));
  return out;
}

/** The frames, each with what tshark must show for it. */
function frames(): { what: string; frame: Uint8Array }[] {
  const out: { what: string; frame: Uint8Array }[] = [];
  const icmp = (what: string, from: Mac, src: Uint8Array, dst: Uint8Array, m: Icmpv6Message): void => {
    out.push({ what, frame: frame(from, buildIcmpv6Packet({ src, dst }, m)) });
  };
  const data = new Uint8Array(56).map((_, i) => i);
  icmp('echo request', HOST_MAC, HOST, SERVER, { kind: 'echoRequest', code: 0, id: 0x1234, seq: 1, data });
  icmp('echo reply', ROUTER_MAC, SERVER, HOST, { kind: 'echoReply', code: 0, id: 0x1234, seq: 1, data });
  const probe = udpPacket(HOST, SERVER, 40000, 33434, new Uint8Array(32), 1);
  icmp('time exceeded', ROUTER_MAC, ROUTER_LL, HOST, icmpv6ErrorMessage('timeExceeded', 0, probe));
  icmp('port unreachable', ROUTER_MAC, SERVER, HOST, icmpv6ErrorMessage('destUnreachable', 4, udpPacket(HOST, SERVER, 40000, 9, new Uint8Array(12))));
  const big = buildIcmpv6Packet({ src: HOST, dst: SERVER }, { kind: 'echoRequest', code: 0, id: 7, seq: 2, data: new Uint8Array(1400) });
  icmp('packet too big', ROUTER_MAC, ROUTER_LL, HOST, icmpv6ErrorMessage('packetTooBig', 0, big, 1280));
  const badNext = udpPacket(HOST, SERVER, 40000, 53, new Uint8Array(8));
  badNext[6] = 253; // an experimental next header the server does not know
  icmp('parameter problem', ROUTER_MAC, SERVER, HOST, icmpv6ErrorMessage('parameterProblem', 1, badNext, 6));
  icmp('router solicitation', HOST_MAC, HOST_LL, ip6('ff02::2'), { kind: 'routerSolicitation', code: 0, options: [{ type: 'sourceLinkLayer', mac: HOST_MAC }] });
  icmp('router advertisement', ROUTER_MAC, ROUTER_LL, ip6('ff02::1'), {
    kind: 'routerAdvertisement',
    code: 0,
    curHopLimit: 64,
    managed: true,
    other: true,
    routerLifetime: 1800,
    reachableTime: 30000,
    retransTimer: 1000,
    options: [
      { type: 'sourceLinkLayer', mac: ROUTER_MAC },
      { type: 'mtu', mtu: 1500 },
      { type: 'prefixInfo', prefixLength: 64, onLink: true, autonomous: true, validLifetime: 86400, preferredLifetime: 14400, prefix: ip6('2001:db8:8::') },
      { type: 'rdnss', lifetime: 1800, servers: [ip6('2001:db8:8::1')] },
    ],
  });
  icmp('neighbor solicitation', HOST_MAC, HOST, solicitedNode(ROUTER_LL), { kind: 'neighborSolicitation', code: 0, target: ROUTER_LL, options: [{ type: 'sourceLinkLayer', mac: HOST_MAC }] });
  icmp('neighbor advertisement', ROUTER_MAC, ROUTER_LL, HOST, {
    kind: 'neighborAdvertisement',
    code: 0,
    router: true,
    solicited: true,
    override: true,
    target: ROUTER_LL,
    options: [{ type: 'targetLinkLayer', mac: ROUTER_MAC }],
  });
  icmp('redirect', ROUTER_MAC, ROUTER_LL, HOST, { kind: 'redirect', code: 0, target: linkLocalFromMac(0x0200_0000_0002), destination: SERVER, options: [{ type: 'targetLinkLayer', mac: 0x0200_0000_0002 }] });
  icmp('MLDv2 report', HOST_MAC, HOST_LL, ip6('ff02::16'), {
    kind: 'mldv2Report',
    code: 0,
    records: [
      { recordType: 4, group: solicitedNode(HOST), sources: [] },
      { recordType: 3, group: ip6('ff05::1:3'), sources: [ip6('2001:db8:8::1')] },
    ],
  });
  icmp('MLDv2 query', ROUTER_MAC, ROUTER_LL, ip6('ff02::1'), { kind: 'mldQuery', code: 0, maxResponseCode: 10000, group: ip6('::'), v2: { suppress: false, robustness: 2, qqic: 125, sources: [] } });
  const dgram = udpPacket(HOST, SERVER, 40001, 7, new Uint8Array(2000).map((_, i) => i & 0xff));
  for (const f of fragment6(dgram, 1280, 0xabcd0001)) out.push({ what: 'fragment', frame: frame(HOST_MAC, f) });
  const syn = new Uint8Array(40 + 40);
  encodeIpv6Headers({ src: HOST, dst: SERVER, protocol: NEXT_HEADER.TCP }, 40, syn, 0);
  const opts = linuxTcpOptions({ mss: 1440, sackPermitted: true, timestamp: { value: 1, echo: 0 }, windowScale: 7 });
  encodeTcp6({ srcPort: 40002, dstPort: 80, seq: 1000, ack: 0, flags: TCP_SYN, window: 64800, options: opts }, syn, 40, ipv6AddressSum(syn, 0));
  out.push({ what: 'TCP SYN', frame: frame(HOST_MAC, syn) });
  const clientId = encodeDuid({ type: 'llt', hwType: 1, time: 0x32aa3163, mac: HOST_MAC });
  const serverId = encodeDuid({ type: 'll', hwType: 1, mac: ROUTER_MAC });
  const dhcp = (from: Mac, src: Uint8Array, dst: Uint8Array, m: Dhcpv6Message): void => {
    const bytes = new Uint8Array(dhcpv6EncodingLength(m));
    encodeDhcpv6(m, bytes, 0);
    const [sp, dp] = from === HOST_MAC ? [DHCPV6_CLIENT_PORT, DHCPV6_SERVER_PORT] : [DHCPV6_SERVER_PORT, DHCPV6_CLIENT_PORT];
    out.push({ what: `DHCPv6 ${m.msgType}`, frame: frame(from, udpPacket(src, dst, sp, dp, bytes, from === HOST_MAC ? 1 : 64)) });
  };
  const ia = { iaid: 10, t1: 1800, t2: 2880, addresses: [{ address: ip6('2001:db8:8::100'), preferredLifetime: 3600, validLifetime: 7200 }] };
  dhcp(HOST_MAC, HOST_LL, ip6('ff02::1:2'), {
    msgType: Dhcpv6Type.SOLICIT,
    transactionId: 0xad3e68,
    options: dhcpv6OptionsFrom({ clientId, iaNa: [{ iaid: 10, t1: 0, t2: 0, addresses: [] }], elapsedTime: 0, oro: [23] }),
  });
  dhcp(ROUTER_MAC, ROUTER_LL, HOST_LL, {
    msgType: Dhcpv6Type.ADVERTISE,
    transactionId: 0xad3e68,
    options: dhcpv6OptionsFrom({ clientId, serverId, iaNa: [ia], status: { code: 0, message: 'success' }, preference: 255, dnsServers: [ip6('2001:db8:8::1')] }),
  });
  dhcp(HOST_MAC, HOST_LL, ip6('ff02::1:2'), { msgType: Dhcpv6Type.INFORMATION_REQUEST, transactionId: 0x10203, options: dhcpv6OptionsFrom({ clientId, elapsedTime: 150, oro: [23, 24] }) });
  return out;
}

function pcapng(list: Uint8Array[]): Uint8Array {
  const app = new TextEncoder().encode('wirelab ipv6 test');
  const name = new TextEncoder().encode('eth0');
  let len = pcapngSectionHeaderLength(app) + pcapngInterfaceLength(name);
  for (const f of list) len += pcapngPacketLength(f.length);
  const buf = new Uint8Array(len);
  const v = new DataView(buf.buffer);
  let p = writePcapngSectionHeader(v, buf, 0, app);
  p = writePcapngInterface(v, buf, p, name, 65535);
  list.forEach((f, i) => {
    p = writePcapngPacket(v, buf, p, 0, 0, i * 1000_000, f, f.length, 2);
  });
  expect(p).toBe(len);
  expect(LINKTYPE_ETHERNET).toBe(1);
  return buf;
}

/** Per frame, the fields tshark must decode (ICMPv6 checksum status 1 is "Good"). */
const ok = { 'icmpv6.checksum.status': '1' };
const EXPECTED: Record<string, string>[] = [
  { '_ws.col.Protocol': 'ICMPv6', 'icmpv6.type': '128', ...ok, 'icmpv6.echo.identifier': '0x1234', 'icmpv6.echo.sequence_number': '1' },
  { '_ws.col.Protocol': 'ICMPv6', 'icmpv6.type': '129', ...ok, 'icmpv6.echo.identifier': '0x1234', 'icmpv6.echo.sequence_number': '1' },
  // Errors: the quoted packet is decoded too, so its UDP checksum shows good as well.
  { '_ws.col.Protocol': 'ICMPv6', 'icmpv6.type': '3', 'icmpv6.code': '0', ...ok, 'udp.checksum.status': '1', 'ipv6.hlim': '64,1' },
  { '_ws.col.Protocol': 'ICMPv6', 'icmpv6.type': '1', 'icmpv6.code': '4', ...ok, 'udp.checksum.status': '1' },
  // The quoted echo request is cut at 1232 bytes, so its checksum cannot be verified (2).
  { '_ws.col.Protocol': 'ICMPv6', 'icmpv6.type': '2,128', 'icmpv6.mtu': '1280', 'icmpv6.checksum.status': '1,2' },
  { '_ws.col.Protocol': 'ICMPv6', 'icmpv6.type': '4', 'icmpv6.code': '1', 'icmpv6.pointer': '6', ...ok },
  { 'icmpv6.type': '133', ...ok, 'icmpv6.opt.linkaddr': '02:00:00:00:00:10', 'ipv6.hlim': '255' },
  {
    'icmpv6.type': '134',
    ...ok,
    'icmpv6.nd.ra.cur_hop_limit': '64',
    'icmpv6.nd.ra.flag.m': '1',
    'icmpv6.nd.ra.flag.o': '1',
    'icmpv6.nd.ra.router_lifetime': '1800',
    'icmpv6.nd.ra.reachable_time': '30000',
    'icmpv6.nd.ra.retrans_timer': '1000',
    'icmpv6.opt.linkaddr': '02:00:00:00:00:01',
    'icmpv6.opt.mtu': '1500',
    'icmpv6.opt.prefix': '2001:db8:8::',
    'icmpv6.opt.prefix.length': '64',
    'icmpv6.opt.prefix.flag.l': '1',
    'icmpv6.opt.prefix.flag.a': '1',
    'icmpv6.opt.prefix.valid_lifetime': '86400',
    'icmpv6.opt.prefix.preferred_lifetime': '14400',
    'icmpv6.opt.rdnss': '2001:db8:8::1',
  },
  { 'icmpv6.type': '135', ...ok, 'icmpv6.nd.ns.target_address': 'fe80::ff:fe00:1', 'icmpv6.opt.linkaddr': '02:00:00:00:00:10', 'ipv6.dst': 'ff02::1:ff00:1' },
  {
    'icmpv6.type': '136',
    ...ok,
    'icmpv6.nd.na.target_address': 'fe80::ff:fe00:1',
    'icmpv6.nd.na.flag.r': '1',
    'icmpv6.nd.na.flag.s': '1',
    'icmpv6.nd.na.flag.o': '1',
    'icmpv6.opt.linkaddr': '02:00:00:00:00:01',
  },
  { 'icmpv6.type': '137', ...ok, 'icmpv6.nd.rd.target_address': 'fe80::ff:fe00:2', 'icmpv6.opt.linkaddr': '02:00:00:00:00:02' },
  {
    'icmpv6.type': '143',
    ...ok,
    'ipv6.opt.router_alert': '0',
    'ipv6.hlim': '1',
    'eth.dst': '33:33:00:00:00:16',
    'icmpv6.mldr.nb_mcast_records': '2',
    'icmpv6.mldr.mar.record_type': '4,3',
    'icmpv6.mldr.mar.multicast_address': 'ff02::1:ff00:10,ff05::1:3',
    'icmpv6.mldr.mar.source_address': '2001:db8:8::1',
  },
  { 'icmpv6.type': '130', ...ok, 'ipv6.opt.router_alert': '0', 'icmpv6.mld.maximum_response_code': '10000', 'icmpv6.mld.flag.qrv': '2', 'icmpv6.mld.qqi': '125' },
  { '_ws.col.Protocol': 'IPv6', 'ipv6.fraghdr.ident': '0xabcd0001', 'ipv6.fraghdr.offset': '0', 'ipv6.fraghdr.more': '1' },
  // tshark reassembles the datagram at its last fragment and checks the UDP checksum over all of it.
  { 'ipv6.fraghdr.ident': '0xabcd0001', 'ipv6.fraghdr.offset': '154', 'ipv6.fraghdr.more': '0', 'udp.checksum.status': '1', 'udp.length': '2008' },
  { '_ws.col.Protocol': 'TCP', 'tcp.checksum.status': '1', 'tcp.options.mss_val': '1440', 'tcp.flags.syn': '1' },
  { '_ws.col.Protocol': 'DHCPv6', 'dhcpv6.msgtype': '1', 'dhcpv6.xid': '0xad3e68', 'dhcpv6.iaid': '0000000a', 'dhcpv6.requested_option_code': '23', 'udp.checksum.status': '1' },
  {
    '_ws.col.Protocol': 'DHCPv6',
    'dhcpv6.msgtype': '2',
    'dhcpv6.duidllt.link_layer_addr': '02:00:00:00:00:10',
    'dhcpv6.duidll.link_layer_addr': '02:00:00:00:00:01',
    'dhcpv6.iaaddr.ip': '2001:db8:8::100',
    'dhcpv6.iaaddr.pref_lifetime': '3600',
    'dhcpv6.iaaddr.valid_lifetime': '7200',
    'dhcpv6.status_code': '0',
    'dhcpv6.option_preference': '255',
    'dhcpv6.dns_server': '2001:db8:8::1',
    'udp.checksum.status': '1',
  },
  { '_ws.col.Protocol': 'DHCPv6', 'dhcpv6.msgtype': '11', 'dhcpv6.elapsed_time': '1500', 'dhcpv6.requested_option_code': '23,24', 'udp.checksum.status': '1' },
];

describe('tshark reads every IPv6 message the codecs build', () => {
  it.skipIf(!tshark.ok)('with no malformed frame, no warning, good checksums and the fields we encoded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wirelab-ipv6-'));
    try {
      const list = frames();
      const file = join(dir, 'ipv6.pcapng');
      writeFileSync(file, pcapng(list.map((f) => f.frame)));
      expect(tsharkProblems(file)).toEqual([]);
      const fields = Object.keys(EXPECTED[0]!).concat(...EXPECTED.map((e) => Object.keys(e)));
      const names = [...new Set(fields)];
      const rows = tsharkFields(file, names);
      expect(rows).toHaveLength(EXPECTED.length);
      rows.forEach((row, i) => {
        const got: Record<string, string> = {};
        for (const [k, name] of names.entries()) if (name in EXPECTED[i]!) got[name] = row[k] ?? '';
        expect(got, `frame ${i + 1}, ${list[i]!.what}`).toEqual(EXPECTED[i]);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports why it is skipped', () => {
    reportTsharkSkip(tshark);
  });
});
