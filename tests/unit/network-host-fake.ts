/**
 * An in-memory "real world" behind the HostSockets interface, for testing NAT gateways and host
 * adapters in virtual time: TCP servers and refusing or unreachable addresses, UDP peers, a DNS
 * resolver, clients dialling port forwards, and addresses that answer pings (the host's ICMP
 * socket choosing its own echo identifier, as a Linux ping socket does). Every event reaches the gateway through the
 * engine, `latencyNs` after its cause, so runs are deterministic.
 */
import type { Engine, TimerTarget } from '../../devices/engine/engine.js';
import { formatLabErrors, loadLabText } from '../../devices/lab/load.js';
import { LabRuntime, type RuntimeOptions } from '../../devices/lab/runtime.js';
import type { HostSocketError, HostSocketEvents, HostSockets, IcmpEchoSupport } from '../../devices/network/index.js';
import { type Ip4, ip4ToString } from '../../devices/wire/bytes.js';

/** One end of a host-side TCP connection, as a test drives it. */
export class FakeConn {
  received: Uint8Array[] = [];
  /** The lab side sent FIN. */
  gotEnd = false;
  /** The lab side reset (tcpReset) or let go (tcpClose). */
  gotReset = false;
  gotClose = false;
  /** Stops reading: writes pile up to `highWater`, then tcpWrite says false until resume(). */
  readPaused = false;
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  wantDrain = false;
  /** This side ended (FIN sent to the lab). */
  ended = false;
  closed = false;
  /** The lab paused our reading (tcpPause). */
  pausedByLab = false;
  private outQueue: Uint8Array[] = [];
  onData: ((c: FakeConn, d: Uint8Array) => void) | null = null;
  onEnd: ((c: FakeConn) => void) | null = null;

  constructor(
    readonly world: FakeHost,
    readonly handle: number,
    readonly events: HostSocketEvents,
    readonly remoteIp: Ip4,
    readonly remotePort: number,
  ) {}

  get text(): string {
    return Buffer.concat(this.received).toString('latin1');
  }

  get bytes(): number {
    return this.received.reduce((n, b) => n + b.length, 0);
  }

  /** Sends to the lab side (held while the lab has paused us). */
  write(data: Uint8Array | string): void {
    const d = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    if (this.pausedByLab) {
      this.outQueue.push(d);
      return;
    }
    this.world.later(() => this.events.onHostTcpData(this.handle, d));
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.world.later(() => {
      this.events.onHostTcpEnd(this.handle);
      if (this.gotEnd) this.finish(null);
    });
  }

  reset(): void {
    this.finish('ECONNRESET');
  }

  private finish(error: HostSocketError | null): void {
    if (this.closed) return;
    this.closed = true;
    this.world.later(() => this.events.onHostTcpClosed(this.handle, error));
  }

  // --- what the gateway does to us

  labWrite(data: Uint8Array): boolean {
    if (this.readPaused) {
      this.held.push(data.slice());
      this.heldBytes += data.length;
      if (this.heldBytes >= this.world.highWater) this.wantDrain = true;
      return this.heldBytes < this.world.highWater;
    }
    this.take(data.slice());
    return true;
  }

  private take(d: Uint8Array): void {
    this.received.push(d);
    this.onData?.(this, d);
  }

  resume(): void {
    this.readPaused = false;
    for (const d of this.held) this.take(d);
    this.held = [];
    this.heldBytes = 0;
    if (this.wantDrain) {
      this.wantDrain = false;
      this.world.later(() => this.events.onHostTcpDrain(this.handle));
    }
  }

  labEnd(): void {
    this.gotEnd = true;
    this.onEnd?.(this);
    if (this.ended) this.finish(null);
  }

  labPause(p: boolean): void {
    this.pausedByLab = p;
    if (!p) {
      const q = this.outQueue;
      this.outQueue = [];
      for (const d of q) this.write(d);
    }
  }
}

export type TcpServer = (conn: FakeConn) => void;

export interface SentDatagram {
  handle: number;
  toIp: Ip4;
  toPort: number;
  data: Uint8Array;
}

/** An echo request as it left the fake host: with the identifier the host chose. */
export interface SentEcho {
  handle: number;
  toIp: Ip4;
  ident: number;
  seq: number;
  payload: Uint8Array;
}

