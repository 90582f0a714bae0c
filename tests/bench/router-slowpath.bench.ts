/**
 * `devices.router_slowpath_hops_per_s`: forwarding on the routers' slow path, counted as
 * hop-forwards (one datagram crossing one router) per second of this process's CPU time.
 *
 * The router's fast path (devices/router/fast-path.ts) takes only plain datagrams; everything
 * else goes to the stack: IP options, TTL about to expire, no resolved next hop, a router with an
 * ACL or NAT installed, and so on. This stream carries an IP option on every datagram (Router
 * Alert, RFC 2113: 4 bytes, forwarded unchanged by a router that does not act on it), so every
 * datagram misses the fast path at every router and is still forwarded: the figure is the stack's
 * own forwarding (header checks, route lookup, a frame of its own, TTL, the send), as IOS punts
 * packets with options from CEF to process switching. The bench fails if the fast path forwards
 * any of them, or if any is lost.
 *
 * The lab is read from its lab.yaml text, as `wirelab run` does: 10 routers in series between
 * two hosts; frames are sent out of src's port ready-made (ICMP echo replies, which dst drops
 * quietly: nothing comes back), 60 bytes, RFC 2544's smallest.
 *
 *   src -- r1 -- r2 -- ... -- r10 -- dst
 *
 * Target: 1 M hop-forwards/s, a third of the fast path's 3 M (devices.router_hops_per_s): the
 * slow path decodes, looks up and copies more, but a lab whose routers have ACLs, or whose
 * traffic carries options, should still forward a million minimum-size datagrams a second.
 */
import { formatLabErrors, loadLabText } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import type { Router } from '../../devices/router/index.js';
import { checksum, parseIp4, parseMac, put16, put32, putMac } from '../../devices/wire/bytes.js';
import type { Figure } from './run.js';

const ROUTERS = 10;
const R1_MAC = '02:00:00:00:01:00';
const SRC_MAC = '02:00:00:00:aa:01';

function labYaml(): string {
  const lines = [
    'wirelab: 1',
    'name: slowpath',
    'nodes:',
    `  src: { kind: host, interfaces: { eth0: { ip: 10.0.0.10/24, gateway: 10.0.0.1, mac: "${SRC_MAC}" } } }`,
    '  dst: { kind: host, interfaces: { eth0: { ip: 10.200.0.10/24, gateway: 10.200.0.1 } } }',
  ];
  for (let k = 1; k <= ROUTERS; k++) {
    const left = k === 1 ? `{ ip: 10.0.0.1/24, mac: "${R1_MAC}" }` : `{ ip: 10.100.${k - 1}.2/30 }`;
    const right = k === ROUTERS ? '{ ip: 10.200.0.1/24 }' : `{ ip: 10.100.${k}.1/30 }`;
    // As the fast-path bench: a few more routes than needed, so the lookup is not a one-entry table.
    const back = k === 1 ? '10.0.0.254' : `10.100.${k - 1}.1`;
    const routes = [
      ...(k === ROUTERS ? [] : [`{ to: 10.200.0.0/16, via: 10.100.${k}.2 }`]),
      ...(k === 1 ? [] : [`{ to: 10.0.0.0/24, via: 10.100.${k - 1}.1 }`]),
      `{ to: 172.16.0.0/12, via: ${back} }`,
      `{ to: 192.168.0.0/16, via: ${back} }`,
    ];
    lines.push(`  r${k}: { kind: router, interfaces: { g0/0: ${left}, g0/1: ${right} }, routes: [${routes.join(', ')}] }`);
  }
  lines.push('links:', '  - [src:eth0, r1:g0/0]');
  for (let k = 1; k < ROUTERS; k++) lines.push(`  - [r${k}:g0/1, r${k + 1}:g0/0]`);
  lines.push(`  - [r${ROUTERS}:g0/1, dst:eth0]`);
  return lines.join('\n') + '\n';
}

