/**
 * TCP against a scripted peer: the test writes every segment by hand (wire codecs, real
 * Ethernet/IPv4 framing) and reads back exactly what our stack answers. This pins down the
 * RFC details a well-behaved peer never exercises: option negotiation, resets, challenge ACKs,
 * PAWS, out-of-order data, delayed ACKs, Nagle, fast retransmit, zero-window probing.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Engine, Link, Port, type FrameSink } from '../../devices/engine/index.js';
import { TcpDirectHost } from '../../devices/stack/tcp-direct.js';
import type { TcpErrorCode, TcpListener, TcpSocket, TcpSocketOwner } from '../../devices/stack/tcp.js';
import { buildEthernetFrame, ETHERTYPE } from '../../devices/wire/ethernet.js';
import { buildIpv4Packet, decodeIpv4, IPPROTO } from '../../devices/wire/ipv4.js';
import {
  decodeTcp,
  encodeTcp,
  linuxTcpOptions,
  tcpChecksumOk,
  tcpOption,
  tcpOptionsLength,
  type TcpHeader,
  type TcpOption,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
} from '../../devices/wire/tcp.js';
import { pcapFrames } from '../helpers/pcapng.js';

/** curl fetching a file from Python's http.server between two Linux hosts (tests/fixtures/SOURCES.md). */
const TCP_HTTP_PCAP = new URL('../fixtures/captures/tcp-http.pcap', import.meta.url);

const US_IP = 0x0a000001;
const US_MAC = 0x020000000001;
const PEER_IP = 0x0a000002;
const PEER_MAC = 0x020000000002;

interface Seen {
  at: number;
  ip: ReturnType<typeof decodeIpv4>;
  tcp: TcpHeader;
  payload: Uint8Array;
  frame: Uint8Array;
}

/** The scripted peer: a port that records what it receives and sends what the test writes. */
class RawPeer implements FrameSink {
  readonly port: Port;
  readonly seen: Seen[] = [];
  constructor(
    readonly engine: Engine,
    readonly ip = PEER_IP,
    readonly mac = PEER_MAC,
    readonly usIp = US_IP,
    readonly usMac = US_MAC,
  ) {
    this.port = new Port(this, 'peer');
  }
  onFrame(_p: Port, frame: Uint8Array): void {
    const ip = decodeIpv4(frame, 14);
    const off = 14 + ip.headerLength;
    const len = ip.totalLength - ip.headerLength;
    expect(tcpChecksumOk(frame, off, len, ip.src, ip.dst)).toBe(true);
    const tcp = decodeTcp(frame, off, len);
    this.seen.push({ at: this.engine.now, ip, tcp, payload: frame.slice(tcp.payloadOffset, off + len), frame });
  }
  send(seg: {
    srcPort: number;
    dstPort: number;
    seq: number;
    ack?: number;
    flags: number;
    window?: number;
    options?: TcpOption[];
    payload?: Uint8Array;
  }): void {
    const len = 20 + tcpOptionsLength(seg.options) + (seg.payload?.length ?? 0);
    const tcp = new Uint8Array(len);
    encodeTcp({ ...seg, ack: seg.ack ?? 0, window: seg.window ?? 65535 }, tcp, 0, this.ip, this.usIp);
    const ip = buildIpv4Packet({ src: this.ip, dst: this.usIp, protocol: IPPROTO.TCP, df: true }, tcp);
    this.port.send(buildEthernetFrame({ dst: this.usMac, src: this.mac, tags: [], etherType: ETHERTYPE.IPV4 }, ip));
  }
  /** Segments received since index `from`. */
  since(from: number): Seen[] {
    return this.seen.slice(from);
  }
  get last(): Seen {
    return this.seen[this.seen.length - 1]!;
  }
}

class Recorder implements TcpSocketOwner {
  events: string[] = [];
  data: number[] = [];
  error: TcpErrorCode | null = null;
  onConnect(): void {
    this.events.push('connect');
  }
  onData(_s: TcpSocket, d: Uint8Array): void {
    this.events.push(`data ${d.length}`);
    for (const b of d) this.data.push(b);
  }
  onEnd(): void {
    this.events.push('end');
  }
  onError(_s: TcpSocket, e: TcpErrorCode): void {
    this.error = e;
    this.events.push(`error ${e}`);
  }
  onClose(): void {
    this.events.push('close');
  }
}

