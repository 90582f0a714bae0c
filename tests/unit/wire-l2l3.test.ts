/**
 * Link- and network-layer codecs against real captured bytes (the reference captures described in
 * tests/fixtures/SOURCES.md): decode and assert fields, re-encode and compare byte for byte.
 */
import { describe, expect, it } from 'vitest';
import {
  ARP_REPLY,
  ARP_REQUEST,
  BPDU_TYPE,
  ETHERTYPE,
  ICMP_TYPE,
  IPPROTO,
  PORT_ROLE,
  RFC1812_MAX_QUOTE,
  UNREACH,
  buildArpFrame,
  buildEthernetFrame,
  buildIpv4Packet,
  buildStpFrame,
  checksum,
  decodeArp,
  decodeBpdu,
  decodeEthernet,
  decodeIcmp,
  decodeIpv4,
  decodeQuotedIpv4,
  decodeStpFrame,
  decrementTtl,
  destinationUnreachable,
  echoReplyFrom,
  echoRequest,
  encodeEthernet,
  encodeIpv4,
  ethDst,
  ethInnerType,
  ethPayloadOffset,
  ethSrc,
  ethType,
  ethVid,
  fragment,
  fromHex,
  gratuitousArpFrame,
  icmpErrorAllowed,
  icmpQuote,
  ipv4ChecksumOk,
  ipv4Dst,
  ipv4HeaderLength,
  ipv4Protocol,
  ipv4Src,
  ipv4Ttl,
  isStpFrame,
  onesSum,
  padFrame,
  parseIp4,
  parseMac,
  popVlanTag,
  pushVlanTag,
  putEthernetHeader,
  timeExceeded,
  toHex,
  type ConfigBpdu,
} from '../../devices/wire/index.js';
import { Reassembler } from '../../devices/stack/reassembly.js';

const ip = (s: string): number => parseIp4(s)!;
const mac = (s: string): number => parseMac(s)!;
/** The IPv4 datagram inside an untagged Ethernet II frame, trimmed to its total length. */
function ipOf(frame: Uint8Array): Uint8Array {
  const h = decodeIpv4(frame, 14);
  return frame.slice(14, 14 + h.totalLength);
}

describe('ethernet', () => {
  it('decodes and re-encodes an untagged frame (ARP request)', () => {
    const f = fromHex(ARP_REQUEST_H1);
    const h = decodeEthernet(f);
    expect(h).toEqual({
      dst: 0xffff_ffff_ffff,
      src: mac('02:00:00:01:01:10'),
      tags: [],
      etherType: ETHERTYPE.ARP,
      payloadOffset: 14,
      payloadLength: 28,
    });
    expect(ethDst(f, 0)).toBe(h.dst);
    expect(ethSrc(f, 0)).toBe(h.src);
    expect(ethType(f, 0)).toBe(ETHERTYPE.ARP);
    expect(ethVid(f, 0)).toBe(-1);
    const out = new Uint8Array(14);
    expect(encodeEthernet(h, out, 0)).toBe(14);
    expect(toHex(out)).toBe(ARP_REQUEST_H1.slice(0, 28));
  });

  it('decodes an 802.1Q tag (VID 10), pops it and pushes it back byte-exactly', () => {
    const f = fromHex(VLAN_ARP_REQUEST);
    const h = decodeEthernet(f);
    expect(h.tags).toEqual([{ tpid: 0x8100, pcp: 0, dei: 0, vid: 10 }]);
    expect(h.etherType).toBe(ETHERTYPE.ARP);
    expect(h.payloadOffset).toBe(18);
    expect(ethType(f, 0)).toBe(ETHERTYPE.VLAN);
    expect(ethInnerType(f, 0)).toBe(ETHERTYPE.ARP);
    expect(ethPayloadOffset(f, 0)).toBe(18);
    expect(ethVid(f, 0)).toBe(10);
    const hdr = new Uint8Array(18);
    expect(encodeEthernet(h, hdr, 0)).toBe(18);
    expect(toHex(hdr)).toBe(VLAN_ARP_REQUEST.slice(0, 36));

    const untagged = popVlanTag(f);
    expect(untagged.length).toBe(42);
    expect(decodeEthernet(untagged).tags).toEqual([]);
    expect(decodeArp(untagged, 14).targetIp).toBe(ip('192.168.10.2'));
    expect(toHex(pushVlanTag(untagged, 10))).toBe(VLAN_ARP_REQUEST);
    expect(() => popVlanTag(untagged)).toThrow(/no VLAN tag/);
  });

  it('stacks an 802.1ad S-tag over the C-tag and reads both', () => {
    const f = pushVlanTag(fromHex(VLAN_ECHO_REQUEST), 300, 5, ETHERTYPE.QINQ, 1);
    const h = decodeEthernet(f);
    expect(h.tags).toEqual([
      { tpid: 0x88a8, pcp: 5, dei: 1, vid: 300 },
      { tpid: 0x8100, pcp: 0, dei: 0, vid: 10 },
    ]);
    expect(h.etherType).toBe(ETHERTYPE.IPV4);
    expect(h.payloadOffset).toBe(22);
    expect(ethVid(f, 0)).toBe(300);
    expect(ethInnerType(f, 0)).toBe(ETHERTYPE.IPV4);
    expect(decodeIpv4(f, h.payloadOffset).src).toBe(ip('192.168.10.1'));
    expect(toHex(popVlanTag(f))).toBe(VLAN_ECHO_REQUEST);
  });

  it('writes the header a sender puts in place, plain or 802.1Q-tagged, as encodeEthernet does', () => {
    const f = fromHex(VLAN_ARP_REQUEST);
    const h = decodeEthernet(f);
    const tagged = new Uint8Array(24).fill(0xee);
    expect(putEthernetHeader(tagged, 2, h.dst, h.src, 10, ETHERTYPE.ARP)).toBe(18);
    expect(toHex(tagged.subarray(2, 20))).toBe(VLAN_ARP_REQUEST.slice(0, 36));
    expect(tagged[0]).toBe(0xee);
    expect(tagged[20]).toBe(0xee);
    const plain = new Uint8Array(14);
    expect(putEthernetHeader(plain, 0, h.dst, h.src, -1, ETHERTYPE.ARP)).toBe(14);
    expect(toHex(plain)).toBe(toHex(popVlanTag(f).subarray(0, 14)));
  });

  it('reads an 802.3 length frame with its LLC header and ignores padding', () => {
    const f = padFrame(fromHex(BPDU_CONFIG));
    expect(f.length).toBe(60);
    const h = decodeEthernet(f);
    expect(h.etherType).toBe(38);
    expect(h.llc).toEqual({ dsap: 0x42, ssap: 0x42, control: 0x03 });
    expect(h.payloadOffset).toBe(17);
    expect(h.payloadLength).toBe(35);
  });

  it('pads short frames to 60 bytes and leaves long ones alone', () => {
    const f = fromHex(ARP_REQUEST_H1);
    const p = padFrame(f);
    expect(p.length).toBe(60);
    expect(toHex(p.subarray(0, 42))).toBe(ARP_REQUEST_H1);
    expect(p.subarray(42).every((b) => b === 0)).toBe(true);
    const long = fromHex(ECHO_REQUEST_H1);
    expect(padFrame(long)).toBe(long);
  });

  it('refuses type/length values between 1501 and 1535 and truncated tags', () => {
    const f = fromHex(ARP_REQUEST_H1);
    f[12] = 0x05;
    f[13] = 0xee;
    expect(() => decodeEthernet(f)).toThrow(/neither/);
    expect(() => decodeEthernet(fromHex(VLAN_ARP_REQUEST).subarray(0, 16))).toThrow(/truncated/);
  });
});

