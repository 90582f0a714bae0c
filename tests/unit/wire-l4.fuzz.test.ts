/**
 * Property tests for the UDP, TCP, DHCP and DNS codecs: decode(encode(x)) = x for random valid
 * values, and random or mutated bytes make the decoders throw DecodeError or nothing at all.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../devices/wire/bytes.js';
import { DecodeError } from '../../devices/wire/errors.js';
import { decodeUdp, encodeUdp, udpChecksumOk, udpEncodingLength } from '../../devices/wire/udp.js';
import {
  decodeTcp,
  encodeTcp,
  linuxTcpOptions,
  tcpChecksumOk,
  tcpEncodingLength,
  tcpMssAt,
  TCP_SYN,
  type TcpOption,
} from '../../devices/wire/tcp.js';
import {
  decodeDhcp,
  dhcpEncodingLength,
  dhcpMessageTypeAt,
  dhcpOptionsFrom,
  encodeDhcp,
  readDhcpFields,
  type DhcpFields,
  type DhcpOption,
} from '../../devices/wire/dhcp.js';
import { decodeDns, dnsEncodingLength, encodeDns, type DnsAnswer, type DnsPacket } from '../../devices/wire/dns.js';

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 0xff });
const mac = fc.integer({ min: 0, max: 2 ** 48 - 1 });

/** Runs fn and fails unless it returns or throws a DecodeError. */
function onlyDecodeError(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
}

describe('udp properties', () => {
  it('decode(encode(x)) = x and the checksum verifies', () => {
    fc.assert(
      fc.property(u16, u16, fc.uint8Array({ maxLength: 300 }), u32, u32, fc.nat(8), (sp, dp, payload, src, dst, off) => {
        const buf = new Uint8Array(off + udpEncodingLength({ srcPort: sp, dstPort: dp, payload }));
        const n = encodeUdp({ srcPort: sp, dstPort: dp, payload }, buf, off, src, dst);
        const h = decodeUdp(buf, off, n);
        expect(h).toMatchObject({ srcPort: sp, dstPort: dp, length: n, payloadOffset: off + 8, payloadLength: payload.length });
        expect(h.checksum).not.toBe(0);
        expect(buf.subarray(h.payloadOffset)).toEqual(payload);
        expect(udpChecksumOk(buf, off, n, src, dst)).toBe(true);
      }),
    );
  });
});

const tcpOptionArb: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant<TcpOption>({ type: 'nop' }),
  u16.map<TcpOption>((mss) => ({ type: 'mss', mss })),
  u8.map<TcpOption>((shift) => ({ type: 'wscale', shift })),
  fc.constant<TcpOption>({ type: 'sackPermitted' }),
  fc
    .array(fc.record({ left: u32, right: u32 }), { minLength: 1, maxLength: 4 })
    .map<TcpOption>((blocks) => ({ type: 'sack', blocks })),
  fc.record({ value: u32, echo: u32 }).map<TcpOption>(({ value, echo }) => ({ type: 'timestamp', value, echo })),
  fc
    .record({ kind: fc.integer({ min: 6, max: 254 }).filter((k) => k !== 8), data: fc.uint8Array({ maxLength: 8 }) })
    .map<TcpOption>(({ kind, data }) => ({ type: 'raw', kind, data })),
);
function rawLength(options: TcpOption[]): number {
  const sizes: Record<TcpOption['type'], (o: TcpOption) => number> = {
    eol: () => 1,
    nop: () => 1,
    mss: () => 4,
    wscale: () => 3,
    sackPermitted: () => 2,
    sack: (o) => 2 + 8 * (o as { blocks: unknown[] }).blocks.length,
    timestamp: () => 10,
    raw: (o) => 2 + (o as { data: Uint8Array }).data.length,
  };
  return options.reduce((n, o) => n + sizes[o.type](o), 0);
}

