/**
 * IPv6, ICMPv6, Neighbor Discovery and MLDv2 codecs: RFC 5952 address text, EUI-64 and
 * solicited-node derivations, the extension-header walk and its parameter problems, and every
 * frame of a real Linux capture (tests/fixtures/captures/ipv6-nd-dhcpv6.pcap) decoded and
 * re-encoded byte for byte.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, macToString, parseMac, toHex } from '../../devices/wire/bytes.js';
import { DecodeError } from '../../devices/wire/errors.js';
import { ETHERTYPE, decodeEthernet } from '../../devices/wire/ethernet.js';
import {
  ip6FromPrefixAndMac,
  ip6PrefixMatch,
  ip6ToString,
  linkLocalFromMac,
  multicastMac,
  parseIp6,
  parseIp6Prefix,
  solicitedNode,
} from '../../devices/wire/ip6addr.js';
import {
  IPV6_VERDICT,
  NEXT_HEADER,
  PARAM_PROBLEM,
  buildIpv6Packet,
  decodeIpv6,
  encodeIpv6Headers,
  fragment6,
  ipv6AddressSum,
  ipv6HeadersLength,
  ipv6Reassembled,
  newIpv6Walk,
  walkIpv6,
  type Ipv6Extension,
} from '../../devices/wire/ipv6.js';
import {
  ICMPV6_MAX_QUOTE,
  buildIcmpv6Packet,
  decodeIcmpv6,
  decodeQuotedIpv6,
  encodeIcmpv6,
  icmpv6ErrorAllowed,
  icmpv6ErrorMessage,
  icmpv6FillChecksum,
  icmpv6Length,
  ndInvalid,
  ndOption,
  type Icmpv6Decoded,
  type Icmpv6Message,
} from '../../devices/wire/icmpv6.js';
import { decodeUdp, encodeUdp6, udpChecksumOk6 } from '../../devices/wire/udp.js';
import { encodeTcp6, tcpChecksumOk6 } from '../../devices/wire/tcp.js';
import { concat, pcapFrames } from '../helpers/pcapng.js';

const ip6 = (s: string): Uint8Array => parseIp6(s)!;
const CAPTURE = pcapFrames(new Uint8Array(readFileSync(new URL('../fixtures/captures/ipv6-nd-dhcpv6.pcap', import.meta.url))));

describe('IPv6 address text (RFC 4291 2.2, RFC 5952)', () => {
  it.each([
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], // 4.1 leading zeros, 4.2.1 longest run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // 4.2.3 first of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2 one zero group stays
    ['2001:DB8::AbCd', '2001:db8::abcd'], // 4.3 lower case
    ['2001:db8::0:1', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['fe80::ff:fe00:a', 'fe80::ff:fe00:a'],
    ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'], // the longer run wins even at the end
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // 5: IPv4-mapped keeps the dotted quad
    ['::ffff:c000:0201', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['ff02:0:0:0:0:1:ff00:a', 'ff02::1:ff00:a'],
  ])('%s -> %s', (text, canonical) => {
    const a = parseIp6(text);
    expect(a).not.toBeNull();
    expect(ip6ToString(a!)).toBe(canonical);
    expect(ip6ToString(parseIp6(canonical)!)).toBe(canonical);
  });

  it.each(['', ':', ':::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7::8', '::1.2.3', '::256.1.1.1', 'fe80::1%eth0', '1.2.3.4', ':1::', '1::2:'])(
    'refuses %j',
    (text) => {
      expect(parseIp6(text)).toBeNull();
    },
  );

  it('parses prefixes and matches them bit by bit', () => {
    const p = parseIp6Prefix('2001:db8:8::/64')!;
    expect(p.prefix).toBe(64);
    expect(ip6PrefixMatch(ip6('2001:db8:8::1234'), 0, p.ip, 0, 64)).toBe(true);
    expect(ip6PrefixMatch(ip6('2001:db8:9::1'), 0, p.ip, 0, 64)).toBe(false);
    expect(ip6PrefixMatch(ip6('2001:db8:ff::'), 0, ip6('2001:db8:f0::'), 0, 44)).toBe(true);
    expect(ip6PrefixMatch(ip6('2001:db8:ff::'), 0, ip6('2001:db8:f0::'), 0, 45)).toBe(false);
    expect(parseIp6Prefix('2001:db8::/129')).toBeNull();
    expect(parseIp6Prefix('2001:db8::')).toBeNull();
  });
});

describe('derived addresses', () => {
  // The capture's hosts: Linux formed fe80::ff:fe00:a from 02:00:00:00:00:0a.
  const mac = parseMac('02:00:00:00:00:0a')!;
  it('EUI-64 link-local and SLAAC address flip the U/L bit and insert ff:fe (RFC 4291 appendix A)', () => {
    expect(ip6ToString(linkLocalFromMac(mac))).toBe('fe80::ff:fe00:a');
    expect(ip6ToString(linkLocalFromMac(parseMac('52:54:00:12:34:56')!))).toBe('fe80::5054:ff:fe12:3456');
    expect(ip6ToString(ip6FromPrefixAndMac(ip6('2001:db8:1::'), parseMac('00:1b:21:0a:0b:0c')!))).toBe('2001:db8:1:0:21b:21ff:fe0a:b0c');
  });
  it('solicited-node group and its 33:33 MAC (RFC 4291 2.7.1, RFC 2464 7)', () => {
    const sn = solicitedNode(ip6('2001:db8:1::17e'));
    expect(ip6ToString(sn)).toBe('ff02::1:ff00:17e');
    expect(macToString(multicastMac(sn))).toBe('33:33:ff:00:01:7e');
    expect(macToString(multicastMac(ip6('ff02::16')))).toBe('33:33:00:00:00:16');
  });
});

/** Re-encodes a decoded packet from its fields alone and returns the bytes. */
function reencode(pkt: Uint8Array, ipOff: number): Uint8Array {
  const d = decodeIpv6(pkt, ipOff);
  const exts: Ipv6Extension[] = d.extensions.map((e) => {
    const { nextHeader: _n, offset: _o, length: _l, ...ext } = e;
    return ext as Ipv6Extension;
  });
  const init = { src: d.src, dst: d.dst, protocol: d.protocol, hopLimit: d.hopLimit, trafficClass: d.trafficClass, flowLabel: d.flowLabel, extensions: exts };
  const out = new Uint8Array(ipv6HeadersLength(init) + d.upperLength);
  const p = encodeIpv6Headers(init, d.upperLength, out, 0);
  if (d.protocol === NEXT_HEADER.ICMPV6 && !d.fragment) {
    const m = decodeIcmpv6(pkt, d.payloadOffset, d.upperLength, ipv6AddressSum(pkt, ipOff));
    const { type: _t, checksum: _c, checksumOk: _k, ...msg } = m;
    encodeIcmpv6(msg as Icmpv6Message, out, p, ipv6AddressSum(out, 0));
  } else {
    out.set(pkt.subarray(d.payloadOffset, d.payloadOffset + d.upperLength), p);
  }
  return out;
}

