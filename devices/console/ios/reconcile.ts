/**
 * Brings a live router or switch from one running configuration to the next: only what changed
 * is touched, with the device's own configuration methods, so learned state (ARP, MAC tables,
 * DHCP leases, NAT sessions where NAT did not change) survives a configuration command.
 */
import type { Router, RouterAddressRange, RouterDhcpPoolConfig, RouterNatConfig } from '../../router/index.js';
import type { Switch } from '../../switch/index.js';
import { type Ip4, type Mac, ip4ToString, parseIp4, parseMac } from '../../wire/bytes.js';
import { type RouterModel, type SwitchModel, formatAddr, natSpec, networkOf, sameSubnet } from './model.js';

const ip = ip4ToString;
const json = (v: unknown) => JSON.stringify(v);

/** A reservation keeps the file's text (the running configuration is the file's shape); the device takes values. */
function reservationIp(text: string): Ip4 {
  const v = parseIp4(text);
  if (v === null) throw new Error(`dhcp reservation: ${JSON.stringify(text)} is not an IPv4 address`);
  return v;
}
function reservationMac(text: string): Mac {
  const v = parseMac(text);
  if (v === null) throw new Error(`dhcp reservation: ${JSON.stringify(text)} is not a MAC address`);
  return v;
}

/** The DHCP server's pools as the device takes them. */
export function devicePools(m: RouterModel): RouterDhcpPoolConfig[] {
  const out: RouterDhcpPoolConfig[] = [];
  for (const p of m.pools) {
    if (p.network === null) continue;
    const served = m.interfaces.find((i) => i.ip !== null && sameSubnet(i.ip, p.network!) && (i.parent === null || i.vlan !== null));
    const net = networkOf(p.network);
    const mask = p.network.prefix === 0 ? 0 : (0xffffffff << (32 - p.network.prefix)) >>> 0;
    const excluded: RouterAddressRange[] = m.excluded
      .filter((e) => ((e.start & mask) >>> 0) === net && ((e.end & mask) >>> 0) === net)
      .map((e) => ({ start: e.start, end: e.end }));
    for (const g of p.gateways.slice(0, 1)) excluded.push({ start: g, end: g });
    out.push({
      name: p.name,
      ...(served ? { interface: served.name } : { network: { ip: net, prefix: p.network.prefix } }),
      ...(p.range ? { range: { start: p.range.start, end: p.range.end } } : {}),
      excluded,
      ...(p.gateways.length ? { gateway: p.gateways[0]! } : {}),
      dns: [...p.dns],
      ...(p.domain ? { domain: p.domain } : {}),
      ...(p.leaseNs !== null ? { leaseNs: p.leaseNs } : {}),
      reservations: p.reservations.map((r) => ({
        ip: reservationIp(r.ip),
        ...(r.mac !== undefined ? { mac: reservationMac(r.mac) } : {}),
        ...(r.node !== undefined ? { node: r.node } : {}),
      })),
    });
  }
  return out;
}

export function deviceRelay(m: RouterModel): Record<string, Ip4[]> {
  const out: Record<string, Ip4[]> = {};
  for (const i of m.interfaces) if (i.helpers.length && (i.parent === null || i.vlan !== null)) out[i.name] = [...i.helpers];
  return out;
}

export function deviceNat(m: RouterModel): RouterNatConfig | null {
  const spec = natSpec(m, []);
  if (!spec) return null;
  return { inside: spec.inside, outside: spec.outside, overload: spec.overload ?? true, static: m.natStatic.map((s) => ({ inside: s.inside, outside: s.outside })) };
}

/** Whether the interface exists on the device (a sub-interface exists once it has its VLAN). */
function onDevice(r: Router, name: string): boolean {
  return r.stack.interface(name) !== undefined;
}

