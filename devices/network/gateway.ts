/**
 * The services a VMware network puts beside its switch that reach the real machine through the
 * host's own sockets, the way VMware's NAT service (vmnat) and QEMU's slirp do, with no root:
 *
 * - `nat` mode, the NAT gateway at .2: every TCP connection a guest opens to an outside address is
 *   terminated here by the lab's own TCP (devices/stack) and re-opened from the host with a
 *   socket; bytes, half-closes and resets are carried both ways. The guest's handshake is held
 *   until the host's connect has an outcome (as slirp does), so a refused connection outside is
 *   a refused connection inside (RST), an unreachable one an ICMP unreachable from .2. UDP flows
 *   get one host UDP socket per guest socket, forgotten after an idle time. DNS to .2:53 (UDP and
 *   TCP) is relayed to an upstream resolver (the host's, unless `dns-upstream` names one). .2
 *   answers ping itself; a ping to an outside address is sent by the host's own stack (an
 *   unprivileged ICMP datagram socket, or a raw socket where the process may) and the guest
 *   hears the reply from that address, with its own identifier, sequence number and data, as
 *   libslirp and VMware's NAT do; where the host can send no ICMP the status says why. Port
 *   forwards listen on the host and carry connections and datagrams to a guest address; the
 *   guest sees them come from .2.
 * - `host` mode, the host adapter at .1: the host as the lab sees it. TCP and UDP to .1 reach the
 *   host's loopback (like slirp's 10.0.2.2); .1 answers ARP and ping.
 *
 * Without host sockets (a lab in a test or a browser) both still answer ARP and ping, and refuse
 * what they would relay (RST, ICMP unreachable).
 *
 * Host events arrive whenever the host's sockets have something; they are queued and handled from
 * an engine timer, so they happen on the engine's clock (in real time the engine's `now` is only
 * brought up to date inside a slice). Tables are bounded (`GatewayLimits`) and expire.
 * Not relayed: ICMP other than echo requests (errors, timestamps), IP options, TTL (the gateway
 * is not a router hop, as with slirp and VMware's NAT: a guest's traceroute sees the destination
 * at the first hop).
 */
import type { Device } from '../device.js';
import type { Engine } from '../engine/engine.js';
import { Port } from '../engine/port.js';
import { IpStack } from '../stack/stack.js';
import type { UdpOwner, UdpSocket } from '../stack/sockets.js';
import { TcpIpStackAdapter } from '../stack/tcp-ip.js';
import type { TcpLayer, TcpListener, TcpSocket } from '../stack/tcp.js';
import { tcpSegmentChecksumOk } from '../stack/tcp-sum.js';
import type { TcpErrorCode, TcpListenerOwner, TcpSocketOwner } from '../stack/tcp-types.js';
import type { IpInterface, RxInfo } from '../stack/types.js';
import { type Ip4, type Mac, ip4ToString, macAt, onesSum, u16, u32 } from '../wire/bytes.js';
import { DNS_HEADER_LEN } from '../wire/dns.js';
import { ICMP_HEADER_LENGTH, ICMP_TYPE, UNREACH, encodeIcmp } from '../wire/icmp.js';
import { IPPROTO, IPV4_HEADER_LENGTH, ipv4ChecksumOk, ipv4IsFragment } from '../wire/ipv4.js';
import { Reassembler } from '../stack/reassembly.js';
import { UDP_HEADER_LEN, encodeUdp, udpChecksumOk } from '../wire/udp.js';
import type { HostSocketError, HostSocketEvents, HostSockets, IcmpEchoSupport } from './host-sockets.js';

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

type TcpFlowState = 'connecting' | 'handshake' | 'open';

/** One relayed TCP connection. Plain data plus the lab-side socket. */
interface TcpFlow {
  /** The host socket's handle: the flow's identity. */
  handle: number;
  /** out: the guest opened it (NAT out, .1); in: a port forward's listener took it. */
  direction: 'out' | 'in';
  guestIp: Ip4;
  guestPort: number;
  /** The address and port the guest talks to (the outside address, .2 or .1). */
  peerIp: Ip4;
  peerPort: number;
  /** The host side: where the connection goes (out) or who opened it (in). */
  hostIp: Ip4;
  hostPort: number;
  state: TcpFlowState;
  /** The guest's SYN as the whole IPv4 datagram, held while the host connects; its TCP header is at synAt. */
  syn: Uint8Array | null;
  synAt: number;
  socket: TcpSocket | null;
  /** Host bytes the guest's socket had no room for yet. */
  toGuest: Uint8Array[];
  toGuestBytes: number;
  hostEnded: boolean;
  hostOpen: boolean;
  hostPaused: boolean;
  guestPaused: boolean;
  holdsListener: boolean;
  bytesToHost: number;
  bytesToGuest: number;
  startedNs: number;
  lastNs: number;
}

type UdpFlowKind = 'relay' | 'dns' | 'forward';

interface UdpFlow {
  key: string;
  kind: UdpFlowKind;
  guestIp: Ip4;
  guestPort: number;
  /** relay: the last remote; dns: the upstream; forward: the remote host that sent to the forward. */
  peerIp: Ip4;
  peerPort: number;
  /** relay and dns: the flow's own host socket; forward: the forward's listening socket (not ours to close). */
  handle: number;
  /** forward: the socket on .2 the guest answers to. */
  labSocket: UdpSocket | null;
  datagramsToHost: number;
  datagramsToGuest: number;
  startedNs: number;
  lastNs: number;
}

/** One guest's pings to one outside address with one identifier: one host ICMP socket (or raw-socket identifier). */
interface IcmpFlow {
  key: string;
  guestIp: Ip4;
  peerIp: Ip4;
  /** The guest's echo identifier, put back into every reply (the host's socket uses its own). */
  ident: number;
  handle: number;
  /** The guest's last request, its IP header and 8 bytes of ICMP: what an unreachable about it quotes. */
  lastRequest: Uint8Array;
  requests: number;
  replies: number;
  startedNs: number;
  lastNs: number;
}

interface PortForward {
  config: PortForwardConfig;
  handle: number;
  state: 'stopped' | 'listening' | 'failed';
  error: string | null;
  accepted: number;
}

interface HostEvent {
  type: number;
  handle: number;
  data: Uint8Array | null;
  ip: Ip4;
  /** A port, or an echo's sequence number. */
  port: number;
  listener: number;
  error: HostSocketError | null;
}

