/**
 * VMware's vmnetdhcp: the DHCP server of a host-only or NAT network, at .254. The protocol is the
 * router's DHCP server (devices/router/dhcp-server.ts); this device gives it an address on the
 * network and nothing else: it routes nothing, and a host-only network's clients get no router
 * option (so no way out), which a router's interface pool would always give.
 */
import type { Device } from '../device.js';
import type { Engine } from '../engine/engine.js';
import { Port } from '../engine/port.js';
import { DhcpServer, type DhcpBinding, type DhcpLeaseDatabase, type DhcpPoolConfig } from '../router/index.js';
import { IpStack } from '../stack/stack.js';
import type { UdpOwner, UdpSocket } from '../stack/sockets.js';
import type { IpInterface, RxInfo } from '../stack/types.js';
import type { Ip4, Mac } from '../wire/bytes.js';
import { BOOTREQUEST, DHCP_SERVER_PORT } from '../wire/dhcp.js';
import { ETHERTYPE, ETH_MIN_FRAME, putEthernetHeader } from '../wire/ethernet.js';
import { IPPROTO, encodeIpv4 } from '../wire/ipv4.js';
import { encodeUdp } from '../wire/udp.js';

export interface NetworkDhcpConfig {
  /** Device name, e.g. `vmnet8-dhcp` (the key of its saved leases). */
  name: string;
  mac: Mac;
  /** .254 */
  ip: Ip4;
  prefix: number;
  pool: DhcpPoolConfig;
}

export class NetworkDhcp implements Device, UdpOwner {
  readonly kind = 'network' as const;
  readonly name: string;
  readonly ports: readonly Port[];
  readonly port: Port;
  readonly stack: IpStack;
  readonly iface: IpInterface;
  readonly dhcp: DhcpServer;
  running = false;
  private socket: UdpSocket | null = null;
  private ipId = 0;

  constructor(
    readonly engine: Engine,
    config: NetworkDhcpConfig,
  ) {
    this.name = config.name;
    this.port = new Port(this, 'eth0', 0);
    this.ports = [this.port];
    this.stack = new IpStack(engine, { name: config.name });
    this.iface = this.stack.addInterface(this.port, { mac: config.mac, name: 'eth0' });
    this.stack.setAddresses(this.iface, [{ ip: config.ip, prefix: config.prefix }]);
    this.dhcp = new DhcpServer([{ ...config.pool, interface: 'eth0' }]);
    this.ipId = engine.rng.below(65536);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stack.start();
    this.socket = this.stack.udp.bind(this, DHCP_SERVER_PORT);
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.socket?.close();
    this.socket = null;
    this.stack.stop();
  }

  onFrame(port: Port, frame: Uint8Array): void {
    this.stack.onFrame(port, frame);
  }

  onTimer(): void {}

  onDatagram(_socket: UdpSocket, _srcIp: Ip4, _srcPort: number, payload: Uint8Array, info: RxInfo): void {
    if (payload.length < 1 || payload[0] !== BOOTREQUEST) return;
    const addr = info.iface.addresses[0];
    if (!addr) return;
    const reply = this.dhcp.handle(payload, 0, payload.length, {
      nowNs: this.engine.now,
      iface: info.iface.name,
      ifaceAddress: addr.ip,
    });
    if (reply === null) return;
    if (reply.dstMac !== undefined) this.sendUdpFrame(reply.dstMac, reply.srcIp, reply.dstIp, reply.srcPort, reply.dstPort, reply.payload);
    else this.socket?.sendTo(reply.dstIp, reply.dstPort, reply.payload, { srcIp: reply.srcIp });
  }

  /** A reply straight to a MAC: the client may have no address ARP could resolve yet (RFC 2131 4.1). */
  private sendUdpFrame(dstMac: Mac, srcIp: Ip4, dstIp: Ip4, srcPort: number, dstPort: number, payload: Uint8Array): void {
    const total = 20 + 8 + payload.length;
    const frame = new Uint8Array(Math.max(ETH_MIN_FRAME, 14 + total));
    putEthernetHeader(frame, 0, dstMac, this.iface.mac, -1, ETHERTYPE.IPV4);
    encodeIpv4({ dscp: 0, ecn: 0, totalLength: total, id: this.ipId, df: false, mf: false, fragmentOffset: 0, ttl: 64, protocol: IPPROTO.UDP, src: srcIp, dst: dstIp }, frame, 14);
    this.ipId = (this.ipId + 1) & 0xffff;
    encodeUdp({ srcPort, dstPort, payload }, frame, 34, srcIp, dstIp);
    this.port.send(frame);
  }

  /** The lease database to save when the lab stops (plain JSON-able data). */
  exportLeases(): DhcpLeaseDatabase {
    return this.dhcp.exportLeases(this.engine.now);
  }

  importLeases(db: DhcpLeaseDatabase): number {
    return this.dhcp.importLeases(db, this.engine.now);
  }

  dhcpBindings(): DhcpBinding[] {
    return this.dhcp.bindings(this.engine.now);
  }

  dhcpPools(): { pool: string; network: string; size: number; leased: number; held: number; exhausted: number }[] {
    return this.dhcp.poolUsage(this.engine.now);
  }
}
