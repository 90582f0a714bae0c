/**
 * The running configuration of a router or switch: the node's lab.yaml entry seen the way IOS
 * sees it. It is made from the node's spec (the lab file's shape) when the node boots, changed
 * by configuration commands, rendered by `show running-config`, and turned back into the
 * node's spec by `write memory`. IOS pieces that the file keeps in one place (NAT: `ip nat
 * inside` on interfaces plus one `ip nat inside source` rule; DHCP exclusions, global in IOS and
 * per pool in the file) are kept as IOS has them and put together when saving.
 *
 * A few things exist in the running configuration only, because lab.yaml has no place for them
 * (interface descriptions, VLAN names, the NAT rule's access-list name, several helper
 * addresses, routes without a next hop): `toSpec` names them in its warnings.
 */
import type { DhcpPoolSpec, ReservationSpec, RouterNodeSpec, SwitchNodeSpec } from '../../lab/schema.js';
import { LAB_DEFAULTS, RouterInterfaceSchema, SwitchInterfaceSchema, SwitchNodeSchema } from '../../lab/schema.js';
import { formatDuration, parseCidr, parseDuration, parseIpRange, parseSubnet } from '../../lab/units.js';
import { type Ip4, type Ip4Prefix, ip4ToString, parseIp4, prefixToMask } from '../../wire/bytes.js';

/** An interface address or a route's destination: what the router takes (see wire/bytes.ts). */
export type Addr = Ip4Prefix;

export interface RouterIfaceModel {
  /** lab.yaml's name: `g0/1`, `g0/1.20`. */
  name: string;
  /** A sub-interface rides on this port. */
  parent: string | null;
  ip: Addr | null;
  shutdown: boolean;
  description: string | null;
  aclIn: string | null;
  aclOut: string | null;
  /** `encapsulation dot1Q N` of a sub-interface (required before it takes an address). */
  vlan: number | null;
  /** `ip helper-address`. */
  helpers: Ip4[];
  natInside: boolean;
  natOutside: boolean;
  /** lab.yaml keys with no IOS command (topology), carried through. */
  mac: string | undefined;
  network: string | undefined;
}

export interface PoolModel {
  name: string;
  network: Addr | null;
  /** `default-router`. */
  gateways: Ip4[];
  dns: Ip4[];
  /** `lease D [H [M]]`; null: the default (a day). */
  leaseNs: number | null;
  /** The file's text for the lease, kept while the lease does not change. */
  leaseText: string | undefined;
  domain: string | null;
  /** `address range A B` (wirelab): addresses leased; null: the whole subnet. */
  range: { start: Ip4; end: Ip4 } | null;
  /** `address A hardware-address MAC` / `address A node NAME`: fixed addresses. */
  reservations: ReservationSpec[];
}

export interface RouteModel {
  prefix: Addr;
  via: Ip4 | null;
  iface: string | null;
  distance: number | null;
}

export interface RouterModel {
  kind: 'router';
  hostname: string;
  interfaces: RouterIfaceModel[];
  routes: RouteModel[];
  /** In definition order; numbered lists 1-99/1300-1999 are standard. */
  acls: { name: string; rules: string[] }[];
  /** `ip dhcp excluded-address A [B]`. */
  excluded: { start: Ip4; end: Ip4 }[];
  pools: PoolModel[];
  /** `ip nat inside source list L interface X overload`. */
  natOverload: { list: string; iface: string } | null;
  natStatic: { inside: Ip4; outside: Ip4 }[];
  /** lab.yaml keys with no IOS command: ui, console. */
  extra: Pick<RouterNodeSpec, 'ui' | 'console'>;
}

export interface SwitchPortModel {
  name: string;
  mode: 'access' | 'trunk';
  accessVlan: number;
  allowed: number[] | 'all';
  native: number;
  shutdown: boolean;
  description: string | null;
}

export interface SwitchModel {
  kind: 'switch';
  hostname: string;
  ports: number;
  portsExplicit: boolean;
  stp: 'off' | 'stp' | 'rstp';
  /** The file's spelling of stp (true, 'rstp', ...), kept while it means the same. */
  stpText: SwitchNodeSpec['stp'];
  priority: number;
  interfaces: SwitchPortModel[];
  /** `vlan N` / `name X`: the VLAN database (names are running configuration only). */
  vlans: Map<number, string>;
  extra: Pick<SwitchNodeSpec, 'ui' | 'console'>;
}

