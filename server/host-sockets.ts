/**
 * The host's own sockets for the lab's NAT gateways (.2) and host adapters (.1): the HostSockets
 * interface of devices/network, made of node:net and node:dgram. No privilege is needed, as with
 * VMware's NAT service and QEMU's slirp: the lab's connections leave as this process's own.
 *
 *   const { hostSockets, hostAdapterTap } = hostNetworking({ onError: (net, msg) => log.warn(msg) });
 *   new LabRuntime(lab, { hostSockets, hostAdapterTap });
 *
 * TCP sockets are half-open capable (a FIN from one side leaves the other side talking), resets
 * are carried as resets (`resetAndDestroy`), and a connect that has no outcome within
 * `connectTimeoutMs` fails with ETIMEDOUT. Events are delivered from Node's callbacks as they
 * come; the devices queue them onto their engine.
 *
 * Pings (ICMP echo) need sockets Node does not have; the native addon opens them. Preferred is an
 * unprivileged ICMP datagram socket per flow (Linux, when net.ipv4.ping_group_range takes this
 * process's group, as systemd sets it on Debian and Ubuntu): the kernel picks the identifier and
 * hands each socket its own replies. Otherwise, with CAP_NET_RAW, one raw ICMP socket serves every
 * flow: each flow gets an identifier of its own, and replies are told apart by identifier and
 * source address. Without either, `icmpEchoSupport()` says why and no ping is relayed; sysctls
 * are never touched.
 */
import net from 'node:net';
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { HostAdapterTapFactory } from '../devices/lab/build-network.js';
import type { HostSocketError, HostSocketEvents, HostSockets, IcmpEchoSupport } from '../devices/network/index.js';
import { type Ip4, ip4ToString, onesSum, parseIp4, u16, u32 } from '../devices/wire/bytes.js';
import { ICMP_HEADER_LENGTH, ICMP_TYPE, buildIcmp } from '../devices/wire/icmp.js';
import { loadNetAddon, type NetAddon, type ReaderHandle } from './endpoints/native.js';
import { HostAdapterTap } from './nat-tap.js';

export interface NodeHostSocketsOptions {
  /** A connect with no outcome after this long fails with ETIMEDOUT (default 60 s; Linux gives up after about 130 s). */
  connectTimeoutMs?: number;
  /** Where the host's resolver is read from (default /etc/resolv.conf). */
  resolvConf?: string;
  /** Most host sockets open at once (all labs together); beyond it connects fail with EIO. */
  maxSockets?: number;
  /** Write buffer high-water mark of TCP sockets (default 256 KiB). */
  writeHighWater?: number;
  /**
   * How pings leave the host: `auto` (default) an unprivileged ICMP datagram socket, else a raw
   * one; `datagram` or `raw` only that way; `off` none.
   */
  icmp?: 'auto' | 'datagram' | 'raw' | 'off';
  /** Where the ping group range is read from for the reason a ping is not relayed (default /proc/sys/net/ipv4/ping_group_range). */
  pingGroupRange?: string;
}

interface IcmpEntry {
  events: HostSocketEvents;
  ip: Ip4;
  /** datagram: the flow's own socket; raw: -1 (the shared raw socket carries it). */
  fd: number;
  reader: ReaderHandle | null;
  /** raw: the identifier this flow's requests carry; datagram: 0 (the kernel puts its own). */
  ident: number;
}

/** Messages one read of an ICMP socket may return at once. */
const ICMP_BATCH = 16;

interface TcpEntry {
  socket: net.Socket;
  events: HostSocketEvents;
  error: HostSocketError | null;
  /** Let go by the lab: no more events. */
  silenced: boolean;
  /** Writes of this turn of the event loop are gathered into one writev. */
  corked: boolean;
}

const KNOWN_ERRORS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES', 'EPIPE']);

function errnoOf(e: unknown): HostSocketError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EPERM') return 'EACCES';
  return code !== undefined && KNOWN_ERRORS.has(code) ? (code as HostSocketError) : 'EIO';
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));
/** A negative errno from the addon, as the devices know errors. */
function errnoFromNative(n: number): HostSocketError {
  return errnoOf({ code: ERRNO_NAMES.get(-n) });
}

