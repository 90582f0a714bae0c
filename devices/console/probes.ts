/**
 * Probes that console commands send from a device's own stack: echo probes one at a time (ICMP
 * echo, or UDP datagrams that an echo service answers), and traceroute probes with a rising TTL.
 * They report each probe as it completes, so a console prints replies as they arrive, the way
 * VPCS and IOS do. Each run is its own timer target and socket owner: no closures.
 */
import type { Engine, TimerTarget } from '../engine/engine.js';
import type { EchoOwner, EchoSocket, UdpOwner, UdpSocket } from '../stack/sockets.js';
import type { IpStack } from '../stack/stack.js';
import type { IcmpErrorReport, RxInfo, SendStatus } from '../stack/types.js';
import type { Ip4 } from '../wire/bytes.js';
import { ICMP_TYPE, UNREACH } from '../wire/icmp.js';

export interface ProbeResult {
  seq: number;
  kind: 'reply' | 'timeout' | 'error';
  /** Who answered (the target, or the router or our own stack reporting an error). */
  from: Ip4;
  rttNs: number;
  /** TTL of the answer. */
  ttl: number;
  /** Bytes of the answer's payload (ICMP: header and data). */
  bytes: number;
  /** ICMP type and code of an error. */
  type: number;
  code: number;
  /** The error came from our own stack (ARP gave up). */
  local: boolean;
}

export interface EchoRunListener {
  onProbe(run: EchoRun, r: ProbeResult): void;
  /** The run ended: every probe done, a send failed (`sendError`), or it was stopped. */
  onRunDone(run: EchoRun): void;
}

export interface EchoRunOptions {
  protocol: 'icmp' | 'udp';
  /** Probes to send; -1 until stopped. */
  count: number;
  /** Payload bytes. */
  size: number;
  ttl?: number;
  /** How long a probe waits for its answer. */
  waitNs: number;
  /** Pause after a probe completes before the next one is sent. */
  gapNs: number;
  /** UDP: destination port (an echo service), source port (0: ephemeral). */
  dstPort?: number;
  srcPort?: number;
  /** Added to the first probe's wait when the next hop is not yet in the ARP cache (ARP takes up to 3 s to give up). */
  arpGraceNs?: number;
  /** iputils-like payload (offset bytes) unless given. */
  fill?: number;
  /** Source address (IOS `ping ... source`). */
  srcIp?: Ip4;
  /** A probe that cannot be sent (no route) counts as sent and lost, as IOS ping shows it ('.'). */
  unsentIsLost?: boolean;
}

const TAG_WAIT = 1;
const TAG_NEXT = 2;

/** One probe at a time: send, wait for the answer or the timeout, pause, send the next. */
export class EchoRun implements TimerTarget, EchoOwner, UdpOwner {
  done = false;
  /** Why nothing could be sent ('no-route', 'down', ...), or null. */
  sendError: SendStatus | null = null;
  sent = 0;
  received = 0;
  readonly results: ProbeResult[] = [];
  private echo: EchoSocket | null = null;
  private udp: UdpSocket | null = null;
  private timer = -1;
  private seq = 0;
  private sentNs = 0;
  private waiting = false;

  constructor(
    readonly engine: Engine,
    readonly stack: IpStack,
    readonly dst: Ip4,
    readonly opts: EchoRunOptions,
    private listener: EchoRunListener | null,
  ) {}

  start(): void {
    if (this.opts.protocol === 'icmp') this.echo = this.stack.echo.open(this);
    else this.udp = this.stack.udp.bind(this, this.opts.srcPort ?? 0);
    this.send();
  }

  private payload(): Uint8Array {
    const p = new Uint8Array(Math.max(0, this.opts.size));
    for (let i = 0; i < p.length; i++) p[i] = this.opts.fill ?? i & 0xff;
    return p;
  }

