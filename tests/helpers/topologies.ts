/**
 * Topologies shared by the interop tests and the bridge bench: Linux namespaces as the end hosts,
 * wirelab (or, for reference, the kernel itself) in between.
 *
 *   switch:  h1 --[wirelab: switch]-- h2                              10.9.0.1 / 10.9.0.2
 *   chain3:  h1 --[wirelab: sw1 r1 r2 r3 sw2]-- h2                    10.1.1.2 ... 10.1.4.2
 *   kernel:  h1 -- R1 -- R2 -- R3 -- h2, every node a namespace
 */
import { Cleanup, Netns, run, sleep, uniqueName, vethPair } from './netns.js';
import { realLab, type RealLab } from './reallab.js';

export type EndKind = 'tap' | 'nic';

interface End {
  ns: Netns;
  dev: string;
  cloud: string;
}

/** A namespace and the cloud node (lab.yaml text) that cables it to the lab. */
function end(cleanup: Cleanup, kind: EndKind, node: string, tag: string): End {
  const ns = Netns.create(cleanup, tag);
  if (kind === 'tap') {
    const dev = uniqueName('t');
    return { ns, dev, cloud: `${node}: { kind: cloud, endpoint: { type: tap, name: ${dev}, netns: ${ns.name} } }` };
  }
  const v = vethPair(cleanup, ns, 'v');
  offloadsOffHost(v.outside);
  return { ns, dev: v.inside, cloud: `${node}: { kind: cloud, endpoint: { type: nic, interface: ${v.outside} } }` };
}

function offloadsOffHost(dev: string): void {
  try {
    run('ethtool', ['-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off', 'tx', 'off', 'rx', 'off']);
  } catch {
    // Some drivers refuse one of them; the rest still apply.
  }
}

function address(e: End, cidr: string, gateway?: string): void {
  e.ns.offloadsOff(e.dev);
  e.ns.ip('addr', 'add', cidr, 'dev', e.dev);
  e.ns.ip('link', 'set', e.dev, 'up');
  if (gateway) e.ns.ip('route', 'add', 'default', 'via', gateway);
}

export interface TwoHosts {
  lab: RealLab | null;
  h1: Netns;
  h2: Netns;
  h2Ip: string;
}

/** h1 and h2 on one emulated switch. */
export async function switchPair(cleanup: Cleanup, kinds: [EndKind, EndKind] = ['tap', 'tap']): Promise<TwoHosts> {
  const e1 = end(cleanup, kinds[0], 'h1', 'a');
  const e2 = end(cleanup, kinds[1], 'h2', 'b');
  const lab = realLab(`wirelab: 1
name: bridge-switch
nodes:
  ${e1.cloud}
  ${e2.cloud}
  sw: { kind: switch, ports: 4 }
links:
  - [h1:eth0, sw:e0]
  - [h2:eth0, sw:e1]
`);
  cleanup.add('lab bridge-switch', () => lab.stop());
  if (lab.errors.length) throw new Error(lab.errors.map((e) => e.message).join('; '));
  await lab.runtime.settle(60e9);
  address(e1, '10.9.0.1/24');
  address(e2, '10.9.0.2/24');
  return { lab, h1: e1.ns, h2: e2.ns, h2Ip: '10.9.0.2' };
}

/** h1 -- [sw1, r1, r2, r3, sw2] -- h2 with static routes: three routed hops. */
export async function chain3(cleanup: Cleanup, kinds: [EndKind, EndKind] = ['tap', 'nic']): Promise<TwoHosts> {
  const e1 = end(cleanup, kinds[0], 'h1', 'c');
  const e2 = end(cleanup, kinds[1], 'h2', 'd');
  const lab = realLab(`wirelab: 1
name: bridge-chain3
nodes:
  ${e1.cloud}
  ${e2.cloud}
  sw1: { kind: switch, ports: 4 }
  sw2: { kind: switch, ports: 4 }
  r1:
    kind: router
    interfaces: { g0/0: { ip: 10.1.1.1/24 }, g0/1: { ip: 10.1.2.1/24 } }
    routes: [{ to: 10.1.3.0/24, via: 10.1.2.2 }, { to: 10.1.4.0/24, via: 10.1.2.2 }]
  r2:
    kind: router
    interfaces: { g0/0: { ip: 10.1.2.2/24 }, g0/1: { ip: 10.1.3.1/24 } }
    routes: [{ to: 10.1.1.0/24, via: 10.1.2.1 }, { to: 10.1.4.0/24, via: 10.1.3.2 }]
  r3:
    kind: router
    interfaces: { g0/0: { ip: 10.1.3.2/24 }, g0/1: { ip: 10.1.4.1/24 } }
    routes: [{ to: 10.1.1.0/24, via: 10.1.3.1 }, { to: 10.1.2.0/24, via: 10.1.3.1 }]
links:
  - [h1:eth0, sw1:e0]
  - [sw1:e1, r1:g0/0]
  - [r1:g0/1, r2:g0/0]
  - [r2:g0/1, r3:g0/0]
  - [r3:g0/1, sw2:e1]
  - [sw2:e0, h2:eth0]
`);
  cleanup.add('lab bridge-chain3', () => lab.stop());
  if (lab.errors.length) throw new Error(lab.errors.map((e) => e.message).join('; '));
  await lab.runtime.settle(60e9);
  address(e1, '10.1.1.2/24', '10.1.1.1');
  address(e2, '10.1.4.2/24', '10.1.4.1');
  return { lab, h1: e1.ns, h2: e2.ns, h2Ip: '10.1.4.2' };
}