export type DeviceModel = RouterModel | SwitchModel;

/** IOS names VLAN 10 "VLAN0010" unless told otherwise; VLAN 1 is "default". */
export function defaultVlanName(v: number): string {
  return v === 1 ? 'default' : `VLAN${String(v).padStart(4, '0')}`;
}

function ok<T>(p: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!p.ok) throw new Error(p.error);
  return p.value;
}

function ip(text: string): Ip4 {
  const v = parseIp4(text);
  if (v === null) throw new Error(`${text} is not an address`);
  return v;
}

export function sameSubnet(a: Addr, b: Addr): boolean {
  const m = prefixToMask(a.prefix);
  return a.prefix === b.prefix && ((a.ip & m) >>> 0) === ((b.ip & m) >>> 0);
}

export function networkOf(a: Addr): Ip4 {
  return (a.ip & prefixToMask(a.prefix)) >>> 0;
}

export function formatAddr(a: Addr): string {
  return `${ip4ToString(a.ip)}/${a.prefix}`;
}

// ------------------------------------------------------------------ router

/** A router interface with nothing configured (a sub-interface's parent is the name before the dot). */
export function routerIface(name: string): RouterIfaceModel {
  const dot = name.indexOf('.');
  return {
    name,
    parent: dot < 0 ? null : name.slice(0, dot),
    ip: null,
    shutdown: false,
    description: null,
    aclIn: null,
    aclOut: null,
    vlan: null,
    helpers: [],
    natInside: false,
    natOutside: false,
    mac: undefined,
    network: undefined,
  };
}

/** A router with nothing configured: the ports it always has, no addresses. */
export function blankRouter(hostname: string): RouterModel {
  return {
    kind: 'router',
    hostname,
    interfaces: LAB_DEFAULTS.routerInterfaces.map(routerIface),
    routes: [],
    acls: [],
    excluded: [],
    pools: [],
    natOverload: null,
    natStatic: [],
    extra: {},
  };
}

/** The interface list a router has: its default ports, declared ports, then sub-interfaces after their port. */
export function sortRouterIfaces(list: RouterIfaceModel[]): RouterIfaceModel[] {
  const physical = list.filter((i) => i.parent === null);
  const out: RouterIfaceModel[] = [];
  for (const p of physical) {
    out.push(p);
    out.push(...list.filter((i) => i.parent === p.name));
  }
  return out;
}

/** Topology keys a running config cannot express, carried from the file: ports and their cabling. */
export function routerTopology(spec: RouterNodeSpec | undefined): Pick<RouterModel, 'extra'> & { ifaces: RouterIfaceModel[] } {
  const model = blankRouter('');
  const declared = spec?.interfaces ?? {};
  for (const [name, d] of Object.entries(declared)) {
    if (name.includes('.')) continue;
    let i = model.interfaces.find((x) => x.name === name);
    if (!i) {
      i = routerIface(name);
      model.interfaces.push(i);
    }
    i.mac = d.mac;
    i.network = d.network;
  }
  return { extra: { ...(spec?.ui ? { ui: spec.ui } : {}), ...(spec?.console !== undefined ? { console: spec.console } : {}) }, ifaces: model.interfaces };
}

