/**
 * Transport and application codecs against real captures (the reference captures described in
 * tests/fixtures/SOURCES.md): each constant is a whole Ethernet frame, its IPv4 header is parsed by hand below so
 * this file depends only on the layers it tests.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, ip4ToString, macToString, parseIp4, parseMac, toHex, u16, u32 } from '../../devices/wire/bytes.js';
import { DecodeError, EncodeError } from '../../devices/wire/errors.js';
import {
  decodeUdp,
  encodeUdp,
  udpChecksum,
  udpChecksumOk,
  udpDstPort,
  udpEncodingLength,
  udpFillChecksum,
  udpLength,
  udpSrcPort,
} from '../../devices/wire/udp.js';
import {
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  decodeTcp,
  encodeTcp,
  linuxTcpOptions,
  seqAdd,
  seqLe,
  seqLt,
  tcpAck,
  tcpChecksumOk,
  tcpDataOffset,
  tcpDstPort,
  tcpEncodingLength,
  tcpFlagNames,
  tcpFlags,
  tcpMssAt,
  tcpOption,
  tcpSeq,
  tcpSrcPort,
  tcpWindow,
  type TcpOption,
} from '../../devices/wire/tcp.js';
import {
  BOOTP_MIN_LEN,
  DhcpMessageType,
  DhcpOpt,
  decodeDhcp,
  dhcpChaddr,
  dhcpClientIdFromMac,
  dhcpEncodingLength,
  dhcpMessageTypeAt,
  dhcpMessageTypeName,
  dhcpOptionData,
  dhcpOptionsFrom,
  dhcpXid,
  encodeDhcp,
  readDhcpFields,
  type DhcpFields,
} from '../../devices/wire/dhcp.js';
import {
  DNS_FLAG_AD,
  DNS_FLAG_RD,
  type DnsAnswer,
  type DnsOptAnswer,
  type DnsPacket,
  decodeDns,
  dnsAnswersOf,
  dnsEncodingLength,
  dnsId,
  dnsIsResponse,
  encodeDns,
} from '../../devices/wire/dns.js';

/** The IPv4 addresses and the L4 span of an Ethernet+IPv4 frame, read by hand. */
function ip(frame: Uint8Array): { src: number; dst: number; l4: number; len: number } {
  expect(u16(frame, 12)).toBe(0x0800);
  const ihl = (frame[14]! & 0x0f) * 4;
  return { src: u32(frame, 26), dst: u32(frame, 30), l4: 14 + ihl, len: u16(frame, 16) - ihl };
}
const IP = (s: string): number => parseIp4(s)!;
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** dhcp-dnsmasq-udhcpc.pcap frame 1 (342 bytes). */
const UDHCPC_1 = fromHex(`
  ffffffffffff02000000200208004500014800000000401179a600000000ffffffff004400430134123b010106000d17
  2a6600000000000000000000000000000000000000000200000020020000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000063825363350101390202
  4037070103060c0f1c2a0c07636c69656e74313c0c756468637020312e33352e303d0701020000002002ff0000000000
  000000000000
`);
/** dhcp-dnsmasq-udhcpc.pcap frame 6 (342 bytes). */
const UDHCPC_6 = fromHex(`
  020000002002020000002001080045c001488c3b00004011d7fd0a1400010a1400840043004401345afd020106000d17
  2a6600000000000000000a1400840a140001000000000200000020020000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  00000000000000000000000000000000000000000000000000000000000000000000000000006382536335010236040a
  140001330400000e103a04000007083b0400000c4e0104ffffff001c040a1400ff0f036c616206040a14000103040a14
  0001ff000000
`);
/** dhcp-dnsmasq-udhcpc.pcap frame 9 (343 bytes). */
const UDHCPC_9 = fromHex(`
  ffffffffffff02000000200208004500014900000000401179a500000000ffffffff0044004301355ab9010106000d17
  2a6600030000000000000000000000000000000000000200000020020000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  00000000000000000000000000000000000000000000000000000000000000000000000000006382536335010332040a
  14008436040a1400013902024037070103060c0f1c2a0c07636c69656e74313c0c756468637020312e33352e303d0701
  020000002002ff
`);
/** dhcp-dnsmasq-udhcpc.pcap frame 10 (348 bytes). */
const UDHCPC_10 = fromHex(`
  020000002002020000002001080045c0014e8c4200004011d7f00a1400010a14008400430044013a7b05020106000d17
  2a6600030000000000000a1400840a140001000000000200000020020000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  00000000000000000000000000000000000000000000000000000000000000000000000000006382536335010536040a
  140001330400000e103a04000007083b0400000c4e0104ffffff001c040a1400ff0c07636c69656e74310f036c616206
  040a14000103040a140001ff
`);
/** dhcp-dnsmasq-udhcpc.pcap frame 18 (342 bytes). */
const UDHCPC_18 = fromHex(`
  0200000020010200000020020800450001480f994000401115600a1400840a140001004400430134ac65010106001a9e
  b943000800000a1400840000000000000000000000000200000020020000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  00000000000000000000000000000000000000000000000000000000000000000000000000006382536335010736040a
  1400013d0701020000002002ff0000000000000000000000000000000000000000000000000000000000000000000000
  000000000000
`);
/** dhcp-dnsmasq-dhclient.pcap frame 1 (342 bytes). */
const DHCLIENT_1 = fromHex(`
  ffffffffffff020000002003080045100148000000008011399600000000ffffffff00440043013431d9010106009685
  9f5600000000000000000000000000000000000000000200000020030000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  0000000000000000000000000000000000000000000000000000000000000000000000000000638253633501010c0763
  6c69656e7432370d011c02030f06770c2c2f1a792aff0000000000000000000000000000000000000000000000000000
  000000000000
`);
/** dhcp-dnsmasq-dhclient.pcap frame 7 (342 bytes). */
const DHCLIENT_7 = fromHex(`
  ffffffffffff020000002003080045100148000000008011399600000000ffffffff004400430134795c010106009685
  9f5600000000000000000000000000000000000000000200000020030000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  00000000000000000000000000000000000000000000000000000000000000000000000000006382536335010336040a
  14000132040a1400850c07636c69656e7432370d011c02030f06770c2c2f1a792aff0000000000000000000000000000
  000000000000
`);
/** dhcp-dnsmasq-dhclient.pcap frame 8 (348 bytes). */
const DHCLIENT_8 = fromHex(`
  020000002003020000002001080045c0014e02d10000401161610a1400010a14008500430044013a7ca5020106009685
  9f5600000000000000000a1400850a140001000000000200000020030000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  00000000000000000000000000000000000000000000000000000000000000000000000000006382536335010536040a
  140001330400000e103a04000007083b0400000c4e0104ffffff001c040a1400ff0c07636c69656e74320f036c616206
  040a14000103040a140001ff
`);
/** dhcp-dnsmasq-dhclient.pcap frame 15 (342 bytes). */
const DHCLIENT_15 = fromHex(`
  020000002001020000002003080045000148b39a40004011715d0a1400850a140001004400430134ab42010106008d82
  234e000000000a1400850000000000000000000000000200000020030000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  00000000000000000000000000000000000000000000000000000000000000000000000000006382536335010736040a
  1400010c07636c69656e7432ff0000000000000000000000000000000000000000000000000000000000000000000000
  000000000000
`);
/** vpcs-dhcp-ping.pcap frame 1 (406 bytes). */
const VPCS_1 = fromHex(`
  ffffffffffff005079666801080045100188000000001011a95600000000ffffffff0044004301748ef501010600ddc1
  1a6a00000000000000000000000000000000000000000050796668010000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  0000000000000000000000000000000000000000000000000000000000000000000000000000638253633501010c0556
  504353313d0701005079666801ff00000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  00000000000000000000000000000000000000000000
`);
/** vpcs-dhcp-ping.pcap frame 10 (406 bytes). */
const VPCS_10 = fromHex(`
  020000003001005079666801080045100188000000001011a95600000000ffffffff00440043017485bd01010600ddc1
  1a6a000000000a1e00800000000000000000000000000050796668010000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  00000000000000000000000000000000000000000000000000000000000000000000000000006382536335010336040a
  1e000132040a1e00803d07010050796668010c05565043533137040103060fff00000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  00000000000000000000000000000000000000000000
`);
/** vpcs-dhcp-ping.pcap frame 11 (342 bytes). */
const VPCS_11 = fromHex(`
  005079666801020000003001080045c00148b4c000004011af680a1e00010a1e0080004300440134c36402010600ddc1
  1a6a00000000000000000a1e00800a1e0001000000000050796668010000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  00000000000000000000000000000000000000000000000000000000000000000000000000006382536335010536040a
  1e0001330400000e103a04000007083b0400000c4e0104ffffff001c040a1e00ff0f036c616206040a1e000103040a1e
  0001ff000000
`);
/** vpcs-dhcp-ping.pcap frame 25 (406 bytes). */
const VPCS_25 = fromHex(`
  02000000300100507966680108004510018800000000101194990a1e00800a1e00010044004301749711010106000000
  0000000000000a1e00800000000000000000000000000050796668010000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000063825363350107370201
  0336040a1e000132040a1e00800c0556504353313d0701005079666801ff000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  00000000000000000000000000000000000000000000
`);
/** tcp-http.pcap frame 1 (74 bytes). */
const TCP_1 = fromHex(`
  02000001010102000001011008004500003c5ef540004006c4b10a01010a0a01020ab0961f40ba6f2a3300000000a002
  a56497020000020405b40402080a84cebb390000000001030309
`);
/** tcp-http.pcap frame 2 (74 bytes). */
const TCP_2 = fromHex(`
  02000001011002000001010108004500003c000040003e0625a70a01020a0a01010a1f40b0966e270886ba6f2a34a012
  a9b0d0f30000020405b40402080a8f0fbbf484cebb3901030309
`);
/** tcp-http.pcap frame 4 (155 bytes). */
const TCP_4 = fromHex(`
  02000001010102000001011008004500008d5ef740004006c45e0a01010a0a01020ab0961f40ba6f2a346e2708878018
  0053345900000101080a84cebb398f0fbbf4474554202f66696c6535306b2e74787420485454502f312e310d0a486f73
  743a2031302e312e322e31303a383030300d0a557365722d4167656e743a206375726c2f372e38382e310d0a41636365
  70743a202a2f2a0d0a0d0a
`);
/** tcp-http.pcap frame 6 (255 bytes). */
const TCP_6 = fromHex(`
  0200000101100200000101010800450000f17d5d40003e06a7940a01020a0a01010a1f40b0966e270887ba6f2a8d8018
  00556bed00000101080a8f0fbbfa84cebb39485454502f312e3020323030204f4b0d0a5365727665723a2053696d706c
  65485454502f302e3620507974686f6e2f332e31312e320d0a446174653a205468752c203236204e6f76203230323620
  31303a34303a303220474d540d0a436f6e74656e742d747970653a20746578742f706c61696e0d0a436f6e74656e742d
  4c656e6774683a2035313230300d0a4c6173742d4d6f6469666965643a205468752c203236204e6f7620323032362031
  303a33393a353620474d540d0a0d0a
`);
/** tcp-http.pcap frame 61 (66 bytes). */
const TCP_61 = fromHex(`
  0200000101100200000101010800450000347d8240003e06a82c0a01020a0a01010a1f40b0966e27d144ba6f2a8d8011
  0055dff900000101080a8f0fbbfa84cebb3f
`);
/** tcp-http.pcap frame 65 (74 bytes). */
const TCP_65 = fromHex(`
  02000001010102000001011008004500003c335b40004006f04b0a01010a0a01020a893e1f91d31079ce00000000a002
  a56418120000020405b40402080a6a7e13450000000001030309
`);
/** tcp-http.pcap frame 66 (54 bytes). */
const TCP_66 = fromHex(`
  020000010110020000010101080045000028000040003e0625bb0a01020a0a01010a1f91893e00000000d31079cf5014
  0000a30b0000
`);
/** dns.pcap frame 3 (96 bytes). */
const DNS_3 = fromHex(`
  020000005301020000005310080045000052d1850000401194a10a35000a0a350001a83b0035003e987300af01200001
  00000000000109736f6d652d6e616d65036c6162000001000100002904d000000000000c000a000897ceead23226cdc6
`);
/** dns.pcap frame 4 (100 bytes). */
const DNS_4 = fromHex(`
  020000005310020000005301080045000056dc7e4000401149a40a3500010a35000a0035a83b00427fea00af85800001
  00010000000109736f6d652d6e616d65036c61620000010001c00c000100010000000000040a01020300002904d00000
  00000000
`);
/** dns.pcap frame 8 (110 bytes). */
const DNS_8 = fromHex(`
  020000005310020000005301080045000060dcfe40004011491a0a3500010a35000a00358686004c7eebfdb585800001
  0001000000010776362d6e616d65036c616200001c0001c00c001c0001000000000010fd000053000000000000000000
  00123400002904d0000000000000
`);
/** dns.pcap frame 10 (82 bytes). */
const DNS_10 = fromHex(`
  020000005310020000005301080045000044dd534000401148e10a3500010a35000a0035e9470030536e6e3081830001
  000000000001076d697373696e67036c6162000001000100002904d0000000000000
`);
/** dns.pcap frame 14 (90 bytes). */
const DNS_14 = fromHex(`
  02000000531002000000530108004500004cde474000401147e50a3500010a35000a0035db94003882b7cafc81850001
  000000000001056f74686572076578616d706c65000001000100002904d0000000000006000f0002000e
`);
/** dns.pcap frame 18 (122 bytes). */
const DNS_18 = fromHex(`
  02000000530102000000531008004500006ca5614000400680b60a35000a0a3500019adf0035fface2b40729e4428018
  0054fa9000000101080aa872c2749ccbf995003640290120000100000000000109736f6d652d6e616d65036c61620000
  01000100002904d000000000000c000a000842f52dbcf7a82d63
`);
/** dns.pcap frame 20 (126 bytes). */
const DNS_20 = fromHex(`
  02000000531002000000530108004500007043dc40004006e2370a3500010a35000a00359adf0729e442fface2ec8018
  0055f4f800000101080a9ccbf99aa872c274003a40298580000100010000000109736f6d652d6e616d65036c61620000
  010001c00c000100010000000000040a01020300002904d0000000000000
`);
/** ping-trace-udp.pcap frame 15 (74 bytes). */
const TRACE_15 = fromHex(`
  02000001010102000001011008004500003c124e00000111904e0a01010a0a01020ab1b0829a0028bf38404142434445
  464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f
`);
/** ping-trace-udp.pcap frame 33 (65 bytes). */
const TRACE_33 = fromHex(`
  0200000101010200000101100800450000334e3640004011d56e0a01010a0a01020a9c40270f001feaab68656c6c6f2c
  20636c6f7365642055445020706f72740a
`);