export class FakeHost implements HostSockets, TimerTarget {
  latencyNs = 1e6;
  highWater = 64 * 1024;
  /** TCP servers by `ip:port`. */
  readonly servers = new Map<string, TcpServer>();
  /** Addresses whose connects fail with this error (instead of ECONNREFUSED for no server). */
  readonly failures = new Map<Ip4, HostSocketError>();
  /** UDP peers by `ip:port`: return a reply, or null for none. */
  readonly udpPeers = new Map<string, (data: Uint8Array, fromPort: number) => Uint8Array | null>();
  /** Every connect the gateway asked for, as `ip:port`. */
  readonly connects: string[] = [];
  readonly conns = new Map<number, FakeConn>();
  readonly listeners = new Map<number, { events: HostSocketEvents; ip: Ip4; port: number; open: boolean }>();
  readonly udpSockets = new Map<number, { events: HostSocketEvents; bind: { ip: Ip4; port: number } | null; port: number; open: boolean }>();
  readonly sent: SentDatagram[] = [];
  resolverAddress: { ip: Ip4; port: number } | null = null;
  /** How pings leave this host (set `{ via: null, reason }` for a host that cannot send ICMP). */
  icmpSupport: IcmpEchoSupport = { via: 'datagram', reason: null };
  /**
   * Addresses that answer pings: given the request's data, the reply's data (the request's own
   * for a plain echo), or null for no answer. Requests to `failures` addresses fail with that error.
   */
  readonly pingable = new Map<Ip4, (payload: Uint8Array) => Uint8Array | null>();
  readonly echoes: SentEcho[] = [];
  readonly icmpSockets = new Map<number, { events: HostSocketEvents; ip: Ip4; ident: number; open: boolean; failed: boolean }>();
  /** icmpEchoOpen fails (fatally) with this error when set. */
  icmpOpenError: HostSocketError | null = null;
  private nextHandle = 1;
  private nextPort = 40000;
  private readonly pending: (() => void)[] = [];

  /** Set once the lab's engine exists (the runtime makes it). */
  engine: Engine | null = null;

  later(fn: () => void): void {
    this.pending.push(fn);
    this.engine!.after(this.latencyNs, this, 0);
  }

  onTimer(): void {
    this.pending.shift()?.();
  }

  // --- HostSockets

  tcpConnect(events: HostSocketEvents, ip: Ip4, port: number): number {
    const handle = this.nextHandle++;
    this.connects.push(`${ip4ToString(ip)}:${port}`);
    const conn = new FakeConn(this, handle, events, ip, port);
    this.conns.set(handle, conn);
    const server = this.servers.get(`${ip4ToString(ip)}:${port}`);
    const failure = this.failures.get(ip);
    this.later(() => {
      if (failure !== undefined || server === undefined) {
        conn.closed = true;
        events.onHostTcpClosed(handle, failure ?? 'ECONNREFUSED');
        return;
      }
      events.onHostTcpConnected(handle);
      server(conn);
    });
    return handle;
  }

  tcpWrite(handle: number, data: Uint8Array): boolean {
    const c = this.conns.get(handle);
    return c ? c.labWrite(data) : false;
  }
  tcpEnd(handle: number): void {
    this.conns.get(handle)?.labEnd();
  }
  tcpPause(handle: number): void {
    this.conns.get(handle)?.labPause(true);
  }
  tcpResume(handle: number): void {
    this.conns.get(handle)?.labPause(false);
  }
  tcpReset(handle: number): void {
    const c = this.conns.get(handle);
    if (c) {
      c.gotReset = true;
      c.closed = true;
    }
  }
  tcpClose(handle: number): void {
    const c = this.conns.get(handle);
    if (c) {
      c.gotClose = true;
      c.closed = true;
    }
  }

  tcpListen(events: HostSocketEvents, ip: Ip4, port: number): number {
    const handle = this.nextHandle++;
    this.listeners.set(handle, { events, ip, port, open: true });
    return handle;
  }

  listenClose(handle: number): void {
    const l = this.listeners.get(handle);
    if (l) l.open = false;
  }

  udpOpen(events: HostSocketEvents, bind?: { ip: Ip4; port: number }): number {
    const handle = this.nextHandle++;
    this.udpSockets.set(handle, { events, bind: bind ?? null, port: bind?.port ?? this.nextPort++, open: true });
    return handle;
  }