describe('tcp properties', () => {
  it('decode(encode(x)) = x, with an EOL where padding was needed', () => {
    const segArb = fc.record({
      srcPort: u16,
      dstPort: u16,
      seq: u32,
      ack: u32,
      flags: u8,
      reserved: fc.integer({ min: 0, max: 15 }),
      window: u16,
      urgent: u16,
      options: fc.array(tcpOptionArb, { maxLength: 8 }).filter((o) => rawLength(o) <= 40),
      payload: fc.uint8Array({ maxLength: 100 }),
    });
    fc.assert(
      fc.property(segArb, u32, u32, (seg, src, dst) => {
        const buf = new Uint8Array(tcpEncodingLength(seg));
        const n = encodeTcp(seg, buf, 0, src, dst);
        expect(n).toBe(buf.length);
        const h = decodeTcp(buf);
        const { payload, ...fields } = seg;
        const expected = rawLength(seg.options) % 4 ? [...seg.options, { type: 'eol' }] : seg.options;
        expect(h).toMatchObject({ ...fields, options: expected, payloadLength: payload.length });
        expect(buf.subarray(h.payloadOffset)).toEqual(payload);
        expect(tcpChecksumOk(buf, 0, n, src, dst)).toBe(true);
        const mss = seg.options.find((o) => o.type === 'mss');
        expect(tcpMssAt(buf, 0)).toBe(mss && mss.type === 'mss' ? mss.mss : -1);
      }),
    );
  });
});

const latin1NoNul = (max: number) =>
  fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: max });
const dhcpOptionArb: fc.Arbitrary<DhcpOption> = fc.oneof(
  fc.constant<DhcpOption>({ code: 0, data: new Uint8Array(0) }),
  fc.record({ code: fc.integer({ min: 1, max: 254 }), data: fc.uint8Array({ maxLength: 40 }) }),
);