function setup(opts: { mtu?: number; delayNs?: number } = {}) {
  const engine = new Engine({ seed: 3 });
  const host = new TcpDirectHost(engine, 'us', { ip: US_IP, mac: US_MAC, mtu: opts.mtu ?? 1500 });
  host.addNeighbour(PEER_IP, PEER_MAC);
  const peer = new RawPeer(engine);
  new Link(engine, 'us-peer', host.port, peer.port, { delayNs: opts.delayNs ?? 1e6 });
  return { engine, host, peer, tcp: host.tcp };
}

const tsOf = (h: TcpHeader) => tcpOption(h.options, 'timestamp');

/** Our active open against the scripted peer, completed with a SYN-ACK carrying `peerOptions`. */
function established(peerOptions: TcpOption[] = linuxTcpOptions({ mss: 1460, timestamp: { value: 1000, echo: 0 }, windowScale: 7 })) {
  const t = setup();
  const owner = new Recorder();
  const sock = t.tcp.connect(PEER_IP, 80, owner);
  t.engine.runFor(5e6);
  const syn = t.peer.last.tcp;
  const ours = tsOf(syn);
  const opts = peerOptions.map((o) => (o.type === 'timestamp' ? { ...o, echo: ours?.value ?? 0 } : o));
  const peerIss = 5000;
  t.peer.send({ srcPort: 80, dstPort: syn.srcPort, seq: peerIss, ack: syn.seq + 1, flags: TCP_SYN | TCP_ACK, window: 65535, options: opts });
  t.engine.runFor(5e6);
  expect(owner.events).toEqual(['connect']);
  return { ...t, owner, sock, port: syn.srcPort, iss: syn.seq, peerNxt: peerIss + 1, ourNxt: (syn.seq + 1) >>> 0 };
}

const ts = (value: number, echo: number): TcpOption[] => [{ type: 'nop' }, { type: 'nop' }, { type: 'timestamp', value, echo }];

