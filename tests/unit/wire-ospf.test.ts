/**
 * OSPFv2 codec (devices/wire/ospf.ts, ospf-lsa.ts) and MD5 (md5.ts): every OSPF packet of three
 * captures of FRR 8.4 ospfd forming an adjacency (tests/fixtures/captures/ospf-*frr*.pcap: plain,
 * MD5, NSSA; see SOURCES.md) decodes and re-encodes to the same bytes, checksums and digests included; the LSA
 * checksums equal the ones FRR printed; random packets round-trip and bad bytes raise only DecodeError.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, parseIp4, toHex } from '../../devices/wire/bytes.js';
import { DecodeError } from '../../devices/wire/errors.js';
import { decodeEthernet } from '../../devices/wire/ethernet.js';
import { decodeIpv4 } from '../../devices/wire/ipv4.js';
import { md5, md5WithKey } from '../../devices/wire/md5.js';
import {
  DD_FLAG,
  IPPROTO_OSPF,
  OSPF_AUTH,
  OSPF_OPTION,
  OSPF_TYPE,
  decodeDdView,
  decodeHelloView,
  decodeLsuView,
  decodeOspfHeader,
  decodeOspfPacket,
  encodeOspf,
  helloNeighborAt,
  ospfAuthOk,
  ospfChecksumOk,
  ospfEncodingLength,
  type OspfPacket,
} from '../../devices/wire/ospf.js';
import {
  LSA_TYPE,
  MAX_AGE,
  ROUTER_LINK,
  compareLsaAt,
  compareLsaInstances,
  decodeLsa,
  encodeLsa,
  lsaChecksumOk,
  lsaEncodingLength,
  lsaFletcher,
  lsaLength,
  setLsaAge,
  type Lsa,
  type LsaHeader,
} from '../../devices/wire/ospf-lsa.js';
import { pcapFrames } from '../helpers/pcapng.js';

const ip = (s: string): number => parseIp4(s)!;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The OSPF packets of a capture: the frame and where the IPv4 payload lies. */
function ospfPackets(name: string): { frame: Uint8Array; off: number; len: number; src: number }[] {
  const frames = pcapFrames(new Uint8Array(readFileSync(new URL(`../fixtures/captures/${name}`, import.meta.url))));
  return frames.flatMap((frame) => {
    const eth = decodeEthernet(frame);
    const iph = decodeIpv4(frame, eth.payloadOffset);
    return iph.protocol === IPPROTO_OSPF ? [{ frame, off: iph.payloadOffset, len: iph.payloadLength, src: iph.src }] : [];
  });
}

describe('md5 (RFC 1321 A.5 test suite)', () => {
  it('gives the published digests', () => {
    const vectors: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
      ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
    ];
    for (const [input, hex] of vectors) expect(toHex(md5(text(input))), input).toBe(hex);
  });
  it('keyed: the key is cut or zero-padded to 16 bytes after the data', () => {
    const out = new Uint8Array(16);
    md5WithKey(text('xabcx'), 1, 3, text('k'), out, 0);
    expect(toHex(out)).toBe(toHex(md5(new Uint8Array([...text('abck'), ...new Uint8Array(15)]))));
    md5WithKey(text('abc'), 0, 3, text('0123456789abcdefXYZ'), out, 0);
    expect(toHex(out)).toBe(toHex(md5(text('abc0123456789abcdef'))));
  });
});

