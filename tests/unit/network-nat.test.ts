/**
 * The NAT gateway (.2), port forwards and the host adapter (.1) against an in-memory outside
 * world (network-host-fake.ts) in virtual time: what a guest and a host-side program each see,
 * pings to outside addresses included.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Host } from '../../devices/host/index.js';
import type { LabRuntime } from '../../devices/lab/runtime.js';
import { SocketGateway } from '../../devices/network/index.js';
import { HttpGet, HttpServer } from '../../devices/services/index.js';
import { captureRuntime, decodeState, encodeState, restoreRuntime } from '../../devices/snapshot/index.js';
import type { UdpOwner, UdpSocket, IcmpErrorReport } from '../../devices/stack/index.js';
import type { TcpErrorCode, TcpLayer, TcpSocket, TcpSocketOwner } from '../../devices/stack/tcp.js';
import { addTap } from '../../devices/engine/tap.js';
import { type Ip4, ip4ToString, onesSum, parseIp4, u16, u32 } from '../../devices/wire/bytes.js';
import { buildIcmp } from '../../devices/wire/icmp.js';
import { IPPROTO, ipv4ChecksumOk } from '../../devices/wire/ipv4.js';
import { decodeDns, dnsEncodingLength, encodeDns } from '../../devices/wire/dns.js';
import { FakeHost, labOf, type FakeConn } from './network-host-fake.js';

const ip = (s: string): Ip4 => parseIp4(s)!;
const OUT = ip('203.0.113.10');

const NAT_LAB = (extra = '') => `wirelab: 1
name: nat
networks:
  vmnet8:
    type: nat
    subnet: 192.168.8.0/24
${extra}
nodes:
  pc1: { kind: host, interfaces: { eth0: { network: vmnet8, ip: 192.168.8.10/24, gateway: 192.168.8.2 } } }
  pc2: { kind: host, dns: [192.168.8.2], interfaces: { eth0: { network: vmnet8, ip: 192.168.8.11/24, gateway: 192.168.8.2 } } }
`;

interface World {
  rt: LabRuntime;
  fake: FakeHost;
  pc1: Host;
  tcp1: TcpLayer;
  nat: SocketGateway;
  hostAdapter: SocketGateway;
}

function world(extra = '', setup?: (f: FakeHost) => void): World {
  const fake = new FakeHost();
  setup?.(fake);
  const rt = labOf(NAT_LAB(extra), { hostSockets: fake });
  fake.engine = rt.engine;
  rt.start();
  const pc1 = rt.host('pc1')!;
  const parts = rt.networkParts('vmnet8')!;
  return { rt, fake, pc1, tcp1: pc1.tcp, nat: parts.nat!, hostAdapter: parts.hostAdapter as SocketGateway };
}

/** A TCP client that records what happens to it. */
class Client implements TcpSocketOwner {
  socket: TcpSocket;
  connected = false;
  data: Uint8Array[] = [];
  ended = false;
  closed = false;
  error: TcpErrorCode | null = null;
  pump: (() => void) | null = null;
  constructor(tcp: TcpLayer, dst: Ip4, port: number) {
    this.socket = tcp.connect(dst, port, this);
  }
  get text(): string {
    return Buffer.concat(this.data).toString('latin1');
  }
  onConnect(): void {
    this.connected = true;
  }
  onData(_s: TcpSocket, d: Uint8Array): void {
    this.data.push(d.slice());
  }
  onEnd(): void {
    this.ended = true;
  }
  onWritable(): void {
    this.pump?.();
  }
  onError(_s: TcpSocket, e: TcpErrorCode): void {
    this.error = e;
  }
  onClose(): void {
    this.closed = true;
  }
}

function httpServer(body: string) {
  return (c: FakeConn) => {
    c.onData = (conn) => {
      if (conn.text.includes('\r\n\r\n')) {
        conn.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
        conn.end();
      }
    };
  };
}

async function run(rt: LabRuntime, done: () => boolean, limitNs = 60e9): Promise<boolean> {
  return rt.waitFor(done, limitNs);
}

