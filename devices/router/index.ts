/**
 * The router node: an IOS-like IPv4 router built on the shared stack (devices/stack). The stack
 * does interfaces, 802.1Q sub-interfaces, ARP (answering only for the receiving interface's own
 * addresses), longest-prefix-match forwarding with TTL decrement and ICMP errors; this class adds
 * what makes it a router in a lab: configuration from plain data, IOS defaults (TTL 255, 4 h ARP),
 * a DHCP server and relay on UDP port 67, NAT through the stack's pre/post-routing hooks,
 * standard and extended ACLs in and out of interfaces, and show-able state.
 *
 *   const r1 = createRouter(engine, {          // addresses as values (Ip4, Ip4Prefix), as lab/build.ts passes them
 *     name: 'r1', lab: 'office',
 *     interfaces: [{ name: 'g0/0', ip: { ip: 0xc0a89114, prefix: 24 } }, { name: 'g0/2.20', vlan: 20, ip: { ip: 0x0a020001, prefix: 24 } }],
 *     routes: [{ to: { ip: 0, prefix: 0 }, via: 0xc0a89102 }],
 *     dhcpServer: { pools: [{ interface: 'g0/2.20', range: { start: 0x0a020064, end: 0x0a0200c7 }, leaseNs: 3600e9 }] },
 *     dhcpRelay: { 'g0/1': [0x0a090005] },
 *     nat: { inside: ['g0/1'], outside: 'g0/0', overload: true },
 *     acls: { BLOCK: ['deny icmp any host 10.2.0.10', 'permit ip any any'] },
 *   });
 *   r1.start();
 *
 * Order of operations follows IOS: inbound ACL, then NAT outside-to-inside, routing, NAT
 * inside-to-outside, outbound ACL. Outbound ACLs do not filter the router's own traffic.
 * Leases are kept across stop/start of one Router (as IOS with a DHCP database agent) and carried
 * to a new instance with exportLeases()/importLeases(); NAT sessions and ARP are forgotten on stop.
 */
import type { Device, NodeKind } from '../device.js';
import { stableMac } from '../device.js';
import type { Engine } from '../engine/engine.js';
import { Port } from '../engine/port.js';
import { IpStack } from '../stack/index.js';
import type { IpHooks, IpInterface, RxInfo, UdpOwner, UdpSocket } from '../stack/index.js';
import { type Ip4, type Ip4Prefix, type Mac, checksum, ip4ToString, macToString, prefixToMask, put16, u16 } from '../wire/bytes.js';
import { ARP_LENGTH, ARP_REPLY, ARP_REQUEST, arpOp, arpSenderIp, arpSenderMac, arpTargetIp, encodeArp } from '../wire/arp.js';
import { BOOTREPLY, BOOTREQUEST, DHCP_CLIENT_PORT, DHCP_SERVER_PORT } from '../wire/dhcp.js';
import { ETHERTYPE, ETH_MIN_FRAME, putEthernetHeader } from '../wire/ethernet.js';
import { ICMP_TYPE, UNREACH } from '../wire/icmp.js';
import { IPPROTO, encodeIpv4 } from '../wire/ipv4.js';
import { encodeUdp } from '../wire/udp.js';
import { Acl, type AclRule } from './acl.js';
import { FastPath } from './fast-path.js';
import { DhcpServer, type DhcpBinding, type DhcpLeaseDatabase, type DhcpPoolConfig, type DhcpReservation } from './dhcp-server.js';
import { relayReplyTarget, relayRequest } from './dhcp-relay.js';
import { NAT_DROP, NAT_TRANSLATED, Nat, type NatStatic, type NatTimeouts, type NatTranslation } from './nat.js';

export { Acl, parseAclRule, isStandardAclName } from './acl.js';
export type { AclRule } from './acl.js';
export { DhcpServer } from './dhcp-server.js';
export type { DhcpBinding, DhcpLeaseDatabase, DhcpPoolConfig, DhcpReply, DhcpRequestContext, DhcpReservation, DhcpServerStats } from './dhcp-server.js';
export { relayRequest, relayReplyTarget, DHCP_RELAY_MAX_HOPS } from './dhcp-relay.js';
export { Nat, TupleIndex, NAT_DEFAULT_TIMEOUTS, NAT_PASS, NAT_TRANSLATED, NAT_DROP } from './nat.js';
export type { NatOptions, NatStatic, NatStats, NatTimeouts, NatTranslation } from './nat.js';

// ---------------------------------------------------------------- configuration
// Values, not text: the lab file's parsers (lab/units.ts) and the IOS console read what users write.

/** An inclusive range of addresses. */
export interface RouterAddressRange {
  start: Ip4;
  end: Ip4;
}