export function routerFromSpec(hostname: string, spec: RouterNodeSpec): RouterModel {
  const topo = routerTopology(spec);
  const m: RouterModel = { ...blankRouter(hostname), interfaces: topo.ifaces, extra: topo.extra };
  for (const [name, d] of Object.entries(spec.interfaces ?? {})) {
    let i = m.interfaces.find((x) => x.name === name);
    if (!i) {
      i = routerIface(name);
      m.interfaces.push(i);
    }
    if (d.ip !== undefined) {
      const c = ok(parseCidr(d.ip));
      i.ip = { ip: c.ip, prefix: c.prefix };
    }
    i.shutdown = d.shutdown ?? false;
    i.aclIn = d['acl-in'] ?? null;
    i.aclOut = d['acl-out'] ?? null;
    if (i.parent !== null) i.vlan = d.vlan ?? null;
    const desc = (d as { description?: string }).description;
    if (desc !== undefined) i.description = desc;
  }
  m.interfaces = sortRouterIfaces(m.interfaces);
  for (const r of spec.routes ?? []) {
    const c = ok(parseSubnet(r.to));
    m.routes.push({ prefix: { ip: c.ip, prefix: c.prefix }, via: ip(r.via), iface: r.interface ?? null, distance: r.distance ?? null });
  }
  for (const [name, rules] of Object.entries(spec.acls ?? {})) m.acls.push({ name, rules: [...rules] });
  for (const [ifn, server] of Object.entries(spec['dhcp-relay'] ?? {})) {
    const i = m.interfaces.find((x) => x.name === ifn);
    if (i) i.helpers = [ip(server)];
  }
  (spec['dhcp-server']?.pools ?? []).forEach((p, idx) => {
    let network: Addr | null = null;
    if (p.network !== undefined) {
      const c = ok(parseSubnet(p.network));
      network = { ip: c.ip, prefix: c.prefix };
    } else if (p.interface !== undefined) {
      const a = m.interfaces.find((x) => x.name === p.interface)?.ip;
      if (a) network = { ip: networkOf(a), prefix: a.prefix };
    }
    for (const e of p.excluded ?? []) {
      const r = e.includes('-') ? ok(parseIpRange(e)) : { start: ip(e), end: ip(e) };
      if (!m.excluded.some((x) => x.start === r.start && x.end === r.end)) m.excluded.push({ start: r.start, end: r.end });
    }
    const range = p.range !== undefined ? ok(parseIpRange(p.range)) : null;
    m.pools.push({
      name: p.name ?? `pool${idx + 1}`,
      network,
      gateways: p.gateway !== undefined ? [ip(p.gateway)] : [],
      dns: (p.dns ?? []).map(ip),
      leaseNs: p.lease !== undefined ? ok(parseDuration(p.lease)) : null,
      leaseText: p.lease,
      domain: null,
      range: range ? { start: range.start, end: range.end } : null,
      reservations: (p.reservations ?? []).map((r) => ({ ...r })),
    });
  });
  if (spec.nat) {
    for (const n of spec.nat.inside) {
      const i = m.interfaces.find((x) => x.name === n);
      if (i) i.natInside = true;
    }
    const out = m.interfaces.find((x) => x.name === spec.nat!.outside);
    if (out) out.natOutside = true;
    if (spec.nat.overload ?? true) m.natOverload = { list: NAT_LIST_DEFAULT, iface: spec.nat.outside };
    m.natStatic = (spec.nat.static ?? []).map((s) => ({ inside: ip(s.inside), outside: ip(s.outside) }));
  }
  return m;
}

/**
 * lab.yaml's NAT has no access list: it translates whatever an inside interface sends out of the
 * outside one. Shown under this name when the file, not a console, configured it.
 */
export const NAT_LIST_DEFAULT = 'NAT-INSIDE';

export interface ToSpecResult<S> {
  spec: S;
  warnings: string[];
}

const routerIfaceKeys = new Set(Object.keys(RouterInterfaceSchema.shape));
const switchIfaceKeys = new Set(Object.keys((SwitchInterfaceSchema as unknown as { shape: Record<string, unknown> }).shape ?? {}));
const switchNodeKeys = new Set(Object.keys((SwitchNodeSchema as unknown as { shape: Record<string, unknown> }).shape ?? {}));

