/**
 * TCP (RFC 9293) for one IPv4 stack. In brief:
 *
 *   const tcp = attachTcp(host.stack);                  // tcp-ip.ts: registers protocol 6 on an IpStack
 *   const tcp = new TcpLayer(ipLayer, config?);         // or over any TcpIpLayer (tcp-direct.ts for tests/bench)
 *
 *   tcp.listen(port, { onAccept(listener, socket) { socket.owner = me } }, { backlog, localIp, noDelay, sendBuffer, receiveBuffer })
 *   const s = tcp.connect(dstIp, dstPort, owner, { localIp, localPort, noDelay, sendBuffer, receiveBuffer })
 *     owner.onConnect(s) / onData(s, view) / onEnd(s) / onWritable(s) / onError(s, 'ECONNREFUSED'|...) / onClose(s)
 *   s.send(bytes) -> bytes accepted (onWritable when a short write can continue); s.shutdown(); s.close();
 *   s.abort(); s.pause(); s.resume(); s.setNoDelay(); s.info(); s.stats; s.stateName
 *   tcp.stop()                                          // host powered off: everything ends silently
 *
 * From IP: `receive(src, dst, buf, off, len)` for protocol 6 (checksum verified here) and
 * `icmpError({...})` for errors quoting our segments. To IP: `TcpIpLayer` (tcp-types.ts).
 *
 * What it does: the RFC 9293 state machine with TIME-WAIT of 2 MSL (60 s); ISNs from the engine's
 * RNG; options laid out as Linux does (MSS = MTU - 40, SACK_PERM, timestamps, window scale sized
 * from the receive buffer); RFC 7323 RTTM and PAWS; RFC 6298 RTO with Karn, 200 ms minimum (as
 * Linux; RFC 6298 says 1 s), exponential backoff and ETIMEDOUT after 15 retries (6 for SYNs);
 * RFC 5681 slow start and congestion avoidance from an initial window of 10 segments (RFC 6928);
 * SACK-based loss recovery (RFC 2018, RFC 6675), or NewReno (RFC 6582) with peers without SACK;
 * delayed ACKs (every second full segment, else 40 ms; at once for out-of-order data); Nagle and
 * silly-window avoidance on both sides; zero-window probing; out-of-order reassembly in place in
 * the receive ring; RFC 5961 reset/SYN/ACK checks with challenge ACKs; RFC 6191 TIME-WAIT reuse;
 * listen backlog; ICMP: unreachable aborts a connect, fragmentation-needed lowers the MSS (RFC
 * 1191), quotes of sequence numbers not in flight are ignored (RFC 5927).
 * Not done: keep-alives, urgent data (the URG flag is ignored), TCP Fast Open, ECN, D-SACK.
 *
 * This file: demultiplexing to connections and listeners, resets for segments nobody wants,
 * ephemeral ports, ICMP errors. The connection logic is in tcp-socket.ts.
 */
import type { Engine } from '../engine/engine.js';
import type { Ip4 } from '../wire/bytes.js';
import { TcpListener, TcpSocket, ACK, FIN, RST, SYN } from './tcp-socket.js';
import { tcpSegmentChecksumOk, tcpSegmentFillChecksum } from './tcp-sum.js';
import {
  TCP_DEFAULTS,
  TCP_STATE,
  type TcpConfig,
  type TcpConnectOptions,
  type TcpErrorCode,
  type TcpIcmpError,
  type TcpIpLayer,
  type TcpListenOptions,
  type TcpListenerOwner,
  type TcpSocketOwner,
  type TcpStats,
  newTcpStats,
} from './tcp-types.js';

export { TcpListener, TcpSocket } from './tcp-socket.js';
export * from './tcp-types.js';

export const EPHEMERAL_LOW = 49152;
export const EPHEMERAL_HIGH = 65535;

