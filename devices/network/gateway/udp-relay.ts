/**
 * The gateway's UDP relay: one host UDP socket per guest socket (forgotten after an idle time), DNS
 * to .2:53 relayed to an upstream resolver (SERVFAIL where there is none), and the .2 ends of UDP
 * port forwards.
 */
import type { UdpOwner, UdpSocket } from '../../stack/sockets.js';
import type { RxInfo } from '../../stack/types.js';
import { type Ip4, u16 } from '../../wire/bytes.js';
import { DNS_HEADER_LEN } from '../../wire/dns.js';
import { ICMP_TYPE, UNREACH } from '../../wire/icmp.js';
import { IPPROTO } from '../../wire/ipv4.js';
import { UDP_HEADER_LEN, encodeUdp, udpChecksumOk } from '../../wire/udp.js';
import { type GatewayContext, GatewayRelay, LOOPBACK, type PortForward, outsideForbidden } from './context.js';

export type UdpFlowKind = 'relay' | 'dns' | 'forward';

export interface UdpFlow {
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

export class UdpRelay extends GatewayRelay implements UdpOwner {
  readonly udpByKey = new Map<string, UdpFlow>();
  private readonly udpByHandle = new Map<number, UdpFlow>();
  private readonly udpByLabPort = new Map<number, UdpFlow>();
  private dnsSocket: UdpSocket | null = null;

  constructor(
    gw: GatewayContext,
    private readonly forwards: readonly PortForward[],
  ) {
    super(gw);
  }

  /** Power on: a NAT gateway answers DNS at .2:53. */
  start(): void {
    if (this.mode === 'nat') this.dnsSocket = this.stack.udp.bind(this, 53, { localIp: this.ip });
  }

  /** Power off, host side: every flow's own host socket is closed. */
  closeHost(): void {
    const hs = this.hostSockets;
    for (const u of this.udpByHandle.values()) hs?.udpClose(u.handle);
  }

  /** Power off, lab side: the flows and their sockets on .2 are let go. */
  clear(): void {
    for (const u of this.udpByKey.values()) u.labSocket?.close();
    this.udpByKey.clear();
    this.udpByHandle.clear();
    this.udpByLabPort.clear();
    this.dnsSocket?.close();
    this.dnsSocket = null;
  }

  /** A UDP datagram from a guest, to relay: `packet` is the IPv4 datagram, its UDP header at `off`. */
  udpOut(packet: Uint8Array, off: number, len: number, src: Ip4, dst: Ip4): void {
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
    if (hs === null || (this.mode === 'nat' && this.gw.notRelayed(dst)) || dstPort === 0) {
      this.counters.refused++;
      this.stack.sendIcmpError(ICMP_TYPE.DEST_UNREACHABLE, this.mode === 'host' ? UNREACH.PORT : UNREACH.ADMIN_PROHIBITED, packet, this.iface);
      return;
    }
    const key = `r${src}:${srcPort}`;
    let f = this.udpByKey.get(key);
    if (f === undefined) f = this.newUdpFlow(key, 'relay', src, srcPort, dst, dstPort, hs.udpOpen(this.gw), null);
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
    this.gw.armSweep();
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
    const up = this.gw.upstream();
    if (hs === null || up === null) {
      this.counters.dnsFailed++;
      socket.sendTo(srcIp, srcPort, servfail(query), { srcIp: this.ip });
      return;
    }
    const key = `d${srcIp}:${srcPort}`;
    let f = this.udpByKey.get(key);
    if (f === undefined) f = this.newUdpFlow(key, 'dns', srcIp, srcPort, up.ip, up.port, hs.udpOpen(this.gw), null);
    f.lastNs = this.engine.now;
    f.datagramsToHost++;
    hs.udpSend(f.handle, up.ip, up.port, query.slice());
  }

  /** A datagram to one of the relay's host sockets (or a UDP port forward's). */
  hostDatagram(handle: number, srcIp: Ip4, srcPort: number, data: Uint8Array): void {
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

  /** Forgets flows idle too long (DNS ones sooner). */
  expire(now: number): void {
    const lim = this.limits;
    for (const f of [...this.udpByKey.values()]) {
      if (now - f.lastNs >= (f.kind === 'dns' ? lim.dnsIdleNs : lim.udpIdleNs)) {
        this.counters.udpExpired++;
        this.removeUdp(f);
      }
    }
  }
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
