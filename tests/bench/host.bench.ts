/**
 * devices.ping_rtt_per_s: ICMP echo round trips per CPU second between two hosts on a
 * zero-delay link, one request in flight at a time (each reply sends the next request). It
 * measures the whole host path both ways: echo socket, IPv4 output, ARP cache, Ethernet, the
 * engine's delivery queue, IPv4 input, the echo responder and reply demultiplexing.
 */
import { Engine, Link } from '../../devices/engine/index.js';
import type { EchoOwner, EchoSocket } from '../../devices/stack/index.js';
import { parseIp4 } from '../../devices/wire/bytes.js';
import type { Figure } from './run.js';
import { hostFrom } from '../helpers/devices.js';

class Volley implements EchoOwner {
  replies = 0;
  /** Stop sending once this many replies came back. */
  limit = 0;
  private readonly payload = new Uint8Array(56);
  constructor(readonly dst: number) {}
  onEchoReply(socket: EchoSocket, _src: number, seq: number): void {
    this.replies++;
    if (this.replies < this.limit) socket.send(this.dst, (seq + 1) & 0xffff, this.payload);
  }
}

function pingRoundTripsPerSecond(seconds: number): number {
  const engine = new Engine({ mode: 'virtual' });
  const a = hostFrom(engine, { name: 'a', interfaces: { eth0: { ip: '10.0.0.1/24' } } });
  const b = hostFrom(engine, { name: 'b', interfaces: { eth0: { ip: '10.0.0.2/24' } } });
  new Link(engine, 'a-b', a.port(), b.port());
  a.start();
  b.start();
  const dst = parseIp4('10.0.0.2')!;
  const volley = new Volley(dst);
  const sock = a.stack.echo.open(volley);
  const payload = new Uint8Array(56);
  // Each slice is a chain of n round trips at one virtual instant (zero-delay link): the reply
  // handler sends the next request until the limit, then the engine goes idle.
  const slice = (n: number): void => {
    volley.limit = volley.replies + n;
    sock.send(dst, 0, payload);
    engine.runUntilIdle(0);
  };
  slice(20_000); // warm-up
  // CPU time, not wall time: the figure should not depend on what else the machine runs.
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const start = cpu();
  const before = volley.replies;
  let now = start;
  while (now - start < seconds) {
    slice(20_000);
    now = cpu();
  }
  return (volley.replies - before) / (now - start);
}

export async function hostBench(): Promise<Figure[]> {
  const rate = pingRoundTripsPerSecond(2);
  return [{ name: 'devices.ping_rtt_per_s', value: Math.round(rate), unit: 'round-trips/s', target: 500_000 }];
}