/** Options of one arriving segment, decoded into a reused scratch object (no allocation per segment). */
export interface TcpParsedOptions {
  /** -1 when absent. */
  mss: number;
  /** Window shift, -1 when absent. */
  ws: number;
  sackOk: boolean;
  ts: boolean;
  tsVal: number;
  tsEcr: number;
  /** SACK blocks (RFC 2018): `sackCount` [left, right) pairs in `sack`. */
  sackCount: number;
  sack: Float64Array;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

const SLAB_BYTES = 256 * 1024;

/** RFC 1191 7.1 plateaus, for a fragmentation-needed error from a router too old to give the MTU. */
const MTU_PLATEAUS = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

/** ICMP destination-unreachable codes as Linux's icmp_err_convert reports them. */
function unreachableError(code: number): TcpErrorCode {
  switch (code) {
    case 0:
    case 6:
    case 11:
      return 'ENETUNREACH';
    case 2:
      return 'ENOPROTOOPT';
    case 3:
      return 'ECONNREFUSED';
    case 9:
    case 10:
    case 13:
      return 'EACCES';
    default:
      return 'EHOSTUNREACH';
  }
}

export class TcpLayer {
  readonly engine: Engine;
  readonly config: TcpConfig;
  readonly stats: TcpStats = newTcpStats();
  /** Connections by localPort * 65536 + remotePort, chained through `nextInBucket`. */
  private readonly buckets = new Map<number, TcpSocket>();
  private readonly listenersByPort = new Map<number, TcpListener[]>();
  /** How many connections use each local port. */
  private readonly portUsers = new Map<number, number>();
  private readonly opt: TcpParsedOptions = { mss: -1, ws: -1, sackOk: false, ts: false, tsVal: 0, tsEcr: 0, sackCount: 0, sack: new Float64Array(8) };
  /** The connection of the previous segment: bulk transfers hit it nearly every time. */
  private last: TcpSocket | null = null;
  /** Connections in the tables (every state but CLOSED, TIME-WAIT included). */
  connectionCount = 0;
  /**
   * Segment buffers are carved from shared slabs: one ArrayBuffer per 256 KiB instead of one per
   * segment, which on a bulk transfer halves the allocation and GC cost. Regions are never reused.
   */
  private slab: ArrayBuffer | null = null;
  private slabPos = 0;

  constructor(
    readonly ip: TcpIpLayer,
    config: Partial<TcpConfig> = {},
  ) {
    this.engine = ip.engine;
    this.config = { ...TCP_DEFAULTS, ...config };
  }

  // ---------------------------------------------------------------- applications

  /** Listens on `port`. Throws EADDRINUSE when another listener has it. */
  listen(port: number, owner: TcpListenerOwner, opts: TcpListenOptions = {}): TcpListener {
    if (!(Number.isInteger(port) && port > 0 && port <= 65535)) throw new RangeError(`TCP port ${port}`);
    const localIp = (opts.localIp ?? 0) >>> 0;
    const list = this.listenersByPort.get(port) ?? [];
    for (const l of list) {
      if (l.localIp === 0 || localIp === 0 || l.localIp === localIp) throw new Error(`EADDRINUSE: TCP port ${port} is in use`);
    }
    const backlog = Math.max(1, opts.backlog ?? this.config.backlog);
    const socketOptions = { noDelay: opts.noDelay, sendBuffer: opts.sendBuffer, receiveBuffer: opts.receiveBuffer };
    const l = new TcpListener(this, port, localIp, backlog, owner, socketOptions);
    list.push(l);
    this.listenersByPort.set(port, list);
    return l;
  }

  /**
   * Opens a connection to dst:dstPort. The outcome arrives at the owner: onConnect, or onError
   * (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH) then onClose. Throws only for a local
   * misuse: a bad port, or a source port whose 4-tuple is in use (EADDRINUSE, TIME-WAIT included).
   */
  connect(dst: Ip4, dstPort: number, owner: TcpSocketOwner, opts: TcpConnectOptions = {}): TcpSocket {
    if (!(Number.isInteger(dstPort) && dstPort > 0 && dstPort <= 65535)) throw new RangeError(`TCP port ${dstPort}`);
    dst >>>= 0;
    const src = opts.localIp !== undefined ? opts.localIp >>> 0 : this.ip.localAddressFor(dst);
    this.stats.activeOpens++;
    if (src === null) {
      const s = new TcpSocket(this, owner, 0, opts.localPort ?? 0, dst, dstPort, opts);
      s.failLater('ENETUNREACH');
      return s;
    }
    let localPort = opts.localPort ?? 0;
    if (localPort === 0) localPort = this.ephemeralPort(src, dst, dstPort);
    else if (!(Number.isInteger(localPort) && localPort > 0 && localPort <= 65535)) throw new RangeError(`TCP port ${localPort}`);
    else if (this.lookup(src, localPort, dst, dstPort) !== null) {
      throw new Error(`EADDRINUSE: ${fmt(src)}:${localPort} -> ${fmt(dst)}:${dstPort} is in use`);
    }
    const s = new TcpSocket(this, owner, src, localPort, dst, dstPort, opts);
    this.insert(s);
    s.startConnect();
    return s;
  }