function uncork(e: TcpEntry): void {
  e.corked = false;
  e.socket.uncork();
}

function addressOf(text: string | undefined): Ip4 {
  if (text === undefined) return 0;
  return parseIp4(text.startsWith('::ffff:') ? text.slice(7) : text) ?? 0;
}

export class NodeHostSockets implements HostSockets {
  private next = 1;
  private readonly tcp = new Map<number, TcpEntry>();
  private readonly servers = new Map<number, net.Server>();
  private readonly udp = new Map<number, dgram.Socket>();
  private readonly connectTimeoutMs: number;
  private readonly resolvConf: string;
  private readonly maxSockets: number;
  private readonly writeHighWater: number;
  private resolverCache: { at: number; value: { ip: Ip4; port: number } | null } | null = null;
  private readonly icmpMode: NonNullable<NodeHostSocketsOptions['icmp']>;
  private readonly pingGroupRange: string;
  private icmpSupport: IcmpEchoSupport | null = null;
  private addon: NetAddon | null = null;
  private readonly icmp = new Map<number, IcmpEntry>();
  /** The raw ICMP socket, open while a raw flow is. */
  private raw: { fd: number; reader: ReaderHandle } | null = null;
  private readonly rawByIdent = new Map<number, number>();
  /** Where the search for a free identifier starts: random, so that two servers on one host seldom pick alike. */
  private nextIdent = randomInt(0x10000);

  constructor(opts: NodeHostSocketsOptions = {}) {
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 60_000;
    this.resolvConf = opts.resolvConf ?? '/etc/resolv.conf';
    this.maxSockets = opts.maxSockets ?? 16_384;
    this.writeHighWater = opts.writeHighWater ?? 256 * 1024;
    this.icmpMode = opts.icmp ?? 'auto';
    this.pingGroupRange = opts.pingGroupRange ?? '/proc/sys/net/ipv4/ping_group_range';
  }

  /** Host sockets open now (TCP connections, listeners, UDP sockets, ping flows). */
  get openSockets(): number {
    return this.tcp.size + this.servers.size + this.udp.size + this.icmp.size;
  }

  // ---------------------------------------------------------------- TCP

  tcpConnect(events: HostSocketEvents, ip: Ip4, port: number): number {
    const h = this.next++;
    if (this.openSockets >= this.maxSockets) {
      queueMicrotask(() => events.onHostTcpClosed(h, 'EIO'));
      return h;
    }
    const socket = new net.Socket({ allowHalfOpen: true, writableHighWaterMark: this.writeHighWater } as net.SocketConstructorOpts);
    const entry = this.wire(h, socket, events);
    socket.setNoDelay(true);
    socket.setTimeout(this.connectTimeoutMs, () => {
      entry.error = 'ETIMEDOUT';
      socket.destroy();
    });
    socket.once('connect', () => {
      socket.setTimeout(0);
      if (!entry.silenced) events.onHostTcpConnected(h);
    });
    socket.connect({ host: ip4ToString(ip), port });
    return h;
  }

  private wire(h: number, socket: net.Socket, events: HostSocketEvents): TcpEntry {
    const entry: TcpEntry = { socket, events, error: null, silenced: false, corked: false };
    this.tcp.set(h, entry);
    socket.on('data', (b: Buffer) => {
      if (!entry.silenced) events.onHostTcpData(h, b);
    });
    socket.on('end', () => {
      if (!entry.silenced) events.onHostTcpEnd(h);
    });
    socket.on('drain', () => {
      if (!entry.silenced) events.onHostTcpDrain(h);
    });
    socket.on('error', (e) => {
      entry.error ??= errnoOf(e);
    });
    socket.on('close', (hadError) => {
      if (this.tcp.get(h) === entry) this.tcp.delete(h);
      if (!entry.silenced) events.onHostTcpClosed(h, entry.error ?? (hadError ? 'EIO' : null));
      entry.silenced = true;
    });
    return entry;
  }

  tcpWrite(handle: number, data: Uint8Array): boolean {
    const e = this.tcp.get(handle);
    // A socket on its way out says so with its close event; the lab need not wait for a drain.
    if (!e || e.socket.destroyed || e.socket.writableEnded) return true;
    // The lab hands over one segment at a time; a system call each would cost more than the lab itself.
    if (!e.corked) {
      e.corked = true;
      e.socket.cork();
      process.nextTick(uncork, e);
    }
    return e.socket.write(data);
  }