describe('udp', () => {
  it('decodes a dig query (dns.pcap frame 3) and re-encodes it byte for byte', () => {
    const f = DNS_3;
    const { src, dst, l4, len } = ip(f);
    expect(ip4ToString(src)).toBe('10.53.0.10');
    const h = decodeUdp(f, l4, len);
    expect(h).toEqual({ srcPort: 43067, dstPort: 53, length: 62, checksum: 0x9873, payloadOffset: l4 + 8, payloadLength: 54 });
    expect(udpChecksumOk(f, l4, len, src, dst)).toBe(true);
    expect([udpSrcPort(f, l4), udpDstPort(f, l4), udpLength(f, l4), udpChecksum(f, l4)]).toEqual([43067, 53, 62, 0x9873]);

    const out = new Uint8Array(len + 5);
    const payload = f.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength);
    expect(encodeUdp({ srcPort: 43067, dstPort: 53, payload }, out, 5, src, dst)).toBe(62);
    expect(toHex(out, 5)).toBe(toHex(f, l4, len));
  });

  it('checksums traceroute probes and an odd-length datagram (ping-trace-udp.pcap frames 15, 33)', () => {
    for (const [f, sport, dport, plen] of [
      [TRACE_15, 45488, 33434, 32],
      [TRACE_33, 40000, 9999, 23],
    ] as const) {
      const { src, dst, l4, len } = ip(f);
      const h = decodeUdp(f, l4, len);
      expect([h.srcPort, h.dstPort, h.payloadLength]).toEqual([sport, dport, plen]);
      expect(udpChecksumOk(f, l4, len, src, dst)).toBe(true);
      expect(udpChecksumOk(f, l4, len, src, dst + 1)).toBe(false);
      // Payload already in place: the encoder writes only the header and the checksum.
      const copy = f.slice();
      copy.fill(0xee, l4, l4 + 8);
      expect(encodeUdp({ srcPort: sport, dstPort: dport, payloadLength: plen }, copy, l4, src, dst)).toBe(plen + 8);
      expect(toHex(copy)).toBe(toHex(f));
    }
    const t = TRACE_33;
    expect(text(t.subarray(42, 42 + 23))).toBe('hello, closed UDP port\n');
  });

  it('validates DHCP datagrams between 0.0.0.0 and 255.255.255.255', () => {
    for (const f of [UDHCPC_1, UDHCPC_9, DHCLIENT_1, VPCS_1, VPCS_10]) {
      const { src, dst, l4, len } = ip(f);
      expect(ip4ToString(src)).toBe('0.0.0.0');
      expect(ip4ToString(dst)).toBe('255.255.255.255');
      expect(udpChecksumOk(f, l4, len, src, dst)).toBe(true);
    }
  });

  it('treats checksum 0 as none and sends a computed 0 as 0xffff (RFC 768)', () => {
    const src = IP('10.0.0.1');
    const dst = IP('10.0.0.2');
    const buf = new Uint8Array(10);
    encodeUdp({ srcPort: 1000, dstPort: 2000, payload: new Uint8Array(2) }, buf, 0, src, dst);
    const c0 = udpChecksum(buf, 0);
    // A payload word equal to the first checksum makes the one's-complement sum all ones.
    encodeUdp({ srcPort: 1000, dstPort: 2000, payload: Uint8Array.of(c0 >> 8, c0 & 0xff) }, buf, 0, src, dst);
    expect(udpChecksum(buf, 0)).toBe(0xffff);
    expect(udpChecksumOk(buf, 0, 10, src, dst)).toBe(true);
    expect(udpFillChecksum(buf, 0, src, dst)).toBe(0xffff);

    encodeUdp({ srcPort: 1000, dstPort: 2000, payload: Uint8Array.of(1, 2), checksum: false }, buf, 0, src, dst);
    expect(udpChecksum(buf, 0)).toBe(0);
    expect(udpChecksumOk(buf, 0, 10, src, dst + 7)).toBe(true);
    expect(udpEncodingLength({ srcPort: 1, dstPort: 2, payloadLength: 100 })).toBe(108);
  });

  it('ignores bytes past the length field and refuses impossible lengths', () => {
    const { l4, len } = ip(TRACE_33);
    const padded = new Uint8Array(len + 10);
    padded.set(TRACE_33.subarray(l4, l4 + len));
    expect(decodeUdp(padded).payloadLength).toBe(23);
    expect(() => decodeUdp(padded, 0, 30)).toThrow(DecodeError);
    expect(() => decodeUdp(padded, 0, 7)).toThrow(DecodeError);
    expect(() => decodeUdp(padded, 40, 8)).toThrow(DecodeError);
    const bad = padded.slice(0, 31);
    bad[5] = 7;
    expect(() => decodeUdp(bad)).toThrow(/length field 7/);
    expect(udpChecksumOk(bad, 0, 31, 0, 0)).toBe(false);
    expect(() => encodeUdp({ srcPort: 1, dstPort: 2, payloadLength: 5 }, new Uint8Array(12), 0, 0, 0)).toThrow(EncodeError);
  });
});