describe('ospf against FRR ospfd captures', () => {
  it('decodes every packet of an unauthenticated adjacency and re-encodes it byte for byte', () => {
    const pkts = ospfPackets('ospf-rip-frr-plain.pcap');
    const types = new Set<number>();
    const lsaTypes = new Set<number>();
    for (const { frame, off, len } of pkts) {
      expect(ospfChecksumOk(frame, off)).toBe(true);
      const h = decodeOspfHeader(frame, off, len);
      expect(h.auType).toBe(OSPF_AUTH.NULL);
      expect(ospfAuthOk(frame, h, null)).toBe(true);
      const p = decodeOspfPacket(frame, off, len);
      types.add(p.body.type);
      if (p.body.type === OSPF_TYPE.LSU) for (const l of p.body.lsas) lsaTypes.add((l as Lsa).header.type);
      const out = new Uint8Array(ospfEncodingLength(p));
      expect(encodeOspf(p, out, 0)).toBe(len);
      expect(toHex(out)).toBe(toHex(frame, off, len));
    }
    expect([...types].sort()).toEqual([1, 2, 3, 4, 5]);
    expect([...lsaTypes].sort()).toEqual([1, 2, 3, 5]);
  });

  it("reads FRR's Hello and DD fields through the allocation-free views", () => {
    const pkts = ospfPackets('ospf-rip-frr-plain.pcap');
    // Frame 4: 10.2.0.1 (router 10.2.1.1) says hello with one neighbour heard, 10.2.2.1.
    const hello = pkts.find(({ frame, off, len }) => decodeOspfHeader(frame, off, len).type === 1 && frame.length === 82)!;
    const h = decodeOspfHeader(hello.frame, hello.off, hello.len);
    expect(h.routerId).toBe(ip('10.2.1.1'));
    expect(h.areaId).toBe(0);
    const v = decodeHelloView(hello.frame, h);
    expect(v).toMatchObject({ networkMask: ip('255.255.255.0'), helloInterval: 1, deadInterval: 4, priority: 1, neighborCount: 1 });
    expect(helloNeighborAt(hello.frame, v, 0)).toBe(ip('10.2.2.1'));
    // The first DD: I, M and MS set, no LSA headers (RFC 2328 10.8).
    const dd = pkts.find(({ frame, off, len }) => decodeOspfHeader(frame, off, len).type === 2)!;
    const dv = decodeDdView(dd.frame, decodeOspfHeader(dd.frame, dd.off, dd.len));
    expect(dv.flags).toBe(DD_FLAG.I | DD_FLAG.M | DD_FLAG.MS);
    expect(dv.lsaHeaderCount).toBe(0);
    expect(dv.mtu).toBe(1500);
  });

  it('computes the Fletcher checksums FRR printed in show ip ospf database', () => {
    const lsas: Lsa[] = [];
    for (const { frame, off, len } of ospfPackets('ospf-rip-frr-plain.pcap')) {
      const h = decodeOspfHeader(frame, off, len);
      if (h.type !== OSPF_TYPE.LSU) continue;
      const v = decodeLsuView(frame, h);
      for (let i = 0, o = v.offset; i < v.count; i++, o += lsaLength(frame, o)) {
        expect(lsaChecksumOk(frame, o)).toBe(true);
        expect(lsaFletcher(frame, o)).toBe(decodeLsa(frame, o).header.checksum);
        lsas.push(decodeLsa(frame, o));
      }
    }
    // From FRR's database: "192.0.2.0 10.2.2.1 0x80000001 0xcb1a E2 192.0.2.0/24 [0x7]",
    // "10.2.0.2 10.2.2.1 0x80000001 0x6cb3" (network) and "10.2.1.1 10.2.1.1 0x80000001 0x44fc 10.2.1.1/32" (summary).
    const ext = lsas.find((l) => l.header.type === LSA_TYPE.AS_EXTERNAL)!;
    expect(ext.header).toMatchObject({ linkStateId: ip('192.0.2.0'), advertisingRouter: ip('10.2.2.1'), sequence: 0x8000_0001 | 0, checksum: 0xcb1a });
    expect(ext.body).toMatchObject({ kind: 'external', mask: ip('255.255.255.0'), e: true, metric: 20, forwardingAddress: 0, routeTag: 7 });
    const net = lsas.find((l) => l.header.type === LSA_TYPE.NETWORK)!;
    expect(net.header.checksum).toBe(0x6cb3);
    expect(net.body).toEqual({ kind: 'network', mask: ip('255.255.255.0'), attachedRouters: [ip('10.2.1.1'), ip('10.2.2.1')] });
    const sum = lsas.find((l) => l.header.type === LSA_TYPE.SUMMARY)!;
    expect(sum.header).toMatchObject({ linkStateId: ip('10.2.1.1'), checksum: 0x44fc });
    expect(sum.body).toMatchObject({ kind: 'summary', mask: 0xffff_ffff });
    // 10.2.2.1 redistributes, so it is an ASBR (E bit); once the DR is elected its newest
    // router-LSA has a transit link to 10.2.0.2 (the DR's address) and a stub for its loopback.
    const rtrs = lsas.filter((l) => l.header.type === LSA_TYPE.ROUTER && l.header.advertisingRouter === ip('10.2.2.1'));
    const newest = rtrs.reduce((a, b) => (compareLsaInstances(a.header, b.header) >= 0 ? a : b));
    expect(newest.body).toMatchObject({ kind: 'router', flags: 0x02 });
    expect((newest.body as { links: { type: number; linkId: number }[] }).links.map((l) => [l.type, l.linkId])).toEqual([
      [ROUTER_LINK.STUB, ip('10.2.2.1')],
      [ROUTER_LINK.TRANSIT, ip('10.2.0.2')],
    ]);
  });

  it('an NSSA (RFC 3101): N-bit Hellos, type-7 LSAs and the ABR default summary, byte for byte', () => {
    const lsas: Lsa[] = [];
    for (const { frame, off, len } of ospfPackets('ospf-frr-nssa.pcap')) {
      const p = decodeOspfPacket(frame, off, len);
      expect(p.areaId).toBe(1);
      if (p.body.type === OSPF_TYPE.HELLO) expect(p.body.options & OSPF_OPTION.NP).toBe(OSPF_OPTION.NP);
      if (p.body.type === OSPF_TYPE.LSU) lsas.push(...(p.body.lsas as Lsa[]));
      const out = new Uint8Array(ospfEncodingLength(p));
      encodeOspf(p, out);
      expect(toHex(out)).toBe(toHex(frame, off, len));
    }
    // FRR's database: "192.0.2.0 10.2.2.1 0x80000002 0xe3e7 E2 192.0.2.0/24 [0x7]" and the ABR's
    // "0.0.0.0 10.2.1.1 0x80000001 0x1c34 0.0.0.0/0" into the NSSA.
    const t7 = lsas.filter((l) => l.header.type === LSA_TYPE.NSSA).find((l) => l.header.sequence === (0x8000_0002 | 0))!;
    expect(t7.header).toMatchObject({ linkStateId: ip('192.0.2.0'), advertisingRouter: ip('10.2.2.1'), checksum: 0xe3e7, options: OSPF_OPTION.NP | OSPF_OPTION.E });
    expect(t7.body).toMatchObject({ kind: 'external', mask: ip('255.255.255.0'), e: true, metric: 20, forwardingAddress: ip('10.2.2.1'), routeTag: 7 });
    const def = lsas.find((l) => l.header.type === LSA_TYPE.SUMMARY && l.header.linkStateId === 0)!;
    expect(def.header.checksum).toBe(0x1c34);
    expect(def.body).toMatchObject({ kind: 'summary', mask: 0 });
  });

  it('checks MD5 authentication (RFC 2328 D.4.3) and re-creates the digests FRR sent', () => {
    const pkts = ospfPackets('ospf-rip-frr-md5.pcap');
    expect(pkts.length).toBeGreaterThan(10);
    for (const { frame, off, len } of pkts) {
      const h = decodeOspfHeader(frame, off, len);
      expect(h).toMatchObject({ auType: OSPF_AUTH.CRYPTO, keyId: 1, authDataLength: 16, digestOffset: off + h.length });
      expect(len).toBe(h.length + 16);
      expect(ospfAuthOk(frame, h, text('wirelab'))).toBe(true);
      expect(ospfAuthOk(frame, h, text('wirelaB'))).toBe(false);
      expect(ospfAuthOk(frame, h, null)).toBe(false);
      const p = decodeOspfPacket(frame, off, len);
      expect(p.auth).toEqual({ type: OSPF_AUTH.CRYPTO, keyId: 1, sequence: h.cryptoSequence });
      const out = new Uint8Array(ospfEncodingLength(p));
      expect(() => encodeOspf(p, out)).toThrow(/needs the key/);
      if (p.auth.type === OSPF_AUTH.CRYPTO) p.auth.key = text('wirelab');
      expect(encodeOspf(p, out)).toBe(len);
      expect(toHex(out)).toBe(toHex(frame, off, len));
    }
  });
});

