/**
 * TCP goodput: payload bytes delivered per wall-clock second between two endpoints joined by a
 * zero-delay path, in virtual time (so the figure is the cost of the stack itself: segmenting,
 * checksums, copies, ACK processing, frame handling).
 *
 * The path is one cable between two hosts of a lab loaded from lab.yaml text, as `wirelab run`
 * builds it; the harness figure keeps the TCP engine alone on a direct pair (no ARP, no IpStack).
 */
import { Engine } from '../../devices/engine/index.js';
import { formatLabErrors, loadLabText } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import { tcpDirectPair } from '../../devices/stack/tcp-direct.js';
import { parseIp4 } from '../../devices/wire/bytes.js';
import type { TcpLayer, TcpListener, TcpSocket, TcpSocketOwner } from '../../devices/stack/tcp.js';
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
      const want = Math.min(this.chunk.length, this.total - this.sent);
      const n = s.send(this.chunk, 0, want);
      this.sent += n;
      // A short write is continued from onWritable; a last piece shorter than a chunk is not one.
      if (n < want) return;
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

type Path = 'lab' | 'harness';

/**
 * The lab of `tcp.goodput_gbps`, as `wirelab run --time virtual` reads it: two hosts one cable
 * apart (links default to no delay, no loss, no rate limit).
 */
const LAB_YAML = `wirelab: 1
name: tcpbench
nodes:
  pc1: { kind: host, interfaces: { eth0: { ip: 10.0.0.1/24 } } }
  pc2: { kind: host, interfaces: { eth0: { ip: 10.0.0.2/24 } } }
links:
  - [pc1:eth0, pc2:eth0]
`;
const BUFFERS = { sendBuffer: 1 << 20, receiveBuffer: 1 << 20 };

interface Endpoints {
  engine: Engine;
  a: TcpLayer;
  b: TcpLayer;
  dst: number;
  stop(): void;
}

/** Two TCP layers one zero-delay cable apart: the hosts of a lab built from its lab file, or a pair of TcpDirectHosts. */
function endpoints(path: Path): Endpoints {
  if (path === 'harness') {
    const engine = new Engine({ seed: 1 });
    const p = tcpDirectPair(engine, undefined, BUFFERS);
    return { engine, a: p.a.tcp, b: p.b.tcp, dst: p.b.ip, stop: () => undefined };
  }
  const loaded = loadLabText(LAB_YAML, 'tcpbench/lab.yaml', { folderName: 'tcpbench' });
  if (!loaded.ok) throw new Error(`tcp bench lab does not load:\n${formatLabErrors(loaded.errors)}`);
  const rt = new LabRuntime(loaded.lab, { time: 'virtual' });
  rt.start();
  rt.engine.runFor(1e9); // the hosts come up (gratuitous ARP) before the figure starts
  const a = rt.host('pc1');
  const b = rt.host('pc2');
  if (!a || !b) throw new Error('tcp bench lab: pc1 and pc2 should be hosts');
  return { engine: rt.engine, a: a.tcp, b: b.tcp, dst: parseIp4('10.0.0.2')!, stop: () => rt.stop() };
}

/** Moves `total` bytes over a fresh connection; returns [bytes delivered, wall seconds]. */
function run(total: number, path: Path): [number, number] {
  const { engine, a, b, dst, stop } = endpoints(path);
  const sink = new Sink();
  const listener = b.listen(
    5001,
    {
      onAccept(_l: TcpListener, s: TcpSocket) {
        s.owner = sink;
      },
    },
    BUFFERS,
  );
  const chunk = new Uint8Array(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 0xff;
  const sender = new BulkSender(chunk, total);
  const t0 = performance.now();
  a.connect(dst, 5001, sender, BUFFERS);
  if (path === 'harness') {
    // Idle once the transfer, the closing handshake and TIME-WAIT are over (virtual time: free).
    engine.runUntilIdle(3600e9);
  } else {
    // A lab never goes idle (its hosts keep timers): run until the receiver has read the end.
    for (let slices = 0; !sink.ended && slices < 36_000; slices++) engine.runFor(100e6);
  }
  const seconds = (performance.now() - t0) / 1000;
  b.unlisten(listener);
  stop();
  if (sink.bytes !== total || !sink.ended) throw new Error(`tcp bench (${path}): ${sink.bytes} of ${total} bytes arrived`);
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
 * tcp.goodput_gbps: between the two hosts of a lab built from its lab file (each host's own TCP
 * layer and IpStack, which routes every segment and copies it into a frame of its own).
 * tcp.goodput_harness_gbps: the TCP engine alone with minimal framing (two TcpDirectHosts, which
 * write IPv4 and Ethernet into the headroom of each segment): no lab, no IpStack.
 */
export async function tcpBench(): Promise<Figure[]> {
  return [
    { name: 'tcp.goodput_gbps', value: goodputGbps('lab'), unit: 'Gbit/s', target: 1 },
    { name: 'tcp.goodput_harness_gbps', value: goodputGbps('harness'), unit: 'Gbit/s', target: 2 },
  ];
}
