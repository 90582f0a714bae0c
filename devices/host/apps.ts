/**
 * The host's network programs: a DNS stub resolver, ping and traceroute. Each run is an
 * operation object: start it, let the engine run until `isDone`, read `result` (plain data).
 * Operations are their own timer targets and socket owners, so nothing is a closure.
 */
import type { Engine, TimerTarget } from '../engine/engine.js';
import { type Ip4, ip4ToString, parseIp4 } from '../wire/bytes.js';
import { DNS_FLAG_RD, DNS_PORT, DNS_RCODE_NXDOMAIN, decodeDns, dnsEncodingLength, dnsId, encodeDns } from '../wire/dns.js';
import { DecodeError } from '../wire/errors.js';
import { ICMP_TYPE, UNREACH } from '../wire/icmp.js';
import type { IpStack } from '../stack/stack.js';
import type { EchoOwner, EchoSocket, UdpOwner, UdpSocket } from '../stack/sockets.js';
import type { IcmpErrorReport, RxInfo, SendStatus } from '../stack/types.js';

/** Linux's wording of an ICMP error, as ping prints it. */
export function icmpErrorText(type: number, code: number, nextHopMtu = 0): string {
  if (type === ICMP_TYPE.TIME_EXCEEDED) return code === 0 ? 'Time to live exceeded' : 'Frag reassembly time exceeded';
  if (type === ICMP_TYPE.DEST_UNREACHABLE) {
    switch (code) {
      case UNREACH.NET:
        return 'Destination Net Unreachable';
      case UNREACH.HOST:
        return 'Destination Host Unreachable';
      case UNREACH.PROTOCOL:
        return 'Destination Protocol Unreachable';
      case UNREACH.PORT:
        return 'Destination Port Unreachable';
      case UNREACH.FRAG_NEEDED:
        return `Frag needed and DF set (mtu = ${nextHopMtu})`;
      case UNREACH.SOURCE_ROUTE_FAILED:
        return 'Source Route Failed';
      case UNREACH.NET_PROHIBITED:
      case UNREACH.HOST_PROHIBITED:
      case UNREACH.ADMIN_PROHIBITED:
        return 'Packet filtered';
      default:
        return `Dest Unreachable, Bad Code: ${code}`;
    }
  }
  if (type === ICMP_TYPE.PARAMETER_PROBLEM) return 'Parameter problem';
  if (type === ICMP_TYPE.SOURCE_QUENCH) return 'Source Quench';
  return `Bad ICMP type: ${type}`;
}

/** What errno a failed send maps to, in Linux's words. */
export function sendStatusText(s: SendStatus): string {
  switch (s) {
    case 'no-route':
      return 'Network is unreachable';
    case 'too-big':
      return 'Message too long';
    case 'down':
      return 'Network is down';
    case 'filtered':
      return 'Operation not permitted';
    default:
      return s;
  }
}

/** Something that waits for a resolution. */
export interface DnsLookupOwner {
  onResolved(lookup: DnsLookup): void;
}

export interface DnsLookupResult {
  name: string;
  addresses: Ip4[];
  /** null on success; 'NXDOMAIN', 'no address', 'timed out', 'no name server', ... otherwise. */
  error: string | null;
  /** The server that answered. */
  server: Ip4;
}

export interface ResolverOptions {
  /** resolv.conf `timeout`, default 5 s. */
  timeoutNs?: number;
  /** resolv.conf `attempts` per server, default 2. */
  attempts?: number;
}

const TAG_DNS_TIMEOUT = 1;

/** One stub-resolver query for an A record (RFC 1035), tried on each server in turn like glibc. */
export class DnsLookup implements TimerTarget, UdpOwner {
  readonly result: DnsLookupResult;
  done = false;
  private socket: UdpSocket | null = null;
  private id = 0;
  private tries = 0;
  private timer = -1;
  private readonly timeoutNs: number;
  private readonly attempts: number;

