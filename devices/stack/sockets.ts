/**
 * The socket layer: UDP sockets and ICMP echo ("ping") sockets. Each socket names an owner
 * object that receives its datagrams and the ICMP errors about what it sent; there are no
 * callbacks stored as closures, so a socket is data plus a reference to its owner.
 */
import { type Ip4, onesSum, pseudoHeaderSum, u16 } from '../wire/bytes.js';
import { ICMP_TYPE, buildIcmp } from '../wire/icmp.js';
import { IPPROTO } from '../wire/ipv4.js';
import { UDP_HEADER_LEN, encodeUdp } from '../wire/udp.js';
import type { IpStack } from './stack.js';
import type { IcmpErrorReport, IpInterface, ProtocolHandler, RxInfo, SendOptions, SendStatus } from './types.js';

/** What owns a UDP socket: a service, a DHCP client or server, a traceroute. */
export interface UdpOwner {
  /** `payload` is a view of the received frame: copy what you keep. `info` is valid only during the call. */
  onDatagram(socket: UdpSocket, srcIp: Ip4, srcPort: number, payload: Uint8Array, info: RxInfo): void;
  /** An ICMP error quoting a datagram this socket sent (port unreachable, time exceeded, ...). */
  onIcmpError?(socket: UdpSocket, report: IcmpErrorReport): void;
}

export interface UdpSendOptions extends SendOptions {
  /** Source address; 0 is allowed (a DHCP client before it has a lease). Default: chosen by route. */
  srcIp?: Ip4;
  /** Send out this interface whatever the routes say (SO_BINDTODEVICE); needed for 255.255.255.255. */
  iface?: IpInterface;
}

export interface UdpBindOptions {
  /** Accept only datagrams to this address (and broadcasts); 0 or absent: any. */
  localIp?: Ip4;
  /** Accept only datagrams arriving on this interface, and send out of it by default. */
  iface?: IpInterface;
}

export const EPHEMERAL_LOW = 49152;
export const EPHEMERAL_HIGH = 65535;

export class UdpSocket {
  open = true;
  /** The next socket on the same port bound to another interface (SO_BINDTODEVICE lets several share a port). */
  next: UdpSocket | null = null;
  rxDatagrams = 0;
  txDatagrams = 0;

  constructor(
    readonly layer: UdpLayer,
    readonly port: number,
    public owner: UdpOwner,
    readonly localIp: Ip4,
    readonly iface: IpInterface | null,
  ) {}

  sendTo(dst: Ip4, dstPort: number, payload: Uint8Array, opts: UdpSendOptions = {}): SendStatus {
    if (!this.open) return 'down';
    const stack = this.layer.stack;
    const iface = opts.iface ?? this.iface ?? undefined;
    const srcIp = opts.srcIp ?? (this.localIp !== 0 ? this.localIp : undefined);
    const route = stack.routeOutput(dst >>> 0, { srcIp, iface });
    if (typeof route === 'string') return route;
    if (UDP_HEADER_LEN + payload.length > 0xffff) {
      // Too long for the length field: encodeUdp refuses it with its EncodeError.
      encodeUdp({ srcPort: this.port, dstPort, payload }, new Uint8Array(0), 0, route.src, route.dst);
    }
    this.txDatagrams++;
    return stack.transmitUdp(route, this.port, dstPort, payload, opts);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.layer.release(this);
  }
}

/** UDP (RFC 768) demultiplexing by destination port; registered as protocol 17 of a stack. */
export class UdpLayer implements ProtocolHandler {
  readonly sockets = new Map<number, UdpSocket>();
  /** Datagrams dropped for a bad length field or checksum. */
  inErrors = 0;
  /** Datagrams for a port nobody listens on. */
  noPorts = 0;
  /**
   * Broadcast or multicast datagrams for a port nobody listens on: dropped unchecked, as Linux
   * does (IgnoredMulti in /proc/net/snmp): the checksum is only verified for a socket.
   */
  ignoredMulti = 0;

  constructor(readonly stack: IpStack) {}

  /**
   * Binds `port` (0: an ephemeral port in 49152..65535 picked with the engine's RNG). Sockets
   * bound to different interfaces may share a port; otherwise a taken port throws.
   */
  bind(owner: UdpOwner, port = 0, opts: UdpBindOptions = {}): UdpSocket {
    if (port === 0) port = this.ephemeralPort();
    if (!(port > 0 && port <= 65535)) throw new RangeError(`UDP port ${port}`);
    const iface = opts.iface ?? null;
    const first = this.sockets.get(port);
    for (let t: UdpSocket | null = first ?? null; t !== null; t = t.next) {
      if (iface === null || t.iface === null || t.iface === iface) throw new Error(`${this.stack.name}: UDP port ${port} is in use`);
    }
    const s = new UdpSocket(this, port, owner, (opts.localIp ?? 0) >>> 0, iface);
    s.next = first ?? null;
    this.sockets.set(port, s);
    return s;
  }

  isBound(port: number): boolean {
    return this.sockets.has(port);
  }

  private ephemeralPort(): number {
    const span = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
    if (this.sockets.size >= span) throw new Error(`${this.stack.name}: no free UDP port`);
    // Like Linux: a random start, then the next free port.
    let p = EPHEMERAL_LOW + this.stack.engine.rng.below(span);
    while (this.sockets.has(p)) p = p === EPHEMERAL_HIGH ? EPHEMERAL_LOW : p + 1;
    return p;
  }