export interface RouterInterfaceConfig {
  /** `g0/1`, or `g0/2.20` for a sub-interface of g0/2. */
  name: string;
  /** The address and its prefix; absent: no address ("unassigned"). */
  ip?: Ip4Prefix;
  /** More addresses (`ip address ... secondary`). */
  secondary?: readonly Ip4Prefix[];
  /** 802.1Q VLAN of a sub-interface; default: the number after the dot. */
  vlan?: number;
  /** Default: stableMac(lab, node, physical interface); sub-interfaces share their port's MAC, as IOS. */
  mac?: Mac;
  /** `shutdown`. */
  shutdown?: boolean;
  mtu?: number;
  /** Access lists applied `in` and `out` (`ip access-group NAME in|out`). */
  aclIn?: string;
  aclOut?: string;
}

export interface RouterRouteConfig {
  /** The destination (host bits are ignored). */
  to: Ip4Prefix;
  /** Next hop address. */
  via?: Ip4;
  /** Out of this interface (with `via` too: a fully specified route). */
  iface?: string;
  /** Administrative distance (IOS: static 1); a floating static route has a higher one. */
  distance?: number;
}

export interface RouterDhcpPoolConfig {
  /** Default `pool<N>` or the interface name. */
  name?: string;
  /** Serve the clients on this interface; the pool's subnet is the interface's. */
  interface?: string;
  /** Or serve relayed clients of this subnet, chosen by the relay's giaddr. */
  network?: Ip4Prefix;
  /** Default: the whole subnet. */
  range?: RouterAddressRange;
  /** Ranges never leased (`ip dhcp excluded-address`). */
  excluded?: readonly RouterAddressRange[];
  gateway?: Ip4;
  dns?: readonly Ip4[];
  domain?: string;
  /** Default one day. */
  leaseNs?: number;
  reservations?: readonly { ip: Ip4; node?: string; mac?: Mac; clientId?: string }[];
}

export interface RouterNatConfig {
  inside: readonly string[];
  outside: string;
  /** PAT onto the outside interface's primary address. */
  overload?: boolean;
  /** Static one-to-one entries (`ip nat inside source static LOCAL GLOBAL`). */
  static?: readonly NatStatic[];
  maxEntries?: number;
  timeouts?: Partial<NatTimeouts>;
}

export interface RouterConfig {
  name: string;
  /** Lab name, for stable MACs. */
  lab?: string;
  interfaces?: readonly RouterInterfaceConfig[];
  routes?: readonly RouterRouteConfig[];
  dhcpServer?: { pools: readonly RouterDhcpPoolConfig[] };
  /** Per interface, the DHCP servers its clients' broadcasts go to (`ip helper-address`). */
  dhcpRelay?: Readonly<Record<string, readonly Ip4[]>>;
  nat?: RouterNatConfig;
  /** Access lists by name (numbers 1-99 and 1300-1999 are standard lists). */
  acls?: Readonly<Record<string, readonly (string | AclRule)[]>>;
}

/** The physical ports every router has, besides any other declared. */
export const ROUTER_DEFAULT_PORTS = ['g0/0', 'g0/1', 'g0/2', 'g0/3'] as const;

// ---------------------------------------------------------------- show-able state

export interface RouterInterfaceRow {
  name: string;
  /** `10.1.0.1/24` or `unassigned`. */
  ip: string;
  /** As IOS: `up`, `down` (no cable), `administratively down`. */
  status: 'up' | 'down' | 'administratively down';
  protocol: 'up' | 'down';
  mac: string;
  vlan: number | null;
}

export interface RouterRouteRow {
  /** C connected, S static. */
  code: 'C' | 'S';
  prefix: string;
  via: string | null;
  iface: string | null;
  distance: number;
  metric: number;
}

export interface RouterArpRow {
  ip: string;
  /** Minutes since confirmed, or null for the router's own addresses ("-" in IOS). */
  ageMin: number | null;
  /** null while incomplete. */
  mac: string | null;
  iface: string;
}

const TAG_NAT_EXPIRY = 1;
/** IOS ARP timeout. */
const IOS_ARP_REACHABLE_NS = 4 * 3600e9;

function rangeOf(r: RouterAddressRange, what: string): [Ip4, Ip4] {
  if (r.start > r.end) throw new Error(`${what}: ${ip4ToString(r.start)}-${ip4ToString(r.end)} ends before it starts`);
  return [r.start, r.end];
}

/** Sub-interface names are `<port>.<number>`. */
function physicalName(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? name : name.slice(0, dot);
}

// ---------------------------------------------------------------- the device

export class Router implements Device, IpHooks, UdpOwner {
  readonly kind: NodeKind = 'router';
  readonly name: string;
  readonly ports: Port[] = [];
  readonly stack: IpStack;
  running = false;