describe('arp', () => {
  it('decodes and re-encodes a Linux request and reply', () => {
    const req = decodeArp(fromHex(ARP_REQUEST_H1), 14);
    expect(req).toEqual({
      op: ARP_REQUEST,
      senderMac: mac('02:00:00:01:01:10'),
      senderIp: ip('10.1.1.10'),
      targetMac: 0,
      targetIp: ip('10.1.1.1'),
    });
    expect(toHex(buildArpFrame(req, undefined, false))).toBe(ARP_REQUEST_H1);
    const rep = decodeArp(fromHex(ARP_REPLY_R1), 14);
    expect(rep.op).toBe(ARP_REPLY);
    expect(rep.senderMac).toBe(mac('02:00:00:01:01:01'));
    expect(toHex(buildArpFrame(rep, undefined, false))).toBe(ARP_REPLY_R1);
  });

  it("matches busybox's padded 60-byte probe", () => {
    const f = fromHex(ARP_PROBE_UDHCPC);
    const p = decodeArp(f, 14);
    expect(p.senderIp).toBe(0);
    expect(p.targetIp).toBe(ip('10.20.0.132'));
    expect(toHex(buildArpFrame(p))).toBe(ARP_PROBE_UDHCPC);
  });

  it("builds VPCS's gratuitous ARP (broadcast target MAC, padded to 64)", () => {
    const f = gratuitousArpFrame(mac('00:50:79:66:68:01'), ip('10.30.0.128'), 0xffff_ffff_ffff);
    expect(toHex(padFrame(f, 64))).toBe(ARP_GRATUITOUS_VPCS);
    const p = decodeArp(fromHex(ARP_GRATUITOUS_VPCS), 14);
    expect(p.senderIp).toBe(p.targetIp);
    // RFC 5227's form has a zero target MAC.
    expect(decodeArp(gratuitousArpFrame(mac('02:00:00:00:00:01'), ip('10.0.0.1')), 14).targetMac).toBe(0);
  });

  it('refuses non-Ethernet/IPv4 ARP', () => {
    const f = fromHex(ARP_REQUEST_H1);
    f[14 + 5] = 16;
    expect(() => decodeArp(f, 14)).toThrow(/address lengths/);
  });
});