/** The router's lab.yaml entry; `base` (the entry as the file has it) keeps its spelling where the meaning is unchanged. */
export function routerToSpec(m: RouterModel, base?: RouterNodeSpec): ToSpecResult<RouterNodeSpec> {
  const warnings: string[] = [];
  const spec: RouterNodeSpec = { kind: 'router' };
  const interfaces: NonNullable<RouterNodeSpec['interfaces']> = {};
  for (const i of m.interfaces) {
    if (i.parent !== null && i.vlan === null) {
      if (i.ip || i.description) warnings.push(`${i.name} has no encapsulation dot1Q: not saved`);
      continue;
    }
    const d: NonNullable<RouterNodeSpec['interfaces']>[string] = {};
    if (i.network !== undefined) d.network = i.network;
    if (i.parent !== null) d.vlan = i.vlan!;
    if (i.ip) {
      const baseIp = base?.interfaces?.[i.name]?.ip;
      const same = baseIp !== undefined && (() => {
        const c = parseCidr(baseIp);
        return c.ok && c.value.ip === i.ip!.ip && c.value.prefix === i.ip!.prefix;
      })();
      d.ip = same ? baseIp : formatAddr(i.ip);
    }
    if (i.mac !== undefined) d.mac = i.mac;
    if (i.shutdown) d.shutdown = true;
    if (i.aclIn) d['acl-in'] = i.aclIn;
    if (i.aclOut) d['acl-out'] = i.aclOut;
    if (i.description !== null) {
      if (routerIfaceKeys.has('description')) (d as Record<string, unknown>)['description'] = i.description;
      else warnings.push(`${i.name}: description "${i.description}" is not saved (lab.yaml has no interface descriptions)`);
    }
    // A port beyond the default four exists because the file declares it, even with nothing set.
    if (Object.keys(d).length > 0 || (i.parent === null && !LAB_DEFAULTS.routerInterfaces.includes(i.name))) interfaces[i.name] = d;
  }
  if (Object.keys(interfaces).length) spec.interfaces = interfaces;

  const routes: NonNullable<RouterNodeSpec['routes']> = [];
  for (const r of m.routes) {
    if (r.via === null) {
      warnings.push(`ip route ${ip4ToString(r.prefix.ip)}/${r.prefix.prefix} ${r.iface}: a route without a next hop is not saved (lab.yaml routes need via:)`);
      continue;
    }
    routes.push({ to: formatAddr(r.prefix), via: ip4ToString(r.via), ...(r.iface !== null ? { interface: r.iface } : {}), ...(r.distance !== null ? { distance: r.distance } : {}) });
  }
  if (routes.length) spec.routes = routes;

  const pools: DhcpPoolSpec[] = [];
  const usedExclusions = new Set<number>();
  m.pools.forEach((p) => {
    if (p.network === null) {
      warnings.push(`ip dhcp pool ${p.name} has no network: not saved`);
      return;
    }
    const served = m.interfaces.find((i) => i.ip !== null && sameSubnet(i.ip, p.network!) && (i.parent === null || i.vlan !== null));
    // A pool the file left unnamed keeps no name: its default name is the one it has.
    const basePools = base?.['dhcp-server']?.pools ?? [];
    const unnamed = basePools.some((b, j) => b.name === undefined && `pool${j + 1}` === p.name);
    const pool: DhcpPoolSpec = unnamed ? {} : { name: p.name };
    if (served) pool.interface = served.name;
    else pool.network = `${ip4ToString(networkOf(p.network))}/${p.network.prefix}`;
    if (p.range) pool.range = `${ip4ToString(p.range.start)}-${ip4ToString(p.range.end)}`;
    if (p.gateways.length) pool.gateway = ip4ToString(p.gateways[0]!);
    if (p.gateways.length > 1) warnings.push(`ip dhcp pool ${p.name}: only the first default-router is saved`);
    if (p.dns.length) pool.dns = p.dns.map(ip4ToString);
    if (p.leaseNs !== null) pool.lease = p.leaseText !== undefined && ok(parseDuration(p.leaseText)) === p.leaseNs ? p.leaseText : formatDuration(p.leaseNs);
    if (p.domain) warnings.push(`ip dhcp pool ${p.name}: domain-name is not saved`);
    if (p.reservations.length) pool.reservations = p.reservations.map((r) => ({ ...r }));
    const mask = prefixToMask(p.network.prefix);
    const net = networkOf(p.network);
    const excluded: string[] = [];
    m.excluded.forEach((e, k) => {
      if (((e.start & mask) >>> 0) !== net || ((e.end & mask) >>> 0) !== net) return;
      usedExclusions.add(k);
      excluded.push(e.start === e.end ? ip4ToString(e.start) : `${ip4ToString(e.start)}-${ip4ToString(e.end)}`);
    });
    if (excluded.length) pool.excluded = excluded;
    pools.push(pool);
  });
  m.excluded.forEach((e, k) => {
    if (!usedExclusions.has(k)) warnings.push(`ip dhcp excluded-address ${ip4ToString(e.start)}${e.end !== e.start ? ` ${ip4ToString(e.end)}` : ''} is in no pool's network: not saved`);
  });
  if (pools.length) spec['dhcp-server'] = { pools };

  const relay: Record<string, string> = {};
  for (const i of m.interfaces) {
    if (i.helpers.length === 0) continue;
    relay[i.name] = ip4ToString(i.helpers[0]!);
    if (i.helpers.length > 1) warnings.push(`${i.name}: only the first ip helper-address is saved`);
  }
  if (Object.keys(relay).length) spec['dhcp-relay'] = relay;

  if (m.acls.length) spec.acls = Object.fromEntries(m.acls.filter((a) => a.rules.length > 0).map((a) => [a.name, [...a.rules]]));
  if (spec.acls && Object.keys(spec.acls).length === 0) delete spec.acls;
  for (const i of m.interfaces) {
    for (const key of ['acl-in', 'acl-out'] as const) {
      const name = spec.interfaces?.[i.name]?.[key];
      if (name !== undefined && !spec.acls?.[name]) {
        warnings.push(`${i.name}: ip access-group ${name} names no access list: not saved`);
        delete spec.interfaces![i.name]![key];
      }
    }
  }

  const nat = natSpec(m, warnings, base);
  if (nat) spec.nat = nat;
  if (m.extra.ui) spec.ui = m.extra.ui;
  if (m.extra.console !== undefined) spec.console = m.extra.console;
  return { spec, warnings };
}