describe('dhcp properties', () => {
  it('decode(encode(x)) = x', () => {
    const msgArb = fc.record({
      op: fc.constantFrom(1, 2),
      htype: u8,
      hlen: u8,
      hops: u8,
      xid: u32,
      secs: u16,
      flags: u16,
      ciaddr: u32,
      yiaddr: u32,
      siaddr: u32,
      giaddr: u32,
      chaddr: mac,
      sname: latin1NoNul(63),
      file: latin1NoNul(127),
      options: fc.array(dhcpOptionArb, { maxLength: 12 }),
      padding: fc.nat(80),
    });
    fc.assert(
      fc.property(msgArb, (msg) => {
        const buf = new Uint8Array(dhcpEncodingLength(msg));
        expect(encodeDhcp(msg, buf, 0)).toBe(buf.length);
        expect(decodeDhcp(buf)).toEqual({ ...msg, missingEnd: false });
      }),
    );
  });

  it('readDhcpFields(dhcpOptionsFrom(f)) = f', () => {
    const ips = fc.array(u32, { minLength: 1, maxLength: 80 });
    const str = fc.string({ unit: 'grapheme', maxLength: 40 });
    const fieldsArb: fc.Arbitrary<DhcpFields> = fc.record(
      {
        messageType: fc.integer({ min: 1, max: 8 }),
        subnetMask: u32,
        routers: ips,
        dns: ips,
        hostname: str,
        domainName: str,
        broadcastAddress: u32,
        requestedIp: u32,
        leaseTime: u32,
        overload: fc.integer({ min: 1, max: 3 }),
        serverId: u32,
        parameterRequestList: fc.array(u8, { maxLength: 300 }),
        message: str,
        maxMessageSize: u16,
        renewalTime: u32,
        rebindingTime: u32,
        vendorClass: str,
        clientId: fc.uint8Array({ maxLength: 20 }),
        relayAgentInfo: fc.uint8Array({ maxLength: 300 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fieldsArb, (fields) => {
        const options = dhcpOptionsFrom(fields);
        expect(readDhcpFields(options)).toEqual(fields);
        // And through the wire.
        const msg = { op: 1, xid: 1, chaddr: 2, options };
        const buf = new Uint8Array(dhcpEncodingLength(msg));
        encodeDhcp(msg, buf, 0);
        expect(readDhcpFields(decodeDhcp(buf).options)).toEqual(fields);
        expect(dhcpMessageTypeAt(buf, 0)).toBe(fields.messageType ?? -1);
      }),
    );
  });
});

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
const dnsName = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
const answerArb: fc.Arbitrary<DnsAnswer> = fc.oneof(
  fc.record({ name: dnsName, ttl: u32, data: fc.ipV4() }).map<DnsAnswer>((a) => ({ ...a, type: 'A', class: 'IN' })),
  fc.record({ name: dnsName, ttl: u32, data: dnsName }).map<DnsAnswer>((a) => ({ ...a, type: 'CNAME', class: 'IN' })),
);

describe('dns properties', () => {
  it('decode(encode(x)) = x', () => {
    const packetArb = fc.record({
      id: u16,
      type: fc.constantFrom<'query' | 'response'>('query', 'response'),
      flags: fc.constantFrom(0, 0x100, 0x180, 0x183, 0x400),
      questions: fc.array(fc.record({ name: dnsName, type: fc.constantFrom<'A' | 'AAAA' | 'MX'>('A', 'AAAA', 'MX'), class: fc.constant<'IN'>('IN') }), { maxLength: 2 }),
      answers: fc.array(answerArb, { maxLength: 3 }),
    });
    fc.assert(
      fc.property(packetArb, fc.nat(5), (p: DnsPacket, off) => {
        const buf = new Uint8Array(off + dnsEncodingLength(p));
        const n = encodeDns(p, buf, off);
        const d = decodeDns(buf, off, n);
        expect(d).toMatchObject({ id: p.id, type: p.type, flags: p.flags, questions: p.questions });
        expect(d.answers).toEqual(p.answers!.map((a) => ({ ...a, flush: false })));
      }),
    );
  });
});

// Seeds for mutation: real bytes (a Linux SYN from tcp-http.pcap frame 1, dnsmasq's reply with
// a compression pointer from dns.pcap frame 4) and messages built by the encoders.
const SYN = fromHex('b0961f40ba6f2a3300000000a002a56497020000020405b40402080a84cebb390000000001030309');
const DNS_REPLY = fromHex(`
  00af85800001000100000001 09736f6d652d6e616d65036c61620000010001 c00c000100010000000000040a010203
  00002904d000000000 0000`);
function seeds(): Uint8Array[] {
  const syn = new Uint8Array(40);
  encodeTcp(
    { srcPort: 1, dstPort: 2, seq: 3, ack: 0, flags: TCP_SYN, window: 100, options: linuxTcpOptions({ mss: 1460, sackPermitted: true, timestamp: { value: 1, echo: 0 }, windowScale: 7 }) },
    syn,
    0,
    1,
    2,
  );
  const offer = {
    op: 2,
    xid: 7,
    chaddr: 0x020000000001,
    options: dhcpOptionsFrom({ messageType: 2, serverId: 1, leaseTime: 60, routers: [1], dns: [1, 2], hostname: 'h', clientId: Uint8Array.of(1, 2) }),
  };
  const dhcp = new Uint8Array(dhcpEncodingLength(offer));
  encodeDhcp(offer, dhcp, 0);
  const udp = new Uint8Array(8 + dhcp.length);
  encodeUdp({ srcPort: 67, dstPort: 68, payload: dhcp }, udp, 0, 1, 2);
  return [SYN, syn, DNS_REPLY, dhcp, udp];
}

function feedAll(b: Uint8Array, off: number, len: number): void {
  onlyDecodeError(() => decodeUdp(b, off, len));
  onlyDecodeError(() => udpChecksumOk(b, off, len, 1, 2));
  onlyDecodeError(() => decodeTcp(b, off, len));
  onlyDecodeError(() => tcpChecksumOk(b, off, len, 1, 2));
  onlyDecodeError(() => readDhcpFields(decodeDhcp(b, off, len).options));
  onlyDecodeError(() => decodeDns(b, off, len));
  // The in-place walkers never throw at all.
  tcpMssAt(b, off, len);
  dhcpMessageTypeAt(b, off, len);
}

describe('decoders on hostile bytes', () => {
  it('random bytes at random offsets and lengths throw only DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: -4, max: 420 }), fc.integer({ min: -4, max: 420 }), (b, off, len) => {
        feedAll(b, off, len);
        feedAll(b, 0, b.length);
      }),
      { numRuns: 500 },
    );
  });

  it('mutated and truncated real messages throw only DecodeError', () => {
    const all = seeds();
    fc.assert(
      fc.property(
        fc.constantFrom(...all.keys()),
        fc.array(fc.tuple(fc.nat(), u8), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (i, edits, cut) => {
          const b = all[i]!.slice();
          for (const [pos, v] of edits) b[pos % b.length] = v;
          feedAll(b, 0, b.length);
          feedAll(b, 0, cut % (b.length + 1));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