  constructor(
    readonly engine: Engine,
    readonly stack: IpStack,
    name: string,
    readonly servers: readonly Ip4[],
    public owner: DnsLookupOwner | null,
    opts: ResolverOptions = {},
  ) {
    this.result = { name: name.replace(/\.$/, ''), addresses: [], error: null, server: 0 };
    this.timeoutNs = opts.timeoutNs ?? 5e9;
    this.attempts = opts.attempts ?? 2;
  }

  get isDone(): boolean {
    return this.done;
  }

  start(): void {
    if (this.servers.length === 0) return this.finish('no name server');
    this.socket = this.stack.udp.bind(this, 0);
    this.query();
  }

  private query(): void {
    const server = this.servers[this.tries % this.servers.length]!;
    this.tries++;
    this.id = this.engine.rng.below(65536);
    const packet = {
      type: 'query' as const,
      id: this.id,
      flags: DNS_FLAG_RD,
      questions: [{ type: 'A' as const, class: 'IN' as const, name: this.result.name }],
    };
    const buf = new Uint8Array(dnsEncodingLength(packet));
    encodeDns(packet, buf, 0);
    const st = this.socket!.sendTo(server, DNS_PORT, buf);
    if (st !== 'sent' && st !== 'queued') return this.finish(sendStatusText(st));
    this.timer = this.engine.after(this.timeoutNs, this, TAG_DNS_TIMEOUT);
  }

  onTimer(): void {
    this.timer = -1;
    if (this.done) return;
    if (this.tries >= this.attempts * this.servers.length) return this.finish('timed out');
    this.query();
  }

  onDatagram(_s: UdpSocket, srcIp: Ip4, srcPort: number, payload: Uint8Array): void {
    if (this.done || srcPort !== DNS_PORT || !this.servers.includes(srcIp)) return;
    if (payload.length < 12 || dnsId(payload, 0) !== this.id) return;
    let msg;
    try {
      msg = decodeDns(payload);
    } catch (e) {
      if (e instanceof DecodeError) return;
      throw e;
    }
    if (msg.type !== 'response') return;
    this.result.server = srcIp;
    if (((msg.flags ?? 0) & 0xf) === DNS_RCODE_NXDOMAIN) return this.finish('NXDOMAIN');
    for (const a of msg.answers ?? []) {
      if (a.type !== 'A') continue;
      const ip = parseIp4(a.data);
      if (ip !== null) this.result.addresses.push(ip);
    }
    this.finish(this.result.addresses.length ? null : 'no address');
  }

  onIcmpError(_s: UdpSocket, report: IcmpErrorReport): void {
    // Port unreachable from a server: try the next one right away, as glibc does.
    if (this.done || report.quotedDstPort !== DNS_PORT) return;
    if (this.timer >= 0) this.engine.cancel(this.timer);
    this.timer = -1;
    if (this.tries >= this.attempts * this.servers.length) return this.finish(icmpErrorText(report.type, report.code));
    this.query();
  }

  cancel(): void {
    if (!this.done) this.finish('cancelled');
  }

  private finish(error: string | null): void {
    this.result.error = error;
    this.done = true;
    if (this.timer >= 0) this.engine.cancel(this.timer);
    this.timer = -1;
    this.socket?.close();
    this.socket = null;
    const owner = this.owner;
    this.owner = null;
    owner?.onResolved(this);
  }
}

/** What an operation needs from its host: a stack, name servers and a static hosts table. */
export interface AppHost {
  readonly engine: Engine;
  readonly stack: IpStack;
  nameservers(): Ip4[];
  /** /etc/hosts. */
  readonly hosts: Map<string, Ip4>;
}

/** Starts resolving `target`: a dotted quad or a name in the hosts table answers at once. */
function startResolution(host: AppHost, target: string | Ip4, owner: DnsLookupOwner): { ip: Ip4 } | DnsLookup {
  if (typeof target === 'number') return { ip: target >>> 0 };
  const literal = parseIp4(target);
  if (literal !== null) return { ip: literal };
  const known = host.hosts.get(target.toLowerCase().replace(/\.$/, ''));
  if (known !== undefined) return { ip: known };
  const lookup = new DnsLookup(host.engine, host.stack, target, host.nameservers(), owner);
  lookup.start();
  return lookup;
}