/** A 60-byte frame: IPv4 with a Router Alert option (24-byte header), an ICMP echo reply, 14 bytes of data. */
function frameWithOption(): Uint8Array {
  const f = new Uint8Array(60);
  putMac(f, 0, parseMac(R1_MAC)!);
  putMac(f, 6, parseMac(SRC_MAC)!);
  put16(f, 12, 0x0800);
  const ip = 14;
  f[ip] = 0x46; // version 4, IHL 6: 4 bytes of options
  put16(f, ip + 2, 60 - 14);
  put16(f, ip + 4, 1);
  f[ip + 6] = 0x40; // DF
  f[ip + 8] = 64;
  f[ip + 9] = 1; // ICMP
  put32(f, ip + 12, parseIp4('10.0.0.10')!);
  put32(f, ip + 16, parseIp4('10.200.0.10')!);
  f.set([0x94, 0x04, 0x00, 0x00], ip + 20); // Router Alert (RFC 2113), value 0
  put16(f, ip + 10, checksum(f, ip, 24));
  const icmp = ip + 24;
  f[icmp] = 0; // echo reply: dst has no ping waiting for it and drops it quietly
  put16(f, icmp + 4, 0x5a5a);
  put16(f, icmp + 6, 1);
  f.fill(0x5a, icmp + 8);
  put16(f, icmp + 2, checksum(f, icmp, f.length - icmp));
  return f;
}

function hopsPerSecond(windows: number, windowSeconds: number): number {
  const loaded = loadLabText(labYaml(), 'slowpath/lab.yaml', { folderName: 'slowpath' });
  if (!loaded.ok) throw new Error(`slow-path bench lab does not load:\n${formatLabErrors(loaded.errors)}`);
  const rt = new LabRuntime(loaded.lab, { time: 'virtual' });
  rt.start();
  const engine = rt.engine;
  engine.runFor(1e9);
  const routers = Array.from({ length: ROUTERS }, (_, k) => rt.node(`r${k + 1}`) as Router);
  const out = rt.port('src', 'eth0')!;
  const sink = rt.port('dst', 'eth0')!;
  const frame = frameWithOption();
  const fastForwards = () => routers.reduce((n, r) => n + r.fastPath.forwarded, 0);
  const forwards = () => routers.reduce((n, r) => n + r.stack.stats.ipForwarded, 0);
  // The first datagram resolves ARP along the chain.
  const rx0 = sink.rxFrames;
  out.send(frame);
  engine.runFor(10e9);
  if (sink.rxFrames === rx0) throw new Error('router slow-path bench: the chain does not forward');
  const batch = 256;
  // Warm up so the figure measures optimised code. A lab always has timers pending: run only what is due now.
  for (let i = 0; i < 400; i++) {
    for (let k = 0; k < batch; k++) out.send(frame);
    engine.runUntilIdle(0);
  }
  let best = 0;
  for (let w = 0; w < windows; w++) {
    let sent = 0;
    const rxBase = sink.rxFrames;
    const forwardedBase = forwards();
    const fastBase = fastForwards();
    const cpu0 = process.cpuUsage();
    const deadline = performance.now() + windowSeconds * 1000;
    while (performance.now() < deadline) {
      for (let r = 0; r < 50; r++) {
        for (let k = 0; k < batch; k++) out.send(frame);
        engine.runUntilIdle(0);
      }
      sent += 50 * batch;
    }
    const cpu = process.cpuUsage(cpu0);
    const delivered = sink.rxFrames - rxBase;
    const forwarded = forwards() - forwardedBase;
    const fast = fastForwards() - fastBase;
    if (fast !== 0) throw new Error(`router slow-path bench: the fast path forwarded ${fast} of the datagrams`);
    // dst may also hear r10 refresh its ARP entry: every datagram arrives, maybe beside an ARP frame.
    if (delivered < sent || forwarded !== sent * ROUTERS) throw new Error(`router slow-path bench: ${sent} sent, ${delivered} delivered, ${forwarded} forwards`);
    best = Math.max(best, (sent * ROUTERS) / ((cpu.user + cpu.system) / 1e6));
  }
  rt.stop();
  return best;
}

export async function routerSlowPathBench(): Promise<Figure[]> {
  return [{ name: 'devices.router_slowpath_hops_per_s', value: Math.round(hopsPerSecond(5, 0.6)), unit: 'hop-forwards/s', target: 1_000_000 }];
}
