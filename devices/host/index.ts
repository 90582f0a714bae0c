/**
 * An emulated end host (a PC, like a VPCS instance or a Linux box): one or more interfaces
 * (eth0 by default) with a static address and gateway or a DHCP client, ping, traceroute, a
 * DNS stub resolver and services (udp-echo, dns records).
 *
 *   const pc = new Host(engine, { name: 'pc1', interfaces: { eth0: { ip: 'dhcp' } } });
 *   // or a static address: { ip: { ip: 0x0a000005, prefix: 24 }, gateway: 0x0a000001 }
 *   new Link(engine, 'l1', pc.port('eth0'), sw.ports[0]);
 *   pc.start();
 *   engine.runUntilCondition(() => pc.settled, 120e9);           // DHCP bound or given up
 *   const ping = pc.ping('10.0.0.1', { count: 3 });
 *   engine.runUntilCondition(() => ping.isDone, 60e9);
 *   ping.result.received; ping.result.probes[0].rttNs; ping.result.lines
 *   const trace = pc.traceroute('192.168.145.2'); ... trace.path
 */
import type { Device } from '../device.js';
import { stableMac } from '../device.js';
import type { Engine } from '../engine/engine.js';
import { Port } from '../engine/port.js';
import { type Ip4, type Ip4Prefix, type Mac, ip4ToString } from '../wire/bytes.js';
import { IpStack, type StackOptions } from '../stack/stack.js';
import type { IpInterface } from '../stack/types.js';
import { type AppHost, DnsLookup, type DnsLookupOwner, PingOperation, type PingOptions, TraceOperation, type TraceOptions } from './apps.js';
import { DhcpClient, type DhcpClientHost, type DhcpClientOptions, type DhcpLease, type DhcpStatus } from './dhcp-client.js';
import { DnsService, UdpEchoService } from './services.js';
import { attachTcp } from '../stack/tcp-ip.js';
import type { TcpLayer } from '../stack/tcp.js';
import { HttpServer, TcpEchoServer } from '../services/index.js';

export { DhcpClient, DEFAULT_DHCP_CLIENT } from './dhcp-client.js';
export type { DhcpClientOptions, DhcpEvent, DhcpLease, DhcpState, DhcpStatus } from './dhcp-client.js';
export { DnsLookup, PingOperation, TraceOperation, icmpErrorText, sendStatusText } from './apps.js';
export type { DnsLookupResult, PingOptions, PingProbe, PingResult, TraceHop, TraceOptions, TraceProbe, TraceResult } from './apps.js';
export { DnsService, UdpEchoService } from './services.js';

/** Values, not text: the lab file's parsers (lab/units.ts) read what users write. */
export interface HostInterfaceConfig {
  /** 'dhcp', or a static address with its prefix length. Absent: no address. */
  ip?: 'dhcp' | Ip4Prefix;
  /** Default gateway (static addressing only). */
  gateway?: Ip4;
  /** Default: stableMac(lab, node, interface). */
  mac?: Mac;
  mtu?: number;
}

export interface HostConfig {
  name: string;
  /** Lab name, for stable MACs. */
  lab?: string;
  /** By interface name, in order; default { eth0: {} }. */
  interfaces?: Record<string, HostInterfaceConfig>;
  /** Name servers used besides those a DHCP lease gives. */
  dns?: readonly Ip4[];
  /** Static name table (/etc/hosts). */
  hosts?: Record<string, Ip4>;
  services?: {
    'udp-echo'?: boolean | { port?: number };
    /** A small web server: `body` at "/" on `port` (default 80). */
    http?: { port?: number; body?: string; status?: number };
    'tcp-echo'?: boolean | { port?: number };
    dns?: { port?: number; records: Record<string, readonly Ip4[]> };
  };
  dhcp?: Partial<Omit<DhcpClientOptions, 'hostname'>>;
  stack?: Partial<Omit<StackOptions, 'name' | 'forwarding'>>;
}

