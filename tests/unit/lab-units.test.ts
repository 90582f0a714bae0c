import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cidrContains,
  formatCidr,
  formatDuration,
  formatIpPort,
  formatIpRange,
  formatPercent,
  formatRate,
  formatSubnet,
  isHostAddress,
  parseCidr,
  parseDuration,
  parseIp,
  parseIpPort,
  parseIpRange,
  parseMacAddress,
  parsePercent,
  parseRate,
  parseSubnet,
  subnetsOverlap,
} from '../../devices/lab/units.js';
import { parseIp4, parseIp4OrPrefix, parseIp4Prefix } from '../../devices/wire/bytes.js';
import { compileFilter } from '../../server/trace.js';

const value = <T>(r: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const error = (r: { ok: boolean; error?: string }): string => {
  expect(r.ok).toBe(false);
  return r.error!;
};
const ip = (s: string) => parseIp4(s)!;

describe('durations', () => {
  it('parse the units of the lab file into nanoseconds', () => {
    expect(value(parseDuration('250ms'))).toBe(250_000_000);
    expect(value(parseDuration('30s'))).toBe(30e9);
    expect(value(parseDuration('5m'))).toBe(300e9);
    expect(value(parseDuration('1h'))).toBe(3600e9);
    expect(value(parseDuration('1d'))).toBe(86_400e9);
    expect(value(parseDuration('1h30m'))).toBe(5400e9);
    expect(value(parseDuration('1.5s'))).toBe(1_500_000_000);
    expect(value(parseDuration('20us'))).toBe(20_000);
    expect(value(parseDuration('0s'))).toBe(0);
  });
  it('refuse a bare number, spaces, signs and unknown units, saying why', () => {
    expect(error(parseDuration('30'))).toBe('"30" needs a unit: ms, s, m or h (for example 30s)');
    expect(error(parseDuration('5 sec'))).toContain('is not a duration');
    expect(error(parseDuration('-1s'))).toContain('is not a duration');
    expect(error(parseDuration('3w'))).toContain('is not a duration');
    expect(error(parseDuration(''))).toContain('empty');
  });
  it('format back to text that parses to the same value', () => {
    expect(formatDuration(250_000_000)).toBe('250ms');
    expect(formatDuration(5400e9)).toBe('90m');
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 50 }), (ns) => value(parseDuration(formatDuration(ns))) === ns));
  });
});

describe('rates', () => {
  it('are bits per second with decimal multiples, bit or bps', () => {
    expect(value(parseRate('10kbit'))).toBe(10_000);
    expect(value(parseRate('512kbit'))).toBe(512_000);
    expect(value(parseRate('100mbit'))).toBe(100_000_000);
    expect(value(parseRate('1gbit'))).toBe(1_000_000_000);
    expect(value(parseRate('1.5Mbit'))).toBe(1_500_000);
    expect(value(parseRate('100Mbps'))).toBe(100_000_000);
    expect(value(parseRate('9600bps'))).toBe(9600);
  });
  it('refuse numbers without unit, unknown units and zero', () => {
    expect(error(parseRate('100'))).toContain('needs a unit');
    expect(error(parseRate('100mb'))).toContain('is not a rate');
    expect(error(parseRate('0mbit'))).toContain('more than 0');
  });
  it('format back', () => {
    expect(formatRate(100_000_000)).toBe('100mbit');
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 45 }), (bps) => value(parseRate(formatRate(bps))) === bps));
  });
});

describe('percentages', () => {
  it('become probabilities 0..1', () => {
    expect(value(parsePercent('0.5%'))).toBeCloseTo(0.005, 12);
    expect(value(parsePercent('100%'))).toBe(1);
    expect(value(parsePercent('0%'))).toBe(0);
    expect(formatPercent(0.005)).toBe('0.5%');
  });
  it('need the % sign and stay within 100%', () => {
    expect(error(parsePercent('0.5'))).toBe('"0.5" needs a % sign (for example 0.5%)');
    expect(error(parsePercent('101%'))).toContain('more than 100%');
    expect(error(parsePercent('-1%'))).toContain('is not a percentage');
  });
});

