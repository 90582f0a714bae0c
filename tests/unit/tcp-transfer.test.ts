/**
 * Bulk transfers through bad networks: 10 MB must arrive intact (hash compared) over loss,
 * duplication, reordering and a slow bottleneck with a small queue, with retransmissions and
 * fast retransmits visible in the counters and in a capture that tshark reads cleanly.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Capture, Engine, Link, Port, type FrameSink, type Impairments, type TimerTarget } from '../../devices/engine/index.js';
import { TcpDirectHost } from '../../devices/stack/tcp-direct.js';
import type { TcpConfig, TcpErrorCode, TcpListener, TcpSocket, TcpSocketOwner } from '../../devices/stack/tcp.js';
import { concat } from '../helpers/pcapng.js';
import { tsharkAvailable } from '../helpers/tshark.js';

const tshark = tsharkAvailable();
const MB = 1024 * 1024;

/** FNV-1a, 32 bit. */
function fnv(h: number, d: Uint8Array): number {
  for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i]!, 0x01000193) >>> 0;
  return h;
}
const FNV_START = 0x811c9dc5;

/** Deterministic pseudo-random payload (xorshift), so a lost or misplaced byte changes the hash. */
function payload(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * A two-port middlebox that forwards frames and, with probability `p`, holds one back until the
 * next frame has passed (or 2 ms went by): links keep FIFO order, so reordering is made here.
 */
class Reorderer implements FrameSink, TimerTarget {
  readonly left: Port;
  readonly right: Port;
  private held: [Port, Uint8Array] | null = null;
  private timer = -1;
  reordered = 0;

  constructor(
    readonly engine: Engine,
    readonly p: number,
  ) {
    this.left = new Port(this, 'left', 0);
    this.right = new Port(this, 'right', 1);
  }

  onFrame(port: Port, frame: Uint8Array): void {
    const out = port === this.left ? this.right : this.left;
    if (this.held === null && this.engine.rng.random() < this.p) {
      this.held = [out, frame];
      this.timer = this.engine.after(2e6, this, 0);
      return;
    }
    out.send(frame);
    if (this.held !== null && this.held[0] === out) {
      this.reordered++;
      this.release();
    }
  }

  onTimer(): void {
    this.timer = -1;
    this.release();
  }

  private release(): void {
    if (this.held === null) return;
    const [out, f] = this.held;
    this.held = null;
    if (this.timer !== -1) this.engine.cancel(this.timer);
    this.timer = -1;
    out.send(f);
  }
}

/** Writes `data` as fast as the send buffer takes it, then half-closes. */
class Sender implements TcpSocketOwner {
  off = 0;
  connected = false;
  closed = false;
  error: TcpErrorCode | null = null;
  constructor(readonly data: Uint8Array) {}
  onConnect(s: TcpSocket): void {
    this.connected = true;
    this.pump(s);
  }
  onWritable(s: TcpSocket): void {
    this.pump(s);
  }
  onError(_s: TcpSocket, e: TcpErrorCode): void {
    this.error = e;
  }
  onEnd(s: TcpSocket): void {
    s.close();
  }
  onClose(): void {
    this.closed = true;
  }
  private pump(s: TcpSocket): void {
    while (this.off < this.data.length) {
      const n = s.send(this.data, this.off, Math.min(64 * 1024, this.data.length - this.off));
      this.off += n;
      if (n === 0) return;
    }
    s.shutdown();
  }
}

/** Hashes what arrives; closes when the sender's FIN came. */
class Receiver implements TcpSocketOwner {
  bytes = 0;
  hash = FNV_START;
  ended = false;
  closed = false;
  error: TcpErrorCode | null = null;
  onData(_s: TcpSocket, d: Uint8Array): void {
    this.bytes += d.length;
    this.hash = fnv(this.hash, d);
  }
  onEnd(s: TcpSocket): void {
    this.ended = true;
    s.close();
  }
  onError(_s: TcpSocket, e: TcpErrorCode): void {
    this.error = e;
  }
  onClose(): void {
    this.closed = true;
  }
}

interface TransferRun {
  sender: Sender;
  receiver: Receiver;
  client: TcpSocket;
  server: TcpSocket | null;
  a: TcpDirectHost;
  b: TcpDirectHost;
  pcap: Uint8Array;
  reordered: number;
  link1: Link;
  link2: Link;
  engine: Engine;
}

/**
 * a --link1(near)-- reorderer --link2(far)-- b; the capture is on link2, where b's traffic enters
 * and a's data arrives after every impairment.
 */
function transfer(size: number, near: Impairments, far: Impairments, reorderP: number, seed = 7, tcp: Partial<TcpConfig> = {}): TransferRun {
  const engine = new Engine({ seed });
  const a = new TcpDirectHost(engine, 'a', { ip: 0x0a000001, mac: 0x020000000001, tcp });
  const b = new TcpDirectHost(engine, 'b', { ip: 0x0a000002, mac: 0x020000000002, tcp });
  a.addNeighbour(b.ip, b.mac);
  b.addNeighbour(a.ip, a.mac);
  const mid = new Reorderer(engine, reorderP);
  const link1 = new Link(engine, 'a-mid', a.port, mid.left, near);
  const link2 = new Link(engine, 'mid-b', mid.right, b.port, far);
  const chunks: Uint8Array[] = [];
  const cap = new Capture(engine, { sink: (c) => chunks.push(c), snaplen: 96 });
  cap.attachLink(link2);
  const data = payload(size, seed);
  const sender = new Sender(data);
  const receiver = new Receiver();
  let server: TcpSocket | null = null;
  b.tcp.listen(5001, {
    onAccept(_l: TcpListener, s: TcpSocket) {
      server = s;
      s.owner = receiver;
    },
  });
  const client = a.tcp.connect(b.ip, 5001, sender);
  engine.runUntilCondition(() => (sender.closed && receiver.closed) || sender.error !== null || receiver.error !== null, 3600e9);
  cap.close();
  return { sender, receiver, client, server, a, b, pcap: concat(chunks), reordered: mid.reordered, link1, link2, engine };
}

function tsharkCount(file: string, filter: string): number {
  const out = execFileSync('/usr/bin/tshark', ['-n', '-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-Y', filter], {
    encoding: 'utf8',
    maxBuffer: 256 * MB,
  });
  return out.split('\n').filter((l) => l.trim() !== '').length;
}

describe('TCP bulk transfer', () => {
  it('moves 10 MB intact over a clean zero-delay cable, without a single retransmission', () => {
    const r = transfer(10 * MB, {}, {}, 0);
    expect(r.receiver.bytes).toBe(10 * MB);
    expect(r.receiver.hash).toBe(fnv(FNV_START, r.sender.data));
    expect(r.client.stats.retransmits).toBe(0);
    expect(r.a.tcp.stats.csumErrors + r.b.tcp.stats.csumErrors).toBe(0);
  });

  it('moves 10 MB intact through loss, duplication, reordering and a 10 Mbit/s bottleneck with a small queue', () => {
    const near: Impairments = { loss: 0.015, duplicate: 0.01, delayNs: 2e6, jitterNs: 1e6 };
    const far: Impairments = { delayNs: 3e6, rateBps: 10e6, queueBytes: 8 * 1514 };
    const r = transfer(10 * MB, near, far, 0.02);
    expect(r.sender.error).toBeNull();
    expect(r.receiver.error).toBeNull();
    expect(r.receiver.bytes).toBe(10 * MB);
    expect(r.receiver.hash).toBe(fnv(FNV_START, r.sender.data));
    // Every impairment really happened.
    expect(r.link1.stats(1).lost).toBeGreaterThan(50);
    expect(r.link1.stats(1).duplicated).toBeGreaterThan(20);
    expect(r.link2.stats(1).queueDrops).toBeGreaterThan(0);
    expect(r.reordered).toBeGreaterThan(20);
    // And TCP repaired it the way it should: mostly fast retransmits, some timeouts at most.
    const st = r.client.stats;
    expect(st.retransmits).toBeGreaterThan(50);
    expect(st.fastRetransmits).toBeGreaterThan(20);
    expect(r.server!.stats.outOfOrder).toBeGreaterThan(20);
    expect(r.a.tcp.stats.csumErrors + r.b.tcp.stats.csumErrors).toBe(0);
    // At 10 Mbit/s, 10 MB needs 8.4 s; recovery must not cost more than that again.
    expect(r.engine.now).toBeLessThan(20e9);

    if (!tshark.ok) {
      console.warn(`tshark checks skipped: ${tshark.reason}`);
      expect(process.env.CI, 'tshark must be installed in CI').not.toBe('true');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'wirelab-tcp-'));
    try {
      const file = join(dir, 'lossy.pcapng');
      writeFileSync(file, r.pcap);
      expect(tsharkCount(file, '_ws.malformed || tcp.checksum.status == 0 || ip.checksum.status == 0')).toBe(0);
      expect(tsharkCount(file, 'tcp.analysis.retransmission || tcp.analysis.fast_retransmission')).toBeGreaterThan(20);
      expect(tsharkCount(file, 'tcp.analysis.fast_retransmission')).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fills a 10 Mbit/s bottleneck with a 16-frame queue: tail drops, fast recovery, and most of the link used', () => {
    const far: Impairments = { delayNs: 5e6, rateBps: 10e6, queueBytes: 16 * 1514 };
    const r = transfer(10 * MB, { delayNs: 5e6 }, far, 0, 11);
    expect(r.receiver.bytes).toBe(10 * MB);
    expect(r.receiver.hash).toBe(fnv(FNV_START, r.sender.data));
    expect(r.link2.stats(1).queueDrops).toBeGreaterThan(0);
    expect(r.client.stats.fastRetransmits).toBeGreaterThan(0);
    // With SACK every dropped segment is sent again exactly once, and no timer ever fires.
    expect(r.a.tcp.stats.sackRecoveries).toBe(r.client.stats.fastRetransmits);
    expect(r.client.stats.retransmits).toBe(r.link2.stats(1).queueDrops);
    expect(r.client.stats.timeouts).toBe(0);
    // 10 MB at 10 Mbit/s is 8.9 s with headers: the link stays nearly always busy.
    expect(r.engine.now).toBeLessThan(9.5e9);
  });

  it('repairs the same bottleneck with NewReno when the peer does not do SACK', () => {
    const far: Impairments = { delayNs: 5e6, rateBps: 10e6, queueBytes: 16 * 1514 };
    const r = transfer(10 * MB, { delayNs: 5e6 }, far, 0, 11, { sack: false });
    expect(r.receiver.bytes).toBe(10 * MB);
    expect(r.receiver.hash).toBe(fnv(FNV_START, r.sender.data));
    expect(r.a.tcp.stats.sackRecoveries).toBe(0);
    expect(r.client.stats.fastRetransmits).toBeGreaterThan(0);
    expect(r.engine.now).toBeLessThan(12e9);
  });
});