  /**
   * The host is powering off: every connection ends at once without a segment on the wire (a
   * dead machine sends no resets), owners hear ECONNABORTED, and listeners close.
   */
  stop(): void {
    for (const l of this.listeners()) l.close();
    for (const s of this.connections()) s.vanish();
  }

  /** Every connection in the tables, for consoles, snapshots and tests. */
  connections(): TcpSocket[] {
    const out: TcpSocket[] = [];
    for (const head of this.buckets.values()) for (let s: TcpSocket | null = head; s !== null; s = s.nextInBucket) out.push(s);
    return out;
  }

  listeners(): TcpListener[] {
    const out: TcpListener[] = [];
    for (const list of this.listenersByPort.values()) out.push(...list);
    return out;
  }

  // ---------------------------------------------------------------- from IP

  /**
   * A TCP segment addressed to us: buf[offset, offset+length) is the whole IPv4 payload. The
   * checksum is checked here. Segments nobody wants are answered with a reset.
   */
  receive(src: Ip4, dst: Ip4, b: Uint8Array, off: number, len: number): void {
    this.stats.inSegs++;
    if (len < 20) {
      this.stats.inErrs++;
      return;
    }
    const hlen = (b[off + 12]! >>> 4) << 2;
    if (hlen < 20 || hlen > len) {
      this.stats.inErrs++;
      return;
    }
    if (!tcpSegmentChecksumOk(b, off, len, src, dst)) {
      this.stats.csumErrors++;
      this.stats.inErrs++;
      return;
    }
    const srcPort = (b[off]! << 8) | b[off + 1]!;
    const dstPort = (b[off + 2]! << 8) | b[off + 3]!;
    const flags = b[off + 13]!;
    const opt = this.parseOptions(b, off, hlen);
    let s = this.last;
    if (s === null || s.localPort !== dstPort || s.remotePort !== srcPort || s.remoteIp !== src || s.localIp !== dst) {
      s = this.lookup(dst, dstPort, src, srcPort);
    }
    if (s !== null) {
      if (s.state === TCP_STATE.TIME_WAIT && (flags & (SYN | ACK | RST)) === SYN && this.timeWaitReusable(s, u32(b, off + 4), opt)) {
        // RFC 6191 / RFC 9293 3.6.1: a new incarnation may take over a TIME-WAIT 4-tuple.
        this.stats.timeWaitRecycled++;
        s.forget();
      } else {
        this.last = s;
        s.segmentArrived(b, off, len, hlen, opt);
        return;
      }
    }
    const l = this.findListener(dstPort, dst);
    if (l !== null) {
      this.listenArrived(l, src, dst, srcPort, dstPort, b, off, flags, opt);
      return;
    }
    this.stats.noPort++;
    if ((flags & RST) !== 0) return;
    // RFC 9293 3.10.7.1: the reset takes its numbers from the offending segment.
    if ((flags & ACK) !== 0) this.sendResetFor(dst, src, dstPort, srcPort, u32(b, off + 8), 0, false);
    else {
      const segLen = len - hlen + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
      this.sendResetFor(dst, src, dstPort, srcPort, 0, (u32(b, off + 4) + segLen) >>> 0, true);
    }
  }

  /** An ICMP error quoting one of our segments (RFC 5927 checks, RFC 1191 PMTU, RFC 1122 4.2.3.9). */
  icmpError(e: TcpIcmpError): void {
    const s = this.lookup(e.localIp >>> 0, e.localPort, e.remoteIp >>> 0, e.remotePort);
    if (s === null) return;
    const seq = e.seq >>> 0;
    if (((seq - s.sndUna) | 0) < 0 || ((seq - s.sndMax) | 0) >= 0) {
      // Not something we have in flight: forged or stale (RFC 5927 4.1).
      this.stats.icmpIgnored++;
      return;
    }
    if (e.type === 3 && e.code === 4) {
      let mtu = e.nextHopMtu;
      if (mtu < 68) {
        const current = s.pmtu > 0 ? s.pmtu : this.ip.mtuFor(s.remoteIp);
        mtu = MTU_PLATEAUS.find((p) => p < current) ?? 68;
      }
      s.pmtuDecreased(mtu);
      return;
    }
    if (e.type === 3) s.icmpError(unreachableError(e.code), true);
    else if (e.type === 11) s.icmpError('EHOSTUNREACH', true);
  }

