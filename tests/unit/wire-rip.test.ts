/**
 * RIPv2 codec (devices/wire/rip.ts): every RIP message of two captures of FRR 8.4 ripd
 * (tests/fixtures/captures/ospf-rip-frr-*.pcap, see SOURCES.md), one plain and one with keyed
 * MD5, decodes and re-encodes byte for byte (digests included); plain-text authentication;
 * random messages round-trip and bad bytes raise only DecodeError.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIp4, toHex } from '../../devices/wire/bytes.js';
import { DecodeError } from '../../devices/wire/errors.js';
import { decodeEthernet } from '../../devices/wire/ethernet.js';
import { decodeIpv4 } from '../../devices/wire/ipv4.js';
import { decodeUdp } from '../../devices/wire/udp.js';
import {
  RIP_AFI_INET,
  RIP_AUTH,
  RIP_COMMAND,
  RIP_PORT,
  decodeRipHeader,
  decodeRipPacket,
  encodeRip,
  ripAddressAt,
  ripAuthOk,
  ripEncodingLength,
  ripMetricAt,
  type RipPacket,
} from '../../devices/wire/rip.js';
import { pcapFrames } from '../helpers/pcapng.js';

const ip = (s: string): number => parseIp4(s)!;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function ripMessages(name: string): { frame: Uint8Array; off: number; len: number; src: number }[] {
  const frames = pcapFrames(new Uint8Array(readFileSync(new URL(`../fixtures/captures/${name}`, import.meta.url))));
  return frames.flatMap((frame) => {
    const eth = decodeEthernet(frame);
    const iph = decodeIpv4(frame, eth.payloadOffset);
    if (iph.protocol !== 17) return [];
    const udp = decodeUdp(frame, iph.payloadOffset, iph.payloadLength);
    return udp.dstPort === RIP_PORT ? [{ frame, off: udp.payloadOffset, len: udp.payloadLength, src: iph.src }] : [];
  });
}

describe('rip against FRR ripd captures', () => {
  it('decodes requests and responses and re-encodes them byte for byte', () => {
    const msgs = ripMessages('ospf-rip-frr-plain.pcap');
    const commands = new Set<number>();
    for (const { frame, off, len } of msgs) {
      const h = decodeRipHeader(frame, off, len);
      expect(h.version).toBe(2);
      expect(ripAuthOk(frame, h, null)).toBe(true);
      const p = decodeRipPacket(frame, off, len);
      commands.add(p.command);
      const out = new Uint8Array(ripEncodingLength(p));
      expect(encodeRip(p, out)).toBe(len);
      expect(toHex(out)).toBe(toHex(frame, off, len));
    }
    expect([...commands].sort()).toEqual([RIP_COMMAND.REQUEST, RIP_COMMAND.RESPONSE]);
    // A whole-table request (RFC 2453 3.9.1): one entry, AFI 0, metric 16.
    const req = decodeRipPacket(msgs[0]!.frame, msgs[0]!.off, msgs[0]!.len);
    expect(req).toEqual({ command: 1, version: 2, auth: { type: 0 }, entries: [{ afi: 0, routeTag: 0, address: 0, mask: 0, nextHop: 0, metric: 16 }] });
    // 10.2.0.2 (ripd in the other namespace) advertises its redistributed loopback at metric 1.
    const resp = msgs.find((m) => m.src === ip('10.2.0.2') && decodeRipHeader(m.frame, m.off, m.len).command === 2)!;
    const h = decodeRipHeader(resp.frame, resp.off, resp.len);
    expect(h.routeCount).toBe(1);
    expect(ripAddressAt(resp.frame, h.routesOffset)).toBe(ip('10.2.2.1'));
    expect(ripMetricAt(resp.frame, h.routesOffset)).toBe(1);
    expect(decodeRipPacket(resp.frame, resp.off, resp.len).entries[0]).toEqual({ afi: RIP_AFI_INET, routeTag: 0, address: ip('10.2.2.1'), mask: 0xffff_ffff, nextHop: 0, metric: 1 });
  });

  it('checks keyed MD5 (RFC 2082) and re-creates the digests ripd sent', () => {
    const responses = ripMessages('ospf-rip-frr-md5.pcap').filter((m) => decodeRipHeader(m.frame, m.off, m.len).command === RIP_COMMAND.RESPONSE);
    expect(responses.length).toBeGreaterThan(2);
    for (const { frame, off, len } of responses) {
      const h = decodeRipHeader(frame, off, len);
      // Auth Data Len: FRR 8.4 sends 20 by default (the trailer's 4-byte header and the 16-byte digest).
      expect(h).toMatchObject({ authType: RIP_AUTH.MD5, keyId: 1, authDataLength: 20, routeCount: 1, trailerOffset: off + len - 20 });
      expect(ripAuthOk(frame, h, text('wirelab'))).toBe(true);
      expect(ripAuthOk(frame, h, text('wirelad'))).toBe(false);
      expect(ripAuthOk(frame, h, null)).toBe(false);
      const p = decodeRipPacket(frame, off, len);
      expect(() => encodeRip(p, new Uint8Array(len))).toThrow(/needs the key/);
      if (p.auth.type === RIP_AUTH.MD5) p.auth.key = text('wirelab');
      const out = new Uint8Array(ripEncodingLength(p));
      expect(encodeRip(p, out)).toBe(len);
      expect(toHex(out)).toBe(toHex(frame, off, len));
    }
  });
});

describe('rip encoding', () => {
  it('plain-text authentication (RFC 2453 4.1): an entry of AFI 0xFFFF, type 2, 16 bytes', () => {
    const p: RipPacket = {
      command: 2,
      version: 2,
      auth: { type: RIP_AUTH.PLAIN, password: text('pw') },
      entries: [{ afi: 2, routeTag: 7, address: ip('192.0.2.0'), mask: ip('255.255.255.0'), nextHop: ip('10.0.0.9'), metric: 3 }],
    };
    const buf = new Uint8Array(ripEncodingLength(p));
    expect(encodeRip(p, buf)).toBe(44);
    expect(toHex(buf)).toBe('02020000' + 'ffff0002' + '7077' + '00'.repeat(14) + '00020007c0000200ffffff000a00000900000003');
    const h = decodeRipHeader(buf);
    expect(ripAuthOk(buf, h, text('pw'))).toBe(true);
    expect(ripAuthOk(buf, h, text('px'))).toBe(false);
    expect(ripAuthOk(buf, h, null)).toBe(false);
  });

  it('refuses bad command, version 0, partial entries and a misplaced MD5 trailer', () => {
    const p: RipPacket = { command: 2, version: 2, auth: { type: RIP_AUTH.MD5, keyId: 1, sequence: 5, authDataLength: 16, key: text('k') }, entries: [] };
    const buf = new Uint8Array(ripEncodingLength(p));
    encodeRip(p, buf);
    expect(decodeRipHeader(buf).routeCount).toBe(0);
    const bad = (mut: (b: Uint8Array) => void, len = buf.length): void => {
      const b = buf.slice();
      mut(b);
      expect(() => decodeRipPacket(b, 0, len)).toThrow(DecodeError);
    };
    bad((b) => (b[0] = 3));
    bad((b) => (b[1] = 0));
    bad((b) => (b[9] = 20)); // packet length pointing into the auth entry
    bad((b) => (b[24] = 0)); // trailer header wrong
    bad(() => {}, 43);
    // Cut anywhere but after the 4-byte header (an empty message, which is legal): refused.
    for (let n = 0; n < buf.length; n++) if (n !== 4) expect(() => decodeRipPacket(buf.subarray(0, n)), `${n}`).toThrow(DecodeError);
  });
});

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const entryArb = fc.record({ afi: u16.filter((a) => a !== 0xffff), routeTag: u16, address: u32, mask: u32, nextHop: u32, metric: u32 });
const authArb = fc.oneof(
  fc.constant({ type: RIP_AUTH.NONE }),
  fc.uint8Array({ maxLength: 16 }).map((password) => ({ type: RIP_AUTH.PLAIN, password })),
  fc.record({ keyId: fc.nat(255), sequence: u32, authDataLength: fc.constantFrom(16, 20), key: fc.uint8Array({ maxLength: 20 }) }).map((a) => ({ type: RIP_AUTH.MD5, ...a })),
) as fc.Arbitrary<RipPacket['auth']>;

describe('rip properties', () => {
  it('decode(encode(p)) = p and authentication verifies', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2), fc.integer({ min: 1, max: 255 }), authArb, fc.array(entryArb, { maxLength: 25 }), fc.nat(6), (command, version, auth, entries, off) => {
        const p: RipPacket = { command, version, auth, entries };
        const buf = new Uint8Array(off + ripEncodingLength(p));
        encodeRip(p, buf, off);
        const h = decodeRipHeader(buf, off);
        const key = auth.type === RIP_AUTH.NONE ? null : auth.type === RIP_AUTH.PLAIN ? auth.password : auth.key!;
        expect(ripAuthOk(buf, h, key)).toBe(true);
        const d = decodeRipPacket(buf, off);
        expect(d.entries).toEqual(entries);
        expect(d.auth.type).toBe(auth.type);
      }),
    );
  });
  it('random and mutated bytes raise DecodeError or decode', () => {
    const only = (b: Uint8Array): void => {
      try {
        decodeRipPacket(b);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), only));
    fc.assert(
      fc.property(authArb, fc.array(entryArb, { maxLength: 4 }), fc.nat(), fc.nat(255), fc.nat(), (auth, entries, at, v, cut) => {
        const buf = new Uint8Array(ripEncodingLength({ command: 2, version: 2, auth, entries }));
        encodeRip({ command: 2, version: 2, auth, entries }, buf);
        buf[at % buf.length] = v;
        only(buf);
        only(buf.subarray(0, cut % (buf.length + 1)));
      }),
    );
  });
});