describe('TCP option negotiation', () => {
  it('sends a SYN laid out byte for byte like Linux: MSS 1460, SACK_PERM, TS, NOP, WS; DF set', () => {
    const t = setup();
    t.tcp.connect(PEER_IP, 80, new Recorder());
    t.engine.runFor(5e6);
    const syn = t.peer.seen[0]!;
    expect(syn.tcp.flags).toBe(TCP_SYN);
    expect(syn.ip.df).toBe(true);
    expect(syn.ip.ttl).toBe(64);
    const tsv = tsOf(syn.tcp)!;
    // linuxTcpOptions reproduces tcp_options_write().
    expect(syn.tcp.options).toEqual(linuxTcpOptions({ mss: 1460, sackPermitted: true, timestamp: { value: tsv.value, echo: 0 }, windowScale: 3 }));

    // A real Linux SYN (curl, kernel 6.18): the same option bytes but for the timestamp value and
    // the window shift (Linux sizes it from a 6 MB buffer, we from our 256 KiB one).
    const linux = pcapFrames(readFileSync(TCP_HTTP_PCAP))[0]!;
    const lsyn = decodeTcp(linux, 34, linux.length - 34);
    expect(lsyn.headerLength).toBe(syn.tcp.headerLength);
    const ours = syn.frame.slice(34 + 20, 34 + syn.tcp.headerLength);
    const theirs = linux.slice(34 + 20, 34 + lsyn.headerLength);
    ours.set(theirs.subarray(8, 12), 8); // TSval
    ours[19] = theirs[19]!; // WS shift
    expect([...ours]).toEqual([...theirs]);
  });

  it('offers MSS, NOP NOP TS, NOP WS (Linux with SACK off) when SACK is disabled', () => {
    const engine = new Engine({ seed: 3 });
    const host = new TcpDirectHost(engine, 'us', { ip: US_IP, mac: US_MAC, tcp: { sack: false } });
    host.addNeighbour(PEER_IP, PEER_MAC);
    const peer = new RawPeer(engine);
    new Link(engine, 'l', host.port, peer.port);
    host.tcp.connect(PEER_IP, 80, new Recorder());
    engine.runFor(1e6);
    const syn = peer.seen[0]!.tcp;
    expect(syn.options).toEqual(linuxTcpOptions({ mss: 1460, timestamp: { value: tsOf(syn)!.value, echo: 0 }, windowScale: 3 }));
  });

  it('answers the SYN of a real Linux client with a SYN-ACK that echoes its timestamp and acknowledges its ISN', () => {
    // Be the server of the capture: 10.1.2.10:8000 behind router MAC 02:00:00:01:01:01.
    const engine = new Engine({ seed: 5 });
    const server = new TcpDirectHost(engine, 'h2', { ip: 0x0a01020a, mac: 0x020000010101 });
    server.addNeighbour(0x0a01010a, 0x020000010110);
    const wire = new RawPeer(engine, 0x0a01010a, 0x020000010110, 0x0a01020a, 0x020000010101);
    new Link(engine, 'l', server.port, wire.port);
    server.tcp.listen(8000, { onAccept() {} });
    const linuxSyn = pcapFrames(readFileSync(TCP_HTTP_PCAP))[0]!;
    wire.port.send(linuxSyn);
    engine.runFor(1e6);
    const sa = wire.seen[0]!.tcp;
    const lsyn = decodeTcp(linuxSyn, 34, linuxSyn.length - 34);
    expect(sa.flags).toBe(TCP_SYN | TCP_ACK);
    expect(sa.ack).toBe((lsyn.seq + 1) >>> 0);
    expect(tsOf(sa)!.echo).toBe(tsOf(lsyn)!.value);
    // The layout of Linux's own SYN-ACK in the capture (frame 2).
    const lsa = pcapFrames(readFileSync(TCP_HTTP_PCAP))[1]!;
    const lsaTcp = decodeTcp(lsa, 34, lsa.length - 34);
    expect(sa.options.map((o) => o.type)).toEqual(lsaTcp.options.map((o) => o.type));
    expect(sa.options.map((o) => o.type)).toEqual(['mss', 'sackPermitted', 'timestamp', 'nop', 'wscale']);
    expect(tcpOption(sa.options, 'mss')!.mss).toBe(1460);
  });

  it('uses neither timestamps nor window scaling with a peer whose SYN offered none', () => {
    const t = setup();
    const server = new Recorder();
    let conn: TcpSocket | null = null;
    t.tcp.listen(80, {
      onAccept(_l: TcpListener, s: TcpSocket) {
        conn = s;
        s.owner = server;
      },
    });
    t.peer.send({ srcPort: 40000, dstPort: 80, seq: 100, flags: TCP_SYN, window: 8192, options: [{ type: 'mss', mss: 536 }] });
    t.engine.runFor(5e6);
    const sa = t.peer.last.tcp;
    expect(sa.options).toEqual([{ type: 'mss', mss: 1460 }]);
    t.peer.send({ srcPort: 40000, dstPort: 80, seq: 101, ack: sa.seq + 1, flags: TCP_ACK, window: 8192 });
    t.engine.runFor(5e6);
    expect(conn).not.toBeNull();
    const from = t.peer.seen.length;
    conn!.send(new Uint8Array(2000).fill(7));
    t.engine.runFor(5e6);
    const segs = t.peer.since(from).filter((s) => s.payload.length > 0);
    // The peer's MSS bounds our segments, no option is added, and our window is not scaled.
    // The 392-byte tail waits for an ACK (Nagle).
    expect(segs.map((s) => s.payload.length)).toEqual([536, 536, 536]);
    t.peer.send({ srcPort: 40000, dstPort: 80, seq: 101, ack: sa.seq + 1 + 1608, flags: TCP_ACK, window: 8192 });
    t.engine.runFor(5e6);
    segs.push(...t.peer.since(from).filter((s) => s.payload.length > 0).slice(3));
    expect(segs.map((s) => s.payload.length)).toEqual([536, 536, 536, 392]);
    for (const s of segs) {
      expect(s.tcp.headerLength).toBe(20);
      expect(s.tcp.window).toBe(65535);
    }
  });

  it('advertises MSS = MTU - 40 and limits its segments to the smaller of both MSS values', () => {
    const t = setup({ mtu: 1400 });
    t.tcp.connect(PEER_IP, 80, new Recorder());
    t.engine.runFor(5e6);
    expect(tcpOption(t.peer.last.tcp.options, 'mss')!.mss).toBe(1360);
  });
});

