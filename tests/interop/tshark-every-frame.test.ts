/**
 * tshark (Wireshark 4.0, a decoder nobody here wrote) reads a capture of every frame type the
 * codecs produce: no malformed packet, no expert warning, every checksum valid, and the protocol
 * column it shows for each frame is the one we meant.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEveryFrame, everyFrame } from '../../devices/demo/every-frame.js';
import { concat } from '../helpers/pcapng.js';
import { reportTsharkSkip, tsharkAvailable, tsharkProblems, tsharkFields } from '../helpers/tshark.js';

const tshark = tsharkAvailable();

function capture(opts: Parameters<typeof runEveryFrame>[0] extends infer O ? Omit<O, 'sink'> : never = {}): Uint8Array {
  const chunks: Uint8Array[] = [];
  runEveryFrame({ ...opts, sink: (c) => chunks.push(c) });
  return concat(chunks);
}

describe('tshark reads every frame type', () => {
  it.skipIf(!tshark.ok)('with no malformed frame, no warning, valid checksums and the expected protocols', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wirelab-tshark-'));
    try {
      for (const format of ['pcapng', 'pcap'] as const) {
        const file = join(dir, `every.${format}`);
        writeFileSync(file, capture({ format }));
        expect(tsharkProblems(file)).toEqual([]);
        const rows = tsharkFields(file, ['_ws.col.Protocol', '_ws.col.Info']);
        const expected = everyFrame().map(({ what }) => {
          if (what.startsWith('DHCP')) return 'DHCP';
          if (what.startsWith('ARP')) return 'ARP';
          if (what.includes('ICMP')) return 'ICMP';
          if (what === 'IPv4 fragment') return 'IPv4';
          if (what.startsWith('DNS')) return 'DNS';
          if (what.startsWith('TCP')) return what === 'TCP request' || what === 'TCP response' ? 'HTTP' : 'TCP';
          if (what.startsWith('UDP') || what.includes('UDP')) return what === 'UDP echo' || what === 'IPv4 options + UDP' ? 'ECHO' : 'UDP';
          if (what.includes('BPDU')) return 'STP';
          return '?';
        });
        // The last fragment of each datagram is where tshark shows the reassembled ICMP.
        expected[14] = 'ICMP';
        expected[17] = 'ICMP';
        expect(rows.map((r) => r[0])).toEqual(expected);
        expect(rows[0]![1]).toMatch(/DHCP Discover/);
        expect(rows.at(-2)![1]).toMatch(/^Conf\. Root = 32768/);
        expect(rows.at(-1)![1]).toMatch(/^RST\. Root = 32768/);
        expect(rows.find((r) => r[1]!.includes('Time-to-live exceeded'))).toBeDefined();
        expect(rows.find((r) => r[1]!.includes('Destination unreachable (Port unreachable)'))).toBeDefined();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports why it is skipped', () => {
    reportTsharkSkip(tshark);
  });
});

describe('virtual-time determinism', () => {
  it('the same seed gives a byte-identical pcapng; another seed with loss changes it', () => {
    const lossy = { impairments: { loss: 0.3, jitterNs: 20_000 } };
    const a = capture({ seed: 7, ...lossy });
    const b = capture({ seed: 7, ...lossy });
    const c = capture({ seed: 8, ...lossy });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    // Without impairments the seed has nothing to change.
    expect(Buffer.from(capture({ seed: 1 })).equals(Buffer.from(capture({ seed: 2 })))).toBe(true);
  });
});