describe('NAT gateway: TCP out through the host', () => {
  it('carries an HTTP exchange to an outside server, the host connecting to the address the guest aimed at', async () => {
    const w = world('', (f) => f.servers.set('203.0.113.10:80', httpServer('hello from outside')));
    const get = new HttpGet(w.tcp1, 'http://203.0.113.10/');
    expect(await run(w.rt, () => get.result.done)).toBe(true);
    expect(get.result.error).toBeNull();
    expect(get.result.status).toBe(200);
    expect(get.result.body).toBe('hello from outside');
    expect(w.fake.connects).toEqual(['203.0.113.10:80']);
    const conn = [...w.fake.conns.values()][0]!;
    expect(conn.text).toMatch(/^GET \/ HTTP\/1\.1\r\nHost: 203\.0\.113\.10\r\n/);
    // Both sides closed gracefully, and the table is empty again.
    await run(w.rt, () => w.nat.status().tcp.length === 0, 5e9);
    expect(conn.gotEnd).toBe(true);
    expect(conn.gotReset).toBe(false);
    expect(w.nat.status().counters.tcpOpened).toBe(1);
  });

  it('holds the handshake until the host connected, and shows the flow while it is open', async () => {
    let serverConn: FakeConn | null = null;
    const w = world('', (f) => f.servers.set('203.0.113.10:22', (c) => (serverConn = c)));
    w.fake.latencyNs = 50e6;
    const c = new Client(w.tcp1, OUT, 22);
    // Before the host's connect completes the guest has no SYN-ACK.
    w.rt.engine.runFor(40e6);
    expect(c.connected).toBe(false);
    expect(w.nat.status().tcp).toEqual([expect.objectContaining({ state: 'connecting', guest: `192.168.8.10:${c.socket.localPort}`, peer: '203.0.113.10:22', host: '203.0.113.10:22' })]);
    expect(await run(w.rt, () => c.connected)).toBe(true);
    // A server that speaks first (SSH) is heard by the guest.
    serverConn!.write('SSH-2.0-OpenSSH_9.2\r\n');
    await run(w.rt, () => c.text.length > 0);
    expect(c.text).toBe('SSH-2.0-OpenSSH_9.2\r\n');
    const view = w.nat.status().tcp[0]!;
    expect(view).toMatchObject({ direction: 'out', state: 'open', tcpState: 'ESTABLISHED', bytesToGuest: 21 });
  });

  it('carries half-closes both ways: the guest ends, the host still talks, then the host ends', async () => {
    let server: FakeConn | null = null;
    const w = world('', (f) => f.servers.set('203.0.113.10:7', (c) => (server = c)));
    const c = new Client(w.tcp1, OUT, 7);
    await run(w.rt, () => c.connected);
    c.socket.send(new TextEncoder().encode('question'));
    c.socket.shutdown();
    await run(w.rt, () => server!.gotEnd);
    expect(server!.text).toBe('question');
    server!.write('answer after your FIN');
    await run(w.rt, () => c.text.length > 0);
    expect(c.ended).toBe(false);
    server!.end();
    expect(await run(w.rt, () => c.closed)).toBe(true);
    expect(c.text).toBe('answer after your FIN');
    expect(c.ended).toBe(true);
    expect(c.error).toBeNull();
  });

  it('carries resets both ways', async () => {
    const conns: FakeConn[] = [];
    const w = world('', (f) => f.servers.set('203.0.113.10:9', (c) => conns.push(c)));
    const a = new Client(w.tcp1, OUT, 9);
    await run(w.rt, () => a.connected);
    conns[0]!.reset();
    expect(await run(w.rt, () => a.closed)).toBe(true);
    expect(a.error).toBe('ECONNRESET');
    const b = new Client(w.tcp1, OUT, 9);
    await run(w.rt, () => b.connected);
    b.socket.abort();
    await run(w.rt, () => conns[1]!.gotReset);
    expect(conns[1]!.gotReset).toBe(true);
    await run(w.rt, () => w.nat.status().tcp.length === 0, 5e9);
    expect(w.nat.status().tcp).toEqual([]);
  });

  it('answers a refused connect with RST and an unreachable one with ICMP from .2', async () => {
    const w = world('', (f) => f.failures.set(ip('198.51.100.9'), 'EHOSTUNREACH'));
    const refused = new Client(w.tcp1, OUT, 81);
    const unreachable = new Client(w.tcp1, ip('198.51.100.9'), 80);
    await run(w.rt, () => refused.closed && unreachable.closed);
    expect(refused.error).toBe('ECONNREFUSED');
    expect(unreachable.error).toBe('EHOSTUNREACH');
    expect(w.nat.status().counters).toMatchObject({ tcpRefused: 1, tcpUnreachable: 1 });
    expect(w.nat.stack.stats.icmpErrorsSent).toBe(1);
  });

  it('never opens a host socket to the host\'s loopback (that is what .1 is for) or to the network itself', async () => {
    const w = world();
    const c = new Client(w.tcp1, ip('127.0.0.1'), 80);
    // An on-link address that a confused guest sends to .2's MAC is not relayed either.
    w.pc1.stack.addStaticArp(w.pc1.iface('eth0'), ip('192.168.8.99'), w.nat.mac);
    const d = new Client(w.tcp1, ip('192.168.8.99'), 80);
    await run(w.rt, () => c.closed && d.closed, 10e9);
    expect(w.fake.connects).toEqual([]);
    expect(c.error).toBe('ECONNREFUSED');
    expect(d.error).toBe('ECONNREFUSED');
    expect(w.nat.status().counters.refused).toBe(2);
  });

  it('moves 4 MB each way intact while the host side reads slowly (pauses both ways)', async () => {
    const size = 4 << 20;
    const up = new Uint8Array(size).map((_, i) => (i * 7 + 3) & 0xff);
    const down = new Uint8Array(size).map((_, i) => (i * 13 + 5) & 0xff);
    let server: FakeConn | null = null;
    const w = world('', (f) => f.servers.set('203.0.113.10:5001', (c) => (server = c)));
    const c = new Client(w.tcp1, OUT, 5001);
    await run(w.rt, () => c.connected);
    server!.readPaused = true;
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = c.socket.send(up, sent, Math.min(65536, size - sent));
        if (n === 0) break;
        sent += n;
      }
    };
    c.pump = pump;
    pump();
    // The host does not read: the guest's window fills and stays full.
    w.rt.engine.runFor(2e9);
    expect(server!.bytes).toBe(0);
    expect(sent).toBeLessThan(size);
    server!.resume();
    server!.write(down);
    expect(await run(w.rt, () => server!.bytes === size && c.data.reduce((n, d) => n + d.length, 0) === size, 600e9)).toBe(true);
    const hash = (b: Uint8Array | Buffer) => createHash('sha256').update(b).digest('hex');
    expect(hash(Buffer.concat(server!.received))).toBe(hash(up));
    expect(hash(Buffer.concat(c.data))).toBe(hash(down));
  });

  it('refuses SYNs beyond the table limit and forgets connections that never complete', async () => {
    const w = world('', (f) => {
      f.servers.set('203.0.113.10:80', () => {});
      f.latencyNs = 1e6;
    });
    (w.nat.limits as { maxTcpFlows: number }).maxTcpFlows = 2;
    (w.nat.limits as { connectNs: number }).connectNs = 5e9;
    const a = new Client(w.tcp1, OUT, 80);
    const b = new Client(w.tcp1, OUT, 80);
    const c = new Client(w.tcp1, OUT, 80);
    await run(w.rt, () => a.connected && b.connected && c.closed);
    expect(c.error).toBe('ECONNREFUSED');
    expect(w.nat.status().counters.tcpTableFull).toBe(1);
    // A host connect that never answers is given up after connectNs.
    w.fake.failures.clear();
    w.fake.latencyNs = 1e12;
    a.socket.abort();
    b.socket.abort();
    await run(w.rt, () => w.nat.status().tcp.length === 0, 5e9);
    const d = new Client(w.tcp1, OUT, 80);
    await run(w.rt, () => d.closed, 30e9);
    expect(d.error).toBe('EHOSTUNREACH');
    expect(w.nat.status().counters.tcpTimedOut).toBe(1);
    expect(w.nat.status().tcp).toEqual([]);
  });
});

