/**
 * VMware networks as a user sees them from the guests, in virtual time: the address plan (.1 host,
 * .2 NAT gateway and DNS, .254 DHCP, leases .128-.253, .1/.2/.254 never leased), DHCP options
 * (NAT: router and DNS .2, domain localdomain; host-only: no router), isolation between networks,
 * and segments with no services at all.
 */
import { describe, expect, it } from 'vitest';
import { loadLabText, formatLabErrors } from '../../devices/lab/load.js';
import type { LabRuntime } from '../../devices/lab/runtime.js';
import { labOf } from './network-host-fake.js';
import type { Host } from '../../devices/host/index.js';
import { SocketGateway } from '../../devices/network/index.js';
import { type Ip4, ip4ToString, macToString, parseIp4 } from '../../devices/wire/bytes.js';

const ip = (s: string): Ip4 => parseIp4(s)!;


function host(rt: LabRuntime, name: string): Host {
  const h = rt.host(name);
  if (!h) throw new Error(`no host ${name}`);
  return h;
}

async function pingOk(rt: LabRuntime, from: string, to: string | Ip4): Promise<number> {
  const p = host(rt, from).ping(to, { count: 2, timeoutNs: 2e9 });
  await rt.waitFor(() => p.isDone, 20e9);
  return p.result.received;
}

const PLAN = `wirelab: 1
name: plan
networks:
  vmnet8:
    type: nat
    subnet: 192.168.8.0/24
    dhcp: { reservations: [{ node: pc3, ip: 192.168.8.50 }] }
  vmnet1: { type: host-only, subnet: 192.168.11.0/24 }
  seg: { type: segment }
nodes:
  pc1: { kind: host, interfaces: { eth0: { network: vmnet8, ip: dhcp } } }
  pc2: { kind: host, interfaces: { eth0: { network: vmnet1, ip: dhcp } } }
  pc3: { kind: host, interfaces: { eth0: { network: vmnet8, ip: dhcp } } }
  pc4: { kind: host, interfaces: { eth0: { network: seg, ip: 10.9.0.4/24 } } }
  pc5: { kind: host, interfaces: { eth0: { network: seg, ip: 10.9.0.5/24 } } }
  pc6: { kind: host, interfaces: { eth0: { network: vmnet1, ip: 192.168.11.20/24 } } }
`;