/** The file's NAT from IOS's pieces; warnings for pieces it cannot hold. */
export function natSpec(m: RouterModel, warnings: string[], base?: RouterNodeSpec): RouterNodeSpec['nat'] {
  // The file's order first, so that saving an unchanged NAT rewrites nothing.
  const marked = m.interfaces.filter((i) => i.natInside).map((i) => i.name);
  const inside = [...(base?.nat?.inside ?? []).filter((n) => marked.includes(n)), ...marked.filter((n) => !(base?.nat?.inside ?? []).includes(n))];
  const outsides = m.interfaces.filter((i) => i.natOutside).map((i) => i.name);
  if (m.natOverload === null && m.natStatic.length === 0) return undefined;
  let outside: string | undefined;
  if (m.natOverload) {
    if (!outsides.includes(m.natOverload.iface)) {
      warnings.push(`ip nat inside source ... interface ${m.natOverload.iface}: that interface is not ip nat outside, so NAT is off`);
      return undefined;
    }
    outside = m.natOverload.iface;
    if (m.natOverload.list !== NAT_LIST_DEFAULT) warnings.push(`ip nat inside source list ${m.natOverload.list}: lab.yaml keeps no list (wirelab translates everything from the inside interfaces)`);
  } else {
    if (outsides.length !== 1) {
      warnings.push('static NAT needs exactly one ip nat outside interface: not saved');
      return undefined;
    }
    outside = outsides[0];
  }
  if (outsides.length > 1) warnings.push(`ip nat outside on ${outsides.filter((o) => o !== outside).join(', ')}: lab.yaml has one outside interface`);
  const overload = m.natOverload !== null;
  return {
    inside,
    outside: outside!,
    ...(overload && base?.nat?.overload === undefined ? {} : { overload }),
    ...(m.natStatic.length ? { static: m.natStatic.map((s) => ({ inside: ip4ToString(s.inside), outside: ip4ToString(s.outside) })) } : {}),
  };
}

// ------------------------------------------------------------------ switch

function switchPort(name: string): SwitchPortModel {
  return { name, mode: 'access', accessVlan: 1, allowed: 'all', native: 1, shutdown: false, description: null };
}

export function blankSwitch(hostname: string, ports: number = LAB_DEFAULTS.switchPorts, portsExplicit = false): SwitchModel {
  return {
    kind: 'switch',
    hostname,
    ports,
    portsExplicit,
    stp: LAB_DEFAULTS.stp,
    stpText: undefined,
    priority: LAB_DEFAULTS.stpPriority,
    interfaces: Array.from({ length: ports }, (_, i) => switchPort(`e${i}`)),
    vlans: new Map([[1, defaultVlanName(1)]]),
    extra: {},
  };
}

/** The VLANs ports use join the VLAN database, as IOS creates an access VLAN on first use. */
export function addUsedVlans(m: SwitchModel): void {
  const add = (v: number) => {
    if (!m.vlans.has(v)) m.vlans.set(v, defaultVlanName(v));
  };
  for (const p of m.interfaces) {
    if (p.mode === 'access') add(p.accessVlan);
    else {
      add(p.native);
      if (p.allowed !== 'all') for (const v of p.allowed) add(v);
    }
  }
  m.vlans = new Map([...m.vlans].sort((a, b) => a[0] - b[0]));
}

