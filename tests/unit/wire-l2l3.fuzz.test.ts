/**
 * Property tests for the link- and network-layer codecs: decode(encode(x)) = x for random valid
 * values, and random or mutated bytes make decoders throw DecodeError and nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BPDU_TYPE,
  DecodeError,
  EncodeError,
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
  encodeArp,
  encodeBpdu,
  encodeEthernet,
  encodeIcmp,
  encodeIpv4,
  ethernetHeaderLength,
  ethInnerType,
  ethPayloadOffset,
  ethVid,
  fragment,
  fromHex,
  icmpErrorAllowed,
  icmpLength,
  icmpQuote,
  ipv4HeaderLengthOf,
  isStpFrame,
  popVlanTag,
  timeExceeded,
  type ArpPacket,
  type Bpdu,
  type EthernetFields,
  type IcmpFields,
  type Ipv4Fields,
} from '../../devices/wire/index.js';
import { Reassembler } from '../../devices/stack/reassembly.js';

const RUNS = 300;

/** Runs fn; anything thrown must be a DecodeError (or one of `also`). */
function onlyDecodeError(fn: () => unknown, ...also: (abstract new (...a: never[]) => Error)[]): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof DecodeError || also.some((c) => e instanceof c)) return;
    throw e;
  }
}

const macArb = fc.integer({ min: 0, max: 2 ** 48 - 1 });
const ipArb = fc.integer({ min: 0, max: 0xffff_ffff });
const u16Arb = fc.integer({ min: 0, max: 0xffff });

const tagArb = fc.record({
  tpid: fc.constantFrom(0x8100, 0x88a8),
  pcp: fc.integer({ min: 0, max: 7 }),
  dei: fc.integer({ min: 0, max: 1 }),
  vid: fc.integer({ min: 0, max: 4095 }),
});

