/**
 * What the NAT gateway's relays share: its limits and counters, its configuration types, the
 * host events they are handed, and the gateway itself as the relays see it (`GatewayContext`).
 */
import type { Engine } from '../../engine/engine.js';
import type { IpStack } from '../../stack/stack.js';
import type { TcpLayer } from '../../stack/tcp.js';
import type { IpInterface } from '../../stack/types.js';
import { type Ip4, type Mac, ip4ToString } from '../../wire/bytes.js';
import { UNREACH } from '../../wire/icmp.js';
import type { HostSocketError, HostSocketEvents, HostSockets } from '../host-sockets.js';

export interface GatewayLimits {
  /** Most TCP connections relayed at once (both directions); SYNs beyond are refused with RST. */
  maxTcpFlows: number;
  /** Most UDP flows; a new one beyond evicts the one idle longest. */
  maxUdpFlows: number;
  /** A UDP flow is forgotten after this long without a datagram either way (VMware: 30 s, slirp: 240 s). */
  udpIdleNs: number;
  /** DNS flows go sooner (slirp: 10 s). */
  dnsIdleNs: number;
  /** Most ping flows (guest, destination, identifier); a new one beyond evicts the one idle longest. */
  maxIcmpFlows: number;
  /** A ping flow is forgotten (its host socket closed) after this long without a request or a reply (Linux conntrack: 30 s). */
  icmpIdleNs: number;
  /** A connection waiting for the host's connect or the guest's handshake gives up after this. */
  connectNs: number;
  /** An established connection with no byte either way for this long is reset on both sides. */
  tcpIdleNs: number;
  /** Host bytes held for a guest whose window is full before the host socket is paused. */
  toGuestHighWater: number;
  /** Host events waiting for the engine; UDP datagrams beyond are dropped (TCP is paused instead). */
  maxInbox: number;
}

export const GATEWAY_LIMITS: GatewayLimits = {
  maxTcpFlows: 4096,
  maxUdpFlows: 1024,
  udpIdleNs: 60e9,
  dnsIdleNs: 10e9,
  maxIcmpFlows: 256,
  icmpIdleNs: 30e9,
  connectNs: 75e9,
  tcpIdleNs: 7200e9,
  toGuestHighWater: 256 * 1024,
  maxInbox: 65536,
};

export interface PortForwardConfig {
  proto: 'tcp' | 'udp';
  host: { ip: Ip4; port: number };
  guest: { ip: Ip4; port: number };
}

export interface GatewayConfig {
  /** Device name, e.g. `vmnet8-nat`. */
  name: string;
  mode: 'nat' | 'host';
  mac: Mac;
  ip: Ip4;
  prefix: number;
  hostSockets: HostSockets | null;
  /** nat: where DNS queries to .2 go (default: the host's resolver). */
  dnsUpstream?: { ip: Ip4; port: number } | undefined;
  portForwards?: readonly PortForwardConfig[];
  limits?: Partial<GatewayLimits>;
}

export interface PortForward {
  config: PortForwardConfig;
  handle: number;
  state: 'stopped' | 'listening' | 'failed';
  error: string | null;
  accepted: number;
}

export interface HostEvent {
  type: number;
  handle: number;
  data: Uint8Array | null;
  ip: Ip4;
  /** A port, or an echo's sequence number. */
  port: number;
  listener: number;
  error: HostSocketError | null;
}

export const EV_CONNECTED = 1;
export const EV_DATA = 2;
export const EV_END = 3;
export const EV_DRAIN = 4;
export const EV_CLOSED = 5;
export const EV_ACCEPTED = 6;
export const EV_LISTEN_ERROR = 7;
export const EV_UDP = 8;
export const EV_ECHO_REPLY = 9;
export const EV_ECHO_ERROR = 10;
export const EV_ECHO_FAILED = 11;

export const LOOPBACK = 0x7f000001;

/** Addresses a NAT must never open a host socket to: this host (that is .1's job), "this network", multicast and reserved. */
export function outsideForbidden(ip: Ip4): boolean {
  const top = ip >>> 24;
  return top === 127 || top === 0 || top >= 224;
}

