import { describe, expect, it } from 'vitest';
import { stableMac } from '../../devices/device.js';
import { isGroupMac, macToString } from '../../devices/wire/bytes.js';

describe('stable MACs', () => {
  it('are locally administered unicast, stable, and differ per interface', () => {
    const a = stableMac('office', 'pc1', 'eth0');
    expect(stableMac('office', 'pc1', 'eth0')).toBe(a);
    expect(macToString(a).startsWith('02:')).toBe(true);
    expect(isGroupMac(a)).toBe(false);
    const seen = new Set<number>();
    for (let n = 0; n < 2000; n++) seen.add(stableMac('lab', `h${n}`, 'eth0'));
    expect(seen.size).toBe(2000);
    expect(stableMac('office2', 'pc1', 'eth0')).not.toBe(a);
  });
});