describe('round trips', () => {
  it('ethernet II: decode(encode(h)) = h', () => {
    fc.assert(
      fc.property(
        macArb,
        macArb,
        fc.array(tagArb, { maxLength: 3 }),
        fc.integer({ min: 0x0600, max: 0xffff }).filter((t) => t !== 0x8100 && t !== 0x88a8),
        fc.integer({ min: 0, max: 100 }),
        (dst, src, tags, etherType, payloadLength) => {
          const h: EthernetFields = { dst, src, tags, etherType };
          const buf = new Uint8Array(ethernetHeaderLength(h) + payloadLength);
          const n = encodeEthernet(h, buf, 0);
          const d = decodeEthernet(buf);
          expect(d).toEqual({ ...h, payloadOffset: n, payloadLength });
          expect(ethInnerType(buf, 0)).toBe(etherType);
          expect(ethPayloadOffset(buf, 0)).toBe(n);
          expect(ethVid(buf, 0)).toBe(tags.length ? tags[0]!.vid : -1);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('802.3 with LLC: decode(encode(h)) = h, padding ignored', () => {
    fc.assert(
      fc.property(
        macArb,
        macArb,
        fc.array(tagArb, { maxLength: 2 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 40 }),
        (dst, src, tags, dsap, ssap, control, control2, dataLen, pad) => {
          const uFormat = (control & 3) === 3;
          const llc = uFormat ? { dsap, ssap, control } : { dsap, ssap, control, control2 };
          const h: EthernetFields = { dst, src, tags, etherType: (uFormat ? 3 : 4) + dataLen, llc };
          const hl = ethernetHeaderLength(h);
          const buf = new Uint8Array(hl + dataLen + pad);
          encodeEthernet(h, buf, 0);
          expect(decodeEthernet(buf)).toEqual({ ...h, payloadOffset: hl, payloadLength: dataLen });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('arp', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2), macArb, ipArb, macArb, ipArb, (op, senderMac, senderIp, targetMac, targetIp) => {
        const p: ArpPacket = { op, senderMac, senderIp, targetMac, targetIp };
        const buf = new Uint8Array(28);
        encodeArp(p, buf, 0);
        expect(decodeArp(buf)).toEqual(p);
      }),
      { numRuns: RUNS },
    );
  });

  const ipv4Arb = fc.record({
    dscp: fc.integer({ min: 0, max: 63 }),
    ecn: fc.integer({ min: 0, max: 3 }),
    id: u16Arb,
    flagReserved: fc.boolean(),
    df: fc.boolean(),
    mf: fc.boolean(),
    fragmentOffset: fc.integer({ min: 0, max: 8191 }).map((n) => n * 8),
    ttl: fc.integer({ min: 0, max: 255 }),
    protocol: fc.integer({ min: 0, max: 255 }),
    src: ipArb,
    dst: ipArb,
    options: fc.integer({ min: 0, max: 10 }).chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n })),
    payloadLength: fc.integer({ min: 0, max: 200 }),
    pad: fc.integer({ min: 0, max: 30 }),
  });

  it('ipv4 header: decode(encode(h)) = h with a valid checksum', () => {
    fc.assert(
      fc.property(ipv4Arb, ({ payloadLength, pad, ...rest }) => {
        const hl = ipv4HeaderLengthOf(rest);
        const h: Ipv4Fields = { ...rest, totalLength: hl + payloadLength };
        const buf = new Uint8Array(5 + hl + payloadLength + pad);
        expect(encodeIpv4(h, buf, 5)).toBe(hl);
        const d = decodeIpv4(buf, 5);
        expect(d).toMatchObject({ ...h, options: rest.options, headerLength: hl, checksumOk: true, payloadOffset: 5 + hl, payloadLength });
      }),
      { numRuns: RUNS },
    );
  });

  it('decrementTtl keeps the checksum equal to a full recompute', () => {
    fc.assert(
      fc.property(ipv4Arb, ({ payloadLength, pad: _pad, ...rest }) => {
        const hl = ipv4HeaderLengthOf(rest);
        const buf = new Uint8Array(hl);
        encodeIpv4({ ...rest, ttl: Math.max(1, rest.ttl), totalLength: hl + payloadLength }, buf, 0);
        decrementTtl(buf, 0);
        const got = (buf[10]! << 8) | buf[11]!;
        buf[10] = buf[11] = 0;
        expect(got).toBe(checksum(buf, 0, hl));
      }),
      { numRuns: RUNS },
    );
  });

  it('icmp', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.uint8Array({ maxLength: 300 }),
        (type, code, rest, payload) => {
          const f: IcmpFields = { type, code, rest, payload };
          const buf = new Uint8Array(icmpLength(f) + 3);
          const n = encodeIcmp(f, buf, 3);
          const d = decodeIcmp(buf, 3, n);
          expect(d).toMatchObject({ type, code, rest, payload, checksumOk: true });
          // Re-encoding the decoded message gives the same bytes.
          const again = new Uint8Array(n);
          encodeIcmp(d, again, 0);
          expect(again).toEqual(buf.subarray(3));
        },
      ),
      { numRuns: RUNS },
    );
  });

  const bridgeIdArb = fc.record({ priority: u16Arb, mac: macArb });
  const timeArb = u16Arb.map((n) => n / 256);
  const bpduArb: fc.Arbitrary<Bpdu> = fc.oneof(
    fc.record({ type: fc.constant(BPDU_TYPE.TCN), protocolId: fc.constant(0), version: fc.integer({ min: 0, max: 255 }) }),
    fc.record({
      type: fc.constantFrom(BPDU_TYPE.CONFIG, BPDU_TYPE.RST),
      protocolId: fc.constant(0),
      version: fc.integer({ min: 0, max: 255 }),
      flags: fc.record({
        tc: fc.boolean(),
        proposal: fc.boolean(),
        role: fc.integer({ min: 0, max: 3 }),
        learning: fc.boolean(),
        forwarding: fc.boolean(),
        agreement: fc.boolean(),
        tca: fc.boolean(),
      }),
      rootId: bridgeIdArb,
      rootPathCost: fc.integer({ min: 0, max: 0xffff_ffff }),
      bridgeId: bridgeIdArb,
      portId: u16Arb,
      messageAge: timeArb,
      maxAge: timeArb,
      helloTime: timeArb,
      forwardDelay: timeArb,
    }),
  );

  it('bpdu', () => {
    fc.assert(
      fc.property(bpduArb, (b) => {
        const buf = new Uint8Array(40);
        const n = encodeBpdu(b, buf, 2);
        expect(decodeBpdu(buf, 2, n)).toEqual(b);
      }),
      { numRuns: RUNS },
    );
  });

  it('fragment then reassemble in any order gives back the datagram', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 4000 }),
        fc.integer({ min: 68, max: 1500 }),
        fc.constantFrom(
          new Uint8Array(0),
          Uint8Array.from([0x94, 0x04, 0, 0]), // router alert, copied
          Uint8Array.from([0x07, 0x07, 0x04, 0, 0, 0, 0, 0]), // record route, not copied
          Uint8Array.from([0x83, 0x07, 0x04, 0x0a, 0, 0, 1, 0x01]), // loose source route, copied, then NOP
        ),
        fc.integer({ min: 0, max: 0xffff }),
        fc.infiniteStream(fc.nat()),
        (payload, mtu, options, id, rand) => {
          const hl = 20 + options.length;
          const pkt = new Uint8Array(hl + payload.length);
          encodeIpv4(
            { dscp: 0, ecn: 0, totalLength: pkt.length, id, df: false, mf: false, fragmentOffset: 0, ttl: 64, protocol: 17, src: 0x0a000001, dst: 0x0a000002, options },
            pkt,
            0,
          );
          pkt.set(payload, hl);
          const frags = fragment(pkt, mtu);
          for (const f of frags) {
            const h = decodeIpv4(f);
            expect(h.totalLength).toBeLessThanOrEqual(mtu);
            expect(h.checksumOk).toBe(true);
            if (h.mf) expect(h.payloadLength % 8).toBe(0);
          }
          // Shuffle, and send some fragments twice.
          const order = frags.map((f, i) => ({ f, k: rand.next().value as number, i }));
          order.sort((a, b) => a.k - b.k || a.i - b.i);
          const r = new Reassembler();
          let out: Uint8Array | null = null;
          for (const { f, k } of order) {
            if (k % 3 === 0 && frags.length > 1) expect(r.add(f, 0, 0)).toBeNull();
            const got = r.add(f, 0, 0);
            if (got) out = got;
          }
          expect(out).toEqual(pkt);
          expect(r.size).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});