// ------------------------------------------------------------------ ping

export interface PingOptions {
  /**
   * 'icmp' (default): echo requests. 'udp': VPCS's `ping -P 17`, datagrams to `port` that an
   * udp-echo service sends back; a port unreachable answer counts as an error, not a reply.
   */
  protocol?: 'icmp' | 'udp';
  /** Destination port of a UDP ping; default 7 (echo). */
  port?: number;
  /** Echo requests to send; default 5 (VPCS's default; Linux pings until stopped). */
  count?: number;
  /** Between requests; default 1 s. */
  intervalNs?: number;
  /** How long each request waits for its answer; default 4 s, past the 3 s ARP takes to give up. */
  timeoutNs?: number;
  /** ICMP data bytes; default 56 (84-byte datagrams). */
  size?: number;
  ttl?: number;
  df?: boolean;
  srcIp?: Ip4;
}

export type PingProbeStatus = 'pending' | 'reply' | 'error' | 'timeout';

export interface PingProbe {
  seq: number;
  sentNs: number;
  status: PingProbeStatus;
  /** Round-trip time of a reply, ns; -1 otherwise. */
  rttNs: number;
  /** Who answered: the target, or the router (or ourselves) reporting an error. */
  from: Ip4;
  /** TTL of the reply. */
  ttl: number;
  /** ICMP bytes in the reply (header + data), as ping prints them. */
  bytes: number;
  errorType: number;
  errorCode: number;
  /** Linux's text for an error ("Destination Host Unreachable"), '' otherwise. */
  message: string;
}

export interface PingResult {
  target: string;
  /** The address pinged (0 while resolving or when resolution failed). */
  dst: Ip4;
  transmitted: number;
  received: number;
  /** Probes answered by an ICMP error. */
  errors: number;
  duplicates: number;
  probes: PingProbe[];
  /** Why ping could not run at all (unknown host, network unreachable), else null. */
  error: string | null;
  /** Lines as Linux ping prints them, summary included once done. */
  lines: string[];
  done: boolean;
}

const TAG_PING_SEND = 1;
const TAG_PING_TIMEOUT = 2;

export class PingOperation implements TimerTarget, EchoOwner, UdpOwner, DnsLookupOwner {
  readonly result: PingResult;
  private socket: EchoSocket | null = null;
  private udp: UdpSocket | null = null;
  /** IP identification of UDP probe 0; probe `seq` carries idBase + seq, which ICMP errors quote. */
  private idBase = 0;
  private sendTimer = -1;
  private readonly timeouts = new Map<number, number>();
  private readonly count: number;
  private readonly intervalNs: number;
  private readonly timeoutNs: number;
  private readonly size: number;
  private lookup: DnsLookup | null = null;

  constructor(
    readonly host: AppHost,
    target: string | Ip4,
    readonly opts: PingOptions = {},
  ) {
    this.count = Math.max(1, opts.count ?? 5);
    this.intervalNs = opts.intervalNs ?? 1e9;
    this.timeoutNs = opts.timeoutNs ?? 4e9;
    this.size = Math.max(0, Math.min(65507, opts.size ?? 56));
    const label = typeof target === 'number' ? ip4ToString(target) : target;
    this.result = { target: label, dst: 0, transmitted: 0, received: 0, errors: 0, duplicates: 0, probes: [], error: null, lines: [], done: false };
    const r = startResolution(host, target, this);
    if (r instanceof DnsLookup) this.lookup = r;
    else this.begin(r.ip);
  }

  get isDone(): boolean {
    return this.result.done;
  }

  /** At least one reply came back. */
  get succeeded(): boolean {
    return this.result.received > 0;
  }

  onResolved(lookup: DnsLookup): void {
    this.lookup = null;
    if (this.result.done) return;
    const a = lookup.result.addresses[0];
    if (a === undefined) {
      this.result.lines.push(`ping: ${this.result.target}: ${lookup.result.error === 'NXDOMAIN' ? 'Name or service not known' : `Temporary failure in name resolution`}`);
      return this.fail(`unknown host (${lookup.result.error})`);
    }
    this.begin(a);
  }

