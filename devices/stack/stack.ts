import type { Engine, TimerTarget } from '../engine/engine.js';
import type { Port } from '../engine/port.js';
import { type Ip4, type Mac, MAC_BROADCAST, checksumAdjust, isGroupMac, macAt, onesSum, prefixToMask, put16, u16 } from '../wire/bytes.js';
import { DecodeError, EncodeError } from '../wire/errors.js';
import { ETHERTYPE, ETH_MIN_FRAME, putEthernetHeader } from '../wire/ethernet.js';
import { ICMP_TYPE, RFC1812_MAX_QUOTE, UNREACH, isIcmpError } from '../wire/icmp.js';
import {
  IPPROTO,
  IPV4_HEADER_LENGTH,
  IPV4_MAX_LENGTH,
  decrementTtl,
  encodeIpv4,
  fragment,
  ipv4ChecksumOk,
  ipv4Df,
  ipv4Dst,
  ipv4IsFragment,
  ipv4Src,
} from '../wire/ipv4.js';
import { UDP_HEADER_LEN, encodeUdp } from '../wire/udp.js';
import { type ArpConfig, ArpNeighbours, type ArpTableRow, LINUX_ARP } from './arp.js';
import { IcmpErrors, type IcmpRateLimit } from './icmp-errors.js';
import { Reassembler } from './reassembly.js';
import { RouteTable, makeRoute, type RouteInit } from './routes.js';
import { type FrameSlab, engineSlab } from './slab.js';
import { EchoLayer, UdpLayer } from './sockets.js';
import {
  type IfAddress,
  type IpHooks,
  type IpInterface,
  type OutputRoute,
  type ProtocolHandler,
  type Route,
  type RxInfo,
  STACK_TIMER,
  type SendOptions,
  type SendStatus,
} from './types.js';

export interface StackOptions {
  /** Node name, for error messages. */
  name: string;
  /** Router mode: forward datagrams not addressed to us. */
  forwarding?: boolean;
  /** TTL of datagrams we originate. Default 64 (Linux); IOS uses 255. */
  defaultTtl?: number;
  arp?: Partial<ArpConfig>;
  icmpRateLimit?: IcmpRateLimit;
  /** Bytes of the offending datagram quoted in ICMP errors: RFC 1812's 548 (Linux) by default; 28 for RFC 792 (IOS). */
  icmpQuoteBytes?: number;
  /** Fragment reassembly timeout; default 30 s (Linux ipfrag_time). */
  reassemblyTimeoutNs?: number;
  hooks?: IpHooks;
}

export interface InterfaceInit {
  /** Default: the port's name, with `.vlan` for a sub-interface. */
  name?: string;
  mac: Mac;
  /** 802.1Q VLAN id of a sub-interface of `port`. */
  vlan?: number;
  mtu?: number;
  up?: boolean;
}

export interface StackStats {
  /** Frames taken from ports (any EtherType). */
  rxFrames: number;
  /** Frames ignored: not for our MAC, unknown VLAN, unknown EtherType, interface down. */
  rxIgnored: number;
  ipInReceives: number;
  /** Malformed IPv4 headers (version, lengths). */
  ipInHdrErrors: number;
  /** Correctly formed headers whose checksum is wrong. */
  ipInBadChecksum: number;
  /** Datagrams not for us on a host, or broadcasts we do not route. */
  ipInAddrErrors: number;
  ipInDelivers: number;
  ipForwarded: number;
  ipNoRoute: number;
  ipTtlExceeded: number;
  ipFiltered: number;
  ipOutRequests: number;
  ipFragCreates: number;
  ipReassembled: number;
  /** Datagrams dropped because ARP gave up or the unresolved queue overflowed. */
  arpDrops: number;
  arpRequestsSent: number;
  arpRepliesSent: number;
  /** Someone else claimed one of our addresses. */
  arpConflicts: number;
  icmpInErrors: number;
  icmpErrorsSent: number;
  icmpRateLimited: number;
  echoRepliesSent: number;
}

const BROADCAST_IP = 0xffffffff;
/** Up to this many addresses, finding a local one scans the interfaces (no index to keep). */
const LOCAL_SCAN_MAX = 4;

/** buf[base, base+len) as an array of its own range (buf itself when it is exactly that). */
function view(buf: Uint8Array, base: number, len: number): Uint8Array {
  return base === 0 && len === buf.length ? buf : buf.subarray(base, base + len);
}

function isMulticast(ip: Ip4): boolean {
  return ip >>> 28 === 0xe;
}

function makeAddress(ip: Ip4, prefix: number): IfAddress {
  if (!(prefix >= 0 && prefix <= 32)) throw new RangeError(`prefix length ${prefix}`);
  const mask = prefixToMask(prefix);
  const network = (ip & mask) >>> 0;
  const broadcast = prefix >= 31 ? ip >>> 0 : (network | ~mask) >>> 0;
  return { ip: ip >>> 0, prefix, mask, network, broadcast };
}

/**
 * The IPv4 stack of one device. See index.ts for the API in brief. Every per-frame path reads
 * fields in place and allocates only the frame it sends.
 *
 * The stack owns its interfaces and addresses and the receive, forward and send paths; the rest
 * are parts it composes: `arp` (neighbours, arp.ts), `icmpErrors` (icmp-errors.ts), `routes`
 * (the route table and its one lookup, routes.ts), `reassembler` (reassembly.ts), `udp` and
 * `echo` (sockets.ts). It is the engine's timer target for all of them (STACK_TIMER), and the
 * methods its parts call back into are public but marked so.
 */
