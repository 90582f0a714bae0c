/**
 * DHCPv6 codec against the real dnsmasq/dhclient exchange in ipv6-nd-dhcpv6.pcap: every message
 * decodes and re-encodes byte for byte, typed fields read right, and dnsmasq's replies rebuilt
 * from the typed record alone come out identical.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../devices/wire/bytes.js';
import { DecodeError } from '../../devices/wire/errors.js';
import { decodeEthernet } from '../../devices/wire/ethernet.js';
import { ip6ToString, parseIp6 } from '../../devices/wire/ip6addr.js';
import { NEXT_HEADER, decodeIpv6, ipv6AddressSum } from '../../devices/wire/ipv6.js';
import { decodeUdp, udpChecksumOk6 } from '../../devices/wire/udp.js';
import {
  DHCPV6_CLIENT_PORT,
  DHCPV6_SERVER_PORT,
  Dhcpv6Type,
  decodeDhcpv6,
  decodeDuid,
  dhcpv6EncodingLength,
  dhcpv6OptionsFrom,
  dhcpv6TypeName,
  encodeDhcpv6,
  encodeDuid,
  readDhcpv6Fields,
  type Dhcpv6Message,
} from '../../devices/wire/dhcpv6.js';
import { pcapFrames } from '../helpers/pcapng.js';

const CAPTURE = pcapFrames(new Uint8Array(readFileSync(new URL('../fixtures/captures/ipv6-nd-dhcpv6.pcap', import.meta.url))));

function dhcp(frameNo: number): { bytes: Uint8Array; m: Dhcpv6Message } {
  const f = CAPTURE[frameNo - 1]!;
  const o = decodeEthernet(f).payloadOffset;
  const ip = decodeIpv6(f, o);
  expect(ip.protocol).toBe(NEXT_HEADER.UDP);
  expect(udpChecksumOk6(f, ip.payloadOffset, ip.upperLength, ipv6AddressSum(f, o))).toBe(true);
  const u = decodeUdp(f, ip.payloadOffset, ip.upperLength);
  expect([u.srcPort, u.dstPort].sort()).toEqual([DHCPV6_CLIENT_PORT, DHCPV6_SERVER_PORT]);
  const bytes = f.subarray(u.payloadOffset, u.payloadOffset + u.payloadLength);
  return { bytes, m: decodeDhcpv6(bytes) };
}

const reencode = (m: Dhcpv6Message): Uint8Array => {
  const out = new Uint8Array(dhcpv6EncodingLength(m));
  encodeDhcpv6(m, out, 0);
  return out;
};

describe('DHCPv6 (RFC 8415) from a real exchange', () => {
  const frames = { solicit: 28, advertise: 29, request: 31, reply: 32, release: 37, releaseReply: 38 };

  it('every message re-encodes byte for byte', () => {
    const types = Object.values(frames).map((n) => {
      const { bytes, m } = dhcp(n);
      expect(toHex(reencode(m))).toBe(toHex(bytes));
      return dhcpv6TypeName(m.msgType);
    });
    expect(types).toEqual(['SOLICIT', 'ADVERTISE', 'REQUEST', 'REPLY', 'RELEASE', 'REPLY']);
  });

  it('reads the solicit of ISC dhclient', () => {
    const { m } = dhcp(frames.solicit);
    expect(m.transactionId).toBe(0xad3e68);
    const f = readDhcpv6Fields(m.options);
    expect(decodeDuid(f.clientId!)).toMatchObject({ type: 'llt', hwType: 1, mac: 0x02000000000a });
    expect(f.oro).toEqual([23, 24, 39, 31]);
    expect(f.elapsedTime).toBe(0);
    expect(f.iaNa).toEqual([{ iaid: 10, t1: 3600, t2: 5400, addresses: [] }]);
  });

  it('reads and rebuilds dnsmasq advertise and reply from the typed record alone', () => {
    for (const n of [frames.advertise, frames.reply]) {
      const { bytes, m } = dhcp(n);
      const f = readDhcpv6Fields(m.options);
      expect(decodeDuid(f.serverId!)).toEqual({ type: 'll', hwType: 1, mac: 0x02000000000b });
      expect(f.iaNa![0]!.addresses.map((a) => ip6ToString(a.address))).toEqual(['2001:db8:1::17e']);
      expect(f.status).toEqual({ code: 0, message: 'success' });
      expect(f.dnsServers!.map((a) => ip6ToString(a))).toEqual(['2001:db8:1::1']);
      const rebuilt = reencode({ msgType: m.msgType, transactionId: m.transactionId, options: dhcpv6OptionsFrom(f) });
      expect(toHex(rebuilt)).toBe(toHex(bytes));
    }
    expect(readDhcpv6Fields(dhcp(frames.advertise).m.options).preference).toBe(0);
  });

  it('DUIDs round-trip', () => {
    for (const d of [
      { type: 'llt' as const, hwType: 1, time: 0x32aa3163, mac: 0x02000000000a },
      { type: 'll' as const, hwType: 1, mac: 0x02000000000b },
      { type: 'en' as const, enterprise: 9, id: Uint8Array.of(1, 2, 3) },
    ]) {
      expect(decodeDuid(encodeDuid(d))).toEqual(d);
    }
  });

  it('refuses truncated and overrunning messages with DecodeError', () => {
    const { bytes } = dhcp(frames.advertise);
    for (let n = 0; n < bytes.length; n++) {
      // A cut that falls between two top-level options is a shorter valid message.
      try {
        readDhcpv6Fields(decodeDhcpv6(bytes.subarray(0, n)).options);
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
      }
    }
    expect(() => decodeDhcpv6(bytes.subarray(0, 7))).toThrow(DecodeError);
    const relay = bytes.slice();
    relay[0] = Dhcpv6Type.RELAY_FORW;
    expect(() => decodeDhcpv6(relay)).toThrow(DecodeError);
    const badIa = encodeBad();
    expect(() => readDhcpv6Fields(decodeDhcpv6(badIa).options)).toThrow(DecodeError);
  });
});

/** An IA_NA holding an IA address option of 20 bytes (24 at least). */
function encodeBad(): Uint8Array {
  const m: Dhcpv6Message = { msgType: 7, transactionId: 1, options: dhcpv6OptionsFrom({ iaNa: [{ iaid: 1, t1: 0, t2: 0, addresses: [{ address: parseIp6('2001:db8::1')!, preferredLifetime: 1, validLifetime: 2 }] }] }) };
  const b = reencode(m);
  // options: IA_NA header at 4, IAADDR header at 4+4+12 = 20; shrink its length field to 20.
  b[23] = 20;
  return b;
}
