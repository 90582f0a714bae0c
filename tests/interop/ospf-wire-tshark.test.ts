/**
 * tshark (Wireshark 4.0, a decoder nobody here wrote) reads OSPFv2 and RIPv2 packets our codecs
 * encode: one of each OSPF packet type (LSAs of types 1, 2, 3, 4, 5 and 7 in the update; null,
 * simple and MD5 authentication) and RIP requests and responses (plain, password, keyed MD5),
 * framed in Ethernet/IPv4 and written with the repository's pcapng writer. No malformed packet,
 * no expert warning, no checksum tshark calls incorrect (IP, UDP, and the OSPF packet checksum,
 * which tshark 4.0 checks but reports only in its detail view), and the fields it decodes are the
 * ones we wrote. tshark does not verify LSA Fletcher checksums: the LSA checksums it shows are
 * compared with ours here, and ours with FRR's in tests/unit/wire-ospf.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIp4 } from '../../devices/wire/bytes.js';
import { ETHERTYPE, buildEthernetFrame } from '../../devices/wire/ethernet.js';
import { buildIpv4Packet } from '../../devices/wire/ipv4.js';
import { encodeUdp, udpEncodingLength } from '../../devices/wire/udp.js';
import {
  ALL_SPF_ROUTERS,
  DD_FLAG,
  IPPROTO_OSPF,
  OSPF_AUTH,
  OSPF_OPTION,
  OSPF_TYPE,
  encodeOspf,
  ospfEncodingLength,
  type OspfPacket,
} from '../../devices/wire/ospf.js';
import { LSA_TYPE, ROUTER_FLAG, ROUTER_LINK, encodeLsa, lsaEncodingLength, type Lsa, type LsaHeader } from '../../devices/wire/ospf-lsa.js';
import { RIP_AUTH, RIP_MULTICAST, RIP_PORT, encodeRip, ripEncodingLength, type RipPacket } from '../../devices/wire/rip.js';
import {
  pcapngInterfaceLength,
  pcapngPacketLength,
  pcapngSectionHeaderLength,
  writePcapngInterface,
  writePcapngPacket,
  writePcapngSectionHeader,
  PCAPNG_OUTBOUND,
} from '../../devices/wire/pcapng.js';
import { tsharkAvailable, tsharkBadChecksums, tsharkFields, tsharkProblems } from '../helpers/tshark.js';

const tshark = tsharkAvailable();
const ip = (s: string): number => parseIp4(s)!;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const SRC_MAC = 0x0250_7900_0001;
const R1 = ip('1.1.1.1');
const R2 = ip('2.2.2.2');

function multicastMac(group: number): number {
  return 0x0100_5e00_0000 + (group & 0x7f_ffff);
}
function frame(dst: number, protocol: number, payload: Uint8Array): Uint8Array {
  const ipPacket = buildIpv4Packet({ src: ip('10.0.0.1'), dst, protocol, ttl: 1, dscp: 48 }, payload);
  return buildEthernetFrame({ dst: dst >>> 28 === 0xe ? multicastMac(dst) : 0x0250_7900_0002, src: SRC_MAC, tags: [], etherType: ETHERTYPE.IPV4 }, ipPacket);
}
function ospfFrame(p: OspfPacket, dst = ALL_SPF_ROUTERS): Uint8Array {
  const b = new Uint8Array(ospfEncodingLength(p));
  encodeOspf(p, b);
  return frame(dst, IPPROTO_OSPF, b);
}
function ripFrame(p: RipPacket): Uint8Array {
  const rip = new Uint8Array(ripEncodingLength(p));
  encodeRip(p, rip);
  const udp = new Uint8Array(udpEncodingLength({ srcPort: RIP_PORT, dstPort: RIP_PORT, payload: rip }));
  encodeUdp({ srcPort: RIP_PORT, dstPort: RIP_PORT, payload: rip }, udp, 0, ip('10.0.0.1'), RIP_MULTICAST);
  return frame(RIP_MULTICAST, 17, udp);
}

function hdr(type: number, linkStateId: number, seq = 0x8000_0001 | 0): LsaHeader {
  return { age: 1, options: OSPF_OPTION.E, type, linkStateId, advertisingRouter: R1, sequence: seq, checksum: 0, length: 0 };
}
const LSAS: Lsa[] = [
  {
    header: hdr(LSA_TYPE.ROUTER, R1),
    body: {
      kind: 'router',
      flags: ROUTER_FLAG.B | ROUTER_FLAG.E,
      links: [
        { linkId: R2, linkData: ip('10.1.0.1'), type: ROUTER_LINK.P2P, metric: 10, tos: [] },
        { linkId: ip('10.0.0.1'), linkData: ip('10.0.0.1'), type: ROUTER_LINK.TRANSIT, metric: 1, tos: [] },
        { linkId: ip('10.9.0.0'), linkData: ip('255.255.0.0'), type: ROUTER_LINK.STUB, metric: 100, tos: [] },
        { linkId: ip('3.3.3.3'), linkData: ip('10.1.0.1'), type: ROUTER_LINK.VIRTUAL, metric: 20, tos: [] },
      ],
    },
  },
  { header: hdr(LSA_TYPE.NETWORK, ip('10.0.0.1')), body: { kind: 'network', mask: ip('255.255.255.0'), attachedRouters: [R1, R2] } },
  { header: hdr(LSA_TYPE.SUMMARY, ip('172.16.0.0')), body: { kind: 'summary', mask: ip('255.255.0.0'), metric: 30, tos: [] } },
  { header: hdr(LSA_TYPE.ASBR_SUMMARY, ip('4.4.4.4')), body: { kind: 'summary', mask: 0, metric: 40, tos: [] } },
  { header: hdr(LSA_TYPE.AS_EXTERNAL, ip('192.0.2.0')), body: { kind: 'external', mask: ip('255.255.255.0'), e: true, metric: 20, forwardingAddress: 0, routeTag: 7, tos: [] } },
  {
    header: { ...hdr(LSA_TYPE.NSSA, ip('198.51.100.0')), options: OSPF_OPTION.NP },
    body: { kind: 'external', mask: ip('255.255.255.0'), e: false, metric: 5, forwardingAddress: ip('10.0.0.1'), routeTag: 0, tos: [] },
  },
];
/** Each LSA's header as DD and LSAck carry it: with its real length and checksum. */
function headers(): LsaHeader[] {
  return LSAS.map((l) => {
    const b = new Uint8Array(lsaEncodingLength(l));
    encodeLsa(l, b);
    return { ...l.header, length: b.length, checksum: (b[16]! << 8) | b[17]! };
  });
}

