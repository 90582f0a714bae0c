import { describe, expect, it } from 'vitest';
import { Engine, Link, Port, type FrameSink } from '../../devices/engine/index.js';
import { IpStack, type EchoOwner, type EchoSocket, type IcmpErrorReport, type RxInfo, type UdpOwner, type UdpSocket } from '../../devices/stack/index.js';
import { parseIp4 as ip, type Ip4 } from '../../devices/wire/bytes.js';
import { ETHERTYPE } from '../../devices/wire/ethernet.js';

/** A bare device: one stack, ports handed to it. */
class Box implements FrameSink {
  readonly stack: IpStack;
  readonly ports: Port[] = [];
  constructor(engine: Engine, name: string, nPorts = 1, forwarding = false) {
    this.stack = new IpStack(engine, { name, forwarding });
    for (let i = 0; i < nPorts; i++) {
      const p = new Port(this, `eth${i}`, i);
      this.ports.push(p);
      this.stack.addInterface(p, { mac: 0x020000000000 + name.charCodeAt(0) * 256 + i });
    }
  }
  onFrame(port: Port, frame: Uint8Array): void {
    this.stack.onFrame(port, frame);
  }
  addr(i: number, a: string, prefix: number): void {
    this.stack.setAddresses(this.stack.interfaces[i]!, [{ ip: ip(a)!, prefix }]);
  }
}

class Pinger implements EchoOwner {
  replies: { src: Ip4; seq: number; at: number; ttl: number; len: number }[] = [];
  errors: IcmpErrorReport[] = [];
  constructor(readonly engine: Engine) {}
  onEchoReply(_s: EchoSocket, src: Ip4, seq: number, payload: Uint8Array, info: RxInfo): void {
    this.replies.push({ src, seq, at: this.engine.now, ttl: info.ttl, len: payload.length });
  }
  onIcmpError(_s: EchoSocket, r: IcmpErrorReport): void {
    this.errors.push(r);
  }
}

function pair(engine: Engine): { a: Box; b: Box; link: Link; frames: Uint8Array[] } {
  const a = new Box(engine, 'a');
  const b = new Box(engine, 'b');
  const frames: Uint8Array[] = [];
  const link = new Link(engine, 'a-b', a.ports[0]!, b.ports[0]!);
  const orig = a.ports[0]!.send.bind(a.ports[0]!);
  a.ports[0]!.send = (f: Uint8Array) => {
    frames.push(f);
    orig(f);
  };
  a.addr(0, '10.0.0.1', 24);
  b.addr(0, '10.0.0.2', 24);
  a.stack.start();
  b.stack.start();
  return { a, b, link, frames };
}

describe('IpStack', () => {
  it('resolves with ARP and answers a ping', () => {
    const engine = new Engine();
    const { a, b, frames } = pair(engine);
    engine.runUntilIdle();
    frames.length = 0;
    const p = new Pinger(engine);
    const sock = a.stack.echo.open(p, 7);
    expect(sock.send(ip('10.0.0.2')!, 1, new Uint8Array(56))).toBe('queued');
    engine.runUntilIdle(10e9);
    expect(p.replies).toEqual([{ src: ip('10.0.0.2'), seq: 1, at: 0, ttl: 64, len: 56 }]);
    // An ARP request, then the echo request; 5 s later b re-checks the entry it learned from
    // the request (stale, as Linux keeps it) with a unicast request, which a answers.
    expect(frames.map((f) => (f[12]! << 8) | f[13]!)).toEqual([ETHERTYPE.ARP, ETHERTYPE.IPV4, ETHERTYPE.ARP]);
    expect(frames[0]![0]).toBe(0xff);
    expect(frames[2]![21]).toBe(2);
    expect(a.stack.arpLookup(a.stack.interfaces[0]!, ip('10.0.0.2')!)).toBe(b.stack.interfaces[0]!.mac);
    // b learned a from the request aimed at it (RFC 826).
    expect(b.stack.arpLookup(b.stack.interfaces[0]!, ip('10.0.0.1')!)).toBe(a.stack.interfaces[0]!.mac);
  });

  it('reports host unreachable after three ARP requests one second apart', () => {
    const engine = new Engine();
    const { a, frames } = pair(engine);
    engine.runUntilIdle();
    frames.length = 0;
    const p = new Pinger(engine);
    const sock = a.stack.echo.open(p, 9);
    sock.send(ip('10.0.0.99')!, 1, new Uint8Array(56));
    engine.runUntilIdle(10e9);
    expect(frames.length).toBe(3);
    expect(p.errors.map((e) => [e.type, e.code, e.local, e.quotedDstPort])).toEqual([[3, 1, true, 1]]);
    expect(engine.now).toBe(3e9);
  });
});

class Echoer implements UdpOwner {
  got: string[] = [];
  onDatagram(s: UdpSocket, src: Ip4, sport: number, payload: Uint8Array): void {
    this.got.push(new TextDecoder().decode(payload));
    s.sendTo(src, sport, payload);
  }
}
describe('UDP', () => {
  it('echoes and reports port unreachable', () => {
    const engine = new Engine();
    const { a, b } = pair(engine);
    const server = new Echoer();
    b.stack.udp.bind(server, 7);
    const client = new (class implements UdpOwner {
      got: string[] = [];
      errs: IcmpErrorReport[] = [];
      onDatagram(_s: UdpSocket, _src: Ip4, _sp: number, p: Uint8Array): void {
        this.got.push(new TextDecoder().decode(p));
      }
      onIcmpError(_s: UdpSocket, r: IcmpErrorReport): void {
        this.errs.push(r);
      }
    })();
    const s = a.stack.udp.bind(client, 0);
    expect(s.port).toBeGreaterThanOrEqual(49152);
    s.sendTo(ip('10.0.0.2')!, 7, new TextEncoder().encode('hello'));
    s.sendTo(ip('10.0.0.2')!, 9, new TextEncoder().encode('nobody'));
    engine.runUntilIdle(10e9);
    expect(server.got).toEqual(['hello']);
    expect(client.got).toEqual(['hello']);
    expect(client.errs.map((e) => [e.type, e.code, e.from, e.quotedDstPort])).toEqual([[3, 3, ip('10.0.0.2'), 9]]);
  });
});
