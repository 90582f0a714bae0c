import type { Port } from '../engine/port.js';
import type { Ip4, Mac } from '../wire/bytes.js';

/** One IPv4 address on an interface, with the derived subnet values the stack compares against. */
export interface IfAddress {
  ip: Ip4;
  prefix: number;
  mask: Ip4;
  /** ip & mask. */
  network: Ip4;
  /** The directed broadcast address; equals `ip` for /31 and /32 (no broadcast there, RFC 3021). */
  broadcast: Ip4;
}

/**
 * A routed interface: a port, or an 802.1Q sub-interface of one (`vlan` >= 1). Plain data; the
 * stack owns it and changes it through its methods so that routes and ARP stay consistent.
 */
export interface IpInterface {
  /** Position in `stack.interfaces`; routes and ARP timers refer to interfaces by it. */
  readonly index: number;
  /** `eth0`, `g0/1`, `g0/2.20`. */
  readonly name: string;
  readonly port: Port;
  /** 802.1Q VLAN id of a sub-interface, or -1 for the untagged main interface. */
  readonly vlan: number;
  mac: Mac;
  mtu: number;
  /** Administrative state (`shutdown` / `no shutdown`). */
  up: boolean;
  /** Primary first. */
  addresses: IfAddress[];
  /** Neighbour cache of this interface, keyed by IPv4 address. */
  arp: Map<Ip4, ArpEntry>;
}

/**
 * Neighbour states after Linux (net/core/neighbour.c): INCOMPLETE while resolving, REACHABLE
 * after a reply, STALE when the reachable time ran out or the entry came from a request,
 * DELAY/PROBE while a stale entry in use is re-checked with unicast requests. PERMANENT entries
 * are configured and never expire.
 */
export type ArpState = 'incomplete' | 'reachable' | 'stale' | 'delay' | 'probe' | 'permanent';

export interface ArpEntry {
  ip: Ip4;
  /** -1 while incomplete. */
  mac: Mac;
  state: ArpState;
  /** When the neighbour last proved reachable (a reply, or its creation). */
  confirmedNs: number;
  /** When the entry was last used to send or updated: stale entries are forgotten after `arp.staleNs` of this. */
  touchedNs: number;
  /** Requests sent in the current INCOMPLETE or PROBE round. */
  probes: number;
  /** Engine timer handle, -1 when none. */
  timer: number;
  /** IPv4 datagrams waiting for the address (INCOMPLETE only), oldest first. */
  queue: Uint8Array[];
  /** For each queued datagram, the index of the interface it arrived on, or -1 when it is ours. */
  queueIngress: number[];
}

/** A route. `ifIndex` -1 means "through whichever interface reaches `via`" (a recursive static route). */
export interface Route {
  prefix: Ip4;
  prefixLength: number;
  mask: Ip4;
  /** Next hop; 0 for a directly connected network. */
  via: Ip4;
  ifIndex: number;
  /** Administrative distance as in IOS: connected 0, static 1, DHCP default 254. Lower wins. */
  distance: number;
  /** Tie-break among routes of one prefix and distance. Lower wins. */
  metric: number;
  source: 'connected' | 'static' | 'dhcp';
}

/** What a receiver learns about a datagram besides its bytes. Valid only during the callback. */
export interface RxInfo {
  /** The interface it arrived on (for loopback: the interface that owns the destination address). */
  iface: IpInterface;
  /** Source address of the datagram. */
  srcIp: Ip4;
  /** Destination address of the datagram (ours, a broadcast, or anything on an unconfigured interface). */
  dstIp: Ip4;
  /** Source MAC of the frame (0 for loopback). */
  srcMac: Mac;
  ttl: number;
  /** The datagram was sent to a broadcast or multicast address (IP or link layer). */
  broadcast: boolean;
  /** Its IP destination is a broadcast (limited or directed) or multicast address, not one of ours. */
  ipGroup: boolean;
}

/**
 * An ICMP error as the socket that sent the offending datagram sees it (ping, traceroute, UDP
 * senders). Built from the quote inside the error, after RFC 1122 3.2.2.
 */