describe('ipv4', () => {
  it('decodes a real header and re-encodes it with the same checksum', () => {
    const f = fromHex(ECHO_REQUEST_H1);
    const h = decodeIpv4(f, 14);
    expect(h).toMatchObject({
      headerLength: 20,
      dscp: 0,
      ecn: 0,
      totalLength: 84,
      id: 0xc019,
      flagReserved: false,
      df: true,
      mf: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: IPPROTO.ICMP,
      checksum: 0x637a,
      checksumOk: true,
      src: ip('10.1.1.10'),
      dst: ip('10.1.2.10'),
      payloadOffset: 34,
      payloadLength: 64,
    });
    expect(h.options.length).toBe(0);
    const out = new Uint8Array(20);
    expect(encodeIpv4(h, out, 0)).toBe(20);
    expect(toHex(out)).toBe(ECHO_REQUEST_H1.slice(28, 68));
    expect(ipv4HeaderLength(f, 14)).toBe(20);
    expect(ipv4Ttl(f, 14)).toBe(64);
    expect(ipv4Protocol(f, 14)).toBe(1);
    expect(ipv4Src(f, 14)).toBe(h.src);
    expect(ipv4Dst(f, 14)).toBe(h.dst);
    expect(ipv4ChecksumOk(f, 14)).toBe(true);
  });

  it('reads the ECN/DSCP byte of ICMP errors (0xc0: CS6)', () => {
    const h = decodeIpv4(fromHex(TIME_EXCEEDED_R1), 14);
    expect(h.dscp).toBe(48);
    expect(h.ecn).toBe(0);
    expect(h.df).toBe(false);
  });

  it('reports a bad checksum instead of throwing', () => {
    const f = fromHex(ECHO_REQUEST_H1);
    f[14 + 8] = 63;
    const h = decodeIpv4(f, 14);
    expect(h.checksumOk).toBe(false);
    expect(ipv4ChecksumOk(f, 14)).toBe(false);
  });

  it('ignores Ethernet padding after the total length and refuses truncation', () => {
    const pkt = ipOf(fromHex(UDP_TO_9999)); // 51 bytes
    const padded = new Uint8Array(80);
    padded.set(pkt);
    const h = decodeIpv4(padded);
    expect(h.totalLength).toBe(51);
    expect(h.payloadLength).toBe(31);
    expect(() => decodeIpv4(pkt.subarray(0, 50))).toThrow(/truncated/);
  });

  it('refuses other versions and short IHL', () => {
    const pkt = ipOf(fromHex(UDP_TO_9999));
    pkt[0] = 0x65;
    expect(() => decodeIpv4(pkt)).toThrow(/version 6/);
    pkt[0] = 0x44;
    expect(() => decodeIpv4(pkt)).toThrow(/IHL/);
  });

  it('decrements TTL like r1 did: the header r2 quoted is the probe after one hop', () => {
    const probe = ipOf(fromHex(UDP_PROBE_TTL2)); // sent by h1 with TTL 2
    expect(decrementTtl(probe, 0)).toBe(1);
    const quoted = fromHex(TIME_EXCEEDED_R2).subarray(14 + 20 + 8, 14 + 20 + 8 + 20);
    expect(toHex(probe.subarray(0, 20))).toBe(toHex(quoted));
    expect(ipv4ChecksumOk(probe, 0)).toBe(true);
  });

  it('decrementTtl matches a full recompute for every TTL and a range of headers', () => {
    const base = ipOf(fromHex(ECHO_REQUEST_H1));
    for (let ttl = 1; ttl <= 255; ttl++) {
      for (const proto of [0, 1, 6, 17, 255]) {
        const b = base.slice();
        b[8] = ttl;
        b[9] = proto;
        b[10] = b[11] = 0;
        const c = checksum(b, 0, 20);
        b[10] = c >> 8;
        b[11] = c & 0xff;
        decrementTtl(b, 0);
        const expected = b.slice();
        expected[10] = expected[11] = 0;
        const full = checksum(expected, 0, 20);
        expect((b[10]! << 8) | b[11]!).toBe(full);
      }
    }
  });

  it('carries options and pads them to 4 bytes', () => {
    // Router alert (copied) + NOP; encode pads with End of Option List.
    const p = buildIpv4Packet(
      { src: ip('10.0.0.1'), dst: ip('10.0.0.2'), protocol: 17, options: new Uint8Array([0x94, 0x04, 0, 0, 0x01]) },
      new Uint8Array(4),
    );
    const h = decodeIpv4(p);
    expect(h.headerLength).toBe(28);
    expect(toHex(h.options)).toBe('9404000001000000');
    expect(h.checksumOk).toBe(true);
  });
});