  tcpEnd(handle: number): void {
    const e = this.tcp.get(handle);
    if (e && !e.socket.destroyed) e.socket.end();
  }

  tcpPause(handle: number): void {
    this.tcp.get(handle)?.socket.pause();
  }

  tcpResume(handle: number): void {
    this.tcp.get(handle)?.socket.resume();
  }

  tcpReset(handle: number): void {
    const e = this.tcp.get(handle);
    if (!e) return;
    e.silenced = true;
    this.tcp.delete(handle);
    if (e.socket.destroyed) return;
    // A socket still connecting has no connection to reset yet.
    if (e.socket.connecting) e.socket.destroy();
    else e.socket.resetAndDestroy();
  }

  tcpClose(handle: number): void {
    const e = this.tcp.get(handle);
    if (!e) return;
    e.silenced = true;
    this.tcp.delete(handle);
    const s = e.socket;
    if (s.destroyed) return;
    // Queued bytes still go out, then FIN; a peer that never closes its side is cut after a while.
    s.end();
    s.resume();
    s.setTimeout(30_000, () => s.destroy());
  }

  tcpListen(events: HostSocketEvents, ip: Ip4, port: number): number {
    const lh = this.next++;
    const server = net.createServer({ allowHalfOpen: true });
    this.servers.set(lh, server);
    server.on('connection', (socket) => {
      if (this.servers.get(lh) !== server || this.openSockets >= this.maxSockets) {
        socket.resetAndDestroy();
        return;
      }
      const h = this.next++;
      this.wire(h, socket, events);
      socket.setNoDelay(true);
      events.onHostTcpAccepted(lh, h, addressOf(socket.remoteAddress), socket.remotePort ?? 0);
    });
    server.on('error', (e) => {
      if (this.servers.get(lh) !== server) return;
      this.servers.delete(lh);
      server.close();
      events.onHostListenError(lh, errnoOf(e), `cannot listen on TCP ${ip4ToString(ip)}:${port}: ${(e as Error).message}`);
    });
    server.listen({ host: ip4ToString(ip), port, exclusive: true });
    return lh;
  }

  listenClose(handle: number): void {
    const s = this.servers.get(handle);
    if (!s) return;
    this.servers.delete(handle);
    s.close();
  }

  // ---------------------------------------------------------------- UDP

  udpOpen(events: HostSocketEvents, bind?: { ip: Ip4; port: number }): number {
    const h = this.next++;
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    this.udp.set(h, socket);
    socket.on('message', (msg, rinfo) => {
      if (this.udp.get(h) === socket) events.onHostUdpDatagram(h, addressOf(rinfo.address), rinfo.port, msg);
    });
    socket.on('error', (e) => {
      if (this.udp.get(h) !== socket) return;
      // A bound socket (a port forward) that fails is gone; a flow's socket keeps going (an ICMP error is not fatal).
      if (bind !== undefined) {
        this.udp.delete(h);
        socket.close();
        events.onHostListenError(h, errnoOf(e), `cannot use UDP ${ip4ToString(bind.ip)}:${bind.port}: ${e.message}`);
      }
    });
    if (bind !== undefined) socket.bind({ address: ip4ToString(bind.ip), port: bind.port, exclusive: true });
    else socket.bind(0);
    return h;
  }

  udpSend(handle: number, ip: Ip4, port: number, data: Uint8Array): void {
    const s = this.udp.get(handle);
    if (!s) return;
    s.send(data, port, ip4ToString(ip), () => {
      // Unreachable peers and full buffers lose a datagram, as UDP does.
    });
  }

  udpClose(handle: number): void {
    const s = this.udp.get(handle);
    if (!s) return;
    this.udp.delete(handle);
    try {
      s.close();
    } catch {
      // already closed by an error
    }
  }

  // ---------------------------------------------------------------- ICMP echo

  icmpEchoSupport(): IcmpEchoSupport {
    if (this.icmpSupport !== null) return this.icmpSupport;
    return (this.icmpSupport = this.probeIcmp());
  }

