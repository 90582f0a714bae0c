/**
 * The IPv4 stack a host or router owns (`IpStack`). In brief:
 *
 *   const stack = new IpStack(engine, { name: 'r1', forwarding: true, defaultTtl: 255 });
 *   const g0 = stack.addInterface(port0, { mac });                        // untagged main interface
 *   const g2_20 = stack.addInterface(port2, { mac, vlan: 20 });           // 802.1Q sub-interface "g0/2.20"
 *   stack.setAddresses(g0, [{ ip, prefix: 24 }]);                          // primary first; gratuitous ARP
 *   stack.addRoute({ prefix, prefixLength, via, ifIndex?, metric? });      // static; connected routes are automatic
 *   stack.setDefaultGateway(ip);  stack.setUp(iface, false);  stack.setMtu(iface, 1400);
 *   stack.start(); stack.stop();                                           // device start/stop
 *   device.onFrame(port, frame) => stack.onFrame(port, frame);             // and onTimer is the stack's own
 *
 * Receive: frames for the interface MAC or broadcast are demultiplexed by port and VLAN (untagged
 * and priority-tagged frames go to the main interface). IPv4 headers are validated (bad checksum
 * counted in `stats.ipInBadChecksum` and dropped), then `hooks.inputFilter` (ACL) and
 * `hooks.preRouting` (DNAT) run, then: our address / broadcast / multicast -> local delivery
 * (reassembly, ICMP, UDP, registered protocols); else forwarding when `forwarding` is on (TTL
 * decrement with incremental checksum, `hooks.postRouting` (SNAT), fragmentation or ICMP
 * frag-needed, ARP); else dropped.
 *
 * ICMP errors (`sendIcmpError`): never about ICMP errors, non-first fragments or broadcasts;
 * token-bucket limited (`icmpRateLimit`, Linux's 1000/s burst 50); sourced from the address the
 * offending datagram was sent to when it is ours, else from the primary address of the interface
 * it arrived on. Errors about our own datagrams (ARP failure -> host unreachable) go straight to
 * the sending socket with `report.local = true`.
 *
 * ARP: Linux timings by default (`LINUX_ARP`: 3 broadcast requests 1 s apart, then host
 * unreachable for the <= 3 queued datagrams; reachable 30 s, then stale and re-probed with
 * unicast after 5 s when used; stale entries forgotten after 60 s). Answers only for the
 * receiving interface's own addresses (no proxy ARP); learns the sender of requests aimed at us
 * (RFC 826) and updates neighbours it already knows. `arpTable()`, `arpLookup()`, `addStaticArp()`.
 *
 * Sockets (owner objects, no closures):
 *   stack.udp.bind(owner, port | 0, { localIp?, iface? }) -> UdpSocket; socket.sendTo(dst, port, payload, { ttl, srcIp, df, iface })
 *     owner.onDatagram(socket, srcIp, srcPort, payload, info: RxInfo)  // info.iface = ingress interface (DHCP server, relay)
 *     owner.onIcmpError?(socket, report: IcmpErrorReport)               // port unreachable, time exceeded (traceroute)
 *   stack.echo.open(owner, id?) -> EchoSocket; socket.send(dst, seq, payload, { ttl, srcIp, df })
 *     owner.onEchoReply(socket, srcIp, seq, payload, info); owner.onIcmpError?(socket, report)
 *   stack.registerProtocol(6, handler: ProtocolHandler)   // TCP slots in here beside UDP
 *   stack.routeOutput(dst, { srcIp?, iface? }) + stack.transmit(route, protocol, payload, opts): raw IPv4 send
 *
 * Sends return a `SendStatus` ('sent' | 'queued' | 'no-route' | 'too-big' | 'down' | 'filtered').
 * Frames the stack sends are carved from shared slabs (`FrameSlab`): each is a Uint8Array view
 * with its own bytes, possibly at a non-zero byteOffset; never reused, so as immutable as any frame.
 *
 * Modules: stack.ts (IpStack: interfaces, addresses, receive, forward, send), arp.ts (IPv4
 * neighbours; IPv6 neighbour discovery will be its sibling), icmp-errors.ts, routes.ts (the route
 * table and its one lookup, shared with the router's fast path), reassembly.ts, sockets.ts, and
 * TCP in tcp*.ts.
 *
 * Not modelled: ICMP redirects, IP options processing (forwarded untouched), reassembly before
 * forwarding (NAT sees fragments as they come), multicast group membership (multicast is
 * delivered to sockets like broadcast, never forwarded).
 */
export { IpStack } from './stack.js';
export type { InterfaceInit, StackOptions, StackStats } from './stack.js';
export { ArpNeighbours, DEFEND_INTERVAL_NS, LINUX_ARP } from './arp.js';
export type { AddressConflictSink, ArpConfig, ArpTableRow } from './arp.js';
export { IcmpErrors } from './icmp-errors.js';
export type { IcmpRateLimit } from './icmp-errors.js';
export { Reassembler } from './reassembly.js';
export type { ReassemblerOptions, ReassemblerStats, ReassemblyEntry } from './reassembly.js';
export { RouteTable, makeRoute, DISTANCE } from './routes.js';
export { FrameSlab } from './slab.js';
export type { RouteInit } from './routes.js';
export { UdpLayer, UdpSocket, EchoLayer, EchoSocket, EPHEMERAL_LOW, EPHEMERAL_HIGH } from './sockets.js';
export type { UdpOwner, UdpSendOptions, UdpBindOptions, EchoOwner, EchoSendOptions } from './sockets.js';
export type {
  ArpEntry,
  ArpState,
  IcmpErrorReport,
  IfAddress,
  IpHooks,
  IpInterface,
  OutputRoute,
  ProtocolHandler,
  Route,
  RxInfo,
  SendOptions,
  SendStatus,
} from './types.js';
