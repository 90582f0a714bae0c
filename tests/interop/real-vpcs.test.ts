/**
 * Two real VPCS instances cabled to an emulated switch through UDP tunnels (GNS3's wire format):
 * each gets a lease from an emulated router's DHCP server with `ip dhcp`, they ping each other and
 * the router, and `trace` through two emulated routers shows each hop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Router } from '../../devices/router/index.js';
import { Cleanup, freePorts, realPeers } from '../helpers/netns.js';
import { realLab, type RealLab } from '../helpers/reallab.js';
import { startVpcs, type Vpcs } from '../helpers/vpcs.js';

const peers = realPeers(['vpcs', 'ss'], { root: false });

describe.skipIf(!peers.ok)('VPCS through UDP tunnels', () => {
  const cleanup = new Cleanup();
  let lab: RealLab;
  let vpc1: Vpcs;
  let vpc2: Vpcs;

  beforeAll(async () => {
    const [consoleA, consoleB] = await freePorts('tcp', 2);
    const [udpVpc1, udpLab1, udpVpc2, udpLab2] = await freePorts('udp', 4);
    lab = realLab(`wirelab: 1
name: vpcs-interop
nodes:
  vpc1-tunnel: { kind: cloud, endpoint: { type: udp, local: "127.0.0.1:${udpLab1}", remote: "127.0.0.1:${udpVpc1}" } }
  vpc2-tunnel: { kind: cloud, endpoint: { type: udp, local: "127.0.0.1:${udpLab2}", remote: "127.0.0.1:${udpVpc2}" } }
  sw1: { kind: switch, ports: 4 }
  r1:
    kind: router
    interfaces:
      g0/0: { ip: 10.10.1.1/24 }
      g0/1: { ip: 10.10.12.1/30 }
    routes: [{ to: 10.10.2.0/24, via: 10.10.12.2 }]
    dhcp-server:
      pools: [{ interface: g0/0, range: 10.10.1.100-10.10.1.199, gateway: 10.10.1.1, lease: 1h }]
  r2:
    kind: router
    interfaces:
      g0/0: { ip: 10.10.12.2/30 }
      g0/1: { ip: 10.10.2.1/24 }
    routes: [{ to: 10.10.1.0/24, via: 10.10.12.1 }]
  srv: { kind: host, interfaces: { eth0: { ip: 10.10.2.10/24, gateway: 10.10.2.1 } } }
links:
  - [vpc1-tunnel:eth0, sw1:e0]
  - [vpc2-tunnel:eth0, sw1:e1]
  - [r1:g0/0, sw1:e3]
  - [r1:g0/1, r2:g0/0]
  - [r2:g0/1, srv:eth0]
`);
    cleanup.add('lab', () => lab.stop());
    await lab.runtime.settle(60e9);
    vpc1 = await startVpcs(cleanup, { consolePort: consoleA!, localUdp: udpVpc1!, remoteUdp: udpLab1!, macByte: 1 });
    vpc2 = await startVpcs(cleanup, { consolePort: consoleB!, localUdp: udpVpc2!, remoteUdp: udpLab2!, macByte: 2 });
  }, 120_000);

  afterAll(async () => {
    const problems = await cleanup.run();
    expect(problems).toEqual([]);
  });

  it('each VPCS gets a lease from the emulated router with ip dhcp', async () => {
    const out1 = await vpc1.console.command('ip dhcp', 30_000);
    const out2 = await vpc2.console.command('ip dhcp', 30_000);
    expect(out1).toMatch(/D+ORA IP 10\.10\.1\.1\d\d\/24 GW 10\.10\.1\.1/);
    expect(out2).toMatch(/D+ORA IP 10\.10\.1\.1\d\d\/24 GW 10\.10\.1\.1/);
    const ip1 = /IP (10\.10\.1\.\d+)/.exec(out1)![1];
    const ip2 = /IP (10\.10\.1\.\d+)/.exec(out2)![1];
    expect(ip1).not.toBe(ip2);
    // The router's lease table has both VPCS MACs (00:50:79:66:68:01 and :02).
    const r1 = lab.runtime.node('r1') as Router;
    const macs = r1.exportLeases().leases.map((l) => l.mac.toLowerCase()).sort();
    expect(macs).toEqual(['00:50:79:66:68:01', '00:50:79:66:68:02']);
    const counters = lab.endpoint('vpc1-tunnel').counters;
    expect(counters.framesIn).toBeGreaterThan(0);
    expect(counters.framesOut).toBeGreaterThan(0);
    expect(counters.drops.runt + counters.drops.oversized + counters.drops.badSource).toBe(0);
  });

  it('they ping each other and the router', async () => {
    const show2 = await vpc2.console.command('show ip');
    const ip2 = /IP\/MASK\s*:\s*(10\.10\.1\.\d+)/.exec(show2)![1]!;
    const toPeer = await vpc1.console.command(`ping ${ip2} -c 3`);
    expect(toPeer.match(new RegExp(`^${ip2.replace(/\./g, '\\.')} icmp_seq=\\d ttl=64 time=`, 'gm'))?.length).toBe(3);
    const toRouter = await vpc2.console.command('ping 10.10.1.1 -c 3');
    // The router answers with TTL 255, as IOS does.
    expect(toRouter.match(/^10\.10\.1\.1 icmp_seq=\d ttl=255 time=/gm)?.length).toBe(3);
  });

  it('trace through two emulated routers shows each hop', async () => {
    const out = await vpc1.console.command('trace 10.10.2.10 -m 5', 30_000);
    const hops = out
      .split('\n')
      // VPCS marks the destination's line with '*': " 3   *10.10.2.10   2.202 ms (ICMP type:3, code:3, ...)".
      .map((l) => /^\s*(\d+)\s+\*?(\d+\.\d+\.\d+\.\d+)\s+\d/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [Number(m[1]), m[2]]);
    expect(hops).toEqual([
      [1, '10.10.1.1'],
      [2, '10.10.12.2'],
      [3, '10.10.2.10'],
    ]);
  });
});

describe('VPCS interop prerequisites', () => {
  it('are present (skipped locally with the reason, required in CI)', () => {
    if (!peers.ok) console.warn(`VPCS interop skipped: ${peers.reason}`);
    if (process.env.CI === 'true') expect(peers.reason).toBe('');
  });
});