  /** Tries the ways out in order of preference; the sockets opened to try are closed again. */
  private probeIcmp(): IcmpEchoSupport {
    if (this.icmpMode === 'off') return { via: null, reason: 'pings are not relayed: turned off (icmp: off)' };
    const load = loadNetAddon();
    if (!load.ok) return { via: null, reason: `pings are not relayed: they need the native addon (${load.reason})` };
    const addon = load.addon;
    this.addon = addon;
    const tried: string[] = [];
    for (const raw of this.icmpMode === 'auto' ? [false, true] : [this.icmpMode === 'raw']) {
      const fd = addon.openIcmp(raw);
      if (fd >= 0) {
        addon.close(fd);
        return { via: raw ? 'raw' : 'datagram', reason: null };
      }
      tried.push(`${raw ? 'a raw ICMP socket' : 'an ICMP datagram socket'}: ${ERRNO_NAMES.get(-fd) ?? `errno ${-fd}`}`);
    }
    return { via: null, reason: `pings are not relayed: ICMP needs CAP_NET_RAW or net.ipv4.ping_group_range ${this.pingRangeText()} (${tried.join('; ')})` };
  }

  private pingRangeText(): string {
    const gid = typeof process.getgid === 'function' ? process.getgid() : -1;
    try {
      const range = readFileSync(this.pingGroupRange, 'utf8').trim().split(/\s+/).join(' ');
      return `to take group ${gid} (it is "${range}")`;
    } catch {
      return `to take group ${gid}`;
    }
  }

  icmpEchoOpen(events: HostSocketEvents, ip: Ip4): number {
    const h = this.next++;
    const support = this.icmpEchoSupport();
    const addon = this.addon;
    const fail = (error: HostSocketError) => queueMicrotask(() => events.onHostIcmpEchoError(h, -1, error, true));
    if (support.via === null || addon === null) {
      fail('EACCES');
      return h;
    }
    if (this.openSockets >= this.maxSockets) {
      fail('EIO');
      return h;
    }
    if (support.via === 'datagram') {
      const fd = addon.openIcmp(false);
      if (fd < 0) {
        fail(errnoFromNative(fd));
        return h;
      }
      const entry: IcmpEntry = { events, ip, fd, reader: null, ident: 0 };
      const lengths = new Int32Array(ICMP_BATCH);
      entry.reader = addon.startReader(fd, false, ICMP_BATCH, lengths, (buf, count) => {
        let at = 0;
        for (let i = 0; i < count; i++) {
          const len = lengths[i]!;
          if (this.icmp.get(h) === entry) this.echoReply(h, entry, new Uint8Array(buf, at, len));
          at += len;
        }
      });
      this.icmp.set(h, entry);
      return h;
    }
    if (this.raw === null) {
      const fd = addon.openIcmp(true);
      if (fd < 0) {
        fail(errnoFromNative(fd));
        return h;
      }
      const lengths = new Int32Array(ICMP_BATCH);
      this.raw = { fd, reader: addon.startReader(fd, false, ICMP_BATCH, lengths, (buf, count) => this.rawBatch(new Uint8Array(buf), lengths, count)) };
    }
    let ident = this.nextIdent;
    while (this.rawByIdent.has(ident)) ident = (ident + 1) & 0xffff;
    this.nextIdent = (ident + 1) & 0xffff;
    this.rawByIdent.set(ident, h);
    this.icmp.set(h, { events, ip, fd: -1, reader: null, ident });
    return h;
  }

  /** Replies read from the raw socket: IP header, then ICMP; ours by identifier and source address. */
  private rawBatch(bytes: Uint8Array, lengths: Int32Array, count: number): void {
    let at = 0;
    for (let i = 0; i < count; i++) {
      const len = lengths[i]!;
      const packet = bytes.subarray(at, at + len);
      at += len;
      const hl = (packet[0]! & 0x0f) << 2;
      if (len < hl + ICMP_HEADER_LENGTH || packet[9] !== 1) continue;
      const h = this.rawByIdent.get(u16(packet, hl + 4));
      const entry = h === undefined ? undefined : this.icmp.get(h);
      if (entry === undefined || entry.ip !== u32(packet, 12)) continue;
      this.echoReply(h!, entry, packet.subarray(hl));
    }
  }

