/**
 * `tcp.nat_goodput_gbps`: TCP goodput from an emulated host through a NAT network's gateway (.2)
 * to a server on the real host, in real time: bytes the host-side server received per wall-clock
 * second. The path is the whole of it: the guest's TCP, its link, the network's switch, the
 * gateway's TCP terminating the connection, and a node:net socket to the server.
 *
 * The server listens on one of this machine's own non-loopback addresses (the NAT never relays to
 * 127/8: that is the host adapter's job); with none, the figure is taken through the host
 * adapter (.1) to 127.0.0.1 instead, which uses the same relay.
 */
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { loadLabText } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import type { TcpSocket, TcpSocketOwner } from '../../devices/stack/tcp.js';
import { attachTcp } from '../../devices/stack/tcp-ip.js';
import { parseIp4 } from '../../devices/wire/bytes.js';
import { hostNetworking } from '../../server/host-sockets.js';
import type { Figure } from './run.js';

class Sender implements TcpSocketOwner {
  sent = 0;
  error: string | null = null;
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
  onError(_s: TcpSocket, e: string): void {
    this.error = e;
  }
  private pump(s: TcpSocket): void {
    while (this.sent < this.total) {
      const want = Math.min(this.chunk.length, this.total - this.sent);
      const n = s.send(this.chunk, 0, want);
      this.sent += n;
      if (n < want) return;
    }
    s.shutdown();
  }
}

function hostAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

/** Sends `total` bytes from the emulated host to a host-side server; returns the wall seconds it took. */
async function transfer(total: number): Promise<{ seconds: number; via: string }> {
  const addr = hostAddress();
  let received = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.on('data', (b: Buffer) => {
      received += b.length;
    });
    s.on('end', () => {
      s.end();
      if (received >= total) done();
    });
  });
  const listenOn = addr ?? '127.0.0.1';
  await new Promise<void>((r) => server.listen(0, listenOn, r));
  const port = (server.address() as net.AddressInfo).port;
  const loaded = loadLabText(
    `wirelab: 1
name: natbench
networks: { vmnet8: { type: nat, subnet: 192.168.208.0/24 } }
nodes:
  pc1: { kind: host, interfaces: { eth0: { network: vmnet8, ip: 192.168.208.10/24, gateway: 192.168.208.2 } } }
`,
    'lab.yaml',
  );
  if (!loaded.ok) throw new Error('bench lab does not load');
  const rt = new LabRuntime(loaded.lab, { time: 'real', ...hostNetworking() });
  rt.start();
  try {
    const tcp = attachTcp(rt.host('pc1')!.stack, { sendBuffer: 1 << 20, receiveBuffer: 1 << 20 });
    const sender = new Sender(new Uint8Array(64 * 1024).fill(0x5a), total);
    const dst = addr !== null ? parseIp4(addr)! : parseIp4('192.168.208.1')!;
    const t0 = performance.now();
    tcp.connect(dst, port, sender);
    await Promise.race([finished, new Promise((_, reject) => setTimeout(() => reject(new Error(`NAT bench: ${received}/${total} bytes after 120 s (${sender.error ?? 'no error'})`)), 120_000))]);
    return { seconds: (performance.now() - t0) / 1000, via: addr !== null ? 'nat' : 'host-adapter' };
  } finally {
    rt.stop();
    server.close();
  }
}

export async function natBench(): Promise<Figure[]> {
  await transfer(8 << 20); // warm-up: JIT, ARP, socket buffers
  const total = 256 << 20;
  const best = [];
  for (let i = 0; i < 3; i++) best.push((await transfer(total)).seconds);
  const seconds = Math.min(...best);
  return [{ name: 'tcp.nat_goodput_gbps', value: Number(((total * 8) / seconds / 1e9).toFixed(3)), unit: 'Gbit/s', target: 0.5 }];
}

if (process.argv[1]?.endsWith('nat.bench.js') || process.argv[1]?.endsWith('nat.bench.ts')) {
  for (const f of await natBench()) console.log(JSON.stringify(f));
}