/** The same addresses with three Linux routers (namespaces with ip_forward) on veths, offloads off. */
export function kernelChain3(cleanup: Cleanup): TwoHosts {
  const h1 = Netns.create(cleanup, 'H');
  const [r1, r2, r3] = [Netns.create(cleanup, 'R'), Netns.create(cleanup, 'R'), Netns.create(cleanup, 'R')];
  const h2 = Netns.create(cleanup, 'H');
  // One veth per hop: (left namespace, its address) -- (right namespace, its address).
  const hops: [Netns, string, Netns, string][] = [
    [h1, '10.1.1.2/24', r1, '10.1.1.1/24'],
    [r1, '10.1.2.1/24', r2, '10.1.2.2/24'],
    [r2, '10.1.3.1/24', r3, '10.1.3.2/24'],
    [r3, '10.1.4.1/24', h2, '10.1.4.2/24'],
  ];
  for (const [a, aCidr, b, bCidr] of hops) {
    const la = uniqueName('k');
    const lb = uniqueName('k');
    run('ip', ['link', 'add', la, 'netns', a.name, 'type', 'veth', 'peer', 'name', lb, 'netns', b.name]);
    for (const [ns, dev, cidr] of [[a, la, aCidr], [b, lb, bCidr]] as const) {
      ns.ip('addr', 'add', cidr, 'dev', dev);
      ns.ip('link', 'set', dev, 'up');
      ns.offloadsOff(dev);
    }
  }
  for (const r of [r1, r2, r3]) r.exec('sysctl', '-qw', 'net.ipv4.ip_forward=1');
  h1.ip('route', 'add', 'default', 'via', '10.1.1.1');
  r1.ip('route', 'add', '10.1.3.0/24', 'via', '10.1.2.2');
  r1.ip('route', 'add', '10.1.4.0/24', 'via', '10.1.2.2');
  r2.ip('route', 'add', '10.1.1.0/24', 'via', '10.1.2.1');
  r2.ip('route', 'add', '10.1.4.0/24', 'via', '10.1.3.2');
  r3.ip('route', 'add', '10.1.1.0/24', 'via', '10.1.3.1');
  r3.ip('route', 'add', '10.1.2.0/24', 'via', '10.1.3.1');
  h2.ip('route', 'add', 'default', 'via', '10.1.4.1');
  return { lab: null, h1, h2, h2Ip: '10.1.4.2' };
}

export interface PingStats {
  transmitted: number;
  received: number;
  ttls: number[];
  avgMs: number;
  output: string;
}

export async function ping(from: Netns, to: string, args: string[] = ['-c', '5', '-i', '0.2']): Promise<PingStats> {
  const r = await from.execAsync('ping', ['-W', '2', ...args, to], 120_000);
  const tx = /(\d+) packets transmitted/.exec(r.output);
  const rx = /(\d+) received/.exec(r.output);
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(r.output);
  return {
    transmitted: tx ? Number(tx[1]) : 0,
    received: rx ? Number(rx[1]) : 0,
    ttls: [...r.output.matchAll(/ttl=(\d+)/g)].map((m) => Number(m[1])),
    avgMs: rtt ? Number(rtt[1]) : NaN,
    output: r.output,
  };
}

export interface IperfResult {
  /** Receiver-side goodput, bits per second. */
  bps: number;
  /** Bits per second of each 1-second interval. */
  intervals: number[];
  retransmits: number;
  output: string;
}

let iperfPort = 45_600 + (process.pid % 300);

/** iperf3 TCP from `client` to a server started in `server` (stopped by PID afterwards). */
export async function iperf3(cleanup: Cleanup, client: Netns, server: Netns, serverIp: string, seconds: number): Promise<IperfResult> {
  const port = String(iperfPort++);
  const srv = server.spawn(cleanup, 'iperf3', ['-s', '-1', '-B', serverIp, '-p', port]);
  await sleep(400);
  const r = await client.execAsync('iperf3', ['-c', serverIp, '-p', port, '-t', String(seconds), '-i', '1', '-J'], (seconds + 30) * 1000);
  await Promise.race([srv.exited, sleep(3000)]);
  let j: { end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number } }; intervals?: { sum: { bits_per_second: number } }[]; error?: string };
  try {
    j = JSON.parse(r.output);
  } catch {
    throw new Error(`iperf3 printed no JSON: ${r.output.slice(0, 500)}`);
  }
  if (j.error) throw new Error(`iperf3: ${j.error}`);
  return {
    bps: j.end?.sum_received?.bits_per_second ?? 0,
    intervals: (j.intervals ?? []).map((i) => i.sum.bits_per_second),
    retransmits: j.end?.sum_sent?.retransmits ?? 0,
    output: r.output,
  };
}
