/**
 * VMware-style virtual networks (VMware Workstation's Virtual Network Editor), built from the
 * lab's normalized model by one factory (the devices themselves, switch, DHCP service and
 * gateways, are devices/network's and devices/switch's and know nothing of lab files):
 *
 *   const parts = buildNetwork(engine, lab, lab.networks['vmnet8'], { hostSockets });
 *   // parts.fabric: the switch (a port per attached interface, named `pc1:eth0`)
 *   // parts.services: devices to cable to the fabric port of the same name, then start
 *
 * The address plan is VMware's: the host adapter at .1, the NAT gateway at .2 (also the DNS
 * server), statics .3-.127, the DHCP pool .128-.253, the DHCP server at .254; .1, .2 and .254
 * are never leased. Leases last 30 minutes unless the lab says otherwise.
 * - `nat`: switch + DHCP (.254; router and DNS options .2, domain localdomain) + NAT gateway .2
 *   (TCP, UDP and DNS out through the host's sockets, port forwards in) + host adapter .1.
 * - `host-only`: switch + DHCP (no router option: no way out) + host adapter .1.
 * - `bridged`: switch + the real NIC's endpoint (server-supplied `bridgeFactory`).
 * - `segment`: a bare switch: no DHCP, no host adapter.
 * The host adapter is the host as the lab sees it (TCP and UDP to .1 reach the host's loopback)
 * or, with `host-adapter: tap`, a real TAP device on the host holding .1 (server-supplied
 * `hostAdapterTap`). Networks share nothing, so they are isolated from each other; only the
 * host's own sockets join them to the world.
 */
import type { Device } from '../device.js';
import { stableMac } from '../device.js';
import type { Engine } from '../engine/engine.js';
import { NetworkDhcp } from '../network/dhcp-service.js';
import { SocketGateway } from '../network/gateway.js';
import type { HostSockets } from '../network/host-sockets.js';
import { Switch } from '../switch/index.js';
import type { BridgeFactory } from './build.js';
import type { Lab, LabNetwork, LabVmnet } from './schema.js';

/** vmnetdhcp.conf's max-lease-time: the longest lease a guest may ask for (unless `lease:` is longer). */
const VMWARE_MAX_LEASE_S = 7200;

/** Makes the device that holds .1 on a real TAP on the host (`host-adapter: tap`); server-supplied. */
export type HostAdapterTapFactory = (engine: Engine, lab: Lab, net: LabVmnet) => Device;

export interface NetworkBuildOptions {
  bridgeFactory?: BridgeFactory | undefined;
  /** The host's sockets, for the NAT gateway and the host adapter; without them nothing is relayed. */
  hostSockets?: HostSockets | undefined;
  hostAdapterTap?: HostAdapterTapFactory | undefined;
}

export class NetworkBuildError extends Error {}

export interface NetworkParts {
  fabric: Switch;
  /** The DHCP server at .254 (host-only and NAT networks with DHCP on). */
  dhcp: NetworkDhcp | null;
  /** The NAT gateway at .2 (NAT networks). */
  nat: SocketGateway | null;
  /** What holds .1: the host seen from the lab (a SocketGateway), or a TAP endpoint on the host. */
  hostAdapter: Device | null;
  /** Bridged networks with a bridge factory: the real NIC's endpoint, cabled to the fabric's `nic` port. */
  uplink: Device | null;
  /** The service devices (DHCP, NAT, host adapter), each to be cabled by its port 0 to the fabric port named here. */
  services: { device: Device; port: string }[];
}

/** The fabric port of a bridged network that faces its real NIC. */
export const BRIDGE_UPLINK_PORT = 'nic';
/** Fabric ports of the services. */
export const SERVICE_PORTS = { dhcp: 'dhcp', nat: 'nat', host: 'host' } as const;

export function networkPortName(node: string, iface: string): string {
  return `${node}:${iface}`;
}

/** .2 of a subnet: VMware's NAT gateway, never leased even on a host-only network. */
export function natGatewayAddress(net: LabVmnet): number {
  return (net.subnet.network + 2) >>> 0;
}

