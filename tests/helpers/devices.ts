/**
 * Devices from text, for tests. The device constructors take values (addresses as numbers,
 * prefixes, MACs, durations in ns), as lab/build.ts hands them over; a test reads better with
 * `'10.0.0.1/24'`. These builders take the text of the old string configs and read it with the
 * lab file's own parsers (devices/lab/units.ts), so a typo fails with the lab file's wording.
 *
 *   const pc = hostFrom(engine, { name: 'pc1', interfaces: { eth0: { ip: '10.0.0.1/24', gateway: '10.0.0.254' } } });
 *   const r1 = routerFrom(engine, { name: 'r1', interfaces: [{ name: 'g0/0', ip: '10.0.0.254/24' }] });
 */
import type { Engine } from '../../devices/engine/engine.js';
import { Host, type HostConfig, type HostInterfaceConfig } from '../../devices/host/index.js';
import { type Parsed, parseCidr, parseIp, parseIpRange, parseMacAddress } from '../../devices/lab/units.js';
import {
  Router,
  type RouterAddressRange,
  type RouterConfig,
  type RouterDhcpPoolConfig,
  type RouterInterfaceConfig,
  type RouterNatConfig,
  type RouterRouteConfig,
} from '../../devices/router/index.js';
import type { Ip4, Ip4Prefix, Mac } from '../../devices/wire/bytes.js';

function must<T>(p: Parsed<T>): T {
  if (!p.ok) throw new Error(p.error);
  return p.value;
}

/** `10.0.0.1`. */
export function ip(text: string): Ip4 {
  return must(parseIp(text));
}
/** `10.0.0.1/24`: the address and its prefix length. */
export function prefix(text: string): Ip4Prefix {
  const c = must(parseCidr(text));
  return { ip: c.ip, prefix: c.prefix };
}
/** `02:00:00:00:00:01`. */
export function mac(text: string): Mac {
  return must(parseMacAddress(text));
}
/** `10.0.0.100-10.0.0.199`, or one address. */
export function range(text: string): RouterAddressRange {
  if (text.includes('-')) return must(parseIpRange(text));
  const a = ip(text);
  return { start: a, end: a };
}

// ---------------------------------------------------------------- hosts

export interface HostInterfaceText extends Omit<HostInterfaceConfig, 'ip' | 'gateway' | 'mac'> {
  /** `dhcp` or `10.0.0.5/24`. */
  ip?: string;
  gateway?: string;
  mac?: string | Mac;
}
type HostServices = NonNullable<HostConfig['services']>;
export interface HostText extends Omit<HostConfig, 'interfaces' | 'dns' | 'hosts' | 'services'> {
  interfaces?: Record<string, HostInterfaceText>;
  dns?: string[];
  hosts?: Record<string, string>;
  services?: Omit<HostServices, 'dns'> & { dns?: { port?: number; records: Record<string, string | string[]> } };
}

export function hostConfig(t: HostText): HostConfig {
  const { interfaces, dns, hosts, services, ...rest } = t;
  const config: HostConfig = { ...rest };
  if (interfaces) {
    config.interfaces = {};
    for (const [name, i] of Object.entries(interfaces)) {
      const { ip: address, gateway, mac: m, ...more } = i;
      config.interfaces[name] = {
        ...more,
        ...(address === undefined ? {} : { ip: address === 'dhcp' ? 'dhcp' : prefix(address) }),
        ...(gateway === undefined ? {} : { gateway: ip(gateway) }),
        ...(m === undefined ? {} : { mac: typeof m === 'number' ? m : mac(m) }),
      };
    }
  }
  if (dns) config.dns = dns.map(ip);
  if (hosts) config.hosts = Object.fromEntries(Object.entries(hosts).map(([n, a]) => [n, ip(a)]));
  if (services) {
    const { dns: dnsService, ...others } = services;
    config.services = { ...others };
    if (dnsService) {
      const records = Object.entries(dnsService.records).map(([n, v]) => [n, (Array.isArray(v) ? v : [v]).map(ip)] as const);
      config.services.dns = { ...(dnsService.port !== undefined ? { port: dnsService.port } : {}), records: Object.fromEntries(records) };
    }
  }
  return config;
}