describe('fragmentation and reassembly', () => {
  const reqFrags = () => [FRAG_REQ_0, FRAG_REQ_1, FRAG_REQ_2].map(fromHex);
  const repFrags = () => [FRAG_REP_0, FRAG_REP_1, FRAG_REP_2].map(fromHex);

  it('the captured fragments decode as Linux sent them', () => {
    const hs = reqFrags().map((f) => decodeIpv4(f, 14));
    expect(hs.map((h) => [h.id, h.mf, h.fragmentOffset, h.totalLength])).toEqual([
      [0xc081, true, 0, 1500],
      [0xc081, true, 1480, 1500],
      [0xc081, false, 2960, 68],
    ]);
  });

  it('reassembles the real 3000-byte ping and its reply', () => {
    const r = new Reassembler();
    const [a, b, c] = reqFrags();
    expect(r.add(a!, 14, 0)).toBeNull();
    expect(r.add(b!, 14, 1000)).toBeNull();
    const pkt = r.add(c!, 14, 2000)!;
    expect(pkt.length).toBe(3028);
    const h = decodeIpv4(pkt);
    expect(h).toMatchObject({ totalLength: 3028, mf: false, fragmentOffset: 0, id: 0xc081, checksumOk: true });
    const icmp = decodeIcmp(pkt, h.payloadOffset, h.payloadLength);
    expect(icmp).toMatchObject({ type: ICMP_TYPE.ECHO_REQUEST, id: 0x168f, seq: 1, checksumOk: true });
    expect(icmp.payload.length).toBe(3000);
    expect(r.size).toBe(0);
    expect(r.stats.reassembled).toBe(1);

    // The reply arrives out of order, with a duplicate: the result is the same.
    const [x, y, z] = repFrags();
    expect(r.add(z!, 14, 0)).toBeNull();
    expect(r.add(x!, 14, 0)).toBeNull();
    expect(r.add(x!, 14, 0)).toBeNull();
    const reply = r.add(y!, 14, 0)!;
    const rh = decodeIpv4(reply);
    const ricmp = decodeIcmp(reply, rh.payloadOffset, rh.payloadLength);
    expect(ricmp).toMatchObject({ type: ICMP_TYPE.ECHO_REPLY, id: 0x168f, seq: 1, checksumOk: true });
    expect(toHex(ricmp.payload)).toBe(toHex(icmp.payload));
  });

  it('fragments the reassembled ping exactly as Linux did at MTU 1500', () => {
    const r = new Reassembler();
    let pkt: Uint8Array | null = null;
    for (const f of reqFrags()) pkt = r.add(f, 14, 0);
    const frags = fragment(pkt!, 1500);
    expect(frags.map((f) => toHex(f))).toEqual(reqFrags().map((f) => toHex(ipOf(f))));
  });

  it('refragments a fragment, keeps offsets multiple of 8, copies only copied options', () => {
    const payload = new Uint8Array(1000).map((_, i) => i & 0xff);
    // Record Route (0x07, not copied) and Router Alert (0x94, copied).
    const options = new Uint8Array([0x07, 0x07, 0x04, 0, 0, 0, 0, 0x94, 0x04, 0, 0, 0]);
    const pkt = buildIpv4Packet({ src: ip('10.0.0.1'), dst: ip('10.0.0.2'), protocol: 17, id: 7, options }, payload);
    const frags = fragment(pkt, 300);
    const hs = frags.map((f) => decodeIpv4(f));
    expect(hs[0]!.headerLength).toBe(32);
    expect(toHex(hs[1]!.options)).toBe('94040000');
    for (const h of hs) {
      expect(h.checksumOk).toBe(true);
      expect(h.totalLength).toBeLessThanOrEqual(300);
      expect(h.fragmentOffset % 8).toBe(0);
    }
    expect(hs.map((h) => h.mf)).toEqual([...hs.slice(1).map(() => true), false]);
    // Refragment the middle fragment at a smaller MTU: MF stays set on its last piece.
    const sub = fragment(frags[1]!, 100);
    expect(sub.every((f) => decodeIpv4(f).mf)).toBe(true);
    const r = new Reassembler();
    let out: Uint8Array | null = null;
    for (const f of [frags[0]!, ...sub, ...frags.slice(2)].reverse()) out = r.add(f, 0, 0) ?? out;
    expect(out).not.toBeNull();
    const h = decodeIpv4(out!);
    expect(h.totalLength).toBe(32 + 1000);
    expect(toHex(out!.subarray(h.payloadOffset))).toBe(toHex(payload));
    expect(h.checksumOk).toBe(true);
  });

  it('returns a datagram that fits as is, and refuses DF', () => {
    const pkt = ipOf(fromHex(ECHO_REQUEST_H1));
    expect(fragment(pkt, 1500)).toEqual([pkt]);
    expect(() => fragment(pkt, 68)).toThrow(/DF/);
  });

  it('drops a datagram on a partial overlap, keeps first data on a contained one', () => {
    const payload = new Uint8Array(64).fill(0xaa);
    const pkt = buildIpv4Packet({ src: ip('10.0.0.1'), dst: ip('10.0.0.2'), protocol: 17, id: 9 }, payload);
    const [f0, f1, f2] = fragment(pkt, 44); // 24 data bytes each: 0..23, 24..47, 48..63
    const r = new Reassembler();
    expect(r.add(f0!, 0, 0)).toBeNull();
    // A forged fragment at offset 16 (overlaps 16..23 of f0).
    const evil = f1!.slice();
    evil[7] = 2; // offset 16 bytes
    evil[10] = evil[11] = 0;
    const c = checksum(evil, 0, 20);
    evil[10] = c >> 8;
    evil[11] = c & 0xff;
    expect(r.add(evil, 0, 0)).toBeNull();
    expect(r.size).toBe(0);
    expect(r.stats.dropped).toBe(1);

    // Contained duplicate with different bytes is ignored: first data wins.
    const r2 = new Reassembler();
    r2.add(f0!, 0, 0);
    const dup = f0!.slice();
    dup[25] = 0x55;
    dup[10] = dup[11] = 0;
    const c2 = checksum(dup, 0, 20);
    dup[10] = c2 >> 8;
    dup[11] = c2 & 0xff;
    expect(r2.add(dup, 0, 0)).toBeNull();
    r2.add(f2!, 0, 0);
    const out = r2.add(f1!, 0, 0)!;
    expect(toHex(out)).toBe(toHex(pkt));
  });

  it('times out after 30 s and hands back the quote for time-exceeded code 1', () => {
    const r = new Reassembler();
    const [a] = reqFrags();
    r.add(a!, 14, 1e9);
    expect(r.expire(30e9)).toEqual([]);
    const quotes = r.expire(31e9);
    expect(quotes.length).toBe(1);
    expect(toHex(quotes[0]!)).toBe(toHex(ipOf(a!).subarray(0, 28)));
    expect(r.size).toBe(0);
    // A late fragment starts afresh rather than completing a stale datagram.
    const [, b, c] = reqFrags();
    r.add(b!, 14, 40e9);
    expect(r.add(c!, 14, 41e9)).toBeNull();
    const te = timeExceeded(1, quotes[0]!);
    expect(decodeIcmp(te)).toMatchObject({ type: 11, code: 1, checksumOk: true });
  });

  it('bounds the number of concurrent reassemblies, dropping the oldest', () => {
    const r = new Reassembler({ maxDatagrams: 4 });
    const [a] = reqFrags();
    for (let id = 0; id < 10; id++) {
      const f = ipOf(a!);
      f[4] = 0;
      f[5] = id;
      f[10] = f[11] = 0;
      const c = checksum(f, 0, 20);
      f[10] = c >> 8;
      f[11] = c & 0xff;
      r.add(f, 0, id);
    }
    expect(r.size).toBe(4);
    expect([...r.entries.values()].map((e) => e.id)).toEqual([6, 7, 8, 9]);
  });

  it('refuses fragments that would reassemble past 65535 bytes', () => {
    const f = ipOf(fromHex(FRAG_REQ_2));
    // Offset 8189*8 = 65512, plus 48 bytes of data: the ping of death.
    f[6] = 0x1f;
    f[7] = 0xfd;
    f[10] = f[11] = 0;
    const c = checksum(f, 0, 20);
    f[10] = c >> 8;
    f[11] = c & 0xff;
    const r = new Reassembler();
    expect(r.add(f, 0, 0)).toBeNull();
    expect(r.size).toBe(0);
  });
});