describe('a real Linux capture, byte for byte', () => {
  const frames = CAPTURE.map((f) => {
    const eth = decodeEthernet(f);
    expect(eth.etherType).toBe(ETHERTYPE.IPV6);
    return { f, o: eth.payloadOffset, d: decodeIpv6(f, eth.payloadOffset) };
  });
  const icmp = (i: number): Icmpv6Decoded => {
    const { f, o, d } = frames[i - 1]!;
    return decodeIcmpv6(f, d.payloadOffset, d.upperLength, ipv6AddressSum(f, o));
  };

  it('every frame decodes, sums correctly and re-encodes to the same bytes', () => {
    expect(frames).toHaveLength(46);
    for (const { f, o, d } of frames) {
      expect(d.verdict).toBe(IPV6_VERDICT.DELIVER);
      if (d.protocol === NEXT_HEADER.ICMPV6 && !d.fragment) expect(icmp(frames.findIndex((x) => x.f === f) + 1).checksumOk).toBe(true);
      if (d.protocol === NEXT_HEADER.UDP) expect(udpChecksumOk6(f, d.payloadOffset, d.upperLength, ipv6AddressSum(f, o))).toBe(true);
      expect(toHex(reencode(f, o))).toBe(toHex(f.subarray(o)));
    }
  });

  it('MLDv2 report behind a hop-by-hop Router Alert (frame 5)', () => {
    const d = frames[4]!.d;
    expect(d.hopLimit).toBe(1);
    expect(d.extensions[0]).toMatchObject({ kind: 'hopByHop', nextHeader: 58, length: 8 });
    const m = icmp(5);
    if (m.kind !== 'mldv2Report') throw new Error(m.kind);
    expect(m.records.map((r) => [r.recordType, ip6ToString(r.group), r.sources.length])).toEqual(
      m.records.map((r) => [r.recordType, ip6ToString(r.group), 0]),
    );
    expect(m.records.every((r) => r.recordType === 4 || r.recordType === 3)).toBe(true);
  });

  it('DAD neighbor solicitation from :: with a nonce option (frame 7)', () => {
    expect(ip6ToString(frames[6]!.d.src)).toBe('::');
    const m = icmp(7);
    // Linux adds the RFC 7527 nonce (option 14) to DAD probes; unknown here, so kept raw.
    expect(m).toMatchObject({ kind: 'neighborSolicitation', options: [{ type: 'raw', code: 14 }] });
    if (m.kind === 'neighborSolicitation') expect(ip6ToString(m.target)).toBe('fe80::ff:fe00:a');
  });

  it('router solicitation and dnsmasq router advertisement (frames 10, 11)', () => {
    expect(icmp(10)).toMatchObject({ kind: 'routerSolicitation', options: [{ type: 'sourceLinkLayer', mac: 0x02000000000a }] });
    const ra = icmp(11);
    if (ra.kind !== 'routerAdvertisement') throw new Error(ra.kind);
    expect(ra).toMatchObject({ curHopLimit: 64, managed: true, other: true });
    const pi = ndOption(ra.options, 'prefixInfo')!;
    expect([ip6ToString(pi.prefix), pi.prefixLength, pi.onLink, pi.autonomous]).toEqual(['2001:db8:1::', 64, true, false]);
    expect(ndOption(ra.options, 'mtu')?.mtu).toBe(1500);
    expect(ndOption(ra.options, 'sourceLinkLayer')?.mac).toBe(0x02000000000b);
    expect(ndOption(ra.options, 'rdnss')?.servers.map((s) => ip6ToString(s))).toEqual(['2001:db8:1::1']);
  });

  it('every ND message Linux and dnsmasq sent passes the RFC 4861 validity checks', () => {
    let nd = 0;
    frames.forEach(({ f, o, d }, i) => {
      if (d.protocol !== NEXT_HEADER.ICMPV6 || d.fragment) return;
      const m = icmp(i + 1);
      if (m.type >= 133 && m.type <= 137) nd++;
      expect(ndInvalid(f, o, m), `frame ${i + 1}`).toBeNull();
    });
    expect(nd).toBe(11);
    const dad = frames[6]!;
    const hop = dad.f.slice();
    hop[dad.o + 7] = 64;
    expect(ndInvalid(hop, dad.o, decodeIcmpv6(hop, dad.d.payloadOffset, dad.d.upperLength, ipv6AddressSum(hop, dad.o)))).toMatch(/hop limit 64/);
    const toAll = dad.f.slice();
    toAll.set(ip6('ff02::1'), dad.o + 24);
    icmpv6FillChecksum(toAll, dad.d.payloadOffset, dad.d.upperLength, ipv6AddressSum(toAll, dad.o));
    expect(ndInvalid(toAll, dad.o, decodeIcmpv6(toAll, dad.d.payloadOffset, dad.d.upperLength, ipv6AddressSum(toAll, dad.o)))).toMatch(/solicited-node/);
  });

  it('echo, neighbor advertisement with R/S/O, and fragments (frames 14, 20, 23, 24)', () => {
    expect(icmp(14)).toMatchObject({ kind: 'echoRequest', id: 0x156f, seq: 1 });
    expect(icmp(20)).toMatchObject({ kind: 'neighborAdvertisement', router: true, solicited: true, override: true });
    const first = frames[22]!.d;
    expect(first.fragment).toEqual({ offset: 0, more: true, id: 0x5704c63a });
    expect(first.protocol).toBe(NEXT_HEADER.ICMPV6);
    expect(frames[23]!.d.fragment).toMatchObject({ offset: first.upperLength, more: false, id: 0x5704c63a });
  });

  it('fragment6 splits an echo as Linux did (same header, same fragment sizes)', () => {
    const a = frames[22]!;
    const b = frames[23]!;
    const whole = concat([a.f.subarray(a.o, a.o + 40), a.f.subarray(a.d.payloadOffset, a.d.payloadOffset + a.d.upperLength), b.f.subarray(b.d.payloadOffset, b.d.payloadOffset + b.d.upperLength)]);
    whole[6] = NEXT_HEADER.ICMPV6;
    whole[4] = (whole.length - 40) >> 8;
    whole[5] = (whole.length - 40) & 0xff;
    const d = decodeIpv6(whole);
    expect(decodeIcmpv6(whole, 40, d.upperLength, ipv6AddressSum(whole, 0))).toMatchObject({ kind: 'echoRequest', id: 0x1574, checksumOk: true });
    const frags = fragment6(whole, 1500, 0x5704c63a);
    expect(frags.map((x) => toHex(x))).toEqual([toHex(a.f.subarray(a.o)), toHex(b.f.subarray(b.o))]);
    const w = newIpv6Walk();
    walkIpv6(a.f, a.o, w);
    expect(w.fragmentNextField).toBe(a.o + 6);
    const again = ipv6Reassembled(a.f, a.o, w, concat([a.f.subarray(w.offset, w.end), b.f.subarray(b.d.payloadOffset)]));
    expect(toHex(again)).toBe(toHex(whole));
  });
});