describe('ospf encoding', () => {
  const hello: OspfPacket = {
    routerId: ip('1.1.1.1'),
    areaId: ip('0.0.0.1'),
    auth: { type: OSPF_AUTH.SIMPLE, password: text('secret') },
    body: { type: OSPF_TYPE.HELLO, networkMask: ip('255.255.255.0'), helloInterval: 10, options: 0x02, priority: 1, deadInterval: 40, dr: ip('10.0.0.1'), bdr: 0, neighbors: [ip('2.2.2.2'), ip('3.3.3.3')] },
  };

  it('simple password: the checksum leaves the auth field out (D.4.2), and the password is checked', () => {
    const buf = new Uint8Array(ospfEncodingLength(hello));
    encodeOspf(hello, buf);
    expect(toHex(buf, 16, 8)).toBe('7365637265740000');
    expect(ospfChecksumOk(buf, 0)).toBe(true);
    const h = decodeOspfHeader(buf);
    expect(ospfAuthOk(buf, h, text('secret'))).toBe(true);
    expect(ospfAuthOk(buf, h, text('secrex'))).toBe(false);
    // Changing the password does not change the checksum; changing a body byte does.
    buf[16] ^= 1;
    expect(ospfChecksumOk(buf, 0)).toBe(true);
    buf[30] ^= 1;
    expect(ospfChecksumOk(buf, 0)).toBe(false);
  });

  it('refuses wrong version, type, lengths and bodies with DecodeError', () => {
    const buf = new Uint8Array(ospfEncodingLength(hello));
    encodeOspf(hello, buf);
    const bad = (mut: (b: Uint8Array) => void, len = buf.length): void => {
      const b = buf.slice();
      mut(b);
      expect(() => decodeOspfPacket(b, 0, len)).toThrow(DecodeError);
    };
    bad((b) => (b[0] = 3));
    bad((b) => (b[1] = 6));
    bad((b) => (b[1] = 0));
    bad((b) => (b[3] = 23)); // length field below the header
    bad((b) => (b[3] = b[3]! + 4)); // length field beyond the datagram
    bad((b) => (b[3] = b[3]! - 2)); // Hello body not whole neighbours
    bad(() => {}, 23);
    for (let n = 0; n < buf.length; n++) expect(() => decodeOspfPacket(buf.subarray(0, n))).toThrow(DecodeError);
    // A view of the wrong type is refused, not misread.
    expect(() => decodeDdView(buf, decodeOspfHeader(buf))).toThrow(/type 1 is not DD/);
    expect(() => decodeLsuView(buf, decodeOspfHeader(buf))).toThrow(DecodeError);
  });
});

