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
import type { TcpLayer } from '../stack/tcp.js';
import type { IpInterface } from '../stack/types.js';
import { type Ip4, type Mac, macAt, u16, u32 } from '../wire/bytes.js';
import { ICMP_TYPE, UNREACH } from '../wire/icmp.js';
import { IPPROTO, IPV4_HEADER_LENGTH, ipv4ChecksumOk, ipv4IsFragment } from '../wire/ipv4.js';
import { Reassembler } from '../stack/reassembly.js';
import {
  EV_ACCEPTED,
  EV_CLOSED,
  EV_CONNECTED,
  EV_DATA,
  EV_DRAIN,
  EV_ECHO_ERROR,
  EV_ECHO_FAILED,
  EV_ECHO_REPLY,
  EV_END,
  EV_LISTEN_ERROR,
  EV_UDP,
  GATEWAY_LIMITS,
  type GatewayConfig,
  type GatewayContext,
  type GatewayCounters,
  type GatewayLimits,
  type HostEvent,
  type PortForward,
  newCounters,
  outsideForbidden,
} from './gateway/context.js';
import { type GatewayStatus, gatewayStatus } from './gateway/status.js';
import { RelayTcpAdapter, TcpRelay } from './gateway/tcp-relay.js';
import { UdpRelay } from './gateway/udp-relay.js';
import { IcmpRelay } from './gateway/icmp-relay.js';
import type { HostSocketError, HostSockets } from './host-sockets.js';

export { GATEWAY_LIMITS } from './gateway/context.js';
export type { GatewayConfig, GatewayCounters, GatewayLimits, PortForwardConfig } from './gateway/context.js';
export type { GatewayIcmpView, GatewayStatus, GatewayTcpView, GatewayUdpView } from './gateway/status.js';

const TAG_INBOX = 1;
const TAG_SWEEP = 2;
const SWEEP_NS = 1e9;

/** The NAT gateway (.2) or host adapter (.1): frames in, host events in, each handed to its relay. */
export class SocketGateway implements Device, GatewayContext {
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
  readonly hostSockets: HostSockets | null;
  readonly tcpRelay: TcpRelay;
  readonly udpRelay: UdpRelay;
  readonly icmpRelay: IcmpRelay;
  running = false;

  private readonly dnsUpstream: { ip: Ip4; port: number } | undefined;
  private readonly forwards: PortForward[];
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
    this.tcp = adapter.tcp;
    this.tcpRelay = new TcpRelay(this, this.forwards);
    adapter.relay = this.tcpRelay;
    this.udpRelay = new UdpRelay(this, this.forwards);
    this.icmpRelay = new IcmpRelay(this);
  }

  // ---------------------------------------------------------------- power

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stack.start();
    this.udpRelay.start();
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
    this.tcpRelay.resetHost();
    this.udpRelay.closeHost();
    this.icmpRelay.stop();
    for (const f of this.forwards) {
      if (f.handle >= 0 && f.state === 'listening') {
        if (f.config.proto === 'tcp') hs?.listenClose(f.handle);
        else hs?.udpClose(f.handle);
      }
      f.handle = -1;
      f.state = 'stopped';
    }
    this.tcpRelay.clear();
    this.udpRelay.clear();
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
        this.tcpRelay.tcpSegment(src, dst, packet, phl, len);
        return;
      case IPPROTO.UDP:
        this.udpRelay.udpOut(packet, phl, len, src, dst);
        return;
      case IPPROTO.ICMP:
        this.icmpRelay.icmpOut(packet, phl, len, src, dst);
        return;
      default:
        this.counters.refused++;
        this.stack.sendIcmpError(ICMP_TYPE.DEST_UNREACHABLE, UNREACH.PROTOCOL, packet, this.iface);
    }
  }

  /** Not for the NAT: the host's loopback, reserved addresses, and this network itself (on-link, never through .2). */
  notRelayed(dst: Ip4): boolean {
    const a = this.iface.addresses[0];
    return outsideForbidden(dst) || (a !== undefined && ((dst & a.mask) >>> 0) === a.network);
  }

  /** Where DNS queries to .2 go: the configured upstream, else the host's resolver. */
  upstream(): { ip: Ip4; port: number } | null {
    return this.dnsUpstream ?? this.hostSockets?.resolver() ?? null;
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
    switch (e.type) {
      case EV_UDP:
        this.udpRelay.hostDatagram(e.handle, e.ip, e.port, e.data!);
        return;
      case EV_ACCEPTED:
        this.tcpRelay.forwardAccepted(e.listener, e.handle, e.ip, e.port);
        return;
      case EV_ECHO_REPLY:
        this.icmpRelay.hostEchoReply(e.handle, e.port, e.data!);
        return;
      case EV_ECHO_ERROR:
      case EV_ECHO_FAILED:
        this.icmpRelay.hostEchoError(e.handle, e.port, e.error ?? 'EIO', e.type === EV_ECHO_FAILED);
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
    this.tcpRelay.hostEvent(e);
  }

  // ---------------------------------------------------------------- expiry

  armSweep(): void {
    if (this.sweepTimer < 0 && this.running) this.sweepTimer = this.engine.after(SWEEP_NS, this, TAG_SWEEP);
  }

  private sweep(): void {
    const now = this.engine.now;
    this.udpRelay.expire(now);
    this.tcpRelay.expire(now);
    this.icmpRelay.expire(now);
    if (this.reassembler.entries.size > 0) this.reassembler.expire(now);
    if (this.udpRelay.udpByKey.size > 0 || this.tcpRelay.tcpByHandle.size > 0 || this.icmpRelay.icmpByKey.size > 0 || this.reassembler.entries.size > 0) this.armSweep();
  }

  // ---------------------------------------------------------------- inspection

  status(): GatewayStatus {
    return gatewayStatus(this, this.forwards);
  }
}
