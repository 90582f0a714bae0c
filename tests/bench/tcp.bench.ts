/**
 * TCP goodput: payload bytes delivered per wall-clock second between two endpoints joined by a
 * zero-delay path, in virtual time (so the figure is the cost of the stack itself: segmenting,
 * checksums, copies, ACK processing, frame handling).
 *
 * The path is one direct cable between two TcpDirectHosts (IPv4 + Ethernet framing, no ARP);
 * once the switch and the IpStack hosts exist it can be re-pointed at them.
 */
import { Engine, Link } from '../../devices/engine/index.js';
import { tcpDirectPair } from '../../devices/stack/tcp-direct.js';
import { attachTcp } from '../../devices/stack/tcp-ip.js';
import type { TcpLayer, TcpListener, TcpSocket, TcpSocketOwner } from '../../devices/stack/tcp.js';
import type { Figure } from './run.js';
import { hostFrom } from '../helpers/devices.js';

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

type Path = 'direct' | 'ipstack';

/** Two TCP layers one zero-delay cable apart: TcpDirectHosts, or Hosts with their IpStack (ARP resolved first). */
function endpoints(engine: Engine, path: Path): { a: TcpLayer; b: TcpLayer; dst: number } {
  const buffers = { sendBuffer: 1 << 20, receiveBuffer: 1 << 20 };
  if (path === 'direct') {
    const p = tcpDirectPair(engine, undefined, buffers);
    return { a: p.a.tcp, b: p.b.tcp, dst: p.b.ip };
  }
  const ha = hostFrom(engine, { name: 'a', interfaces: { eth0: { ip: '10.0.0.1/24' } } });
  const hb = hostFrom(engine, { name: 'b', interfaces: { eth0: { ip: '10.0.0.2/24' } } });
  new Link(engine, 'a-b', ha.port('eth0'), hb.port('eth0'));
  const a = attachTcp(ha.stack, buffers);
  const b = attachTcp(hb.stack, buffers);
  ha.start();
  hb.start();
  engine.runFor(1e6);
  return { a, b, dst: 0x0a000002 };
}

/** Moves `total` bytes over a fresh connection; returns [bytes delivered, wall seconds]. */
function run(total: number, path: Path): [number, number] {
  const engine = new Engine({ seed: 1 });
  const { a, b, dst } = endpoints(engine, path);
  const sink = new Sink();
  b.listen(5001, {
    onAccept(_l: TcpListener, s: TcpSocket) {
      s.owner = sink;
    },
  });
  const chunk = new Uint8Array(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 0xff;
  const sender = new BulkSender(chunk, total);
  const t0 = performance.now();
  a.connect(dst, 5001, sender);
  // Idle once the transfer, the closing handshake and TIME-WAIT are over (virtual time: free).
  engine.runUntilIdle(3600e9);
  const seconds = (performance.now() - t0) / 1000;
  if (sink.bytes !== total) throw new Error(`tcp bench: ${sink.bytes} of ${total} bytes arrived`);
  return [sink.bytes, seconds];
}

function goodputGbps(path: Path): number {
  run(64 << 20, path); // warm-up, so the figure measures optimised code
  let bytes = 0;
  let seconds = 0;
  while (seconds < 3) {
    const [n, s] = run(512 << 20, path);
    bytes += n;
    seconds += s;
  }
  return Number(((bytes * 8) / seconds / 1e9).toFixed(3));
}

/**
 * tcp.goodput_gbps: the TCP engine with minimal framing (TcpDirectHost writes IPv4 and Ethernet
 * into the headroom of each segment). tcp.goodput_ipstack_gbps: the same through two Hosts'
 * IpStacks, which route every segment and copy it into a frame of their own.
 */
export async function tcpBench(): Promise<Figure[]> {
  return [
    { name: 'tcp.goodput_gbps', value: goodputGbps('direct'), unit: 'Gbit/s', target: 2 },
    { name: 'tcp.goodput_ipstack_gbps', value: goodputGbps('ipstack'), unit: 'Gbit/s', target: 1 },
  ];
}