export function reconcileRouter(r: Router, prev: RouterModel, next: RouterModel): void {
  const before = new Map(prev.interfaces.map((i) => [i.name, i] as const));
  // Sub-interfaces first: everything else may refer to them.
  for (const i of next.interfaces) {
    if (i.parent !== null && i.vlan !== null && !onDevice(r, i.name)) r.addSubinterface(i.name, i.vlan);
  }
  for (const i of next.interfaces) {
    if (!onDevice(r, i.name)) continue;
    const p = before.get(i.name);
    const wasIp = p?.ip ? formatAddr(p.ip) : null;
    const nowIp = i.ip ? formatAddr(i.ip) : null;
    if (wasIp !== nowIp || p === undefined) r.setAddress(i.name, i.ip ? { ip: i.ip.ip, prefix: i.ip.prefix } : null);
    if ((p?.shutdown ?? false) !== i.shutdown || p === undefined) r.setShutdown(i.name, i.shutdown);
    if (i.parent === null && (p?.mac ?? null) !== (i.mac ?? null)) {
      const iface = r.stack.interface(i.name)!;
      const mac = i.mac !== undefined ? parseMac(i.mac) : null;
      if (mac !== null) for (const s of r.stack.interfaces) if (s.port === iface.port) s.mac = mac;
    }
  }
  // A deleted sub-interface keeps its slot on the device: it goes down and forgets its address.
  for (const p of prev.interfaces) {
    if (p.parent === null || next.interfaces.some((i) => i.name === p.name) || !onDevice(r, p.name)) continue;
    r.setAddress(p.name, null);
    r.setShutdown(p.name, true);
  }

  const prevAcls = new Map(prev.acls.map((a) => [a.name, a.rules] as const));
  const nextAcls = new Map(next.acls.filter((a) => a.rules.length > 0).map((a) => [a.name, a.rules] as const));
  for (const [name, rules] of nextAcls) if (json(prevAcls.get(name)) !== json(rules) || !r.acls.has(name)) r.setAcl(name, rules);
  for (const name of [...r.acls.keys()]) if (!nextAcls.has(name)) r.removeAcl(name);
  for (const i of next.interfaces) {
    if (!onDevice(r, i.name)) continue;
    for (const dir of ['in', 'out'] as const) {
      const want = dir === 'in' ? i.aclIn : i.aclOut;
      r.setAccessGroup(i.name, dir, want !== null && nextAcls.has(want) ? want : null);
    }
  }

  const key = (x: RouterModel['routes'][number]) => json([x.prefix.ip, x.prefix.prefix, x.via, x.iface, x.distance]);
  const nextKeys = new Set(next.routes.map(key));
  const prevKeys = new Set(prev.routes.map(key));
  for (const x of prev.routes) {
    if (nextKeys.has(key(x))) continue;
    const iface = x.iface !== null ? r.stack.interface(x.iface) : undefined;
    r.stack.removeRoute(networkOf(x.prefix), x.prefix.prefix, x.via ?? undefined, iface?.index);
  }
  for (const x of next.routes) {
    if (prevKeys.has(key(x)) && r.routes().some((rt) => rt.prefix === `${ip(networkOf(x.prefix))}/${x.prefix.prefix}`)) continue;
    if (x.iface !== null && !onDevice(r, x.iface)) continue;
    r.addRoute({
      to: { ip: networkOf(x.prefix), prefix: x.prefix.prefix },
      ...(x.via !== null ? { via: x.via } : {}),
      ...(x.iface !== null ? { iface: x.iface } : {}),
      ...(x.distance !== null ? { distance: x.distance } : {}),
    });
  }

  const pools = devicePools(next);
  const relay = deviceRelay(next);
  if (json(pools) !== json(devicePools(prev)) || json(relay) !== json(deviceRelay(prev)) || json(next.interfaces.map((i) => i.ip)) !== json(prev.interfaces.map((i) => i.ip))) {
    r.reconfigureDhcp(pools, relay);
  }
  const nat = deviceNat(next);
  if (json(nat) !== json(deviceNat(prev))) r.reconfigureNat(nat);
}

export function reconcileSwitch(sw: Switch, prev: SwitchModel, next: SwitchModel): void {
  const before = new Map(prev.interfaces.map((p) => [p.name, p] as const));
  for (const p of next.interfaces) {
    const b = before.get(p.name);
    const vlanCfg = (x: typeof p) => json([x.mode, x.accessVlan, x.allowed, x.native]);
    if (!b || vlanCfg(b) !== vlanCfg(p)) {
      sw.configurePort(p.name, { mode: p.mode, vlan: p.accessVlan, native: p.native, ...(p.allowed !== 'all' ? { allowed: p.allowed } : { allowed: range1to4094() }) });
    }
    if (!b || b.shutdown !== p.shutdown) sw.setPortUp(p.name, !p.shutdown);
  }
  if (prev.stp !== next.stp || prev.priority !== next.priority) {
    sw.setSpanningTree({ enabled: next.stp !== 'off', version: next.stp === 'stp' ? 'stp' : 'rstp', priority: next.priority });
  }
}

let allVlans: number[] | null = null;
function range1to4094(): number[] {
  allVlans ??= Array.from({ length: 4094 }, (_, i) => i + 1);
  return allVlans;
}
