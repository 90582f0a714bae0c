/**
 * What TCP needs from IP, what applications give TCP, and TCP's tunables. TCP is a
 * self-contained protocol engine: it sees IP only through `TcpIpLayer`, and IP sees it only
 * through `TcpLayer.receive` and `TcpLayer.icmpError`.
 */
import type { Engine } from '../engine/engine.js';
import type { Ip4 } from '../wire/bytes.js';
import type { TcpListener, TcpSocket } from './tcp-socket.js';

/** The narrow interface of the IP layer under TCP. */
export interface TcpIpLayer {
  readonly engine: Engine;
  /**
   * Bytes IP wants free in front of every segment so that it can write its own headers
   * (IPv4, Ethernet) in place; 0 when it copies the segment anyway.
   */
  readonly headroom: number;
  /**
   * Sends buf[offset, offset+length), a TCP segment with its checksum filled in. The buffer
   * belongs to IP from then on; buf[0, offset) is free for IP's headers.
   */
  sendSegment(src: Ip4, dst: Ip4, buf: Uint8Array, offset: number, length: number): void;
  /** The source address IP would use towards `dst`, or null when `dst` is unreachable (no route). */
  localAddressFor(dst: Ip4): Ip4 | null;
  /** MTU of the interface towards `dst` (the MSS we advertise is this minus 40). */
  mtuFor(dst: Ip4): number;
}

/** errno names, as a Linux program would see them. */
export type TcpErrorCode =
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  | 'ETIMEDOUT'
  | 'EHOSTUNREACH'
  | 'ENETUNREACH'
  | 'ENOPROTOOPT'
  | 'EACCES'
  | 'EPIPE'
  /** The host went down (TcpLayer.stop). */
  | 'ECONNABORTED';

/**
 * What owns a connection: a service, a check, a console command. Callbacks are methods of an
 * object, never stored closures, so connection state stays plain data. Every callback may call
 * any method of the socket.
 */
export interface TcpSocketOwner {
  /** The three-way handshake of an active open completed. */
  onConnect?(socket: TcpSocket): void;
  /** In-order bytes from the peer. `data` is a view that is valid only during the call: copy what you keep. */
  onData?(socket: TcpSocket, data: Uint8Array): void;
  /** The peer sent FIN: no more data will come (our side may still send). */
  onEnd?(socket: TcpSocket): void;
  /** `send` accepted less than it was given earlier; the send buffer now has room again. */
  onWritable?(socket: TcpSocket): void;
  /** The connection failed (refused, reset, timed out, unreachable); onClose follows. */
  onError?(socket: TcpSocket, error: TcpErrorCode): void;
  /** The connection is over for the application: both FINs exchanged, reset, failed or aborted. Called once. */
  onClose?(socket: TcpSocket): void;
}

export interface TcpListenerOwner {
  /**
   * A connection to the listener completed its handshake. Set `socket.owner` here to receive
   * its data; a socket left without an owner is closed.
   */
  onAccept(listener: TcpListener, socket: TcpSocket): void;
}

/** Per-socket choices, like setsockopt. */
export interface TcpSocketOptions {
  /** TCP_NODELAY: send small segments at once instead of waiting for outstanding data to be acknowledged (Nagle). */
  noDelay?: boolean;
  /** SO_SNDBUF in bytes (rounded up to a power of two). */
  sendBuffer?: number;
  /** SO_RCVBUF in bytes (rounded up to a power of two); also sets the window scale. */
  receiveBuffer?: number;
}

export interface TcpConnectOptions extends TcpSocketOptions {
  /** Source address; default: the one IP picks for the route. */
  localIp?: Ip4;
  /** Source port; default: an ephemeral port. */
  localPort?: number;
}

export interface TcpListenOptions extends TcpSocketOptions {
  /** Most connections in the handshake (SYN-RECEIVED) at once; SYNs beyond it are dropped. */
  backlog?: number;
  /** Accept only connections to this address; 0 or absent: any of ours. */
  localIp?: Ip4;
}

/** Tunables of a TCP layer. Defaults follow Linux where the RFCs leave a choice. */
export interface TcpConfig {
  /**
   * Lower bound of the retransmission timeout. RFC 6298 says 1 s; Linux uses 200 ms and so do
   * we: emulated links are fast, and 1 s would make every loss cost a second of lab time.
   */
  minRtoNs: number;
  maxRtoNs: number;
  /** RTO before any RTT sample (RFC 6298 2.1: 1 s). */
  initialRtoNs: number;
  /** Maximum segment lifetime; TIME-WAIT lasts 2 MSL (30 s, so 60 s as Linux's TIME_WAIT). */
  mslNs: number;
  /** An orphaned (closed by the application) connection waits this long in FIN-WAIT-2 (Linux tcp_fin_timeout). */
  finTimeoutNs: number;
  /** Delayed-ACK timer (Linux's 40 ms minimum; RFC 9293 allows up to 500 ms). */
  delayedAckNs: number;
  /** SYN retransmissions before connect fails with ETIMEDOUT (Linux tcp_syn_retries). */
  synRetries: number;
  /** SYN-ACK retransmissions before a half-open connection is forgotten (Linux tcp_synack_retries). */
  synAckRetries: number;
  /** Data retransmissions (and unanswered zero-window probes) before ETIMEDOUT (Linux tcp_retries2). */
  retries: number;
  /** Default SO_SNDBUF. */
  sendBuffer: number;
  /** Default SO_RCVBUF. */
  receiveBuffer: number;
  /** Offer RFC 7323 timestamps (RTTM and PAWS) in SYNs. */
  timestamps: boolean;
  /** Offer RFC 7323 window scaling in SYNs. */
  windowScaling: boolean;
  /** Offer SACK (RFC 2018) in SYNs; with a peer that agrees, losses are repaired by RFC 6675 instead of NewReno. */
  sack: boolean;
  /** Initial congestion window in segments (RFC 6928, Linux: 10). */
  initialWindow: number;
  /** Default listen backlog. */
  backlog: number;
  /** Most out-of-order byte ranges a connection keeps; segments that would add more are dropped. */
  maxOooRanges: number;
}