  /** An ICMP message read for a flow: an intact echo reply goes to the lab. */
  private echoReply(h: number, entry: IcmpEntry, msg: Uint8Array): void {
    if (msg.length < ICMP_HEADER_LENGTH || msg[0] !== ICMP_TYPE.ECHO_REPLY || msg[1] !== 0) return;
    // The kernel checks the checksums of what a ping socket gets, but not of a raw socket's copies.
    if (onesSum(msg, 0, msg.length) !== 0xffff) return;
    entry.events.onHostIcmpEchoReply(h, u16(msg, 6), msg.slice(ICMP_HEADER_LENGTH));
  }

  icmpEchoSend(handle: number, seq: number, payload: Uint8Array): void {
    const e = this.icmp.get(handle);
    const addon = this.addon;
    const fd = e === undefined ? -1 : e.fd >= 0 ? e.fd : (this.raw?.fd ?? -1);
    if (e === undefined || addon === null || fd < 0) return;
    // A ping socket puts its own identifier in and sums again; a raw socket sends these bytes as they are.
    const n = addon.sendTo(fd, buildIcmp({ type: ICMP_TYPE.ECHO_REQUEST, code: 0, id: e.ident, seq, payload }), e.ip);
    // A full socket buffer loses the request, as a busy link would.
    if (n >= 0 || ERRNO_NAMES.get(-n) === 'EAGAIN' || ERRNO_NAMES.get(-n) === 'ENOBUFS') return;
    const error = errnoFromNative(n);
    queueMicrotask(() => {
      if (this.icmp.get(handle) === e) e.events.onHostIcmpEchoError(handle, seq, error, false);
    });
  }

  icmpEchoClose(handle: number): void {
    const e = this.icmp.get(handle);
    if (e === undefined) return;
    this.icmp.delete(handle);
    const addon = this.addon!;
    if (e.fd >= 0) {
      if (e.reader !== null) addon.stopReader(e.reader);
      addon.close(e.fd);
      return;
    }
    this.rawByIdent.delete(e.ident);
    // The raw socket goes with its last flow: a watched fd would keep Node's event loop alive.
    if (this.rawByIdent.size === 0 && this.raw !== null) {
      addon.stopReader(this.raw.reader);
      addon.close(this.raw.fd);
      this.raw = null;
    }
  }

  // ---------------------------------------------------------------- DNS

  resolver(): { ip: Ip4; port: number } | null {
    const now = Date.now();
    if (this.resolverCache !== null && now - this.resolverCache.at < 5000) return this.resolverCache.value;
    let value: { ip: Ip4; port: number } | null = null;
    try {
      for (const line of readFileSync(this.resolvConf, 'utf8').split('\n')) {
        const m = /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
        const ip = m ? parseIp4(m[1]!) : null;
        if (ip !== null) {
          value = { ip, port: 53 };
          break;
        }
      }
    } catch {
      value = null;
    }
    this.resolverCache = { at: now, value };
    return value;
  }

  /** Closes everything (server shutdown). */
  closeAll(): void {
    for (const h of [...this.tcp.keys()]) this.tcpReset(h);
    for (const h of [...this.servers.keys()]) this.listenClose(h);
    for (const h of [...this.udp.keys()]) this.udpClose(h);
    for (const h of [...this.icmp.keys()]) this.icmpEchoClose(h);
  }
}

export interface HostNetworkingOptions extends NodeHostSocketsOptions {
  /** Told when a `host-adapter: tap` network's TAP cannot be made (no privilege...). */
  onError?: (network: string, message: string) => void;
}

/** What a runtime needs for NAT gateways and host adapters: spread it into RuntimeOptions. */
export function hostNetworking(opts: HostNetworkingOptions = {}): { hostSockets: NodeHostSockets; hostAdapterTap: HostAdapterTapFactory } {
  const hostSockets = new NodeHostSockets(opts);
  const hostAdapterTap: HostAdapterTapFactory = (engine, lab, net) =>
    new HostAdapterTap(engine, {
      name: `${net.name}-host`,
      lab: lab.name,
      network: net.name,
      ip: net.hostIp,
      prefix: net.subnet.prefix,
      ...(opts.onError ? { onError: (_e: unknown, message: string) => opts.onError!(net.name, message) } : {}),
    });
  return { hostSockets, hostAdapterTap };
}