describe('extension-header walk (RFC 8200 4)', () => {
  const src = ip6('2001:db8::1');
  const dst = ip6('2001:db8::2');
  const udp = new Uint8Array(8);
  const walk = (exts: Ipv6Extension[], d = dst): { v: number; w: ReturnType<typeof newIpv6Walk> } => {
    const p = buildIpv6Packet({ src, dst: d, protocol: NEXT_HEADER.UDP, extensions: exts }, udp);
    const w = newIpv6Walk();
    return { v: walkIpv6(p, 0, w), w };
  };
  const rh0 = (segmentsLeft: number): Ipv6Extension => ({ kind: 'routing', routingType: 0, segmentsLeft, data: new Uint8Array(4 + 16) });
  const opt = (type: number): Ipv6Extension => ({ kind: 'destination', options: [{ type, data: new Uint8Array(4) }] });

  it('finds the upper layer after hop-by-hop, destination options and an atomic fragment', () => {
    const { v, w } = walk([{ kind: 'hopByHop', options: [{ type: 1, data: new Uint8Array(4) }] }, opt(1), { kind: 'fragment', fragmentOffset: 0, more: false, id: 7 }]);
    expect(v).toBe(IPV6_VERDICT.DELIVER);
    expect(w).toMatchObject({ protocol: NEXT_HEADER.UDP, offset: 40 + 8 + 8 + 8, fragmentAt: -1 });
  });
  it('routing type 0 with segments left is a parameter problem pointing at the type (RFC 5095)', () => {
    const { v, w } = walk([rh0(1)]);
    expect(v).toBe(IPV6_VERDICT.PARAM_PROBLEM);
    expect(w).toMatchObject({ problemCode: PARAM_PROBLEM.HEADER_FIELD, problemPointer: 42 });
    // With no segments left an unknown routing header is skipped (RFC 8200 4.4).
    expect(walk([rh0(0)]).v).toBe(IPV6_VERDICT.DELIVER);
  });
  it('hop-by-hop anywhere but first is an unrecognized next header', () => {
    const { v, w } = walk([opt(1), { kind: 'hopByHop', options: [{ type: 1, data: new Uint8Array(4) }] }]);
    expect(v).toBe(IPV6_VERDICT.PARAM_PROBLEM);
    expect(w).toMatchObject({ problemCode: PARAM_PROBLEM.NEXT_HEADER, problemPointer: 40 });
  });
  it('unknown options act on their two high bits', () => {
    expect(walk([opt(0x1e)]).v).toBe(IPV6_VERDICT.DELIVER);
    expect(walk([opt(0x5e)]).v).toBe(IPV6_VERDICT.DISCARD);
    const r = walk([opt(0x9e)]);
    expect(r.v).toBe(IPV6_VERDICT.PARAM_PROBLEM);
    expect(r.w).toMatchObject({ problemCode: PARAM_PROBLEM.OPTION, problemPointer: 42 });
    expect(walk([opt(0xde)]).v).toBe(IPV6_VERDICT.PARAM_PROBLEM);
    expect(walk([opt(0xde)], ip6('ff02::1')).v).toBe(IPV6_VERDICT.DISCARD);
  });
  it('a non-last fragment whose data is not a multiple of 8 points at the payload length', () => {
    const p = buildIpv6Packet({ src, dst, protocol: NEXT_HEADER.UDP, extensions: [{ kind: 'fragment', fragmentOffset: 0, more: true, id: 1 }] }, new Uint8Array(13));
    const w = newIpv6Walk();
    expect(walkIpv6(p, 0, w)).toBe(IPV6_VERDICT.PARAM_PROBLEM);
    expect(w.problemPointer).toBe(4);
  });
  it('a first fragment without the whole header chain is code 3, pointer 0 (RFC 7112)', () => {
    const dopt = new Uint8Array(8);
    dopt[0] = NEXT_HEADER.UDP;
    dopt[1] = 2; // a 24-byte destination options header, cut after 8 bytes
    const p = buildIpv6Packet({ src, dst, protocol: NEXT_HEADER.DESTINATION, extensions: [{ kind: 'fragment', fragmentOffset: 0, more: true, id: 5 }] }, dopt);
    const w = newIpv6Walk();
    expect(walkIpv6(p, 0, w)).toBe(IPV6_VERDICT.PARAM_PROBLEM);
    expect(w).toMatchObject({ problemCode: PARAM_PROBLEM.INCOMPLETE_CHAIN, problemPointer: 0 });
    dopt[1] = 0; // now whole
    expect(walkIpv6(buildIpv6Packet({ src, dst, protocol: NEXT_HEADER.DESTINATION, extensions: [{ kind: 'fragment', fragmentOffset: 0, more: true, id: 5 }] }, dopt), 0, w)).toBe(IPV6_VERDICT.DELIVER);
    expect(w.fragmentAt).toBe(40);
  });

  it('refuses what is not a packet with DecodeError', () => {
    const good = buildIpv6Packet({ src, dst, protocol: NEXT_HEADER.UDP, extensions: [opt(1)] }, udp);
    const w = newIpv6Walk();
    for (let n = 0; n < good.length; n++) expect(() => walkIpv6(good.subarray(0, n), 0, w)).toThrow(DecodeError);
    const v4 = good.slice();
    v4[0] = 0x45;
    expect(() => walkIpv6(v4, 0, w)).toThrow(DecodeError);
    const overrun = good.slice();
    overrun[41] = 3; // destination options claiming 32 bytes
    expect(() => decodeIpv6(overrun)).toThrow(DecodeError);
    const zeroOpt = good.slice(0, 48);
    zeroOpt[4] = 0;
    zeroOpt[5] = 8;
    zeroOpt[42] = 7; // an option running past its header
    zeroOpt[43] = 9;
    expect(() => walkIpv6(zeroOpt, 0, w)).toThrow(DecodeError);
  });
  it('fragment6 keeps hop-by-hop unfragmentable and reassembles to the original', () => {
    const payload = new Uint8Array(3000).map((_, i) => i * 7);
    const p = buildIpv6Packet({ src, dst, protocol: NEXT_HEADER.UDP, extensions: [{ kind: 'hopByHop', options: [{ type: 1, data: new Uint8Array(4) }] }] }, payload);
    const frags = fragment6(p, 1280, 99);
    expect(frags.length).toBe(3);
    const parts: Uint8Array[] = [];
    for (const f of frags) {
      expect(f.length).toBeLessThanOrEqual(1280);
      const d = decodeIpv6(f);
      expect(d.extensions.map((e) => e.kind)).toEqual(['hopByHop', 'fragment']);
      expect(d.fragment?.offset).toBe(parts.reduce((n, x) => n + x.length, 0));
      parts.push(f.subarray(d.payloadOffset));
    }
    expect(concat(parts)).toEqual(payload);
    const w = newIpv6Walk();
    walkIpv6(frags[0]!, 0, w);
    expect(toHex(ipv6Reassembled(frags[0]!, 0, w, concat(parts)))).toBe(toHex(p));
  });
});