describe('TCP resets', () => {
  it('answers a SYN to a closed port with RST/ACK (seq 0, ack ISN+1) as Linux does, and a stray ACK with a bare RST', () => {
    const t = setup();
    t.peer.send({ srcPort: 40000, dstPort: 81, seq: 1234, flags: TCP_SYN, options: [{ type: 'mss', mss: 1460 }] });
    t.engine.runFor(5e6);
    const rst = t.peer.last.tcp;
    expect(rst.flags).toBe(TCP_RST | TCP_ACK);
    expect(rst.seq).toBe(0);
    expect(rst.ack).toBe(1235);
    expect(rst.window).toBe(0);
    // The real Linux refusal in the capture has the same shape.
    const frames = pcapFrames(readFileSync(TCP_HTTP_PCAP));
    const linuxRst = frames.map((f) => decodeTcp(f, 34, f.length - 34)).find((h) => h.flags & TCP_RST)!;
    expect([linuxRst.flags, linuxRst.seq, linuxRst.window, linuxRst.headerLength]).toEqual([rst.flags, rst.seq, rst.window, rst.headerLength]);

    t.peer.send({ srcPort: 40000, dstPort: 81, seq: 1, ack: 777, flags: TCP_ACK });
    t.engine.runFor(5e6);
    expect(t.peer.last.tcp.flags).toBe(TCP_RST);
    expect(t.peer.last.tcp.seq).toBe(777);
    // A reset is never answered.
    const n = t.peer.seen.length;
    t.peer.send({ srcPort: 40000, dstPort: 81, seq: 1, ack: 777, flags: TCP_RST });
    t.engine.runFor(5e6);
    expect(t.peer.seen.length).toBe(n);
    expect(t.tcp.stats.noPort).toBe(3);
  });

  it('reports ECONNREFUSED when the SYN is answered by a reset', () => {
    const t = setup();
    const owner = new Recorder();
    t.tcp.connect(PEER_IP, 81, owner);
    t.engine.runFor(2e6);
    const syn = t.peer.last.tcp;
    t.peer.send({ srcPort: 81, dstPort: syn.srcPort, seq: 0, ack: syn.seq + 1, flags: TCP_RST | TCP_ACK, window: 0 });
    t.engine.runFor(5e6);
    expect(owner.events).toEqual(['error ECONNREFUSED', 'close']);
    expect(t.tcp.connectionCount).toBe(0);
    // A reset whose ACK does not cover our SYN is ignored (RFC 9293 3.10.7.3).
  });

  it('ignores a reset in SYN-SENT whose ACK is not for our SYN', () => {
    const t = setup();
    const owner = new Recorder();
    t.tcp.connect(PEER_IP, 81, owner);
    t.engine.runFor(2e6);
    const syn = t.peer.last.tcp;
    t.peer.send({ srcPort: 81, dstPort: syn.srcPort, seq: 0, ack: syn.seq + 99, flags: TCP_RST | TCP_ACK });
    t.engine.runFor(5e6);
    expect(owner.events).toEqual([]);
  });

  it('challenges an in-window reset that is not exactly at rcv.nxt, and obeys the exact one (RFC 5961)', () => {
    const t = established();
    const before = t.peer.seen.length;
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt + 100, flags: TCP_RST });
    t.engine.runFor(5e6);
    const challenge = t.peer.since(before);
    expect(challenge).toHaveLength(1);
    expect(challenge[0]!.tcp.flags).toBe(TCP_ACK);
    expect(challenge[0]!.tcp.ack).toBe(t.peerNxt);
    expect(t.sock.stateName).toBe('ESTABLISHED');
    expect(t.tcp.stats.challengeAcks).toBe(1);
    // Out of the window: silently dropped.
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt + 10_000_000, flags: TCP_RST });
    t.engine.runFor(5e6);
    expect(t.peer.seen.length).toBe(before + 1);
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt, flags: TCP_RST });
    t.engine.runFor(5e6);
    expect(t.owner.events).toEqual(['connect', 'error ECONNRESET', 'close']);
    expect(t.sock.stateName).toBe('CLOSED');
  });

  it('answers a SYN on an established connection with a challenge ACK, not a reset', () => {
    const t = established();
    const before = t.peer.seen.length;
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: 424242, flags: TCP_SYN, options: [{ type: 'mss', mss: 1460 }] });
    t.engine.runFor(5e6);
    const out = t.peer.since(before);
    expect(out.map((s) => s.tcp.flags)).toEqual([TCP_ACK]);
    expect(t.sock.stateName).toBe('ESTABLISHED');
  });

  it('sends a reset on abort(), and on close() with unread data', () => {
    const t = established();
    t.sock.pause();
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt, ack: t.ourNxt, flags: TCP_ACK | TCP_PSH, payload: new Uint8Array(10), options: ts(2000, 0) });
    t.engine.runFor(5e6);
    expect(t.sock.readableLength).toBe(10);
    const before = t.peer.seen.length;
    t.sock.close();
    t.engine.runFor(5e6);
    const rst = t.peer.since(before).find((s) => s.tcp.flags & TCP_RST)!;
    expect(rst.tcp.flags).toBe(TCP_RST | TCP_ACK);
    expect(rst.tcp.seq).toBe(t.ourNxt);
    expect(t.sock.stateName).toBe('CLOSED');
  });
});