describe('VMware address plan and DHCP', () => {
  it('leases from .128-.253 with router and DNS .2, domain localdomain and 30 minutes on a NAT network', async () => {
    const rt = labOf(PLAN);
    rt.start();
    expect(await rt.settle(60e9)).toBe(true);
    const lease = host(rt, 'pc1').dhcpStatus('eth0')!.lease!;
    expect(lease.ip).toBeGreaterThanOrEqual(ip('192.168.8.128'));
    expect(lease.ip).toBeLessThanOrEqual(ip('192.168.8.253'));
    expect(lease.prefix).toBe(24);
    expect(lease.serverId).toBe(ip('192.168.8.254'));
    expect(lease.routers).toEqual([ip('192.168.8.2')]);
    expect(lease.dns).toEqual([ip('192.168.8.2')]);
    expect(lease.domainName).toBe('localdomain');
    expect(lease.leaseSeconds).toBe(1800);
    // A reservation by node name.
    expect(host(rt, 'pc3').dhcpStatus('eth0')!.lease!.ip).toBe(ip('192.168.8.50'));
    // The lease table of .254 shows both.
    const leases = rt.networkDhcp('vmnet8')!.exportLeases().leases.map((l) => [l.ip, l.hostname]);
    expect(leases).toEqual(expect.arrayContaining([[ip4ToString(lease.ip), 'pc1'], ['192.168.8.50', 'pc3']]));
  });

  it('gives a host-only client no router (no way out), and .1, .2 and .254 answer where they should', async () => {
    const rt = labOf(PLAN);
    rt.start();
    await rt.settle(60e9);
    const lease = host(rt, 'pc2').dhcpStatus('eth0')!.lease!;
    expect(lease.ip).toBeGreaterThanOrEqual(ip('192.168.11.128'));
    expect(lease.serverId).toBe(ip('192.168.11.254'));
    expect(lease.routers).toEqual([]);
    expect(lease.dns).toEqual([]);
    expect(host(rt, 'pc2').stack.lookupRoute(ip('8.8.8.8'))).toBeNull();
    // The host adapter .1 and the DHCP server .254 answer on both networks; .2 only where there is NAT.
    expect(await pingOk(rt, 'pc2', '192.168.11.1')).toBe(2);
    expect(await pingOk(rt, 'pc2', '192.168.11.254')).toBe(2);
    expect(await pingOk(rt, 'pc2', '192.168.11.2')).toBe(0);
    expect(await pingOk(rt, 'pc1', '192.168.8.2')).toBe(2);
    expect(await pingOk(rt, 'pc1', '192.168.8.1')).toBe(2);
    // Out of a host-only network there is no route at all.
    const out = host(rt, 'pc2').ping('192.168.8.2', { count: 1, timeoutNs: 2e9 });
    await rt.waitFor(() => out.isDone, 10e9);
    expect(out.result.received).toBe(0);
  });

  it('never leases .1, .2 or .254: a range over them is refused, and a pool that runs dry stays dry', async () => {
    const bad = loadLabText(
      `wirelab: 1
name: edges
networks:
  n: { type: nat, subnet: 10.20.0.0/24, dhcp: { range: 10.20.0.1-10.20.0.4 } }
`,
      'lab.yaml',
    );
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(formatLabErrors(bad.errors)).toMatch(/networks\.n\.dhcp\.range: the range includes 10\.20\.0\.1; .*never leased/);
    const rt = labOf(`wirelab: 1
name: edges
networks:
  n: { type: nat, subnet: 10.20.0.0/24, dhcp: { range: 10.20.0.3-10.20.0.4 } }
nodes:
  a: { kind: host, interfaces: { eth0: { network: n, ip: dhcp } } }
  b: { kind: host, interfaces: { eth0: { network: n, ip: dhcp } } }
  c: { kind: host, interfaces: { eth0: { network: n, ip: dhcp } } }
`);
    rt.start();
    await rt.settle(400e9);
    const got = ['a', 'b', 'c'].map((n) => host(rt, n).dhcpStatus('eth0')!.lease?.ip).filter((x) => x !== undefined);
    expect(got.map((x) => ip4ToString(x!)).sort()).toEqual(['10.20.0.3', '10.20.0.4']);
    expect(rt.networkDhcp('n')!.dhcpPools()[0]!.exhausted).toBeGreaterThan(0);
  });

  it('keeps networks apart: no frame of one reaches another, no address of one answers in another', async () => {
    const rt = labOf(PLAN);
    rt.start();
    await rt.settle(60e9);
    const pc1 = host(rt, 'pc1').dhcpStatus('eth0')!.lease!.ip;
    const pc2 = host(rt, 'pc2').dhcpStatus('eth0')!.lease!.ip;
    expect(pc1 >>> 8).not.toBe(pc2 >>> 8);
    // pc1 (NAT) towards pc2 (host-only) goes to the NAT gateway, which does not relay ICMP.
    expect(await pingOk(rt, 'pc1', pc2)).toBe(0);
    expect(await pingOk(rt, 'pc2', pc1)).toBe(0);
    // Same numbers on two networks are two machines: the segment's 10.9.0.5 is not the host-only's.
    expect(await pingOk(rt, 'pc4', '10.9.0.5')).toBe(2);
    expect(await pingOk(rt, 'pc6', '10.9.0.5')).toBe(0);
    // Every MAC a network's switch learned belongs to that network.
    const macs = (net: string) => new Set(rt.networkFabric(net)!.macTable().map((r) => r.mac));
    const nat = macs('vmnet8');
    const ho = macs('vmnet1');
    const seg = macs('seg');
    for (const m of nat) expect(ho.has(m) || seg.has(m)).toBe(false);
    for (const m of ho) expect(seg.has(m)).toBe(false);
    expect(nat.has(macToString(host(rt, 'pc1').iface('eth0').mac))).toBe(true);
    expect(ho.has(macToString(host(rt, 'pc2').iface('eth0').mac))).toBe(true);
  });

  it('gives a segment no DHCP server and no host adapter', async () => {
    const yaml = `wirelab: 1
name: seg
time: virtual
networks:
  seg: { type: segment }
nodes:
  a: { kind: host, interfaces: { eth0: { network: seg, ip: dhcp } } }
  b: { kind: host, interfaces: { eth0: { network: seg, ip: 10.0.0.2/24 } } }
`;
    const rt = labOf(yaml);
    rt.start();
    await rt.settle(400e9);
    const st = host(rt, 'a').dhcpStatus('eth0')!;
    expect(st.bound).toBe(false);
    expect(st.state).toBe('failed');
    expect(rt.networkParts('seg')!.services).toEqual([]);
    expect(rt.networkDhcp('seg')).toBeUndefined();
  });

  it('picks a 192.168.X.0/24 for a network without a subnet and builds its plan on it', async () => {
    const rt = labOf(`wirelab: 1
name: auto
networks: { vmnet8: { type: nat } }
nodes:
  a: { kind: host, interfaces: { eth0: { network: vmnet8, ip: dhcp } } }
`);
    rt.start();
    await rt.settle(60e9);
    const net = rt.lab.networks['vmnet8']!;
    if (net.type !== 'nat') throw new Error('not nat');
    expect(ip4ToString(net.subnet.network)).toMatch(/^192\.168\.\d+\.0$/);
    const lease = host(rt, 'a').dhcpStatus('eth0')!.lease!;
    expect(lease.ip >>> 8).toBe(net.subnet.network >>> 8);
    expect(lease.routers).toEqual([(net.subnet.network + 2) >>> 0]);
    const parts = rt.networkParts('vmnet8')!;
    expect(parts.nat).toBeInstanceOf(SocketGateway);
    expect(parts.nat!.status().address).toBe(ip4ToString((net.subnet.network + 2) >>> 0));
    expect((parts.hostAdapter as SocketGateway).status().address).toBe(ip4ToString((net.subnet.network + 1) >>> 0));
  });

  it('turns the host adapter off with host-adapter: false', async () => {
    const rt = labOf(`wirelab: 1
name: noha
networks: { h: { type: host-only, subnet: 192.168.44.0/24, host-adapter: false } }
nodes:
  a: { kind: host, interfaces: { eth0: { network: h, ip: 192.168.44.10/24 } } }
`);
    rt.start();
    expect(rt.networkParts('h')!.hostAdapter).toBeNull();
    expect(await pingOk(rt, 'a', '192.168.44.1')).toBe(0);
    expect(await pingOk(rt, 'a', '192.168.44.254')).toBe(2);
  });

  it('refuses host-adapter: tap without the server, by name', () => {
    expect(() =>
      labOf(`wirelab: 1
name: tap
networks: { h: { type: host-only, subnet: 192.168.45.0/24, host-adapter: tap } }
`),
    ).toThrow(/network h: host-adapter: tap needs the wirelab server or CLI/);
  });

  it('keeps the .254 leases across a stop and a new runtime', async () => {
    const rt = labOf(PLAN);
    rt.start();
    await rt.settle(60e9);
    const before = host(rt, 'pc1').dhcpStatus('eth0')!.lease!.ip;
    const state = rt.stop();
    expect(state.dhcp['vmnet8-dhcp']!.leases.map((l) => l.ip)).toContain(ip4ToString(before));
    const again = labOf(PLAN, { state });
    again.start();
    await again.settle(60e9);
    expect(host(again, 'pc1').dhcpStatus('eth0')!.lease!.ip).toBe(before);
  });
});