describe('tcp', () => {
  const synOptions: TcpOption[] = [
    { type: 'mss', mss: 1460 },
    { type: 'sackPermitted' },
    { type: 'timestamp', value: 0x84cebb39, echo: 0 },
    { type: 'nop' },
    { type: 'wscale', shift: 9 },
  ];

  it('decodes a Linux SYN (tcp-http.pcap frame 1) and rebuilds it from linuxTcpOptions', () => {
    const f = TCP_1;
    const { src, dst, l4, len } = ip(f);
    const h = decodeTcp(f, l4, len);
    expect(h).toMatchObject({
      srcPort: 45206,
      dstPort: 8000,
      seq: 0xba6f2a33,
      ack: 0,
      headerLength: 40,
      reserved: 0,
      flags: TCP_SYN,
      window: 42340,
      checksum: 0x9702,
      urgent: 0,
      payloadOffset: l4 + 40,
      payloadLength: 0,
    });
    expect(h.options).toEqual(synOptions);
    expect(tcpFlagNames(h.flags)).toBe('SYN');
    expect(tcpChecksumOk(f, l4, len, src, dst)).toBe(true);
    expect(tcpChecksumOk(f, l4, len, dst, src + 1)).toBe(false);
    expect(tcpMssAt(f, l4)).toBe(1460);
    expect(tcpOption(h.options, 'wscale')?.shift).toBe(9);

    const options = linuxTcpOptions({ mss: 1460, sackPermitted: true, timestamp: { value: 0x84cebb39, echo: 0 }, windowScale: 9 });
    expect(options).toEqual(synOptions);
    const out = new Uint8Array(len);
    const n = encodeTcp({ srcPort: 45206, dstPort: 8000, seq: 0xba6f2a33, ack: 0, flags: TCP_SYN, window: 42340, options }, out, 0, src, dst);
    expect(n).toBe(40);
    expect(toHex(out)).toBe(toHex(f, l4, len));
  });

  it('decodes the SYN-ACK (frame 2)', () => {
    const { src, dst, l4, len } = ip(TCP_2);
    const h = decodeTcp(TCP_2, l4, len);
    expect(h).toMatchObject({ srcPort: 8000, dstPort: 45206, seq: 0x6e270886, ack: 0xba6f2a34, flags: TCP_SYN | TCP_ACK, window: 43440 });
    expect(tcpFlagNames(h.flags)).toBe('SYN, ACK');
    expect(tcpOption(h.options, 'timestamp')).toEqual({ type: 'timestamp', value: 0x8f0fbbf4, echo: 0x84cebb39 });
    expect(tcpChecksumOk(TCP_2, l4, len, src, dst)).toBe(true);
    expect(tcpSrcPort(TCP_2, l4)).toBe(8000);
    expect(tcpDstPort(TCP_2, l4)).toBe(45206);
    expect(tcpSeq(TCP_2, l4)).toBe(0x6e270886);
    expect(tcpAck(TCP_2, l4)).toBe(0xba6f2a34);
    expect(tcpFlags(TCP_2, l4)).toBe(0x12);
    expect(tcpWindow(TCP_2, l4)).toBe(43440);
    expect(tcpDataOffset(TCP_2, l4)).toBe(40);
  });

  it('decodes data segments without copying and re-encodes them exactly (frames 4, 6, 61)', () => {
    for (const [f, flags, plen, start] of [
      [TCP_4, TCP_PSH | TCP_ACK, 89, 'GET /file50k.txt HTTP/1.1\r\n'],
      [TCP_6, TCP_PSH | TCP_ACK, 189, 'HTTP/1.0 200 OK\r\n'],
      [TCP_61, TCP_FIN | TCP_ACK, 0, ''],
    ] as const) {
      const { src, dst, l4, len } = ip(f);
      const h = decodeTcp(f, l4, len);
      expect(h.flags).toBe(flags);
      expect(h.headerLength).toBe(32);
      expect(h.options.map((o) => o.type)).toEqual(['nop', 'nop', 'timestamp']);
      expect(h.payloadLength).toBe(plen);
      const payload = f.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength);
      expect(payload.buffer).toBe(f.buffer);
      expect(text(payload).startsWith(start)).toBe(true);
      expect(tcpChecksumOk(f, l4, len, src, dst)).toBe(true);

      const out = new Uint8Array(len);
      expect(encodeTcp({ ...h, payload }, out, 0, src, dst)).toBe(len);
      expect(toHex(out)).toBe(toHex(f, l4, len));
      // Payload already in place after the header.
      const inPlace = f.slice();
      inPlace.fill(0, l4, l4 + 32);
      encodeTcp({ ...h, payloadLength: plen }, inPlace, l4, src, dst);
      expect(toHex(inPlace)).toBe(toHex(f));
    }
    expect(tcpFlagNames(TCP_FIN | TCP_PSH | TCP_ACK)).toBe('FIN, PSH, ACK');
  });

  it('decodes the refused connection: RST/ACK with no options (frames 65, 66)', () => {
    const syn = ip(TCP_65);
    expect(decodeTcp(TCP_65, syn.l4, syn.len).options).toEqual([
      { type: 'mss', mss: 1460 },
      { type: 'sackPermitted' },
      { type: 'timestamp', value: 0x6a7e1345, echo: 0 },
      { type: 'nop' },
      { type: 'wscale', shift: 9 },
    ]);
    const { src, dst, l4, len } = ip(TCP_66);
    const h = decodeTcp(TCP_66, l4, len);
    expect(h).toMatchObject({ srcPort: 8081, dstPort: 35134, seq: 0, ack: 0xd31079cf, flags: TCP_RST | TCP_ACK, window: 0, headerLength: 20, options: [] });
    expect(h.ack).toBe(seqAdd(decodeTcp(TCP_65, syn.l4, syn.len).seq, 1));
    expect(tcpFlagNames(h.flags)).toBe('RST, ACK');
    expect(tcpMssAt(TCP_66, l4)).toBe(-1);
    const out = new Uint8Array(20);
    encodeTcp({ srcPort: 8081, dstPort: 35134, seq: 0, ack: 0xd31079cf, flags: TCP_RST | TCP_ACK, window: 0 }, out, 0, src, dst);
    expect(toHex(out)).toBe(toHex(TCP_66, l4, len));
  });

  it('carries DNS over TCP (dns.pcap frames 18, 20)', () => {
    for (const f of [DNS_18, DNS_20]) {
      const { src, dst, l4, len } = ip(f);
      const h = decodeTcp(f, l4, len);
      expect(tcpChecksumOk(f, l4, len, src, dst)).toBe(true);
      const msgLen = u16(f, h.payloadOffset);
      expect(msgLen).toBe(h.payloadLength - 2);
      const m = decodeDns(f, h.payloadOffset + 2, msgLen);
      expect(m.questions).toEqual([{ name: 'some-name.lab', type: 'A', class: 'IN' }]);
    }
  });

  it('keeps unknown and odd-length options raw, pads with EOL, and refuses bad lengths', () => {
    const options: TcpOption[] = [
      { type: 'raw', kind: 30, data: Uint8Array.of(1, 2, 3) },
      { type: 'raw', kind: 2, data: Uint8Array.of(5) }, // MSS with length 3
      { type: 'sack', blocks: [{ left: 0xfffffff0, right: 0x10 }] },
    ];
    const seg = { srcPort: 1, dstPort: 2, seq: -1, ack: 2 ** 32 + 5, flags: TCP_ACK, window: 1, options };
    const buf = new Uint8Array(tcpEncodingLength(seg));
    expect(buf.length).toBe(20 + 20); // 5 + 3 + 10 = 18, padded to 20
    encodeTcp(seg, buf, 0, 1, 2);
    const h = decodeTcp(buf);
    expect(h.seq).toBe(0xffffffff);
    expect(h.ack).toBe(5);
    expect(h.options).toEqual([...options, { type: 'eol' }]);
    expect(toHex(buf, 38, 2)).toBe('0000');
    expect(tcpMssAt(buf, 0)).toBe(-1);

    buf[21] = 1; // option length below 2
    expect(() => decodeTcp(buf)).toThrow(DecodeError);
    buf[21] = 30; // overruns the header
    expect(() => decodeTcp(buf)).toThrow(/overruns/);
    buf[12] = 0x40; // data offset 4
    expect(() => decodeTcp(buf)).toThrow(DecodeError);
    buf[12] = 0xf0; // 60 > 40 bytes
    expect(() => decodeTcp(buf)).toThrow(DecodeError);
    expect(() => decodeTcp(buf, 0, 19)).toThrow(DecodeError);
    expect(() =>
      encodeTcp({ ...seg, options: [{ type: 'raw', kind: 99, data: new Uint8Array(40) }] }, new Uint8Array(100), 0, 0, 0),
    ).toThrow(EncodeError);
  });

  it('builds the Linux layouts for data segments and SACK', () => {
    expect(linuxTcpOptions({ timestamp: { value: 1, echo: 2 } }).map((o) => o.type)).toEqual(['nop', 'nop', 'timestamp']);
    expect(linuxTcpOptions({ mss: 536, sackPermitted: true, windowScale: 7 }).map((o) => o.type)).toEqual([
      'mss',
      'nop',
      'nop',
      'sackPermitted',
      'nop',
      'wscale',
    ]);
    const sack = linuxTcpOptions({ timestamp: { value: 1, echo: 2 }, sack: [{ left: 10, right: 20 }] });
    expect(sack.map((o) => o.type)).toEqual(['nop', 'nop', 'timestamp', 'nop', 'nop', 'sack']);
    expect(tcpEncodingLength({ srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0, options: sack })).toBe(20 + 24);
  });

  it('compares sequence numbers across the wrap', () => {
    expect(seqLt(0xfffffff0, 0x10)).toBe(true);
    expect(seqLt(0x10, 0xfffffff0)).toBe(false);
    expect(seqLe(5, 5)).toBe(true);
    expect(seqAdd(0xffffffff, 2)).toBe(1);
  });
});

