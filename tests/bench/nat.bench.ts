/**
 * `tcp.nat_goodput_gbps`: TCP goodput from an emulated host through a NAT network's gateway (.2)
 * to a server on the real host, in real time: bytes the host-side server received per wall-clock
 * second. The path is the whole of it: the guest's TCP, its link, the network's switch, the
 * gateway's TCP terminating the connection, and a node:net socket to the server.
 *
 * The server listens on one of this machine's own non-loopback addresses (the NAT never relays to
 * 127/8: that is the host adapter's job). Without such an address the NAT path cannot be
 * measured and the bench fails: it never reports another path under this name. It also fails
 * when the host-side server does not see the connection come from this machine itself (the
 * gateway's own socket), i.e. when the bytes did not cross the gateway's relay.
 */
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { loadLabText } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import type { TcpSocket, TcpSocketOwner } from '../../devices/stack/tcp.js';
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

const LAB_SUBNET = '192.168.208.0/24';

/** Sends `total` bytes from the emulated host through the NAT to a host-side server; returns the wall seconds it took. */
async function transfer(total: number): Promise<number> {
  const addr = hostAddress();
  if (addr === null) throw new Error('tcp.nat_goodput_gbps: this machine has no non-loopback IPv4 address, so the NAT path (gateway .2 to the host\'s sockets) is not available');
  if (addr.startsWith('192.168.208.')) throw new Error(`tcp.nat_goodput_gbps: this machine's address ${addr} is inside the bench lab's subnet ${LAB_SUBNET}; the NAT path would not be taken`);
  let received = 0;
  const peers = new Set<string>();
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const server = net.createServer((s) => {
    peers.add(s.remoteAddress ?? '?');
    s.on('error', () => {});
    s.on('data', (b: Buffer) => {
      received += b.length;
    });
    s.on('end', () => {
      s.end();
      if (received >= total) done();
    });
  });
  await new Promise<void>((r) => server.listen(0, addr, r));
  const port = (server.address() as net.AddressInfo).port;
  const loaded = loadLabText(
    `wirelab: 1
name: natbench
networks: { vmnet8: { type: nat, subnet: ${LAB_SUBNET} } }
nodes:
  pc1: { kind: host, interfaces: { eth0: { network: vmnet8, ip: 192.168.208.10/24, gateway: 192.168.208.2 } } }
`,
    'lab.yaml',
  );
  if (!loaded.ok) throw new Error('bench lab does not load');
  const rt = new LabRuntime(loaded.lab, { time: 'real', ...hostNetworking() });
  rt.start();
  try {
    // pc1's own TCP layer, with the buffers the other TCP figures use.
    const tcp = rt.host('pc1')!.tcp;
    const sender = new Sender(new Uint8Array(64 * 1024).fill(0x5a), total);
    const t0 = performance.now();
    tcp.connect(parseIp4(addr)!, port, sender, { sendBuffer: 1 << 20, receiveBuffer: 1 << 20 });
    let watch: ReturnType<typeof setInterval> | undefined;
    const failed = new Promise<never>((_, reject) => {
      watch = setInterval(() => {
        const waited = performance.now() - t0;
        if (sender.error !== null || waited > 120_000) {
          reject(new Error(`tcp.nat_goodput_gbps: the NAT path did not carry the transfer: ${received}/${total} bytes after ${(waited / 1000).toFixed(1)} s (${sender.error ?? 'no error'})`));
        }
      }, 100);
    });
    try {
      await Promise.race([finished, failed]);
    } finally {
      clearInterval(watch);
    }
    const seconds = (performance.now() - t0) / 1000;
    // The gateway relays with a socket of this process: the server sees this machine, never the lab's address.
    const foreign = [...peers].filter((p) => p.replace(/^::ffff:/, '') !== addr);
    if (foreign.length > 0) throw new Error(`tcp.nat_goodput_gbps: connection from ${foreign.join(', ')}, not through the NAT gateway's socket on ${addr}`);
    return seconds;
  } finally {
    rt.stop();
    server.close();
  }
}

export async function natBench(): Promise<Figure[]> {
  await transfer(8 << 20); // warm-up: JIT, ARP, socket buffers
  const total = 256 << 20;
  const best = [];
  for (let i = 0; i < 3; i++) best.push(await transfer(total));
  const seconds = Math.min(...best);
  return [{ name: 'tcp.nat_goodput_gbps', value: Number(((total * 8) / seconds / 1e9).toFixed(3)), unit: 'Gbit/s', target: 0.5 }];
}

if (process.argv[1]?.endsWith('nat.bench.js') || process.argv[1]?.endsWith('nat.bench.ts')) {
  for (const f of await natBench()) console.log(JSON.stringify(f));
}