describe('icmp', () => {
  it('decodes and re-encodes a real echo request and reply', () => {
    const f = fromHex(ECHO_REQUEST_H1);
    const h = decodeIpv4(f, 14);
    const m = decodeIcmp(f, h.payloadOffset, h.payloadLength);
    expect(m).toMatchObject({ type: 8, code: 0, checksum: 0x28d7, checksumOk: true, id: 0x15a0, seq: 1 });
    expect(m.payload.length).toBe(56);
    expect(m.payload.buffer).toBe(f.buffer); // a view, not a copy
    expect(toHex(echoRequest(m.id!, m.seq!, m.payload))).toBe(ECHO_REQUEST_H1.slice(68));
    // The reply h2 sent is the request with type 0 and the checksum adjusted.
    expect(toHex(echoReplyFrom(f, h.payloadOffset, h.payloadLength))).toBe(ECHO_REPLY_H2.slice(68));
  });

  it("rebuilds r1's time-exceeded byte for byte (RFC 1812 quote of the whole probe)", () => {
    const probe = ipOf(fromHex(UDP_PROBE_TTL1));
    const f = fromHex(TIME_EXCEEDED_R1);
    const ih = decodeIpv4(f, 14);
    const m = decodeIcmp(f, ih.payloadOffset, ih.payloadLength);
    expect(m).toMatchObject({ type: ICMP_TYPE.TIME_EXCEEDED, code: 0, rest: 0, checksumOk: true });
    expect(toHex(timeExceeded(0, probe, { maxQuote: RFC1812_MAX_QUOTE }))).toBe(toHex(f.subarray(ih.payloadOffset)));
    const q = decodeQuotedIpv4(f, m.payloadOffset, m.payload.length);
    expect(q).toMatchObject({ src: ip('10.1.1.10'), dst: ip('10.1.2.10'), protocol: 17, ttl: 1, headerLength: 20, transportLength: 40 });
    expect((f[q.transportOffset + 2]! << 8) | f[q.transportOffset + 3]!).toBe(33434);
    // RFC 792's minimum: header + 8 bytes.
    const short = timeExceeded(0, probe);
    expect(short.length).toBe(8 + 28);
    expect(decodeIcmp(short).checksumOk).toBe(true);
  });

  it("rebuilds h2's port unreachable for the datagram after two hops", () => {
    const dgram = ipOf(fromHex(UDP_TO_9999));
    decrementTtl(dgram, 0);
    decrementTtl(dgram, 0);
    const f = fromHex(PORT_UNREACH_H2);
    const ih = decodeIpv4(f, 14);
    expect(toHex(destinationUnreachable(UNREACH.PORT, dgram, { maxQuote: RFC1812_MAX_QUOTE }))).toBe(
      toHex(f.subarray(ih.payloadOffset, ih.payloadOffset + ih.payloadLength)),
    );
  });

  it('puts the next-hop MTU in fragmentation-needed and quotes only the datagram', () => {
    const padded = new Uint8Array(100);
    padded.set(ipOf(fromHex(UDP_TO_9999)), 10);
    const m = decodeIcmp(destinationUnreachable(UNREACH.FRAG_NEEDED, padded, { offset: 10, nextHopMtu: 1400, maxQuote: 576 }));
    expect(m).toMatchObject({ type: 3, code: 4, nextHopMtu: 1400, rest: 1400, checksumOk: true });
    expect(m.payload.length).toBe(51);
    expect(icmpQuote(padded, 10).length).toBe(28);
  });

  it('suppresses errors about errors, non-first fragments and broadcasts', () => {
    expect(icmpErrorAllowed(fromHex(UDP_PROBE_TTL1), 14)).toBe(true);
    expect(icmpErrorAllowed(fromHex(ECHO_REQUEST_H1), 14)).toBe(true);
    expect(icmpErrorAllowed(fromHex(TIME_EXCEEDED_R1), 14)).toBe(false);
    expect(icmpErrorAllowed(fromHex(FRAG_REQ_0), 14)).toBe(true);
    expect(icmpErrorAllowed(fromHex(FRAG_REQ_1), 14)).toBe(false);
    const bc = buildIpv4Packet({ src: ip('10.0.0.1'), dst: 0xffffffff, protocol: 17 }, new Uint8Array(8));
    expect(icmpErrorAllowed(bc, 0)).toBe(false);
  });

  it('reports a bad checksum and refuses a message shorter than 8 bytes', () => {
    const m = echoRequest(1, 2, new Uint8Array([1, 2, 3]));
    m[9] ^= 1;
    expect(decodeIcmp(m).checksumOk).toBe(false);
    expect(() => decodeIcmp(m, 0, 7)).toThrow(/shorter than 8/);
  });
});