/** One interface as `show ip` reports it. */
export interface HostIpInfo {
  iface: string;
  mac: Mac;
  ip: Ip4;
  prefix: number;
  gateway: Ip4;
  dns: Ip4[];
  mode: 'static' | 'dhcp' | 'none';
  dhcp: DhcpStatus | null;
  mtu: number;
}

interface IfaceState {
  iface: IpInterface;
  mode: 'static' | 'dhcp' | 'none';
  staticIp: Ip4;
  staticPrefix: number;
  staticGateway: Ip4;
  dhcp: DhcpClient | null;
}

type Operation = { isDone: boolean; cancel(): void };

export class Host implements Device, DhcpClientHost, AppHost {
  readonly kind = 'host' as const;
  readonly name: string;
  readonly ports: Port[] = [];
  // Beside `stack`, as onFrame reads both for every frame.
  running = false;
  readonly stack: IpStack;
  readonly hosts = new Map<string, Ip4>();
  /** Static name servers (from the lab file or `ip dns`). */
  dnsServers: Ip4[] = [];
  udpEcho: UdpEchoService | null = null;
  dnsService: DnsService | null = null;
  /** The host's TCP (RFC 9293), beside UDP on its stack. */
  readonly tcp: TcpLayer;
  httpService: HttpServer | null = null;
  tcpEcho: TcpEchoServer | null = null;
  private readonly ifs: IfaceState[] = [];
  private readonly dhcpOptions: Partial<Omit<DhcpClientOptions, 'hostname'>>;
  private readonly serviceConfig: NonNullable<HostConfig['services']>;
  private ops: Operation[] = [];

  constructor(
    readonly engine: Engine,
    config: HostConfig,
  ) {
    this.name = config.name;
    this.stack = new IpStack(engine, { ...config.stack, name: config.name, forwarding: false });
    this.tcp = attachTcp(this.stack);
    this.dhcpOptions = config.dhcp ?? {};
    this.serviceConfig = config.services ?? {};
    const ifaces = config.interfaces ?? { eth0: {} };
    let index = 0;
    for (const [ifName, c] of Object.entries(ifaces)) {
      const port = new Port(this, ifName, index++);
      this.ports.push(port);
      const mac = c.mac ?? stableMac(config.lab ?? '', this.name, ifName);
      const iface = this.stack.addInterface(port, { name: ifName, mac, ...(c.mtu !== undefined ? { mtu: c.mtu } : {}) });
      const st: IfaceState = { iface, mode: 'none', staticIp: 0, staticPrefix: 0, staticGateway: 0, dhcp: null };
      this.ifs.push(st);
      if (c.ip === 'dhcp') st.mode = 'dhcp';
      else if (c.ip !== undefined) this.applyStatic(st, c.ip.ip, c.ip.prefix, c.gateway ?? 0);
      else if (c.gateway !== undefined) throw new Error(`${this.name}.${ifName}: a gateway needs a static address`);
    }
    this.dnsServers.push(...(config.dns ?? []));
    for (const [n, a] of Object.entries(config.hosts ?? {})) this.hosts.set(n.toLowerCase(), a);
  }

  // ---------------------------------------------------------------- Device

  port(name = 'eth0'): Port {
    const p = this.ports.find((x) => x.name === name);
    if (p === undefined) throw new Error(`${this.name} has no interface ${name}`);
    return p;
  }

  iface(name = 'eth0'): IpInterface {
    return this.state(name).iface;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stack.start();
    const svc = this.serviceConfig;
    const echo = svc['udp-echo'];
    if (echo) this.udpEcho = new UdpEchoService(this.stack, typeof echo === 'object' ? (echo.port ?? 7) : 7);
    if (svc.dns) {
      const records = new Map<string, Ip4[]>();
      for (const [n, v] of Object.entries(svc.dns.records)) records.set(n, [...v]);
      this.dnsService = new DnsService(this.stack, records, svc.dns.port ?? 53);
    }
    if (svc.http) {
      const h = svc.http;
      this.httpService = new HttpServer(this.tcp, { port: h.port ?? 80, ...(h.body !== undefined ? { body: h.body } : {}), ...(h.status !== undefined ? { status: h.status } : {}) });
    }
    const tcpEcho = svc['tcp-echo'];
    if (tcpEcho) this.tcpEcho = new TcpEchoServer(this.tcp, typeof tcpEcho === 'object' ? (tcpEcho.port ?? 7) : 7);
    for (const st of this.ifs) if (st.mode === 'dhcp') this.startDhcp(st);
  }

