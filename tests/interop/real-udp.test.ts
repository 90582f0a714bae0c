/**
 * The UDP tunnel endpoint against a real UDP peer on loopback (a plain dgram socket playing VPCS or
 * QEMU): one bare Ethernet frame per datagram both ways, padding, what is dropped and counted, a
 * peer that disappears and comes back, a port already taken, and 100,000 hostile frames.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ARP_REPLY, ARP_REQUEST, buildArpFrame, decodeArp } from '../../devices/wire/arp.js';
import { ip4ToString, parseIp4, parseMac } from '../../devices/wire/bytes.js';
import { buildEthernetFrame, ETHERTYPE } from '../../devices/wire/ethernet.js';
import { echoRequest, icmpType } from '../../devices/wire/icmp.js';
import { buildIpv4Packet, ipv4Src } from '../../devices/wire/ipv4.js';
import { Engine } from '../../devices/engine/engine.js';
import { Link } from '../../devices/engine/link.js';
import { Port } from '../../devices/engine/port.js';
import { Rng } from '../../devices/engine/rng.js';
import { UdpEndpoint } from '../../server/endpoints/udp.js';
import { freePorts } from '../helpers/netns.js';
import { realLab, until, type RealLab } from '../helpers/reallab.js';

const PEER_MAC = parseMac('02:00:00:00:99:01')!;
const PEER_IP = parseIp4('10.0.0.9')!;
const PC_IP = parseIp4('10.0.0.2')!;

/** The far end of the tunnel: a UDP socket that records every datagram it gets. */
class Peer {
  readonly got: Uint8Array[] = [];
  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (m) => this.got.push(new Uint8Array(m)));
  }
  static async bind(port: number, remote: number): Promise<Peer> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(port, '127.0.0.1', () => r()));
    s.setRecvBufferSize(4 << 20);
    await new Promise<void>((r) => s.connect(remote, '127.0.0.1', () => r()));
    return new Peer(s);
  }
  send(frame: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(frame, (e) => (e ? reject(e) : resolve())));
  }
  private closed = false;
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((r) => this.socket.close(() => r()));
  }
  /** ARP replies and echo replies addressed to us. */
  arpReplies(): Uint8Array[] {
    return this.got.filter((f) => f.length >= 42 && f[12] === 0x08 && f[13] === 0x06 && decodeArp(f, 14).op === ARP_REPLY);
  }
  echoReplies(): Uint8Array[] {
    return this.got.filter((f) => f.length >= 42 && f[12] === 0x08 && f[13] === 0x00 && f[23] === 1 && icmpType(f, 34) === 0);
  }
}

function labYaml(local: number, remote: number, name = 'udp-tunnel'): string {
  return `wirelab: 1
name: ${name}
nodes:
  pc: { kind: host, interfaces: { eth0: { ip: 10.0.0.2/24 } } }
  pc2: { kind: host, interfaces: { eth0: { ip: 10.0.0.3/24 } } }
  sw: { kind: switch, ports: 4, stp: false }
  ext: { kind: cloud, endpoint: { type: udp, local: "127.0.0.1:${local}", remote: "127.0.0.1:${remote}" } }
links:
  - [pc:eth0, sw:e0]
  - [pc2:eth0, sw:e2]
  - [ext:eth0, sw:e1]
`;
}

/** ARP who-has 10.0.0.2 from the peer; `pad` false gives the 42-byte frame a Linux TAP sends. */
function arpRequest(pad: boolean): Uint8Array {
  return buildArpFrame({ op: ARP_REQUEST, senderMac: PEER_MAC, senderIp: PEER_IP, targetMac: 0, targetIp: PC_IP }, undefined, pad);
}

