/**
 * Router forwarding rate: UDP datagrams through 10 routers in series, in virtual time, counted
 * as hop-forwards (one datagram crossing one router) per second of wall time.
 *
 *   src --g0/0 r1 g0/1-- --g0/0 r2 g0/1-- ... --g0/0 r10 g0/1-- dst
 *
 * The source injects ready-made frames addressed to r1; the destination answers ARP and counts.
 * Each router does the full job per datagram: header checks, LPM lookup, TTL decrement with
 * incremental checksum, a copy of the frame with new MACs, and the send.
 */
import { Engine, Link, Port, type FrameSink } from '../../devices/engine/index.js';
import type { Router } from '../../devices/router/index.js';
import { ARP_REPLY, ARP_REQUEST, arpOp, arpSenderIp, arpSenderMac, arpTargetIp, buildArpFrame } from '../../devices/wire/arp.js';
import { type Ip4, parseIp4, put16, putMac, u16 } from '../../devices/wire/bytes.js';
import { ETHERTYPE } from '../../devices/wire/ethernet.js';
import { encodeIpv4 } from '../../devices/wire/ipv4.js';
import { encodeUdp } from '../../devices/wire/udp.js';
import type { Figure } from './run.js';
import { routerFrom } from '../helpers/devices.js';

const ROUTERS = 10;
const SRC_MAC = 0x02000000aa01;
const DST_MAC = 0x02000000bb01;
const SRC_IP = parseIp4('10.0.0.10')!;
const DST_IP = parseIp4('10.200.0.10')!;

/** The far end: answers ARP for its address and counts IPv4 frames. */
class Sink implements FrameSink {
  readonly port = new Port(this, 'dst');
  received = 0;
  constructor(readonly ip: Ip4) {}
  onFrame(port: Port, frame: Uint8Array): void {
    const type = u16(frame, 12);
    if (type === ETHERTYPE.IPV4) {
      this.received++;
      return;
    }
    if (type === ETHERTYPE.ARP && arpOp(frame, 14) === ARP_REQUEST && arpTargetIp(frame, 14) === this.ip) {
      port.send(
        buildArpFrame({ op: ARP_REPLY, senderMac: DST_MAC, senderIp: this.ip, targetMac: arpSenderMac(frame, 14), targetIp: arpSenderIp(frame, 14) }),
      );
    }
  }
}

class Source implements FrameSink {
  readonly port = new Port(this, 'src');
  onFrame(): void {}
}

function udpFrame(dstMac: number, payloadBytes: number): Uint8Array {
  const total = 20 + 8 + payloadBytes;
  const frame = new Uint8Array(Math.max(60, 14 + total));
  putMac(frame, 0, dstMac);
  putMac(frame, 6, SRC_MAC);
  put16(frame, 12, ETHERTYPE.IPV4);
  encodeIpv4({ dscp: 0, ecn: 0, totalLength: total, id: 1, df: true, mf: false, fragmentOffset: 0, ttl: 64, protocol: 17, src: SRC_IP, dst: DST_IP }, frame, 14);
  encodeUdp({ srcPort: 40000, dstPort: 9, payload: new Uint8Array(payloadBytes).fill(0x5a) }, frame, 34, SRC_IP, DST_IP);
  return frame;
}