class UdpProbe implements UdpOwner {
  socket: UdpSocket;
  got: { from: string; text: string }[] = [];
  errors: IcmpErrorReport[] = [];
  constructor(host: Host, port = 0) {
    this.socket = host.stack.udp.bind(this, port);
  }
  onDatagram(_s: UdpSocket, src: Ip4, port: number, payload: Uint8Array): void {
    this.got.push({ from: `${ip4ToString(src)}:${port}`, text: Buffer.from(payload).toString() });
  }
  onIcmpError(_s: UdpSocket, r: IcmpErrorReport): void {
    this.errors.push(r);
  }
}

const enc = (s: string) => new TextEncoder().encode(s);

describe('NAT gateway: UDP and DNS', () => {
  it('maps a guest UDP socket to one host socket, answers come back from the outside address, and the flow expires', async () => {
    const w = world('', (f) => {
      f.udpPeers.set('203.0.113.10:7', (d) => d);
      f.udpPeers.set('203.0.113.11:7', (d) => enc(`11 got ${Buffer.from(d).toString()}`));
    });
    const p = new UdpProbe(w.pc1);
    p.socket.sendTo(OUT, 7, enc('one'));
    p.socket.sendTo(ip('203.0.113.11'), 7, enc('two'));
    await run(w.rt, () => p.got.length === 2);
    expect(p.got).toEqual([
      { from: '203.0.113.10:7', text: 'one' },
      { from: '203.0.113.11:7', text: '11 got two' },
    ]);
    // One guest socket, one host socket (endpoint-independent mapping, as slirp).
    expect(new Set(w.fake.sent.map((s) => s.handle)).size).toBe(1);
    expect(w.nat.status().udp).toEqual([expect.objectContaining({ kind: 'relay', guest: `192.168.8.10:${p.socket.port}`, datagramsToHost: 2, datagramsToGuest: 2 })]);
    w.rt.engine.runFor(61e9);
    expect(w.nat.status().udp).toEqual([]);
    expect(w.fake.openUdpCount()).toBe(0);
    expect(w.nat.status().counters.udpExpired).toBe(1);
  });

  it('evicts the longest-idle UDP flow when the table is full', async () => {
    const w = world('', (f) => f.udpPeers.set('203.0.113.10:7', (d) => d));
    (w.nat.limits as { maxUdpFlows: number }).maxUdpFlows = 2;
    const probes = [new UdpProbe(w.pc1), new UdpProbe(w.pc1), new UdpProbe(w.pc1)];
    for (const p of probes) {
      p.socket.sendTo(OUT, 7, enc('x'));
      w.rt.engine.runFor(10e6);
    }
    await run(w.rt, () => probes.every((p) => p.got.length === 1));
    expect(w.nat.status().udp.map((u) => u.guest)).toEqual(probes.slice(1).map((p) => `192.168.8.10:${p.socket.port}`));
    expect(w.nat.status().counters.udpEvicted).toBe(1);
  });

  it('answers DNS at .2 by asking the host resolver, or the dns-upstream', async () => {
    const answer = (addr: string) => (q: Uint8Array) => {
      const query = decodeDns(q);
      const packet = {
        type: 'response' as const,
        id: query.id,
        flags: 0x8180,
        questions: query.questions,
        answers: [{ type: 'A' as const, class: 'IN' as const, name: query.questions![0]!.name, ttl: 60, data: addr }],
      };
      const out = new Uint8Array(dnsEncodingLength(packet));
      encodeDns(packet, out, 0);
      return out;
    };
    const w = world('', (f) => {
      f.resolverAddress = { ip: ip('10.255.255.53'), port: 53 };
      f.udpPeers.set('10.255.255.53:53', answer('198.51.100.77'));
    });
    const w2 = world(`    nat: { dns-upstream: "127.0.0.1:5353" }`, (f) => {
      f.resolverAddress = { ip: ip('10.255.255.53'), port: 53 };
      f.udpPeers.set('10.255.255.53:53', answer('198.51.100.77'));
      f.udpPeers.set('127.0.0.1:5353', answer('10.9.8.7'));
    });
    for (const [x, want] of [
      [w, '198.51.100.77'],
      [w2, '10.9.8.7'],
    ] as const) {
      const q = x.rt.host('pc2')!.resolve('www.example.com');
      expect(await run(x.rt, () => q.isDone, 20e9)).toBe(true);
      expect(q.result.error).toBeNull();
      expect(q.result.addresses.map(ip4ToString)).toEqual([want]);
      expect(q.result.server).toBe(ip('192.168.8.2'));
      expect(x.nat.status().counters).toMatchObject({ dnsQueries: 1, dnsAnswers: 1 });
    }
    expect(w2.nat.status().dnsUpstream).toBe('127.0.0.1:5353');
  });

  it('relays DNS over TCP at .2:53 to the upstream, and refuses other ports of .2', async () => {
    const w = world('', (f) => {
      f.resolverAddress = { ip: ip('10.255.255.53'), port: 53 };
      f.servers.set('10.255.255.53:53', (c) => {
        c.onData = (conn) => {
          conn.write(`answer to ${conn.bytes} bytes`);
          conn.end();
        };
      });
    });
    const dns = new Client(w.tcp1, ip('192.168.8.2'), 53);
    const other = new Client(w.tcp1, ip('192.168.8.2'), 80);
    await run(w.rt, () => dns.connected && other.closed);
    dns.socket.send(enc('\u0000\u0010sixteen byte qry'));
    expect(await run(w.rt, () => dns.ended)).toBe(true);
    expect(dns.text).toBe('answer to 18 bytes');
    expect(other.error).toBe('ECONNREFUSED');
    expect(w.fake.connects).toEqual(['10.255.255.53:53']);
  });

  it('says SERVFAIL at once when there is no resolver to ask', async () => {
    const w = world();
    const q = w.rt.host('pc2')!.resolve('www.example.com');
    expect(await run(w.rt, () => q.isDone, 20e9)).toBe(true);
    // The answer is SERVFAIL from .2 (the host's stub resolver reports any answer without an address as 'no address').
    expect(q.result.error).toBe('no address');
    expect(q.result.server).toBe(ip('192.168.8.2'));
    expect(w.rt.engine.now).toBeLessThan(1e9);
    expect(w.nat.status().counters.dnsFailed).toBe(1);
  });
});

