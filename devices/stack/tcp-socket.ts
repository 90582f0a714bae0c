/**
 * One TCP connection (RFC 9293): its control block, the segment-arrival rules of 3.10.7, the
 * send side (Nagle, silly-window avoidance, persist), RFC 6298 retransmission timing, RFC 5681
 * congestion control with NewReno fast recovery (RFC 6582), RFC 7323 window scaling and
 * timestamps (RTTM, PAWS), RFC 5961 reset and SYN checks, delayed ACKs, and reassembly of
 * out-of-order data in place in the receive ring.
 *
 * Everything here is plain data plus the owner object; timers go through the engine with this
 * socket as target. Owner callbacks run only from `flushEvents`, after a segment or timer has
 * been fully processed, so an owner calling back into the socket always finds it consistent.
 */
import type { TimerTarget } from '../engine/timers.js';
import type { Ip4 } from '../wire/bytes.js';
import { TcpByteRing } from './tcp-buffer.js';
import { tcpSegmentFillChecksum } from './tcp-sum.js';
import type { TcpLayer, TcpParsedOptions } from './tcp.js';
import {
  TCP_STATE,
  type TcpErrorCode,
  type TcpListenerOwner,
  type TcpSocketOptions,
  type TcpSocketOwner,
  type TcpState,
  type TcpStateName,
  tcpStateName,
} from './tcp-types.js';

const { CLOSED, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT } = TCP_STATE;

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

const TIMER_RTO = 1;
const TIMER_PERSIST = 2;
const TIMER_DELACK = 3;
/** TIME-WAIT's 2 MSL, or an orphan's FIN-WAIT-2 timeout. */
const TIMER_LINGER = 4;
/** An error found inside connect() (no route) is reported from a timer, like every other outcome. */
const TIMER_DEFERRED_ERROR = 5;

const EV_ACCEPT = 1;
const EV_CONNECT = 2;
const EV_DATA = 4;
const EV_END = 8;
const EV_WRITABLE = 16;
const EV_ERROR = 32;
const EV_CLOSE = 64;

const TS_OPTION_LEN = 12;
/** RFC 6298 2.4's clock granularity G, here the 1 ms timestamp tick. */
const CLOCK_GRANULARITY_NS = 1e6;
/** RFC 6298 5.7: after a SYN timed out, data transmission starts with an RTO of 3 s. */
const RTO_AFTER_SYN_LOSS_NS = 3e9;
const MAX_WINDOW_SHIFT = 14;
const OOW_ACK_INTERVAL_NS = 500e6;