  private begin(dst: Ip4): void {
    this.result.dst = dst;
    const name = this.result.target === ip4ToString(dst) ? this.result.target : `${this.result.target} (${ip4ToString(dst)})`;
    this.result.lines.push(`PING ${name} ${this.size}(${this.size + 28}) bytes of data.`);
    if (this.opts.protocol === 'udp') {
      this.udp = this.host.stack.udp.bind(this, 0);
      this.idBase = this.host.engine.rng.below(65536);
    } else this.socket = this.host.stack.echo.open(this);
    this.sendProbe();
  }

  /** iputils fills the data with a struct timeval then the bytes 0x10, 0x11, ... (each byte its offset). */
  private payload(): Uint8Array {
    const p = new Uint8Array(this.size);
    for (let i = 0; i < p.length; i++) p[i] = i & 0xff;
    if (p.length >= 16) {
      const engine = this.host.engine;
      const ns = engine.epochNs + BigInt(Math.floor(engine.now));
      const dv = new DataView(p.buffer);
      dv.setBigUint64(0, ns / 1_000_000_000n, true);
      dv.setBigUint64(8, (ns % 1_000_000_000n) / 1000n, true);
    }
    return p;
  }

  private sendProbe(): void {
    this.sendTimer = -1;
    const engine = this.host.engine;
    const seq = this.result.probes.length + 1;
    const opts = {
      ...(this.opts.ttl !== undefined ? { ttl: this.opts.ttl } : {}),
      ...(this.opts.df !== undefined ? { df: this.opts.df } : {}),
      ...(this.opts.srcIp !== undefined ? { srcIp: this.opts.srcIp } : {}),
    };
    let st: SendStatus;
    if (this.udp !== null) {
      // The sequence number leads the data, so the echoed datagram says which probe it answers.
      const data = this.payload();
      const seqAt = data.length >= 20 ? 16 : 0;
      if (data.length >= 4) new DataView(data.buffer, data.byteOffset).setUint32(seqAt, seq);
      st = this.udp.sendTo(this.result.dst, this.opts.port ?? 7, data, { ...opts, id: (this.idBase + seq) & 0xffff });
    } else st = this.socket!.send(this.result.dst, seq, this.payload(), opts);
    if (st !== 'sent' && st !== 'queued') {
      this.result.lines.push(`ping: connect: ${sendStatusText(st)}`);
      return this.fail(sendStatusText(st));
    }
    this.result.transmitted++;
    this.result.probes.push({ seq, sentNs: engine.now, status: 'pending', rttNs: -1, from: 0, ttl: 0, bytes: 0, errorType: -1, errorCode: -1, message: '' });
    this.timeouts.set(seq, engine.after(this.timeoutNs, this, TAG_PING_TIMEOUT, seq));
    if (seq < this.count) this.sendTimer = engine.after(this.intervalNs, this, TAG_PING_SEND);
  }

  onTimer(tag: number, arg: unknown): void {
    if (this.result.done) return;
    if (tag === TAG_PING_SEND) return this.sendProbe();
    const seq = arg as number;
    this.timeouts.delete(seq);
    const p = this.result.probes[seq - 1];
    if (p !== undefined && p.status === 'pending') p.status = 'timeout';
    this.checkDone();
  }

  onDatagram(_s: UdpSocket, src: Ip4, srcPort: number, payload: Uint8Array, info: RxInfo): void {
    if (src !== this.result.dst || srcPort !== (this.opts.port ?? 7) || payload.length < 4) return;
    const seqAt = payload.length >= 20 ? 16 : 0;
    const seq = new DataView(payload.buffer, payload.byteOffset, payload.length).getUint32(seqAt);
    this.reply(src, seq, payload, info, 'udp_seq');
  }

  onEchoReply(_s: EchoSocket, src: Ip4, seq: number, payload: Uint8Array, info: RxInfo): void {
    this.reply(src, seq, payload, info, 'icmp_seq');
  }

