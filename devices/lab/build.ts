/**
 * Turns the normalized model of one node or network into a device. One function per kind, and
 * nothing else: cabling, booting and diffing are the runtime's.
 */
import type { Device } from '../device.js';
import type { Engine } from '../engine/engine.js';
import { Host, type HostConfig } from '../host/index.js';
import { Hub } from '../hub/index.js';
import { Router, type RouterConfig } from '../router/index.js';
import { Switch, type SwitchPortConfig } from '../switch/index.js';
import { stableMac } from '../device.js';
import { ip4ToString } from '../wire/bytes.js';
import type { Lab, LabBridged, LabCloud, LabHost, LabNode, LabRouter, LabSwitch } from './schema.js';
import { formatCidr, formatIpRange, formatSubnet } from './units.js';

/** Makes the device of a cloud node: its endpoint does I/O, so the server supplies it. */
export type CloudFactory = (engine: Engine, lab: Lab, node: LabCloud) => Device;
/** Makes the device that carries a bridged network's frames to and from its real NIC (server-supplied). */
export type BridgeFactory = (engine: Engine, lab: Lab, net: LabBridged) => Device;

export class BuildError extends Error {}

const ip = ip4ToString;

export function buildHost(engine: Engine, lab: Lab, n: LabHost): Host {
  const interfaces: NonNullable<HostConfig['interfaces']> = {};
  for (const i of n.interfaces) {
    interfaces[i.name] = {
      mac: i.mac,
      ...(i.ip.mode === 'dhcp' ? { ip: 'dhcp' } : i.ip.mode === 'static' ? { ip: formatCidr(i.ip.cidr) } : {}),
      ...(i.gateway !== undefined ? { gateway: ip(i.gateway) } : {}),
    };
  }
  const services: NonNullable<HostConfig['services']> = {};
  if (n.services.udpEcho) services['udp-echo'] = { port: n.services.udpEcho.port };
  if (n.services.tcpEcho) services['tcp-echo'] = { port: n.services.tcpEcho.port };
  if (n.services.http) services.http = { port: n.services.http.port, body: n.services.http.body };
  if (n.services.dns) {
    const records: Record<string, string[]> = {};
    for (const r of n.services.dns.records) (records[r.name] ??= []).push(ip(r.ip));
    services.dns = { port: n.services.dns.port, records };
  }
  return new Host(engine, { name: n.name, lab: lab.name, interfaces, dns: n.dns.map(ip), services });
}

export function buildSwitch(engine: Engine, lab: Lab, n: LabSwitch): Switch {
  const interfaces: Record<string, SwitchPortConfig> = {};
  for (const p of n.interfaces) {
    interfaces[p.name] = {
      mode: p.mode,
      vlan: p.vlan,
      native: p.native,
      ...(p.allowed !== 'all' ? { allowed: p.allowed } : {}),
      up: !p.shutdown,
    };
  }
  return new Switch(engine, {
    name: n.name,
    ports: n.interfaces.map((p) => p.name),
    interfaces,
    stp: n.stp !== 'off',
    stpVersion: n.stp === 'stp' ? 'stp' : 'rstp',
    stpPriority: n.stpPriority,
    mac: stableMac(lab.name, n.name, 'bridge'),
  });
}

export function routerConfig(lab: Lab, n: LabRouter): RouterConfig {
  return {
    name: n.name,
    lab: lab.name,
    interfaces: [
      ...n.interfaces.map((i) => ({ name: i.name, mac: macText(i.mac), ...(i.ip ? { ip: formatCidr(i.ip) } : {}), shutdown: i.shutdown, ...acl(i) })),
      ...n.subinterfaces.map((s) => ({ name: s.name, vlan: s.vlan, mac: macText(s.mac), ...(s.ip ? { ip: formatCidr(s.ip) } : {}), shutdown: s.shutdown, ...acl(s) })),
    ],
    routes: n.routes.map((r) => ({ to: formatSubnet(r.to), via: ip(r.via), ...(r.iface !== undefined ? { iface: r.iface } : {}), distance: r.distance })),
    acls: n.acls,
    ...(n.dhcpPools.length
      ? {
          dhcpServer: {
            pools: n.dhcpPools.map((p) => ({
              name: p.name,
              ...(p.interface !== undefined ? { interface: p.interface } : { network: formatSubnet(p.subnet) }),
              range: formatIpRange(p.range),
              excluded: p.excluded.map(formatIpRange),
              ...(p.gateway !== undefined ? { gateway: ip(p.gateway) } : {}),
              dns: p.dns.map(ip),
              lease: Math.round(p.leaseNs / 1e9),
              reservations: p.reservations.map((r) => ({ ip: ip(r.ip), mac: macText(r.mac), ...(r.node !== undefined ? { node: r.node } : {}) })),
            })),
          },
        }
      : {}),
    ...(n.dhcpRelays.length ? { dhcpRelay: Object.fromEntries(n.dhcpRelays.map((r) => [r.iface, ip(r.server)])) } : {}),
    ...(n.nat ? { nat: { inside: n.nat.inside, outside: n.nat.outside, overload: n.nat.overload, static: n.nat.static.map((s) => ({ inside: ip(s.inside), outside: ip(s.outside) })) } } : {}),
  };
}

function acl(i: { aclIn: string | undefined; aclOut: string | undefined }): { aclIn?: string; aclOut?: string } {
  return { ...(i.aclIn !== undefined ? { aclIn: i.aclIn } : {}), ...(i.aclOut !== undefined ? { aclOut: i.aclOut } : {}) };
}

function macText(mac: number): string {
  const hex = mac.toString(16).padStart(12, '0');
  return hex.match(/../g)!.join(':');
}

export function buildNode(engine: Engine, lab: Lab, n: LabNode, cloudFactory?: CloudFactory): Device {
  switch (n.kind) {
    case 'host':
      return buildHost(engine, lab, n);
    case 'switch':
      return buildSwitch(engine, lab, n);
    case 'router':
      return new Router(engine, routerConfig(lab, n));
    case 'hub':
      return new Hub(engine, { name: n.name, ports: n.interfaces.map((i) => i.name) });
    case 'cloud':
      if (!cloudFactory) throw new BuildError(`node ${n.name}: cloud endpoints (${n.endpoint.type}) need the wirelab server or CLI to reach the real world`);
      return cloudFactory(engine, lab, n);
  }
}

// Networks (switch, DHCP .254, NAT gateway .2, host adapter .1) are built in devices/network.
export { BRIDGE_UPLINK_PORT, buildNetwork, networkPortName, type NetworkBuildOptions, type NetworkParts } from '../network/index.js';