const DHCP_FRAMES: ReadonlyArray<readonly [string, Uint8Array]> = [
  ['udhcpc 1 Discover', UDHCPC_1],
  ['udhcpc 6 Offer', UDHCPC_6],
  ['udhcpc 9 Request', UDHCPC_9],
  ['udhcpc 10 ACK', UDHCPC_10],
  ['udhcpc 18 Release', UDHCPC_18],
  ['dhclient 1 Discover', DHCLIENT_1],
  ['dhclient 7 Request', DHCLIENT_7],
  ['dhclient 8 ACK', DHCLIENT_8],
  ['dhclient 15 Release', DHCLIENT_15],
  ['vpcs 1 Discover', VPCS_1],
  ['vpcs 10 Request', VPCS_10],
  ['vpcs 11 ACK', VPCS_11],
  ['vpcs 25 Release', VPCS_25],
];

function dhcpOf(f: Uint8Array) {
  const { l4 } = ip(f);
  const u = decodeUdp(f, l4, ip(f).len);
  return { msg: decodeDhcp(f, u.payloadOffset, u.payloadLength), off: u.payloadOffset, len: u.payloadLength };
}

describe('dhcp', () => {
  it.each(DHCP_FRAMES)('re-encodes %s byte for byte', (_name, f) => {
    const { msg, off, len } = dhcpOf(f);
    expect(dhcpEncodingLength(msg)).toBe(len);
    const out = new Uint8Array(len + 3);
    expect(encodeDhcp(msg, out, 3)).toBe(len);
    expect(toHex(out, 3)).toBe(toHex(f, off, len));
    expect(dhcpMessageTypeAt(f, off, len)).toBe(readDhcpFields(msg.options).messageType);
    expect(dhcpXid(f, off)).toBe(msg.xid);
    expect(dhcpChaddr(f, off)).toBe(msg.chaddr);
    // The whole UDP datagram, checksum included, from the encoders.
    const { src, dst, l4, len: ulen } = ip(f);
    const dgram = new Uint8Array(ulen);
    encodeDhcp(msg, dgram, 8);
    encodeUdp({ srcPort: u16(f, l4), dstPort: u16(f, l4 + 2), payloadLength: len }, dgram, 0, src, dst);
    expect(toHex(dgram)).toBe(toHex(f, l4, ulen));
  });

  it('decodes udhcpc Discover (dhcp-dnsmasq-udhcpc.pcap frame 1)', () => {
    const { msg, len } = dhcpOf(UDHCPC_1);
    expect(len).toBe(300);
    expect(msg).toMatchObject({ op: 1, htype: 1, hlen: 6, hops: 0, xid: 0x0d172a66, secs: 0, flags: 0, ciaddr: 0, yiaddr: 0, siaddr: 0, giaddr: 0 });
    expect(macToString(msg.chaddr)).toBe('02:00:00:00:20:02');
    expect(msg.chaddrRaw).toBeUndefined();
    expect([msg.sname, msg.file]).toEqual(['', '']);
    expect(msg.options.map((o) => o.code)).toEqual([53, 57, 55, 12, 60, 61]);
    expect([msg.missingEnd, msg.padding, msg.trailer]).toEqual([false, 11, undefined]);
    expect(readDhcpFields(msg.options)).toEqual({
      messageType: DhcpMessageType.DISCOVER,
      maxMessageSize: 576,
      parameterRequestList: [1, 3, 6, 12, 15, 28, 42],
      hostname: 'client1',
      vendorClass: 'udhcp 1.35.0',
      clientId: dhcpClientIdFromMac(parseMac('02:00:00:00:20:02')!),
    });
    expect(dhcpMessageTypeName(1)).toBe('DISCOVER');
    // udhcpc pads to the BOOTP minimum, which is also the encoder's default.
    const { padding: _p, ...noPadding } = msg;
    expect(dhcpEncodingLength(noPadding)).toBe(BOOTP_MIN_LEN);
  });

  it("decodes dnsmasq's Offer and rebuilds it from typed fields (frame 6)", () => {
    const { msg, off, len } = dhcpOf(UDHCPC_6);
    const fields = readDhcpFields(msg.options);
    expect(fields).toEqual({
      messageType: DhcpMessageType.OFFER,
      serverId: IP('10.20.0.1'),
      leaseTime: 3600,
      renewalTime: 1800,
      rebindingTime: 3150,
      subnetMask: IP('255.255.255.0'),
      broadcastAddress: IP('10.20.0.255'),
      domainName: 'lab',
      dns: [IP('10.20.0.1')],
      routers: [IP('10.20.0.1')],
    });
    expect(msg).toMatchObject({ op: 2, xid: 0x0d172a66, yiaddr: IP('10.20.0.132'), siaddr: IP('10.20.0.1'), padding: 3 });

    // What a DHCP server emulating dnsmasq writes: fields in dnsmasq's order, default padding.
    const out = new Uint8Array(len);
    const n = encodeDhcp(
      {
        op: 2,
        xid: 0x0d172a66,
        chaddr: parseMac('02:00:00:00:20:02')!,
        yiaddr: IP('10.20.0.132'),
        siaddr: IP('10.20.0.1'),
        options: dhcpOptionsFrom({
          messageType: DhcpMessageType.OFFER,
          serverId: IP('10.20.0.1'),
          leaseTime: 3600,
          renewalTime: 1800,
          rebindingTime: 3150,
          subnetMask: IP('255.255.255.0'),
          broadcastAddress: IP('10.20.0.255'),
          domainName: 'lab',
          dns: [IP('10.20.0.1')],
          routers: [IP('10.20.0.1')],
        }),
      },
      out,
      0,
    );
    expect(n).toBe(300);
    expect(toHex(out)).toBe(toHex(UDHCPC_6, off, len));
  });

  it('decodes Request, ACK and Release from udhcpc (frames 9, 10, 18)', () => {
    const req = dhcpOf(UDHCPC_9);
    expect(req.len).toBe(301);
    expect(req.msg.secs).toBe(3);
    expect(req.msg.padding).toBe(0);
    expect(readDhcpFields(req.msg.options)).toMatchObject({ messageType: 3, requestedIp: IP('10.20.0.132'), serverId: IP('10.20.0.1') });

    const ack = dhcpOf(UDHCPC_10);
    expect(ack.len).toBe(306);
    const af = readDhcpFields(ack.msg.options);
    expect(dhcpMessageTypeName(af.messageType!)).toBe('ACK');
    expect(af.hostname).toBe('client1');
    expect(ip4ToString(ack.msg.yiaddr)).toBe('10.20.0.132');

    const rel = dhcpOf(UDHCPC_18);
    expect(rel.msg.xid).toBe(0x1a9eb943);
    expect(ip4ToString(rel.msg.ciaddr)).toBe('10.20.0.132');
    expect(rel.msg.padding).toBe(41);
    expect(rel.msg.options.map((o) => o.code)).toEqual([53, 54, 61]);
    expect(dhcpMessageTypeName(readDhcpFields(rel.msg.options).messageType!)).toBe('RELEASE');
  });

  it('decodes dhclient messages (dhcp-dnsmasq-dhclient.pcap frames 1, 7, 15)', () => {
    const d = dhcpOf(DHCLIENT_1).msg;
    expect(macToString(d.chaddr)).toBe('02:00:00:00:20:03');
    expect(readDhcpFields(d.options)).toEqual({
      messageType: 1,
      hostname: 'client2',
      parameterRequestList: [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42],
    });
    expect(d.padding).toBe(32);
    const r = dhcpOf(DHCLIENT_7).msg;
    expect(r.options.map((o) => o.code)).toEqual([53, 54, 50, 12, 55]);
    expect(readDhcpFields(r.options).requestedIp).toBe(IP('10.20.0.133'));
    expect(r.padding).toBe(20);
    const rel = dhcpOf(DHCLIENT_15).msg;
    expect(rel.options.map((o) => o.code)).toEqual([53, 54, 12]);
    expect(rel.ciaddr).toBe(IP('10.20.0.133'));
  });

  it('decodes VPCS messages, 364 bytes with 104 bytes of padding (vpcs-dhcp-ping.pcap frames 1, 10, 25)', () => {
    const d = dhcpOf(VPCS_1);
    expect(d.len).toBe(364);
    expect(d.msg.padding).toBe(104);
    expect(macToString(d.msg.chaddr)).toBe('00:50:79:66:68:01');
    expect(readDhcpFields(d.msg.options)).toEqual({
      messageType: 1,
      hostname: 'VPCS1',
      clientId: Uint8Array.of(1, 0x00, 0x50, 0x79, 0x66, 0x68, 0x01),
    });
    const r = dhcpOf(VPCS_10).msg;
    expect(r.ciaddr).toBe(IP('10.30.0.128'));
    expect(readDhcpFields(r.options)).toMatchObject({ messageType: 3, serverId: IP('10.30.0.1'), requestedIp: IP('10.30.0.128'), parameterRequestList: [1, 3, 6, 15] });
    const rel = dhcpOf(VPCS_25).msg;
    expect(rel.xid).toBe(0);
    expect(rel.options.map((o) => o.code)).toEqual([53, 55, 54, 50, 12, 61]);
    expect(dhcpOf(VPCS_11).msg.yiaddr).toBe(IP('10.30.0.128'));
  });

  it('preserves PADs, unknown options, a non-zero trailer, odd chaddr and overloaded sname/file', () => {
    const sname = new Uint8Array(64);
    // Options carried in sname (overload 2); the leading PAD makes it read as an empty string.
    sname.set([DhcpOpt.PAD, DhcpOpt.HOSTNAME, 2, 0x61, 0x62, DhcpOpt.END]);
    const chaddrRaw = new Uint8Array(16).fill(7);
    const msg = {
      op: 1,
      xid: 42,
      chaddr: 0x070707070707,
      chaddrRaw,
      snameRaw: sname,
      flags: 0x8000,
      options: [
        { code: DhcpOpt.MESSAGE_TYPE, data: Uint8Array.of(8) },
        { code: 0, data: new Uint8Array(0) },
        { code: DhcpOpt.OVERLOAD, data: Uint8Array.of(2) },
        { code: 224, data: Uint8Array.of(9, 9) },
        { code: DhcpOpt.RELAY_AGENT_INFO, data: Uint8Array.of(1, 2, 0xaa, 0xbb) },
      ],
      trailer: Uint8Array.of(0, 0, 5),
    };
    const buf = new Uint8Array(dhcpEncodingLength(msg));
    expect(buf.length).toBe(240 + 3 + 1 + 3 + 4 + 6 + 1 + 3);
    encodeDhcp(msg, buf, 0);
    const d = decodeDhcp(buf);
    expect(d).toMatchObject({ ...msg, sname: '', file: '', missingEnd: false, padding: 3 });
    expect(readDhcpFields(d.options)).toEqual({
      messageType: DhcpMessageType.INFORM,
      overload: 2,
      relayAgentInfo: Uint8Array.of(1, 2, 0xaa, 0xbb),
    });
    const again = new Uint8Array(buf.length);
    encodeDhcp(d, again, 0);
    expect(toHex(again)).toBe(toHex(buf));
  });

  it('splits and joins long options (RFC 3396), and refuses malformed messages', () => {
    const routers = Array.from({ length: 70 }, (_, i) => IP('10.0.0.0') + i);
    const opts = dhcpOptionsFrom({ routers });
    expect(opts.map((o) => o.data.length)).toEqual([255, 25]);
    expect(readDhcpFields(opts).routers).toEqual(routers);
    expect(dhcpOptionData(opts, DhcpOpt.ROUTER)!.length).toBe(280);
    expect(() => readDhcpFields([{ code: DhcpOpt.SUBNET_MASK, data: Uint8Array.of(255, 255, 255) }])).toThrow(DecodeError);
    expect(() => dhcpOptionsFrom({ bogus: 1 } as DhcpFields)).toThrow(EncodeError);
    expect(() => encodeDhcp({ op: 1, xid: 1, chaddr: 1, options: [{ code: 77, data: new Uint8Array(256) }] }, new Uint8Array(600))).toThrow(EncodeError);

    const { off, len } = dhcpOf(UDHCPC_1);
    const body = UDHCPC_1.slice(off, off + len);
    expect(() => decodeDhcp(body, 0, 239)).toThrow(DecodeError);
    const noCookie = body.slice();
    noCookie[236] = 0;
    expect(() => decodeDhcp(noCookie)).toThrow(/magic cookie/);
    expect(dhcpMessageTypeAt(noCookie, 0)).toBe(-1);
    // Cut inside the hostname option.
    expect(() => decodeDhcp(body, 0, 240 + 3 + 4 + 9 + 3)).toThrow(/overruns/);
    // Cut right after the options, before END: accepted, marked.
    const cut = decodeDhcp(body, 0, 240 + 3 + 4 + 9 + 9 + 14 + 9);
    expect(cut.missingEnd).toBe(true);
    expect(cut.options).toHaveLength(6);
  });
});