  readonly acls = new Map<string, Acl>();
  /** By stack interface index. */
  private aclIn: (Acl | null)[] = [];
  private aclOut: (Acl | null)[] = [];
  /** 0 none, 1 inside, 2 outside (by interface index). */
  private natRole: number[] = [];
  /** Relay targets by interface index. */
  private relayTo: Ip4[][] = [];
  readonly dhcp: DhcpServer | null;
  readonly nat: Nat | null;
  private natOutside: IpInterface | null = null;
  /** The outside port when static NAT needs ARP answered for its global addresses. */
  private natAliasPort: Port | null = null;
  private natTimer = -1;
  private dhcpSocket: UdpSocket | null = null;
  /** Interfaces configured `shutdown`, by name. */
  private readonly adminDown = new Set<string>();
  /** Transit datagrams with a resolved next hop skip the stack's general path (see fast-path.ts). */
  readonly fastPath: FastPath;
  private ipId = 0;
  /** DHCP messages relayed each way, and relay drops (hops, malformed, unknown giaddr). */
  readonly relayStats = { toServer: 0, toClient: 0, dropped: 0 };

  constructor(
    readonly engine: Engine,
    config: RouterConfig,
  ) {
    this.name = config.name;
    const lab = config.lab ?? 'lab';
    this.stack = new IpStack(engine, { name: config.name, forwarding: true, defaultTtl: 255, arp: { reachableNs: IOS_ARP_REACHABLE_NS } });
    this.ipId = engine.rng.below(65536);

    const declared = config.interfaces ?? [];
    const physical: string[] = [...ROUTER_DEFAULT_PORTS];
    for (const d of declared) {
      const p = physicalName(d.name);
      if (!physical.includes(p)) physical.push(p);
    }
    const byName = new Map(declared.map((d) => [d.name, d] as const));
    if (byName.size !== declared.length) throw new Error(`router ${this.name}: an interface is declared twice`);

    for (const pname of physical) {
      const port = new Port(this, pname, this.ports.length);
      this.ports.push(port);
      const d = byName.get(pname);
      const mac = d?.mac ?? stableMac(lab, this.name, pname);
      const iface = this.stack.addInterface(port, { mac, ...(d?.mtu !== undefined ? { mtu: d.mtu } : {}) });
      this.configureAddresses(iface, d);
      if (d?.shutdown) this.setShutdown(pname, true);
    }
    for (const d of declared) {
      if (d.name === physicalName(d.name)) continue;
      const pname = physicalName(d.name);
      const port = this.ports.find((p) => p.name === pname)!;
      const parent = this.stack.interface(pname)!;
      const vlan = d.vlan ?? Number(d.name.slice(pname.length + 1));
      if (!Number.isInteger(vlan) || vlan < 1 || vlan > 4094) throw new Error(`router ${this.name}: ${d.name}: no VLAN id (set vlan:)`);
      const mac = d.mac ?? parent.mac;
      const iface = this.stack.addInterface(port, { name: d.name, mac, vlan, ...(d.mtu !== undefined ? { mtu: d.mtu } : {}) });
      this.configureAddresses(iface, d);
      if (d.shutdown || this.adminDown.has(pname)) {
        if (d.shutdown) this.adminDown.add(d.name);
        this.stack.setUp(iface, false);
      }
    }
    const n = this.stack.interfaces.length;
    this.fastPath = new FastPath(this.stack);
    this.aclIn = new Array(n).fill(null);
    this.aclOut = new Array(n).fill(null);
    this.natRole = new Array(n).fill(0);
    this.relayTo = Array.from({ length: n }, () => []);

    for (const [aclName, rules] of Object.entries(config.acls ?? {})) {
      try {
        this.acls.set(aclName, new Acl(aclName, rules));
      } catch (e) {
        throw new Error(`router ${this.name}: access list ${aclName}: ${(e as Error).message}`);
      }
    }
    for (const d of declared) {
      const iface = this.stack.interface(d.name)!;
      if (d.aclIn !== undefined) this.aclIn[iface.index] = this.aclByName(d.aclIn);
      if (d.aclOut !== undefined) this.aclOut[iface.index] = this.aclByName(d.aclOut);
    }

    for (const r of config.routes ?? []) this.addRoute(r);

    for (const [ifName, targets] of Object.entries(config.dhcpRelay ?? {})) {
      this.relayTo[this.ifaceOrThrow(ifName, 'dhcp-relay').index] = [...targets];
    }

    this.dhcp = config.dhcpServer ? new DhcpServer(config.dhcpServer.pools.map((p, i) => this.poolConfig(p, i))) : null;

    if (config.nat) {
      const natCfg = config.nat;
      const outside = this.ifaceOrThrow(natCfg.outside, 'nat outside');
      this.natRole[outside.index] = 2;
      for (const name of natCfg.inside) {
        const iface = this.ifaceOrThrow(name, 'nat inside');
        if (iface === outside) throw new Error(`router ${this.name}: nat: ${name} cannot be inside and outside`);
        this.natRole[iface.index] = 1;
      }
      const statics: NatStatic[] = (natCfg.static ?? []).map((s) => ({ inside: s.inside, outside: s.outside }));
      this.natOutside = outside;
      if (statics.length > 0) this.natAliasPort = outside.port;
      this.nat = new Nat({
        overloadAddress: natCfg.overload ? (outside.addresses[0]?.ip ?? null) : null,
        statics,
        ...(natCfg.maxEntries !== undefined ? { maxEntries: natCfg.maxEntries } : {}),
        ...(natCfg.timeouts ? { timeouts: natCfg.timeouts } : {}),
      });
    } else {
      this.nat = null;
    }
    this.updateHooks();
  }

