/**
 * The trace's JSON writer says exactly what decodeFrame says: for every kind of frame, for
 * damaged and truncated frames and for random bytes, its text parses to the same value as
 * JSON.stringify of decodeFrame's fields, byte for byte once non-ASCII is escaped, and it is
 * pure ASCII.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { everyFrame } from '../../devices/demo/every-frame.js';
import { decodeFrame } from '../../devices/trace/decode.js';
import { JsonBytes, jsonAscii, piece, writeDecodedJson, writeDecodedJsonFast } from '../../devices/trace/json.js';
import { IPPROTO, buildEthernetFrame, buildIpv4Packet, encodeTcp, fragment, parseIp4, parseMac, tcpEncodingLength } from '../../devices/wire/index.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** What the trace sent before: JSON.stringify of decodeFrame's fields, without the braces. */
function expected(frame: Uint8Array): string {
  const d = decodeFrame(frame);
  return text(jsonAscii({ protocol: d.protocol, src: d.src, dst: d.dst, info: d.info, layers: d.layers })).slice(1, -1);
}

function written(frame: Uint8Array, w = new JsonBytes(16)): string {
  const before = w.length;
  writeDecodedJson(w, frame);
  return text(w.bytes.subarray(before, w.length));
}

function same(frame: Uint8Array): void {
  const got = written(frame);
  expect(got).toBe(expected(frame));
  expect(/^[\x00-\x7f]*$/.test(got)).toBe(true);
}

const ip = (s: string) => parseIp4(s)!;
const mac = (s: string) => parseMac(s)!;

/** Frames everyFrame lacks: other EtherTypes and IP protocols, fragments, odd ICMP and ARP, bad sums. */
function oddFrames(): { what: string; frame: Uint8Array }[] {
  const out: { what: string; frame: Uint8Array }[] = [];
  const e = (etherType: number, payload: Uint8Array, tags: { tpid: number; pcp: number; dei: number; vid: number }[] = []) =>
    buildEthernetFrame({ dst: mac('02:00:00:00:00:01'), src: mac('0a:bc:de:f0:12:34'), tags, etherType }, payload);
  out.push({ what: 'IPv6 EtherType', frame: e(0x86dd, new Uint8Array(48)) });
  out.push({ what: 'GRE', frame: e(0x0800, buildIpv4Packet({ src: ip('192.168.1.1'), dst: ip('172.16.254.3'), protocol: 47, ttl: 255, id: 0xbeef }, new Uint8Array(12))) });
  const big = new Uint8Array(3000);
  for (const [i, frag] of fragment(buildIpv4Packet({ src: ip('10.0.0.1'), dst: ip('10.0.0.2'), protocol: IPPROTO.UDP, id: 0x1234 }, big), 1500).entries()) {
    out.push({ what: `UDP fragment ${i}`, frame: e(0x0800, frag) });
  }
  for (const [i, frag] of fragment(buildIpv4Packet({ src: ip('10.0.0.1'), dst: ip('10.0.0.2'), protocol: 99, id: 7 }, big), 1000).entries()) {
    out.push({ what: `proto 99 fragment ${i}`, frame: e(0x0800, frag) });
  }
  const icmp = (type: number, code: number) => {
    const m = new Uint8Array(16);
    m[0] = type;
    m[1] = code;
    return e(0x0800, buildIpv4Packet({ src: ip('10.0.0.1'), dst: ip('10.0.0.2'), protocol: IPPROTO.ICMP, id: 1 }, m));
  };
  out.push({ what: 'ICMP type 13', frame: icmp(13, 0) });
  out.push({ what: 'ICMP unreachable code 9', frame: icmp(3, 9) });
  out.push({ what: 'ICMP unreachable code 13', frame: icmp(3, 13) });
  out.push({ what: 'ICMP echo bad sum', frame: icmp(8, 0) });
  const arp = e(0x0806, new Uint8Array(28));
  arp.set([0, 1, 8, 0, 6, 4, 0, 3], 14);
  out.push({ what: 'ARP op 3', frame: arp });
  const badIp = e(0x0800, buildIpv4Packet({ src: ip('1.2.3.4'), dst: ip('5.6.7.8'), protocol: IPPROTO.UDP, id: 2, df: true }, new Uint8Array([0, 9, 0, 10, 0, 8, 0, 0])));
  badIp[24] ^= 0xff;
  out.push({ what: 'IPv4 bad checksum', frame: badIp });
  const tags = [{ tpid: 0x88a8, pcp: 7, dei: 1, vid: 4095 }, { tpid: 0x8100, pcp: 0, dei: 0, vid: 0 }, { tpid: 0x8100, pcp: 3, dei: 0, vid: 100 }];
  out.push({ what: 'three tags, IPv6', frame: e(0x86dd, new Uint8Array(40), tags) });
  const seg = (options: Uint8Array, flags: number) => {
    const len = tcpEncodingLength({ srcPort: 1, dstPort: 2, seq: 0xffffffff, ack: 0x80000000, flags, window: 0 });
    const tcp = new Uint8Array(len + options.length);
    encodeTcp({ srcPort: 1, dstPort: 2, seq: 0xffffffff, ack: 0x80000000, flags, window: 0 }, tcp, 0, ip('10.0.0.1'), ip('10.0.0.2'));
    tcp.copyWithin(20 + options.length, 20);
    tcp.set(options, 20);
    tcp[12] = ((20 + options.length) / 4) << 4;
    return e(0x0800, buildIpv4Packet({ src: ip('10.0.0.1'), dst: ip('10.0.0.2'), protocol: IPPROTO.TCP, id: 3 }, tcp));
  };
  out.push({ what: 'TCP all flags, MSS without SYN', frame: seg(new Uint8Array([2, 4, 5, 0xb4, 3, 3, 14, 4, 2, 1, 1, 0]), 0xff) });
  out.push({ what: 'TCP WS 60', frame: seg(new Uint8Array([3, 3, 60, 0]), 0x02) });
  out.push({ what: 'TCP options overrun', frame: seg(new Uint8Array([2, 9, 0, 0]), 0x12) });
  out.push({ what: 'runt', frame: new Uint8Array(13) });
  return out;
}