  // ---------------------------------------------------------------- used by sockets

  /**
   * A zeroed buffer of `size` bytes for one outgoing segment, the first ip.headroom bytes free
   * for IP. Placed so that the TCP header (and so the IPv4 one before it) is 4-byte aligned,
   * which the checksum's 32-bit view relies on for speed.
   */
  allocSegment(size: number): Uint8Array {
    if (size > SLAB_BYTES / 4) return new Uint8Array(size);
    const skew = (4 - (this.ip.headroom & 3)) & 3;
    let start = ((this.slabPos + 3) & ~3) + skew;
    if (this.slab === null || start + size > SLAB_BYTES) {
      this.slab = new ArrayBuffer(SLAB_BYTES);
      start = skew;
    }
    this.slabPos = start + size;
    return new Uint8Array(this.slab, start, size);
  }

  newIss(): number {
    return this.engine.rng.nextU32();
  }

  /** A connection completed its handshake. */
  connectionEstablished(s: TcpSocket): void {
    const l = s.listener;
    if (l !== null && !s.listenerCounted) {
      s.listenerCounted = true;
      if (l.pending > 0) l.pending--;
    }
  }

  /** Removes a connection from the tables (it has reached CLOSED). */
  remove(s: TcpSocket): void {
    if (this.last === s) this.last = null;
    const key = s.localPort * 65536 + s.remotePort;
    let prev: TcpSocket | null = null;
    for (let c = this.buckets.get(key) ?? null; c !== null; prev = c, c = c.nextInBucket) {
      if (c !== s) continue;
      if (prev === null) {
        if (c.nextInBucket === null) this.buckets.delete(key);
        else this.buckets.set(key, c.nextInBucket);
      } else prev.nextInBucket = c.nextInBucket;
      c.nextInBucket = null;
      this.connectionCount--;
      const n = (this.portUsers.get(s.localPort) ?? 1) - 1;
      if (n <= 0) this.portUsers.delete(s.localPort);
      else this.portUsers.set(s.localPort, n);
      return;
    }
  }

  unlisten(l: TcpListener): void {
    const list = this.listenersByPort.get(l.port);
    if (list) {
      const i = list.indexOf(l);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.listenersByPort.delete(l.port);
    }
    for (const s of this.connections()) if (s.listener === l && s.state === TCP_STATE.SYN_RECEIVED) s.abort();
  }

  /** A bare reset (no connection state needed). */
  sendResetFor(localIp: Ip4, remoteIp: Ip4, localPort: number, remotePort: number, seq: number, ack: number, withAck: boolean): void {
    const hr = this.ip.headroom;
    const buf = this.allocSegment(hr + 20);
    const o = hr;
    buf[o] = localPort >>> 8;
    buf[o + 1] = localPort & 0xff;
    buf[o + 2] = remotePort >>> 8;
    buf[o + 3] = remotePort & 0xff;
    put32(buf, o + 4, seq);
    put32(buf, o + 8, withAck ? ack : 0);
    buf[o + 12] = 0x50;
    buf[o + 13] = RST | (withAck ? ACK : 0);
    tcpSegmentFillChecksum(buf, o, 20, localIp, remoteIp);
    this.stats.outRsts++;
    this.stats.outSegs++;
    this.ip.sendSegment(localIp, remoteIp, buf, o, 20);
  }

  // ---------------------------------------------------------------- internals

  private lookup(localIp: Ip4, localPort: number, remoteIp: Ip4, remotePort: number): TcpSocket | null {
    for (let s = this.buckets.get(localPort * 65536 + remotePort) ?? null; s !== null; s = s.nextInBucket) {
      if (s.remoteIp === remoteIp && s.localIp === localIp) return s;
    }
    return null;
  }

  private insert(s: TcpSocket): void {
    const key = s.localPort * 65536 + s.remotePort;
    s.nextInBucket = this.buckets.get(key) ?? null;
    this.buckets.set(key, s);
    this.connectionCount++;
    this.portUsers.set(s.localPort, (this.portUsers.get(s.localPort) ?? 0) + 1);
  }