describe('dns', () => {
  function dnsOf(f: Uint8Array) {
    const { l4, len } = ip(f);
    const u = decodeUdp(f, l4, len);
    return { p: decodeDns(f, u.payloadOffset, u.payloadLength), off: u.payloadOffset, len: u.payloadLength };
  }

  it('decodes a dig query with EDNS cookie and re-encodes it exactly (dns.pcap frame 3)', () => {
    const { p, off, len } = dnsOf(DNS_3);
    expect(p.id).toBe(175);
    expect(p.type).toBe('query');
    expect(p.flags).toBe(DNS_FLAG_RD | DNS_FLAG_AD);
    expect(p.opcode).toBe('QUERY');
    expect(p.questions).toEqual([{ name: 'some-name.lab', type: 'A', class: 'IN' }]);
    const opt = p.additionals![0] as DnsOptAnswer;
    expect(opt.type).toBe('OPT');
    expect(opt.udpPayloadSize).toBe(1232);
    expect(opt.options).toHaveLength(1);
    expect(opt.options[0]!.code).toBe(10);
    expect(toHex(opt.options[0]!.data!)).toBe('97ceead23226cdc6');
    expect(dnsId(DNS_3, off)).toBe(175);
    expect(dnsIsResponse(DNS_3, off)).toBe(false);

    expect(dnsEncodingLength(p)).toBe(len);
    const out = new Uint8Array(len + 8).subarray(4); // a view with a non-zero byteOffset
    expect(encodeDns(p, out, 2)).toBe(len);
    expect(toHex(out, 2, len)).toBe(toHex(DNS_3, off, len));
  });

  it('decodes answers; dns-packet does not compress names, so replies grow (frames 4, 8)', () => {
    const a = dnsOf(DNS_4);
    expect(a.p.type).toBe('response');
    expect(a.p.rcode).toBe('NOERROR');
    expect(a.p.flag_aa).toBe(true);
    expect(dnsAnswersOf(a.p, 'A')).toEqual([{ name: 'some-name.lab', type: 'A', ttl: 0, class: 'IN', flush: false, data: '10.1.2.3' }]);
    expect(dnsIsResponse(DNS_4, a.off)).toBe(true);
    const buf = new Uint8Array(dnsEncodingLength(a.p));
    expect(buf.length).toBe(a.len + 13); // the answer's name written out instead of a 2-byte pointer
    encodeDns(a.p, buf);
    expect(decodeDns(buf)).toEqual(a.p);

    const v6 = dnsOf(DNS_8);
    expect(dnsAnswersOf(v6.p, 'AAAA').map((r) => r.data)).toEqual(['fd00:53::1234']);
  });

  it('decodes NXDOMAIN and REFUSED with an Extended DNS Error and re-encodes them exactly (frames 10, 14)', () => {
    for (const [f, rcode, name] of [
      [DNS_10, 'NXDOMAIN', 'missing.lab'],
      [DNS_14, 'REFUSED', 'other.example'],
    ] as const) {
      const { p, off, len } = dnsOf(f);
      expect(p.rcode).toBe(rcode);
      expect(p.questions![0]!.name).toBe(name);
      expect(p.answers).toEqual([]);
      const out = new Uint8Array(len);
      encodeDns(p, out);
      expect(toHex(out)).toBe(toHex(f, off, len));
    }
    const ede = (dnsOf(DNS_14).p.additionals![0] as DnsOptAnswer).options[0]!;
    expect(ede.code as number).toBe(15);
    expect(toHex(ede.data!)).toBe('000e');
  });

  it('wraps library errors in DecodeError and EncodeError', () => {
    const { off, len } = dnsOf(DNS_3);
    expect(() => decodeDns(DNS_3, off, 11)).toThrow(DecodeError);
    expect(() => decodeDns(DNS_3, off, len - 5)).toThrow(DecodeError);
    expect(() => decodeDns(DNS_3, off, len + 100)).toThrow(DecodeError);
    const loop = fromHex('0000 0100 0001 0000 0000 0000 c00c 0001 0001');
    expect(() => decodeDns(loop)).toThrow(DecodeError);
    const q: DnsPacket = { id: 1, type: 'query', questions: [{ name: 'a.lab', type: 'A' }] };
    expect(() => encodeDns(q, new Uint8Array(10))).toThrow(EncodeError);
    expect(() => encodeDns({ answers: [{ name: 'x', type: 'MX' } as DnsAnswer] }, new Uint8Array(100))).toThrow(EncodeError);
  });
});
