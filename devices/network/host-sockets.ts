/**
 * What a network's NAT gateway (.2) and host adapter (.1) need from the machine the lab runs on:
 * TCP connections and listeners and UDP sockets of the host's own network stack, as VMware's NAT
 * service and QEMU's slirp use them. devices/ only describes the interface; the server implements
 * it with node:net and node:dgram (server/host-sockets.ts), and tests with an in-memory fake.
 *
 * Sockets are named by numeric handles the implementation hands out, so that device state stays
 * plain data (handles, not socket objects). Events go to the `HostSocketEvents` object given when
 * the socket was made, with that handle; they may arrive at any moment (the devices queue them and
 * handle them on the engine's clock). After `tcpClose`, `udpClose`, `listenClose` or `icmpEchoClose`
 * no event about that handle arrives any more.
 *
 * ICMP echo (ping) leaves the host with its own stack too, where the host allows it: an
 * unprivileged ICMP datagram socket (Linux, when net.ipv4.ping_group_range takes the process's
 * group) or a raw ICMP socket (CAP_NET_RAW). The identifier on the wire is the host's choice (the
 * kernel's, or the implementation's for a raw socket); the device restores its guest's own.
 */
import type { Ip4 } from '../wire/bytes.js';

/** Why a host socket failed, as errno names it. */
export type HostSocketError =
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  | 'ETIMEDOUT'
  | 'EHOSTUNREACH'
  | 'ENETUNREACH'
  | 'EADDRINUSE'
  | 'EADDRNOTAVAIL'
  | 'EACCES'
  | 'EPIPE'
  | 'EIO';

export interface HostSocketEvents {
  /** A `tcpConnect` completed its handshake. */
  onHostTcpConnected(handle: number): void;
  /** Bytes from the host-side peer; the array is the receiver's to keep. */
  onHostTcpData(handle: number, data: Uint8Array): void;
  /** The host-side peer sent FIN (it may still read). */
  onHostTcpEnd(handle: number): void;
  /** The write buffer went below its high-water mark after `tcpWrite` returned false. */
  onHostTcpDrain(handle: number): void;
  /**
   * The connection is over: `error` null after both FINs, else why (refused and unreachable for a
   * connect that failed, ECONNRESET for a reset). The last event of the handle.
   */
  onHostTcpClosed(handle: number, error: HostSocketError | null): void;
  /** A `tcpListen` listener took a connection, now open under `handle`. */
  onHostTcpAccepted(listener: number, handle: number, remoteIp: Ip4, remotePort: number): void;
  /** A listener (TCP or UDP) could not be opened or failed: the last event of the handle. */
  onHostListenError(listener: number, error: HostSocketError, message: string): void;
  /** A datagram to a `udpOpen` socket. The array is the receiver's to keep. */
  onHostUdpDatagram(handle: number, srcIp: Ip4, srcPort: number, data: Uint8Array): void;
  /**
   * An echo reply from the `icmpEchoOpen` socket's address, to the request with sequence number
   * `seq`; `payload` is the reply's data after the 8-byte ICMP header, the receiver's to keep.
   */
  onHostIcmpEchoReply(handle: number, seq: number, payload: Uint8Array): void;
  /**
   * The echo with sequence number `seq` could not be sent (`fatal` false: the host has no route,
   * a firewall refused it...; the socket stays usable), or the socket could not be opened or
   * failed (`fatal` true, `seq` -1: the last event of the handle).
   */
  onHostIcmpEchoError(handle: number, seq: number, error: HostSocketError, fatal: boolean): void;
}

/**
 * How ICMP echo leaves this host: `datagram` (an unprivileged ping socket per flow), `raw` (one
 * raw ICMP socket shared by every flow, replies told apart by identifier and source), or not at
 * all (`null`, with the reason a user can act on).
 */
export type IcmpEchoSupport = { via: 'datagram' | 'raw'; reason: null } | { via: null; reason: string };

export interface HostSockets {
  /** Opens a TCP connection to ip:port; the outcome comes as onHostTcpConnected or onHostTcpClosed. */
  tcpConnect(events: HostSocketEvents, ip: Ip4, port: number): number;
  /**
   * Queues bytes (the implementation copies or keeps them; the caller may reuse the array).
   * Returns false when the write buffer is above its high-water mark: stop writing until
   * onHostTcpDrain.
   */
  tcpWrite(handle: number, data: Uint8Array): boolean;
  /** Half-close: FIN after the queued bytes. */
  tcpEnd(handle: number): void;
  /** Stops reading (the host's TCP window closes) until tcpResume. */
  tcpPause(handle: number): void;
  tcpResume(handle: number): void;
  /** Aborts with a RST to the host-side peer; no further events. */
  tcpReset(handle: number): void;
  /** Lets go of the handle: closes gracefully if it is still open; no further events. */
  tcpClose(handle: number): void;

  /** Listens on ip:port for a port forward; connections come as onHostTcpAccepted. */
  tcpListen(events: HostSocketEvents, ip: Ip4, port: number): number;
  /** A UDP socket bound to ip:port (0.0.0.0:0 when absent: any address, an ephemeral port). */
  udpOpen(events: HostSocketEvents, bind?: { ip: Ip4; port: number }): number;
  udpSend(handle: number, ip: Ip4, port: number, data: Uint8Array): void;
  udpClose(handle: number): void;
  /** Closes a TCP listener. */
  listenClose(handle: number): void;

  /** Whether ICMP echo can leave the host, and how; cheap to ask again (the answer is kept). */
  icmpEchoSupport(): IcmpEchoSupport;
  /**
   * A socket for echo requests to `ip` (one flow: one guest's pings to one address). Opening may
   * fail later, as onHostIcmpEchoError with `fatal`.
   */
  icmpEchoOpen(events: HostSocketEvents, ip: Ip4): number;
  /** Sends an echo request with this sequence number and data (the implementation copies it). */
  icmpEchoSend(handle: number, seq: number, payload: Uint8Array): void;
  icmpEchoClose(handle: number): void;

  /** The host's own DNS resolver (the first nameserver of /etc/resolv.conf), or null when it has none. */
  resolver(): { ip: Ip4; port: number } | null;
}
