/**
 * The gateway's TCP relay: every TCP connection a guest opens through the gateway is terminated by
 * the gateway's own TCP and re-opened from the host with a socket (and port forwards' connections
 * the other way); bytes, half-closes and resets are carried both ways. The guest's handshake is
 * held until the host's connect has an outcome, so a refused connection outside is a refused
 * connection inside (RST), an unreachable one an ICMP unreachable from the gateway.
 */
import { TcpIpStackAdapter } from '../../stack/tcp-ip.js';
import type { TcpLayer, TcpListener, TcpSocket } from '../../stack/tcp.js';
import { tcpSegmentChecksumOk } from '../../stack/tcp-sum.js';
import type { TcpErrorCode, TcpListenerOwner, TcpSocketOwner } from '../../stack/tcp-types.js';
import type { RxInfo } from '../../stack/types.js';
import { type Ip4, u16, u32 } from '../../wire/bytes.js';
import { ICMP_TYPE } from '../../wire/icmp.js';
import type { HostSocketError } from '../host-sockets.js';
import {
  EV_CLOSED,
  EV_CONNECTED,
  EV_DATA,
  EV_DRAIN,
  EV_END,
  type GatewayContext,
  type HostEvent,
  LOOPBACK,
  type PortForward,
  GatewayRelay,
  unreachableCode,
} from './context.js';

export type TcpFlowState = 'connecting' | 'handshake' | 'open';

/** One relayed TCP connection. Plain data plus the lab-side socket. */
export interface TcpFlow {
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

const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

/** A new flow between the given ends: nothing carried yet, both sides open. */
function newTcpFlow(ends: Pick<TcpFlow, 'handle' | 'direction' | 'guestIp' | 'guestPort' | 'peerIp' | 'peerPort' | 'hostIp' | 'hostPort' | 'state' | 'syn' | 'synAt'>, now: number): TcpFlow {
  return {
    ...ends,
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
}

const tcpKey = (guestIp: Ip4, guestPort: number, peerIp: Ip4, peerPort: number) => `${guestIp}:${guestPort}>${peerIp}:${peerPort}`;

/** The gateway's TCP: the stack's adapter, with every segment going through the relay first. */
export class RelayTcpAdapter extends TcpIpStackAdapter {
  relay: TcpRelay | null = null;

  override input(packet: Uint8Array, offset: number, length: number, info: RxInfo): boolean {
    if (!info.broadcast && this.relay !== null) this.relay.tcpSegment(info.srcIp, info.dstIp, packet, offset, length);
    return true;
  }
}

export class TcpRelay extends GatewayRelay implements TcpSocketOwner, TcpListenerOwner {
  readonly tcpByHandle = new Map<number, TcpFlow>();
  private readonly tcpByKey = new Map<string, TcpFlow>();
  private readonly tcpBySocket = new Map<TcpSocket, TcpFlow>();
  private readonly listeners = new Map<string, { listener: TcpListener; users: number }>();
  private readonly tcp: TcpLayer;

  constructor(
    gw: GatewayContext,
    private readonly forwards: readonly PortForward[],
  ) {
    super(gw);
    this.tcp = gw.tcp;
  }

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
    if (dst === this.ip) return port === 53 ? this.gw.upstream() : null;
    return this.gw.notRelayed(dst) ? null : { ip: dst, port };
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
    const flow = newTcpFlow(
      {
        handle: hs.tcpConnect(this.gw, target.ip, target.port),
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
      },
      now,
    );
    this.tcpByHandle.set(flow.handle, flow);
    this.tcpByKey.set(tcpKey(src, srcPort, dst, dstPort), flow);
    this.gw.armSweep();
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
    const code = unreachableCode(error);
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

  /** A host event about a relayed connection (connected, data, end, drain, closed). */
  hostEvent(e: HostEvent): void {
    const hs = this.hostSockets;
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

  /** A port forward's host listener took a connection: the relay opens one from .2 to the guest. */
  forwardAccepted(listener: number, handle: number, remoteIp: Ip4, remotePort: number): void {
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
    const f = newTcpFlow(
      {
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
      },
      now,
    );
    this.tcpByHandle.set(handle, f);
    this.tcpByKey.set(tcpKey(f.guestIp, f.guestPort, f.peerIp, f.peerPort), f);
    this.attach(f, socket);
    this.gw.armSweep();
  }

  /** Gives up connections that waited too long for a handshake or were idle too long. */
  expire(now: number): void {
    const lim = this.limits;
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
  }

  /** Power off, host side: every open host connection is reset. */
  resetHost(): void {
    const hs = this.hostSockets;
    for (const f of this.tcpByHandle.values()) if (f.hostOpen) hs?.tcpReset(f.handle);
  }

  /** Power off, lab side: the flows are forgotten (the lab's TCP stops without resets). */
  clear(): void {
    this.tcpByHandle.clear();
    this.tcpByKey.clear();
    this.tcpBySocket.clear();
    this.listeners.clear();
  }
}
