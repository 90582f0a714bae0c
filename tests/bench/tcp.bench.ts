/**
 * TCP goodput: payload bytes delivered per wall-clock second between two endpoints joined by a
 * zero-delay path, in virtual time (so the figure is the cost of the stack itself: segmenting,
 * checksums, copies, ACK processing, frame handling).
 *
 * The path is one direct cable between two TcpDirectHosts (IPv4 + Ethernet framing, no ARP);
 * once the switch and the IpStack hosts exist it can be re-pointed at them.
 */
import { Engine } from '../../devices/engine/index.js';
import { tcpDirectPair } from '../../devices/stack/tcp-direct.js';
import type { TcpListener, TcpSocket, TcpSocketOwner } from '../../devices/stack/tcp.js';
import type { Figure } from './run.js';

class BulkSender implements TcpSocketOwner {
  sent = 0;
  constructor(
    readonly chunk: Uint8Array,
    readonly total: number,
  ) {}
  onConnect(s: TcpSocket): void {
    this.pump(s);
  }
  onWritable(s: TcpSocket): void {
    this.pump(s);
  }
  private pump(s: TcpSocket): void {
    while (this.sent < this.total) {
      const n = s.send(this.chunk, 0, Math.min(this.chunk.length, this.total - this.sent));
      this.sent += n;
      if (n < this.chunk.length) return;
    }
    s.shutdown();
  }
}

class Sink implements TcpSocketOwner {
  bytes = 0;
  ended = false;
  /** Touches every byte the way an application reading it would; returned so it is not optimised away. */
  check = 0;
  onData(_s: TcpSocket, d: Uint8Array): void {
    this.bytes += d.length;
    this.check = (this.check + d[d.length - 1]!) | 0;
  }
  onEnd(s: TcpSocket): void {
    this.ended = true;
    s.close();
  }
}

/** Moves `total` bytes over a fresh connection; returns [bytes delivered, wall seconds]. */
function run(total: number): [number, number] {
  const engine = new Engine({ seed: 1 });
  const { a, b } = tcpDirectPair(engine, undefined, { sendBuffer: 1 << 20, receiveBuffer: 1 << 20 });
  const sink = new Sink();
  b.tcp.listen(5001, {
    onAccept(_l: TcpListener, s: TcpSocket) {
      s.owner = sink;
    },
  });
  const chunk = new Uint8Array(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 0xff;
  const sender = new BulkSender(chunk, total);
  const t0 = performance.now();
  a.tcp.connect(b.ip, 5001, sender);
  engine.runUntilCondition(() => sink.ended, 3600e9);
  const seconds = (performance.now() - t0) / 1000;
  if (sink.bytes !== total) throw new Error(`tcp bench: ${sink.bytes} of ${total} bytes arrived`);
  return [sink.bytes, seconds];
}

export async function tcpBench(): Promise<Figure[]> {
  run(64 << 20); // warm-up, so the figure measures optimised code
  let bytes = 0;
  let seconds = 0;
  while (seconds < 3) {
    const [n, s] = run(512 << 20);
    bytes += n;
    seconds += s;
  }
  return [{ name: 'tcp.goodput_gbps', value: Number(((bytes * 8) / seconds / 1e9).toFixed(3)), unit: 'Gbit/s', target: 2 }];
}