  private reply(src: Ip4, seq: number, payload: Uint8Array, info: RxInfo, label: string): void {
    const p = this.result.probes[seq - 1];
    if (p === undefined || this.result.done) return;
    if (p.status === 'reply') {
      this.result.duplicates++;
      return;
    }
    if (p.status !== 'pending') return;
    const engine = this.host.engine;
    p.status = 'reply';
    p.rttNs = engine.now - p.sentNs;
    p.from = src;
    p.ttl = info.ttl;
    p.bytes = payload.length + 8;
    this.result.received++;
    this.result.lines.push(`${p.bytes} bytes from ${ip4ToString(src)}: ${label}=${seq} ttl=${p.ttl} time=${formatMs(p.rttNs)} ms`);
    this.clearTimeout(seq);
    this.checkDone();
  }

  onIcmpError(s: EchoSocket | UdpSocket, report: IcmpErrorReport): void {
    const seq = s === this.udp ? (report.quotedId - this.idBase) & 0xffff : report.quotedDstPort;
    const p = this.result.probes[seq - 1];
    if (p === undefined || p.status !== 'pending' || this.result.done) return;
    p.status = 'error';
    p.from = report.from;
    p.errorType = report.type;
    p.errorCode = report.code;
    p.message = icmpErrorText(report.type, report.code, report.nextHopMtu);
    this.result.errors++;
    this.result.lines.push(`From ${ip4ToString(report.from)} ${this.udp !== null ? 'udp_seq' : 'icmp_seq'}=${seq} ${p.message}`);
    this.clearTimeout(seq);
    this.checkDone();
  }

  private clearTimeout(seq: number): void {
    const t = this.timeouts.get(seq);
    if (t !== undefined) this.host.engine.cancel(t);
    this.timeouts.delete(seq);
  }

  private checkDone(): void {
    if (this.result.probes.length < this.count || this.sendTimer >= 0) return;
    for (const p of this.result.probes) if (p.status === 'pending') return;
    this.finish();
  }

  /** Stops now (Ctrl-C): pending probes count as lost. */
  cancel(): void {
    if (this.result.done) return;
    this.lookup?.cancel();
    for (const p of this.result.probes) if (p.status === 'pending') p.status = 'timeout';
    this.finish();
  }

  private fail(error: string): void {
    this.result.error = error;
    this.finish();
  }

  private finish(): void {
    const r = this.result;
    const engine = this.host.engine;
    if (this.sendTimer >= 0) engine.cancel(this.sendTimer);
    this.sendTimer = -1;
    for (const t of this.timeouts.values()) engine.cancel(t);
    this.timeouts.clear();
    this.socket?.close();
    this.socket = null;
    this.udp?.close();
    this.udp = null;
    if (r.dst !== 0 && r.error === null) {
      const loss = r.transmitted ? Math.round((100 * (r.transmitted - r.received)) / r.transmitted) : 0;
      r.lines.push('', `--- ${r.target} ping statistics ---`);
      r.lines.push(
        `${r.transmitted} packets transmitted, ${r.received} received${r.duplicates ? `, +${r.duplicates} duplicates` : ''}${r.errors ? `, +${r.errors} errors` : ''}, ${loss}% packet loss`,
      );
      const rtts = r.probes.filter((p) => p.status === 'reply').map((p) => p.rttNs / 1e6);
      if (rtts.length) {
        const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
        const mdev = Math.sqrt(rtts.reduce((a, b) => a + (b - avg) ** 2, 0) / rtts.length);
        r.lines.push(`rtt min/avg/max/mdev = ${[Math.min(...rtts), avg, Math.max(...rtts), mdev].map((x) => x.toFixed(3)).join('/')} ms`);
      }
    }
    r.done = true;
  }
}

function formatMs(ns: number): string {
  const ms = ns / 1e6;
  return ms < 1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0);
}

// ------------------------------------------------------------------ traceroute

export interface TraceOptions {
  /** Default 30. */
  maxHops?: number;
  firstTtl?: number;
  /** Probes per hop, default 3. */
  probes?: number;
  /** Wait for each probe's answer; default 5 s (Linux traceroute's -w). */
  waitNs?: number;
  /** Base destination port, default 33434; each probe uses the next one. */
  port?: number;
  /** Whole datagram length, default 60 like Linux traceroute. */
  size?: number;
  srcIp?: Ip4;
}