/** seq arithmetic modulo 2^32 */
function sdiff(a: number, b: number): number {
  return (a - b) | 0;
}
function slt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
function sle(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}
function sgt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}
function sge(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
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

/** Counters of one connection. */
export interface TcpSocketStats {
  segsIn: number;
  segsOut: number;
  /** Payload bytes the peer acknowledged. */
  bytesAcked: number;
  /** In-order payload bytes received. */
  bytesReceived: number;
  /** Segments sent again (timeouts, fast retransmits, partial ACKs). */
  retransmits: number;
  fastRetransmits: number;
  timeouts: number;
  dupAcksIn: number;
  /** Segments that arrived ahead of a hole. */
  outOfOrder: number;
  zeroWindowProbes: number;
  /** Pure window updates sent after the application read from a closed-down window. */
  windowUpdates: number;
  delayedAcks: number;
}

/** A listening port. */
export class TcpListener {
  open = true;
  /** Connections in SYN-RECEIVED. */
  pending = 0;
  accepted = 0;
  /** SYNs dropped because `pending` reached the backlog. */
  drops = 0;

  constructor(
    readonly layer: TcpLayer,
    readonly port: number,
    /** 0: any local address. */
    readonly localIp: Ip4,
    readonly backlog: number,
    public owner: TcpListenerOwner,
    readonly socketOptions: TcpSocketOptions,
  ) {}

  /** Stops listening; half-open connections are reset, accepted ones live on. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.layer.unlisten(this);
  }
}

export class TcpSocket implements TimerTarget {
  state: TcpState = CLOSED;
  /** The listener of a passive open, until the connection is accepted. */
  listener: TcpListener | null = null;
  /** Next socket in the layer's demultiplexing bucket. */
  nextInBucket: TcpSocket | null = null;
  noDelay: boolean;
  readonly sendBuffer: TcpByteRing;
  readonly receiveBuffer: TcpByteRing;

  // Send sequence space (RFC 9293 3.3.1). sndMax is the highest sequence sent (BSD's snd_max):
  // after a timeout sndNxt goes back to sndUna and climbs again.
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  sndMax = 0;
  /** Peer's window, scaled, in bytes. */
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  maxSndWnd = 0;
  /** Sequence number of the first byte in the send buffer. */
  sndBufSeq = 0;
  /** shutdown()/close() asked for a FIN after the buffered data. */
  finQueued = false;
  finAcked = false;

  // Receive sequence space.
  irs = 0;
  rcvNxt = 0;
  /** Right edge of the window last advertised; it never moves left (RFC 9293 3.8.6.2.2). */
  rcvAdv = 0;
  /** Out-of-order data parked in the receive ring past the in-order bytes: [start, end) pairs of sequence numbers, sorted. */
  ooo: number[] = [];
  /** The peer's FIN arrived ahead of a hole: its sequence number, valid when finPending. */
  peerFinSeq = 0;
  peerFinPending = false;
  peerFinReceived = false;
  lastAckSent = 0;

  // Options and sizes.
  /** Payload bytes per full segment we send (MSS minus the timestamp option). */
  mss = 536;
  /** MSS option we sent. */
  advMss = 536;
  /** Largest segment we expect from the peer, for "every second full-sized segment" ACKs. */
  rcvMss = 536;
  /** PMTU learnt from ICMP fragmentation-needed, 0 when none. */
  pmtu = 0;
  peerMss = 536;
  wsOffered = false;
  tsOffered = false;
  sackOffered = false;
  /** Both sides agreed on SACK (RFC 2018). */
  sackOk = false;
  /** Receiver side: sequence number of the latest out-of-order segment; its block leads our SACK option. */
  lastOooSeq = 0;
  /** Sender side scoreboard (RFC 6675): SACKed [start, end) pairs above sndUna, sorted. */
  sacked: number[] = [];
  /** RFC 6675 HighRxt: end of the highest retransmission of the current recovery. */
  highRxt = 0;
  sndShift = 0;
  rcvShift = 0;
  /** The shift we offer, from the receive buffer size. */
  ourShift = 0;
  tsOk = false;
  tsRecent = 0;
  tsRecentValid = false;
  tsOffset = 0;

  // RFC 6298 state, in ns.
  srtt = 0;
  rttvar = 0;
  rto: number;
  hasRtt = false;
  /** Start time of the segment timed for an RTT sample without timestamps, -1 when none (Karn). */
  rttStart = -1;
  rttSeq = 0;
  /** Consecutive timeouts (or unanswered window probes) of the current episode. */
  retries = 0;
  synRetransmitted = false;

  // Congestion control (RFC 5681, RFC 6582).
  cwnd = 0;
  ssthresh = 0x7fffffff;
  /** RFC 6582 "recover", inclusive: the highest sequence number sent when recovery began. */
  recover = 0;
  inRecovery = false;
  partialAckSeen = false;
  dupAcks = 0;
  /** Bytes acknowledged towards the next congestion-avoidance increase. */
  caAcked = 0;

  // Timers: engine handles (-1 = none) and lazy deadlines (0 = stopped).
  rtoHandle = -1;
  rtoArmedAt = 0;
  rtoDeadline = 0;
  persistHandle = -1;
  persistBackoff = 0;
  persistProbeUnanswered = false;
  delackHandle = -1;
  delackArmedAt = 0;
  /** When the owed ACK must go at the latest; 0 when no ACK is owed. */
  delackDeadline = 0;
  lingerHandle = -1;
  deferredHandle = -1;

  // Application side.
  ackNow = false;
  paused = false;
  /** close() was called: incoming data is no longer wanted (and answered with RST). */
  userClosed = false;
  wantWritable = false;
  endDelivered = false;
  closeDelivered = false;
  error: TcpErrorCode | null = null;
  /** An ICMP error seen while established; reported instead of ETIMEDOUT if we give up. */
  softError: TcpErrorCode | null = null;
  /** Pending owner callbacks (EV_* bits). */
  events = 0;
  flushing = false;
  /** In-order bytes delivered straight from the arriving frame (the receive ring was empty). */
  pendingView: Uint8Array | null = null;

  readonly stats: TcpSocketStats = {
    segsIn: 0,
    segsOut: 0,
    bytesAcked: 0,
    bytesReceived: 0,
    retransmits: 0,
    fastRetransmits: 0,
    timeouts: 0,
    dupAcksIn: 0,
    outOfOrder: 0,
    zeroWindowProbes: 0,
    windowUpdates: 0,
    delayedAcks: 0,
  };

  constructor(
    readonly layer: TcpLayer,
    public owner: TcpSocketOwner | null,
    public localIp: Ip4,
    public localPort: number,
    readonly remoteIp: Ip4,
    readonly remotePort: number,
    opts: TcpSocketOptions,
  ) {
    const cfg = layer.config;
    this.noDelay = opts.noDelay ?? false;
    this.sendBuffer = new TcpByteRing(opts.sendBuffer ?? cfg.sendBuffer);
    this.receiveBuffer = new TcpByteRing(opts.receiveBuffer ?? cfg.receiveBuffer);
    this.rto = cfg.initialRtoNs;
    let shift = 0;
    while (shift < MAX_WINDOW_SHIFT && this.receiveBuffer.capacity >>> shift > 0xffff) shift++;
    this.ourShift = shift;
  }

  // ---------------------------------------------------------------- public API

  get stateName(): TcpStateName {
    return tcpStateName(this.state);
  }

  /** True while the application may still send (not shut down, not closed). */
  get writable(): boolean {
    return (this.state === ESTABLISHED || this.state === CLOSE_WAIT || this.state === SYN_SENT || this.state === SYN_RECEIVED) && !this.finQueued;
  }

  /** Bytes queued and not yet acknowledged. */
  get bufferedAmount(): number {
    return this.sendBuffer.length;
  }

  /** Bytes received and not yet delivered (while paused). */
  get readableLength(): number {
    return this.receiveBuffer.length;
  }

  /**
   * Queues bytes for sending; returns how many fit in the send buffer. When that is fewer than
   * given, onWritable says when to try again. Throws after shutdown/close (EPIPE).
   */
  send(data: Uint8Array, offset = 0, length = data.length - offset): number {
    if (!this.writable) throw new Error(`EPIPE: cannot send in ${this.stateName}${this.finQueued ? ' after shutdown' : ''}`);
    const n = this.sendBuffer.append(data, offset, length);
    if (n < length) this.wantWritable = true;
    if (n > 0 && this.state >= ESTABLISHED) this.output(false);
    this.kick();
    return n;
  }

  /** Half-close: a FIN goes after the queued data; receiving continues. */
  shutdown(): void {
    if (this.finQueued) return;
    switch (this.state) {
      case SYN_SENT:
      case SYN_RECEIVED:
        this.finQueued = true;
        return;
      case ESTABLISHED:
        this.finQueued = true;
        this.state = FIN_WAIT_1;
        break;
      case CLOSE_WAIT:
        this.finQueued = true;
        this.state = LAST_ACK;
        break;
      default:
        return;
    }
    this.output(false);
    this.kick();
  }

  /**
   * Closes the connection: like shutdown, and the application wants no more data. Unread data,
   * or data arriving later, make it a reset instead (as Linux does), so the peer learns that
   * what it sent was not read.
   */
  close(): void {
    if (this.userClosed || this.state === CLOSED) return;
    this.userClosed = true;
    if (this.state === SYN_SENT) {
      this.destroy();
      this.kick();
      return;
    }
    if (this.receiveBuffer.length > 0 || this.ooo.length > 0) {
      this.abort();
      return;
    }
    this.shutdown();
    if (this.state === FIN_WAIT_2) this.armLinger(this.layer.config.finTimeoutNs);
    this.kick();
  }

  /** Resets the connection at once (RST), dropping queued data. */
  abort(): void {
    if (this.state === CLOSED) return;
    this.userClosed = true;
    if (this.state !== SYN_SENT && this.state !== TIME_WAIT) this.sendRst();
    this.destroy();
    this.kick();
  }

  /** Stops delivering data: it stays in the receive buffer and the advertised window shrinks (to zero). */
  pause(): void {
    this.paused = true;
  }

  /** Delivers what was held back and reopens the window. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.drainReceiveBuffer();
    this.output(false);
    this.kick();
  }

  setNoDelay(on = true): void {
    this.noDelay = on;
    if (on && this.state >= ESTABLISHED) {
      this.output(false);
      this.kick();
    }
  }

  /** A plain summary for consoles, APIs and tests. */
  info(): {
    state: TcpStateName;
    local: string;
    remote: string;
    mss: number;
    cwnd: number;
    ssthresh: number;
    srttMs: number;
    rtoMs: number;
    sndWnd: number;
    rcvWnd: number;
    sndShift: number;
    rcvShift: number;
    timestamps: boolean;
    sendQueue: number;
    receiveQueue: number;
  } {
    const ip = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
    return {
      state: this.stateName,
      local: `${ip(this.localIp)}:${this.localPort}`,
      remote: `${ip(this.remoteIp)}:${this.remotePort}`,
      mss: this.mss,
      cwnd: this.cwnd,
      ssthresh: this.ssthresh,
      srttMs: this.srtt / 1e6,
      rtoMs: this.rto / 1e6,
      sndWnd: this.sndWnd,
      rcvWnd: Math.max(0, sdiff(this.rcvAdv, this.rcvNxt)),
      sndShift: this.sndShift,
      rcvShift: this.rcvShift,
      timestamps: this.tsOk,
      sendQueue: this.sendBuffer.length,
      receiveQueue: this.receiveBuffer.length,
    };
  }

  // ---------------------------------------------------------------- opening

  /** Active open: sends the SYN. Called by the layer. */
  startConnect(): void {
    const cfg = this.layer.config;
    this.iss = this.layer.newIss();
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.sndBufSeq = (this.iss + 1) >>> 0;
    this.recover = this.iss;
    this.tsOffset = this.layer.engine.rng.nextU32();
    this.wsOffered = cfg.windowScaling;
    this.tsOffered = cfg.timestamps;
    this.sackOffered = cfg.sack;
    this.advMss = this.layer.ip.mtuFor(this.remoteIp) - 40;
    this.state = SYN_SENT;
    // The SYN is in flight before it is handed to IP: IP may answer at once (a neighbour known
    // to be unreachable), and that error must find the SYN's sequence number outstanding.
    this.sndNxt = (this.iss + 1) >>> 0;
    this.sndMax = this.sndNxt;
    this.rttStart = this.layer.engine.now;
    this.rttSeq = this.iss;
    this.startRto();
    // Owner callbacks wait until connect() has returned the socket to its caller.
    this.flushing = true;
    this.emitSyn(false);
    this.flushing = false;
    if (this.events !== 0) this.deferredHandle = this.layer.engine.after(0, this, TIMER_DEFERRED_ERROR);
  }

  /** Passive open: a listener got a SYN; answers with SYN-ACK. Called by the layer. */
  acceptSyn(seq: number, opt: TcpParsedOptions): void {
    const cfg = this.layer.config;
    this.irs = seq;
    this.rcvNxt = (seq + 1) >>> 0;
    this.iss = this.layer.newIss();
    this.sndUna = this.iss;
    this.sndBufSeq = (this.iss + 1) >>> 0;
    this.recover = this.iss;
    this.tsOffset = this.layer.engine.rng.nextU32();
    this.advMss = this.layer.ip.mtuFor(this.remoteIp) - 40;
    // RFC 7323: a SYN-ACK carries window scale and timestamps only if the SYN did.
    this.wsOffered = cfg.windowScaling && opt.ws >= 0;
    this.tsOffered = cfg.timestamps && opt.ts;
    this.sackOffered = cfg.sack && opt.sackOk;
    this.negotiate(opt);
    this.state = SYN_RECEIVED;
    this.sndNxt = (this.iss + 1) >>> 0;
    this.sndMax = this.sndNxt;
    this.rttStart = this.layer.engine.now;
    this.rttSeq = this.iss;
    this.startRto();
    this.emitSyn(true);
  }

  /** Applies the peer's SYN options. */
  private negotiate(opt: TcpParsedOptions): void {
    this.peerMss = opt.mss > 0 ? opt.mss : 536;
    if (this.wsOffered && opt.ws >= 0) {
      this.sndShift = opt.ws > MAX_WINDOW_SHIFT ? MAX_WINDOW_SHIFT : opt.ws;
      this.rcvShift = this.ourShift;
    } else {
      this.sndShift = 0;
      this.rcvShift = 0;
    }
    this.sackOk = this.sackOffered && opt.sackOk;
    if (this.tsOffered && opt.ts) {
      this.tsOk = true;
      this.tsRecent = opt.tsVal;
      this.tsRecentValid = true;
    }
    this.updateMss();
    this.rcvMss = this.advMss - (this.tsOk ? TS_OPTION_LEN : 0);
    const cfg = this.layer.config;
    // RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)), generalised to the configured count.
    this.cwnd = Math.min(cfg.initialWindow * this.mss, Math.max(2 * this.mss, 14600));
  }

  private updateMss(): void {
    let m = this.peerMss;
    const local = this.layer.ip.mtuFor(this.remoteIp) - 40;
    if (local < m) m = local;
    if (this.pmtu > 0 && this.pmtu - 40 < m) m = this.pmtu - 40;
    m -= this.tsOk ? TS_OPTION_LEN : 0;
    this.mss = m < 8 ? 8 : m;
  }

  // ---------------------------------------------------------------- segment arrival

  /** A segment for this connection (checksum verified, header length sane). Called by the layer. */
  segmentArrived(b: Uint8Array, off: number, len: number, hlen: number, opt: TcpParsedOptions): void {
    this.stats.segsIn++;
    const flags = b[off + 13]!;
    if (this.state === SYN_SENT) {
      this.synSentArrived(b, off, flags, opt);
      this.kick();
      return;
    }
    if (this.synchronizedArrived(b, off, len, hlen, flags, opt)) {
      // Owner callbacks first: a reply then carries the ACK, and the window reflects what was read.
      this.kick();
      if (this.state !== CLOSED) this.output(false);
    }
    this.kick();
  }

  private synSentArrived(b: Uint8Array, off: number, flags: number, opt: TcpParsedOptions): void {
    const seq = u32(b, off + 4);
    const ack = u32(b, off + 8);
    const hasAck = (flags & ACK) !== 0;
    if (hasAck && (sle(ack, this.iss) || sgt(ack, this.sndMax))) {
      if ((flags & RST) === 0) this.layer.sendResetFor(this.localIp, this.remoteIp, this.localPort, this.remotePort, ack, 0, false);
      return;
    }
    if ((flags & RST) !== 0) {
      if (hasAck) this.fail('ECONNREFUSED', false);
      return;
    }
    if ((flags & SYN) === 0) return;
    this.irs = seq;
    this.rcvNxt = (seq + 1) >>> 0;
    // Our SYN offered min(buffer, 64 KiB - 1) unscaled; that is the right edge the peer knows.
    const synWnd = this.receiveBuffer.capacity < 0xffff ? this.receiveBuffer.capacity : 0xffff;
    this.rcvAdv = (this.rcvNxt + synWnd) >>> 0;
    this.negotiate(opt);
    if (hasAck) {
      this.rttFromAck(ack, opt);
      this.sndUna = ack;
      this.sndWnd = (b[off + 14]! << 8) | b[off + 15]!; // never scaled in a SYN
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
      this.established();
      this.events |= EV_CONNECT;
      this.ackNow = true;
      this.output(false);
    } else {
      // Simultaneous open (RFC 9293 3.5, figure 8).
      this.state = SYN_RECEIVED;
      this.emitSyn(true);
      this.startRto();
    }
  }

  private established(): void {
    this.state = ESTABLISHED;
    this.retries = 0;
    if (this.synRetransmitted && !this.hasRtt && this.rto < RTO_AFTER_SYN_LOSS_NS) this.rto = RTO_AFTER_SYN_LOSS_NS;
    this.stopRto();
    if (this.finQueued) this.state = FIN_WAIT_1;
    this.layer.connectionEstablished(this);
  }

  /** Returns true when the segment went through and output (data, ACK) is due after the owner callbacks. */
  private synchronizedArrived(b: Uint8Array, off: number, len: number, hlen: number, flags: number, opt: TcpParsedOptions): boolean {
    const layer = this.layer;
    const rawSeq = u32(b, off + 4);
    let seq = rawSeq;
    const ack = u32(b, off + 8);
    let dataOff = off + hlen;
    let dataLen = len - hlen;
    let fin = (flags & FIN) !== 0;
    const wnd = sdiff(this.rcvAdv, this.rcvNxt) > 0 ? sdiff(this.rcvAdv, this.rcvNxt) : 0;

    // RFC 5961 3.2: only an RST at exactly rcvNxt resets; one elsewhere in the window earns a challenge ACK.
    if ((flags & RST) !== 0) {
      if (seq === this.rcvNxt) this.resetReceived();
      else if (sge(seq, this.rcvNxt) && slt(seq, this.rcvNxt + (wnd > 0 ? wnd : 1))) this.challengeAck();
      return false;
    }
    // RFC 7323 5.3 PAWS: a timestamp older than ts.recent marks an old duplicate.
    if (this.tsOk && opt.ts && this.tsRecentValid && slt(opt.tsVal, this.tsRecent)) {
      layer.stats.pawsDrops++;
      if (dataLen === 0 && !fin && this.outOfWindowAckLimited()) return false;
      this.ackNow = true;
      this.output(false);
      return false;
    }
    if ((flags & SYN) !== 0) {
      if (this.state === SYN_RECEIVED && seq === this.irs && (flags & ACK) === 0) {
        // Our SYN-ACK was lost and the peer sent its SYN again.
        this.emitSyn(true);
        return false;
      }
      // RFC 5961 4.2: a SYN in a synchronized state is answered with a challenge ACK, never a reset.
      this.challengeAck();
      return false;
    }

    // Trim what we already have (RFC 9293 3.10.7.4 first check, in BSD's form: the ACK still counts).
    let dup = sdiff(this.rcvNxt, seq);
    if (dup > 0) {
      if (dup > dataLen || (dup === dataLen && !fin)) {
        // Wholly old: a retransmission of something we acknowledged, or a keep-alive. Re-ACK it.
        if (fin && dup === dataLen + 1) fin = false;
        else if (dup > dataLen) fin = false;
        dup = dataLen;
        this.ackNow = true;
      }
      dataOff += dup;
      dataLen -= dup;
      seq = (seq + dup) >>> 0;
    }
    // Trim what is beyond the window, which is bounded by the free space of the receive ring.
    const room = this.receiveBuffer.capacity - this.receiveBuffer.length;
    const limit = (this.rcvNxt + room) >>> 0;
    const over = sdiff((seq + dataLen) >>> 0, limit);
    if (over > 0) {
      if (over >= dataLen) {
        if (wnd === 0 && seq === this.rcvNxt) {
          // A zero-window probe: nothing to take, but the ACK in it counts and it gets an answer.
          this.ackNow = true;
        } else {
          if (dataLen === 0 && !fin && this.outOfWindowAckLimited()) return false;
          this.ackNow = true;
          if (this.state === TIME_WAIT && fin) this.armLinger(2 * layer.config.mslNs);
          this.output(false);
          return false;
        }
      }
      dataLen = over >= dataLen ? 0 : dataLen - over;
      fin = false;
    }
    // A FIN again in TIME-WAIT: our last ACK was lost. ACK again and restart 2 MSL.
    if (this.state === TIME_WAIT) {
      if ((flags & FIN) !== 0) {
        this.armLinger(2 * layer.config.mslNs);
        this.ackNow = true;
      }
      this.output(false);
      return false;
    }
    // RFC 7323 4.3: remember the timestamp of the segment that our next ACK will acknowledge.
    if (this.tsOk && opt.ts && sle(seq, this.lastAckSent) && sle(this.lastAckSent, (seq + dataLen + (fin ? 1 : 0)) >>> 0)) {
      if (!this.tsRecentValid || sge(opt.tsVal, this.tsRecent)) {
        this.tsRecent = opt.tsVal;
        this.tsRecentValid = true;
      }
    }

    if ((flags & ACK) === 0) {
      if (this.ackNow) this.output(false);
      return false;
    }
    const wndField = (b[off + 14]! << 8) | b[off + 15]!;
    if (this.state === SYN_RECEIVED) {
      if (sgt(ack, this.sndUna) && sle(ack, this.sndMax)) {
        this.rttFromAck(ack, opt);
        this.sndUna = ack;
        this.sndWnd = wndField << this.sndShift;
        this.maxSndWnd = this.sndWnd;
        this.sndWl1 = seq;
        this.sndWl2 = ack;
        this.established();
        this.events |= this.listener !== null ? EV_ACCEPT : EV_CONNECT;
      } else {
        layer.sendResetFor(this.localIp, this.remoteIp, this.localPort, this.remotePort, ack, 0, false);
        return false;
      }
    }
    if (!this.processAck(seq, ack, wndField, dataLen, flags, opt)) {
      this.output(false);
      return false;
    }
    if (this.state === CLOSED) return false;

    // Segment text (RFC 9293 3.10.7.4 seventh).
    if (dataLen > 0) {
      if (this.state === ESTABLISHED || this.state === FIN_WAIT_1 || this.state === FIN_WAIT_2) {
        if (this.userClosed) {
          // Linux: data for a socket the application closed is answered with a reset.
          this.sendRst();
          this.destroy();
          return false;
        }
        this.acceptData(b, dataOff, seq, dataLen);
      }
    }
    // FIN (eighth).
    if (fin) {
      const finSeq = (seq + dataLen) >>> 0;
      if (finSeq === this.rcvNxt) this.finReceived();
      else if (sgt(finSeq, this.rcvNxt)) {
        this.peerFinPending = true;
        this.peerFinSeq = finSeq;
        this.ackNow = true;
      }
    }
    return true;
  }

  /** RFC 9293 3.10.7.4 fifth check, synchronized states. Returns false when the segment must go no further. */
  private processAck(seq: number, ack: number, wndField: number, dataLen: number, flags: number, opt: TcpParsedOptions): boolean {
    if (sgt(ack, this.sndMax)) {
      // Acknowledges something never sent.
      this.ackNow = true;
      return false;
    }
    if (slt(ack, (this.sndUna - this.maxSndWnd) >>> 0)) {
      // RFC 5961 5.2: too old to be believable.
      this.challengeAck();
      return false;
    }
    const wnd = wndField << this.sndShift;
    if (this.sackOk && opt.sackCount > 0) this.updateScoreboard(ack, opt);
    if (sgt(ack, this.sndUna)) {
      this.newAck(ack, opt);
    } else if (ack === this.sndUna) {
      if (dataLen === 0 && (flags & (SYN | FIN)) === 0 && wnd === this.sndWnd && this.sndMax !== this.sndUna && this.persistHandle === -1 && wnd > 0) {
        this.dupAck();
      } else if (!this.inRecovery) {
        this.dupAcks = 0;
      }
    }
    // Window update (RFC 9293 3.10.7.4: only from a newer segment).
    if (slt(this.sndWl1, seq) || (this.sndWl1 === seq && sle(this.sndWl2, ack))) {
      this.sndWnd = wnd;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
      if (wnd > this.maxSndWnd) this.maxSndWnd = wnd;
      if (wnd > 0 && this.persistHandle !== -1) {
        this.stopPersist();
        // The probe byte may not have been taken; send from the acknowledged point again.
        this.sndNxt = this.sndUna;
      }
    }
    this.persistProbeUnanswered = false;
    // RFC 6675 5 (a): enough SACKed above the first hole says it is lost, duplicates or not.
    if (this.sackOk && !this.inRecovery && this.sacked.length > 0 && sgt(this.sndUna, this.recover) && this.isLost(this.sndUna)) {
      this.enterSackRecovery();
    }

    // Our FIN acknowledged?
    if (this.finQueued && !this.finAcked && sgt(this.sndUna, this.finSeq())) {
      this.finAcked = true;
      switch (this.state) {
        case FIN_WAIT_1:
          this.state = FIN_WAIT_2;
          if (this.userClosed) this.armLinger(this.layer.config.finTimeoutNs);
          break;
        case CLOSING:
          this.enterTimeWait();
          return false;
        case LAST_ACK:
          this.state = CLOSED;
          this.release();
          this.events |= EV_CLOSE;
          return false;
      }
    }
    return true;
  }

  /** Sequence number of our FIN (meaningful once finQueued: no data is added after it). */
  private finSeq(): number {
    return (this.sndBufSeq + this.sendBuffer.length) >>> 0;
  }

  private newAck(ack: number, opt: TcpParsedOptions): void {
    const acked = sdiff(ack, this.sndUna);
    const flightBefore = sdiff(this.sndMax, this.sndUna);
    this.rttFromAck(ack, opt);
    // Release acknowledged bytes of the send buffer.
    let dataAcked = sdiff(ack, this.sndBufSeq);
    if (dataAcked > this.sendBuffer.length) dataAcked = this.sendBuffer.length;
    if (dataAcked > 0) {
      this.sendBuffer.consume(dataAcked);
      this.sndBufSeq = (this.sndBufSeq + dataAcked) >>> 0;
      this.stats.bytesAcked += dataAcked;
    }
    this.sndUna = ack;
    if (slt(this.sndNxt, ack)) this.sndNxt = ack;
    if (this.sacked.length > 0) this.pruneScoreboard();
    if (slt(this.highRxt, ack)) this.highRxt = ack;
    if (this.retries > 0) {
      this.retries = 0;
      if (this.hasRtt) this.rto = this.computeRto();
    }
    const mss = this.mss;
    if (this.inRecovery && this.sackOk) {
      // RFC 6675: partial ACKs need nothing special, the scoreboard drives what goes next.
      if (sgt(ack, this.recover)) {
        this.inRecovery = false;
        this.cwnd = this.ssthresh;
        this.dupAcks = 0;
      }
    } else if (this.inRecovery) {
      if (sgt(ack, this.recover)) {
        // Full acknowledgment (RFC 6582 3.2 step 3, option 1).
        const flight = sdiff(this.sndMax, ack);
        this.cwnd = Math.min(this.ssthresh, (flight > mss ? flight : mss) + mss);
        this.inRecovery = false;
        this.partialAckSeen = false;
        this.dupAcks = 0;
      } else {
        // Partial acknowledgment (step 4): the next hole is lost too.
        this.retransmitAt(ack);
        this.cwnd = this.cwnd > acked ? this.cwnd - acked : 0;
        if (acked >= mss) this.cwnd += mss;
        if (!this.partialAckSeen) {
          this.partialAckSeen = true;
          this.startRto();
        }
      }
    } else {
      this.dupAcks = 0;
      if (this.cwnd < this.ssthresh) {
        // Slow start with appropriate byte counting, L = 2 SMSS (RFC 3465), when cwnd was the limit.
        if (2 * flightBefore >= this.cwnd) this.cwnd += acked < 2 * mss ? acked : 2 * mss;
      } else if (flightBefore + 2 * mss >= this.cwnd) {
        this.caAcked += acked;
        if (this.caAcked >= this.cwnd) {
          this.caAcked -= this.cwnd;
          this.cwnd += mss;
        }
      }
    }
    if (this.sndUna === this.sndMax) this.stopRto();
    else if (!this.inRecovery || !this.partialAckSeen) this.startRto();
    if (this.wantWritable && this.writable && this.sendBuffer.free * 2 >= this.sendBuffer.capacity) {
      this.wantWritable = false;
      this.events |= EV_WRITABLE;
    }
  }

  private dupAck(): void {
    this.dupAcks++;
    this.stats.dupAcksIn++;
    if (this.sackOk) {
      // RFC 6675 5: the third duplicate starts recovery; afterwards `pipe` accounts for what left the network.
      if (!this.inRecovery && this.dupAcks >= 3 && sgt(this.sndUna, this.recover)) this.enterSackRecovery();
      return;
    }
    if (this.inRecovery) {
      // RFC 6582 3.2 step 3 (RFC 5681 3.2 step 4): each further duplicate inflates the window.
      this.cwnd += this.mss;
      return;
    }
    // RFC 6582 3.2 step 2 asks that the ACK cover more than `recover`, so that duplicates from
    // a go-back-N after a timeout do not start a second recovery. We accept an ACK that covers
    // recover itself too, so a loss right after a recovery is still repaired by fast retransmit.
    if (this.dupAcks === 3 && sgt(this.sndUna, this.recover)) {
      const flight = sdiff(this.sndMax, this.sndUna);
      this.ssthresh = Math.max(flight >>> 1, 2 * this.mss);
      this.recover = (this.sndMax - 1) >>> 0;
      this.inRecovery = true;
      this.partialAckSeen = false;
      this.rttStart = -1;
      this.stats.fastRetransmits++;
      this.layer.stats.fastRetransmits++;
      this.retransmitAt(this.sndUna);
      this.cwnd = this.ssthresh + 3 * this.mss;
      this.startRto();
    }
  }

  private rttFromAck(ack: number, opt: TcpParsedOptions): void {
    let sample = -1;
    if (this.tsOk && opt.ts && opt.tsEcr !== 0) {
      const ticks = sdiff(this.tsNow(), opt.tsEcr);
      if (ticks >= 0 && ticks < 0x7fffff) sample = ticks * 1e6;
    } else if (this.rttStart >= 0 && sgt(ack, this.rttSeq)) {
      sample = this.layer.engine.now - this.rttStart;
      this.rttStart = -1;
    }
    if (sample < 0) return;
    // RFC 6298 2.2/2.3.
    if (!this.hasRtt) {
      this.srtt = sample;
      this.rttvar = sample / 2;
      this.hasRtt = true;
    } else {
      const err = this.srtt - sample;
      this.rttvar = 0.75 * this.rttvar + 0.25 * (err < 0 ? -err : err);
      this.srtt = 0.875 * this.srtt + 0.125 * sample;
    }
    if (this.retries === 0) this.rto = this.computeRto();
  }

  private computeRto(): number {
    const cfg = this.layer.config;
    const v = 4 * this.rttvar;
    let rto = this.srtt + (v > CLOCK_GRANULARITY_NS ? v : CLOCK_GRANULARITY_NS);
    if (rto < cfg.minRtoNs) rto = cfg.minRtoNs;
    if (rto > cfg.maxRtoNs) rto = cfg.maxRtoNs;
    return rto;
  }

  private resetReceived(): void {
    switch (this.state) {
      case SYN_RECEIVED:
        if (this.listener !== null) {
          // A passive open goes back to LISTEN: the half-open connection just disappears.
          this.destroy();
          return;
        }
        this.fail('ECONNREFUSED', false);
        return;
      case CLOSING:
      case LAST_ACK:
      case TIME_WAIT:
        this.state = CLOSED;
        this.release();
        this.events |= EV_CLOSE;
        return;
      default:
        this.layer.stats.estabResets++;
        this.fail('ECONNRESET', false);
    }
  }

  /**
   * Linux's tcp_invalid_ratelimit: answer pure ACKs that are out of window at most once per
   * 500 ms, so that two confused endpoints cannot ping-pong ACKs forever.
   */
  private outOfWindowAckLimited(): boolean {
    const now = this.layer.engine.now;
    if (this.lastOutOfWindowAck !== 0 && now - this.lastOutOfWindowAck < OOW_ACK_INTERVAL_NS) return true;
    this.lastOutOfWindowAck = now === 0 ? 1 : now;
    return false;
  }
  lastOutOfWindowAck = 0;

  private challengeAck(): void {
    this.layer.stats.challengeAcks++;
    this.ackNow = true;
    this.output(false);
  }

  /** In-window data at `seq` (>= rcvNxt, trimmed to the ring's free space). */
  private acceptData(b: Uint8Array, dataOff: number, seq: number, len: number): void {
    const ring = this.receiveBuffer;
    if (seq === this.rcvNxt) {
      if (!this.paused && ring.length === 0 && this.ooo.length === 0 && this.pendingView === null) {
        // Nothing waits before it: hand the frame's bytes to the owner without parking them.
        this.pendingView = b.subarray(dataOff, dataOff + len);
        this.rcvNxt = (this.rcvNxt + len) >>> 0;
      } else {
        ring.writeAt(ring.length, b, dataOff, len);
        ring.length += len;
        this.rcvNxt = (this.rcvNxt + len) >>> 0;
        if (this.ooo.length > 0) this.mergeOoo();
      }
      this.stats.bytesReceived += len;
      this.events |= EV_DATA;
      if (len > this.rcvMss) this.rcvMss = len < this.advMss ? len : this.advMss;
      if (this.peerFinPending && this.rcvNxt === this.peerFinSeq) this.finReceived();
      // RFC 9293 3.8.6.3 / RFC 1122 4.2.3.2: ACK at least every second full-sized segment.
      if (sdiff(this.rcvNxt, this.lastAckSent) >= 2 * this.rcvMss) this.ackNow = true;
      else if (!this.ackNow) this.armDelack();
      return;
    }
    // Out of order: park it at its place in the ring and ACK at once (duplicate ACK for the sender).
    this.stats.outOfOrder++;
    this.ackNow = true;
    this.lastOooSeq = seq;
    const end = (seq + len) >>> 0;
    if (!this.insertOoo(seq, end)) return;
    ring.writeAt(ring.length + sdiff(seq, this.rcvNxt), b, dataOff, len);
  }

  /** Adds [start, end) to the out-of-order list, merging neighbours. False when the list is full. */
  private insertOoo(start: number, end: number): boolean {
    const r = this.ooo;
    let i = 0;
    while (i < r.length && slt(r[i + 1]!, start)) i += 2;
    // r[i..] are the ranges that end at or after start.
    let j = i;
    let s = start;
    let e = end;
    while (j < r.length && sle(r[j]!, e)) {
      if (slt(r[j]!, s)) s = r[j]!;
      if (sgt(r[j + 1]!, e)) e = r[j + 1]!;
      j += 2;
    }
    if (j === i && r.length >= 2 * this.layer.config.maxOooRanges) return false;
    r.splice(i, j - i, s, e);
    return true;
  }

  /** rcvNxt moved: ranges that now touch it become in-order data. */
  private mergeOoo(): void {
    const r = this.ooo;
    let n = 0;
    while (n < r.length && sle(r[n]!, this.rcvNxt)) {
      const end = r[n + 1]!;
      if (sgt(end, this.rcvNxt)) {
        this.receiveBuffer.length += sdiff(end, this.rcvNxt);
        this.stats.bytesReceived += sdiff(end, this.rcvNxt);
        this.rcvNxt = end;
      }
      n += 2;
    }
    if (n > 0) {
      r.splice(0, n);
      // A hole was filled: ACK at once so the sender's recovery ends quickly (RFC 5681 4.2).
      this.ackNow = true;
    }
  }

  private finReceived(): void {
    this.peerFinPending = false;
    this.peerFinReceived = true;
    this.rcvNxt = (this.rcvNxt + 1) >>> 0;
    this.ackNow = true;
    this.events |= EV_END;
    switch (this.state) {
      case SYN_RECEIVED:
      case ESTABLISHED:
        this.state = CLOSE_WAIT;
        break;
      case FIN_WAIT_1:
        if (this.finAcked) this.enterTimeWait();
        else this.state = CLOSING;
        break;
      case FIN_WAIT_2:
        this.enterTimeWait();
        break;
    }
  }

  private enterTimeWait(): void {
    // The last ACK goes out before the timers stop (output runs after this returns).
    this.state = TIME_WAIT;
    this.stopRto();
    this.stopPersist();
    this.armLinger(2 * this.layer.config.mslNs);
    this.events |= EV_CLOSE;
  }

  // ---------------------------------------------------------------- sending

  /**
   * Sends what the windows, Nagle and silly-window avoidance allow, then a pure ACK if one is
   * owed. `probe`: the persist timer fired, so send one byte (or the FIN) even into a zero window.
   */
  output(probe: boolean): void {
    const st = this.state;
    const dataStates = st === ESTABLISHED || st === CLOSE_WAIT || st === FIN_WAIT_1 || st === CLOSING || st === LAST_ACK;
    let sent = false;
    if (dataStates && this.inRecovery && this.sackOk) {
      sent = this.sackRecoveryOutput();
    } else if (dataStates) {
      const mss = this.mss;
      for (;;) {
        const seq = this.sndNxt;
        const dataEnd = (this.sndBufSeq + this.sendBuffer.length) >>> 0;
        let avail = sdiff(dataEnd, seq);
        if (avail < 0) avail = 0;
        const wndLimit = this.sndWnd < this.cwnd ? this.sndWnd : this.cwnd;
        const usable = sdiff((this.sndUna + wndLimit) >>> 0, seq);
        let len = avail < mss ? avail : mss;
        if (len > usable) {
          if (probe && len > 0) len = usable > 0 ? usable : 1;
          else len = usable > 0 ? usable : 0;
        }
        const finNext = this.finQueued && !this.finAcked && ((seq + len) >>> 0) === dataEnd && sle(seq, dataEnd);
        const fin = finNext && (sdiff((this.sndUna + this.sndWnd) >>> 0, (seq + len) >>> 0) >= 1 || probe || slt(seq, this.sndMax));
        let go = fin;
        if (len > 0 && !go) {
          if (len === mss) go = true;
          else if (slt(seq, this.sndMax)) go = true; // retransmission
          else if (((seq + len) >>> 0) === dataEnd && (this.noDelay || this.sndMax === this.sndUna || this.finQueued)) go = true;
          else if (this.maxSndWnd > 0 && len >= this.maxSndWnd >>> 1) go = true;
          else if (probe) go = true;
        }
        if (!go) break;
        const isProbe = probe && (usable <= 0 || this.sndWnd === 0);
        this.emitData(seq, len, fin, isProbe);
        sent = true;
        probe = false;
        if (isProbe) {
          this.stats.zeroWindowProbes++;
          this.layer.stats.zeroWindowProbes++;
          break;
        }
        if (fin) break;
      }
      // Persist: data (or our FIN) waits, nothing is in flight to bring an ACK, so without a
      // timer a lost window update would stall the connection forever (RFC 9293 3.8.6.1).
      if (!sent && this.sndMax === this.sndUna && this.rtoDeadline === 0 && this.persistHandle === -1 && this.hasUnsent()) {
        this.armPersist();
      }
    }
    if (!sent && this.ackNow && st !== CLOSED && st !== SYN_SENT) this.emit(this.ackSeq(), ACK, 0, false);
  }

  // ---------------------------------------------------------------- SACK (RFC 2018, RFC 6675)

  /** Merges the peer's SACK blocks into the scoreboard, ignoring D-SACKs and blocks outside what is in flight. */
  private updateScoreboard(ack: number, opt: TcpParsedOptions): void {
    const una = sgt(ack, this.sndUna) ? ack : this.sndUna;
    // Nothing past our FIN's sequence number is data; never let a block cover it.
    const top = this.finQueued && sgt(this.sndMax, this.finSeq()) ? this.finSeq() : this.sndMax;
    for (let i = 0; i < opt.sackCount; i++) {
      let l = opt.sack[2 * i]!;
      let r = opt.sack[2 * i + 1]!;
      if (!sgt(r, l) || sle(r, una) || sgt(r, this.sndMax)) continue;
      if (slt(l, una)) l = una;
      if (sgt(r, top)) r = top;
      if (!sgt(r, l)) continue;
      this.insertRange(this.sacked, l, r);
    }
  }

  /** Adds [l, r) to a sorted list of ranges, merging overlaps and neighbours. */
  private insertRange(list: number[], l: number, r: number): void {
    let i = 0;
    while (i < list.length && slt(list[i + 1]!, l)) i += 2;
    let j = i;
    while (j < list.length && sle(list[j]!, r)) {
      if (slt(list[j]!, l)) l = list[j]!;
      if (sgt(list[j + 1]!, r)) r = list[j + 1]!;
      j += 2;
    }
    list.splice(i, j - i, l, r);
  }

  /** Drops scoreboard ranges the cumulative ACK has passed. */
  private pruneScoreboard(): void {
    const r = this.sacked;
    let n = 0;
    while (n < r.length && sle(r[n + 1]!, this.sndUna)) n += 2;
    if (n > 0) r.splice(0, n);
    if (r.length > 0 && slt(r[0]!, this.sndUna)) r[0] = this.sndUna;
  }

  /**
   * RFC 6675 IsLost as a boundary: every un-SACKed byte below it has three SACKed ranges, or
   * more than 2 SMSS of SACKed bytes, above it. sndUna when nothing is lost.
   */
  private lostEdge(): number {
    const r = this.sacked;
    let bytes = 0;
    let ranges = 0;
    for (let i = r.length - 2; i >= 0; i -= 2) {
      bytes += sdiff(r[i + 1]!, r[i]!);
      ranges++;
      if (ranges >= 3 || bytes > 2 * this.mss) return r[i]!;
    }
    return this.sndUna;
  }

  private isLost(seq: number): boolean {
    return slt(seq, this.lostEdge());
  }

  /** Bytes of [a, b) that the scoreboard does not cover. */
  private unsacked(a: number, b: number): number {
    let n = sdiff(b, a);
    if (n <= 0) return 0;
    const r = this.sacked;
    for (let i = 0; i < r.length; i += 2) {
      const s0 = slt(r[i]!, a) ? a : r[i]!;
      const e0 = sgt(r[i + 1]!, b) ? b : r[i + 1]!;
      if (sgt(e0, s0)) n -= sdiff(e0, s0);
    }
    return n;
  }

  /** RFC 6675 SetPipe: bytes believed in the network (not SACKed, not lost, or lost and sent again). */
  private pipe(): number {
    let edge = this.lostEdge();
    if (slt(edge, this.sndUna)) edge = this.sndUna;
    const rxtTop = slt(this.highRxt, edge) ? this.highRxt : edge;
    return this.unsacked(edge, this.sndMax) + this.unsacked(this.sndUna, rxtTop);
  }

  /** First un-SACKed byte at or after `from` and below `limit`, and the length of its hole (at most one MSS); null when none. */
  private holeFrom(from: number, limit: number): [number, number] | null {
    let seq = slt(from, this.sndUna) ? this.sndUna : from;
    const r = this.sacked;
    let i = 0;
    for (; i < r.length; i += 2) {
      if (sle(r[i + 1]!, seq)) continue;
      if (sle(r[i]!, seq)) {
        seq = r[i + 1]!;
        continue;
      }
      break;
    }
    if (!slt(seq, limit)) return null;
    const holeEnd = i < r.length ? r[i]! : limit;
    let len = sdiff(holeEnd, seq);
    if (len > this.mss) len = this.mss;
    return len > 0 ? [seq, len] : null;
  }

  private enterSackRecovery(): void {
    const flight = sdiff(this.sndMax, this.sndUna);
    this.ssthresh = Math.max(flight >>> 1, 2 * this.mss);
    this.cwnd = this.ssthresh;
    this.recover = (this.sndMax - 1) >>> 0;
    this.inRecovery = true;
    this.highRxt = this.sndUna;
    this.rttStart = -1;
    this.stats.fastRetransmits++;
    this.layer.stats.fastRetransmits++;
    this.layer.stats.sackRecoveries++;
    // RFC 6675 5 (4.3): the first lost segment goes at once, whatever pipe says.
    const hole = this.holeFrom(this.sndUna, this.sndMax);
    if (hole !== null) this.retransmitHole(hole[0], hole[1]);
    this.startRto();
  }

  private retransmitHole(seq: number, len: number): void {
    this.stats.retransmits++;
    this.layer.stats.retransSegs++;
    this.emit(seq, ACK, len, false);
    const end = (seq + len) >>> 0;
    if (sgt(end, this.highRxt)) this.highRxt = end;
  }

  /** Sends while cwnd - pipe allows, choosing segments by RFC 6675 NextSeg. Returns whether anything went. */
  private sackRecoveryOutput(): boolean {
    let sent = false;
    const r = this.sacked;
    for (let guard = 0; guard < 4096; guard++) {
      if (this.cwnd - this.pipe() < this.mss) break;
      const edge = this.lostEdge();
      // Rule 1: a lost hole not yet sent again in this recovery.
      let hole = this.holeFrom(this.highRxt, edge);
      if (hole !== null) {
        this.retransmitHole(hole[0], hole[1]);
        sent = true;
        continue;
      }
      // Rule 2: new data the peer's window takes.
      const dataEnd = (this.sndBufSeq + this.sendBuffer.length) >>> 0;
      let len = sdiff(dataEnd, this.sndMax);
      const room = sdiff((this.sndUna + this.sndWnd) >>> 0, this.sndMax);
      if (len > room) len = room;
      if (len > this.mss) len = this.mss;
      const fin = this.finQueued && !this.finAcked && ((this.sndMax + (len > 0 ? len : 0)) >>> 0) === dataEnd && sle(this.sndMax, dataEnd) && room > len;
      if (len > 0 || fin) {
        this.sndNxt = this.sndMax;
        this.emitData(this.sndMax, len > 0 ? len : 0, fin, false);
        sent = true;
        if (fin) break;
        continue;
      }
      // Rule 3: a hole below the highest SACKed byte, not yet counted lost.
      hole = r.length > 0 ? this.holeFrom(this.highRxt, r[r.length - 1]!) : null;
      if (hole !== null) {
        this.retransmitHole(hole[0], hole[1]);
        sent = true;
        continue;
      }
      break;
    }
    return sent;
  }

  private hasUnsent(): boolean {
    const dataEnd = (this.sndBufSeq + this.sendBuffer.length) >>> 0;
    return slt(this.sndNxt, dataEnd) || (this.finQueued && !this.finAcked && sle(this.sndNxt, dataEnd));
  }

  /** One segment of data (and/or FIN) at seq; updates sndNxt/sndMax and the timers. */
  private emitData(seq: number, len: number, fin: boolean, probe: boolean): void {
    const dataEnd = (this.sndBufSeq + this.sendBuffer.length) >>> 0;
    let flags = ACK;
    if (fin) flags |= FIN;
    if (len > 0 && ((seq + len) >>> 0) === dataEnd) flags |= PSH;
    const retransmission = slt(seq, this.sndMax);
    if (retransmission) {
      this.stats.retransmits++;
      this.layer.stats.retransSegs++;
    }
    this.emit(seq, flags, len, false);
    const end = (seq + len + (fin ? 1 : 0)) >>> 0;
    // A window probe is not transmission proper (BSD): sndNxt stays at the window's edge so our
    // ACKs keep a sequence number the peer's zero window accepts; only sndMax records the byte.
    if (!probe) this.sndNxt = end;
    if (sgt(end, this.sndMax)) {
      if (!retransmission && this.rttStart < 0 && !this.tsOk) {
        this.rttStart = this.layer.engine.now;
        this.rttSeq = seq;
      }
      this.sndMax = end;
    }
    if (!probe && this.rtoDeadline === 0) this.startRto();
  }

  /** Sends one segment starting at `seq` again, whatever the windows say (fast retransmit, partial ACK). */
  private retransmitAt(seq: number): void {
    const finSent = this.finQueued && sgt(this.sndMax, this.finSeq());
    const dataLimit = finSent ? this.finSeq() : this.sndMax;
    let len = sdiff(dataLimit, seq);
    if (len > this.mss) len = this.mss;
    if (len < 0) len = 0;
    const fin = finSent && ((seq + len) >>> 0) === this.finSeq();
    if (len === 0 && !fin) return;
    this.stats.retransmits++;
    this.layer.stats.retransSegs++;
    this.emit(seq, ACK | (fin ? FIN : 0), len, false);
    const end = (seq + len + (fin ? 1 : 0)) >>> 0;
    if (slt(this.sndNxt, end)) this.sndNxt = end;
  }

  /**
   * Sequence number of a segment without data: the next new byte (sndMax), not a rewound sndNxt
   * that the peer has already acknowledged; in persist, the window edge (BSD tcp_output).
   */
  private ackSeq(): number {
    return this.persistHandle !== -1 ? this.sndNxt : this.sndMax;
  }

  private sendRst(): void {
    this.emit(this.ackSeq(), RST | ACK, 0, true);
    this.layer.stats.outRsts++;
  }

  /** The window to advertise now, with receiver-side silly-window avoidance; moves rcvAdv. Returns the header field. */
  private selectWindow(): number {
    const ring = this.receiveBuffer;
    const room = ring.capacity - ring.length;
    let cur = sdiff(this.rcvAdv, this.rcvNxt);
    if (cur < 0) cur = 0;
    let wnd = cur;
    const sws = ring.capacity >>> 1 < this.rcvMss ? ring.capacity >>> 1 : this.rcvMss;
    // RFC 9293 3.8.6.2.2: move the right edge only by a useful amount.
    if (room - cur >= sws || (room > cur && room === ring.capacity)) wnd = room;
    const maxWnd = 0xffff << this.rcvShift;
    if (wnd > maxWnd) wnd = maxWnd;
    if (wnd > cur) {
      const unit = (1 << this.rcvShift) - 1;
      wnd = wnd & ~unit;
      if (wnd < cur) wnd = cur;
    }
    this.rcvAdv = (this.rcvNxt + wnd) >>> 0;
    // Round up so the peer never sees the right edge move left.
    const field = (wnd + (1 << this.rcvShift) - 1) >>> this.rcvShift;
    return field > 0xffff ? 0xffff : field;
  }

  /** The application read enough to make a window update worth a segment (Linux's rule: the window at least doubles). */
  private windowUpdateDue(): boolean {
    const ring = this.receiveBuffer;
    if (this.peerFinReceived) return false;
    let cur = sdiff(this.rcvAdv, this.rcvNxt);
    if (cur < 0) cur = 0;
    if (2 * cur > ring.capacity) return false;
    const room = ring.capacity - ring.length;
    const sws = ring.capacity >>> 1 < this.rcvMss ? ring.capacity >>> 1 : this.rcvMss;
    return room - cur >= sws && room >= 2 * cur;
  }

  /** Builds and hands one non-SYN segment to IP. */
  private emit(seq: number, flags: number, len: number, rst: boolean): void {
    const ip = this.layer.ip;
    const hr = ip.headroom;
    const tsLen = this.tsOk && !rst ? TS_OPTION_LEN : 0;
    // SACK blocks ride on ACKs while out-of-order data waits, in the room the segment leaves.
    let blocks = 0;
    if (this.sackOk && !rst && this.ooo.length > 0) {
      blocks = this.ooo.length >>> 1;
      const max = tsLen > 0 ? 3 : 4;
      if (blocks > max) blocks = max;
      const fit = Math.floor((this.mss - len - 4) / 8);
      if (blocks > fit) blocks = fit > 0 ? fit : 0;
    }
    const hlen = 20 + tsLen + (blocks > 0 ? 4 + 8 * blocks : 0);
    const segLen = hlen + len;
    const buf = this.layer.allocSegment(hr + segLen);
    const o = hr;
    buf[o] = this.localPort >>> 8;
    buf[o + 1] = this.localPort & 0xff;
    buf[o + 2] = this.remotePort >>> 8;
    buf[o + 3] = this.remotePort & 0xff;
    put32(buf, o + 4, seq);
    put32(buf, o + 8, this.rcvNxt);
    buf[o + 12] = hlen << 2;
    buf[o + 13] = flags;
    if (!rst) {
      const w = this.selectWindow();
      buf[o + 14] = w >>> 8;
      buf[o + 15] = w & 0xff;
    }
    if (tsLen > 0) {
      buf[o + 20] = 1;
      buf[o + 21] = 1;
      buf[o + 22] = 8;
      buf[o + 23] = 10;
      put32(buf, o + 24, this.tsNow());
      put32(buf, o + 28, this.tsRecent);
    }
    if (blocks > 0) this.writeSackBlocks(buf, o + 20 + tsLen, blocks);
    if (len > 0) this.sendBuffer.copyOut(sdiff(seq, this.sndBufSeq), len, buf, o + hlen);
    tcpSegmentFillChecksum(buf, o, segLen, this.localIp, this.remoteIp);
    if ((flags & ACK) !== 0) {
      this.lastAckSent = this.rcvNxt;
      this.ackNow = false;
      this.delackDeadline = 0;
    }
    this.stats.segsOut++;
    this.layer.stats.outSegs++;
    ip.sendSegment(this.localIp, this.remoteIp, buf, o, segLen);
  }

  /**
   * NOP NOP SACK with `n` blocks: first the one holding the latest out-of-order segment
   * (RFC 2018 4), then the others from the highest down.
   */
  private writeSackBlocks(buf: Uint8Array, p: number, n: number): void {
    buf[p] = 1;
    buf[p + 1] = 1;
    buf[p + 2] = 5;
    buf[p + 3] = 2 + 8 * n;
    p += 4;
    const r = this.ooo;
    let first = -1;
    for (let i = 0; i < r.length; i += 2) {
      if (sle(r[i]!, this.lastOooSeq) && slt(this.lastOooSeq, r[i + 1]!)) first = i;
    }
    let written = 0;
    if (first >= 0) {
      put32(buf, p, r[first]!);
      put32(buf, p + 4, r[first + 1]!);
      p += 8;
      written++;
    }
    for (let i = r.length - 2; i >= 0 && written < n; i -= 2) {
      if (i === first) continue;
      put32(buf, p, r[i]!);
      put32(buf, p + 4, r[i + 1]!);
      p += 8;
      written++;
    }
  }

  /** SYN or SYN-ACK with our options, laid out as Linux does: MSS, SACK_PERM|NOP NOP, TS, NOP, WS. */
  private emitSyn(withAck: boolean): void {
    const ip = this.layer.ip;
    const hr = ip.headroom;
    const ts = withAck ? this.tsOk : this.tsOffered;
    const ws = this.wsOffered;
    const sack = this.sackOffered;
    const optLen = 4 + (ts ? 12 : sack ? 4 : 0) + (ws ? 4 : 0);
    const hlen = 20 + optLen;
    const buf = this.layer.allocSegment(hr + hlen);
    const o = hr;
    buf[o] = this.localPort >>> 8;
    buf[o + 1] = this.localPort & 0xff;
    buf[o + 2] = this.remotePort >>> 8;
    buf[o + 3] = this.remotePort & 0xff;
    put32(buf, o + 4, this.iss);
    put32(buf, o + 8, withAck ? this.rcvNxt : 0);
    buf[o + 12] = hlen << 2;
    buf[o + 13] = withAck ? SYN | ACK : SYN;
    // RFC 7323 2.2: the window of a SYN is never scaled.
    const cap = this.receiveBuffer.capacity;
    const w = cap < 0xffff ? cap : 0xffff;
    buf[o + 14] = w >>> 8;
    buf[o + 15] = w & 0xff;
    let p = o + 20;
    buf[p] = 2;
    buf[p + 1] = 4;
    buf[p + 2] = this.advMss >>> 8;
    buf[p + 3] = this.advMss & 0xff;
    p += 4;
    if (ts) {
      // SACK_PERM takes the two bytes Linux would otherwise fill with NOPs before TS.
      if (sack) {
        buf[p] = 4;
        buf[p + 1] = 2;
      } else {
        buf[p] = 1;
        buf[p + 1] = 1;
      }
      buf[p + 2] = 8;
      buf[p + 3] = 10;
      put32(buf, p + 4, this.tsNow());
      put32(buf, p + 8, withAck ? this.tsRecent : 0);
      p += 12;
    } else if (sack) {
      buf[p] = 1;
      buf[p + 1] = 1;
      buf[p + 2] = 4;
      buf[p + 3] = 2;
      p += 4;
    }
    if (ws) {
      buf[p] = 1;
      buf[p + 1] = 3;
      buf[p + 2] = 3;
      buf[p + 3] = this.ourShift;
      p += 4;
    }
    tcpSegmentFillChecksum(buf, o, hlen, this.localIp, this.remoteIp);
    if (withAck) this.lastAckSent = this.rcvNxt;
    this.rcvAdv = (this.rcvNxt + w) >>> 0;
    this.stats.segsOut++;
    this.layer.stats.outSegs++;
    ip.sendSegment(this.localIp, this.remoteIp, buf, o, hlen);
  }

  /** RFC 7323 timestamp clock: 1 ms ticks from a per-connection random offset. */
  private tsNow(): number {
    return (Math.floor(this.layer.engine.now / 1e6) + this.tsOffset) >>> 0;
  }

  // ---------------------------------------------------------------- timers

  onTimer(tag: number): void {
    const now = this.layer.engine.now;
    switch (tag) {
      case TIMER_RTO:
        this.rtoHandle = -1;
        if (this.rtoDeadline === 0) return;
        if (now < this.rtoDeadline) {
          this.rtoArmedAt = this.rtoDeadline;
          this.rtoHandle = this.layer.engine.schedule(this.rtoDeadline, this, TIMER_RTO);
          return;
        }
        this.rtoDeadline = 0;
        this.retransmitTimeout();
        break;
      case TIMER_PERSIST:
        this.persistHandle = -1;
        this.persistTimeout();
        break;
      case TIMER_DELACK:
        this.delackHandle = -1;
        if (this.delackDeadline === 0) break;
        if (now < this.delackDeadline) {
          this.delackArmedAt = this.delackDeadline;
          this.delackHandle = this.layer.engine.schedule(this.delackDeadline, this, TIMER_DELACK);
          break;
        }
        this.delackDeadline = 0;
        if (this.state >= ESTABLISHED && this.state !== TIME_WAIT && this.lastAckSent !== this.rcvNxt) {
          this.stats.delayedAcks++;
          this.ackNow = true;
          this.output(false);
        }
        break;
      case TIMER_LINGER:
        this.lingerHandle = -1;
        if (this.state === TIME_WAIT || this.state === FIN_WAIT_2) {
          const wasTimeWait = this.state === TIME_WAIT;
          this.state = CLOSED;
          this.release();
          if (!wasTimeWait) this.events |= EV_CLOSE;
        }
        break;
      case TIMER_DEFERRED_ERROR:
        // Events held back while connect() ran, or the error connect() found (failLater).
        this.deferredHandle = -1;
        if (this.error !== null && this.state === CLOSED && !this.closeDelivered) this.events |= EV_ERROR | EV_CLOSE;
        break;
    }
    this.kick();
  }

  private retransmitTimeout(): void {
    const cfg = this.layer.config;
    const st = this.state;
    if (st === SYN_SENT || st === SYN_RECEIVED) {
      this.retries++;
      if (this.retries > (st === SYN_SENT || this.listener === null ? cfg.synRetries : cfg.synAckRetries)) {
        if (this.listener !== null) this.destroy();
        else this.fail(this.softError ?? 'ETIMEDOUT', false);
        return;
      }
      this.synRetransmitted = true;
      this.rttStart = -1;
      this.rto = Math.min(this.rto * 2, cfg.maxRtoNs);
      this.stats.retransmits++;
      this.stats.timeouts++;
      this.layer.stats.retransSegs++;
      this.layer.stats.timeouts++;
      this.emitSyn(st === SYN_RECEIVED);
      this.startRto();
      return;
    }
    if (this.sndUna === this.sndMax) return;
    if (this.sndWnd === 0) {
      // The peer closed its window on data in flight: that is flow control, not loss.
      this.sndNxt = this.sndUna;
      this.armPersist();
      return;
    }
    this.retries++;
    if (this.retries > cfg.retries) {
      this.fail(this.softError ?? 'ETIMEDOUT', false);
      return;
    }
    this.stats.timeouts++;
    this.layer.stats.timeouts++;
    const flight = sdiff(this.sndMax, this.sndUna);
    // RFC 5681 (4): halve once per episode, not on every backed-off retransmission.
    if (this.retries === 1) this.ssthresh = Math.max(flight >>> 1, 2 * this.mss);
    this.cwnd = this.mss;
    this.caAcked = 0;
    this.inRecovery = false;
    this.partialAckSeen = false;
    this.dupAcks = 0;
    // Forget SACK information after a timeout (RFC 6675 5.1 allows keeping it; discarding is
    // safe against a receiver that reneged) and go back to the first unacknowledged byte.
    this.sacked.length = 0;
    this.recover = (this.sndMax - 1) >>> 0;
    this.rttStart = -1;
    // RFC 6298 5.5: back off.
    this.rto = Math.min(this.rto * 2, cfg.maxRtoNs);
    this.sndNxt = this.sndUna;
    this.output(false);
    if (this.rtoDeadline === 0 && this.sndUna !== this.sndMax) this.startRto();
  }

  private persistTimeout(): void {
    const st = this.state;
    if (!(st === ESTABLISHED || st === CLOSE_WAIT || st === FIN_WAIT_1 || st === CLOSING || st === LAST_ACK)) return;
    if (!this.hasUnsent() && this.sndUna === this.sndMax) return;
    if (this.persistProbeUnanswered) {
      this.retries++;
      if (this.retries > this.layer.config.retries) {
        this.fail(this.softError ?? 'ETIMEDOUT', false);
        return;
      }
    }
    this.persistProbeUnanswered = true;
    this.sndNxt = this.sndUna;
    this.output(true);
    if (this.state !== CLOSED && this.persistHandle === -1 && (this.sndWnd === 0 || this.hasUnsent()) && this.rtoDeadline === 0) {
      this.persistBackoff++;
      this.armPersist();
    }
  }

  private startRto(): void {
    const at = this.layer.engine.now + this.rto;
    this.rtoDeadline = at;
    if (this.rtoHandle !== -1) {
      if (this.rtoArmedAt <= at) return; // fires early, then re-arms for the deadline
      this.layer.engine.cancel(this.rtoHandle);
    }
    this.rtoArmedAt = at;
    this.rtoHandle = this.layer.engine.schedule(at, this, TIMER_RTO);
  }

  private stopRto(): void {
    this.rtoDeadline = 0;
  }

  private armPersist(): void {
    const cfg = this.layer.config;
    let t = this.rto * 2 ** this.persistBackoff;
    if (t < cfg.minRtoNs) t = cfg.minRtoNs;
    if (t > cfg.maxRtoNs) t = cfg.maxRtoNs;
    if (this.persistHandle !== -1) this.layer.engine.cancel(this.persistHandle);
    this.persistHandle = this.layer.engine.after(t, this, TIMER_PERSIST);
  }

  private stopPersist(): void {
    if (this.persistHandle !== -1) this.layer.engine.cancel(this.persistHandle);
    this.persistHandle = -1;
    this.persistBackoff = 0;
  }

  /** Owes an ACK within the delayed-ACK time, counted from the first unacknowledged segment. */
  private armDelack(): void {
    if (this.delackDeadline !== 0) return;
    const at = this.layer.engine.now + this.layer.config.delayedAckNs;
    this.delackDeadline = at;
    if (this.delackHandle !== -1) {
      if (this.delackArmedAt <= at) return; // fires early, then re-arms for the deadline
      this.layer.engine.cancel(this.delackHandle);
    }
    this.delackArmedAt = at;
    this.delackHandle = this.layer.engine.schedule(at, this, TIMER_DELACK);
  }

  private armLinger(ns: number): void {
    if (this.lingerHandle !== -1) this.layer.engine.cancel(this.lingerHandle);
    this.lingerHandle = this.layer.engine.after(ns, this, TIMER_LINGER);
  }

  private cancelTimers(): void {
    const engine = this.layer.engine;
    if (this.rtoHandle !== -1) engine.cancel(this.rtoHandle);
    if (this.persistHandle !== -1) engine.cancel(this.persistHandle);
    if (this.delackHandle !== -1) engine.cancel(this.delackHandle);
    if (this.lingerHandle !== -1) engine.cancel(this.lingerHandle);
    this.rtoHandle = this.persistHandle = this.delackHandle = this.lingerHandle = -1;
    this.rtoDeadline = 0;
  }

  // ---------------------------------------------------------------- ending

  /** Ends the connection with an error for the owner. */
  fail(code: TcpErrorCode, rst: boolean): void {
    if (this.state === CLOSED) return;
    if (rst) this.sendRst();
    if (this.state === SYN_SENT || this.state === SYN_RECEIVED) this.layer.stats.attemptFails++;
    this.error = code;
    this.destroy();
    this.events |= EV_ERROR;
  }

  /** Drops a TIME-WAIT entry that a new incarnation of the connection takes over. */
  forget(): void {
    this.state = CLOSED;
    this.release();
  }

  /** Ends without a word on the wire (the host stopped). */
  vanish(): void {
    if (this.state === CLOSED) return;
    const quiet = this.state === TIME_WAIT;
    this.error = 'ECONNABORTED';
    this.destroy();
    if (!quiet) this.events |= EV_ERROR;
    this.kick();
  }

  /** Reports an error found synchronously inside connect() from a timer, after connect returned. */
  failLater(code: TcpErrorCode): void {
    this.error = code;
    this.state = CLOSED;
    this.layer.stats.attemptFails++;
    this.deferredHandle = this.layer.engine.after(0, this, TIMER_DEFERRED_ERROR);
  }

  /** Soft ICMP errors (RFC 1122 4.2.3.9) are remembered; hard ones abort a connection still opening. */
  icmpError(code: TcpErrorCode, fatal: boolean): void {
    if (fatal && (this.state === SYN_SENT || (this.state === SYN_RECEIVED && this.listener === null))) {
      this.fail(code, false);
      this.kick();
      return;
    }
    this.softError = code;
  }

  /** Path MTU dropped (RFC 1191): smaller segments, and what was lost to the too-big drop goes again. */
  pmtuDecreased(mtu: number): void {
    if (this.pmtu !== 0 && mtu >= this.pmtu) return;
    const before = this.mss;
    this.pmtu = mtu;
    this.updateMss();
    if (this.mss >= before) return;
    this.layer.stats.pmtuUpdates++;
    if (this.state >= ESTABLISHED && this.sndUna !== this.sndMax) {
      // Like Linux's tcp_simple_retransmit: not a congestion signal, so cwnd stays.
      this.sndNxt = this.sndUna;
      this.rttStart = -1;
      this.output(false);
    }
    this.kick();
  }

  private destroy(): void {
    const wasOpen = this.state !== CLOSED;
    this.state = CLOSED;
    this.release();
    if (wasOpen) this.events |= EV_CLOSE;
  }

  /** Leaves the layer's tables and stops the timers. */
  private release(): void {
    this.cancelTimers();
    if (this.listener !== null && this.listener.pending > 0 && !this.listenerCounted) {
      this.listener.pending--;
      this.listenerCounted = true;
    }
    this.layer.remove(this);
  }
  /** The listener's pending count has been given back. */
  listenerCounted = false;

  // ---------------------------------------------------------------- events

  isClosed(): boolean {
    return this.state === CLOSED;
  }

  /** Runs pending owner callbacks unless already inside one (the outer loop then sees them). */
  kick(): void {
    if (!this.flushing && this.events !== 0) this.flushEvents();
  }

  private flushEvents(): void {
    this.flushing = true;
    try {
      while (this.events !== 0) {
        const ev = this.events;
        if (ev & EV_ACCEPT) {
          this.events &= ~EV_ACCEPT;
          const l = this.listener;
          this.listener = null;
          if (l !== null && l.open && this.state !== CLOSED) {
            l.accepted++;
            l.owner.onAccept(l, this);
            // onAccept may have closed it: read the state afresh.
            if (this.owner === null && !this.isClosed()) this.close();
          } else if (this.state !== CLOSED) {
            this.abort();
          }
          continue;
        }
        if (ev & EV_CONNECT) {
          this.events &= ~EV_CONNECT;
          if (this.state !== CLOSED) this.owner?.onConnect?.(this);
          continue;
        }
        if (ev & EV_DATA) {
          this.events &= ~EV_DATA;
          const v = this.pendingView;
          if (v !== null) {
            this.pendingView = null;
            if (!this.userClosed) this.owner?.onData?.(this, v);
          }
          this.drainReceiveBuffer();
          continue;
        }
        if (ev & EV_END) {
          if (this.receiveBuffer.length > 0 || this.pendingView !== null) {
            // 'end' comes after the data; a paused owner gets it from resume().
            if (this.paused) {
              this.events &= ~EV_END;
              continue;
            }
            this.events |= EV_DATA;
            continue;
          }
          this.events &= ~EV_END;
          if (!this.endDelivered) {
            this.endDelivered = true;
            if (!this.userClosed) this.owner?.onEnd?.(this);
          }
          continue;
        }
        if (ev & EV_WRITABLE) {
          this.events &= ~EV_WRITABLE;
          if (this.writable) this.owner?.onWritable?.(this);
          continue;
        }
        if (ev & EV_ERROR) {
          this.events &= ~EV_ERROR;
          this.owner?.onError?.(this, this.error ?? 'ECONNRESET');
          continue;
        }
        if (ev & EV_CLOSE) {
          this.events &= ~EV_CLOSE;
          if (!this.closeDelivered) {
            this.closeDelivered = true;
            this.owner?.onClose?.(this);
          }
          continue;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Hands parked in-order bytes to the owner while it is not paused. */
  private drainReceiveBuffer(): void {
    const ring = this.receiveBuffer;
    let read = 0;
    while (!this.paused && ring.length > 0) {
      const v = ring.headRun(ring.length);
      const n = v.length;
      if (!this.userClosed && this.state !== CLOSED) this.owner?.onData?.(this, v);
      ring.consume(n, this.ooo.length === 0);
      read += n;
    }
    if (!this.paused && ring.length === 0 && this.peerFinReceived && !this.endDelivered) this.events |= EV_END;
    if (read > 0 && this.state >= ESTABLISHED && this.state !== TIME_WAIT && !this.ackNow && this.windowUpdateDue()) {
      this.stats.windowUpdates++;
      this.ackNow = true;
      this.output(false);
    }
  }
}