export class IpStack implements TimerTarget {
  // Fields read for every frame come first: they share the object's first cache lines, which
  // matters when ten thousand hosts each hear every broadcast of their segment.
  running = false;
  readonly stats: StackStats = {
    rxFrames: 0,
    rxIgnored: 0,
    ipInReceives: 0,
    ipInHdrErrors: 0,
    ipInBadChecksum: 0,
    ipInAddrErrors: 0,
    ipInDelivers: 0,
    ipForwarded: 0,
    ipNoRoute: 0,
    ipTtlExceeded: 0,
    ipFiltered: 0,
    ipOutRequests: 0,
    ipFragCreates: 0,
    ipReassembled: 0,
    arpDrops: 0,
    arpRequestsSent: 0,
    arpRepliesSent: 0,
    arpConflicts: 0,
    icmpInErrors: 0,
    icmpErrorsSent: 0,
    icmpRateLimited: 0,
    echoRepliesSent: 0,
  };
  forwarding: boolean;
  hooks: IpHooks | null;
  /**
   * Addresses of up interfaces -> the first interface holding each, kept by rebuildConnected
   * once there are more than a few (a router with a hundred interfaces answers "is this ours?"
   * for every datagram and every DHCP address it considers); null while a scan is as quick.
   */
  private localIndex: Map<Ip4, IpInterface> | null = null;
  /**
   * How many addresses the up interfaces hold, and the first of them with its interface: a host
   * has none or one, and hears every broadcast of its segment, so "is it ours?" is one comparison.
   */
  private localCount = 0;
  private localFirst = 0;
  private localFirstIface: IpInterface | null = null;
  /** The only interface, while there is one (a host's eth0): frames find it without the port map. */
  private soleIface: IpInterface | null = null;
  private readonly rx: RxInfo;
  readonly udp: UdpLayer;
  // The rest.
  readonly name: string;
  defaultTtl: number;
  readonly interfaces: IpInterface[] = [];
  readonly routes = new RouteTable();
  readonly echo: EchoLayer;
  readonly reassembler: Reassembler;
  /** IPv4 neighbours: ARP and its cache. */
  readonly arp: ArpNeighbours;
  /** ICMP errors sent and reported to sockets. */
  readonly icmpErrors: IcmpErrors;

  /** By IP protocol number, as long as the highest one registered (a full 256 would cost every host 2 KiB). */
  private readonly protocols: (ProtocolHandler | undefined)[] = [];
  private readonly portIfaces = new Map<Port, IpInterface[]>();
  private ipId: number;
  private reasmTimer = -1;
  private loopTimer = -1;
  private readonly loopQueue: Uint8Array[] = [];
  private readonly loopIface: number[] = [];
  /**
   * The engine's shared slab, taken at the first frame sent. A snapshot restore may leave it
   * null: the real-world endpoints' stacks share it and are not recorded, which cuts the reference.
   */
  private slab: FrameSlab | null = null;

  constructor(
    readonly engine: Engine,
    opts: StackOptions,
  ) {
    this.name = opts.name;
    this.forwarding = opts.forwarding ?? false;
    this.defaultTtl = opts.defaultTtl ?? 64;
    this.hooks = opts.hooks ?? null;
    this.reassembler = new Reassembler({ timeoutNs: opts.reassemblyTimeoutNs ?? 30e9 });
    this.ipId = engine.rng.below(65536);
    this.udp = new UdpLayer(this);
    this.echo = new EchoLayer(this);
    this.setProtocol(IPPROTO.UDP, this.udp);
    this.arp = new ArpNeighbours(this, { ...LINUX_ARP, ...opts.arp });
    this.icmpErrors = new IcmpErrors(this, opts.icmpRateLimit ?? { perSecond: 1000, burst: 50 }, opts.icmpQuoteBytes ?? RFC1812_MAX_QUOTE);
    this.rx = { iface: null as unknown as IpInterface, srcIp: 0, dstIp: 0, srcMac: 0, ttl: 0, broadcast: false, ipGroup: false };
  }

  // ---------------------------------------------------------------- configuration

  addInterface(port: Port, init: InterfaceInit): IpInterface {
    const vlan = init.vlan ?? -1;
    if (vlan !== -1 && !(vlan >= 1 && vlan <= 4094)) throw new RangeError(`VLAN id ${vlan}`);
    const list = this.portIfaces.get(port) ?? [];
    if (list.some((i) => i.vlan === vlan)) throw new Error(`${this.name}: ${port.name} already has ${vlan < 0 ? 'an untagged interface' : `VLAN ${vlan}`}`);
    const name = init.name ?? (vlan < 0 ? port.name : `${port.name}.${vlan}`);
    if (this.interfaces.some((i) => i.name === name)) throw new Error(`${this.name}: interface ${name} exists`);
    const iface: IpInterface = {
      index: this.interfaces.length,
      name,
      port,
      vlan,
      mac: init.mac,
      mtu: init.mtu ?? 1500,
      up: init.up ?? true,
      addresses: [],
      arp: new Map(),
    };
    this.interfaces.push(iface);
    this.soleIface = this.interfaces.length === 1 ? iface : null;
    list.push(iface);
    this.portIfaces.set(port, list);
    return iface;
  }