// Real frames to mutate (hex from the reference captures of tests/fixtures/SOURCES.md; see wire-l2l3.test.ts for the full set).
const SEEDS = [
  // ping-trace-udp.pcap frame 1: ARP request
  'ffffffffffff020000010110080600010800060400010200000101100a01010a0000000000000a010101',
  // ping-trace-udp.pcap frame 3: ICMP echo request
  '020000010101020000010110080045000054c01940004001637a0a01010a0a01020a080028d715a000017d0c086b0000' +
    '0000683d0d0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
  // ping-trace-udp.pcap frame 11: last fragment of the 3000-byte ping
  '020000010101020000010110080045000044c08101724001a1b00a01010a0a01020a88898a8b8c8d8e8f909192939495' +
    '969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7',
  // ping-trace-udp.pcap frame 34: ICMP port unreachable quoting a UDP datagram
  '020000010110020000010101080045c0004f69c800003e01fb100a01020a0a01010a0303144300000000450000334e36' +
    '40003e11d76e0a01010a0a01020a9c40270f001feaab68656c6c6f2c20636c6f7365642055445020706f72740a',
  // vlan-stp.pcap frame 1: Configuration BPDU
  '0180c200000002000000b00100264242030000000000800002000000b00000000000800002000000b00080010000140002000400',
  // vlan-stp.pcap frame 5: 802.1Q VID 10 ARP
  'ffffffffffff020000000a018100000a08060001080006040001020000000a01c0a80a01000000000000c0a80a02',
].map(fromHex);