describe('lsa', () => {
  it('a hand-computed Fletcher checksum (RFC 2328 12.1.7): a network-LSA', () => {
    // age 1, options 0x22, type 2, id 10.0.0.1, adv 1.1.1.1, seq 0x80000001, mask /24, routers 1.1.1.1 2.2.2.2.
    // Summed from the options byte: C0 = sum of bytes mod 255, C1 = sum of running C0 mod 255, with
    // the checksum bytes zero; X = ((L - 15) * C0 - C1) mod 255, Y = 510 - C0 - X (mod 255), L = 30.
    const b = fromHex('0001 22 02 0a000001 01010101 80000001 0000 0020 ffffff00 01010101 02020202');
    // Bytes from Options sum to 989: C0 = 989 mod 255 = 224; the running sums give C1 = 177.
    // X = (15 * 224 - 177) mod 255 = 0x7b; Y = 510 - 224 - 0x7b = 0xa3. Summing again with 7b a3 gives 0, 0.
    expect(lsaFletcher(b, 0)).toBe(0x7ba3);
    expect(lsaChecksumOk(b, 0)).toBe(false);
    b[16] = 0x7b;
    b[17] = 0xa3;
    expect(lsaChecksumOk(b, 0)).toBe(true);
    const lsa: Lsa = {
      header: { age: 1, options: 0x22, type: 2, linkStateId: ip('10.0.0.1'), advertisingRouter: ip('1.1.1.1'), sequence: 0x8000_0001 | 0, checksum: 0, length: 0 },
      body: { kind: 'network', mask: ip('255.255.255.0'), attachedRouters: [ip('1.1.1.1'), ip('2.2.2.2')] },
    };
    const out = new Uint8Array(lsaEncodingLength(lsa));
    encodeLsa(lsa, out);
    expect(toHex(out)).toBe(toHex(b));
    expect(lsaChecksumOk(out, 0)).toBe(true);
    // The age is outside the checksum: ageing an LSA in place keeps it valid.
    setLsaAge(out, 0, 1234);
    expect(lsaChecksumOk(out, 0)).toBe(true);
    out[25] ^= 0x10;
    expect(lsaChecksumOk(out, 0)).toBe(false);
  });

  it('compares instances as RFC 2328 13.1 orders it', () => {
    const base = { age: 10, sequence: 0x8000_0005 | 0, checksum: 0x1000 };
    expect(compareLsaInstances(base, base)).toBe(0);
    expect(compareLsaInstances({ ...base, sequence: base.sequence + 1 }, base)).toBe(1);
    // Signed: 0x80000001 (the initial number) is older than 0x00000001.
    expect(compareLsaInstances({ ...base, sequence: 1 }, { ...base, sequence: 0x8000_0001 | 0 })).toBe(1);
    expect(compareLsaInstances(base, { ...base, checksum: 0x1001 })).toBe(-1);
    expect(compareLsaInstances({ ...base, age: MAX_AGE }, base)).toBe(1);
    expect(compareLsaInstances({ ...base, age: 1000 }, base)).toBe(-1);
    expect(compareLsaInstances({ ...base, age: 900 }, base)).toBe(0);
    const enc = (h: Partial<LsaHeader>): Uint8Array => {
      const l: Lsa = { header: { age: 0, options: 0, type: 1, linkStateId: 1, advertisingRouter: 1, sequence: 0, checksum: 0, length: 0, ...h }, body: { kind: 'router', flags: 0, links: [] } };
      const out = new Uint8Array(lsaEncodingLength(l));
      encodeLsa(l, out);
      return out;
    };
    const a = enc({ sequence: 5 });
    const b = enc({ sequence: 6 });
    expect(compareLsaAt(a, 0, b, 0)).toBe(-1);
    expect(compareLsaAt(b, 0, a, 0)).toBe(1);
    expect(compareLsaAt(a, 0, a, 0)).toBe(0);
  });

  it('refuses LSAs whose links or length overrun', () => {
    const l: Lsa = {
      header: { age: 0, options: 2, type: 1, linkStateId: 1, advertisingRouter: 1, sequence: 1, checksum: 0, length: 0 },
      body: { kind: 'router', flags: 1, links: [{ linkId: 1, linkData: 2, type: 1, metric: 10, tos: [{ tos: 8, metric: 20 }] }] },
    };
    const out = new Uint8Array(lsaEncodingLength(l));
    encodeLsa(l, out);
    expect(decodeLsa(out).body).toEqual(l.body);
    const more = out.slice();
    more[23] = 2; // two links declared, one present
    expect(() => decodeLsa(more)).toThrow(DecodeError);
    const tos = out.slice();
    tos[33] = 2; // two TOS metrics declared
    expect(() => decodeLsa(tos)).toThrow(DecodeError);
    expect(() => decodeLsa(out.subarray(0, out.length - 1))).toThrow(DecodeError);
  });
});