  stop(): void {
    if (!this.running) return;
    for (const op of this.ops) op.cancel();
    this.ops = [];
    for (const st of this.ifs) {
      st.dhcp?.stop();
      st.dhcp = null;
    }
    this.udpEcho?.close();
    this.udpEcho = null;
    this.dnsService?.close();
    this.dnsService = null;
    this.httpService?.close();
    this.httpService = null;
    this.tcpEcho?.close();
    this.tcpEcho = null;
    this.tcp.stop();
    this.stack.stop();
    this.running = false;
  }

  onFrame(port: Port, frame: Uint8Array): void {
    if (this.running) this.stack.onFrame(port, frame);
  }

  /** The host sets no timers of its own: its stack, DHCP clients and programs are their own timer targets. */
  onTimer(): void {}

  // ---------------------------------------------------------------- addressing

  private state(name: string): IfaceState {
    const st = this.ifs.find((s) => s.iface.name === name);
    if (st === undefined) throw new Error(`${this.name} has no interface ${name}`);
    return st;
  }

  private applyStatic(st: IfaceState, ip: Ip4, prefix: number, gateway: Ip4): void {
    st.mode = 'static';
    st.staticIp = ip;
    st.staticPrefix = prefix;
    st.staticGateway = gateway;
    this.stack.setAddresses(st.iface, [{ ip, prefix }]);
    this.stack.routes.removeWhere((r) => r.prefixLength === 0 && r.ifIndex === st.iface.index);
    if (gateway !== 0) this.stack.addRoute({ prefix: 0, prefixLength: 0, via: gateway, ifIndex: st.iface.index, metric: st.iface.index, source: 'static' });
  }

  /** VPCS `ip 10.0.0.5/24 10.0.0.1`: a static address (announced with gratuitous ARP) and gateway. */
  setStatic(ifName: string, ip: Ip4, prefix: number, gateway: Ip4 = 0): void {
    const st = this.state(ifName);
    st.dhcp?.stop();
    st.dhcp = null;
    this.applyStatic(st, ip >>> 0, prefix, gateway >>> 0);
  }

  /** Removes the address and gateway of an interface (VPCS `clear ip`). */
  clearIp(ifName = 'eth0'): void {
    const st = this.state(ifName);
    st.dhcp?.stop();
    st.dhcp = null;
    st.mode = 'none';
    this.stack.setAddresses(st.iface, []);
    this.stack.routes.removeWhere((r) => r.prefixLength === 0 && r.ifIndex === st.iface.index);
  }

  /** VPCS `ip dhcp`: forget the static address and start (or restart) the DHCP client. */
  useDhcp(ifName = 'eth0', requestedIp?: Ip4): DhcpClient {
    const st = this.state(ifName);
    if (st.mode === 'static') {
      this.stack.setAddresses(st.iface, []);
      this.stack.routes.removeWhere((r) => r.prefixLength === 0 && r.ifIndex === st.iface.index);
    }
    st.mode = 'dhcp';
    if (!this.running) {
      st.dhcp ??= this.newClient(st);
      return st.dhcp;
    }
    return this.startDhcp(st, requestedIp);
  }

  private newClient(st: IfaceState): DhcpClient {
    return new DhcpClient(this.engine, this.stack, st.iface, this, { ...this.dhcpOptions, hostname: this.name });
  }

  private startDhcp(st: IfaceState, requestedIp?: Ip4): DhcpClient {
    st.dhcp?.stop();
    st.dhcp = this.newClient(st);
    st.dhcp.start(requestedIp);
    return st.dhcp;
  }