/** Feeds bytes to every decoder and builder that takes wire input. */
function everything(b: Uint8Array, r: Reassembler, now: number): void {
  const at = (o: number) => [b, o] as const;
  for (const o of [0, 14, 18]) {
    onlyDecodeError(() => decodeEthernet(...at(o)));
    onlyDecodeError(() => decodeArp(...at(o)));
    onlyDecodeError(() => decodeIpv4(...at(o)));
    onlyDecodeError(() => decodeIcmp(...at(o)));
    onlyDecodeError(() => decodeIcmp(b, o, b.length - o + 3));
    onlyDecodeError(() => decodeBpdu(...at(o)));
    onlyDecodeError(() => decodeStpFrame(...at(o)));
    onlyDecodeError(() => decodeQuotedIpv4(...at(o)));
    onlyDecodeError(() => icmpQuote(...at(o)));
    onlyDecodeError(() => echoReplyFrom(b, o, b.length - o));
    onlyDecodeError(() => timeExceeded(0, b, { offset: o }));
    onlyDecodeError(() => destinationUnreachable(4, b, { offset: o, nextHopMtu: 1400, maxQuote: 548 }));
    onlyDecodeError(() => r.add(b, o, now));
    // DF set, or an MTU too small for its options, is the caller's to check first.
    onlyDecodeError(() => fragment(b.subarray(Math.min(o, b.length)), 68), EncodeError);
    icmpErrorAllowed(b, o);
    isStpFrame(b, o);
    ethVid(b, o);
    ethInnerType(b, o);
  }
  onlyDecodeError(() => popVlanTag(b));
}

describe('hostile bytes only ever throw DecodeError', () => {
  it('random bytes', () => {
    const r = new Reassembler({ maxDatagrams: 8 });
    let now = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        everything(b, r, (now += 1e8));
        expect(r.size).toBeLessThanOrEqual(8);
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated and truncated real frames', () => {
    const r = new Reassembler({ maxDatagrams: 8 });
    let now = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...SEEDS),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        (seed, edits, cut) => {
          const b = seed.slice(0, seed.length - (cut % 8 === 0 ? cut % seed.length : 0));
          for (const [pos, v] of edits) if (b.length) b[pos % b.length] = v;
          everything(b, r, (now += 1e8));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('the reassembler survives random fragment streams and stays bounded', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            id: fc.integer({ min: 0, max: 3 }),
            off: fc.integer({ min: 0, max: 8191 }),
            mf: fc.boolean(),
            len: fc.integer({ min: 0, max: 100 }),
            fill: fc.integer({ min: 0, max: 255 }),
            dt: fc.integer({ min: 0, max: 5e9 }),
          }),
          { maxLength: 60 },
        ),
        (stream) => {
          const r = new Reassembler({ maxDatagrams: 3, timeoutNs: 10e9 });
          let now = 0;
          for (const s of stream) {
            now += s.dt;
            const p = new Uint8Array(20 + s.len).fill(s.fill);
            encodeIpv4(
              { dscp: 0, ecn: 0, totalLength: p.length, id: s.id, df: false, mf: s.mf, fragmentOffset: s.off * 8, ttl: 9, protocol: 17, src: 1, dst: 2 },
              p,
              0,
            );
            const out = r.add(p, 0, now);
            if (out) {
              const h = decodeIpv4(out);
              expect(h.checksumOk).toBe(true);
              expect(h.mf).toBe(false);
              expect(h.totalLength).toBe(out.length);
              expect(out.length).toBeLessThanOrEqual(65535);
            }
            expect(r.size).toBeLessThanOrEqual(3);
            for (const e of r.entries.values()) {
              for (let i = 0; i < e.holes.length; i += 2) expect(e.holes[i]!).toBeLessThanOrEqual(e.holes[i + 1]!);
            }
            r.expire(now);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