  private send(): void {
    this.timer = -1;
    if (this.done) return;
    if (this.opts.count >= 0 && this.seq >= this.opts.count) return this.finish();
    this.seq++;
    const ttl = { ...(this.opts.ttl !== undefined ? { ttl: this.opts.ttl } : {}), ...(this.opts.srcIp !== undefined ? { srcIp: this.opts.srcIp } : {}) };
    let wait = this.opts.waitNs;
    if (this.seq === 1 && this.opts.arpGraceNs) {
      const hop = this.stack.lookupRoute(this.dst);
      if (hop !== null && !this.stack.isLocalAddress(this.dst) && this.stack.arpLookup(hop.iface, hop.nextHop) === null) wait += this.opts.arpGraceNs;
    }
    const st = this.echo !== null ? this.echo.send(this.dst, this.wireSeq, this.payload(), ttl) : this.udp!.sendTo(this.dst, this.opts.dstPort ?? 7, this.payload(), ttl);
    if (st !== 'sent' && st !== 'queued' && !this.opts.unsentIsLost) {
      this.sendError = st;
      return this.finish();
    }
    this.sent++;
    this.sentNs = this.engine.now;
    this.waiting = true;
    this.timer = this.engine.after(wait, this, TAG_WAIT);
  }

  /** The 16-bit sequence number on the wire for the current probe. */
  private get wireSeq(): number {
    return this.seq & 0xffff;
  }

  onTimer(tag: number): void {
    this.timer = -1;
    if (this.done) return;
    if (tag === TAG_NEXT) return this.send();
    this.complete({ seq: this.seq, kind: 'timeout', from: 0, rttNs: -1, ttl: 0, bytes: 0, type: -1, code: -1, local: false });
  }

  private complete(r: ProbeResult): void {
    if (!this.waiting) return;
    this.waiting = false;
    if (this.timer >= 0) this.engine.cancel(this.timer);
    this.timer = -1;
    if (r.kind === 'reply') this.received++;
    this.results.push(r);
    this.listener?.onProbe(this, r);
    if (this.done) return;
    if (this.opts.count >= 0 && this.seq >= this.opts.count) return this.finish();
    this.timer = this.engine.after(this.opts.gapNs, this, TAG_NEXT);
  }

  onEchoReply(_s: EchoSocket, src: Ip4, seq: number, payload: Uint8Array, info: RxInfo): void {
    if (seq !== this.wireSeq || src !== this.dst) return;
    this.complete({ seq: this.seq, kind: 'reply', from: src, rttNs: this.engine.now - this.sentNs, ttl: info.ttl, bytes: payload.length + 8, type: 0, code: 0, local: false });
  }

  onDatagram(_s: UdpSocket, srcIp: Ip4, _srcPort: number, payload: Uint8Array, info: RxInfo): void {
    if (srcIp !== this.dst) return;
    this.complete({ seq: this.seq, kind: 'reply', from: srcIp, rttNs: this.engine.now - this.sentNs, ttl: info.ttl, bytes: payload.length, type: 0, code: 0, local: false });
  }

  onIcmpError(_s: EchoSocket | UdpSocket, report: IcmpErrorReport): void {
    if (report.quotedDst !== this.dst) return;
    if (this.echo !== null && report.quotedDstPort !== this.wireSeq) return;
    this.complete({
      seq: this.seq,
      kind: 'error',
      from: report.from,
      rttNs: this.engine.now - this.sentNs,
      ttl: report.ttl,
      bytes: 0,
      type: report.type,
      code: report.code,
      local: report.local,
    });
  }

  /** Ctrl-C. */
  stop(): void {
    if (!this.done) this.finish();
  }

  private finish(): void {
    this.done = true;
    this.waiting = false;
    if (this.timer >= 0) this.engine.cancel(this.timer);
    this.timer = -1;
    this.echo?.close();
    this.echo = null;
    this.udp?.close();
    this.udp = null;
    const l = this.listener;
    this.listener = null;
    l?.onRunDone(this);
  }
}

// ------------------------------------------------------------------ traceroute

export interface TraceProbeResult {
  hop: number;
  /** 0-based probe number within the hop. */
  index: number;
  /** null: no answer in time. */
  from: Ip4 | null;
  rttNs: number;
  /** ICMP type/code of the answer (11/0 time exceeded, 3/x unreachable); -1 when none or a UDP answer. */
  type: number;
  code: number;
}

export interface TraceRunListener {
  onTraceProbe(run: TraceRun, r: TraceProbeResult): void;
  onHopDone(run: TraceRun, hop: number, probes: TraceProbeResult[]): void;
  onTraceDone(run: TraceRun): void;
}

export interface TraceRunOptions {
  maxHops: number;
  perHop: number;
  waitNs: number;
  /** Payload bytes of each UDP probe. */
  size: number;
  /** First destination port; `portStep` added for each probe (0: every probe to the same port). */
  basePort: number;
  portStep: number;
  srcPort?: number;
  /** Extra wait for the first probe while ARP resolves the next hop. */
  arpGraceNs?: number;
}