describe('ICMPv6 messages', () => {
  const src = ip6('fe80::1');
  const dst = ip6('fe80::2');
  const roundTrip = (m: Icmpv6Message): void => {
    const pkt = buildIcmpv6Packet({ src, dst }, m);
    const d = decodeIpv6(pkt);
    const back = decodeIcmpv6(pkt, d.payloadOffset, d.upperLength, ipv6AddressSum(pkt, 0));
    expect(back.checksumOk).toBe(true);
    expect(back).toMatchObject(m);
    const again = new Uint8Array(icmpv6Length(m));
    encodeIcmpv6(back as Icmpv6Message, again, 0, ipv6AddressSum(pkt, 0));
    expect(again).toEqual(pkt.subarray(d.payloadOffset));
  };
  it.each<Icmpv6Message>([
    { kind: 'echoRequest', code: 0, id: 1, seq: 2, data: fromHex('0102') },
    { kind: 'packetTooBig', code: 0, mtu: 1280, invoking: new Uint8Array(48) },
    { kind: 'parameterProblem', code: 0, pointer: 42, invoking: new Uint8Array(48) },
    { kind: 'timeExceeded', code: 1, invoking: new Uint8Array(40) },
    { kind: 'destUnreachable', code: 4, invoking: new Uint8Array(40) },
    { kind: 'neighborAdvertisement', code: 0, router: false, solicited: true, override: false, target: ip6('2001:db8::5'), options: [{ type: 'targetLinkLayer', mac: 0x0200_0000_0001 }] },
    { kind: 'redirect', code: 0, target: ip6('fe80::9'), destination: ip6('2001:db8::99'), options: [{ type: 'raw', code: 4, data: new Uint8Array(14) }] },
    {
      kind: 'routerAdvertisement',
      code: 0,
      curHopLimit: 64,
      managed: false,
      other: true,
      routerLifetime: 1800,
      reachableTime: 30000,
      retransTimer: 1000,
      options: [
        { type: 'prefixInfo', prefixLength: 64, onLink: true, autonomous: true, validLifetime: 86400, preferredLifetime: 14400, prefix: ip6('2001:db8:8::') },
        { type: 'rdnss', lifetime: 600, servers: [ip6('2001:db8:8::2'), ip6('2001:db8:8::3')] },
        { type: 'mtu', mtu: 1400 },
      ],
    },
    { kind: 'mldv2Report', code: 0, records: [{ recordType: 5, group: ip6('ff05::fb'), sources: [ip6('2001:db8::7')] }] },
    { kind: 'mldQuery', code: 0, maxResponseCode: 10000, group: ip6('::') },
    { kind: 'mldQuery', code: 0, maxResponseCode: 1000, group: ip6('ff05::fb'), v2: { suppress: true, robustness: 2, qqic: 125, sources: [ip6('2001:db8::7')] } },
  ])('$kind round-trips', (m) => roundTrip(m));

  it('errors quote at most 1232 bytes and are not sent about errors or to groups', () => {
    const big = buildIpv6Packet({ src, dst: ip6('2001:db8::2'), protocol: NEXT_HEADER.UDP }, new Uint8Array(2000));
    const err = icmpv6ErrorMessage('packetTooBig', 0, big, 1280);
    if (err.kind !== 'packetTooBig') throw new Error();
    expect(err.invoking.length).toBe(ICMPV6_MAX_QUOTE);
    expect(buildIcmpv6Packet({ src, dst }, err).length).toBe(1280);
    expect(icmpv6ErrorAllowed(big, 0, 1, 4)).toBe(true);
    const anError = buildIcmpv6Packet({ src, dst }, err);
    expect(icmpv6ErrorAllowed(anError, 0, 1, 4)).toBe(false);
    const echo = buildIcmpv6Packet({ src, dst: ip6('ff02::1') }, { kind: 'echoRequest', code: 0, id: 1, seq: 1, data: new Uint8Array(0) });
    expect(icmpv6ErrorAllowed(echo, 0, 1, 4)).toBe(false);
    expect(icmpv6ErrorAllowed(echo, 0, 2, 0)).toBe(true);
  });

  it('reads the quoted packet of an error, past extension headers, however short the quote', () => {
    const probe = buildIpv6Packet(
      { src, dst: ip6('2001:db8::9'), protocol: NEXT_HEADER.UDP, hopLimit: 1, extensions: [{ kind: 'destination', options: [{ type: 1, data: new Uint8Array(4) }] }] },
      fromHex('9c40829a00100000'),
    );
    const err = buildIcmpv6Packet({ src: ip6('fe80::9'), dst: src }, icmpv6ErrorMessage('timeExceeded', 0, probe));
    const m = decodeIcmpv6(err, 40, err.length - 40, ipv6AddressSum(err, 0));
    if (m.kind !== 'timeExceeded') throw new Error(m.kind);
    const q = decodeQuotedIpv6(err, 48, err.length - 48);
    expect(q).toMatchObject({ hopLimit: 1, protocol: NEXT_HEADER.UDP, transportOffset: 48 + 48, transportLength: 8, laterFragment: false });
    expect(ip6ToString(q.dst)).toBe('2001:db8::9');
    expect(decodeQuotedIpv6(err, 48, 44)).toMatchObject({ protocol: -1, transportLength: 0 });
    expect(() => decodeQuotedIpv6(err, 48, 39)).toThrow(DecodeError);
  });

  it('refuses malformed messages with DecodeError', () => {
    const ns = buildIcmpv6Packet({ src, dst }, { kind: 'neighborSolicitation', code: 0, target: dst, options: [{ type: 'sourceLinkLayer', mac: 1 }] });
    const s = ipv6AddressSum(ns, 0);
    for (let n = 0; n < 32; n++) if (n !== 24) expect(() => decodeIcmpv6(ns, 40, n, s)).toThrow(DecodeError);
    const zero = ns.slice();
    zero[40 + 25] = 0; // option length 0 (RFC 4861 4.6: discard)
    expect(() => decodeIcmpv6(zero, 40, 32, s)).toThrow(DecodeError);
    const bad = ns.slice();
    bad[50] ^= 1;
    expect(decodeIcmpv6(bad, 40, 32, s).checksumOk).toBe(false);
  });
});

describe('UDP and TCP over IPv6 share the checksum helpers', () => {
  it('encodes with the IPv6 pseudo-header and verifies; zero is no checksum over IPv6', () => {
    const init = { src: ip6('2001:db8::1'), dst: ip6('2001:db8::2'), protocol: NEXT_HEADER.UDP };
    const pkt = new Uint8Array(40 + 12);
    encodeIpv6Headers(init, 12, pkt, 0);
    const sum = ipv6AddressSum(pkt, 0);
    encodeUdp6({ srcPort: 546, dstPort: 547, payload: fromHex('01020304') }, pkt, 40, sum);
    expect(decodeUdp(pkt, 40, 12).length).toBe(12);
    expect(udpChecksumOk6(pkt, 40, 12, sum)).toBe(true);
    pkt[46] = 0;
    pkt[47] = 0;
    expect(udpChecksumOk6(pkt, 40, 12, sum)).toBe(false);
    const seg = new Uint8Array(20);
    encodeTcp6({ srcPort: 1, dstPort: 80, seq: 1, ack: 0, flags: 2, window: 100 }, seg, 0, sum);
    expect(tcpChecksumOk6(seg, 0, 20, sum)).toBe(true);
  });
});