  private ifaceOrThrow(name: string, what: string): IpInterface {
    const iface = this.stack.interface(name);
    if (!iface) throw new Error(`router ${this.name}: ${what}: no interface ${name}`);
    return iface;
  }

  private aclByName(name: string): Acl {
    const acl = this.acls.get(name);
    if (!acl) throw new Error(`router ${this.name}: access list ${name} is not defined`);
    return acl;
  }

  private configureAddresses(iface: IpInterface, d: RouterInterfaceConfig | undefined): void {
    if (!d) return;
    const list: { ip: Ip4; prefix: number }[] = [];
    if (d.ip !== undefined) list.push({ ip: d.ip.ip, prefix: d.ip.prefix });
    for (const s of d.secondary ?? []) list.push({ ip: s.ip, prefix: s.prefix });
    if (list.length > 0) this.stack.setAddresses(iface, list);
  }

  private poolConfig(p: RouterDhcpPoolConfig, i: number): DhcpPoolConfig {
    const what = `router ${this.name}: dhcp pool ${p.name ?? p.interface ?? i + 1}`;
    let network: Ip4;
    let prefix: number;
    let gateway: Ip4 | undefined = p.gateway;
    if (p.interface !== undefined) {
      const iface = this.ifaceOrThrow(p.interface, what);
      const a = iface.addresses[0];
      if (!a) throw new Error(`${what}: interface ${p.interface} has no address`);
      network = a.network;
      prefix = a.prefix;
      // Clients of an interface pool route through the router unless told otherwise.
      gateway ??= a.ip;
    } else if (p.network !== undefined) {
      ({ ip: network, prefix } = p.network);
    } else {
      throw new Error(`${what}: give interface: or network:`);
    }
    const mask = prefixToMask(prefix);
    network = (network & mask) >>> 0;
    const [rangeStart, rangeEnd] = p.range !== undefined ? rangeOf(p.range, what) : [network + 1, ((network | ~mask) >>> 0) - 1];
    const reservations: DhcpReservation[] = (p.reservations ?? []).map((r) => ({
      ip: r.ip,
      ...(r.node !== undefined ? { node: r.node } : {}),
      ...(r.mac !== undefined ? { mac: r.mac } : {}),
      ...(r.clientId !== undefined ? { clientId: r.clientId.replace(/[^0-9a-f]/gi, '').toLowerCase() } : {}),
    }));
    return {
      name: p.name ?? p.interface ?? `pool${i + 1}`,
      ...(p.interface !== undefined ? { interface: p.interface } : {}),
      network,
      prefix,
      rangeStart,
      rangeEnd,
      excluded: (p.excluded ?? []).map((e) => rangeOf(e, `${what} excluded`)),
      ...(gateway !== undefined ? { gateway } : {}),
      ...(p.dns ? { dns: [...p.dns] } : {}),
      ...(p.domain !== undefined ? { domain: p.domain } : {}),
      ...(p.leaseNs !== undefined ? { leaseSeconds: Math.round(p.leaseNs / 1e9) } : {}),
      reservations,
    };
  }

  /** Hooks cost a call per datagram: install them only when an ACL or NAT needs them. */
  private updateHooks(): void {
    const any = this.nat !== null || this.aclIn.some((a) => a !== null) || this.aclOut.some((a) => a !== null);
    this.stack.hooks = any ? this : null;
  }