describe('stp', () => {
  it('decodes the Linux bridge Configuration BPDU and rebuilds the frame', () => {
    const f = fromHex(BPDU_CONFIG);
    expect(isStpFrame(f, 0)).toBe(true);
    expect(isStpFrame(fromHex(ARP_REQUEST_H1), 0)).toBe(false);
    const { eth, bpdu } = decodeStpFrame(f);
    expect(eth.dst).toBe(0x0180c2000000);
    const bridge = { priority: 32768, mac: mac('02:00:00:00:b0:00') };
    expect(bpdu).toEqual({
      type: BPDU_TYPE.CONFIG,
      protocolId: 0,
      version: 0,
      flags: { tc: false, proposal: false, role: 0, learning: false, forwarding: false, agreement: false, tca: false },
      rootId: bridge,
      rootPathCost: 0,
      bridgeId: bridge,
      portId: 0x8001,
      messageAge: 0,
      maxAge: 20,
      helloTime: 2,
      forwardDelay: 4,
    });
    expect(toHex(buildStpFrame(bpdu, eth.src, false))).toBe(BPDU_CONFIG);
    const padded = buildStpFrame(bpdu, eth.src);
    expect(padded.length).toBe(60);
    expect(toHex(padded)).toBe(BPDU_CONFIG + '00'.repeat(8));
    expect(decodeStpFrame(padded).bpdu).toEqual(bpdu);
  });

  it('sees the TC flag of the last BPDU', () => {
    const { bpdu } = decodeStpFrame(fromHex(BPDU_CONFIG_TC));
    expect((bpdu as ConfigBpdu).flags.tc).toBe(true);
    expect(toHex(buildStpFrame(bpdu, mac('02:00:00:00:b0:01'), false))).toBe(BPDU_CONFIG_TC);
  });

  it('encodes TCN and RST BPDUs with role and state flags', () => {
    const tcn = buildStpFrame({ type: BPDU_TYPE.TCN, protocolId: 0, version: 0 }, mac('02:00:00:00:00:01'));
    expect(toHex(tcn.subarray(12, 21))).toBe('0007424203' + '00000080');
    expect(decodeStpFrame(tcn).bpdu).toEqual({ type: 0x80, protocolId: 0, version: 0 });
    const rst: ConfigBpdu = {
      type: BPDU_TYPE.RST,
      protocolId: 0,
      version: 2,
      flags: { tc: false, proposal: true, role: PORT_ROLE.DESIGNATED, learning: true, forwarding: true, agreement: true, tca: false },
      rootId: { priority: 4096 + 1, mac: mac('00:11:22:33:44:55') },
      rootPathCost: 20000,
      bridgeId: { priority: 32768 + 1, mac: mac('02:00:00:00:00:01') },
      portId: 0x8002,
      messageAge: 1,
      maxAge: 20,
      helloTime: 2,
      forwardDelay: 15,
    };
    const f = buildStpFrame(rst, mac('02:00:00:00:00:01'));
    expect(f.length).toBe(60);
    expect(f[13]).toBe(39);
    expect(f[17 + 4]).toBe(0x7e);
    expect(f[17 + 35]).toBe(0); // Version 1 Length
    expect(decodeStpFrame(f).bpdu).toEqual(rst);
  });

  it('refuses other protocol ids, unknown types and short BPDUs', () => {
    const body = fromHex(BPDU_CONFIG).subarray(17);
    expect(() => decodeBpdu(body, 0, 34)).toThrow(/needs 35/);
    const bad = body.slice();
    bad[3] = 0x07;
    expect(() => decodeBpdu(bad)).toThrow(/type/);
    bad[0] = 1;
    expect(() => decodeBpdu(bad)).toThrow(/protocol id/);
    expect(() => decodeStpFrame(fromHex(ARP_REQUEST_H1))).toThrow(/LLC/);
  });
});

describe('building whole frames', () => {
  it('an IPv4 datagram in a tagged frame decodes back through every layer', () => {
    const icmp = echoRequest(0x404b, 1, new Uint8Array(56));
    const ipPkt = buildIpv4Packet({ src: ip('192.168.10.1'), dst: ip('192.168.10.2'), protocol: 1, id: 1, df: true }, icmp);
    const frame = buildEthernetFrame(
      { dst: mac('02:00:00:00:0b:01'), src: mac('02:00:00:00:0a:01'), tags: [{ tpid: 0x8100, pcp: 0, dei: 0, vid: 10 }], etherType: ETHERTYPE.IPV4 },
      ipPkt,
    );
    const eth = decodeEthernet(frame);
    const h = decodeIpv4(frame, eth.payloadOffset);
    const m = decodeIcmp(frame, h.payloadOffset, h.payloadLength);
    expect(m).toMatchObject({ id: 0x404b, seq: 1, checksumOk: true });
    expect(onesSum(frame, eth.payloadOffset, 20)).toBe(0xffff);
  });
});