export function hostFrom(engine: Engine, t: HostText): Host {
  return new Host(engine, hostConfig(t));
}

// ---------------------------------------------------------------- routers

export interface RouterInterfaceText extends Omit<RouterInterfaceConfig, 'ip' | 'secondary' | 'mac'> {
  ip?: string;
  secondary?: string[];
  mac?: string;
}
export interface RouterRouteText extends Omit<RouterRouteConfig, 'to' | 'via'> {
  to: string;
  via?: string;
}
export interface RouterPoolText extends Omit<RouterDhcpPoolConfig, 'network' | 'range' | 'excluded' | 'gateway' | 'dns' | 'leaseNs' | 'reservations'> {
  network?: string;
  range?: string;
  /** Addresses or `a-b` ranges. */
  excluded?: string[];
  gateway?: string;
  dns?: string[];
  /** Seconds. */
  lease?: number;
  reservations?: { ip: string; node?: string; mac?: string; clientId?: string }[];
}
export interface RouterNatText extends Omit<RouterNatConfig, 'static'> {
  static?: { inside: string; outside: string }[];
}
export interface RouterText extends Omit<RouterConfig, 'interfaces' | 'routes' | 'dhcpServer' | 'dhcpRelay' | 'nat'> {
  interfaces?: RouterInterfaceText[];
  routes?: RouterRouteText[];
  dhcpServer?: { pools: RouterPoolText[] };
  dhcpRelay?: Record<string, string | string[]>;
  nat?: RouterNatText;
}

export function routeConfig(r: RouterRouteText): RouterRouteConfig {
  const { to, via, ...rest } = r;
  return { ...rest, to: prefix(to), ...(via === undefined ? {} : { via: ip(via) }) };
}

export function poolConfig(p: RouterPoolText): RouterDhcpPoolConfig {
  const { network, range: r, excluded, gateway, dns, lease, reservations, ...rest } = p;
  return {
    ...rest,
    ...(network === undefined ? {} : { network: prefix(network) }),
    ...(r === undefined ? {} : { range: range(r) }),
    ...(excluded === undefined ? {} : { excluded: excluded.map(range) }),
    ...(gateway === undefined ? {} : { gateway: ip(gateway) }),
    ...(dns === undefined ? {} : { dns: dns.map(ip) }),
    ...(lease === undefined ? {} : { leaseNs: lease * 1e9 }),
    ...(reservations === undefined
      ? {}
      : { reservations: reservations.map(({ ip: a, mac: m, ...more }) => ({ ...more, ip: ip(a), ...(m === undefined ? {} : { mac: mac(m) }) })) }),
  };
}

export function routerConfig(t: RouterText): RouterConfig {
  const { interfaces, routes, dhcpServer, dhcpRelay, nat, ...rest } = t;
  const config: RouterConfig = { ...rest };
  if (interfaces) {
    config.interfaces = interfaces.map(({ ip: address, secondary, mac: m, ...more }) => ({
      ...more,
      ...(address === undefined ? {} : { ip: prefix(address) }),
      ...(secondary === undefined ? {} : { secondary: secondary.map(prefix) }),
      ...(m === undefined ? {} : { mac: mac(m) }),
    }));
  }
  if (routes) config.routes = routes.map(routeConfig);
  if (dhcpServer) config.dhcpServer = { pools: dhcpServer.pools.map(poolConfig) };
  if (dhcpRelay) config.dhcpRelay = Object.fromEntries(Object.entries(dhcpRelay).map(([n, v]) => [n, (Array.isArray(v) ? v : [v]).map(ip)]));
  if (nat) {
    const { static: statics, ...more } = nat;
    config.nat = { ...more, ...(statics === undefined ? {} : { static: statics.map((s) => ({ inside: ip(s.inside), outside: ip(s.outside) })) }) };
  }
  return config;
}

export function routerFrom(engine: Engine, t: RouterText): Router {
  return new Router(engine, routerConfig(t));
}