const EV_CONNECTED = 1;
const EV_DATA = 2;
const EV_END = 3;
const EV_DRAIN = 4;
const EV_CLOSED = 5;
const EV_ACCEPTED = 6;
const EV_LISTEN_ERROR = 7;
const EV_UDP = 8;
const EV_ECHO_REPLY = 9;
const EV_ECHO_ERROR = 10;
const EV_ECHO_FAILED = 11;

const TAG_INBOX = 1;
const TAG_SWEEP = 2;
const SWEEP_NS = 1e9;

const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

const LOOPBACK = 0x7f000001;

/**
 * TTL of the echo replies the guest hears. VMware's NAT answers with a fixed 128 whatever the
 * destination (the reply is its own, not a forwarded packet); we do the same because the NAT is no
 * router hop (it does not count down TTL the other way either), and because an unprivileged ping
 * socket's read() does not give the reply's TTL, so a fixed value is the only one both host paths
 * can give alike.
 */
const ECHO_REPLY_TTL = 128;

/** Addresses a NAT must never open a host socket to: this host (that is .1's job), "this network", multicast and reserved. */
function outsideForbidden(ip: Ip4): boolean {
  const top = ip >>> 24;
  return top === 127 || top === 0 || top >= 224;
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

export interface GatewayTcpView {
  direction: 'out' | 'in';
  /** Guest side: `ip:port`. */
  guest: string;
  /** What the guest talks to. */
  peer: string;
  /** The host side of the relay. */
  host: string;
  state: TcpFlowState;
  /** The lab-side TCP state (ESTABLISHED, FIN-WAIT-1...), or null before the handshake. */
  tcpState: string | null;
  bytesToHost: number;
  bytesToGuest: number;
  ageS: number;
  idleS: number;
}

export interface GatewayUdpView {
  kind: UdpFlowKind;
  guest: string;
  peer: string;
  datagramsToHost: number;
  datagramsToGuest: number;
  ageS: number;
  idleS: number;
}

export interface GatewayIcmpView {
  /** The guest's address. */
  guest: string;
  /** The address it pings. */
  peer: string;
  /** The guest's echo identifier. */
  ident: number;
  requests: number;
  replies: number;
  ageS: number;
  idleS: number;
}

export interface GatewayStatus {
  mode: 'nat' | 'host';
  address: string;
  mac: string;
  /** Host sockets are there (the server or CLI); without them nothing is relayed. */
  relaying: boolean;
  /** How pings to outside addresses leave the host (nat only): an unprivileged ICMP datagram socket, a raw socket, or not at all. */
  icmpRelay: 'datagram' | 'raw' | null;
  /** Why pings are not relayed, when a NAT gateway cannot relay them. */
  icmpRelayError: string | null;
  dnsUpstream: string | null;
  tcp: GatewayTcpView[];
  udp: GatewayUdpView[];
  icmp: GatewayIcmpView[];
  portForwards: { proto: 'tcp' | 'udp'; host: string; guest: string; state: PortForward['state']; error: string | null; accepted: number }[];
  counters: GatewayCounters;
}

function newCounters(): GatewayCounters {
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

const EMPTY = new Uint8Array(0);
const ipPort = (ip: Ip4, port: number) => `${ip4ToString(ip)}:${port}`;
const tcpKey = (guestIp: Ip4, guestPort: number, peerIp: Ip4, peerPort: number) => `${guestIp}:${guestPort}>${peerIp}:${peerPort}`;

/** The gateway's TCP: the stack's adapter, with every segment going through the relay first. */
class RelayTcpAdapter extends TcpIpStackAdapter {
  gateway: SocketGateway | null = null;

  override input(packet: Uint8Array, offset: number, length: number, info: RxInfo): boolean {
    if (!info.broadcast && this.gateway !== null) this.gateway.tcpSegment(info.srcIp, info.dstIp, packet, offset, length);
    return true;
  }
}

export class SocketGateway implements Device, HostSocketEvents, TcpSocketOwner, TcpListenerOwner, UdpOwner {
  readonly kind = 'network' as const;
  readonly name: string;
  readonly mode: 'nat' | 'host';
  readonly ports: readonly Port[];
  readonly port: Port;
  readonly stack: IpStack;
  readonly tcp: TcpLayer;
  readonly iface: IpInterface;
  readonly ip: Ip4;
  readonly mac: Mac;
  readonly limits: GatewayLimits;
  readonly counters: GatewayCounters = newCounters();
  running = false;

  private readonly hostSockets: HostSockets | null;
  private readonly dnsUpstream: { ip: Ip4; port: number } | undefined;
  private readonly forwards: PortForward[];
  private readonly tcpByHandle = new Map<number, TcpFlow>();
  private readonly tcpByKey = new Map<string, TcpFlow>();
  private readonly tcpBySocket = new Map<TcpSocket, TcpFlow>();
  private readonly listeners = new Map<string, { listener: TcpListener; users: number }>();
  private readonly udpByKey = new Map<string, UdpFlow>();
  private readonly udpByHandle = new Map<number, UdpFlow>();
  private readonly udpByLabPort = new Map<number, UdpFlow>();
  private readonly icmpByKey = new Map<string, IcmpFlow>();
  private readonly icmpByHandle = new Map<number, IcmpFlow>();
  private dnsSocket: UdpSocket | null = null;
  private readonly reassembler = new Reassembler({ timeoutNs: 30e9, maxDatagrams: 64 });
  private inbox: HostEvent[] = [];
  private inboxTimer = -1;
  private sweepTimer = -1;

  constructor(
    readonly engine: Engine,
    config: GatewayConfig,
  ) {
    this.name = config.name;
    this.mode = config.mode;
    this.ip = config.ip >>> 0;
    this.mac = config.mac;
    this.hostSockets = config.hostSockets;
    this.dnsUpstream = config.dnsUpstream;
    this.limits = { ...GATEWAY_LIMITS, ...config.limits };
    this.forwards = (config.mode === 'nat' ? (config.portForwards ?? []) : []).map((c) => ({ config: c, handle: -1, state: 'stopped', error: null, accepted: 0 }));
    this.port = new Port(this, 'eth0', 0);
    this.ports = [this.port];
    this.stack = new IpStack(engine, { name: config.name });
    this.iface = this.stack.addInterface(this.port, { mac: config.mac, name: 'eth0' });
    this.stack.setAddresses(this.iface, [{ ip: this.ip, prefix: config.prefix }]);
    const adapter = new RelayTcpAdapter(this.stack);
    adapter.gateway = this;
    this.tcp = adapter.tcp;
  }

  // ---------------------------------------------------------------- power

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stack.start();
    if (this.mode === 'nat') this.dnsSocket = this.stack.udp.bind(this, 53, { localIp: this.ip });
    const hs = this.hostSockets;
    for (const f of this.forwards) {
      f.error = null;
      if (hs === null) {
        f.state = 'failed';
        f.error = 'no host sockets: port forwards need the wirelab server or CLI';
        continue;
      }
      const at = f.config.host;
      f.handle = f.config.proto === 'tcp' ? hs.tcpListen(this, at.ip, at.port) : hs.udpOpen(this, at);
      f.state = 'listening';
      f.accepted = 0;
    }
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    const hs = this.hostSockets;
    for (const f of this.tcpByHandle.values()) if (f.hostOpen) hs?.tcpReset(f.handle);
    for (const u of this.udpByHandle.values()) hs?.udpClose(u.handle);
    for (const f of this.icmpByHandle.values()) hs?.icmpEchoClose(f.handle);
    this.icmpByKey.clear();
    this.icmpByHandle.clear();
    for (const f of this.forwards) {
      if (f.handle >= 0 && f.state === 'listening') {
        if (f.config.proto === 'tcp') hs?.listenClose(f.handle);
        else hs?.udpClose(f.handle);
      }
      f.handle = -1;
      f.state = 'stopped';
    }
    this.tcpByHandle.clear();
    this.tcpByKey.clear();
    this.tcpBySocket.clear();
    this.listeners.clear();
    for (const u of this.udpByKey.values()) u.labSocket?.close();
    this.udpByKey.clear();
    this.udpByHandle.clear();
    this.udpByLabPort.clear();
    this.dnsSocket?.close();
    this.dnsSocket = null;
    // A machine that powers off sends no resets: the guests' connections just go quiet.
    this.tcp.stop();
    this.stack.stop();
    this.reassembler.entries.clear();
    this.inbox = [];
    if (this.inboxTimer >= 0) this.engine.cancel(this.inboxTimer);
    if (this.sweepTimer >= 0) this.engine.cancel(this.sweepTimer);
    this.inboxTimer = -1;
    this.sweepTimer = -1;
  }

  // ---------------------------------------------------------------- frames in

  onFrame(port: Port, frame: Uint8Array): void {
    if (!this.running) return;
    // Unicast IPv4 to our MAC: the cases the stack alone would not take.
    if (frame.length >= 34 && frame[12] === 0x08 && frame[13] === 0x00 && macAt(frame, 0) === this.mac && (frame[14]! & 0xf0) === 0x40) {
      const dst = u32(frame, 30);
      const protocol = frame[23]!;
      if (this.mode === 'nat' ? dst !== this.ip && !this.isBroadcast(dst) : dst === this.ip && protocol === IPPROTO.UDP && this.hostSockets !== null) {
        this.relayIn(frame, 14);
        return;
      }
    }
    this.stack.onFrame(port, frame);
  }

  private isBroadcast(dst: Ip4): boolean {
    if (dst === 0xffffffff) return true;
    const a = this.iface.addresses[0];
    return a !== undefined && a.broadcast === dst;
  }

  /** An IPv4 datagram to relay (nat: for an outside address; host: UDP to .1). */
  private relayIn(frame: Uint8Array, off: number): void {
    const avail = frame.length - off;
    const hl = (frame[off]! & 0x0f) << 2;
    const total = u16(frame, off + 2);
    if (hl < IPV4_HEADER_LENGTH || total < hl || total > avail || !ipv4ChecksumOk(frame, off)) {
      this.counters.malformed++;
      return;
    }
    let packet = frame.subarray(off, off + total);
    if (ipv4IsFragment(packet, 0)) {
      let whole: Uint8Array | null = null;
      try {
        whole = this.reassembler.add(packet, 0, this.engine.now);
      } catch {
        this.counters.malformed++;
        return;
      }
      if (whole === null) {
        this.armSweep();
        return;
      }
      packet = whole;
    }
    const phl = (packet[0]! & 0x0f) << 2;
    const src = u32(packet, 12);
    const dst = u32(packet, 16);
    const len = packet.length - phl;
    switch (packet[9]) {
      case IPPROTO.TCP:
        this.tcpSegment(src, dst, packet, phl, len);
        return;
      case IPPROTO.UDP:
        this.udpOut(packet, phl, len, src, dst);
        return;
      case IPPROTO.ICMP:
        this.icmpOut(packet, phl, len, src, dst);
        return;
      default:
        this.counters.refused++;
        this.stack.sendIcmpError(ICMP_TYPE.DEST_UNREACHABLE, UNREACH.PROTOCOL, packet, this.iface);
    }
  }

  // ---------------------------------------------------------------- TCP from the guests

  /**
   * Every TCP segment from a guest, to any address: `b` is the IPv4 datagram, its TCP segment at
   * b[off, off+len). A new SYN holds until the host has connected; everything else goes to the
   * gateway's TCP as it is.
   */
  tcpSegment(src: Ip4, dst: Ip4, b: Uint8Array, off: number, len: number): void {
    if (len >= 20 && (b[off + 13]! & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN && this.synArrived(src, dst, b, off, len)) return;
    this.tcp.receive(src, dst, b, off, len);
  }

  /** Where the host side of a connection to dst:port goes, or null when nothing is relayed there. */
  private tcpTarget(dst: Ip4, port: number): { ip: Ip4; port: number } | null {
    if (this.mode === 'host') return dst === this.ip ? { ip: LOOPBACK, port } : null;
    if (dst === this.ip) return port === 53 ? this.upstream() : null;
    return this.notRelayed(dst) ? null : { ip: dst, port };
  }

  /** Not for the NAT: the host's loopback, reserved addresses, and this network itself (on-link, never through .2). */
  private notRelayed(dst: Ip4): boolean {
    const a = this.iface.addresses[0];
    return outsideForbidden(dst) || (a !== undefined && ((dst & a.mask) >>> 0) === a.network);
  }

  private upstream(): { ip: Ip4; port: number } | null {
    return this.dnsUpstream ?? this.hostSockets?.resolver() ?? null;
  }

  /** Returns true when the SYN was taken (held, or dropped as a retransmission of a held one). */
  private synArrived(src: Ip4, dst: Ip4, b: Uint8Array, off: number, len: number): boolean {
    const srcPort = u16(b, off);
    const dstPort = u16(b, off + 2);
    const existing = this.tcpByKey.get(tcpKey(src, srcPort, dst, dstPort));
    if (existing !== undefined) return existing.state === 'connecting';
    const target = this.tcpTarget(dst, dstPort);
    const hs = this.hostSockets;
    // No relay there: the TCP answers with a reset, as a machine with nothing listening would.
    if (target === null || hs === null) {
      if (this.mode === 'nat' && dst !== this.ip) this.counters.refused++;
      return false;
    }
    if (!tcpSegmentChecksumOk(b, off, len, src, dst)) return false;
    if (this.tcpByHandle.size >= this.limits.maxTcpFlows) {
      this.counters.tcpTableFull++;
      return false;
    }
    const now = this.engine.now;
    const flow: TcpFlow = {
      handle: hs.tcpConnect(this, target.ip, target.port),
      direction: 'out',
      guestIp: src,
      guestPort: srcPort,
      peerIp: dst,
      peerPort: dstPort,
      hostIp: target.ip,
      hostPort: target.port,
      state: 'connecting',
      // The whole datagram: an ICMP error about it quotes the IP header.
      syn: b.slice(0, off + len),
      synAt: off,
      socket: null,
      toGuest: [],
      toGuestBytes: 0,
      hostEnded: false,
      hostOpen: true,
      hostPaused: false,
      guestPaused: false,
      holdsListener: false,
      bytesToHost: 0,
      bytesToGuest: 0,
      startedNs: now,
      lastNs: now,
    };
    this.tcpByHandle.set(flow.handle, flow);
    this.tcpByKey.set(tcpKey(src, srcPort, dst, dstPort), flow);
    this.armSweep();
    return true;
  }

  /** The host connected: let the guest's SYN in, to a listener on exactly the address it aimed at. */
  private hostConnected(f: TcpFlow): void {
    if (f.state !== 'connecting' || f.syn === null) return;
    const key = `${f.peerIp}:${f.peerPort}`;
    let l = this.listeners.get(key);
    if (l === undefined) {
      try {
        l = { listener: this.tcp.listen(f.peerPort, this, { localIp: f.peerIp, noDelay: true }), users: 0 };
      } catch {
        // Only our own listeners live in this TCP; should one linger, the guest hears a refusal.
        this.hostSockets?.tcpReset(f.handle);
        f.hostOpen = false;
        this.refuse(f, 'ECONNREFUSED');
        this.removeTcp(f);
        return;
      }
      this.listeners.set(key, l);
    }
    f.state = 'handshake';
    this.counters.tcpOpened++;
    l.users++;
    f.holdsListener = true;
    const syn = f.syn;
    f.syn = null;
    this.tcp.receive(f.guestIp, f.peerIp, syn, f.synAt, syn.length - f.synAt);
  }

  private releaseListener(f: TcpFlow): void {
    if (!f.holdsListener) return;
    f.holdsListener = false;
    const key = `${f.peerIp}:${f.peerPort}`;
    const l = this.listeners.get(key);
    if (l === undefined) return;
    if (--l.users <= 0) {
      this.listeners.delete(key);
      l.listener.close();
    }
  }

  /** The host could not connect: the guest hears it as a real network would tell it. */
  private refuse(f: TcpFlow, error: HostSocketError): void {
    const syn = f.syn;
    f.syn = null;
    if (syn === null) return;
    const seq = u32(syn, f.synAt + 4);
    if (error === 'ECONNREFUSED' || error === 'ECONNRESET') {
      this.counters.tcpRefused++;
      this.tcp.sendResetFor(f.peerIp, f.guestIp, f.peerPort, f.guestPort, 0, (seq + 1) >>> 0, true);
      return;
    }
    this.counters.tcpUnreachable++;
    const code = error === 'ENETUNREACH' ? UNREACH.NET : error === 'EACCES' ? UNREACH.ADMIN_PROHIBITED : UNREACH.HOST;
    this.stack.sendIcmpError(ICMP_TYPE.DEST_UNREACHABLE, code, syn, this.iface);
  }

  onAccept(_listener: TcpListener, socket: TcpSocket): void {
    const f = this.tcpByKey.get(tcpKey(socket.remoteIp, socket.remotePort, socket.localIp, socket.localPort));
    if (f === undefined || f.state !== 'handshake' || f.socket !== null) {
      socket.abort();
      return;
    }
    socket.owner = this;
    this.attach(f, socket);
    this.releaseListener(f);
    this.guestOpened(f);
  }

  private attach(f: TcpFlow, socket: TcpSocket): void {
    f.socket = socket;
    this.tcpBySocket.set(socket, f);
  }

  /** The lab side is established: what the host sent meanwhile goes out now. */
  private guestOpened(f: TcpFlow): void {
    f.state = 'open';
    f.lastNs = this.engine.now;
    this.flushToGuest(f);
    if (!f.hostOpen && f.toGuestBytes === 0 && !f.hostEnded) f.socket?.abort();
  }

  private flushToGuest(f: TcpFlow): void {
    const s = f.socket;
    if (s === null || f.state !== 'open') return;
    while (f.toGuest.length > 0) {
      if (!s.writable) {
        f.toGuest = [];
        f.toGuestBytes = 0;
        break;
      }
      const chunk = f.toGuest[0]!;
      const n = s.send(chunk);
      f.bytesToGuest += n;
      f.toGuestBytes -= n;
      if (n < chunk.length) {
        f.toGuest[0] = chunk.subarray(n);
        break;
      }
      f.toGuest.shift();
    }
    const hs = this.hostSockets;
    if (f.hostPaused && f.toGuestBytes < this.limits.toGuestHighWater / 2 && hs !== null && f.hostOpen) {
      f.hostPaused = false;
      hs.tcpResume(f.handle);
    }
    if (f.toGuest.length === 0 && f.hostEnded && s.writable) s.shutdown();
  }

  // TcpSocketOwner: the lab side of every relayed connection.

  onConnect(socket: TcpSocket): void {
    const f = this.tcpBySocket.get(socket);
    if (f !== undefined) this.guestOpened(f);
  }

  onData(socket: TcpSocket, data: Uint8Array): void {
    const f = this.tcpBySocket.get(socket);
    const hs = this.hostSockets;
    if (f === undefined || hs === null) return;
    if (!f.hostOpen) {
      // The host side is gone: nobody will read this, so say so (as a closed socket would).
      socket.abort();
      return;
    }
    f.lastNs = this.engine.now;
    f.bytesToHost += data.length;
    if (!hs.tcpWrite(f.handle, data.slice()) && !f.guestPaused) {
      f.guestPaused = true;
      socket.pause();
    }
  }

  onEnd(socket: TcpSocket): void {
    const f = this.tcpBySocket.get(socket);
    if (f !== undefined && f.hostOpen) this.hostSockets?.tcpEnd(f.handle);
  }

  onWritable(socket: TcpSocket): void {
    const f = this.tcpBySocket.get(socket);
    if (f !== undefined) this.flushToGuest(f);
  }

  onError(_socket: TcpSocket, _error: TcpErrorCode): void {
    // onClose follows and carries the error over.
  }

  onClose(socket: TcpSocket): void {
    const f = this.tcpBySocket.get(socket);
    if (f === undefined) return;
    if (f.hostOpen) {
      const e = socket.error;
      // A reset (or a connect into the lab that failed) is carried to the host as a reset.
      if (e !== null && e !== 'ECONNABORTED') this.hostSockets?.tcpReset(f.handle);
      else this.hostSockets?.tcpClose(f.handle);
      f.hostOpen = false;
    }
    this.removeTcp(f);
  }

  private removeTcp(f: TcpFlow): void {
    this.releaseListener(f);
    this.tcpByHandle.delete(f.handle);
    if (this.tcpByKey.get(tcpKey(f.guestIp, f.guestPort, f.peerIp, f.peerPort)) === f) this.tcpByKey.delete(tcpKey(f.guestIp, f.guestPort, f.peerIp, f.peerPort));
    if (f.socket !== null) this.tcpBySocket.delete(f.socket);
    f.toGuest = [];
    f.toGuestBytes = 0;
  }

  // ---------------------------------------------------------------- UDP from the guests

  private udpOut(packet: Uint8Array, off: number, len: number, src: Ip4, dst: Ip4): void {
    if (len < UDP_HEADER_LEN) {
      this.counters.malformed++;
      return;
    }
    const ulen = u16(packet, off + 4);
    if (ulen < UDP_HEADER_LEN || ulen > len || !udpChecksumOk(packet, off, ulen, src, dst)) {
      this.counters.malformed++;
      return;
    }
    const srcPort = u16(packet, off);
    const dstPort = u16(packet, off + 2);
    const hs = this.hostSockets;
    const target = this.mode === 'host' ? LOOPBACK : dst;
    if (hs === null || (this.mode === 'nat' && this.notRelayed(dst)) || dstPort === 0) {
      this.counters.refused++;
      this.stack.sendIcmpError(ICMP_TYPE.DEST_UNREACHABLE, this.mode === 'host' ? UNREACH.PORT : UNREACH.ADMIN_PROHIBITED, packet, this.iface);
      return;
    }
    const key = `r${src}:${srcPort}`;
    let f = this.udpByKey.get(key);
    if (f === undefined) f = this.newUdpFlow(key, 'relay', src, srcPort, dst, dstPort, hs.udpOpen(this), null);
    f.lastNs = this.engine.now;
    f.datagramsToHost++;
    this.counters.udpDatagramsOut++;
    hs.udpSend(f.handle, target, dstPort, packet.slice(off + UDP_HEADER_LEN, off + ulen));
  }

  private newUdpFlow(key: string, kind: UdpFlowKind, guestIp: Ip4, guestPort: number, peerIp: Ip4, peerPort: number, handle: number, labSocket: UdpSocket | null): UdpFlow {
    if (this.udpByKey.size >= this.limits.maxUdpFlows) this.evictUdp();
    const now = this.engine.now;
    const f: UdpFlow = { key, kind, guestIp, guestPort, peerIp, peerPort, handle, labSocket, datagramsToHost: 0, datagramsToGuest: 0, startedNs: now, lastNs: now };
    this.udpByKey.set(key, f);
    if (kind !== 'forward') this.udpByHandle.set(handle, f);
    if (labSocket !== null) this.udpByLabPort.set(labSocket.port, f);
    this.armSweep();
    return f;
  }

  private evictUdp(): void {
    let oldest: UdpFlow | null = null;
    for (const f of this.udpByKey.values()) if (oldest === null || f.lastNs < oldest.lastNs) oldest = f;
    if (oldest !== null) {
      this.counters.udpEvicted++;
      this.removeUdp(oldest);
    }
  }

  private removeUdp(f: UdpFlow): void {
    this.udpByKey.delete(f.key);
    if (f.kind !== 'forward') {
      this.udpByHandle.delete(f.handle);
      this.hostSockets?.udpClose(f.handle);
    }
    if (f.labSocket !== null) {
      this.udpByLabPort.delete(f.labSocket.port);
      f.labSocket.close();
    }
  }

  /** Sends a datagram into the lab from any address and port (the gateway speaks for the outside). */
  private udpToGuest(srcIp: Ip4, srcPort: number, dstIp: Ip4, dstPort: number, payload: Uint8Array): void {
    const route = this.stack.routeOutput(dstIp, { srcIp });
    if (typeof route === 'string') return;
    if (UDP_HEADER_LEN + payload.length > 65515) return;
    const dgram = new Uint8Array(UDP_HEADER_LEN + payload.length);
    encodeUdp({ srcPort, dstPort, payload }, dgram, 0, srcIp, dstIp);
    this.stack.transmit(route, IPPROTO.UDP, dgram, {});
  }

  // UdpOwner: DNS at .2:53, and the .2 ends of UDP port forwards.

  onDatagram(socket: UdpSocket, srcIp: Ip4, srcPort: number, payload: Uint8Array, info: RxInfo): void {
    if (socket === this.dnsSocket) {
      if (!info.broadcast) this.dnsQuery(socket, srcIp, srcPort, payload);
      return;
    }
    const f = this.udpByLabPort.get(socket.port);
    const hs = this.hostSockets;
    if (f === undefined || hs === null || srcIp !== f.guestIp || srcPort !== f.guestPort) return;
    f.lastNs = this.engine.now;
    f.datagramsToHost++;
    this.counters.udpDatagramsOut++;
    hs.udpSend(f.handle, f.peerIp, f.peerPort, payload.slice());
  }

  private dnsQuery(socket: UdpSocket, srcIp: Ip4, srcPort: number, query: Uint8Array): void {
    // A query has a header and the QR bit clear; anything else is not worth an answer.
    if (query.length < DNS_HEADER_LEN || (query[2]! & 0x80) !== 0) {
      this.counters.malformed++;
      return;
    }
    this.counters.dnsQueries++;
    const hs = this.hostSockets;
    const up = this.upstream();
    if (hs === null || up === null) {
      this.counters.dnsFailed++;
      socket.sendTo(srcIp, srcPort, servfail(query), { srcIp: this.ip });
      return;
    }
    const key = `d${srcIp}:${srcPort}`;
    let f = this.udpByKey.get(key);
    if (f === undefined) f = this.newUdpFlow(key, 'dns', srcIp, srcPort, up.ip, up.port, hs.udpOpen(this), null);
    f.lastNs = this.engine.now;
    f.datagramsToHost++;
    hs.udpSend(f.handle, up.ip, up.port, query.slice());
  }

  // ---------------------------------------------------------------- ICMP echo from the guests

  /** How pings leave the host, or why they cannot (nat mode; host mode relays none). */
  private icmpSupport(): IcmpEchoSupport {
    if (this.hostSockets === null) return { via: null, reason: 'no host sockets: pings are relayed by the wirelab server or CLI' };
    return this.hostSockets.icmpEchoSupport();
  }

  /** An ICMP message from a guest to an outside address: echo requests go out through the host. */
  private icmpOut(packet: Uint8Array, off: number, len: number, src: Ip4, dst: Ip4): void {
    if (len < ICMP_HEADER_LENGTH || onesSum(packet, off, len) !== 0xffff) {
      this.counters.malformed++;
      return;
    }
    if (packet[off] !== ICMP_TYPE.ECHO_REQUEST || packet[off + 1] !== 0) {
      this.counters.icmpNotRelayed++;
      return;
    }
    if (this.notRelayed(dst)) {
      this.counters.refused++;
      this.stack.sendIcmpError(ICMP_TYPE.DEST_UNREACHABLE, UNREACH.ADMIN_PROHIBITED, packet, this.iface);
      return;
    }
    const hs = this.hostSockets;
    // As with a real NAT box whose uplink drops ICMP, the guest's ping just times out.
    if (hs === null || this.icmpSupport().via === null) {
      this.counters.icmpNotRelayed++;
      return;
    }
    const ident = u16(packet, off + 4);
    const key = `${src}>${dst}#${ident}`;
    let f = this.icmpByKey.get(key);
    if (f === undefined) {
      if (this.icmpByKey.size >= this.limits.maxIcmpFlows) this.evictIcmp();
      const now = this.engine.now;
      f = { key, guestIp: src, peerIp: dst, ident, handle: hs.icmpEchoOpen(this, dst), lastRequest: EMPTY, requests: 0, replies: 0, startedNs: now, lastNs: now };
      this.icmpByKey.set(key, f);
      this.icmpByHandle.set(f.handle, f);
      this.armSweep();
    }
    f.lastNs = this.engine.now;
    f.requests++;
    f.lastRequest = packet.slice(0, off + ICMP_HEADER_LENGTH);
    this.counters.icmpEchoRequests++;
    hs.icmpEchoSend(f.handle, u16(packet, off + 6), packet.slice(off + ICMP_HEADER_LENGTH, off + len));
  }

  private evictIcmp(): void {
    let oldest: IcmpFlow | null = null;
    for (const f of this.icmpByKey.values()) if (oldest === null || f.lastNs < oldest.lastNs) oldest = f;
    if (oldest !== null) {
      this.counters.icmpEvicted++;
      this.removeIcmp(oldest, true);
    }
  }

  private removeIcmp(f: IcmpFlow, closeHost: boolean): void {
    this.icmpByKey.delete(f.key);
    this.icmpByHandle.delete(f.handle);
    if (closeHost) this.hostSockets?.icmpEchoClose(f.handle);
  }

  /** The host's reply: to the guest from the address it pinged, with its identifier, sequence number and data. */
  private hostEchoReply(handle: number, seq: number, payload: Uint8Array): void {
    const f = this.icmpByHandle.get(handle);
    if (f === undefined) return;
    const route = this.stack.routeOutput(f.guestIp, { srcIp: f.peerIp });
    if (typeof route === 'string' || ICMP_HEADER_LENGTH + payload.length > 65515) return;
    const msg = new Uint8Array(ICMP_HEADER_LENGTH + payload.length);
    encodeIcmp({ type: ICMP_TYPE.ECHO_REPLY, code: 0, id: f.ident, seq, payload }, msg, 0);
    f.lastNs = this.engine.now;
    f.replies++;
    this.counters.icmpEchoReplies++;
    this.stack.transmit(route, IPPROTO.ICMP, msg, { ttl: ECHO_REPLY_TTL });
  }

  private hostEchoError(handle: number, seq: number, error: HostSocketError, fatal: boolean): void {
    const f = this.icmpByHandle.get(handle);
    if (f === undefined) return;
    if (fatal) {
      this.counters.icmpNotRelayed++;
      this.removeIcmp(f, false);
      return;
    }
    // Tell the guest as a router without a route would, about the request that could not go (slirp does too).
    const q = f.lastRequest;
    const at = (q[0]! & 0x0f) << 2;
    this.counters.icmpUnreachable++;
    if (q.length < at + ICMP_HEADER_LENGTH || u16(q, at + 6) !== seq) return;
    const code = error === 'ENETUNREACH' ? UNREACH.NET : error === 'EACCES' ? UNREACH.ADMIN_PROHIBITED : UNREACH.HOST;
    this.stack.sendIcmpError(ICMP_TYPE.DEST_UNREACHABLE, code, q, this.iface);
  }

  // ---------------------------------------------------------------- host events

  onHostTcpConnected(handle: number): void {
    this.post(EV_CONNECTED, handle, null, 0, 0, -1, null);
  }
  onHostTcpData(handle: number, data: Uint8Array): void {
    this.post(EV_DATA, handle, data, 0, 0, -1, null);
  }
  onHostTcpEnd(handle: number): void {
    this.post(EV_END, handle, null, 0, 0, -1, null);
  }
  onHostTcpDrain(handle: number): void {
    this.post(EV_DRAIN, handle, null, 0, 0, -1, null);
  }
  onHostTcpClosed(handle: number, error: HostSocketError | null): void {
    this.post(EV_CLOSED, handle, null, 0, 0, -1, error);
  }
  onHostTcpAccepted(listener: number, handle: number, remoteIp: Ip4, remotePort: number): void {
    this.post(EV_ACCEPTED, handle, null, remoteIp, remotePort, listener, null);
  }
  onHostListenError(listener: number, error: HostSocketError, message: string): void {
    this.post(EV_LISTEN_ERROR, listener, new TextEncoder().encode(message), 0, 0, listener, error);
  }
  onHostUdpDatagram(handle: number, srcIp: Ip4, srcPort: number, data: Uint8Array): void {
    if (this.inbox.length >= this.limits.maxInbox) {
      this.counters.inboxDrops++;
      return;
    }
    this.post(EV_UDP, handle, data, srcIp, srcPort, -1, null);
  }
  onHostIcmpEchoReply(handle: number, seq: number, payload: Uint8Array): void {
    if (this.inbox.length >= this.limits.maxInbox) {
      this.counters.inboxDrops++;
      return;
    }
    this.post(EV_ECHO_REPLY, handle, payload, 0, seq, -1, null);
  }
  onHostIcmpEchoError(handle: number, seq: number, error: HostSocketError, fatal: boolean): void {
    this.post(fatal ? EV_ECHO_FAILED : EV_ECHO_ERROR, handle, null, 0, seq, -1, error);
  }

  private post(type: number, handle: number, data: Uint8Array | null, ip: Ip4, port: number, listener: number, error: HostSocketError | null): void {
    if (!this.running) {
      // Events racing a stop: whatever the host opened meanwhile is let go.
      if (type === EV_ACCEPTED) this.hostSockets?.tcpReset(handle);
      return;
    }
    this.inbox.push({ type, handle, data, ip, port, listener, error });
    if (this.inboxTimer < 0) this.inboxTimer = this.engine.schedule(this.engine.now, this, TAG_INBOX);
  }

  onTimer(tag: number): void {
    if (tag === TAG_INBOX) {
      this.inboxTimer = -1;
      const events = this.inbox;
      this.inbox = [];
      for (const e of events) {
        if (!this.running) return;
        this.hostEvent(e);
      }
    } else if (tag === TAG_SWEEP) {
      this.sweepTimer = -1;
      this.sweep();
    }
  }

  private hostEvent(e: HostEvent): void {
    const hs = this.hostSockets;
    switch (e.type) {
      case EV_UDP:
        this.hostDatagram(e.handle, e.ip, e.port, e.data!);
        return;
      case EV_ACCEPTED:
        this.forwardAccepted(e.listener, e.handle, e.ip, e.port);
        return;
      case EV_ECHO_REPLY:
        this.hostEchoReply(e.handle, e.port, e.data!);
        return;
      case EV_ECHO_ERROR:
      case EV_ECHO_FAILED:
        this.hostEchoError(e.handle, e.port, e.error ?? 'EIO', e.type === EV_ECHO_FAILED);
        return;
      case EV_LISTEN_ERROR: {
        const fwd = this.forwards.find((x) => x.handle === e.listener);
        if (fwd !== undefined) {
          fwd.state = 'failed';
          fwd.error = new TextDecoder().decode(e.data!);
        }
        return;
      }
    }
    const f = this.tcpByHandle.get(e.handle);
    if (f === undefined) return;
    switch (e.type) {
      case EV_CONNECTED:
        this.hostConnected(f);
        return;
      case EV_DATA: {
        const data = e.data!;
        f.lastNs = this.engine.now;
        f.toGuest.push(data);
        f.toGuestBytes += data.length;
        this.flushToGuest(f);
        if (!f.hostPaused && f.toGuestBytes >= this.limits.toGuestHighWater && f.hostOpen) {
          f.hostPaused = true;
          hs?.tcpPause(f.handle);
        }
        return;
      }
      case EV_END:
        f.hostEnded = true;
        this.flushToGuest(f);
        return;
      case EV_DRAIN:
        if (f.guestPaused) {
          f.guestPaused = false;
          f.socket?.resume();
        }
        return;
      case EV_CLOSED:
        f.hostOpen = false;
        if (f.state === 'connecting') {
          this.refuse(f, e.error ?? 'ECONNREFUSED');
          this.removeTcp(f);
          return;
        }
        if (e.error !== null) {
          // A reset (or any failure) on the host side resets the guest's connection.
          if (f.socket !== null) f.socket.abort();
          this.removeTcp(f);
          return;
        }
        // Both host directions are done; the lab side finishes on its own, or is over already.
        if (f.socket === null) this.removeTcp(f);
        else {
          f.hostEnded = true;
          this.flushToGuest(f);
        }
        return;
    }
  }

  private forwardAccepted(listener: number, handle: number, remoteIp: Ip4, remotePort: number): void {
    const hs = this.hostSockets!;
    const fwd = this.forwards.find((x) => x.handle === listener && x.config.proto === 'tcp');
    if (fwd === undefined || this.tcpByHandle.size >= this.limits.maxTcpFlows) {
      if (fwd !== undefined) this.counters.tcpTableFull++;
      hs.tcpReset(handle);
      return;
    }
    fwd.accepted++;
    const g = fwd.config.guest;
    let socket: TcpSocket;
    try {
      socket = this.tcp.connect(g.ip, g.port, this, { localIp: this.ip, noDelay: true });
    } catch {
      hs.tcpReset(handle);
      return;
    }
    const now = this.engine.now;
    const f: TcpFlow = {
      handle,
      direction: 'in',
      guestIp: g.ip,
      guestPort: g.port,
      peerIp: this.ip,
      peerPort: socket.localPort,
      hostIp: remoteIp,
      hostPort: remotePort,
      state: 'handshake',
      syn: null,
      synAt: 0,
      socket: null,
      toGuest: [],
      toGuestBytes: 0,
      hostEnded: false,
      hostOpen: true,
      hostPaused: false,
      guestPaused: false,
      holdsListener: false,
      bytesToHost: 0,
      bytesToGuest: 0,
      startedNs: now,
      lastNs: now,
    };
    this.tcpByHandle.set(handle, f);
    this.tcpByKey.set(tcpKey(f.guestIp, f.guestPort, f.peerIp, f.peerPort), f);
    this.attach(f, socket);
    this.armSweep();
  }

  private hostDatagram(handle: number, srcIp: Ip4, srcPort: number, data: Uint8Array): void {
    const fwd = this.forwards.find((x) => x.handle === handle && x.config.proto === 'udp');
    if (fwd !== undefined) {
      const key = `f${handle}:${srcIp}:${srcPort}`;
      let f = this.udpByKey.get(key);
      if (f === undefined) {
        const g = fwd.config.guest;
        fwd.accepted++;
        f = this.newUdpFlow(key, 'forward', g.ip, g.port, srcIp, srcPort, handle, this.stack.udp.bind(this, 0, { localIp: this.ip }));
      }
      f.lastNs = this.engine.now;
      f.datagramsToGuest++;
      this.counters.udpDatagramsIn++;
      f.labSocket!.sendTo(f.guestIp, f.guestPort, data, { srcIp: this.ip });
      return;
    }
    const f = this.udpByHandle.get(handle);
    if (f === undefined) return;
    if (f.kind === 'dns') {
      // Only the upstream's answers, and only answers.
      if (srcIp !== f.peerIp || srcPort !== f.peerPort || data.length < DNS_HEADER_LEN || (data[2]! & 0x80) === 0) return;
      f.lastNs = this.engine.now;
      f.datagramsToGuest++;
      this.counters.dnsAnswers++;
      this.dnsSocket?.sendTo(f.guestIp, f.guestPort, data, { srcIp: this.ip });
      return;
    }
    // relay: the guest hears from whoever answered (nat), or from .1 (the host's loopback, host mode).
    const from = this.mode === 'host' ? this.ip : srcIp;
    if (this.mode === 'nat' && outsideForbidden(srcIp)) return;
    f.lastNs = this.engine.now;
    f.peerIp = srcIp;
    f.peerPort = srcPort;
    f.datagramsToGuest++;
    this.counters.udpDatagramsIn++;
    this.udpToGuest(from, srcPort, f.guestIp, f.guestPort, data);
  }

  // ---------------------------------------------------------------- expiry

  private armSweep(): void {
    if (this.sweepTimer < 0 && this.running) this.sweepTimer = this.engine.after(SWEEP_NS, this, TAG_SWEEP);
  }

  private sweep(): void {
    const now = this.engine.now;
    const lim = this.limits;
    for (const f of [...this.udpByKey.values()]) {
      if (now - f.lastNs >= (f.kind === 'dns' ? lim.dnsIdleNs : lim.udpIdleNs)) {
        this.counters.udpExpired++;
        this.removeUdp(f);
      }
    }
    for (const f of [...this.tcpByHandle.values()]) {
      const waiting = f.state !== 'open';
      if (waiting ? now - f.startedNs >= lim.connectNs : now - f.lastNs >= lim.tcpIdleNs) {
        this.counters.tcpTimedOut++;
        if (f.state === 'connecting') this.refuse(f, 'ETIMEDOUT');
        if (f.hostOpen) this.hostSockets?.tcpReset(f.handle);
        f.hostOpen = false;
        const s = f.socket;
        this.removeTcp(f);
        s?.abort();
      }
    }
    for (const f of [...this.icmpByKey.values()]) {
      if (now - f.lastNs >= lim.icmpIdleNs) {
        this.counters.icmpExpired++;
        this.removeIcmp(f, true);
      }
    }
    if (this.reassembler.entries.size > 0) this.reassembler.expire(now);
    if (this.udpByKey.size > 0 || this.tcpByHandle.size > 0 || this.icmpByKey.size > 0 || this.reassembler.entries.size > 0) this.armSweep();
  }

  // ---------------------------------------------------------------- inspection

  status(): GatewayStatus {
    const now = this.engine.now;
    const s = (ns: number) => Math.round(ns / 1e8) / 10;
    const up = this.mode === 'nat' ? this.upstream() : null;
    const icmp = this.mode === 'nat' ? this.icmpSupport() : null;
    return {
      mode: this.mode,
      address: ip4ToString(this.ip),
      mac: macText(this.mac),
      relaying: this.hostSockets !== null,
      icmpRelay: icmp?.via ?? null,
      icmpRelayError: icmp?.reason ?? null,
      dnsUpstream: up === null ? null : ipPort(up.ip, up.port),
      tcp: [...this.tcpByHandle.values()].map((f) => ({
        direction: f.direction,
        guest: ipPort(f.guestIp, f.guestPort),
        peer: ipPort(f.peerIp, f.peerPort),
        host: ipPort(f.hostIp, f.hostPort),
        state: f.state,
        tcpState: f.socket?.stateName ?? null,
        bytesToHost: f.bytesToHost,
        bytesToGuest: f.bytesToGuest,
        ageS: s(now - f.startedNs),
        idleS: s(now - f.lastNs),
      })),
      udp: [...this.udpByKey.values()].map((f) => ({
        kind: f.kind,
        guest: ipPort(f.guestIp, f.guestPort),
        peer: ipPort(f.peerIp, f.peerPort),
        datagramsToHost: f.datagramsToHost,
        datagramsToGuest: f.datagramsToGuest,
        ageS: s(now - f.startedNs),
        idleS: s(now - f.lastNs),
      })),
      icmp: [...this.icmpByKey.values()].map((f) => ({
        guest: ip4ToString(f.guestIp),
        peer: ip4ToString(f.peerIp),
        ident: f.ident,
        requests: f.requests,
        replies: f.replies,
        ageS: s(now - f.startedNs),
        idleS: s(now - f.lastNs),
      })),
      portForwards: this.forwards.map((f) => ({
        proto: f.config.proto,
        host: ipPort(f.config.host.ip, f.config.host.port),
        guest: ipPort(f.config.guest.ip, f.config.guest.port),
        state: f.state,
        error: f.error,
        accepted: f.accepted,
      })),
      counters: { ...this.counters },
    };
  }
}

function macText(mac: Mac): string {
  return mac
    .toString(16)
    .padStart(12, '0')
    .match(/../g)!
    .join(':');
}

/** SERVFAIL for a query: its header with QR set and RCODE 2, the question kept, no records. */
function servfail(query: Uint8Array): Uint8Array {
  // Keep the question when the header says there is exactly one and it parses; otherwise just the header.
  let end = DNS_HEADER_LEN;
  if (u16(query, 4) === 1) {
    let p = DNS_HEADER_LEN;
    while (p < query.length && query[p] !== 0 && (query[p]! & 0xc0) === 0) p += query[p]! + 1;
    if (p + 5 <= query.length && query[p] === 0) end = p + 5;
  }
  const out = query.slice(0, end);
  out[2] = 0x80 | (query[2]! & 0x79); // QR, opcode and RD kept
  out[3] = 0x80 | 2; // RA, SERVFAIL
  out[4] = 0;
  out[5] = end > DNS_HEADER_LEN ? 1 : 0;
  out.fill(0, 6, 12);
  return out;
}