// ---- fixtures: frames from the reference captures (tests/fixtures/SOURCES.md), as hex ----

/** ping-trace-udp.pcap frame 1: h1 asks who-has 10.1.1.1, unpadded Linux ARP (42 bytes). */
const ARP_REQUEST_H1 = 'ffffffffffff020000010110080600010800060400010200000101100a01010a0000000000000a010101';
/** ping-trace-udp.pcap frame 2: r1 replies 10.1.1.1 is-at 02:00:00:01:01:01 (42 bytes). */
const ARP_REPLY_R1 = '020000010110020000010101080600010800060400020200000101010a0101010200000101100a01010a';
/** dhcp-dnsmasq-udhcpc.pcap frame 11: udhcpc's ARP probe for 10.20.0.132, sender IP 0, padded by busybox (60 bytes). */
const ARP_PROBE_UDHCPC =
  'ffffffffffff02000000200208060001080006040001020000002002000000000000000000000a140084000000000000' +
  '000000000000000000000000';
/** vpcs-dhcp-ping.pcap frame 12: VPCS gratuitous ARP for 10.30.0.128, target MAC broadcast, padded to 64 (64 bytes). */
const ARP_GRATUITOUS_VPCS =
  'ffffffffffff005079666801080600010800060400010050796668010a1e0080ffffffffffff0a1e0080000000000000' +
  '00000000000000000000000000000000';
/** ping-trace-udp.pcap frame 3: ping 10.1.2.10 echo request, id 0x15a0 seq 1 (98 bytes). */
const ECHO_REQUEST_H1 =
  '020000010101020000010110080045000054c01940004001637a0a01010a0a01020a080028d715a000017d0c086b0000' +
  '0000683d0d0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435' +
  '3637';
/** ping-trace-udp.pcap frame 4: echo reply from 10.1.2.10, TTL 62 (98 bytes). */
const ECHO_REPLY_H2 =
  '020000010110020000010101080045000054693900003e01fc5a0a01020a0a01010a000030d715a000017d0c086b0000' +
  '0000683d0d0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435' +
  '3637';
/** ping-trace-udp.pcap frame 9: ping -s 3000 request fragment 0 (id 0xc081) (1514 bytes). */
const FRAG_REQ_0 =
  '0200000101010200000101100800450005dcc081200040017d8a0a01010a0a01020a0800ec59168f00017f0c086b0000' +
  '000088f0050000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435' +
  '363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465' +
  '666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495' +
  '969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5' +
  'c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5' +
  'f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425' +
  '262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455' +
  '565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485' +
  '868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5' +
  'b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5' +
  'e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f101112131415' +
  '161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445' +
  '464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475' +
  '767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5' +
  'a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5' +
  'd6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405' +
  '060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435' +
  '363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465' +
  '666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495' +
  '969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5' +
  'c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5' +
  'f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425' +
  '262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455' +
  '565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485' +
  '868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5' +
  'b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5' +
  'e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f101112131415' +
  '161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445' +
  '464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475' +
  '767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5' +
  'a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf';
/** ping-trace-udp.pcap frame 10: ping -s 3000 request fragment 1 (id 0xc081) (1514 bytes). */
const FRAG_REQ_1 =
  '0200000101010200000101100800450005dcc08120b940017cd10a01010a0a01020ac0c1c2c3c4c5c6c7c8c9cacbcccd' +
  'cecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfd' +
  'feff000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d' +
  '2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d' +
  '5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d' +
  '8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbd' +
  'bebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebeced' +
  'eeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d' +
  '1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d' +
  '4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d' +
  '7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacad' +
  'aeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdd' +
  'dedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d' +
  '0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d' +
  '3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d' +
  '6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d' +
  '9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccd' +
  'cecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfd' +
  'feff000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d' +
  '2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d' +
  '5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d' +
  '8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbd' +
  'bebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebeced' +
  'eeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d' +
  '1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d' +
  '4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d' +
  '7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacad' +
  'aeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdd' +
  'dedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d' +
  '0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d' +
  '3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d' +
  '6e6f707172737475767778797a7b7c7d7e7f8081828384858687';
/** ping-trace-udp.pcap frame 11: ping -s 3000 request fragment 2 (id 0xc081) (82 bytes). */
const FRAG_REQ_2 =
  '020000010101020000010110080045000044c08101724001a1b00a01010a0a01020a88898a8b8c8d8e8f909192939495' +
  '969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7';
/** ping-trace-udp.pcap frame 12: ping -s 3000 reply fragment 0 (id 0x69b1) (1514 bytes). */
const FRAG_REP_0 =
  '0200000101100200000101010800450005dc69b120003e01d65a0a01020a0a01010a0000f459168f00017f0c086b0000' +
  '000088f0050000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435' +
  '363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465' +
  '666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495' +
  '969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5' +
  'c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5' +
  'f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425' +
  '262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455' +
  '565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485' +
  '868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5' +
  'b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5' +
  'e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f101112131415' +
  '161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445' +
  '464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475' +
  '767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5' +
  'a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5' +
  'd6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405' +
  '060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435' +
  '363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465' +
  '666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495' +
  '969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5' +
  'c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5' +
  'f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425' +
  '262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455' +
  '565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485' +
  '868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5' +
  'b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5' +
  'e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f101112131415' +
  '161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445' +
  '464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475' +
  '767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5' +
  'a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf';