function chain(): { engine: Engine; routers: Router[]; src: Source; dst: Sink } {
  const engine = new Engine({ mode: 'virtual', seed: 1 });
  const routers: Router[] = [];
  for (let k = 1; k <= ROUTERS; k++) {
    const left = k === 1 ? '10.0.0.1/24' : `10.100.${k - 1}.2/30`;
    const right = k === ROUTERS ? '10.200.0.1/24' : `10.100.${k}.1/30`;
    routers.push(
      routerFrom(engine, {
        name: `r${k}`,
        lab: 'bench',
        interfaces: [
          { name: 'g0/0', ip: left },
          { name: 'g0/1', ip: right },
        ],
        // A few more routes than needed, so the lookup is not a one-entry table.
        routes: [
          ...(k === ROUTERS ? [] : [{ to: '10.200.0.0/16', via: `10.100.${k}.2` }]),
          ...(k === 1 ? [] : [{ to: '10.0.0.0/24', via: `10.100.${k - 1}.1` }]),
          { to: '172.16.0.0/12', via: k === 1 ? '10.0.0.254' : `10.100.${k - 1}.1` },
          { to: '192.168.0.0/16', via: k === 1 ? '10.0.0.254' : `10.100.${k - 1}.1` },
        ],
      }),
    );
  }
  const src = new Source();
  const dst = new Sink(DST_IP);
  new Link(engine, 'src', src.port, routers[0]!.ports[0]!);
  for (let k = 0; k < ROUTERS - 1; k++) new Link(engine, `l${k}`, routers[k]!.ports[1]!, routers[k + 1]!.ports[0]!);
  new Link(engine, 'dst', routers[ROUTERS - 1]!.ports[1]!, dst.port);
  for (const r of routers) r.start();
  engine.runUntilIdle(1e9);
  return { engine, routers, src, dst };
}

/**
 * Hop-forwards per second of this process's CPU time (user + system): the best of `windows`
 * windows of `windowSeconds` each. CPU time and best-of, because on a shared machine other
 * processes otherwise decide the figure; the engine is single-threaded, so on an idle machine
 * CPU and wall clocks agree. The wall-clock rate of the same best window is returned beside it.
 */
function hopsPerSecond(windows: number, windowSeconds: number, payloadBytes: number): { cpu: number; wall: number } {
  const { engine, routers, src, dst } = chain();
  const frame = udpFrame(routers[0]!.stack.interfaces[0]!.mac, payloadBytes);
  // The first datagrams resolve ARP along the chain (at most 3 wait per hop).
  src.port.send(frame);
  engine.runUntilIdle(10e9);
  if (dst.received === 0) throw new Error('router bench: the chain does not forward');
  const batch = 256;
  // Warm up so the figure measures optimised code.
  for (let i = 0; i < 400; i++) {
    for (let k = 0; k < batch; k++) src.port.send(frame);
    engine.runUntilIdle();
  }
  let best = { cpu: 0, wall: 0 };
  for (let w = 0; w < windows; w++) {
    let sent = 0;
    const base = dst.received;
    const forwardedBase = routers.reduce((n, r) => n + r.stack.stats.ipForwarded, 0);
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const deadline = start + windowSeconds * 1000;
    let now = start;
    while (now < deadline) {
      for (let r = 0; r < 50; r++) {
        for (let k = 0; k < batch; k++) src.port.send(frame);
        engine.runUntilIdle();
      }
      sent += 50 * batch;
      now = performance.now();
    }
    const cpu = process.cpuUsage(cpu0);
    const delivered = dst.received - base;
    const forwarded = routers.reduce((n, r) => n + r.stack.stats.ipForwarded, 0) - forwardedBase;
    if (delivered !== sent || forwarded !== sent * ROUTERS) throw new Error(`router bench: ${sent} sent, ${delivered} delivered, ${forwarded} forwards`);
    const rate = { cpu: (sent * ROUTERS) / ((cpu.user + cpu.system) / 1e6), wall: (sent * ROUTERS) / ((now - start) / 1000) };
    if (rate.cpu > best.cpu) best = rate;
  }
  return best;
}

export async function routerBench(): Promise<Figure[]> {
  // 18 bytes of UDP payload make the 60-byte minimum frame (64 on the wire with FCS), RFC 2544's smallest.
  const hops = hopsPerSecond(5, 0.6, 18);
  return [{ name: 'devices.router_hops_per_s', value: Math.round(hops.cpu), unit: 'hop-forwards/s', target: 3_000_000 }];
}