function echoTo(dstMac: number, seq: number, payload = 32): Uint8Array {
  const icmp = echoRequest(0x4242, seq, new Uint8Array(payload).fill(0x61));
  const ip = buildIpv4Packet({ src: PEER_IP, dst: PC_IP, protocol: 1, id: seq }, icmp);
  return buildEthernetFrame({ dst: dstMac, src: PEER_MAC, tags: [], etherType: ETHERTYPE.IPV4 }, ip);
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(opts: Parameters<typeof realLab>[1] = {}): Promise<{ lab: RealLab; peer: Peer; ports: number[] }> {
  const ports = await freePorts('udp', 2);
  const peer = await Peer.bind(ports[1]!, ports[0]!);
  cleanups.push(() => peer.close());
  const lab = realLab(labYaml(ports[0]!, ports[1]!), opts);
  cleanups.push(() => lab.stop());
  expect(await until(() => lab.endpoint('ext').state === 'running', 5000)).toBe(true);
  return { lab, peer, ports };
}

describe('UDP tunnel endpoint', () => {
  it('carries bare frames both ways: a 42-byte ARP is answered, padded to 60 on the way out, and ping works', async () => {
    const { lab, peer } = await setup();
    const ext = lab.endpoint('ext');
    await peer.send(arpRequest(false));
    expect(await until(() => peer.arpReplies().length === 1, 5000)).toBe(true);
    const reply = peer.arpReplies()[0]!;
    expect(reply.length).toBe(60);
    const arp = decodeArp(reply, 14);
    expect(ip4ToString(arp.senderIp)).toBe('10.0.0.2');
    expect(arp.targetMac).toBe(PEER_MAC);
    const pcMac = arp.senderMac;

    for (let seq = 1; seq <= 3; seq++) await peer.send(echoTo(pcMac, seq, 1400));
    expect(await until(() => peer.echoReplies().length === 3, 5000)).toBe(true);
    expect(peer.echoReplies().map((f) => ip4ToString(ipv4Src(f, 14)))).toEqual(['10.0.0.2', '10.0.0.2', '10.0.0.2']);
    expect(peer.echoReplies()[0]!.length).toBe(14 + 20 + 8 + 1400);

    // The emulated host pings the peer: its ARP request goes out through the tunnel.
    const ping = lab.host('pc').ping('10.0.0.9', { count: 1, timeoutNs: 2e9 });
    expect(await until(() => peer.got.some((f) => f[12] === 0x08 && f[13] === 0x06 && decodeArp(f, 14).op === ARP_REQUEST), 5000)).toBe(true);
    await until(() => ping.isDone, 5000);

    const c = ext.status().counters;
    expect(c.framesIn).toBe(4);
    expect(c.paddedIn).toBe(1);
    expect(c.framesOut).toBe(peer.got.length);
    expect(c.bytesOut).toBe(peer.got.reduce((s, f) => s + f.length, 0));
    expect(c.drops).toEqual({ runt: 0, oversized: 0, badSource: 0, congested: 0, down: 0, txErrors: 0, rxErrors: 0 });
    expect(ext.status()).toMatchObject({ type: 'udp', state: 'running', error: null });
  });

  it('counts and drops runts, oversized frames and group source MACs; passes VLAN-stacked frames to the switch', async () => {
    const { lab, peer } = await setup();
    const ext = lab.endpoint('ext');
    await peer.send(new Uint8Array(0));
    await peer.send(new Uint8Array(13).fill(0xff));
    await peer.send(new Uint8Array(1523).fill(0x02));
    await peer.send(new Uint8Array(9000).fill(0x02));
    const multicastSource = arpRequest(true).slice();
    multicastSource[6] = 0x01;
    await peer.send(multicastSource);
    // 802.1ad outer tag + 802.1Q inner tag around an ARP: a legal frame an access port does not take.
    const qinq = new Uint8Array(68);
    const base = arpRequest(true);
    qinq.set(base.subarray(0, 12), 0);
    qinq.set([0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x00, 0x0a], 12);
    qinq.set(base.subarray(12, 60), 20);
    await peer.send(qinq);
    await peer.send(arpRequest(true));
    expect(await until(() => peer.arpReplies().length === 1, 5000)).toBe(true);
    const c = ext.status().counters;
    expect(c.drops).toMatchObject({ runt: 2, oversized: 2, badSource: 1 });
    expect(c.framesIn).toBe(2);
    // The host only answered the untagged request: the stacked frame went in and the switch dropped it.
    expect(lab.runtime.port('sw', 'e1')!.rxFrames).toBe(2);
  });

  it('keeps working when its peer disappears and comes back', async () => {
    const { lab, ports, peer: gone } = await setup();
    await gone.close();
    const ext = lab.endpoint('ext');
    // Nobody listens on the remote port now: ICMP port unreachable comes back, counted, no crash.
    const first = lab.host('pc').ping('10.0.0.9', { count: 3, intervalNs: 100e6, timeoutNs: 300e6 });
    await until(() => first.isDone, 5000);
    expect(first.succeeded).toBe(false);
    expect(ext.state).toBe('running');
    await until(() => ext.counters.drops.rxErrors + ext.counters.drops.txErrors > 0, 2000);
    expect(ext.counters.drops.rxErrors + ext.counters.drops.txErrors).toBeGreaterThan(0);

    const peer = await Peer.bind(ports[1]!, ports[0]!);
    cleanups.push(() => peer.close());
    await peer.send(arpRequest(true));
    expect(await until(() => peer.arpReplies().length === 1, 5000)).toBe(true);
    await peer.send(echoTo(decodeArp(peer.arpReplies()[0]!, 14).senderMac, 7));
    expect(await until(() => peer.echoReplies().length === 1, 5000)).toBe(true);
    const again = lab.host('pc').ping('10.0.0.9', { count: 1, timeoutNs: 300e6 });
    await until(() => again.isDone, 5000);
    expect(peer.got.some((f) => f[12] === 0x08 && f[13] === 0x00 && ip4ToString(ipv4Src(f, 14)) === '10.0.0.2' && icmpType(f, 34) === 8)).toBe(true);
  });

  it('refuses to start on a port that is taken, says why, and the rest of the lab runs', async () => {
    const { lab, ports } = await setup();
    const second = realLab(labYaml(ports[0]!, ports[1]!, 'udp-tunnel-2'));
    cleanups.push(() => second.stop());
    expect(await until(() => second.endpoint('ext').state === 'failed', 5000)).toBe(true);
    expect(second.endpoint('ext').error).toMatch(new RegExp(`127\\.0\\.0\\.1:${ports[0]} is already in use`));
    expect(second.errors).toEqual([{ node: 'ext', message: second.endpoint('ext').error }]);
    expect(second.runtime.nodeStatus('ext')).toBe('stopped');
    const ping = second.host('pc').ping('10.0.0.3', { count: 1, timeoutNs: 2e9 });
    expect(await until(() => ping.isDone, 5000)).toBe(true);
    expect(ping.succeeded).toBe(true);
    // The failed endpoint's port is down (no carrier): frames the lab floods towards it are counted there.
    expect(second.runtime.port('ext', 'eth0')!.up).toBe(false);
    const toPeer = second.host('pc').ping('10.0.0.9', { count: 1, timeoutNs: 300e6 });
    await until(() => toPeer.isDone, 5000);
    expect(second.runtime.port('ext', 'eth0')!.rxDrops).toBeGreaterThan(0);
    expect(lab.endpoint('ext').state).toBe('running');
  });

  it('under a flood of broadcasts from outside, the lab keeps running: its hosts ping each other, and the backlog stays bounded', async () => {
    const { lab, peer } = await setup({ maxBacklog: 512 });
    const ext = lab.endpoint('ext');
    const flood = arpRequest(true).slice();
    flood[41] = 0x63; // who-has 10.0.0.99: nobody answers, the switch floods every copy to both hosts
    let stop = false;
    let sent = 0;
    const blaster = (async () => {
      while (!stop) {
        const burst: Promise<void>[] = [];
        for (let i = 0; i < 200; i++) burst.push(peer.send(flood).catch(() => {}));
        sent += 200;
        await Promise.all(burst);
        // A send that completes at once calls back on the next tick: give the event loop its turn.
        await new Promise((r) => setImmediate(r));
      }
    })();
    let maxQueued = 0;
    const watch = setInterval(() => (maxQueued = Math.max(maxQueued, lab.runtime.engine.queued)), 1);
    try {
      await until(() => sent >= 20_000, 30_000);
      const ping = lab.host('pc').ping('10.0.0.3', { count: 5, intervalNs: 100e6, timeoutNs: 2e9 });
      expect(await until(() => ping.isDone, 30_000)).toBe(true);
      expect(ping.result.received).toBe(5);
    } finally {
      stop = true;
      await blaster;
      clearInterval(watch);
    }
    const c = ext.counters;
    expect(c.framesIn).toBeGreaterThan(1000);
    // What got in is what the switch got; what did not is counted as congestion, not lost silently.
    await until(() => lab.runtime.engine.queued === 0, 5000);
    expect(lab.runtime.port('sw', 'e1')!.rxFrames).toBe(c.framesIn);
    expect(c.framesIn + c.drops.congested).toBeLessThanOrEqual(sent + 1);
    // The engine's queue never held much more than the endpoint's backlog limit (plus the flood copies of one batch).
    expect(maxQueued).toBeLessThan(512 * 3 + 1024);
  }, 120_000);

  it('drops and counts what the lab cannot take when it falls behind (backlog limit)', async () => {
    const [local, remote] = await freePorts('udp', 2);
    const peer = await Peer.bind(remote!, local!);
    cleanups.push(() => peer.close());
    // A virtual-time engine that nobody runs: every frame let in stays queued, as in a lab that fell behind.
    const engine = new Engine({ mode: 'virtual' });
    const ext = new UdpEndpoint(engine, { name: 'ext', local: { host: '127.0.0.1', port: local! }, remote: { host: '127.0.0.1', port: remote! }, maxBacklog: 100 });
    const sink = new Port({ onFrame: () => {} }, 'sink');
    new Link(engine, 'ext--sink', ext.port, sink);
    ext.start();
    cleanups.push(() => ext.stop());
    expect(await until(() => ext.state === 'running', 5000)).toBe(true);
    for (let i = 0; i < 300; i += 30) {
      await Promise.all(Array.from({ length: 30 }, () => peer.send(arpRequest(true))));
      await until(() => ext.counters.framesIn + ext.counters.drops.congested === i + 30, 5000);
    }
    expect(ext.counters.framesIn).toBe(100);
    expect(ext.counters.drops.congested).toBe(200);
    expect(engine.queued).toBe(100);
    engine.runUntilIdle();
    expect(sink.rxFrames).toBe(100);
  });

  it('survives 100,000 random and mutated frames: no crash, every datagram counted once, the lab still answers', async () => {
    const { lab, peer } = await setup();
    const ext = lab.endpoint('ext');
    const rng = new Rng(20240607);
    await peer.send(arpRequest(true));
    await until(() => peer.arpReplies().length === 1, 5000);
    const pcMac = decodeArp(peer.arpReplies()[0]!, 14).senderMac;
    const seeds = [arpRequest(true), arpRequest(false), echoTo(pcMac, 1), echoTo(pcMac, 2, 1400), echoTo(0xffffffffffff, 3)];
    const expected = { runt: 0, oversized: 0, badSource: 0, in: 0 };
    const classify = (f: Uint8Array) => {
      if (f.length < 14) expected.runt++;
      else if (f.length > 1522) expected.oversized++;
      else if ((f[6]! & 1) !== 0) expected.badSource++;
      else expected.in++;
    };
    const before = { in: ext.counters.framesIn, switchRx: lab.runtime.port('sw', 'e1')!.rxFrames };
    const counted = () => {
      const c = ext.counters;
      return c.framesIn - before.in + c.drops.runt + c.drops.oversized + c.drops.badSource + c.drops.congested;
    };
    const TOTAL = 100_000;
    const BATCH = 40; // the loopback socket buffer holds about this many; the test waits for each batch
    let sent = 0;
    while (sent < TOTAL) {
      const batch: Promise<void>[] = [];
      for (let i = 0; i < BATCH && sent < TOTAL; i++, sent++) {
        let f: Uint8Array;
        const kind = rng.below(4);
        if (kind === 0) {
          f = new Uint8Array(rng.below(1600));
          for (let j = 0; j < f.length; j++) f[j] = rng.below(256);
        } else {
          const seed = seeds[rng.below(seeds.length)]!;
          const len = kind === 1 ? rng.below(seed.length + 1) : kind === 2 ? seed.length + rng.below(1600) : seed.length;
          f = new Uint8Array(len);
          f.set(seed.subarray(0, Math.min(len, seed.length)));
          for (let j = seed.length; j < len; j++) f[j] = rng.below(256);
          const flips = 1 + rng.below(8);
          for (let k = 0; k < flips && len > 0; k++) f[rng.below(len)] ^= 1 << rng.below(8);
          // Mostly keep the peer's own source so frames get past the endpoint into the stacks.
          if (len >= 12 && rng.below(4) !== 0) f.set(seed.subarray(6, 12), 6);
        }
        classify(f);
        batch.push(peer.send(f));
      }
      await Promise.all(batch);
      if (!(await until(() => counted() === sent, 5000))) break;
    }
    const c = ext.counters;
    expect(counted()).toBe(TOTAL);
    expect(c.drops.congested).toBe(0);
    expect({ runt: c.drops.runt, oversized: c.drops.oversized, badSource: c.drops.badSource, in: c.framesIn - before.in }).toEqual(expected);
    // Every frame let in reached the switch.
    expect(lab.runtime.port('sw', 'e1')!.rxFrames - before.switchRx).toBe(c.framesIn - before.in);
    // And the lab is still alive and answering.
    peer.got.length = 0;
    await peer.send(echoTo(pcMac, 9999));
    expect(await until(() => peer.echoReplies().some((f) => f[14 + 20 + 7] === 9999 % 256), 5000)).toBe(true);
    expect(ext.state).toBe('running');
  }, 300_000);
});