/** ping-trace-udp.pcap frame 13: ping -s 3000 reply fragment 1 (id 0x69b1) (1514 bytes). */
const FRAG_REP_1 =
  '0200000101100200000101010800450005dc69b120b93e01d5a10a01020a0a01010ac0c1c2c3c4c5c6c7c8c9cacbcccd' +
  'cecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfd' +
  'feff000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d' +
  '2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d' +
  '5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d' +
  '8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbd' +
  'bebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebeced' +
  'eeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d' +
  '1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d' +
  '4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d' +
  '7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacad' +
  'aeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdd' +
  'dedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d' +
  '0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d' +
  '3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d' +
  '6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d' +
  '9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccd' +
  'cecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfd' +
  'feff000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d' +
  '2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d' +
  '5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d' +
  '8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbd' +
  'bebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebeced' +
  'eeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d' +
  '1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d' +
  '4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d' +
  '7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacad' +
  'aeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdd' +
  'dedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d' +
  '0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d' +
  '3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d' +
  '6e6f707172737475767778797a7b7c7d7e7f8081828384858687';
/** ping-trace-udp.pcap frame 14: ping -s 3000 reply fragment 2 (id 0x69b1) (82 bytes). */
const FRAG_REP_2 =
  '02000001011002000001010108004500004469b101723e01fa800a01020a0a01010a88898a8b8c8d8e8f909192939495' +
  '969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7';
/** ping-trace-udp.pcap frame 15: traceroute UDP probe, TTL 1, dst port 33434 (74 bytes). */
const UDP_PROBE_TTL1 =
  '02000001010102000001011008004500003c124e00000111904e0a01010a0a01020ab1b0829a0028bf38404142434445' +
  '464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f';
/** ping-trace-udp.pcap frame 16: time exceeded from r1 10.1.1.1 quoting the whole 60-byte probe (102 bytes). */
const TIME_EXCEEDED_R1 =
  '020000010110020000010101080045c00058ac5200004001b7860a0101010a01010a0b000c4f000000004500003c124e' +
  '00000111904e0a01010a0a01020ab1b0829a0028bf38404142434445464748494a4b4c4d4e4f50515253545556575859' +
  '5a5b5c5d5e5f';
/** ping-trace-udp.pcap frame 21: traceroute UDP probe, TTL 2, dst port 33437 (74 bytes). */
const UDP_PROBE_TTL2 =
  '02000001010102000001011008004500003cf8b800000211a8e30a01010a0a01020a9769829d0028d97c404142434445' +
  '464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f';
/** ping-trace-udp.pcap frame 22: time exceeded from r2 10.1.12.2 quoting the probe as it reached r2 (TTL 1) (102 bytes). */
const TIME_EXCEEDED_R2 =
  '020000010110020000010101080045c00058ab5800003f01ae7f0a010c020a01010a0b000c4f000000004500003cf8b8' +
  '00000111a9e30a01010a0a01020a9769829d0028d97c404142434445464748494a4b4c4d4e4f50515253545556575859' +
  '5a5b5c5d5e5f';
/** ping-trace-udp.pcap frame 33: 23-byte UDP datagram 10.1.1.10:40000 -> 10.1.2.10:9999 (65 bytes). */
const UDP_TO_9999 =
  '0200000101010200000101100800450000334e3640004011d56e0a01010a0a01020a9c40270f001feaab68656c6c6f2c' +
  '20636c6f7365642055445020706f72740a';
/** ping-trace-udp.pcap frame 34: port unreachable from h2 quoting that datagram (93 bytes). */
const PORT_UNREACH_H2 =
  '020000010110020000010101080045c0004f69c800003e01fb100a01020a0a01010a0303144300000000450000334e36' +
  '40003e11d76e0a01010a0a01020a9c40270f001feaab68656c6c6f2c20636c6f7365642055445020706f72740a';
/** vlan-stp.pcap frame 1: 802.1D Configuration BPDU from the Linux bridge, unpadded (52 bytes). */
const BPDU_CONFIG =
  '0180c200000002000000b00100264242030000000000800002000000b00000000000800002000000b000800100001400' +
  '02000400';
/** vlan-stp.pcap frame 13: the same with the TC flag set (52 bytes). */
const BPDU_CONFIG_TC =
  '0180c200000002000000b00100264242030000000001800002000000b00000000000800002000000b000800100001400' +
  '02000400';
/** vlan-stp.pcap frame 5: 802.1Q VID 10 ARP who-has 192.168.10.2 (46 bytes). */
const VLAN_ARP_REQUEST = 'ffffffffffff020000000a018100000a08060001080006040001020000000a01c0a80a01000000000000c0a80a02';
/** vlan-stp.pcap frame 7: 802.1Q VID 10 ICMP echo request 192.168.10.1 -> 192.168.10.2 (102 bytes). */
const VLAN_ECHO_REQUEST =
  '020000000b01020000000a018100000a0800450000541ff640004001855fc0a80a01c0a80a020800298c404b0001e10c' +
  '086b00000000d7dc0e0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031' +
  '323334353637';
