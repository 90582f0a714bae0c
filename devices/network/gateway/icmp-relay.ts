/**
 * The gateway's ICMP relay: a guest's ping to an outside address is sent by the host's own stack
 * (an unprivileged ICMP datagram socket, or a raw socket where the process may) and the guest hears
 * the reply from that address, with its own identifier, sequence number and data, as libslirp and
 * VMware's NAT do. Only echo requests are relayed.
 */
import { type Ip4, onesSum, u16 } from '../../wire/bytes.js';
import { ICMP_HEADER_LENGTH, ICMP_TYPE, UNREACH, encodeIcmp } from '../../wire/icmp.js';
import { IPPROTO } from '../../wire/ipv4.js';
import type { HostSocketError, IcmpEchoSupport } from '../host-sockets.js';
import { GatewayRelay, unreachableCode } from './context.js';

/** One guest's pings to one outside address with one identifier: one host ICMP socket (or raw-socket identifier). */
export interface IcmpFlow {
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

/**
 * TTL of the echo replies the guest hears. VMware's NAT answers with a fixed 128 whatever the
 * destination (the reply is its own, not a forwarded packet); we do the same because the NAT is no
 * router hop (it does not count down TTL the other way either), and because an unprivileged ping
 * socket's read() does not give the reply's TTL, so a fixed value is the only one both host paths
 * can give alike.
 */
const ECHO_REPLY_TTL = 128;

const EMPTY = new Uint8Array(0);

export class IcmpRelay extends GatewayRelay {
  readonly icmpByKey = new Map<string, IcmpFlow>();
  private readonly icmpByHandle = new Map<number, IcmpFlow>();

  /** How pings leave the host, or why they cannot (nat mode; host mode relays none). */
  icmpSupport(): IcmpEchoSupport {
    if (this.hostSockets === null) return { via: null, reason: 'no host sockets: pings are relayed by the wirelab server or CLI' };
    return this.hostSockets.icmpEchoSupport();
  }

  /** An ICMP message from a guest to an outside address: echo requests go out through the host. */
  icmpOut(packet: Uint8Array, off: number, len: number, src: Ip4, dst: Ip4): void {
    if (len < ICMP_HEADER_LENGTH || onesSum(packet, off, len) !== 0xffff) {
      this.counters.malformed++;
      return;
    }
    if (packet[off] !== ICMP_TYPE.ECHO_REQUEST || packet[off + 1] !== 0) {
      this.counters.icmpNotRelayed++;
      return;
    }
    if (this.gw.notRelayed(dst)) {
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
      f = { key, guestIp: src, peerIp: dst, ident, handle: hs.icmpEchoOpen(this.gw, dst), lastRequest: EMPTY, requests: 0, replies: 0, startedNs: now, lastNs: now };
      this.icmpByKey.set(key, f);
      this.icmpByHandle.set(f.handle, f);
      this.gw.armSweep();
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
  hostEchoReply(handle: number, seq: number, payload: Uint8Array): void {
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

  /** The host could not send the echo with sequence number `seq` (or, `fatal`, cannot send any). */
  hostEchoError(handle: number, seq: number, error: HostSocketError, fatal: boolean): void {
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
    const code = unreachableCode(error);
    this.stack.sendIcmpError(ICMP_TYPE.DEST_UNREACHABLE, code, q, this.iface);
  }

  /** Forgets flows idle too long, closing their host sockets. */
  expire(now: number): void {
    const lim = this.limits;
    for (const f of [...this.icmpByKey.values()]) {
      if (now - f.lastNs >= lim.icmpIdleNs) {
        this.counters.icmpExpired++;
        this.removeIcmp(f, true);
      }
    }
  }

  /** Power off: every host ICMP socket is closed. */
  stop(): void {
    const hs = this.hostSockets;
    for (const f of this.icmpByHandle.values()) hs?.icmpEchoClose(f.handle);
    this.icmpByKey.clear();
    this.icmpByHandle.clear();
  }
}