  interface(name: string): IpInterface | undefined {
    return this.interfaces.find((i) => i.name === name);
  }

  /** Replaces the addresses of `iface` (primary first); announces new ones with gratuitous ARP. */
  setAddresses(iface: IpInterface, list: readonly { ip: Ip4; prefix: number }[]): void {
    const old = iface.addresses;
    iface.addresses = list.map((a) => makeAddress(a.ip, a.prefix));
    this.addressesChanged(iface, old);
  }

  /** Adds an address (as primary when `primary`, else secondary); replaces one with the same IP. */
  addAddress(iface: IpInterface, ip: Ip4, prefix: number, primary = false): void {
    const old = iface.addresses;
    const rest = old.filter((a) => a.ip !== ip >>> 0);
    const a = makeAddress(ip, prefix);
    iface.addresses = primary ? [a, ...rest] : [...rest, a];
    this.addressesChanged(iface, old);
  }

  removeAddress(iface: IpInterface, ip: Ip4): boolean {
    const old = iface.addresses;
    iface.addresses = old.filter((a) => a.ip !== ip >>> 0);
    if (iface.addresses.length === old.length) return false;
    this.addressesChanged(iface, old);
    return true;
  }

  private addressesChanged(iface: IpInterface, old: IfAddress[]): void {
    this.rebuildConnected();
    if (!this.running || !iface.up) return;
    for (const a of iface.addresses) {
      const before = old.find((o) => o.ip === a.ip);
      if (before === undefined || before.prefix !== a.prefix) this.announce(iface, a.ip);
    }
  }

  /** `no shutdown` / `shutdown`. Going down forgets the interface's neighbours; coming up announces its addresses. */
  setUp(iface: IpInterface, up: boolean): void {
    if (iface.up === up) return;
    iface.up = up;
    if (!up) this.arp.flush(iface);
    this.rebuildConnected();
    if (up && this.running) for (const a of iface.addresses) this.announce(iface, a.ip);
  }

  setMtu(iface: IpInterface, mtu: number): void {
    if (!(mtu >= 68 && mtu <= 65535)) throw new RangeError(`MTU ${mtu}`);
    iface.mtu = mtu;
  }

  /** Static route; `ifIndex` absent resolves through the route to `via`. */
  addRoute(init: RouteInit): Route {
    const r = makeRoute(init);
    if (r.ifIndex >= this.interfaces.length) throw new RangeError(`interface index ${r.ifIndex}`);
    this.routes.add(r);
    return r;
  }

  removeRoute(prefix: Ip4, prefixLength: number, via?: Ip4, ifIndex?: number): number {
    return this.routes.remove(prefix, prefixLength, via, ifIndex);
  }

  /** Replaces the default route from `source` (static gateway or DHCP router); null removes it. */
  setDefaultGateway(via: Ip4 | null, source: Route['source'] = 'static', ifIndex?: number): void {
    this.routes.removeWhere((r) => r.prefixLength === 0 && r.source === source);
    if (via !== null && via !== 0) this.addRoute({ prefix: 0, prefixLength: 0, via, source, ...(ifIndex !== undefined ? { ifIndex } : {}) });
  }

  registerProtocol(protocol: number, handler: ProtocolHandler): void {
    if (protocol === IPPROTO.ICMP || protocol === IPPROTO.UDP) throw new Error(`protocol ${protocol} is built in`);
    this.setProtocol(protocol, handler);
  }

  private setProtocol(protocol: number, handler: ProtocolHandler): void {
    if (!(protocol >= 0 && protocol <= 255)) throw new RangeError(`IP protocol ${protocol}`);
    while (this.protocols.length <= protocol) this.protocols.push(undefined);
    this.protocols[protocol] = handler;
  }

  /** The handler registered for an IP protocol number (not UDP's or ICMP's own). */
  protocolHandler(protocol: number): ProtocolHandler | undefined {
    return this.protocols[protocol];
  }

  /** A permanent neighbour (`arp` static entry). */
  addStaticArp(iface: IpInterface, ip: Ip4, mac: Mac): void {
    this.arp.addStatic(iface, ip, mac);
  }

  private rebuildConnected(): void {
    const connected: Route[] = [];
    for (const iface of this.interfaces) {
      if (!iface.up) continue;
      for (const a of iface.addresses) connected.push(makeRoute({ prefix: a.network, prefixLength: a.prefix, ifIndex: iface.index, source: 'connected' }));
    }
    this.routes.replaceSource('connected', connected);
    const count = connected.length;
    this.localCount = count;
    this.localFirst = 0;
    this.localFirstIface = null;
    for (const iface of this.interfaces) {
      if (!iface.up || iface.addresses.length === 0) continue;
      this.localFirst = iface.addresses[0]!.ip;
      this.localFirstIface = iface;
      break;
    }
    let index: Map<Ip4, IpInterface> | null = null;
    if (count > LOCAL_SCAN_MAX) {
      index = new Map();
      for (const iface of this.interfaces) {
        if (!iface.up) continue;
        for (const a of iface.addresses) if (!index.has(a.ip)) index.set(a.ip, iface);
      }
    }
    this.localIndex = index;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Powers the stack on and announces every address with a gratuitous ARP. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.icmpErrors.restart();
    for (const iface of this.interfaces) if (iface.up) for (const a of iface.addresses) this.announce(iface, a.ip);
  }