describe('TCP receive path', () => {
  it('ACKs every second full segment at once and a lone segment after the 40 ms delayed-ACK timer', () => {
    const t = established();
    const seg = (i: number, len: number) =>
      t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt + i * 1448, ack: t.ourNxt, flags: TCP_ACK, payload: new Uint8Array(len).fill(i), options: ts(2000 + i, 0) });
    let from = t.peer.seen.length;
    seg(0, 1448);
    t.engine.runFor(2e6);
    expect(t.peer.since(from)).toHaveLength(0);
    seg(1, 1448);
    t.engine.runFor(2e6);
    const acks = t.peer.since(from);
    expect(acks).toHaveLength(1);
    expect(acks[0]!.tcp.ack).toBe(t.peerNxt + 2896);
    from = t.peer.seen.length;
    const sentAt = t.engine.now;
    seg(2, 100);
    t.engine.runFor(100e6);
    const late = t.peer.since(from);
    expect(late).toHaveLength(1);
    expect(late[0]!.tcp.ack).toBe(t.peerNxt + 2996);
    // 1 ms on the wire each way plus the 40 ms timer.
    expect(late[0]!.at - sentAt).toBeGreaterThanOrEqual(41e6);
    expect(late[0]!.at - sentAt).toBeLessThan(43e6);
    expect(t.owner.data.length).toBe(2996);
  });

  it('reassembles out-of-order segments, with an immediate duplicate ACK for the hole, delivering each byte once', () => {
    const t = established();
    const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
    const from = t.peer.seen.length;
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt + 1000, ack: t.ourNxt, flags: TCP_ACK, payload: bytes(500, 2), options: ts(2001, 0) });
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt + 2000, ack: t.ourNxt, flags: TCP_ACK, payload: bytes(500, 4), options: ts(2002, 0) });
    t.engine.runFor(5e6);
    const dups = t.peer.since(from);
    expect(dups.map((s) => s.tcp.ack)).toEqual([t.peerNxt, t.peerNxt]);
    expect(t.owner.data).toHaveLength(0);
    // Fill the first hole, overlapping the parked data on both sides.
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt, ack: t.ourNxt, flags: TCP_ACK, payload: bytes(1200, 1), options: ts(2003, 0) });
    t.engine.runFor(5e6);
    expect(t.peer.last.tcp.ack).toBe(t.peerNxt + 1500);
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt + 1500, ack: t.ourNxt, flags: TCP_ACK, payload: bytes(500, 3), options: ts(2004, 0) });
    t.engine.runFor(5e6);
    expect(t.peer.last.tcp.ack).toBe(t.peerNxt + 2500);
    const expected = [...bytes(1200, 1), ...bytes(300, 2), ...bytes(500, 3), ...bytes(500, 4)];
    expect(t.owner.data).toEqual(expected);
    // A retransmission of old data is acknowledged again and not delivered twice.
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt, ack: t.ourNxt, flags: TCP_ACK, payload: bytes(1000, 9), options: ts(2005, 0) });
    t.engine.runFor(5e6);
    expect(t.peer.last.tcp.ack).toBe(t.peerNxt + 2500);
    expect(t.owner.data).toHaveLength(2500);
  });

  it('drops a segment with an older timestamp (PAWS) and acknowledges instead', () => {
    const t = established();
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt, ack: t.ourNxt, flags: TCP_ACK, payload: new Uint8Array(10), options: ts(5000, 0) });
    t.engine.runFor(50e6);
    const from = t.peer.seen.length;
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt + 10, ack: t.ourNxt, flags: TCP_ACK, payload: new Uint8Array(10), options: ts(4000, 0) });
    t.engine.runFor(5e6);
    expect(t.owner.data).toHaveLength(10);
    expect(t.peer.since(from).map((s) => s.tcp.ack)).toEqual([t.peerNxt + 10]);
    expect(t.tcp.stats.pawsDrops).toBe(1);
    // Our segments echo the newest valid timestamp.
    expect(tsOf(t.peer.last.tcp)!.echo).toBe(5000);
  });

  it('delivers a FIN that arrives ahead of missing data only after the data (out-of-order FIN)', () => {
    const t = established();
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt + 5, ack: t.ourNxt, flags: TCP_ACK | TCP_FIN, payload: new Uint8Array(5).fill(2), options: ts(2001, 0) });
    t.engine.runFor(5e6);
    expect(t.owner.events).toEqual(['connect']);
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt, ack: t.ourNxt, flags: TCP_ACK, payload: new Uint8Array(5).fill(1), options: ts(2002, 0) });
    t.engine.runFor(5e6);
    expect(t.owner.events).toEqual(['connect', 'data 10', 'end']);
    expect(t.peer.last.tcp.ack).toBe(t.peerNxt + 11);
    expect(t.sock.stateName).toBe('CLOSE-WAIT');
  });
});