// ---- properties ----

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 0xff });
const u24 = fc.integer({ min: 0, max: 0xff_ffff });
const tosArb = fc.array(fc.record({ tos: u8, metric: u16 }), { maxLength: 2 });
const headerArb = fc.record({ age: u16, options: u8, type: u8, linkStateId: u32, advertisingRouter: u32, sequence: u32.map((v) => v | 0), checksum: u16, length: u16 });
const lsaArb: fc.Arbitrary<Lsa> = fc.oneof(
  fc.record({ flags: u8, links: fc.array(fc.record({ linkId: u32, linkData: u32, type: fc.integer({ min: 1, max: 4 }), metric: u16, tos: tosArb }), { maxLength: 4 }) }).map((b) => ({ t: 1, body: { kind: 'router' as const, ...b } })),
  fc.record({ mask: u32, attachedRouters: fc.array(u32, { maxLength: 4 }) }).map((b) => ({ t: 2, body: { kind: 'network' as const, ...b } })),
  fc.record({ t: fc.constantFrom(3, 4), mask: u32, metric: u24, tos: fc.array(fc.record({ tos: u8, metric: u24 }), { maxLength: 2 }) }).map(({ t, ...b }) => ({ t, body: { kind: 'summary' as const, ...b } })),
  fc
    .record({ t: fc.constantFrom(5, 7), mask: u32, e: fc.boolean(), metric: u24, forwardingAddress: u32, routeTag: u32, tos: fc.array(fc.record({ tos: fc.integer({ min: 0, max: 127 }), e: fc.boolean(), metric: u24, forwardingAddress: u32, routeTag: u32 }), { maxLength: 2 }) })
    .map(({ t, ...b }) => ({ t, body: { kind: 'external' as const, ...b } })),
  fc.record({ t: fc.constantFrom(9, 10, 11), bytes: fc.uint8Array({ maxLength: 24 }) }).map(({ t, bytes }) => ({ t, body: { kind: 'raw' as const, bytes } })),
).chain(({ t, body }) => headerArb.map((h) => ({ header: { ...h, type: t }, body }) as Lsa));