export interface TraceProbe {
  /** Who answered; null for a timeout (`*`). */
  from: Ip4 | null;
  rttNs: number;
  /** traceroute's marks: '!H', '!N', '!P', '!X', '!F-<mtu>' for unreachables other than port; '' otherwise. */
  annotation: string;
}

export interface TraceHop {
  ttl: number;
  probes: TraceProbe[];
}

export interface TraceResult {
  target: string;
  dst: Ip4;
  hops: TraceHop[];
  /** The destination answered (port unreachable). */
  reached: boolean;
  error: string | null;
  lines: string[];
  done: boolean;
}

const TAG_TRACE_WAIT = 1;

function annotationFor(type: number, code: number, mtu: number): string {
  if (type !== ICMP_TYPE.DEST_UNREACHABLE || code === UNREACH.PORT) return '';
  switch (code) {
    case UNREACH.NET:
    case UNREACH.NET_UNKNOWN:
      return '!N';
    case UNREACH.HOST:
    case UNREACH.HOST_UNKNOWN:
      return '!H';
    case UNREACH.PROTOCOL:
      return '!P';
    case UNREACH.FRAG_NEEDED:
      return `!F-${mtu}`;
    case UNREACH.SOURCE_ROUTE_FAILED:
      return '!S';
    case UNREACH.ADMIN_PROHIBITED:
    case UNREACH.NET_PROHIBITED:
    case UNREACH.HOST_PROHIBITED:
      return '!X';
    default:
      return `!<${code}>`;
  }
}

/**
 * traceroute with UDP probes as Linux's traceroute sends them: TTL 1, 2, ... with `probes`
 * probes each to ports 33434, 33435, ...; a hop is done when every probe was answered or timed
 * out; the trace stops at the hop where the destination answered or an unreachable came back.
 * Probes go one at a time (Linux sends up to 16 at once; the answers are the same).
 */
export class TraceOperation implements TimerTarget, UdpOwner, DnsLookupOwner {
  readonly result: TraceResult;
  private socket: UdpSocket | null = null;
  private timer = -1;
  private ttl: number;
  private probeIndex = 0;
  private seq = 0;
  private sentNs = 0;
  private readonly maxHops: number;
  private readonly perHop: number;
  private readonly waitNs: number;
  private readonly basePort: number;
  private readonly dataLength: number;
  private lookup: DnsLookup | null = null;

  constructor(
    readonly host: AppHost,
    target: string | Ip4,
    readonly opts: TraceOptions = {},
  ) {
    this.maxHops = Math.min(255, Math.max(1, opts.maxHops ?? 30));
    this.ttl = Math.max(1, opts.firstTtl ?? 1);
    this.perHop = Math.max(1, opts.probes ?? 3);
    this.waitNs = opts.waitNs ?? 5e9;
    this.basePort = opts.port ?? 33434;
    this.dataLength = Math.max(0, (opts.size ?? 60) - 28);
    const label = typeof target === 'number' ? ip4ToString(target) : target;
    this.result = { target: label, dst: 0, hops: [], reached: false, error: null, lines: [], done: false };
    const r = startResolution(host, target, this);
    if (r instanceof DnsLookup) this.lookup = r;
    else this.begin(r.ip);
  }

  get isDone(): boolean {
    return this.result.done;
  }

  /** The responding address of each hop (first answer), null for a hop of timeouts. */
  get path(): (Ip4 | null)[] {
    return this.result.hops.map((h) => h.probes.find((p) => p.from !== null)?.from ?? null);
  }

  onResolved(lookup: DnsLookup): void {
    this.lookup = null;
    if (this.result.done) return;
    const a = lookup.result.addresses[0];
    if (a === undefined) {
      this.result.lines.push(`${this.result.target}: Name or service not known`);
      return this.fail(`unknown host (${lookup.result.error})`);
    }
    this.begin(a);
  }