/** An ICMP echo seen on a guest's cable, read straight from the frame's bytes. */
interface SeenEcho {
  type: number;
  src: string;
  dst: string;
  ttl: number;
  ident: number;
  seq: number;
  data: string;
  ipChecksumOk: boolean;
  icmpChecksumOk: boolean;
}

/** Every unfragmented ICMP echo crossing the host's eth0, both ways. */
function watchEchoes(host: Host): SeenEcho[] {
  const seen: SeenEcho[] = [];
  addTap(host.ports[0]!, {
    record(frame: Uint8Array) {
      if (frame.length < 42 || u16(frame, 12) !== 0x0800 || frame[23] !== IPPROTO.ICMP || (u16(frame, 20) & 0x3fff) !== 0) return;
      const hl = (frame[14]! & 0x0f) << 2;
      const at = 14 + hl;
      const len = u16(frame, 16) - hl;
      const type = frame[at]!;
      if (type !== 0 && type !== 8) return;
      seen.push({
        type,
        src: ip4ToString(u32(frame, 26)),
        dst: ip4ToString(u32(frame, 30)),
        ttl: frame[22]!,
        ident: u16(frame, at + 4),
        seq: u16(frame, at + 6),
        data: Buffer.from(frame.subarray(at + 8, at + len)).toString('hex'),
        ipChecksumOk: ipv4ChecksumOk(frame, 14),
        icmpChecksumOk: onesSum(frame, at, len) === 0xffff,
      });
    },
  });
  return seen;
}