  // ---------------------------------------------------------------- Device

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stack.start();
    if (this.dhcp !== null || this.relayTo.some((t) => t.length > 0)) {
      this.dhcpSocket = this.stack.udp.bind(this, DHCP_SERVER_PORT);
    }
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.stack.stop();
    this.dhcpSocket?.close();
    this.dhcpSocket = null;
    if (this.natTimer >= 0) this.engine.cancel(this.natTimer);
    this.natTimer = -1;
    this.nat?.clear();
  }

  onFrame(port: Port, frame: Uint8Array): void {
    if (this.fastPath.forward(port.index, frame)) return;
    if (port === this.natAliasPort && this.running) this.answerNatAlias(frame);
    this.stack.onFrame(port, frame);
  }

  /**
   * IOS answers ARP on the outside interface for the inside global addresses of static NAT
   * entries (an "alias"), so that a neighbour on the outside subnet can reach them.
   */
  private answerNatAlias(frame: Uint8Array): void {
    const outside = this.natOutside!;
    let off = 14;
    let vid = -1;
    let type = frame.length >= 14 ? u16(frame, 12) : -1;
    if (type === ETHERTYPE.VLAN && frame.length >= 18) {
      vid = u16(frame, 14) & 0x0fff;
      type = u16(frame, 16);
      off = 18;
    }
    if (type !== ETHERTYPE.ARP || frame.length < off + ARP_LENGTH || !outside.up) return;
    if (vid !== outside.vlan && !(outside.vlan < 0 && vid === 0)) return;
    if (arpOp(frame, off) !== ARP_REQUEST || u16(frame, off + 2) !== ETHERTYPE.IPV4) return;
    const target = arpTargetIp(frame, off);
    if (!this.nat!.isStaticGlobal(target) || this.stack.isLocalAddress(target)) return;
    const senderMac = arpSenderMac(frame, off);
    const hdr = outside.vlan < 0 ? 14 : 18;
    const reply = new Uint8Array(Math.max(ETH_MIN_FRAME, hdr + ARP_LENGTH));
    putEthernetHeader(reply, 0, senderMac, outside.mac, outside.vlan, ETHERTYPE.ARP);
    encodeArp({ op: ARP_REPLY, senderMac: outside.mac, senderIp: target, targetMac: senderMac, targetIp: arpSenderIp(frame, off) }, reply, hdr);
    outside.port.send(reply);
  }

  onTimer(tag: number): void {
    if (tag === TAG_NAT_EXPIRY) {
      this.natTimer = -1;
      if (this.nat === null) return;
      this.nat.expire(this.engine.now);
      this.armNatTimer();
    }
  }

  private armNatTimer(): void {
    if (this.natTimer >= 0 || this.nat === null || this.nat.size === 0) return;
    const at = this.nat.nextExpiryNs();
    if (at !== Infinity) this.natTimer = this.engine.schedule(at, this, TAG_NAT_EXPIRY);
  }

  // ---------------------------------------------------------------- configuration changes (console)

  /** `ip address` / `no ip address` (null). */
  setAddress(ifName: string, address: Ip4Prefix | null): void {
    const iface = this.ifaceOrThrow(ifName, 'ip address');
    this.stack.setAddresses(iface, address === null ? [] : [{ ip: address.ip, prefix: address.prefix }]);
    if (this.nat !== null && iface === this.natOutside && this.nat.overloadAddress !== null) {
      this.nat.overloadAddress = iface.addresses[0]?.ip ?? null;
    }
  }

  /**
   * `shutdown` / `no shutdown`. Shutting a port down takes its sub-interfaces with it (their own
   * shutdown state is kept and applies again when the port comes back).
   */
  setShutdown(ifName: string, down: boolean): void {
    const iface = this.ifaceOrThrow(ifName, 'shutdown');
    this.adminDown.add(iface.name);
    if (!down) this.adminDown.delete(iface.name);
    if (iface.vlan >= 0) {
      this.stack.setUp(iface, !down && !this.adminDown.has(iface.port.name));
      return;
    }
    iface.port.up = !down;
    for (const i of this.stack.interfaces) {
      if (i.port === iface.port) this.stack.setUp(i, !down && !this.adminDown.has(i.name));
    }
  }

  /** `ip route`. */
  addRoute(r: RouterRouteConfig): void {
    const { ip, prefix } = r.to;
    const via = r.via;
    const to = `${ip4ToString((ip & prefixToMask(prefix)) >>> 0)}/${prefix}`;
    const iface = r.iface !== undefined ? this.ifaceOrThrow(r.iface, `route ${to}`) : undefined;
    if (via === undefined && iface === undefined) throw new Error(`router ${this.name}: route ${to}: give via: or iface:`);
    this.stack.addRoute({
      prefix: ip,
      prefixLength: prefix,
      ...(via !== undefined ? { via } : {}),
      ...(iface !== undefined ? { ifIndex: iface.index } : {}),
      ...(r.distance !== undefined ? { distance: r.distance } : {}),
    });
  }

  /** `no ip route`; returns how many routes went. */
  removeRoute(to: Ip4Prefix, via?: Ip4): number {
    return this.stack.removeRoute(to.ip, to.prefix, via);
  }

  /** `ip access-group NAME in|out` (null removes). */
  setAccessGroup(ifName: string, direction: 'in' | 'out', aclName: string | null): void {
    const iface = this.ifaceOrThrow(ifName, 'access-group');
    const acl = aclName === null ? null : this.aclByName(aclName);
    (direction === 'in' ? this.aclIn : this.aclOut)[iface.index] = acl;
    this.updateHooks();
  }

  /** Defines or replaces an access list. */
  setAcl(name: string, rules: readonly (string | AclRule)[]): void {
    const acl = new Acl(name, rules);
    const old = this.acls.get(name);
    this.acls.set(name, acl);
    if (old) {
      this.aclIn = this.aclIn.map((a) => (a === old ? acl : a));
      this.aclOut = this.aclOut.map((a) => (a === old ? acl : a));
    }
  }

  // ---------------------------------------------------------------- hooks (ACL, NAT)

  inputFilter(iface: IpInterface, packet: Uint8Array): boolean {
    const acl = this.aclIn[iface.index]!;
    if (acl === null || acl.permits(packet, 0)) return true;
    this.stack.sendIcmpError(ICMP_TYPE.DEST_UNREACHABLE, UNREACH.ADMIN_PROHIBITED, packet, iface);
    return false;
  }

  preRouting(iface: IpInterface, packet: Uint8Array): Uint8Array | null {
    const nat = this.nat;
    if (nat === null || this.natRole[iface.index] !== 2 || !nat.concerns(packet, 0)) return packet;
    // The received frame is shared: translate a copy.
    const copy = packet.slice();
    return nat.translateInbound(copy, 0, this.engine.now) === NAT_TRANSLATED ? copy : packet;
  }

  postRouting(ingress: IpInterface | null, egress: IpInterface, packet: Uint8Array): Uint8Array | null {
    if (ingress === null) return packet;
    let translated = false;
    const nat = this.nat;
    if (nat !== null && this.natRole[ingress.index] === 1 && this.natRole[egress.index] === 2) {
      const r = nat.translateOutbound(packet, 0, this.engine.now);
      if (r === NAT_DROP) return null;
      translated = r === NAT_TRANSLATED;
      if (translated) this.armNatTimer();
    }
    const acl = this.aclOut[egress.index]!;
    if (acl !== null && !acl.permits(packet, 0)) {
      // The quote must be what the sender sent; after NAT it is not, so stay silent then.
      if (!translated) {
        // Undo the TTL decrement so the quote is the datagram as the sender sent it.
        const original = packet.slice();
        original[8] = original[8]! + 1;
        put16(original, 10, 0);
        put16(original, 10, checksum(original, 0, (original[0]! & 0x0f) << 2));
        this.stack.sendIcmpError(ICMP_TYPE.DEST_UNREACHABLE, UNREACH.ADMIN_PROHIBITED, original, ingress);
      }
      return null;
    }
    return packet;
  }

  // ---------------------------------------------------------------- DHCP server and relay (UDP 67)

  onDatagram(_socket: UdpSocket, srcIp: Ip4, _srcPort: number, payload: Uint8Array, info: RxInfo): void {
    if (payload.length < 1) return;
    const op = payload[0];
    if (op === BOOTREQUEST) {
      const targets = this.relayTo[info.iface.index]!;
      if (targets.length > 0 && info.broadcast) {
        this.relayToServers(info.iface, targets, payload);
        return;
      }
      if (this.dhcp !== null) this.serve(info.iface, payload);
      return;
    }
    if (op === BOOTREPLY) this.relayToClient(payload, srcIp);
  }

  private serve(iface: IpInterface, payload: Uint8Array): void {
    const addr = iface.addresses[0];
    if (!addr) return;
    const reply = this.dhcp!.handle(payload, 0, payload.length, {
      nowNs: this.engine.now,
      iface: iface.name,
      ifaceAddress: addr.ip,
      isOwnAddress: (ip) => this.stack.isLocalAddress(ip),
    });
    if (reply === null) return;
    if (reply.dstMac !== undefined) {
      this.sendUdpFrame(iface, reply.dstMac, reply.srcIp, reply.dstIp, reply.srcPort, reply.dstPort, reply.payload);
    } else {
      this.dhcpSocket?.sendTo(reply.dstIp, reply.dstPort, reply.payload, { srcIp: reply.srcIp });
    }
  }

  private relayToServers(iface: IpInterface, targets: readonly Ip4[], payload: Uint8Array): void {
    const addr = iface.addresses[0];
    const relayed = addr ? relayRequest(payload, 0, payload.length, addr.ip) : null;
    if (relayed === null) {
      this.relayStats.dropped++;
      return;
    }
    for (const t of targets) {
      this.dhcpSocket?.sendTo(t, DHCP_SERVER_PORT, relayed);
      this.relayStats.toServer++;
    }
  }

  private relayToClient(payload: Uint8Array, _from: Ip4): void {
    const target = relayReplyTarget(payload, 0, payload.length);
    const iface = target ? this.stack.ifaceOwning(target.giaddr) : null;
    if (target === null || iface === null || this.relayTo[iface.index]!.length === 0) {
      this.relayStats.dropped++;
      return;
    }
    this.sendUdpFrame(iface, target.dstMac, target.giaddr, target.dstIp, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, payload);
    this.relayStats.toClient++;
  }

  /**
   * A UDP datagram straight onto the link to a given MAC: the client of a DHCP reply may have
   * no address to resolve with ARP yet (RFC 2131 4.1).
   */
  private sendUdpFrame(iface: IpInterface, dstMac: Mac, srcIp: Ip4, dstIp: Ip4, srcPort: number, dstPort: number, payload: Uint8Array): void {
    if (!iface.up) return;
    const hdr = iface.vlan < 0 ? 14 : 18;
    const total = 20 + 8 + payload.length;
    const frame = new Uint8Array(Math.max(ETH_MIN_FRAME, hdr + total));
    putEthernetHeader(frame, 0, dstMac, iface.mac, iface.vlan, ETHERTYPE.IPV4);
    encodeIpv4(
      { dscp: 0, ecn: 0, totalLength: total, id: this.ipId, df: false, mf: false, fragmentOffset: 0, ttl: 255, protocol: IPPROTO.UDP, src: srcIp, dst: dstIp },
      frame,
      hdr,
    );
    this.ipId = (this.ipId + 1) & 0xffff;
    encodeUdp({ srcPort, dstPort, payload }, frame, hdr + 20, srcIp, dstIp);
    iface.port.send(frame);
  }

  /** The lease database, to save when the node stops (plain JSON-able data). */
  exportLeases(): DhcpLeaseDatabase {
    return this.dhcp ? this.dhcp.exportLeases(this.engine.now) : { version: 1, leases: [] };
  }

  /** Restores a saved lease database; returns how many leases were kept. */
  importLeases(db: DhcpLeaseDatabase): number {
    return this.dhcp ? this.dhcp.importLeases(db, this.engine.now) : 0;
  }

  // ---------------------------------------------------------------- show

  /** `show ip interface brief`. */
  interfaces(): RouterInterfaceRow[] {
    return this.stack.interfaces.map((i) => {
      const a = i.addresses[0];
      const cabled = i.port.link !== null && !i.port.link.suspended;
      const status = !i.up || !i.port.up ? 'administratively down' : cabled && this.running ? 'up' : 'down';
      return {
        name: i.name,
        ip: a ? `${ip4ToString(a.ip)}/${a.prefix}` : 'unassigned',
        status,
        protocol: status === 'up' ? 'up' : 'down',
        mac: macToString(i.mac),
        vlan: i.vlan < 0 ? null : i.vlan,
      };
    });
  }

  /** `show ip route`: connected and static routes, longest prefix first. */
  routes(): RouterRouteRow[] {
    return this.stack.routes.routes
      .filter((r) => r.ifIndex < 0 || this.stack.interfaces[r.ifIndex]!.up)
      .map((r) => ({
        code: r.source === 'connected' ? 'C' : 'S',
        prefix: `${ip4ToString(r.prefix)}/${r.prefixLength}`,
        via: r.via !== 0 ? ip4ToString(r.via) : null,
        iface: r.ifIndex >= 0 ? this.stack.interfaces[r.ifIndex]!.name : null,
        distance: r.distance,
        metric: r.metric,
      }));
  }

  /** `show ip arp`: own addresses (age "-") and neighbours. */
  arp(): RouterArpRow[] {
    const rows: (RouterArpRow & { address: Ip4 })[] = [];
    for (const i of this.stack.interfaces) {
      if (!i.up) continue;
      for (const a of i.addresses) rows.push({ address: a.ip, ip: ip4ToString(a.ip), ageMin: null, mac: macToString(i.mac), iface: i.name });
    }
    const now = this.engine.now;
    for (const r of this.stack.arpTable()) {
      // IOS ages an entry from when it was learned or refreshed; an entry learned from a
      // request is "stale" to the Linux-like stack but as fresh as any to IOS.
      const e = this.stack.interface(r.iface)!.arp.get(r.ip)!;
      const since = Math.max(e.confirmedNs, e.touchedNs);
      rows.push({ address: r.ip, ip: ip4ToString(r.ip), ageMin: Math.floor((now - since) / 60e9), mac: r.mac < 0 ? null : macToString(r.mac), iface: r.iface });
    }
    rows.sort((x, y) => x.address - y.address || x.iface.localeCompare(y.iface));
    return rows.map(({ address: _, ...row }) => row);
  }

  /** `show ip dhcp binding`. */
  dhcpBindings(): DhcpBinding[] {
    return this.dhcp ? this.dhcp.bindings(this.engine.now) : [];
  }

  /** `show ip dhcp pool`: per pool, its size and use, and DISCOVERs left unanswered for want of an address. */
  dhcpPools(): { pool: string; network: string; size: number; leased: number; held: number; exhausted: number }[] {
    return this.dhcp ? this.dhcp.poolUsage(this.engine.now) : [];
  }

  /** `show ip nat translations`. */
  natTranslations(): NatTranslation[] {
    return this.nat ? this.nat.translations(this.engine.now) : [];
  }

  /** `show access-lists`. */
  accessLists(): string[] {
    return [...this.acls.values()].flatMap((a) => a.show());
  }

  // ---------------------------------------------------------------- console: live changes the constructor made

  /** `interface g0/1.30` + `encapsulation dot1Q 30` on a running router: a new 802.1Q sub-interface. */
  addSubinterface(name: string, vlan: number): void {
    const pname = physicalName(name);
    if (pname === name || this.stack.interface(name)) throw new Error(`router ${this.name}: ${name} is not a new sub-interface`);
    const parent = this.ifaceOrThrow(pname, 'sub-interface');
    if (!Number.isInteger(vlan) || vlan < 1 || vlan > 4094) throw new Error(`router ${this.name}: ${name}: VLAN ${vlan} is not 1-4094`);
    this.stack.addInterface(parent.port, { name, mac: parent.mac, vlan });
    this.aclIn.push(null);
    this.aclOut.push(null);
    this.natRole.push(0);
    this.relayTo.push([]);
    (this as { fastPath: FastPath }).fastPath = new FastPath(this.stack);
  }

  /** `no access-list N`: interfaces that named it filter nothing until it is defined again, as IOS. */
  removeAcl(name: string): void {
    const old = this.acls.get(name);
    if (!old) return;
    this.acls.delete(name);
    this.aclIn = this.aclIn.map((a) => (a === old ? null : a));
    this.aclOut = this.aclOut.map((a) => (a === old ? null : a));
    this.updateHooks();
  }

  /** `ip dhcp pool` and `ip helper-address` changes on a running router; leases of pools that stay are kept. */
  reconfigureDhcp(pools: readonly RouterDhcpPoolConfig[], relay: Readonly<Record<string, readonly Ip4[]>>): void {
    const relayTo: Ip4[][] = this.stack.interfaces.map(() => []);
    for (const [ifName, targets] of Object.entries(relay)) relayTo[this.ifaceOrThrow(ifName, 'dhcp-relay').index] = [...targets];
    const server = pools.length ? new DhcpServer(pools.map((p, i) => this.poolConfig(p, i))) : null;
    const leases = this.exportLeases();
    if (server) server.importLeases(leases, this.engine.now);
    this.relayTo = relayTo;
    (this as { dhcp: DhcpServer | null }).dhcp = server;
    const needSocket = server !== null || relayTo.some((t) => t.length > 0);
    if (this.running && needSocket && this.dhcpSocket === null) this.dhcpSocket = this.stack.udp.bind(this, DHCP_SERVER_PORT);
    if (!needSocket && this.dhcpSocket !== null) {
      this.dhcpSocket.close();
      this.dhcpSocket = null;
    }
  }

  /** `ip nat inside|outside` and `ip nat inside source` changes on a running router; translations are dropped. */
  reconfigureNat(natCfg: RouterNatConfig | null): void {
    if (this.natTimer >= 0) this.engine.cancel(this.natTimer);
    this.natTimer = -1;
    this.natRole = this.stack.interfaces.map(() => 0);
    this.natOutside = null;
    this.natAliasPort = null;
    let nat: Nat | null = null;
    if (natCfg) {
      const outside = this.ifaceOrThrow(natCfg.outside, 'nat outside');
      this.natRole[outside.index] = 2;
      for (const name of natCfg.inside) {
        const iface = this.ifaceOrThrow(name, 'nat inside');
        if (iface === outside) throw new Error(`router ${this.name}: nat: ${name} cannot be inside and outside`);
        this.natRole[iface.index] = 1;
      }
      const statics: NatStatic[] = (natCfg.static ?? []).map((s) => ({ inside: s.inside, outside: s.outside }));
      this.natOutside = outside;
      if (statics.length > 0) this.natAliasPort = outside.port;
      nat = new Nat({
        overloadAddress: natCfg.overload ? (outside.addresses[0]?.ip ?? null) : null,
        statics,
        ...(natCfg.maxEntries !== undefined ? { maxEntries: natCfg.maxEntries } : {}),
        ...(natCfg.timeouts ? { timeouts: natCfg.timeouts } : {}),
      });
    }
    (this as { nat: Nat | null }).nat = nat;
    this.updateHooks();
  }
}

export function createRouter(engine: Engine, config: RouterConfig): Router {
  return new Router(engine, config);
}