const hello = (auth: OspfPacket['auth']): OspfPacket => ({
  routerId: R1,
  areaId: 0,
  auth,
  body: { type: OSPF_TYPE.HELLO, networkMask: ip('255.255.255.0'), helloInterval: 10, options: OSPF_OPTION.E, priority: 1, deadInterval: 40, dr: ip('10.0.0.1'), bdr: ip('10.0.0.2'), neighbors: [R2] },
});
const OSPF: OspfPacket[] = [
  hello({ type: OSPF_AUTH.NULL }),
  hello({ type: OSPF_AUTH.SIMPLE, password: text('secret') }),
  hello({ type: OSPF_AUTH.CRYPTO, keyId: 1, sequence: 1000, key: text('wirelab') }),
  { routerId: R1, areaId: 0, auth: { type: OSPF_AUTH.NULL }, body: { type: OSPF_TYPE.DD, mtu: 1500, options: OSPF_OPTION.E, flags: DD_FLAG.I | DD_FLAG.M | DD_FLAG.MS, sequence: 4242, lsaHeaders: [] } },
  { routerId: R1, areaId: 0, auth: { type: OSPF_AUTH.NULL }, body: { type: OSPF_TYPE.DD, mtu: 1500, options: OSPF_OPTION.E, flags: DD_FLAG.MS, sequence: 4243, lsaHeaders: headers() } },
  {
    routerId: R1,
    areaId: 0,
    auth: { type: OSPF_AUTH.NULL },
    body: { type: OSPF_TYPE.LSR, requests: LSAS.map((l) => ({ type: l.header.type, linkStateId: l.header.linkStateId, advertisingRouter: l.header.advertisingRouter })) },
  },
  { routerId: R1, areaId: 0, auth: { type: OSPF_AUTH.NULL }, body: { type: OSPF_TYPE.LSU, lsas: LSAS } },
  { routerId: R1, areaId: 0, auth: { type: OSPF_AUTH.NULL }, body: { type: OSPF_TYPE.LSACK, lsaHeaders: headers() } },
];
const route = { afi: 2, routeTag: 0, address: ip('192.0.2.0'), mask: ip('255.255.255.0'), nextHop: 0, metric: 3 };
const RIP: RipPacket[] = [
  { command: 1, version: 2, auth: { type: RIP_AUTH.NONE }, entries: [{ afi: 0, routeTag: 0, address: 0, mask: 0, nextHop: 0, metric: 16 }] },
  { command: 2, version: 2, auth: { type: RIP_AUTH.NONE }, entries: [route, { ...route, address: ip('198.51.100.0'), metric: 16, routeTag: 9 }] },
  { command: 2, version: 2, auth: { type: RIP_AUTH.PLAIN, password: text('pw') }, entries: [route] },
  { command: 2, version: 2, auth: { type: RIP_AUTH.MD5, keyId: 3, sequence: 77, authDataLength: 20, key: text('wirelab') }, entries: [route] },
];