  udpSend(handle: number, ip: Ip4, port: number, data: Uint8Array): void {
    const s = this.udpSockets.get(handle);
    if (!s || !s.open) throw new Error(`udpSend on closed handle ${handle}`);
    this.sent.push({ handle, toIp: ip, toPort: port, data: data.slice() });
    const peer = this.udpPeers.get(`${ip4ToString(ip)}:${port}`);
    if (!peer) return;
    const reply = peer(data, s.port);
    if (reply) this.later(() => s.open && s.events.onHostUdpDatagram(handle, ip, port, reply));
  }

  udpClose(handle: number): void {
    const s = this.udpSockets.get(handle);
    if (s) s.open = false;
  }

  resolver(): { ip: Ip4; port: number } | null {
    return this.resolverAddress;
  }

  icmpEchoSupport(): IcmpEchoSupport {
    return this.icmpSupport;
  }

  icmpEchoOpen(events: HostSocketEvents, ip: Ip4): number {
    const handle = this.nextHandle++;
    // A ping socket's identifier is its local "port", nothing like the guest's.
    const failure = this.icmpOpenError;
    this.icmpSockets.set(handle, { events, ip, ident: 0x8000 + handle, open: true, failed: failure !== null });
    if (failure !== null) this.later(() => events.onHostIcmpEchoError(handle, -1, failure, true));
    return handle;
  }

  icmpEchoSend(handle: number, seq: number, payload: Uint8Array): void {
    const s = this.icmpSockets.get(handle);
    if (!s || !s.open) throw new Error(`icmpEchoSend on closed handle ${handle}`);
    // Like a socket that never opened: the request goes nowhere.
    if (s.failed) return;
    this.echoes.push({ handle, toIp: s.ip, ident: s.ident, seq, payload: payload.slice() });
    const failure = this.failures.get(s.ip);
    if (failure !== undefined) {
      this.later(() => s.open && s.events.onHostIcmpEchoError(handle, seq, failure, false));
      return;
    }
    const answer = this.pingable.get(s.ip)?.(payload);
    if (answer) this.later(() => s.open && s.events.onHostIcmpEchoReply(handle, seq, answer));
  }

  icmpEchoClose(handle: number): void {
    const s = this.icmpSockets.get(handle);
    if (s) s.open = false;
  }

  openIcmpCount(): number {
    return [...this.icmpSockets.values()].filter((s) => s.open).length;
  }

  // --- the outside world acting

  /** A client on the host connects to a port forward's listener at ip:port. */
  dial(ip: Ip4, port: number, fromPort = 50000 + this.nextHandle): FakeConn {
    const entry = [...this.listeners.entries()].find(([, l]) => l.open && l.ip === ip && l.port === port);
    if (!entry) throw new Error(`nothing listens on ${ip4ToString(ip)}:${port}`);
    const [lh, l] = entry;
    const handle = this.nextHandle++;
    const conn = new FakeConn(this, handle, l.events, 0x7f000001, fromPort);
    this.conns.set(handle, conn);
    this.later(() => l.events.onHostTcpAccepted(lh, handle, 0x7f000001, fromPort));
    return conn;
  }

  /** A datagram from fromIp:fromPort to the UDP socket bound at ip:port (a UDP port forward). */
  sendTo(ip: Ip4, port: number, fromIp: Ip4, fromPort: number, data: Uint8Array): void {
    const entry = [...this.udpSockets.entries()].find(([, s]) => s.open && s.bind !== null && s.bind.ip === ip && s.bind.port === port);
    if (!entry) throw new Error(`no UDP socket on ${ip4ToString(ip)}:${port}`);
    const [h, s] = entry;
    this.later(() => s.events.onHostUdpDatagram(h, fromIp, fromPort, data));
  }

  openUdpCount(): number {
    return [...this.udpSockets.values()].filter((s) => s.open && s.bind === null).length;
  }
}

/** A lab.yaml text as a runtime, in virtual time unless told otherwise. */
export function labOf(yaml: string, opts: RuntimeOptions = {}): LabRuntime {
  const loaded = loadLabText(yaml, 'lab.yaml');
  if (!loaded.ok) throw new Error(formatLabErrors(loaded.errors));
  return new LabRuntime(loaded.lab, { time: 'virtual', ...opts });
}