  /** Powers off: cancels timers, forgets neighbours (not permanent ones), fragments and loopback traffic. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    for (const iface of this.interfaces) this.arp.flush(iface);
    if (this.reasmTimer >= 0) this.engine.cancel(this.reasmTimer);
    this.reasmTimer = -1;
    this.reassembler.entries.clear();
    if (this.loopTimer >= 0) this.engine.cancel(this.loopTimer);
    this.loopTimer = -1;
    this.loopQueue.length = 0;
    this.loopIface.length = 0;
  }

  onTimer(tag: number, arg: unknown): void {
    if (tag === STACK_TIMER.ARP) this.arp.onTimer(arg as number);
    else if (tag === STACK_TIMER.REASSEMBLY) this.reasmExpire();
    else if (tag === STACK_TIMER.LOOPBACK) this.loopbackDrain();
  }

  // ---------------------------------------------------------------- queries

  /** The interface holding `ip` as one of its addresses (up interfaces only). */
  ifaceOwning(ip: Ip4): IpInterface | null {
    if (this.localIndex !== null) return this.localIndex.get(ip) ?? null;
    if (this.localCount <= 1) return this.localCount === 1 && this.localFirst === ip ? this.localFirstIface : null;
    for (const iface of this.interfaces) {
      if (!iface.up) continue;
      for (const a of iface.addresses) if (a.ip === ip) return iface;
    }
    return null;
  }

  isLocalAddress(ip: Ip4): boolean {
    return this.ifaceOwning(ip >>> 0) !== null;
  }

  /** Longest-prefix match among usable routes; null when none. */
  lookupRoute(dst: Ip4): { route: Route; iface: IpInterface; nextHop: Ip4 } | null {
    const routes = this.routes;
    const r = routes.lookup(dst >>> 0, this.interfaces);
    return r === null ? null : { route: r, iface: routes.egress!, nextHop: routes.nextHop };
  }

  /** Neighbour cache rows, expired entries pruned. */
  arpTable(iface?: IpInterface): ArpTableRow[] {
    return this.arp.table(iface);
  }

  /** The MAC known for `ip` on `iface` (any state but incomplete), or null. */
  arpLookup(iface: IpInterface, ip: Ip4): Mac | null {
    return this.arp.lookup(iface, ip);
  }

  // ---------------------------------------------------------------- receive