export function switchFromSpec(hostname: string, spec: SwitchNodeSpec): SwitchModel {
  const m = blankSwitch(hostname, spec.ports ?? LAB_DEFAULTS.switchPorts, spec.ports !== undefined);
  m.stp = spec.stp === false ? 'off' : spec.stp === 'stp' ? 'stp' : 'rstp';
  m.stpText = spec.stp;
  m.priority = spec['stp-priority'] ?? LAB_DEFAULTS.stpPriority;
  for (const [name, d] of Object.entries(spec.interfaces ?? {})) {
    const p = m.interfaces.find((x) => x.name === name);
    if (!p) continue;
    p.mode = d.mode ?? 'access';
    if (d.vlan !== undefined) p.accessVlan = d.vlan;
    if (d.allowed !== undefined) p.allowed = d.allowed === 'all' ? 'all' : [...new Set(d.allowed)].sort((a, b) => a - b);
    if (d.native !== undefined) p.native = d.native;
    p.shutdown = d.shutdown ?? false;
    const desc = (d as { description?: string }).description;
    if (desc !== undefined) p.description = desc;
  }
  const vlans = (spec as { vlans?: Record<string, { name?: string }> }).vlans;
  if (vlans) for (const [id, v] of Object.entries(vlans)) m.vlans.set(Number(id), v.name ?? defaultVlanName(Number(id)));
  addUsedVlans(m);
  m.extra = { ...(spec.ui ? { ui: spec.ui } : {}), ...(spec.console !== undefined ? { console: spec.console } : {}) };
  return m;
}

export function switchToSpec(m: SwitchModel, base?: SwitchNodeSpec): ToSpecResult<SwitchNodeSpec> {
  const warnings: string[] = [];
  const spec: SwitchNodeSpec = { kind: 'switch' };
  if (m.portsExplicit) spec.ports = m.ports;
  const baseStp = base?.stp === false ? 'off' : base?.stp === 'stp' ? 'stp' : 'rstp';
  if (base !== undefined && baseStp === m.stp) {
    if (base.stp !== undefined) spec.stp = base.stp;
  } else if (m.stp !== LAB_DEFAULTS.stp) spec.stp = m.stp === 'off' ? false : 'stp';
  if (m.priority !== LAB_DEFAULTS.stpPriority) spec['stp-priority'] = m.priority;
  const interfaces: NonNullable<SwitchNodeSpec['interfaces']> = {};
  for (const p of m.interfaces) {
    const d: NonNullable<SwitchNodeSpec['interfaces']>[string] = {};
    const baseMode = base?.interfaces?.[p.name]?.mode;
    if (p.mode === 'trunk') {
      d.mode = 'trunk';
      if (p.allowed !== 'all') d.allowed = [...p.allowed];
      if (p.native !== 1) d.native = p.native;
    } else if (p.accessVlan !== 1 || baseMode === 'access') {
      d.mode = 'access';
      if (p.accessVlan !== 1) d.vlan = p.accessVlan;
    }
    if (p.shutdown) d.shutdown = true;
    if (p.description !== null) {
      if (switchIfaceKeys.has('description')) (d as Record<string, unknown>)['description'] = p.description;
      else warnings.push(`${p.name}: description "${p.description}" is not saved (lab.yaml has no interface descriptions)`);
    }
    if (Object.keys(d).length > 0) interfaces[p.name] = d;
  }
  if (Object.keys(interfaces).length) spec.interfaces = interfaces;
  const named = [...m.vlans].filter(([v, n]) => n !== defaultVlanName(v));
  if (named.length) {
    if (switchNodeKeys.has('vlans')) (spec as Record<string, unknown>)['vlans'] = Object.fromEntries(named.map(([v, n]) => [String(v), { name: n }]));
    else warnings.push(`VLAN names (${named.map(([v, n]) => `${v} ${n}`).join(', ')}) are not saved (lab.yaml has no VLAN names)`);
  }
  if (m.extra.ui) spec.ui = m.extra.ui;
  if (m.extra.console !== undefined) spec.console = m.extra.console;
  return { spec, warnings };
}