const authArb = fc.oneof(
  fc.constant({ type: OSPF_AUTH.NULL }),
  fc.uint8Array({ maxLength: 8 }).map((password) => ({ type: OSPF_AUTH.SIMPLE, password })),
  fc.record({ keyId: u8, sequence: u32, key: fc.uint8Array({ maxLength: 16 }) }).map((a) => ({ type: OSPF_AUTH.CRYPTO, ...a })),
) as fc.Arbitrary<OspfPacket['auth']>;
const bodyArb = fc.oneof(
  fc.record({ networkMask: u32, helloInterval: u16, options: u8, priority: u8, deadInterval: u32, dr: u32, bdr: u32, neighbors: fc.array(u32, { maxLength: 5 }) }).map((b) => ({ type: OSPF_TYPE.HELLO, ...b })),
  fc.record({ mtu: u16, options: u8, flags: u8, sequence: u32, lsaHeaders: fc.array(headerArb, { maxLength: 3 }) }).map((b) => ({ type: OSPF_TYPE.DD, ...b })),
  fc.array(fc.record({ type: u32, linkStateId: u32, advertisingRouter: u32 }), { maxLength: 3 }).map((requests) => ({ type: OSPF_TYPE.LSR, requests })),
  fc.array(lsaArb, { maxLength: 3 }).map((lsas) => ({ type: OSPF_TYPE.LSU, lsas })),
  fc.array(headerArb, { maxLength: 3 }).map((lsaHeaders) => ({ type: OSPF_TYPE.LSACK, lsaHeaders })),
) as fc.Arbitrary<OspfPacket['body']>;

/** An LSA as it decodes: length and checksum computed by the encoder. */
function settled(l: Lsa): Lsa {
  const out = new Uint8Array(lsaEncodingLength(l));
  encodeLsa(l, out);
  return { ...l, header: { ...l.header, length: out.length, checksum: lsaFletcher(out, 0) } };
}

describe('ospf properties', () => {
  it('decode(encode(p)) = p, with valid checksums and authentication', () => {
    fc.assert(
      fc.property(u32, u32, authArb, bodyArb, fc.nat(6), (routerId, areaId, auth, body, off) => {
        const p: OspfPacket = { routerId, areaId, auth, body };
        const buf = new Uint8Array(off + ospfEncodingLength(p));
        const n = encodeOspf(p, buf, off);
        expect(n).toBe(buf.length - off);
        expect(ospfChecksumOk(buf, off)).toBe(true);
        const h = decodeOspfHeader(buf, off);
        const key = auth.type === OSPF_AUTH.NULL ? null : auth.type === OSPF_AUTH.SIMPLE ? auth.password : auth.key!;
        expect(ospfAuthOk(buf, h, key)).toBe(true);
        const d = decodeOspfPacket(buf, off);
        const { key: _k, ...authNoKey } = auth as { key?: Uint8Array };
        const expectedAuth = auth.type === OSPF_AUTH.SIMPLE ? { type: 1, password: (() => { const pw = new Uint8Array(8); pw.set(auth.password); return pw; })() } : authNoKey;
        expect(d.auth).toEqual(expectedAuth);
        const expectedBody = body.type === OSPF_TYPE.LSU ? { ...body, lsas: body.lsas.map((l) => settled(l as Lsa)) } : body;
        expect(d.body).toEqual(expectedBody);
        if (body.type === OSPF_TYPE.LSU) {
          const v = decodeLsuView(buf, h);
          for (let i = 0, o = v.offset; i < v.count; i++, o += lsaLength(buf, o)) expect(lsaChecksumOk(buf, o)).toBe(true);
        }
      }),
    );
  });

  it('random and mutated bytes raise DecodeError or decode', () => {
    const onlyDecodeError = (b: Uint8Array): void => {
      try {
        decodeOspfPacket(b);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (b) => onlyDecodeError(b)));
    fc.assert(
      fc.property(u32, u32, authArb, bodyArb, fc.array(fc.tuple(fc.nat(), u8), { minLength: 1, maxLength: 4 }), fc.nat(), (routerId, areaId, auth, body, muts, cut) => {
        const p: OspfPacket = { routerId, areaId, auth, body };
        const buf = new Uint8Array(ospfEncodingLength(p));
        encodeOspf(p, buf);
        for (const [at, v] of muts) buf[at % buf.length] = v;
        onlyDecodeError(buf);
        onlyDecodeError(buf.subarray(0, cut % (buf.length + 1)));
      }),
    );
  });
});