describe('NAT gateway: ping out through the host', () => {
  it('relays a ping and the guest hears each reply from the address it pinged: its identifier, sequence and data, byte for byte', async () => {
    const w = world('', (f) => f.pingable.set(OUT, (data) => data));
    const seen = watchEchoes(w.pc1);
    const ping = w.pc1.ping(OUT, { count: 3, size: 100 });
    expect(await run(w.rt, () => ping.isDone)).toBe(true);
    expect(ping.result.received).toBe(3);
    expect(ping.result.probes.map((p) => [p.status, ip4ToString(p.from), p.ttl, p.bytes])).toEqual([
      ['reply', '203.0.113.10', 128, 108],
      ['reply', '203.0.113.10', 128, 108],
      ['reply', '203.0.113.10', 128, 108],
    ]);
    const requests = seen.filter((e) => e.type === 8);
    const replies = seen.filter((e) => e.type === 0);
    expect(requests).toHaveLength(3);
    // Each reply is the request turned around: same identifier, sequence and data; both checksums right.
    expect(replies).toEqual(
      requests.map((r) => ({ ...r, type: 0, src: '203.0.113.10', dst: '192.168.8.10', ttl: 128, ipChecksumOk: true, icmpChecksumOk: true })),
    );
    expect(requests.every((r) => r.icmpChecksumOk && r.ipChecksumOk)).toBe(true);
    // The host sent the guest's data under its own socket's identifier, all on one socket.
    const guestIdent = requests[0]!.ident;
    expect(w.fake.echoes.map((e) => [ip4ToString(e.toIp), e.seq, Buffer.from(e.payload).toString('hex')])).toEqual(requests.map((r) => ['203.0.113.10', r.seq, r.data]));
    expect(new Set(w.fake.echoes.map((e) => e.handle)).size).toBe(1);
    expect(w.fake.echoes[0]!.ident).not.toBe(guestIdent);
    const st = w.nat.status();
    expect(st).toMatchObject({ icmpRelay: 'datagram', icmpRelayError: null });
    expect(st.icmp).toEqual([{ guest: '192.168.8.10', peer: '203.0.113.10', ident: guestIdent, requests: 3, replies: 3, ageS: expect.any(Number), idleS: expect.any(Number) }]);
    expect(st.counters).toMatchObject({ icmpEchoRequests: 3, icmpEchoReplies: 3, icmpNotRelayed: 0, malformed: 0 });
  });

  it('carries a ping too big for one frame: reassembled on the way out, fragmented on the way back, data unchanged', async () => {
    let heard = '';
    const w = world('', (f) =>
      f.pingable.set(OUT, (data) => {
        heard = Buffer.from(data).toString('hex');
        return data;
      }),
    );
    const ping = w.pc1.ping(OUT, { count: 1, size: 4000 });
    expect(await run(w.rt, () => ping.isDone)).toBe(true);
    expect(ping.result.probes[0]).toMatchObject({ status: 'reply', from: OUT, bytes: 4008 });
    expect(heard.length).toBe(8000);
    expect(w.nat.status().counters.malformed).toBe(0);
  });

  it('keeps one flow per guest, destination and identifier, each answered with its own replies', async () => {
    const other = ip('198.51.100.7');
    const w = world('', (f) => {
      f.pingable.set(OUT, (d) => d);
      f.pingable.set(other, (d) => d);
    });
    const pc2 = w.rt.host('pc2')!;
    const pings = [w.pc1.ping(OUT, { count: 2 }), w.pc1.ping(other, { count: 2 }), pc2.ping(OUT, { count: 2 })];
    expect(await run(w.rt, () => pings.every((p) => p.isDone))).toBe(true);
    expect(pings.map((p) => [p.result.received, p.result.probes.map((x) => ip4ToString(x.from))])).toEqual([
      [2, ['203.0.113.10', '203.0.113.10']],
      [2, ['198.51.100.7', '198.51.100.7']],
      [2, ['203.0.113.10', '203.0.113.10']],
    ]);
    expect(w.nat.status().icmp.map((f) => `${f.guest}>${f.peer} ${f.requests}/${f.replies}`).sort()).toEqual([
      '192.168.8.10>198.51.100.7 2/2',
      '192.168.8.10>203.0.113.10 2/2',
      '192.168.8.11>203.0.113.10 2/2',
    ]);
    expect(w.fake.openIcmpCount()).toBe(3);
  });

  it('forgets a flow 30 s after its last echo and closes its host socket; a stopped lab closes them all', async () => {
    const w = world('', (f) => f.pingable.set(OUT, (d) => d));
    const ping = w.pc1.ping(OUT, { count: 1 });
    expect(await run(w.rt, () => ping.isDone)).toBe(true);
    w.rt.engine.runFor(25e9);
    expect(w.nat.status().icmp).toHaveLength(1);
    w.rt.engine.runFor(6e9);
    expect(w.nat.status().icmp).toEqual([]);
    expect(w.fake.openIcmpCount()).toBe(0);
    expect(w.nat.status().counters.icmpExpired).toBe(1);

    const again = w.pc1.ping(OUT, { count: 1 });
    expect(await run(w.rt, () => again.isDone)).toBe(true);
    expect(again.result.received).toBe(1);
    expect(w.fake.openIcmpCount()).toBe(1);
    w.rt.stop();
    expect(w.fake.openIcmpCount()).toBe(0);
  });

  it('evicts the longest-idle flow when the table is full', async () => {
    const targets = ['198.51.100.1', '198.51.100.2', '198.51.100.3'].map(ip);
    const w = world('', (f) => targets.forEach((t) => f.pingable.set(t, (d) => d)));
    (w.nat.limits as { maxIcmpFlows: number }).maxIcmpFlows = 2;
    for (const t of targets) {
      const p = w.pc1.ping(t, { count: 1 });
      expect(await run(w.rt, () => p.isDone)).toBe(true);
      expect(p.result.received).toBe(1);
    }
    expect(w.nat.status().icmp.map((f) => f.peer)).toEqual(['198.51.100.2', '198.51.100.3']);
    expect(w.nat.status().counters.icmpEvicted).toBe(1);
    expect(w.fake.openIcmpCount()).toBe(2);
  });

  it('counts the pings it cannot relay and says why when the host can send no ICMP', async () => {
    const reason = 'pings are not relayed: ICMP needs CAP_NET_RAW or net.ipv4.ping_group_range to take group 1000 (it is "1 0")';
    const w = world('', (f) => {
      f.pingable.set(OUT, (d) => d);
      f.icmpSupport = { via: null, reason };
    });
    const ping = w.pc1.ping(OUT, { count: 2, timeoutNs: 2e9 });
    expect(await run(w.rt, () => ping.isDone)).toBe(true);
    expect(ping.result.probes.map((p) => p.status)).toEqual(['timeout', 'timeout']);
    expect(w.fake.echoes).toEqual([]);
    expect(w.fake.icmpSockets.size).toBe(0);
    const st = w.nat.status();
    expect(st).toMatchObject({ icmpRelay: null, icmpRelayError: reason, icmp: [] });
    expect(st.counters).toMatchObject({ icmpNotRelayed: 2, icmpEchoRequests: 0 });
    // The host adapter relays no ping by design: no reason to give.
    expect(w.hostAdapter.status()).toMatchObject({ icmpRelay: null, icmpRelayError: null });
  });

  it('says why without host sockets at all (a lab outside the server)', async () => {
    const rt = labOf(NAT_LAB());
    rt.start();
    const ping = rt.host('pc1')!.ping(OUT, { count: 1, timeoutNs: 1e9 });
    expect(await run(rt, () => ping.isDone)).toBe(true);
    expect(ping.result.received).toBe(0);
    const st = rt.networkParts('vmnet8')!.nat!.status();
    expect(st.icmpRelay).toBeNull();
    expect(st.icmpRelayError).toMatch(/no host sockets/);
    expect(st.counters.icmpNotRelayed).toBe(1);
  });

  it('answers a ping the host cannot send with an unreachable from .2, quoting it', async () => {
    const nowhere = ip('198.51.100.99');
    const w = world('', (f) => f.failures.set(nowhere, 'ENETUNREACH'));
    const ping = w.pc1.ping(nowhere, { count: 2 });
    expect(await run(w.rt, () => ping.isDone)).toBe(true);
    expect(ping.result.probes.map((p) => [p.status, ip4ToString(p.from), p.message])).toEqual([
      ['error', '192.168.8.2', 'Destination Net Unreachable'],
      ['error', '192.168.8.2', 'Destination Net Unreachable'],
    ]);
    expect(w.nat.status().counters.icmpUnreachable).toBe(2);
  });

  it('drops a flow whose host socket cannot open, and counts it', async () => {
    const w = world('', (f) => {
      f.pingable.set(OUT, (d) => d);
      f.icmpOpenError = 'EIO';
    });
    const ping = w.pc1.ping(OUT, { count: 1, timeoutNs: 1e9 });
    expect(await run(w.rt, () => ping.isDone)).toBe(true);
    expect(ping.result.received).toBe(0);
    expect(w.nat.status().icmp).toEqual([]);
    expect(w.nat.status().counters.icmpNotRelayed).toBe(1);
  });

  it('is not recorded by a live snapshot: after a restore the gateway starts over, closes the old sockets, and pings work again', async () => {
    const w = world('', (f) => f.pingable.set(OUT, (d) => d));
    const first = w.pc1.ping(OUT, { count: 1 });
    expect(await run(w.rt, () => first.isDone)).toBe(true);
    expect(w.nat.status().icmp).toHaveLength(1);
    const state = encodeState(captureRuntime(w.rt));
    restoreRuntime(w.rt, decodeState(state), w.rt.lab);
    const nat = w.rt.networkParts('vmnet8')!.nat!;
    expect(nat.status().icmp).toEqual([]);
    expect(w.fake.openIcmpCount()).toBe(0);
    const pc1 = w.rt.host('pc1')!;
    const again = pc1.ping(OUT, { count: 2 });
    expect(await run(w.rt, () => again.isDone)).toBe(true);
    expect(again.result.received).toBe(2);
    expect(nat.status().icmp).toEqual([expect.objectContaining({ guest: '192.168.8.10', peer: '203.0.113.10', requests: 2, replies: 2 })]);
  });

  it('relays echo requests only: other ICMP is counted, a bad checksum is malformed', async () => {
    const w = world('', (f) => f.pingable.set(OUT, (d) => d));
    const send = (dst: Ip4, msg: Uint8Array) => {
      const route = w.pc1.stack.routeOutput(dst);
      if (typeof route === 'string') throw new Error(route);
      w.pc1.stack.transmit(route, IPPROTO.ICMP, msg, {});
    };
    // A timestamp request (type 13) and an echo whose checksum is off by one.
    send(OUT, buildIcmp({ type: 13, code: 0, id: 1, seq: 1, payload: new Uint8Array(12) }));
    const bad = buildIcmp({ type: 8, code: 0, id: 2, seq: 1, payload: enc('abcd') });
    bad[3] = bad[3]! ^ 1;
    send(OUT, bad);
    w.rt.engine.runFor(1e9);
    expect(w.fake.echoes).toEqual([]);
    expect(w.nat.status().counters).toMatchObject({ icmpNotRelayed: 1, malformed: 1 });
  });
});