export const TCP_DEFAULTS: TcpConfig = {
  minRtoNs: 200e6,
  maxRtoNs: 120e9,
  initialRtoNs: 1e9,
  mslNs: 30e9,
  finTimeoutNs: 60e9,
  delayedAckNs: 40e6,
  synRetries: 6,
  synAckRetries: 5,
  retries: 15,
  sendBuffer: 256 * 1024,
  receiveBuffer: 256 * 1024,
  timestamps: true,
  windowScaling: true,
  sack: true,
  initialWindow: 10,
  backlog: 128,
  maxOooRanges: 64,
};

/** Connection states of RFC 9293 3.3.2, in the order the numbers give. */
export const TCP_STATE = {
  CLOSED: 0,
  LISTEN: 1,
  SYN_SENT: 2,
  SYN_RECEIVED: 3,
  ESTABLISHED: 4,
  FIN_WAIT_1: 5,
  FIN_WAIT_2: 6,
  CLOSE_WAIT: 7,
  CLOSING: 8,
  LAST_ACK: 9,
  TIME_WAIT: 10,
} as const;
export type TcpState = (typeof TCP_STATE)[keyof typeof TCP_STATE];

const STATE_NAMES = [
  'CLOSED',
  'LISTEN',
  'SYN-SENT',
  'SYN-RECEIVED',
  'ESTABLISHED',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'CLOSE-WAIT',
  'CLOSING',
  'LAST-ACK',
  'TIME-WAIT',
] as const;
export type TcpStateName = (typeof STATE_NAMES)[number];

export function tcpStateName(s: TcpState): TcpStateName {
  return STATE_NAMES[s]!;
}

/** Layer-wide counters, named after Linux's /proc/net/snmp and netstat -s. */
export interface TcpStats {
  activeOpens: number;
  passiveOpens: number;
  /** Connects that failed (refused, timed out, unreachable). */
  attemptFails: number;
  /** Established connections reset by the peer or aborted. */
  estabResets: number;
  inSegs: number;
  outSegs: number;
  retransSegs: number;
  /** Segments too short, or with a bad data offset. */
  inErrs: number;
  csumErrors: number;
  outRsts: number;
  /** Segments to a port with neither a connection nor a listener (answered with RST). */
  noPort: number;
  fastRetransmits: number;
  /** Loss recoveries driven by SACK (RFC 6675) rather than NewReno. */
  sackRecoveries: number;
  timeouts: number;
  /** SYNs dropped because the listener's backlog was full. */
  listenDrops: number;
  zeroWindowProbes: number;
  challengeAcks: number;
  pawsDrops: number;
  /** ICMP errors that quoted a segment we did not have in flight (RFC 5927), ignored. */
  icmpIgnored: number;
  /** MSS reductions from ICMP fragmentation-needed. */
  pmtuUpdates: number;
  /** Connections that left TIME-WAIT early for a new SYN (RFC 6191). */
  timeWaitRecycled: number;
}

export function newTcpStats(): TcpStats {
  return {
    activeOpens: 0,
    passiveOpens: 0,
    attemptFails: 0,
    estabResets: 0,
    inSegs: 0,
    outSegs: 0,
    retransSegs: 0,
    inErrs: 0,
    csumErrors: 0,
    outRsts: 0,
    noPort: 0,
    fastRetransmits: 0,
    sackRecoveries: 0,
    timeouts: 0,
    listenDrops: 0,
    zeroWindowProbes: 0,
    challengeAcks: 0,
    pawsDrops: 0,
    icmpIgnored: 0,
    pmtuUpdates: 0,
    timeWaitRecycled: 0,
  };
}

/** An ICMP error quoting one of our segments, as IP hands it to TCP. */
export interface TcpIcmpError {
  type: number;
  code: number;
  /** Next-hop MTU of a fragmentation-needed error (RFC 1191), else 0. */
  nextHopMtu: number;
  /** Addresses and ports of the quoted segment: ours first. */
  localIp: Ip4;
  remoteIp: Ip4;
  localPort: number;
  remotePort: number;
  /** Sequence number of the quoted segment. */
  seq: number;
}
