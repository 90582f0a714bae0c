import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { formatLabWarning, loadLabText } from '../../devices/lab/load.js';
import { main } from '../../server/cli.js';

function warnings(yaml: string): string[] {
  const r = loadLabText(yaml, 'lab.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.warnings.map(formatLabWarning);
}

const HEAD = 'wirelab: 1\nname: dup\n';

describe('duplicate addresses (a lab-file warning)', () => {
  it('a host given its router\'s address behind a switch is warned about, at the host\'s ip: and the router\'s, and the lab still loads', () => {
    const w = warnings(`${HEAD}nodes:
  pc1: { kind: host, interfaces: { eth0: { ip: 10.0.0.1/24 } } }
  sw1: { kind: switch }
  r1: { kind: router, interfaces: { g0/0: { ip: 10.0.0.1/24 } } }
links:
  - [pc1:eth0, sw1:e0]
  - [r1:g0/0, sw1:e1]
`);
    expect(w).toEqual([
      "lab.yaml:4:48: warning: nodes.pc1.interfaces.eth0.ip: duplicate address: 10.0.0.1 is also r1 g0/0's, on the same segment",
      "lab.yaml:6:49: warning: nodes.r1.interfaces.g0/0.ip: duplicate address: 10.0.0.1 is also pc1 eth0's, on the same segment",
    ]);
  });

  it('the same address on different segments (other VLAN, other cable) is no conflict', () => {
    const w = warnings(`${HEAD}nodes:
  pc1: { kind: host, interfaces: { eth0: { ip: 10.0.0.5/24 } } }
  pc2: { kind: host, interfaces: { eth0: { ip: 10.0.0.5/24 } } }
  pc3: { kind: host, interfaces: { eth0: { ip: 10.0.0.5/24 } } }
  pc4: { kind: host, interfaces: { eth0: { ip: 10.0.0.5/24 } } }
  sw1: { kind: switch, interfaces: { e0: { vlan: 10 }, e1: { vlan: 20 } } }
links:
  - [pc1:eth0, sw1:e0]
  - [pc2:eth0, sw1:e1]
  - [pc3:eth0, pc4:eth0]
`);
    expect(w).toHaveLength(2);
    expect(w[0]).toMatch(/nodes\.pc3\.interfaces\.eth0\.ip: duplicate address: 10\.0\.0\.5 is also pc4 eth0's/);
    expect(w[1]).toMatch(/nodes\.pc4\.interfaces\.eth0\.ip: .* pc3 eth0's/);
  });

  it('a trunk carries a sub-interface\'s VLAN to the access port of that VLAN; a network\'s own gateway counts', () => {
    const w = warnings(`${HEAD}networks:
  vmnet8: { type: nat, subnet: 192.168.50.0/24 }
nodes:
  pc1: { kind: host, interfaces: { eth0: { ip: 10.10.0.1/24 } } }
  pc2: { kind: host, interfaces: { eth0: { ip: 192.168.50.2/24, network: vmnet8 } } }
  sw1: { kind: switch, interfaces: { e0: { vlan: 10 }, e7: { mode: trunk, allowed: [10, 20] } } }
  r1:
    kind: router
    interfaces:
      g0/1.10: { vlan: 10, ip: 10.10.0.1/24 }
      g0/1.20: { vlan: 20, ip: 10.20.0.1/24 }
links:
  - [pc1:eth0, sw1:e0]
  - [r1:g0/1, sw1:e7]
`);
    expect(w.map((x) => x.replace(/^lab\.yaml:\d+:\d+: /, ''))).toEqual([
      "warning: nodes.pc1.interfaces.eth0.ip: duplicate address: 10.10.0.1 is also r1 g0/1.10's, on the same segment",
      "warning: nodes.pc2.interfaces.eth0.ip: duplicate address: 192.168.50.2 is also vmnet8's NAT gateway's, on the same segment",
      "warning: nodes.r1.interfaces[\"g0/1.10\"].ip: duplicate address: 10.10.0.1 is also pc1 eth0's, on the same segment",
    ]);
  });

  it('a lab with no repeated address has no warnings (the segments are not even worked out)', () => {
    expect(warnings(`${HEAD}nodes:\n  pc1: { kind: host, interfaces: { eth0: { ip: 10.0.0.5/24 } } }\n  pc2: { kind: host, interfaces: { eth0: { ip: 10.0.0.6/24 } } }\nlinks:\n  - [pc1:eth0, pc2:eth0]\n`)).toEqual([]);
  });

  it('wirelab check prints them on standard error and runs the lab anyway', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wl-dupcheck-'));
    const out: string[] = [];
    const err: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
    const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
    try {
      mkdirSync(join(dir, 'dup'));
      writeFileSync(
        join(dir, 'dup', 'lab.yaml'),
        `${HEAD}time: virtual\nnodes:\n  pc1: { kind: host, interfaces: { eth0: { ip: 10.0.0.1/24 } } }\n  r1: { kind: router, interfaces: { g0/0: { ip: 10.0.0.1/24 } } }\nlinks:\n  - [pc1:eth0, r1:g0/0]\nchecks:\n  - { name: r1 answers, ping: { from: pc1, to: 10.0.0.1 } }\n`,
      );
      const code = await main(['check', 'dup', '--labs', dir]);
      expect(err).toEqual([
        expect.stringMatching(/dup\/lab\.yaml:5:\d+: warning: nodes\.pc1\.interfaces\.eth0\.ip: duplicate address: 10\.0\.0\.1 is also r1 g0\/0's/),
        expect.stringMatching(/dup\/lab\.yaml:6:\d+: warning: nodes\.r1\.interfaces\.g0\/0\.ip: duplicate address/),
      ]);
      expect(out.join('\n')).toMatch(/1 passed, 0 failed|0 passed, 1 failed/);
      expect(code).toBeLessThan(2);
    } finally {
      log.mockRestore();
      error.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('duplicate addresses in a large lab', () => {
  it('a classroom of identical pairs (one address on many segments) is no conflict, and is worked out quickly', () => {
    const nodes: string[] = [];
    const links: string[] = [];
    for (let i = 0; i < 2000; i++) {
      nodes.push(`  a${i}: { kind: host, interfaces: { eth0: { ip: 10.0.0.1/24 } } }`, `  b${i}: { kind: host, interfaces: { eth0: { ip: 10.0.0.2/24 } } }`);
      links.push(`  - [a${i}:eth0, b${i}:eth0]`);
    }
    const t0 = performance.now();
    expect(warnings(`${HEAD}nodes:\n${nodes.join('\n')}\nlinks:\n${links.join('\n')}\n`)).toEqual([]);
    // Generous: a quadratic pass over 2,000 copies would take far longer.
    expect(performance.now() - t0).toBeLessThan(20_000);
  });
});
