/**
 * Property tests for the IPv6 codecs: random and mutated bytes make the decoders throw DecodeError
 * or nothing at all; address text round-trips; random messages round-trip through encode/decode.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../devices/wire/errors.js';
import { ip6ToString, parseIp6 } from '../../devices/wire/ip6addr.js';
import { decodeIpv6, ipv6AddressSum, newIpv6Walk, walkIpv6 } from '../../devices/wire/ipv6.js';
import { buildIcmpv6Packet, decodeIcmpv6, decodeQuotedIpv6, type Icmpv6Message, type NdOption } from '../../devices/wire/icmpv6.js';
import { decodeDhcpv6, readDhcpv6Fields } from '../../devices/wire/dhcpv6.js';
import { pcapFrames } from '../helpers/pcapng.js';

const CAPTURE = pcapFrames(new Uint8Array(readFileSync(new URL('../fixtures/captures/ipv6-nd-dhcpv6.pcap', import.meta.url))));
const addr = fc.uint8Array({ minLength: 16, maxLength: 16 });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 0xff });

function onlyDecodeError(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
}

/** Every decoder an IPv6 frame's bytes go through, from the IPv6 header on. */
function decodeAll(b: Uint8Array): void {
  const d = decodeIpv6(b, 0);
  walkIpv6(b, 0, newIpv6Walk());
  if (d.protocol === 58 && !d.fragment) {
    decodeIcmpv6(b, d.payloadOffset, d.upperLength, ipv6AddressSum(b, 0));
    if (d.upperLength >= 8) decodeQuotedIpv6(b, d.payloadOffset + 8, d.upperLength - 8);
  }
  if (d.protocol === 17 && d.upperLength > 8) readDhcpv6Fields(decodeDhcpv6(b, d.payloadOffset + 8, d.upperLength - 8).options);
}

describe('ipv6 properties', () => {
  it('random bytes only raise DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(0, 43, 44, 60, 58, 17), (b, nh) => {
        if (b.length > 6) b[6] = nh;
        onlyDecodeError(() => decodeIpv6(b));
        onlyDecodeError(() => decodeIcmpv6(b, 0, b.length, 0));
        onlyDecodeError(() => readDhcpv6Fields(decodeDhcpv6(b).options));
        // The same bytes made to look like an IPv6 packet of the right length, so the walk runs.
        if (b.length >= 40) {
          b[0] = 0x60;
          b[4] = (b.length - 40) >> 8;
          b[5] = (b.length - 40) & 0xff;
          onlyDecodeError(() => decodeAll(b));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('random mutations of real frames only raise DecodeError', () => {
    const seeds = CAPTURE.map((f) => f.subarray(14));
    fc.assert(
      fc.property(fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(), u8), { minLength: 1, maxLength: 6 }), fc.nat(), (i, muts, cut) => {
        const b = seeds[i]!.slice(0, seeds[i]!.length - (cut % 8));
        for (const [at, v] of muts) b[at % b.length] = v;
        onlyDecodeError(() => decodeAll(b));
      }),
      { numRuns: 3000 },
    );
  });

  it('address text round-trips and is canonical', () => {
    fc.assert(
      fc.property(addr, fc.nat(7), fc.nat(8), (a, at, zeros) => {
        a.fill(0, at * 2, Math.min(16, at * 2 + zeros * 2));
        const s = ip6ToString(a);
        expect(parseIp6(s)).toEqual(a);
        expect(ip6ToString(parseIp6(s)!)).toBe(s);
        expect(s).toBe(s.toLowerCase());
      }),
    );
  });

  it('random ND and echo messages round-trip', () => {
    const msg: fc.Arbitrary<Icmpv6Message> = fc.oneof(
      fc.record({ kind: fc.constant('echoRequest' as const), code: fc.constant(0), id: u16, seq: u16, data: fc.uint8Array({ maxLength: 64 }) }),
      fc.record({
        kind: fc.constant('routerAdvertisement' as const),
        code: fc.constant(0),
        curHopLimit: u8,
        managed: fc.boolean(),
        other: fc.boolean(),
        routerLifetime: u16,
        reachableTime: u32,
        retransTimer: u32,
        options: fc.array(
          fc.oneof(
            fc.record({ type: fc.constant('mtu' as const), mtu: u32 }),
            fc.record({ type: fc.constant('sourceLinkLayer' as const), mac: fc.integer({ min: 0, max: 2 ** 48 - 1 }) }),
            fc.record({ type: fc.constant('rdnss' as const), lifetime: u32, servers: fc.array(addr, { minLength: 1, maxLength: 3 }) }),
            fc.record({ type: fc.constant('prefixInfo' as const), prefixLength: u8, onLink: fc.boolean(), autonomous: fc.boolean(), validLifetime: u32, preferredLifetime: u32, prefix: addr }),
          ),
          { maxLength: 4 },
        ),
      }),
      fc.record({ kind: fc.constant('neighborSolicitation' as const), code: fc.constant(0), target: addr, options: fc.constant([] as NdOption[]) }),
    );
    fc.assert(
      fc.property(addr, addr, msg, (src, dst, m) => {
        const p = buildIcmpv6Packet({ src, dst }, m);
        const d = decodeIpv6(p);
        const back = decodeIcmpv6(p, d.payloadOffset, d.upperLength, ipv6AddressSum(p, 0));
        expect(back.checksumOk).toBe(true);
        expect(back).toMatchObject(m);
      }),
    );
  });
});