describe('trace records as JSON bytes', () => {
  const corpus = [...everyFrame(), ...oddFrames()];

  it('say what decodeFrame says for every kind of frame', () => {
    for (const { what, frame } of corpus) {
      expect(written(frame), what).toBe(expected(frame));
    }
  });

  it('write the common frames without decodeFrame', () => {
    const fast = (what: string) => writeDecodedJsonFast(new JsonBytes(), corpus.find((c) => c.what === what)!.frame);
    for (const what of ['ARP request', 'ARP reply', 'ICMP echo request', '802.1ad ICMP echo reply', 'UDP echo', 'ICMP port unreachable', 'TCP SYN', 'TCP ACK', 'IPv6 EtherType', 'GRE', 'UDP fragment 1']) {
      expect(fast(what), what).toBe(true);
    }
    for (const what of ['DHCP Discover', 'DNS query', 'STP config BPDU', 'runt', 'TCP options overrun']) expect(fast(what), what).toBe(false);
  });

  it('agree with decodeFrame on truncated, damaged and random frames', () => {
    for (const { frame } of corpus) for (let cut = 0; cut <= frame.length; cut++) same(frame.subarray(0, cut));
    fc.assert(
      fc.property(
        fc.constantFrom(...corpus.map((c) => c.frame)),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (base, flips, cut) => {
          const f = base.slice(0, base.length - (cut % 8 === 0 ? cut % base.length : 0));
          for (const [at, v] of flips) if (f.length > 0) f[at % f.length] = v;
          same(f);
        },
      ),
      { numRuns: 20_000, seed: 0x7ace },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => same(bytes)), { numRuns: 3000, seed: 42 });
  });

  it('append to what is there, growing the buffer', () => {
    const w = new JsonBytes(8);
    w.chunk(new Uint8Array([0x5b]));
    for (const { frame } of corpus) {
      if (w.length > 1) w.chunk(new Uint8Array([0x2c]));
      w.chunk(new Uint8Array([0x7b]));
      writeDecodedJson(w, frame);
      w.chunk(new Uint8Array([0x7d]));
    }
    w.chunk(new Uint8Array([0x5d]));
    const parsed = JSON.parse(text(w.bytes.subarray(0, w.length))) as unknown[];
    expect(parsed).toEqual(corpus.map(({ frame }) => JSON.parse(`{${expected(frame)}}`)));
    expect(JSON.stringify(parsed[corpus.findIndex((c) => c.what === 'UDP echo')])).toContain('→');
  });

  it('write base64 as Buffer does, strings as JSON.stringify does, integers in decimal and constant pieces whole', () => {
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeNat(), fc.nat(), fc.constantFrom(0, 9, 10, 2 ** 31 - 1, 2 ** 31, 1e9, 1e9 - 1, 1e18 / 1e3, 2 ** 53 - 1)), (n) => {
        const w = new JsonBytes(4);
        w.uint(n);
        expect(text(w.bytes.subarray(0, w.length))).toBe(String(n));
      }),
      { numRuns: 5000, seed: 9 },
    );
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }), { maxLength: 8 }), (parts) => {
        const w = new JsonBytes(4);
        for (const part of parts) w.piece(piece(part));
        expect(text(w.bytes.subarray(0, w.length))).toBe(parts.join(''));
      }),
      { numRuns: 2000, seed: 11 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), fc.string({ unit: 'binary' }), (bytes, s) => {
        const w = new JsonBytes(4);
        w.base64(bytes);
        expect(text(w.bytes.subarray(0, w.length))).toBe(Buffer.from(bytes).toString('base64'));
        const v = new JsonBytes(4);
        v.string(s);
        expect(JSON.parse(text(v.bytes.subarray(0, v.length)))).toBe(s);
        v.uint(2 ** 53 - 1);
        expect(text(v.bytes.subarray(v.length - 16, v.length))).toBe(String(2 ** 53 - 1));
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});