  private begin(dst: Ip4): void {
    this.result.dst = dst;
    this.result.lines.push(`traceroute to ${this.result.target} (${ip4ToString(dst)}), ${this.maxHops} hops max, ${this.dataLength + 28} byte packets`);
    this.socket = this.host.stack.udp.bind(this, 0);
    this.result.hops.push({ ttl: this.ttl, probes: [] });
    this.sendProbe();
  }

  private sendProbe(): void {
    const data = new Uint8Array(this.dataLength);
    for (let i = 0; i < data.length; i++) data[i] = 0x40 + (i & 0x3f);
    const port = this.basePort + this.seq;
    const st = this.socket!.sendTo(this.result.dst, port & 0xffff, data, {
      ttl: this.ttl,
      ...(this.opts.srcIp !== undefined ? { srcIp: this.opts.srcIp } : {}),
    });
    if (st !== 'sent' && st !== 'queued') {
      this.result.lines.push(`traceroute: ${sendStatusText(st)}`);
      return this.fail(sendStatusText(st));
    }
    this.sentNs = this.host.engine.now;
    this.timer = this.host.engine.after(this.waitNs, this, TAG_TRACE_WAIT);
  }

  onTimer(): void {
    this.timer = -1;
    if (this.result.done) return;
    this.record({ from: null, rttNs: -1, annotation: '' });
  }

  /** Something listens on the probe port and answers: the destination is reached all the same. */
  onDatagram(_s: UdpSocket, srcIp: Ip4, srcPort: number): void {
    if (this.result.done || this.timer < 0 || srcIp !== this.result.dst || srcPort !== ((this.basePort + this.seq) & 0xffff)) return;
    this.host.engine.cancel(this.timer);
    this.timer = -1;
    this.record({ from: srcIp, rttNs: this.host.engine.now - this.sentNs, annotation: '' });
  }

  onIcmpError(_s: UdpSocket, report: IcmpErrorReport): void {
    if (this.result.done || this.timer < 0) return;
    if (report.quotedDst !== this.result.dst || report.quotedDstPort !== ((this.basePort + this.seq) & 0xffff)) return;
    if (report.type !== ICMP_TYPE.TIME_EXCEEDED && report.type !== ICMP_TYPE.DEST_UNREACHABLE) return;
    this.host.engine.cancel(this.timer);
    this.timer = -1;
    this.record({ from: report.from, rttNs: this.host.engine.now - this.sentNs, annotation: annotationFor(report.type, report.code, report.nextHopMtu) });
  }

  private record(probe: TraceProbe): void {
    const hop = this.result.hops[this.result.hops.length - 1]!;
    hop.probes.push(probe);
    this.seq++;
    this.probeIndex++;
    if (this.probeIndex < this.perHop) return this.sendProbe();
    this.result.lines.push(formatHop(hop));
    const reached = hop.probes.some((p) => p.from === this.result.dst);
    const unreachable = hop.probes.some((p) => p.annotation !== '');
    if (reached) this.result.reached = true;
    if (reached || unreachable || this.ttl >= this.maxHops) return this.finish();
    this.ttl++;
    this.probeIndex = 0;
    this.result.hops.push({ ttl: this.ttl, probes: [] });
    this.sendProbe();
  }

  cancel(): void {
    if (this.result.done) return;
    this.lookup?.cancel();
    this.finish();
  }

  private fail(error: string): void {
    this.result.error = error;
    this.finish();
  }

  private finish(): void {
    if (this.timer >= 0) this.host.engine.cancel(this.timer);
    this.timer = -1;
    this.socket?.close();
    this.socket = null;
    this.result.done = true;
  }
}

function formatHop(hop: TraceHop): string {
  let line = `${String(hop.ttl).padStart(2)} `;
  let last: Ip4 | null = null;
  for (const p of hop.probes) {
    if (p.from === null) {
      line += ' *';
      continue;
    }
    if (p.from !== last) line += ` ${ip4ToString(p.from)}`;
    last = p.from;
    line += `  ${(p.rttNs / 1e6).toFixed(3)} ms${p.annotation ? ` ${p.annotation}` : ''}`;
  }
  return line;
}