describe('addresses', () => {
  it('parse an interface address with its prefix and the subnet it implies', () => {
    const c = value(parseCidr('10.1.0.10/24'));
    expect(c).toEqual({ ip: ip('10.1.0.10'), prefix: 24, mask: ip('255.255.255.0'), network: ip('10.1.0.0'), broadcast: ip('10.1.0.255') });
    expect(formatCidr(c)).toBe('10.1.0.10/24');
    expect(formatSubnet(c)).toBe('10.1.0.0/24');
    expect(cidrContains(c, ip('10.1.0.200'))).toBe(true);
    expect(cidrContains(c, ip('10.1.1.1'))).toBe(false);
    expect(isHostAddress(c, ip('10.1.0.0'))).toBe(false);
    expect(isHostAddress(c, ip('10.1.0.255'))).toBe(false);
    expect(isHostAddress(value(parseCidr('10.0.0.0/31')), ip('10.0.0.0'))).toBe(true);
    expect(value(parseCidr('0.0.0.0/0')).broadcast).toBe(0xffffffff);
  });
  it('explain what is wrong with an address', () => {
    expect(error(parseCidr('10.1.0.10'))).toBe('"10.1.0.10" needs a prefix length, like 10.1.0.10/24');
    expect(error(parseCidr('10.1.0.10/33'))).toContain('the prefix length must be 0..32');
    expect(error(parseCidr('10.1.0.300/24'))).toContain('300 is more than 255');
    expect(error(parseIp('10.01.0.1'))).toContain('leading zeros');
    expect(error(parseIp('pc1'))).toContain('is not an IPv4 address');
  });
  it('insist on a subnet without host bits where a subnet is meant', () => {
    expect(value(parseSubnet('192.168.145.0/24')).network).toBe(ip('192.168.145.0'));
    expect(error(parseSubnet('10.9.0.5/24'))).toBe('"10.9.0.5/24" has host bits set; the subnet is 10.9.0.0/24');
    expect(subnetsOverlap(value(parseSubnet('10.0.0.0/16')), value(parseSubnet('10.0.5.0/24')))).toBe(true);
    expect(subnetsOverlap(value(parseSubnet('10.0.0.0/24')), value(parseSubnet('10.0.1.0/24')))).toBe(false);
  });
  it('parse ranges in order', () => {
    const r = value(parseIpRange('192.168.145.128-192.168.145.253'));
    expect(r).toEqual({ start: ip('192.168.145.128'), end: ip('192.168.145.253') });
    expect(formatIpRange(r)).toBe('192.168.145.128-192.168.145.253');
    expect(error(parseIpRange('10.0.0.9-10.0.0.1'))).toContain('starts after it ends');
    expect(error(parseIpRange('10.0.0.1'))).toContain('is not an address range');
  });
  it('parse IP:PORT, with a default port where one is allowed', () => {
    expect(value(parseIpPort('127.0.0.1:8080'))).toEqual({ ip: ip('127.0.0.1'), port: 8080 });
    expect(formatIpPort({ ip: ip('127.0.0.1'), port: 8080 })).toBe('127.0.0.1:8080');
    expect(value(parseIpPort('8.8.8.8', 53))).toEqual({ ip: ip('8.8.8.8'), port: 53 });
    expect(error(parseIpPort('127.0.0.1'))).toContain('needs a port');
    expect(error(parseIpPort('127.0.0.1:0'))).toContain('the port must be 1..65535');
    expect(error(parseIpPort('127.0.0.1:65536'))).toContain('the port must be 1..65535');
  });
  it('parse unicast MACs only', () => {
    expect(value(parseMacAddress('02:00:00:aa:bb:01'))).toBe(0x02_00_00_aa_bb_01);
    expect(value(parseMacAddress('02-00-00-AA-BB-01'))).toBe(0x02_00_00_aa_bb_01);
    expect(error(parseMacAddress('01:00:5e:00:00:01'))).toContain('group (multicast)');
    expect(error(parseMacAddress('02:00:00:aa:bb'))).toContain('is not a MAC address');
  });
});

describe('the one CIDR parser (wire) and its readers', () => {
  it('reads an address with a prefix length, or nothing', () => {
    expect(parseIp4Prefix('10.1.0.10/24')).toEqual({ ip: 0x0a01000a, prefix: 24 });
    expect(parseIp4Prefix(' 0.0.0.0/0 ')).toEqual({ ip: 0, prefix: 0 });
    for (const bad of ['10.1.0.10', '10.1.0.10/33', '10.1.0.10/', '10.1.0/24', '10.1.0.10/ 24', '010.1.0.10/24', '10.1.0.10/24/1']) {
      expect(parseIp4Prefix(bad), bad).toBeNull();
    }
    expect(parseIp4OrPrefix('10.1.0.10')).toEqual({ ip: 0x0a01000a, prefix: 32 });
    expect(parseIp4OrPrefix('10.1.0.0/16')).toEqual({ ip: 0x0a010000, prefix: 16 });
    expect(parseIp4OrPrefix('02:00:00:00:00:01')).toBeNull();
  });

  it('accepts exactly what units.ts accepts, and units.ts says why the rest is wrong', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4().map((a) => `${a}/${a.length % 40}`), fc.string({ maxLength: 20 })), (text) => {
        const wire = parseIp4Prefix(text);
        const worded = parseCidr(text);
        expect(worded.ok).toBe(wire !== null);
        if (worded.ok) expect({ ip: worded.value.ip, prefix: worded.value.prefix }).toEqual(wire);
      }),
    );
  });

  it('the server trace filter takes an address, a subnet or a MAC', () => {
    expect(compileFilter({ address: '10.1.2.3/16' })).toMatchObject({ ok: true, filter: { ip: 0x0a010000, ipMask: 0xffff0000, mac: -1 } });
    expect(compileFilter({ address: '10.1.2.3' })).toMatchObject({ ok: true, filter: { ip: 0x0a010203, ipMask: 0xffffffff } });
    expect(compileFilter({ address: '02:00:00:00:00:01' })).toMatchObject({ ok: true, filter: { ip: -1, mac: 0x020000000001 } });
    expect(compileFilter({ address: '10.1.2.3/40' })).toMatchObject({ ok: false, field: 'filter.address' });
  });
});