/** The ICMP unreachable code a guest hears for a host socket's failure, as a router without a route would send. */
export function unreachableCode(error: HostSocketError): number {
  return error === 'ENETUNREACH' ? UNREACH.NET : error === 'EACCES' ? UNREACH.ADMIN_PROHIBITED : UNREACH.HOST;
}

export interface GatewayCounters {
  tcpOpened: number;
  tcpRefused: number;
  tcpUnreachable: number;
  /** SYNs refused because the table was full. */
  tcpTableFull: number;
  tcpTimedOut: number;
  udpDatagramsOut: number;
  udpDatagramsIn: number;
  udpEvicted: number;
  udpExpired: number;
  dnsQueries: number;
  dnsAnswers: number;
  /** Queries answered SERVFAIL here: no upstream, or no host sockets. */
  dnsFailed: number;
  /** Echo requests sent out through the host. */
  icmpEchoRequests: number;
  /** Echo replies relayed back to guests. */
  icmpEchoReplies: number;
  /** Requests the host could not send (no route, refused): answered with an ICMP unreachable from .2. */
  icmpUnreachable: number;
  icmpExpired: number;
  icmpEvicted: number;
  /** ICMP to outside addresses not relayed: not an echo request, or the host can send no ICMP (see `icmpRelayError`). */
  icmpNotRelayed: number;
  /** Datagrams to addresses the gateway refuses (loopback, multicast...) or malformed ones. */
  refused: number;
  malformed: number;
  /** Host datagrams dropped because the engine had too many host events waiting. */
  inboxDrops: number;
}

export function newCounters(): GatewayCounters {
  return {
    tcpOpened: 0,
    tcpRefused: 0,
    tcpUnreachable: 0,
    tcpTableFull: 0,
    tcpTimedOut: 0,
    udpDatagramsOut: 0,
    udpDatagramsIn: 0,
    udpEvicted: 0,
    udpExpired: 0,
    dnsQueries: 0,
    dnsAnswers: 0,
    dnsFailed: 0,
    icmpEchoRequests: 0,
    icmpEchoReplies: 0,
    icmpUnreachable: 0,
    icmpExpired: 0,
    icmpEvicted: 0,
    icmpNotRelayed: 0,
    refused: 0,
    malformed: 0,
    inboxDrops: 0,
  };
}

export const ipPort = (ip: Ip4, port: number) => `${ip4ToString(ip)}:${port}`;

/**
 * The gateway as its relays see it. It is also the `HostSocketEvents` every host socket reports
 * to: host events are queued by the gateway and handed to the relay they are about.
 */
export interface GatewayContext extends HostSocketEvents {
  readonly engine: Engine;
  readonly mode: 'nat' | 'host';
  readonly ip: Ip4;
  readonly stack: IpStack;
  readonly tcp: TcpLayer;
  readonly iface: IpInterface;
  readonly limits: GatewayLimits;
  readonly counters: GatewayCounters;
  readonly hostSockets: HostSockets | null;
  /** Makes sure the expiry sweep runs (while anything can expire). */
  armSweep(): void;
  /** Where DNS queries to .2 go, or null when there is nowhere. */
  upstream(): { ip: Ip4; port: number } | null;
  /** Not for the NAT: the host's loopback, reserved addresses, and this network itself. */
  notRelayed(dst: Ip4): boolean;
}

/** What every relay keeps of its gateway: fixed at construction, read on every datagram. */
export abstract class GatewayRelay {
  protected readonly engine: Engine;
  protected readonly mode: 'nat' | 'host';
  protected readonly ip: Ip4;
  protected readonly stack: IpStack;
  protected readonly iface: IpInterface;
  protected readonly limits: GatewayLimits;
  protected readonly counters: GatewayCounters;
  protected readonly hostSockets: HostSockets | null;

  constructor(protected readonly gw: GatewayContext) {
    this.engine = gw.engine;
    this.mode = gw.mode;
    this.ip = gw.ip;
    this.stack = gw.stack;
    this.iface = gw.iface;
    this.limits = gw.limits;
    this.counters = gw.counters;
    this.hostSockets = gw.hostSockets;
  }
}
