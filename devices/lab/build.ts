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
import type { Ip4 } from '../wire/bytes.js';
import type { Lab, LabBridged, LabCloud, LabHost, LabNode, LabRouter, LabSwitch } from './schema.js';

/** Makes the device of a cloud node: its endpoint does I/O, so the server supplies it. */
export type CloudFactory = (engine: Engine, lab: Lab, node: LabCloud) => Device;
/** Makes the device that carries a bridged network's frames to and from its real NIC (server-supplied). */
export type BridgeFactory = (engine: Engine, lab: Lab, net: LabBridged) => Device;

export class BuildError extends Error {}

export function buildHost(engine: Engine, lab: Lab, n: LabHost): Host {
  const interfaces: NonNullable<HostConfig['interfaces']> = {};
  for (const i of n.interfaces) {
    interfaces[i.name] = {
      mac: i.mac,
      ...(i.ip.mode === 'dhcp' ? { ip: 'dhcp' as const } : i.ip.mode === 'static' ? { ip: i.ip.cidr } : {}),
      ...(i.gateway !== undefined ? { gateway: i.gateway } : {}),
    };
  }
  const services: NonNullable<HostConfig['services']> = {};
  if (n.services.udpEcho) services['udp-echo'] = { port: n.services.udpEcho.port };
  if (n.services.tcpEcho) services['tcp-echo'] = { port: n.services.tcpEcho.port };
  if (n.services.http) services.http = { port: n.services.http.port, body: n.services.http.body };
  if (n.services.dns) {
    // A Map: a record named `constructor` must not find Object's (a plain object, as snapshots expect).
    const records = new Map<string, Ip4[]>();
    for (const r of n.services.dns.records) {
      const ips = records.get(r.name);
      if (ips) ips.push(r.ip);
      else records.set(r.name, [r.ip]);
    }
    services.dns = { port: n.services.dns.port, records: Object.fromEntries(records) };
  }
  return new Host(engine, { name: n.name, lab: lab.name, interfaces, dns: n.dns, services });
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
      ...n.interfaces.map((i) => ({ name: i.name, mac: i.mac, ...(i.ip ? { ip: i.ip } : {}), shutdown: i.shutdown, ...acl(i) })),
      ...n.subinterfaces.map((s) => ({ name: s.name, vlan: s.vlan, mac: s.mac, ...(s.ip ? { ip: s.ip } : {}), shutdown: s.shutdown, ...acl(s) })),
    ],
    routes: n.routes.map((r) => ({ to: r.to, via: r.via, ...(r.iface !== undefined ? { iface: r.iface } : {}), distance: r.distance })),
    acls: n.acls,
    ...(n.dhcpPools.length
      ? {
          dhcpServer: {
            pools: n.dhcpPools.map((p) => ({
              name: p.name,
              ...(p.interface !== undefined ? { interface: p.interface } : { network: p.subnet }),
              range: p.range,
              excluded: p.excluded,
              ...(p.gateway !== undefined ? { gateway: p.gateway } : {}),
              dns: p.dns,
              leaseNs: p.leaseNs,
              reservations: p.reservations.map((r) => ({ ip: r.ip, mac: r.mac, ...(r.node !== undefined ? { node: r.node } : {}) })),
            })),
          },
        }
      : {}),
    ...(n.dhcpRelays.length ? { dhcpRelay: Object.fromEntries(n.dhcpRelays.map((r) => [r.iface, [r.server]])) } : {}),
    ...(n.nat ? { nat: { inside: n.nat.inside, outside: n.nat.outside, overload: n.nat.overload, static: n.nat.static } } : {}),
  };
}

function acl(i: { aclIn: string | undefined; aclOut: string | undefined }): { aclIn?: string; aclOut?: string } {
  return { ...(i.aclIn !== undefined ? { aclIn: i.aclIn } : {}), ...(i.aclOut !== undefined ? { aclOut: i.aclOut } : {}) };
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
export { BRIDGE_UPLINK_PORT, buildNetwork, networkPortName, type NetworkBuildOptions, type NetworkParts } from './build-network.js';
