/** What the gateway shows of itself: its relayed flows, port forwards and counters. */
import { ip4ToString, macToString } from '../../wire/bytes.js';
import type { SocketGateway } from '../gateway.js';
import { type GatewayCounters, type PortForward, ipPort } from './context.js';
import type { TcpFlowState } from './tcp-relay.js';
import type { UdpFlowKind } from './udp-relay.js';

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

export function gatewayStatus(gw: SocketGateway, forwards: readonly PortForward[]): GatewayStatus {
  const now = gw.engine.now;
  const s = (ns: number) => Math.round(ns / 1e8) / 10;
  const up = gw.mode === 'nat' ? gw.upstream() : null;
  const icmp = gw.mode === 'nat' ? gw.icmpRelay.icmpSupport() : null;
  return {
    mode: gw.mode,
    address: ip4ToString(gw.ip),
    mac: macToString(gw.mac),
    relaying: gw.hostSockets !== null,
    icmpRelay: icmp?.via ?? null,
    icmpRelayError: icmp?.reason ?? null,
    dnsUpstream: up === null ? null : ipPort(up.ip, up.port),
    tcp: [...gw.tcpRelay.tcpByHandle.values()].map((f) => ({
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
    udp: [...gw.udpRelay.udpByKey.values()].map((f) => ({
      kind: f.kind,
      guest: ipPort(f.guestIp, f.guestPort),
      peer: ipPort(f.peerIp, f.peerPort),
      datagramsToHost: f.datagramsToHost,
      datagramsToGuest: f.datagramsToGuest,
      ageS: s(now - f.startedNs),
      idleS: s(now - f.lastNs),
    })),
    icmp: [...gw.icmpRelay.icmpByKey.values()].map((f) => ({
      guest: ip4ToString(f.guestIp),
      peer: ip4ToString(f.peerIp),
      ident: f.ident,
      requests: f.requests,
      replies: f.replies,
      ageS: s(now - f.startedNs),
      idleS: s(now - f.lastNs),
    })),
    portForwards: forwards.map((f) => ({
      proto: f.config.proto,
      host: ipPort(f.config.host.ip, f.config.host.port),
      guest: ipPort(f.config.guest.ip, f.config.guest.port),
      state: f.state,
      error: f.error,
      accepted: f.accepted,
    })),
    counters: { ...gw.counters },
  };
}