const TAG_TRACE_WAIT = 3;

/** UDP probes with TTL 1, 2, ...; stops after the hop where the destination or an unreachable answered. */
export class TraceRun implements TimerTarget, UdpOwner {
  done = false;
  reached = false;
  sendError: SendStatus | null = null;
  hop = 1;
  private index = 0;
  private probeNo = 0;
  private sentNs = 0;
  private timer = -1;
  private socket: UdpSocket | null = null;
  private hopResults: TraceProbeResult[] = [];
  private stopAfterHop = false;

  constructor(
    readonly engine: Engine,
    readonly stack: IpStack,
    readonly dst: Ip4,
    readonly opts: TraceRunOptions,
    private listener: TraceRunListener | null,
  ) {}

  start(): void {
    this.socket = this.stack.udp.bind(this, this.opts.srcPort ?? 0);
    this.send();
  }

  private port(): number {
    return (this.opts.basePort + this.probeNo * this.opts.portStep) & 0xffff;
  }

  private send(): void {
    if (this.done) return;
    const data = new Uint8Array(this.opts.size);
    const st = this.socket!.sendTo(this.dst, this.port(), data, { ttl: this.hop });
    if (st !== 'sent' && st !== 'queued') {
      this.sendError = st;
      return this.finish();
    }
    this.sentNs = this.engine.now;
    let wait = this.opts.waitNs;
    if (this.probeNo === 0 && this.opts.arpGraceNs) {
      const hop = this.stack.lookupRoute(this.dst);
      if (hop !== null && this.stack.arpLookup(hop.iface, hop.nextHop) === null) wait += this.opts.arpGraceNs;
    }
    this.timer = this.engine.after(wait, this, TAG_TRACE_WAIT);
  }

  onTimer(): void {
    this.timer = -1;
    if (this.done) return;
    this.record({ hop: this.hop, index: this.index, from: null, rttNs: -1, type: -1, code: -1 });
  }

  onDatagram(_s: UdpSocket, srcIp: Ip4): void {
    // Something listens on the probe port and answered: the destination is reached.
    if (this.done || this.timer < 0 || srcIp !== this.dst) return;
    this.answered({ hop: this.hop, index: this.index, from: srcIp, rttNs: this.engine.now - this.sentNs, type: -1, code: -1 });
  }

  onIcmpError(_s: UdpSocket, report: IcmpErrorReport): void {
    if (this.done || this.timer < 0) return;
    if (report.quotedDst !== this.dst || report.quotedDstPort !== this.port()) return;
    if (report.type !== ICMP_TYPE.TIME_EXCEEDED && report.type !== ICMP_TYPE.DEST_UNREACHABLE) return;
    this.answered({ hop: this.hop, index: this.index, from: report.from, rttNs: this.engine.now - this.sentNs, type: report.type, code: report.code });
  }

  private answered(r: TraceProbeResult): void {
    this.engine.cancel(this.timer);
    this.timer = -1;
    this.record(r);
  }

  private record(r: TraceProbeResult): void {
    this.hopResults.push(r);
    if (r.from === this.dst) this.reached = true;
    if (r.type === ICMP_TYPE.DEST_UNREACHABLE || r.from === this.dst) this.stopAfterHop = true;
    this.listener?.onTraceProbe(this, r);
    if (this.done) return;
    this.probeNo++;
    this.index++;
    if (this.index < this.opts.perHop) return this.send();
    const results = this.hopResults;
    this.hopResults = [];
    this.listener?.onHopDone(this, this.hop, results);
    if (this.done) return;
    if (this.stopAfterHop || this.hop >= this.opts.maxHops) return this.finish();
    this.hop++;
    this.index = 0;
    this.send();
  }

  stop(): void {
    if (!this.done) this.finish();
  }

  private finish(): void {
    this.done = true;
    if (this.timer >= 0) this.engine.cancel(this.timer);
    this.timer = -1;
    this.socket?.close();
    this.socket = null;
    const l = this.listener;
    this.listener = null;
    l?.onTraceDone(this);
  }
}

/** True for an unreachable that says the path ends (not a port unreachable from the target). */
export function isPortUnreachable(type: number, code: number): boolean {
  return type === ICMP_TYPE.DEST_UNREACHABLE && code === UNREACH.PORT;
}