export function buildNetwork(engine: Engine, lab: Lab, net: LabNetwork, opts: NetworkBuildOptions = {}): NetworkParts {
  const ports = net.attached.map((a) => networkPortName(a.node, a.iface));
  const services: NetworkParts['services'] = [];
  let dhcp: NetworkDhcp | null = null;
  let nat: SocketGateway | null = null;
  let hostAdapter: Device | null = null;
  let uplink: Device | null = null;
  if (net.type === 'nat' || net.type === 'host-only') {
    if (net.dhcp.enabled) {
      dhcp = dhcpServer(engine, lab, net);
      services.push({ device: dhcp, port: SERVICE_PORTS.dhcp });
    }
    if (net.nat) {
      nat = new SocketGateway(engine, {
        name: `${net.name}-nat`,
        mode: 'nat',
        mac: stableMac(lab.name, net.name, 'nat'),
        ip: net.nat.gatewayIp,
        prefix: net.subnet.prefix,
        hostSockets: opts.hostSockets ?? null,
        dnsUpstream: net.nat.dnsUpstream,
        portForwards: net.nat.portForwards,
      });
      services.push({ device: nat, port: SERVICE_PORTS.nat });
    }
    if (net.hostAdapter === 'tap') {
      if (!opts.hostAdapterTap) {
        throw new NetworkBuildError(`network ${net.name}: host-adapter: tap needs the wirelab server or CLI to make a TAP device on the host`);
      }
      hostAdapter = opts.hostAdapterTap(engine, lab, net);
    } else if (net.hostAdapter) {
      hostAdapter = new SocketGateway(engine, {
        name: `${net.name}-host`,
        mode: 'host',
        mac: stableMac(lab.name, net.name, 'host'),
        ip: net.hostIp,
        prefix: net.subnet.prefix,
        hostSockets: opts.hostSockets ?? null,
      });
    }
    if (hostAdapter) services.push({ device: hostAdapter, port: SERVICE_PORTS.host });
  } else if (net.type === 'bridged' && opts.bridgeFactory) {
    uplink = opts.bridgeFactory(engine, lab, net);
  }
  for (const s of services) ports.push(s.port);
  if (uplink) ports.push(BRIDGE_UPLINK_PORT);
  const fabric = new Switch(engine, {
    name: net.name,
    ports: ports.length ? ports : ['spare'],
    stp: false,
    mac: stableMac(lab.name, net.name, 'bridge'),
  });
  return { fabric, dhcp, nat, hostAdapter, uplink, services };
}

/** VMware's vmnetdhcp at .254: .1, .2 and .254 never leased; NAT networks get router and DNS .2. */
function dhcpServer(engine: Engine, lab: Lab, net: LabVmnet): NetworkDhcp {
  const gateway = net.nat?.gatewayIp;
  const never = [net.hostIp, natGatewayAddress(net), net.dhcp.serverIp];
  return new NetworkDhcp(engine, {
    name: `${net.name}-dhcp`,
    mac: stableMac(lab.name, `${net.name}-dhcp`, 'g0/0'),
    ip: net.dhcp.serverIp,
    prefix: net.subnet.prefix,
    pool: {
      name: net.name,
      network: net.subnet.network,
      prefix: net.subnet.prefix,
      rangeStart: net.dhcp.range.start,
      rangeEnd: net.dhcp.range.end,
      excluded: never.map((ip) => [ip, ip] as const),
      ...(gateway !== undefined ? { gateway, dns: [gateway] } : {}),
      domain: 'localdomain',
      leaseSeconds: Math.round(net.dhcp.leaseNs / 1e9),
      // vmnetdhcp.conf: default-lease-time 1800, max-lease-time 7200.
      maxLeaseSeconds: Math.max(VMWARE_MAX_LEASE_S, Math.round(net.dhcp.leaseNs / 1e9)),
      reservations: net.dhcp.reservations.map((r) => ({ ip: r.ip, mac: r.mac, ...(r.node !== undefined ? { node: r.node } : {}) })),
    },
  });
}