  /** VPCS `ip dhcp -x`: release the lease. */
  releaseDhcp(ifName = 'eth0'): boolean {
    const st = this.state(ifName);
    return st.dhcp?.release() ?? false;
  }

  dhcp(ifName = 'eth0'): DhcpClient | null {
    return this.state(ifName).dhcp;
  }

  dhcpStatus(ifName = 'eth0'): DhcpStatus | null {
    return this.state(ifName).dhcp?.status() ?? null;
  }

  /** No DHCP client is still working towards its first lease: every one is bound, gave up, or there is none. */
  get settled(): boolean {
    return this.ifs.every((s) => s.dhcp === null || !s.dhcp.busy);
  }

  dhcpBound(client: DhcpClient, lease: DhcpLease, previous: DhcpLease | null): void {
    const iface = client.iface;
    if (previous === null || previous.ip !== lease.ip || previous.prefix !== lease.prefix) {
      this.stack.setAddresses(iface, [{ ip: lease.ip, prefix: lease.prefix }]);
    }
    this.stack.routes.removeWhere((r) => r.prefixLength === 0 && r.ifIndex === iface.index);
    const gw = lease.routers[0];
    if (gw !== undefined) this.stack.addRoute({ prefix: 0, prefixLength: 0, via: gw, ifIndex: iface.index, metric: iface.index, source: 'dhcp' });
  }

  dhcpUnbound(client: DhcpClient, lease: DhcpLease): void {
    const iface = client.iface;
    this.stack.removeAddress(iface, lease.ip);
    this.stack.routes.removeWhere((r) => r.prefixLength === 0 && r.ifIndex === iface.index && r.source === 'dhcp');
  }

  /** Static name servers first, then those of the DHCP leases. */
  nameservers(): Ip4[] {
    const out = [...this.dnsServers];
    for (const st of this.ifs) for (const d of st.dhcp?.lease?.dns ?? []) if (!out.includes(d)) out.push(d);
    return out;
  }

  /** `show ip` for every interface. */
  showIp(): HostIpInfo[] {
    return this.ifs.map((st) => {
      const a = st.iface.addresses[0];
      const gw = this.stack.routes.routes.find((r) => r.prefixLength === 0 && r.ifIndex === st.iface.index);
      return {
        iface: st.iface.name,
        mac: st.iface.mac,
        ip: a?.ip ?? 0,
        prefix: a?.prefix ?? 0,
        gateway: gw?.via ?? 0,
        dns: this.nameservers(),
        mode: st.mode,
        dhcp: st.dhcp?.status() ?? null,
        mtu: st.iface.mtu,
      };
    });
  }

  /** "10.0.0.5/24" of an interface, or '' without an address. */
  address(ifName = 'eth0'): string {
    const a = this.state(ifName).iface.addresses[0];
    return a ? `${ip4ToString(a.ip)}/${a.prefix}` : '';
  }

  // ---------------------------------------------------------------- programs

  private track<T extends Operation>(op: T): T {
    this.ops = this.ops.filter((o) => !o.isDone);
    if (!op.isDone) this.ops.push(op);
    return op;
  }

  /** ping: ICMP echo to an address or a name. Run the engine until `isDone`, then read `result`. */
  ping(target: string | Ip4, opts: PingOptions = {}): PingOperation {
    return this.track(new PingOperation(this, target, opts));
  }

  /** traceroute with UDP probes. Run the engine until `isDone`, then read `result` or `path`. */
  traceroute(target: string | Ip4, opts: TraceOptions = {}): TraceOperation {
    return this.track(new TraceOperation(this, target, opts));
  }

  /** Resolves a name with the configured name servers. */
  resolve(name: string, owner: DnsLookupOwner | null = null): DnsLookup {
    const lookup = new DnsLookup(this.engine, this.stack, name, this.nameservers(), owner);
    lookup.start();
    return this.track(lookup);
  }
}
