/**
 * A minimal IPv4 endpoint that carries only TCP, with static neighbours instead of ARP and no
 * routing: enough to put TCP on a real Ethernet cable (so captures show real frames) in tests
 * and benchmarks without the full IpStack. It writes the IPv4 and Ethernet headers into the
 * headroom TCP leaves in front of each segment, so a data segment costs one allocation.
 */
import type { Engine } from '../engine/engine.js';
import { Link, type Impairments } from '../engine/link.js';
import { Port, type FrameSink } from '../engine/port.js';
import { type Ip4, type Mac, checksum } from '../wire/bytes.js';
import { ETHERTYPE, putEthernetHeader } from '../wire/ethernet.js';
import { TcpLayer } from './tcp.js';
import type { TcpConfig, TcpIpLayer } from './tcp-types.js';

const ETH_HEADER = 14;
const IP_HEADER = 20;
const HEADROOM = ETH_HEADER + IP_HEADER;
const ETH_MIN_FRAME = 60;

export interface TcpDirectHostOptions {
  ip: Ip4;
  mac: Mac;
  mtu?: number;
  tcp?: Partial<TcpConfig>;
}

export class TcpDirectHost implements FrameSink, TcpIpLayer {
  readonly port: Port;
  readonly tcp: TcpLayer;
  readonly ip: Ip4;
  readonly mac: Mac;
  mtu: number;
  readonly headroom = HEADROOM;
  /** IPv4 address -> MAC, as a static ARP table. */
  readonly neighbours = new Map<Ip4, Mac>();
  private ipId = 0;
  /** Frames that were not IPv4/TCP for us, or malformed. */
  rxDropped = 0;
  /** Segments TCP sent to an address with no neighbour entry. */
  txNoNeighbour = 0;

  constructor(
    readonly engine: Engine,
    readonly name: string,
    opts: TcpDirectHostOptions,
  ) {
    this.ip = opts.ip >>> 0;
    this.mac = opts.mac;
    this.mtu = opts.mtu ?? 1500;
    this.port = new Port(this, 'eth0', 0);
    this.tcp = new TcpLayer(this, opts.tcp);
  }

  addNeighbour(ip: Ip4, mac: Mac): void {
    this.neighbours.set(ip >>> 0, mac);
  }

  // ---- TcpIpLayer

  sendSegment(src: Ip4, dst: Ip4, buf: Uint8Array, offset: number, length: number): void {
    const mac = this.neighbours.get(dst);
    if (mac === undefined) {
      this.txNoNeighbour++;
      return;
    }
    let frame = buf;
    let o = offset - HEADROOM;
    if (o !== 0 || buf.length !== HEADROOM + length) {
      frame = new Uint8Array(HEADROOM + length);
      frame.set(buf.subarray(offset, offset + length), HEADROOM);
      o = 0;
    }
    putEthernetHeader(frame, o, mac, this.mac, -1, ETHERTYPE.IPV4);
    const ip = o + ETH_HEADER;
    const total = IP_HEADER + length;
    frame[ip] = 0x45;
    frame[ip + 1] = 0;
    frame[ip + 2] = total >>> 8;
    frame[ip + 3] = total & 0xff;
    const id = this.ipId;
    this.ipId = (id + 1) & 0xffff;
    frame[ip + 4] = id >>> 8;
    frame[ip + 5] = id & 0xff;
    frame[ip + 6] = 0x40; // DF: TCP does path MTU discovery
    frame[ip + 7] = 0;
    frame[ip + 8] = 64;
    frame[ip + 9] = 6;
    frame[ip + 10] = 0;
    frame[ip + 11] = 0;
    put32(frame, ip + 12, src);
    put32(frame, ip + 16, dst);
    const c = checksum(frame, ip, IP_HEADER);
    frame[ip + 10] = c >>> 8;
    frame[ip + 11] = c & 0xff;
    if (frame.length < ETH_MIN_FRAME) {
      const padded = new Uint8Array(ETH_MIN_FRAME);
      padded.set(frame);
      frame = padded;
    }
    this.port.send(frame);
  }

  localAddressFor(): Ip4 {
    return this.ip;
  }

  mtuFor(): number {
    return this.mtu;
  }

  // ---- FrameSink

  onFrame(_port: Port, f: Uint8Array): void {
    if (f.length < ETH_HEADER + IP_HEADER || f[12] !== 0x08 || f[13] !== 0x00) {
      this.rxDropped++;
      return;
    }
    const dstMacHi = (f[0]! << 8) | f[1]!;
    const dstMacLo = ((f[2]! << 24) | (f[3]! << 16) | (f[4]! << 8) | f[5]!) >>> 0;
    if (dstMacHi * 0x1_0000_0000 + dstMacLo !== this.mac) {
      this.rxDropped++;
      return;
    }
    const ip = ETH_HEADER;
    const ihl = (f[ip]! & 0x0f) << 2;
    const total = (f[ip + 2]! << 8) | f[ip + 3]!;
    if (f[ip]! >>> 4 !== 4 || ihl < IP_HEADER || total < ihl || ip + total > f.length || f[ip + 9] !== 6) {
      this.rxDropped++;
      return;
    }
    // Fragments (MF or an offset) would need reassembly, which this endpoint does not do.
    if (((f[ip + 6]! & 0x3f) | f[ip + 7]!) !== 0 || checksum(f, ip, ihl) !== 0) {
      this.rxDropped++;
      return;
    }
    const dst = u32(f, ip + 16);
    if (dst !== this.ip) {
      this.rxDropped++;
      return;
    }
    this.tcp.receive(u32(f, ip + 12), dst, f, ip + ihl, total - ihl);
  }
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

export interface TcpDirectPair {
  a: TcpDirectHost;
  b: TcpDirectHost;
  link: Link;
}

/**
 * Two direct endpoints, 10.0.0.1 (02:00:00:00:00:01) and 10.0.0.2 (02:00:00:00:00:02), each
 * knowing the other, joined by one cable with `impairments`.
 */
export function tcpDirectPair(engine: Engine, impairments?: Impairments, tcp?: Partial<TcpConfig>): TcpDirectPair {
  const a = new TcpDirectHost(engine, 'a', { ip: 0x0a000001, mac: 0x02_00_00_00_00_01, tcp });
  const b = new TcpDirectHost(engine, 'b', { ip: 0x0a000002, mac: 0x02_00_00_00_00_02, tcp });
  a.addNeighbour(b.ip, b.mac);
  b.addNeighbour(a.ip, a.mac);
  const link = new Link(engine, 'a-b', a.port, b.port, impairments);
  return { a, b, link };
}