  release(s: UdpSocket): void {
    let t: UdpSocket | null = this.sockets.get(s.port) ?? null;
    if (t === s) {
      if (s.next === null) this.sockets.delete(s.port);
      else this.sockets.set(s.port, s.next);
      return;
    }
    while (t !== null && t.next !== s) t = t.next;
    if (t) t.next = s.next;
  }

  /** The socket that takes a datagram to `port` arriving on `iface`. */
  private find(port: number, iface: IpInterface | null): UdpSocket | null {
    for (let t = this.sockets.get(port) ?? null; t !== null; t = t.next) if (t.iface === null || t.iface === iface) return t;
    return null;
  }

  /**
   * A broadcast or multicast datagram for a port nobody listens on (on `iface`): counted and
   * true, so that the stack drops it without more ado. False for anything else, which input()
   * then takes (a malformed header is counted there).
   */
  ignores(packet: Uint8Array, offset: number, length: number, iface: IpInterface): boolean {
    if (length < UDP_HEADER_LEN) return false;
    const ulen = u16(packet, offset + 4);
    if (ulen < UDP_HEADER_LEN || ulen > length || this.find(u16(packet, offset + 2), iface) !== null) return false;
    this.ignoredMulti++;
    return true;
  }

  input(packet: Uint8Array, offset: number, length: number, info: RxInfo): boolean {
    if (length < UDP_HEADER_LEN) {
      this.inErrors++;
      return true;
    }
    const ulen = u16(packet, offset + 4);
    if (ulen < UDP_HEADER_LEN || ulen > length) {
      this.inErrors++;
      return true;
    }
    const s = this.find(u16(packet, offset + 2), info.iface);
    if (s === null && info.ipGroup) {
      this.ignoredMulti++;
      return true;
    }
    if (u16(packet, offset + 6) !== 0) {
      const sum = onesSum(packet, offset, ulen, pseudoHeaderSum(info.srcIp, info.dstIp, IPPROTO.UDP, ulen));
      if (sum !== 0xffff) {
        this.inErrors++;
        return true;
      }
    }
    if (s === null || (s.localIp !== 0 && s.localIp !== info.dstIp && !info.broadcast)) {
      this.noPorts++;
      return false;
    }
    s.rxDatagrams++;
    s.owner.onDatagram(s, info.srcIp, u16(packet, offset), packet.subarray(offset + UDP_HEADER_LEN, offset + ulen), info);
    return true;
  }

  icmpError(report: IcmpErrorReport): void {
    const s = this.find(report.quotedSrcPort, report.iface);
    if (s !== null && s.owner.onIcmpError) s.owner.onIcmpError(s, report);
  }
}

/** What owns an ICMP echo socket: ping, or a check. */
export interface EchoOwner {
  /** `payload` is the echoed data (a view: copy what you keep); `info` is valid only during the call. */
  onEchoReply(socket: EchoSocket, srcIp: Ip4, seq: number, payload: Uint8Array, info: RxInfo): void;
  /** An ICMP error quoting an echo request of this socket; `report.quotedDstPort` is its sequence. */
  onIcmpError?(socket: EchoSocket, report: IcmpErrorReport): void;
}

export interface EchoSendOptions extends SendOptions {
  srcIp?: Ip4;
  iface?: IpInterface;
}

/** An ICMP echo socket (Linux's SOCK_DGRAM ICMP socket): replies and errors are matched by identifier. */
export class EchoSocket {
  open = true;

  constructor(
    readonly layer: EchoLayer,
    readonly id: number,
    public owner: EchoOwner,
  ) {}

  send(dst: Ip4, seq: number, payload: Uint8Array, opts: EchoSendOptions = {}): SendStatus {
    if (!this.open) return 'down';
    const stack = this.layer.stack;
    const route = stack.routeOutput(dst >>> 0, { srcIp: opts.srcIp, iface: opts.iface });
    if (typeof route === 'string') return route;
    const msg = buildIcmp({ type: ICMP_TYPE.ECHO_REQUEST, code: 0, id: this.id, seq, payload });
    return stack.transmit(route, IPPROTO.ICMP, msg, opts);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    if (this.layer.sockets.get(this.id) === this) this.layer.sockets.delete(this.id);
  }
}

export class EchoLayer {
  readonly sockets = new Map<number, EchoSocket>();

  constructor(readonly stack: IpStack) {}

  /** Opens an echo socket with identifier `id`, or a random free one. Throws when `id` is taken. */
  open(owner: EchoOwner, id?: number): EchoSocket {
    if (id === undefined) {
      if (this.sockets.size >= 65536) throw new Error('no free ICMP echo identifier');
      id = this.stack.engine.rng.below(65536);
      while (this.sockets.has(id)) id = (id + 1) & 0xffff;
    }
    if (this.sockets.has(id)) throw new Error(`${this.stack.name}: ICMP echo id ${id} is in use`);
    const s = new EchoSocket(this, id, owner);
    this.sockets.set(id, s);
    return s;
  }

  reply(id: number, srcIp: Ip4, seq: number, payload: Uint8Array, info: RxInfo): boolean {
    const s = this.sockets.get(id);
    if (s === undefined) return false;
    s.owner.onEchoReply(s, srcIp, seq, payload, info);
    return true;
  }

  error(report: IcmpErrorReport): void {
    const s = this.sockets.get(report.quotedSrcPort);
    if (s !== undefined && s.owner.onIcmpError) s.owner.onIcmpError(s, report);
  }
}