export interface IcmpErrorReport {
  type: number;
  code: number;
  /** Who sent the error: the router that gave up, or our own address for a local failure. */
  from: Ip4;
  /** True when our own stack produced it (ARP failed, no route) rather than the network. */
  local: boolean;
  /** The interface the error arrived on (for a local error: the one the datagram was leaving by). */
  iface: IpInterface | null;
  /** From the quoted header. */
  quotedSrc: Ip4;
  quotedDst: Ip4;
  quotedProtocol: number;
  quotedTtl: number;
  /** IP identification of the quoted datagram (tells apart probes that share ports). */
  quotedId: number;
  /** UDP/TCP ports of the quoted datagram, or the echo id (in srcPort) and sequence (in dstPort) for ICMP echo. */
  quotedSrcPort: number;
  quotedDstPort: number;
  /** Next-hop MTU of a fragmentation-needed error (RFC 1191), else 0. */
  nextHopMtu: number;
  /** Hop limit left in the error itself when it reached us. */
  ttl: number;
}

/**
 * Netfilter-like hooks a router installs (ACLs, NAT). Packets are whole IPv4 datagrams (header
 * first, trimmed to the total length). Hooks are objects, not closures, so device state stays data.
 */
export interface IpHooks {
  /**
   * Inbound ACL, called for every well-formed datagram arriving on an interface before anything
   * else. Return false to drop it. `packet` is a view of a received frame: never modify it.
   */
  inputFilter?(iface: IpInterface, packet: Uint8Array): boolean;
  /**
   * Destination NAT before the routing decision. `packet` is a view of a received frame: to
   * rewrite, return a new array; return `packet` to leave it, null to drop it.
   */
  preRouting?(iface: IpInterface, packet: Uint8Array): Uint8Array | null;
  /**
   * Source NAT after the routing decision, for forwarded (`ingress` set) and locally sent
   * (`ingress` null) datagrams, before fragmentation. `packet` belongs to the stack and may be
   * modified in place (fix the checksums you touch); return it, a replacement, or null to drop.
   */
  postRouting?(ingress: IpInterface | null, egress: IpInterface, packet: Uint8Array): Uint8Array | null;
}

/**
 * A transport protocol beside UDP (TCP later): the stack hands it datagrams addressed to us,
 * reassembled, and ICMP errors quoting its datagrams.
 */
export interface ProtocolHandler {
  /**
   * The transport payload is packet[offset, offset+length). Return false when nothing listens,
   * so that the stack answers a unicast datagram with ICMP port/protocol unreachable as it sees fit
   * (UDP: port unreachable; others: the handler sends its own reset and returns true).
   */
  input(packet: Uint8Array, offset: number, length: number, info: RxInfo): boolean;
  icmpError?(report: IcmpErrorReport, quote: Uint8Array, transportOffset: number): void;
}

/** The outcome of a send, as errno would tell a Linux program. */
export type SendStatus =
  /** Handed to the wire (or to loopback). */
  | 'sent'
  /** Waiting for ARP; may still fail with a host-unreachable report. */
  | 'queued'
  /** ENETUNREACH: no route. */
  | 'no-route'
  /** EMSGSIZE: larger than the MTU with DF set. */
  | 'too-big'
  /** ENETDOWN: the chosen interface is shut down, or the stack is stopped. */
  | 'down'
  /** Dropped by a hook. */
  | 'filtered';

/** Where a locally generated datagram goes, chosen by `IpStack.routeOutput`. */
export interface OutputRoute {
  iface: IpInterface;
  nextHop: Ip4;
  src: Ip4;
  dst: Ip4;
  /** The destination is one of our own addresses: delivered through loopback. */
  local: boolean;
  /** Sent as a link-layer broadcast. */
  broadcast: boolean;
}

export interface SendOptions {
  /** Default: the stack's defaultTtl (64). */
  ttl?: number;
  df?: boolean;
  /** DSCP/ECN byte. */
  tos?: number;
  /** IP identification; default the stack's counter. */
  id?: number;
}

/**
 * Tags of the stack's engine timers. The stack is the target of all of them and hands each to
 * the part it belongs to; snapshots record these numbers, so they are never renumbered.
 */
export const STACK_TIMER = { ARP: 1, REASSEMBLY: 2, LOOPBACK: 3 } as const;