describe('TCP send path', () => {
  it('holds a small second write until the first is acknowledged (Nagle), unless noDelay', () => {
    const t = established();
    const from = t.peer.seen.length;
    t.sock.send(new Uint8Array([1]));
    t.sock.send(new Uint8Array([2]));
    t.engine.runFor(5e6);
    expect(t.peer.since(from).map((s) => s.payload.length)).toEqual([1]);
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt, ack: t.ourNxt + 1, flags: TCP_ACK, options: ts(2001, 0) });
    t.engine.runFor(5e6);
    expect(t.peer.since(from).map((s) => s.payload.length)).toEqual([1, 1]);

    t.sock.setNoDelay(true);
    const from2 = t.peer.seen.length;
    t.sock.send(new Uint8Array([3]));
    t.sock.send(new Uint8Array([4]));
    t.engine.runFor(5e6);
    expect(t.peer.since(from2).map((s) => s.payload.length)).toEqual([1, 1]);
  });

  it('starts with an initial window of 10 segments (RFC 6928)', () => {
    const t = established();
    const from = t.peer.seen.length;
    t.sock.send(new Uint8Array(100_000));
    t.engine.runFor(5e6);
    const segs = t.peer.since(from).filter((s) => s.payload.length > 0);
    expect(segs).toHaveLength(10);
    expect(segs.every((s) => s.payload.length === 1448)).toBe(true);
  });

  it('fast-retransmits the missing segment on the third duplicate ACK and halves the window (NewReno)', () => {
    const t = established();
    const from = t.peer.seen.length;
    t.sock.send(new Uint8Array(100_000));
    t.engine.runFor(5e6);
    const first = t.peer.since(from).filter((s) => s.payload.length > 0);
    const una = t.ourNxt;
    // The peer's first ACK updates our view of its (now scaled) window; then segment 0 is
    // "lost": three ACKs that acknowledge nothing new and change nothing are duplicates.
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt, ack: una, flags: TCP_ACK, options: ts(2000, 0) });
    for (let i = 0; i < 3; i++) {
      t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt, ack: una, flags: TCP_ACK, options: ts(2001 + i, 0) });
    }
    t.engine.runFor(3e6);
    const after = t.peer.since(from + first.length);
    expect(after[0]!.tcp.seq).toBe(una);
    expect(after[0]!.payload.length).toBe(1448);
    expect(t.sock.stats.fastRetransmits).toBe(1);
    expect(t.sock.info().ssthresh).toBe(5 * 1448);
    // A partial ACK (up to segment 5) makes NewReno resend the next hole at once.
    const n = t.peer.seen.length;
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt, ack: una + 5 * 1448, flags: TCP_ACK, options: ts(2010, 0) });
    t.engine.runFor(3e6);
    const re = t.peer.since(n).filter((s) => s.tcp.seq === una + 5 * 1448);
    expect(re.length).toBeGreaterThanOrEqual(1);
    expect(t.sock.stats.timeouts).toBe(0);
  });

  it('probes a zero window with one byte at backed-off intervals and resumes when the window opens', () => {
    const t = established();
    // The peer acknowledges the first 10 segments and closes its window.
    t.sock.send(new Uint8Array(20_000).fill(5));
    t.engine.runFor(5e6);
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt, ack: t.ourNxt + 14480, flags: TCP_ACK, window: 0, options: ts(2001, 0) });
    const from = t.peer.seen.length;
    // Probes go at 0.2, 0.6, 1.4, 3.0 s; open the window between two of them.
    t.engine.runFor(2.5e9);
    const probes = t.peer.since(from);
    expect(probes.length).toBeGreaterThanOrEqual(3);
    for (const p of probes) {
      expect(p.payload.length).toBe(1);
      expect(p.tcp.seq).toBe(t.ourNxt + 14480);
    }
    // Exponential backoff between probes.
    const gaps = probes.slice(1).map((p, i) => p.at - probes[i]!.at);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeCloseTo(2 * gaps[i - 1]!, -6);
    expect(t.sock.stats.zeroWindowProbes).toBe(probes.length);
    // Window opens: the rest goes, starting with the byte the probes carried.
    const n = t.peer.seen.length;
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt, ack: t.ourNxt + 14480, flags: TCP_ACK, window: 512, options: ts(2002, 0) });
    t.engine.runFor(5e6);
    const resumed = t.peer.since(n).filter((s) => s.payload.length > 0);
    // Full segments from the first unacknowledged byte (the one the probes carried); Nagle keeps the tail.
    expect(resumed.map((s) => [s.tcp.seq - t.ourNxt, s.payload.length])).toEqual([
      [14480, 1448],
      [15928, 1448],
      [17376, 1448],
    ]);
    expect(t.sock.stats.zeroWindowProbes).toBe(probes.length);
  });

  it('backs off the retransmission timer exponentially when the peer goes silent, then fails with ETIMEDOUT', () => {
    const t = established();
    const from = t.peer.seen.length;
    t.sock.send(new Uint8Array(100));
    t.engine.runFor(2000e9);
    const tx = t.peer.since(from);
    // The first send plus tcp_retries2 = 15 retransmissions.
    expect(tx).toHaveLength(16);
    expect(tx.every((s) => s.tcp.seq === t.ourNxt && s.payload.length === 100)).toBe(true);
    const gaps = tx.slice(1).map((s, i) => (s.at - tx[i]!.at) / 1e9);
    // 1 s initial RTO (no RTT sample yet: the handshake was timed, but with 1 ms links it sets 200 ms).
    expect(gaps[0]).toBeCloseTo(0.2, 3);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeCloseTo(Math.min(2 * gaps[i - 1]!, 120), 3);
    expect(t.owner.events).toEqual(['connect', 'error ETIMEDOUT', 'close']);
  });

  it('retransmits a SYN at 1, 2, 4, ... s and gives up after 6 retries (Linux: 127 s)', () => {
    const t = setup();
    const owner = new Recorder();
    t.tcp.connect(PEER_IP, 80, owner);
    t.engine.runFor(200e9);
    const syns = t.peer.seen.filter((s) => s.tcp.flags === TCP_SYN);
    expect(syns).toHaveLength(7);
    expect(syns.map((s) => Math.round((s.at - syns[0]!.at) / 1e9))).toEqual([0, 1, 3, 7, 15, 31, 63]);
    expect(owner.events).toEqual(['error ETIMEDOUT', 'close']);
    expect(t.tcp.stats.attemptFails).toBe(1);
  });
});