  private findListener(port: number, dst: Ip4): TcpListener | null {
    const list = this.listenersByPort.get(port);
    if (list === undefined) return null;
    let wildcard: TcpListener | null = null;
    for (const l of list) {
      if (l.localIp === dst) return l;
      if (l.localIp === 0) wildcard = l;
    }
    return wildcard;
  }

  private listenArrived(
    l: TcpListener,
    src: Ip4,
    dst: Ip4,
    srcPort: number,
    dstPort: number,
    b: Uint8Array,
    off: number,
    flags: number,
    opt: TcpParsedOptions,
  ): void {
    if ((flags & RST) !== 0) return;
    if ((flags & ACK) !== 0) {
      this.sendResetFor(dst, src, dstPort, srcPort, u32(b, off + 8), 0, false);
      return;
    }
    if ((flags & SYN) === 0) return;
    if (l.pending >= l.backlog) {
      // Like Linux with a full queue: drop silently, the client's SYN retransmission tries again.
      l.drops++;
      this.stats.listenDrops++;
      return;
    }
    const s = new TcpSocket(this, null, dst, dstPort, src, srcPort, l.socketOptions);
    s.listener = l;
    l.pending++;
    this.insert(s);
    this.stats.passiveOpens++;
    s.acceptSyn(u32(b, off + 4), opt);
  }

  /** RFC 6191: a SYN may reopen a TIME-WAIT connection if it is clearly newer (timestamp or sequence). */
  private timeWaitReusable(s: TcpSocket, seq: number, opt: TcpParsedOptions): boolean {
    if (s.tsOk && opt.ts) return ((opt.tsVal - s.tsRecent) | 0) > 0;
    return ((seq - s.rcvNxt) | 0) > 0;
  }

  private ephemeralPort(src: Ip4, dst: Ip4, dstPort: number): number {
    const span = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
    const start = EPHEMERAL_LOW + this.engine.rng.below(span);
    // Like Linux: a random start, then the first port nobody uses; failing that, one whose 4-tuple is free.
    for (let i = 0; i < span; i++) {
      const p = EPHEMERAL_LOW + ((start - EPHEMERAL_LOW + i) % span);
      if (!this.portUsers.has(p) && !this.listenersByPort.has(p)) return p;
    }
    for (let i = 0; i < span; i++) {
      const p = EPHEMERAL_LOW + ((start - EPHEMERAL_LOW + i) % span);
      if (!this.listenersByPort.has(p) && this.lookup(src, p, dst, dstPort) === null) return p;
    }
    throw new Error('EADDRNOTAVAIL: no free ephemeral TCP port');
  }

  private parseOptions(b: Uint8Array, off: number, hlen: number): TcpParsedOptions {
    const o = this.opt;
    o.mss = -1;
    o.ws = -1;
    o.sackOk = false;
    o.ts = false;
    o.sackCount = 0;
    if (hlen === 20) return o;
    let p = off + 20;
    const end = off + hlen;
    // The layout of nearly every segment of a timestamped connection: NOP NOP TS.
    if (hlen === 32 && b[p] === 1 && b[p + 1] === 1 && b[p + 2] === 8 && b[p + 3] === 10) {
      o.ts = true;
      o.tsVal = u32(b, p + 4);
      o.tsEcr = u32(b, p + 8);
      return o;
    }
    while (p < end) {
      const kind = b[p]!;
      if (kind === 0) break;
      if (kind === 1) {
        p++;
        continue;
      }
      if (p + 1 >= end) break;
      const l = b[p + 1]!;
      if (l < 2 || p + l > end) break; // malformed: keep what was read so far
      if (kind === 2 && l === 4) o.mss = (b[p + 2]! << 8) | b[p + 3]!;
      else if (kind === 3 && l === 3) o.ws = b[p + 2]!;
      else if (kind === 4 && l === 2) o.sackOk = true;
      else if (kind === 5 && l >= 10 && (l - 2) % 8 === 0) {
        for (let q = p + 2; q < p + l && o.sackCount < 4; q += 8) {
          o.sack[2 * o.sackCount] = u32(b, q);
          o.sack[2 * o.sackCount + 1] = u32(b, q + 4);
          o.sackCount++;
        }
      }
      else if (kind === 8 && l === 10) {
        o.ts = true;
        o.tsVal = u32(b, p + 2);
        o.tsEcr = u32(b, p + 6);
      }
      p += l;
    }
    return o;
  }
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function fmt(ip: Ip4): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}
