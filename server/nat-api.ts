/**
 * What the Virtual Network Editor shows about a network, live: its address plan, the DHCP
 * server's leases, the NAT gateway's translations (connections, UDP flows and pings relayed
 * through the host's sockets, and how pings leave the host or why they cannot) and port forwards,
 * and the host adapter.
 *
 *   GET /api/v1/labs/{lab}/networks/{network}/status
 *
 * A bridged network's real NIC is its `uplink`, as a cloud node's endpoint is shown.
 * A stopped lab answers with the plan alone (`running: false`, no leases or translations).
 */
import { NetworkStatusSchema, type NetworkStatusView } from '../contract/index.js';
import type { Device } from '../devices/device.js';
import { natGatewayAddress, type NetworkParts } from '../devices/lab/build-network.js';
import type { LabNetwork } from '../devices/lab/schema.js';
import { SocketGateway } from '../devices/network/index.js';
import { ip4ToString } from '../devices/wire/bytes.js';
import { type Route, jsonRoute } from './api.js';
import { bridgedUplinkStatus } from './endpoint-api.js';
import { endpointStatus } from './endpoints/index.js';
import { notFound } from './errors.js';
import type { LabService } from './labs.js';

function plan(net: LabNetwork): NetworkStatusView['plan'] {
  if (net.type !== 'nat' && net.type !== 'host-only') return null;
  const ip = ip4ToString;
  return {
    subnet: `${ip(net.subnet.network)}/${net.subnet.prefix}`,
    hostAdapter: net.hostAdapter === false ? null : ip(net.hostIp),
    hostAdapterMode: net.hostAdapter === 'tap' ? 'tap' : net.hostAdapter ? 'host-sockets' : 'off',
    gateway: net.nat ? ip(natGatewayAddress(net)) : null,
    dhcpServer: net.dhcp.enabled ? ip(net.dhcp.serverIp) : null,
    dhcpRange: net.dhcp.enabled ? `${ip(net.dhcp.range.start)}-${ip(net.dhcp.range.end)}` : null,
    leaseSeconds: net.dhcp.enabled ? Math.round(net.dhcp.leaseNs / 1e9) : null,
    domain: net.dhcp.enabled ? 'localdomain' : null,
  };
}

function adapterView(d: Device | null): NetworkStatusView['hostAdapter'] {
  if (d === null) return null;
  if (d instanceof SocketGateway) return { mode: 'host-sockets', gateway: d.status(), tap: null };
  const e = endpointStatus(d);
  return { mode: 'tap', gateway: null, tap: e ? { endpoint: e.endpoint, state: e.state, error: e.error, counters: e.counters as unknown as Record<string, unknown> } : null };
}

export function networkStatus(labs: LabService, labName: string, network: string): NetworkStatusView {
  const lab = labs.lab(labName);
  const net = lab.networks[network];
  if (!net) throw notFound(`no network named ${JSON.stringify(network)}`, [{ field: 'network', message: 'no such network' }]);
  const rt = labs.runtime(labName);
  // Lease expiries and flow ages are read against the lab's clock, which stands still while an idle real-time lab sleeps.
  rt?.engine.sync();
  const parts: NetworkParts | undefined = rt?.networkParts(network);
  const usage = parts?.dhcp?.dhcpPools()[0];
  return {
    name: network,
    type: net.type,
    running: parts !== undefined,
    plan: plan(net),
    dhcp: parts?.dhcp
      ? {
          leases: parts.dhcp.dhcpBindings().map((b) => ({ ip: b.ip, mac: b.mac, hostname: b.hostname, client: b.client, expiresInS: b.expiresInS, type: b.type })),
          size: usage?.size ?? 0,
          leased: usage?.leased ?? 0,
          exhausted: usage?.exhausted ?? 0,
        }
      : null,
    nat: parts?.nat ? parts.nat.status() : null,
    hostAdapter: parts ? adapterView(parts.hostAdapter) : null,
    ...(net.type === 'bridged' ? { uplink: bridgedUplinkStatus(labs, labName, net) } : {}),
  };
}

/** The routes, for server/api.ts's table. */
export function networkStatusRoutes(labs: LabService): Route[] {
  return [
    jsonRoute({
      method: 'get',
      path: '/labs/{lab}/networks/{network}/status',
      tag: 'networks',
      summary: 'A network\'s address plan, DHCP leases, NAT translations, port forwards and host adapter (live while the lab runs)',
      response: NetworkStatusSchema,
      errors: [404, 409],
      handler: (req) => networkStatus(labs, String(req.params['lab']), String(req.params['network'])),
    }),
  ];
}