describe('TCP ICMP handling', () => {
  it('aborts a connecting socket on port unreachable and ignores errors quoting sequence numbers not in flight', () => {
    const t = setup();
    const owner = new Recorder();
    const s = t.tcp.connect(PEER_IP, 80, owner);
    t.engine.runFor(2e6);
    const base = { type: 3, code: 3, nextHopMtu: 0, localIp: US_IP, remoteIp: PEER_IP, localPort: s.localPort, remotePort: 80 };
    t.tcp.icmpError({ ...base, seq: s.iss + 12345 });
    expect(t.tcp.stats.icmpIgnored).toBe(1);
    expect(s.stateName).toBe('SYN-SENT');
    t.tcp.icmpError({ ...base, seq: s.iss });
    expect(owner.events).toEqual(['error ECONNREFUSED', 'close']);
  });

  it('shrinks the segment size on fragmentation-needed and resends what was in flight', () => {
    const t = established();
    const from = t.peer.seen.length;
    t.sock.send(new Uint8Array(5000));
    t.engine.runFor(5e6);
    // The 656-byte tail waits behind Nagle.
    expect(t.peer.since(from).filter((x) => x.payload.length).map((x) => x.payload.length)).toEqual([1448, 1448, 1448]);
    const n = t.peer.seen.length;
    t.tcp.icmpError({ type: 3, code: 4, nextHopMtu: 1000, localIp: US_IP, remoteIp: PEER_IP, localPort: t.port, remotePort: 80, seq: t.ourNxt });
    t.engine.runFor(5e6);
    const again = t.peer.since(n).filter((x) => x.payload.length);
    expect(again[0]!.tcp.seq).toBe(t.ourNxt);
    expect(Math.max(...again.map((x) => x.payload.length))).toBe(1000 - 40 - 12);
    expect(t.tcp.stats.pmtuUpdates).toBe(1);
  });
});