  /** The device's `onFrame` hands every frame of a port carrying IP interfaces here. */
  onFrame(port: Port, frame: Uint8Array): void {
    if (!this.running) return;
    this.stats.rxFrames++;
    if (frame.length < 14) {
      this.stats.rxIgnored++;
      return;
    }
    let type = u16(frame, 12);
    let off = 14;
    let vid = -1;
    if (type === ETHERTYPE.VLAN) {
      if (frame.length < 18) {
        this.stats.rxIgnored++;
        return;
      }
      vid = u16(frame, 14) & 0x0fff;
      if (vid === 0) vid = -1; // a priority tag: the frame belongs to the untagged interface
      type = u16(frame, 16);
      off = 18;
    }
    let iface: IpInterface | null = null;
    const sole = this.soleIface;
    const list = sole !== null && sole.port === port ? null : this.portIfaces.get(port);
    if (list === null) {
      if (sole!.vlan === vid) iface = sole;
    } else if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        if (list[i]!.vlan === vid) {
          iface = list[i]!;
          break;
        }
      }
    }
    if (iface === null || !iface.up) {
      this.stats.rxIgnored++;
      return;
    }
    const dstMac = macAt(frame, 0);
    const group = isGroupMac(dstMac);
    if (!group && dstMac !== iface.mac) {
      this.stats.rxIgnored++;
      return;
    }
    if (type === ETHERTYPE.IPV4) this.ipInput(iface, frame, off, group);
    else if (type === ETHERTYPE.ARP) this.arp.input(iface, frame, off);
    else this.stats.rxIgnored++;
  }

  private ipInput(iface: IpInterface, frame: Uint8Array, off: number, linkGroup: boolean): void {
    const st = this.stats;
    st.ipInReceives++;
    const avail = frame.length - off;
    if (avail < IPV4_HEADER_LENGTH || frame[off]! >>> 4 !== 4) {
      st.ipInHdrErrors++;
      return;
    }
    const hl = (frame[off]! & 0x0f) << 2;
    const total = u16(frame, off + 2);
    if (hl < IPV4_HEADER_LENGTH || total < hl || total > avail) {
      st.ipInHdrErrors++;
      return;
    }
    if (!ipv4ChecksumOk(frame, off)) {
      st.ipInBadChecksum++;
      return;
    }
    // The datagram is buf[base, base+len): the frame itself until a hook wants a view of its
    // own. A host hears every broadcast of its segment; most are dropped without making one.
    let buf = frame;
    let base = off;
    let len = total;
    const hooks = this.hooks;
    if (hooks !== null) {
      let packet = frame.subarray(off, off + total);
      if (hooks.inputFilter !== undefined && !hooks.inputFilter(iface, packet)) {
        st.ipFiltered++;
        return;
      }
      if (hooks.preRouting !== undefined) {
        const r = hooks.preRouting(iface, packet);
        if (r === null) {
          st.ipFiltered++;
          return;
        }
        packet = r;
      }
      buf = packet;
      base = 0;
      len = packet.length;
    }
    const dst = ipv4Dst(buf, base);
    if (this.isLocalUnicast(dst)) {
      this.deliverLocal(iface, buf, base, len, linkGroup, frame, false);
      return;
    }
    if (dst === BROADCAST_IP || isMulticast(dst) || this.isBroadcastOn(iface, dst)) {
      this.deliverLocal(iface, buf, base, len, true, frame, true);
      return;
    }
    if (linkGroup) {
      // A unicast address inside a link-layer broadcast: nobody routes those.
      st.ipInAddrErrors++;
      return;
    }
    if (this.forwarding) {
      this.forward(iface, view(buf, base, len));
      return;
    }
    if (iface.addresses.length === 0) {
      // An interface still without an address takes unicast for its MAC: a DHCP server may
      // unicast the OFFER to the address it offers (RFC 2131 4.1), as a raw socket would see it.
      this.deliverLocal(iface, buf, base, len, false, frame, false);
      return;
    }
    st.ipInAddrErrors++;
  }

  /** `dst` is one of our addresses (on an up interface). For the stack's parts. */
  isLocalUnicast(dst: Ip4): boolean {
    if (this.localIndex !== null) return this.localIndex.has(dst);
    if (this.localCount <= 1) return this.localCount === 1 && this.localFirst === dst;
    const ifs = this.interfaces;
    for (let i = 0; i < ifs.length; i++) {
      const iface = ifs[i]!;
      if (!iface.up) continue;
      const as = iface.addresses;
      for (let k = 0; k < as.length; k++) if (as[k]!.ip === dst) return true;
    }
    return false;
  }

  /** `dst` is the directed broadcast of a subnet on `iface`. */
  private isBroadcastOn(iface: IpInterface, dst: Ip4): boolean {
    const as = iface.addresses;
    for (let k = 0; k < as.length; k++) {
      const a = as[k]!;
      if (a.prefix < 31 && a.broadcast === dst) return true;
    }
    return false;
  }

  /** `dst` is the directed broadcast of a subnet on any of our interfaces. For the stack's parts. */
  isDirectedBroadcastAnywhere(dst: Ip4): boolean {
    for (const iface of this.interfaces) if (this.isBroadcastOn(iface, dst)) return true;
    return false;
  }

  /** Hands the datagram buf[base, base+total) to ICMP or its transport protocol. */
  private deliverLocal(iface: IpInterface, buf: Uint8Array, base: number, total: number, broadcast: boolean, eth: Uint8Array | null, ipGroup: boolean): void {
    if (ipv4IsFragment(buf, base)) {
      let whole: Uint8Array | null;
      try {
        whole = this.reassembler.add(view(buf, base, total), 0, this.engine.now);
      } catch (e) {
        if (e instanceof DecodeError) return;
        throw e;
      }
      if (whole === null) {
        this.armReassemblyTimer();
        return;
      }
      this.stats.ipReassembled++;
      buf = whole;
      base = 0;
      total = whole.length;
    }
    this.stats.ipInDelivers++;
    const hl = (buf[base]! & 0x0f) << 2;
    const protocol = buf[base + 9]!;
    // A broadcast to a UDP port nobody listens on (a neighbour's DHCP DISCOVER) is dropped here.
    if (protocol === IPPROTO.UDP && ipGroup && this.udp.ignores(buf, base + hl, total - hl, iface)) return;
    const rx = this.rx;
    rx.iface = iface;
    rx.srcIp = ipv4Src(buf, base);
    rx.dstIp = ipv4Dst(buf, base);
    rx.srcMac = eth === null ? 0 : macAt(eth, 6);
    rx.ttl = buf[base + 8]!;
    rx.broadcast = broadcast;
    rx.ipGroup = ipGroup;
    if (protocol === IPPROTO.ICMP) {
      this.icmpInput(view(buf, base, total), hl, total - hl, rx);
      return;
    }
    let taken: boolean;
    // UDP reads at an offset, so it takes the frame as it is; other protocols (and ICMP errors)
    // expect the datagram to start at 0.
    if (protocol === IPPROTO.UDP) taken = this.udp.input(buf, base + hl, total - hl, rx);
    else {
      const handler = this.protocols[protocol];
      taken = handler !== undefined && handler.input(view(buf, base, total), hl, total - hl, rx);
    }
    if (!taken && !broadcast) {
      this.sendIcmpError(ICMP_TYPE.DEST_UNREACHABLE, protocol === IPPROTO.UDP ? UNREACH.PORT : UNREACH.PROTOCOL, view(buf, base, total), iface);
    }
  }

  private armReassemblyTimer(): void {
    if (this.reasmTimer >= 0) return;
    let oldest = Infinity;
    for (const e of this.reassembler.entries.values()) if (e.firstNs < oldest) oldest = e.firstNs;
    if (oldest === Infinity) return;
    this.reasmTimer = this.engine.schedule(oldest + this.reassembler.timeoutNs, this, STACK_TIMER.REASSEMBLY);
  }

  private reasmExpire(): void {
    this.reasmTimer = -1;
    for (const quote of this.reassembler.expire(this.engine.now)) {
      this.sendIcmpError(ICMP_TYPE.TIME_EXCEEDED, 1, quote, this.ifaceOwning(ipv4Dst(quote, 0)));
    }
    this.armReassemblyTimer();
  }

  // ---------------------------------------------------------------- ICMP

  private icmpInput(packet: Uint8Array, off: number, len: number, rx: RxInfo): void {
    if (len < 8 || onesSum(packet, off, len) !== 0xffff) {
      this.stats.icmpInErrors++;
      return;
    }
    const type = packet[off]!;
    if (type === ICMP_TYPE.ECHO_REQUEST) {
      // Linux ignores pings to broadcast and multicast addresses (icmp_echo_ignore_broadcasts = 1),
      // judged by the IP destination: a ping to our address in a link-layer broadcast is answered.
      const dst = rx.dstIp;
      if (dst === BROADCAST_IP || isMulticast(dst) || this.isBroadcastOn(rx.iface, dst)) return;
      const route = this.routeOutput(rx.srcIp, { srcIp: rx.dstIp });
      if (typeof route === 'string' || !route.iface.up) return;
      // The reply is the request with type 0, built straight into the outgoing frame; the
      // checksum is adjusted (RFC 1624), as echoReplyFrom does.
      const frame = this.buildFrame(route, IPPROTO.ICMP, packet.subarray(off, off + len), {});
      const at = (route.iface.vlan < 0 ? 14 : 18) + IPV4_HEADER_LENGTH;
      const oldWord = u16(frame, at);
      frame[at] = ICMP_TYPE.ECHO_REPLY;
      put16(frame, at + 2, checksumAdjust(u16(frame, at + 2), oldWord, u16(frame, at)));
      if (this.emit(route, frame, IPV4_HEADER_LENGTH + len) !== 'filtered') this.stats.echoRepliesSent++;
      return;
    }
    if (type === ICMP_TYPE.ECHO_REPLY) {
      this.echo.reply(u16(packet, off + 4), rx.srcIp, u16(packet, off + 6), packet.subarray(off + 8, off + len), rx);
      return;
    }
    if (isIcmpError(type)) {
      const errors = this.icmpErrors;
      const report = errors.report(type, packet[off + 1]!, rx.srcIp, false, rx.iface, packet, off + 8, len - 8, rx.ttl);
      if (report !== null) {
        report.nextHopMtu = type === ICMP_TYPE.DEST_UNREACHABLE && report.code === UNREACH.FRAG_NEEDED ? u16(packet, off + 6) : 0;
        errors.dispatch(report, packet, off + 8);
      }
    }
  }

  /**
   * Sends an ICMP error about `offending` (rate-limited, never about errors, non-first fragments
   * or broadcasts), from the interface `ingress` facing the sender; see IcmpErrors.send.
   */
  sendIcmpError(type: number, code: number, offending: Uint8Array, ingress: IpInterface | null, rest = 0): boolean {
    return this.icmpErrors.send(type, code, offending, ingress, rest);
  }

  // ---------------------------------------------------------------- routing and forwarding

  private forward(ingress: IpInterface, packet: Uint8Array): void {
    const st = this.stats;
    if (packet[8]! <= 1) {
      st.ipTtlExceeded++;
      this.sendIcmpError(ICMP_TYPE.TIME_EXCEEDED, 0, packet, ingress);
      return;
    }
    const dst = ipv4Dst(packet, 0);
    const src = ipv4Src(packet, 0);
    if (src === 0 || isMulticast(src) || src === BROADCAST_IP) {
      st.ipInAddrErrors++;
      return;
    }
    const routes = this.routes;
    const route = routes.lookup(dst, this.interfaces);
    if (route === null) {
      st.ipNoRoute++;
      this.sendIcmpError(ICMP_TYPE.DEST_UNREACHABLE, UNREACH.NET, packet, ingress);
      return;
    }
    const egress = routes.egress!;
    const nextHop = routes.nextHop;
    if (route.via === 0 && this.isBroadcastOn(egress, dst)) {
      // IOS's `no ip directed-broadcast` (the default since 12.0): smurf amplifiers no more.
      st.ipInAddrErrors++;
      return;
    }
    const len = packet.length;
    const hdr = egress.vlan < 0 ? 14 : 18;
    let frame: Uint8Array | null = this.alloc(hdr + len < ETH_MIN_FRAME ? ETH_MIN_FRAME : hdr + len);
    frame.set(packet, hdr);
    decrementTtl(frame, hdr);
    let out = frame.subarray(hdr, hdr + len);
    const hooks = this.hooks;
    if (hooks !== null && hooks.postRouting !== undefined) {
      const r = hooks.postRouting(ingress, egress, out);
      if (r === null) {
        st.ipFiltered++;
        return;
      }
      if (r !== out) {
        out = r;
        frame = null;
      }
    }
    if (out.length > egress.mtu && ipv4Df(out, 0)) {
      this.sendIcmpError(ICMP_TYPE.DEST_UNREACHABLE, UNREACH.FRAG_NEEDED, packet, ingress, egress.mtu);
      return;
    }
    st.ipForwarded++;
    this.ipOutput(egress, nextHop, out, frame, ingress.index, false);
  }

  // ---------------------------------------------------------------- send

  /**
   * Chooses interface, next hop and source address for a datagram we originate. `srcIp` may be
   * 0 (a DHCP client). `iface` pins the interface (SO_BINDTODEVICE): needed for 255.255.255.255.
   */
  routeOutput(dst: Ip4, opts: { srcIp?: Ip4 | undefined; iface?: IpInterface | undefined } = {}): OutputRoute | SendStatus {
    if (!this.running) return 'down';
    dst = dst >>> 0;
    const owner = this.ifaceOwning(dst);
    if (owner !== null) return { iface: owner, nextHop: dst, src: opts.srcIp ?? dst, dst, local: true, broadcast: false };
    let iface: IpInterface | null = null;
    let nextHop = dst;
    const routes = this.routes;
    if (dst === BROADCAST_IP || isMulticast(dst)) {
      if (opts.iface !== undefined) iface = opts.iface;
      else if (routes.lookup(dst, this.interfaces) !== null) iface = routes.egress;
      else iface = this.interfaces.find((i) => i.up && i.addresses.length > 0) ?? null;
      if (iface === null) return 'no-route';
      if (!iface.up) return 'down';
      return { iface, nextHop: dst, src: opts.srcIp ?? iface.addresses[0]?.ip ?? 0, dst, local: false, broadcast: true };
    }
    if (opts.iface !== undefined) {
      iface = opts.iface;
      if (routes.lookup(dst, this.interfaces) !== null && routes.egress === iface) nextHop = routes.nextHop;
    } else {
      if (routes.lookup(dst, this.interfaces) === null) return 'no-route';
      iface = routes.egress!;
      nextHop = routes.nextHop;
    }
    if (!iface.up) return 'down';
    const broadcast = this.isBroadcastOn(iface, dst);
    return { iface, nextHop, src: opts.srcIp ?? this.sourceFor(iface, nextHop), dst, local: false, broadcast };
  }

  /** The address of `iface` on the subnet of `nextHop`, else its primary, else 0. For the stack's parts. */
  sourceFor(iface: IpInterface, nextHop: Ip4): Ip4 {
    for (const a of iface.addresses) if (((nextHop & a.mask) >>> 0) === a.network) return a.ip;
    return iface.addresses[0]?.ip ?? 0;
  }

  /**
   * Sends a datagram we originate along `route` (from routeOutput): builds the IPv4 header,
   * runs the post-routing hook, fragments when larger than the MTU (or refuses with DF), and
   * resolves the next hop.
   */
  transmit(route: OutputRoute, protocol: number, payload: Uint8Array, opts: SendOptions): SendStatus {
    if (!this.running) return 'down';
    const iface = route.iface;
    if (!iface.up) return 'down';
    const total = IPV4_HEADER_LENGTH + payload.length;
    if (total > IPV4_MAX_LENGTH) return 'too-big';
    if ((opts.df ?? false) && total > iface.mtu && !route.local) return 'too-big';
    const frame = this.buildFrame(route, protocol, payload, opts);
    return this.emit(route, frame, total);
  }

  /** n zeroed bytes for a frame to send. For the stack's parts. */
  alloc(n: number): Uint8Array {
    return (this.slab ??= engineSlab(this.engine)).alloc(n);
  }

  /** A frame with room for the Ethernet header, then the IPv4 header and `payload`. */
  private buildFrame(route: OutputRoute, protocol: number, payload: Uint8Array | null, opts: SendOptions, payloadLength = payload!.length): Uint8Array {
    const iface = route.iface;
    const total = IPV4_HEADER_LENGTH + payloadLength;
    const hdr = iface.vlan < 0 ? 14 : 18;
    const frame = this.alloc(hdr + total < ETH_MIN_FRAME ? ETH_MIN_FRAME : hdr + total);
    const id = opts.id ?? this.ipId;
    if (opts.id === undefined) this.ipId = (this.ipId + 1) & 0xffff;
    encodeIpv4(
      {
        dscp: (opts.tos ?? 0) >>> 2,
        ecn: (opts.tos ?? 0) & 3,
        totalLength: total,
        id,
        df: opts.df ?? false,
        mf: false,
        fragmentOffset: 0,
        ttl: opts.ttl ?? this.defaultTtl,
        protocol,
        src: route.src,
        dst: route.dst,
      },
      frame,
      hdr,
    );
    if (payload !== null) frame.set(payload, hdr + IPV4_HEADER_LENGTH);
    return frame;
  }

  /**
   * transmit() of a UDP datagram (UdpSocket.sendTo): header, payload and checksum are written
   * straight into the frame, without a datagram of their own first.
   */
  transmitUdp(route: OutputRoute, srcPort: number, dstPort: number, payload: Uint8Array, opts: SendOptions): SendStatus {
    if (!this.running) return 'down';
    const iface = route.iface;
    if (!iface.up) return 'down';
    const udpLength = UDP_HEADER_LEN + payload.length;
    const total = IPV4_HEADER_LENGTH + udpLength;
    if (total > IPV4_MAX_LENGTH) return 'too-big';
    if ((opts.df ?? false) && total > iface.mtu && !route.local) return 'too-big';
    const frame = this.buildFrame(route, IPPROTO.UDP, null, opts, udpLength);
    encodeUdp({ srcPort, dstPort, payload }, frame, (iface.vlan < 0 ? 14 : 18) + IPV4_HEADER_LENGTH, route.src, route.dst);
    return this.emit(route, frame, total);
  }

  /** Sends a frame from buildFrame whose datagram is `total` bytes: loopback, hook, fragmentation, ARP. */
  private emit(route: OutputRoute, built: Uint8Array, total: number): SendStatus {
    const iface = route.iface;
    const hdr = iface.vlan < 0 ? 14 : 18;
    let frame: Uint8Array | null = built;
    let packet = built.subarray(hdr, hdr + total);
    this.stats.ipOutRequests++;
    if (route.local) {
      this.loopback(iface, packet);
      return 'sent';
    }
    const hooks = this.hooks;
    if (hooks !== null && hooks.postRouting !== undefined) {
      const r = hooks.postRouting(null, iface, packet);
      if (r === null) {
        this.stats.ipFiltered++;
        return 'filtered';
      }
      if (r !== packet) {
        packet = r;
        frame = null;
      }
    }
    return this.ipOutput(iface, route.nextHop, packet, frame, -1, route.broadcast);
  }

  private loopback(iface: IpInterface, packet: Uint8Array): void {
    this.loopQueue.push(packet);
    this.loopIface.push(iface.index);
    if (this.loopTimer < 0) this.loopTimer = this.engine.schedule(this.engine.now, this, STACK_TIMER.LOOPBACK);
  }

  private loopbackDrain(): void {
    this.loopTimer = -1;
    const n = this.loopQueue.length;
    const packets = this.loopQueue.splice(0, n);
    const ifaces = this.loopIface.splice(0, n);
    for (let i = 0; i < n; i++) {
      const p = packets[i]!;
      const dst = ipv4Dst(p, 0);
      const group = dst === BROADCAST_IP || isMulticast(dst);
      this.deliverLocal(this.interfaces[ifaces[i]!]!, p, 0, p.length, group, null, group);
    }
  }

  /**
   * Puts an IPv4 datagram on `iface` towards `nextHop`. `frame`, when given, is a buffer whose
   * bytes after the Ethernet header are `packet`; the header is written into it in place.
   */
  private ipOutput(iface: IpInterface, nextHop: Ip4, packet: Uint8Array, frame: Uint8Array | null, ingress: number, broadcast: boolean): SendStatus {
    if (packet.length <= iface.mtu) return this.neighOutput(iface, nextHop, packet, frame, ingress, broadcast);
    let pieces: Uint8Array[];
    try {
      pieces = fragment(packet, iface.mtu);
    } catch (e) {
      if (e instanceof EncodeError || e instanceof DecodeError) return 'too-big';
      throw e;
    }
    this.stats.ipFragCreates += pieces.length;
    let status: SendStatus = 'sent';
    for (const p of pieces) status = this.neighOutput(iface, nextHop, p, null, ingress, broadcast);
    return status;
  }

  private neighOutput(iface: IpInterface, nextHop: Ip4, packet: Uint8Array, frame: Uint8Array | null, ingress: number, broadcast: boolean): SendStatus {
    let mac: Mac;
    if (broadcast || nextHop === BROADCAST_IP) mac = MAC_BROADCAST;
    else if (isMulticast(nextHop)) mac = 0x01005e000000 + (nextHop & 0x7fffff);
    else {
      const arp = this.arp;
      mac = arp.resolve(iface, nextHop);
      if (mac < 0) {
        arp.enqueue(iface, nextHop, packet, ingress);
        return 'queued';
      }
    }
    this.sendFrame(iface, mac, packet, frame);
    return 'sent';
  }

  /**
   * Puts `packet` on `iface` to `dstMac`. `frame`, when given, holds `packet` right after room
   * for the Ethernet header, which is written there; otherwise a frame is made. For the stack's parts.
   */
  sendFrame(iface: IpInterface, dstMac: Mac, packet: Uint8Array, frame: Uint8Array | null): void {
    const hdr = iface.vlan < 0 ? 14 : 18;
    if (frame === null || packet.buffer !== frame.buffer || packet.byteOffset !== frame.byteOffset + hdr) {
      frame = this.alloc(hdr + packet.length < ETH_MIN_FRAME ? ETH_MIN_FRAME : hdr + packet.length);
      frame.set(packet, hdr);
    }
    putEthernetHeader(frame, 0, dstMac, iface.mac, iface.vlan, ETHERTYPE.IPV4);
    iface.port.send(frame);
  }

  /** `ip` is one of the addresses of `iface` (up). For the stack's parts. */
  holds(iface: IpInterface, ip: Ip4): boolean {
    // A host's one interface holds all the stack's addresses: no need to read its list.
    if (iface === this.soleIface && this.localIndex === null && this.localCount <= 1) return this.localCount === 1 && this.localFirst === ip;
    const as = iface.addresses;
    for (let k = 0; k < as.length; k++) if (as[k]!.ip === ip) return true;
    return false;
  }

  /** Gratuitous ARP (RFC 5227 announcement): a broadcast request for our own address. */
  announce(iface: IpInterface, ip: Ip4): void {
    this.arp.announce(iface, ip);
  }
}
