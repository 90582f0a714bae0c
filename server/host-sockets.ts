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
 */
import net from 'node:net';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { HostAdapterTapFactory, HostSocketError, HostSocketEvents, HostSockets } from '../devices/network/index.js';
import { type Ip4, ip4ToString, parseIp4 } from '../devices/wire/bytes.js';
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
}

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

  constructor(opts: NodeHostSocketsOptions = {}) {
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 60_000;
    this.resolvConf = opts.resolvConf ?? '/etc/resolv.conf';
    this.maxSockets = opts.maxSockets ?? 16_384;
    this.writeHighWater = opts.writeHighWater ?? 256 * 1024;
  }

  /** Host sockets open now (TCP connections, listeners, UDP sockets). */
  get openSockets(): number {
    return this.tcp.size + this.servers.size + this.udp.size;
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