describe('TCP SACK', () => {
  const sackSynAck = linuxTcpOptions({ mss: 1460, sackPermitted: true, timestamp: { value: 1000, echo: 0 }, windowScale: 7 });

  it("reports out-of-order data in SACK blocks, the latest segment's block first (RFC 2018)", () => {
    const t = established(sackSynAck);
    const seg = (off: number, len: number, tsv: number) =>
      t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt + off, ack: t.ourNxt, flags: TCP_ACK, payload: new Uint8Array(len), options: ts(tsv, 0) });
    const from = t.peer.seen.length;
    seg(1000, 500, 2001);
    seg(3000, 500, 2002);
    seg(5000, 500, 2003);
    seg(3500, 500, 2004); // extends the middle block: it must lead the next ACK
    t.engine.runFor(5e6);
    const blocks = t.peer.since(from).map((x) => tcpOption(x.tcp.options, 'sack')!.blocks.map((b) => [b.left - t.peerNxt, b.right - t.peerNxt]));
    expect(blocks).toEqual([
      [[1000, 1500]],
      [[3000, 3500], [1000, 1500]],
      [[5000, 5500], [3000, 3500], [1000, 1500]],
      [[3000, 4000], [5000, 5500], [1000, 1500]],
    ]);
    // Once the hole before them fills, the blocks go away.
    seg(0, 1000, 2005);
    t.engine.runFor(5e6);
    const last = t.peer.last.tcp;
    expect(last.ack).toBe(t.peerNxt + 1500);
    expect(tcpOption(last.options, 'sack')!.blocks.map((b) => [b.left - t.peerNxt, b.right - t.peerNxt])).toEqual([
      [3000, 4000],
      [5000, 5500],
    ]);
  });

  it("resends exactly the holes the peer's SACK blocks reveal, several in one round trip (RFC 6675)", () => {
    const t = established(sackSynAck);
    const from = t.peer.seen.length;
    t.sock.send(new Uint8Array(100_000));
    t.engine.runFor(5e6);
    const first = t.peer.since(from).filter((x) => x.payload.length > 0);
    expect(first).toHaveLength(10);
    const una = t.ourNxt;
    const M = 1448;
    // Segments 0, 3 and 6 were lost: the peer has 1-2, 4-5 and 7-9 and says so.
    const sack = (blocks: [number, number][], tsv: number) => {
      const opts: TcpOption[] = [...ts(tsv, 0), { type: 'nop' }, { type: 'nop' }, { type: 'sack', blocks: blocks.map(([l, r]) => ({ left: una + l * M, right: una + r * M })) }];
      t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt, ack: una, flags: TCP_ACK, options: opts });
    };
    t.peer.send({ srcPort: 80, dstPort: t.port, seq: t.peerNxt, ack: una, flags: TCP_ACK, options: ts(2000, 0) }); // window update
    const n = t.peer.seen.length;
    sack([[1, 3]], 2001);
    sack([[4, 6], [1, 3]], 2002);
    sack([[7, 10], [4, 6], [1, 3]], 2003);
    t.engine.runFor(3e6);
    const resent = t.peer.since(n).filter((x) => slt(x.tcp.seq, una + 10 * M) && x.payload.length > 0).map((x) => (x.tcp.seq - una) / M);
    expect(resent.sort()).toEqual([0, 3, 6]);
    expect(t.tcp.stats.sackRecoveries).toBe(1);
    expect(t.sock.stats.timeouts).toBe(0);
  });
});

function slt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