function writeCapture(file: string, frames: Uint8Array[]): void {
  const app = text('wirelab ospf-wire-tshark');
  const name = text('eth0');
  const len = pcapngSectionHeaderLength(app) + pcapngInterfaceLength(name) + frames.reduce((s, f) => s + pcapngPacketLength(f.length), 0);
  const buf = new Uint8Array(len);
  const v = new DataView(buf.buffer);
  let p = writePcapngSectionHeader(v, buf, 0, app);
  p = writePcapngInterface(v, buf, p, name, 65535);
  frames.forEach((f, i) => (p = writePcapngPacket(v, buf, p, 0, 0, i * 1000, f, f.length, PCAPNG_OUTBOUND)));
  writeFileSync(file, buf);
}

describe('tshark reads the OSPF and RIP codecs', () => {
  it.skipIf(!tshark.ok)('one of each packet: no malformed packet, no warning, and the fields we wrote', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wirelab-ospf-tshark-'));
    try {
      const file = join(dir, 'ospf-rip.pcapng');
      writeCapture(file, [...OSPF.map((p) => ospfFrame(p)), ...RIP.map(ripFrame)]);
      expect(tsharkProblems(file)).toEqual([]);
      expect(tsharkBadChecksums(file)).toEqual([]);
      const rows = tsharkFields(file, ['_ws.col.Protocol', 'ospf.msg', 'ospf.srcrouter', 'ospf.auth.type', 'ospf.auth.simple', 'ospf.auth.crypt.key_id', 'ospf.auth.crypt.seq_nbr']);
      expect(rows.map((r) => r[0])).toEqual([...OSPF.map(() => 'OSPF'), ...RIP.map(() => 'RIPv2')]);
      expect(rows.slice(0, OSPF.length).map((r) => r[1])).toEqual(['1', '1', '1', '2', '2', '3', '4', '5']);
      expect(rows.slice(0, OSPF.length).every((r) => r[2] === '1.1.1.1')).toBe(true);
      expect(rows.slice(0, 3).map((r) => r.slice(3))).toEqual([
        ['0', '', '', ''],
        ['1', 'secret', '', ''],
        ['2', '', '1', '1000'],
      ]);
      const helloRow = tsharkFields(file, ['ospf.hello.network_mask', 'ospf.hello.hello_interval', 'ospf.hello.router_dead_interval', 'ospf.hello.designated_router', 'ospf.hello.backup_designated_router', 'ospf.hello.active_neighbor'], ['-Y', 'ospf.msg == 1'])[0];
      expect(helloRow).toEqual(['255.255.255.0', '10', '40', '10.0.0.1', '10.0.0.2', '2.2.2.2']);
      const dd = tsharkFields(file, ['ospf.db.interface_mtu', 'ospf.db.dd_sequence', 'ospf.dbd.i', 'ospf.dbd.m', 'ospf.dbd.ms', 'ospf.lsa.chksum'], ['-Y', 'ospf.msg == 2']);
      expect(dd.map((r) => r.slice(0, 5))).toEqual([
        ['1500', '4242', '1', '1', '1'],
        ['1500', '4243', '0', '0', '1'],
      ]);
      const sums = headers().map((h) => `0x${h.checksum.toString(16).padStart(4, '0')}`);
      expect(dd[1]![5]!.split(',')).toEqual(sums);
      const lsu = tsharkFields(
        file,
        ['ospf.lsa', 'ospf.lsa.id', 'ospf.lsa.seqnum', 'ospf.lsa.chksum', 'ospf.lsa.router.linktype', 'ospf.lsa.network.attchrtr', 'ospf.lsa.asext.extrttag', 'ospf.lsa.asext.fwdaddr'],
        ['-Y', 'ospf.msg == 4'],
      )[0]!;
      expect(lsu[0]!.split(',')).toEqual(['1', '2', '3', '4', '5', '7']);
      expect(lsu[1]!.split(',')).toEqual(['1.1.1.1', '10.0.0.1', '172.16.0.0', '4.4.4.4', '192.0.2.0', '198.51.100.0']);
      expect(lsu[2]!.split(',')).toEqual(LSAS.map(() => '0x80000001'));
      expect(lsu[3]!.split(',')).toEqual(sums);
      expect(lsu[4]!.split(',')).toEqual(['1', '2', '3', '4']);
      expect(lsu[5]!.split(',')).toEqual(['1.1.1.1', '2.2.2.2']);
      expect(lsu[6]!.split(',')).toEqual(['7', '0']);
      expect(lsu[7]!.split(',')).toEqual(['0.0.0.0', '10.0.0.1']);
      const lsr = tsharkFields(file, ['ospf.link_state_id'], ['-Y', 'ospf.msg == 3'])[0]!;
      expect(lsr[0]!.split(',')).toEqual(['1.1.1.1', '10.0.0.1', '172.16.0.0', '4.4.4.4', '192.0.2.0', '198.51.100.0']);
      const rip = tsharkFields(file, ['rip.command', 'rip.auth.type', 'rip.ip', 'rip.metric', 'rip.route_tag', 'rip.auth.passwd', 'rip.key_id', 'rip.seq_num'], ['-Y', 'rip']);
      expect(rip).toEqual([
        ['1', '', '', '16', '0', '', '', ''], // AFI 0, a whole-table request: tshark shows no address
        ['2', '', '192.0.2.0,198.51.100.0', '3,16', '0,9', '', '', ''],
        ['2', '2', '192.0.2.0', '3', '0', 'pw', '', ''],
        ['2', '3', '192.0.2.0', '3', '0', '', '3', '77'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!tshark.ok)('a corrupted OSPF checksum is caught (so the clean run above means something)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wirelab-ospf-tshark-'));
    try {
      const file = join(dir, 'bad.pcapng');
      const bad = ospfFrame(OSPF[0]!);
      bad[14 + 20 + 13] ^= 0xff; // low byte of the OSPF checksum
      writeCapture(file, [ospfFrame(OSPF[0]!), bad]);
      const lines = tsharkBadChecksums(file);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/Checksum: 0x[0-9a-f]{4} \[incorrect, should be/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!tshark.ok)("the FRR captures the unit tests replay are clean too", () => {
    for (const name of ['ospf-rip-frr-plain.pcap', 'ospf-rip-frr-md5.pcap', 'ospf-frr-nssa.pcap']) {
      const file = fileURLToPath(new URL(`../fixtures/captures/${name}`, import.meta.url));
      expect(tsharkProblems(file), name).toEqual([]);
      expect(tsharkBadChecksums(file), name).toEqual([]);
    }
  });

  it('reports why it is skipped', () => {
    if (!tshark.ok) {
      console.warn(`tshark interop skipped: ${tshark.reason}`);
      expect(process.env.CI, 'tshark must be installed in CI (.ci/run installs it)').not.toBe('true');
    }
  });
});