describe('port forwards', () => {
  it('carries a host connection to a guest web server, which sees it come from .2', async () => {
    const w = world(`    nat: { port-forwards: [{ proto: tcp, host: "127.0.0.1:8080", guest: "192.168.8.10:80" }] }`);
    new HttpServer(w.tcp1, { port: 80, body: 'hello from pc1' });
    const conn = w.fake.dial(ip('127.0.0.1'), 8080);
    conn.write('GET / HTTP/1.1\r\nHost: localhost:8080\r\nConnection: close\r\n\r\n');
    conn.end();
    expect(await run(w.rt, () => conn.gotEnd)).toBe(true);
    expect(conn.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(conn.text.endsWith('hello from pc1')).toBe(true);
    const fwd = w.nat.status().portForwards;
    expect(fwd).toEqual([{ proto: 'tcp', host: '127.0.0.1:8080', guest: '192.168.8.10:80', state: 'listening', error: null, accepted: 1 }]);
    expect(w.tcp1.connections().map((s) => s.remoteIp)).toEqual([ip('192.168.8.2')]);
  });

  it('resets the host connection when nothing listens on the guest port', async () => {
    const w = world(`    nat: { port-forwards: [{ proto: tcp, host: "127.0.0.1:8081", guest: "192.168.8.10:81" }] }`);
    const conn = w.fake.dial(ip('127.0.0.1'), 8081);
    expect(await run(w.rt, () => conn.gotReset)).toBe(true);
  });

  it('carries datagrams to a guest UDP service and its answers back to the sender', async () => {
    const w = world(`    nat: { port-forwards: [{ proto: udp, host: "127.0.0.1:5300", guest: "192.168.8.10:7" }] }`);
    const echo = new UdpProbe(w.pc1, 7);
    echo.socket.owner = {
      onDatagram: (s, src, port, payload) => {
        echo.got.push({ from: `${ip4ToString(src)}:${port}`, text: Buffer.from(payload).toString() });
        s.sendTo(src, port, enc(`echo ${Buffer.from(payload).toString()}`));
      },
    };
    w.fake.sendTo(ip('127.0.0.1'), 5300, ip('127.0.0.1'), 41000, enc('ping'));
    await run(w.rt, () => w.fake.sent.length === 1);
    expect(echo.got[0]!.from).toMatch(/^192\.168\.8\.2:\d+$/);
    expect(w.fake.sent[0]).toMatchObject({ toIp: ip('127.0.0.1'), toPort: 41000 });
    expect(Buffer.from(w.fake.sent[0]!.data).toString()).toBe('echo ping');
  });

  it('reports a forward whose host port cannot be opened', async () => {
    const w = world(`    nat: { port-forwards: [{ proto: tcp, host: "127.0.0.1:8082", guest: "192.168.8.10:80" }] }`);
    const [handle] = [...w.fake.listeners.keys()];
    w.fake.later(() => w.nat.onHostListenError(handle!, 'EADDRINUSE', '127.0.0.1:8082 is in use'));
    await run(w.rt, () => w.nat.status().portForwards[0]!.state === 'failed');
    expect(w.nat.status().portForwards[0]!.error).toBe('127.0.0.1:8082 is in use');
  });
});

describe('host adapter (.1)', () => {
  it('carries TCP and UDP to .1 to the host\'s loopback', async () => {
    const w = world('', (f) => {
      f.servers.set('127.0.0.1:9000', httpServer('the host itself'));
      f.udpPeers.set('127.0.0.1:9001', (d) => enc(`host got ${Buffer.from(d).toString()}`));
    });
    const get = new HttpGet(w.tcp1, 'http://192.168.8.1:9000/');
    const p = new UdpProbe(w.pc1);
    p.socket.sendTo(ip('192.168.8.1'), 9001, enc('hi'));
    await run(w.rt, () => get.result.done && p.got.length === 1);
    expect(get.result.body).toBe('the host itself');
    expect(p.got).toEqual([{ from: '192.168.8.1:9001', text: 'host got hi' }]);
    expect(w.fake.connects).toEqual(['127.0.0.1:9000']);
    expect(w.hostAdapter.status()).toMatchObject({ mode: 'host', address: '192.168.8.1', relaying: true });
  });

  it('refuses what it cannot relay without host sockets, like a host with nothing listening', async () => {
    const rt = labOf(NAT_LAB());
    rt.start();
    const pc1 = rt.host('pc1')!;
    const tcp = pc1.tcp;
    const c = new Client(tcp, ip('192.168.8.1'), 22);
    const out = new Client(tcp, OUT, 80);
    const p = new UdpProbe(pc1);
    p.socket.sendTo(ip('192.168.8.1'), 53, enc('x'));
    await run(rt, () => c.closed && out.closed && p.errors.length === 1, 20e9);
    expect(c.error).toBe('ECONNREFUSED');
    expect(out.error).toBe('ECONNREFUSED');
    expect(p.errors[0]).toMatchObject({ type: 3, code: 3, from: ip('192.168.8.1') });
    expect(rt.networkParts('vmnet8')!.nat!.status().relaying).toBe(false);
  });
});
