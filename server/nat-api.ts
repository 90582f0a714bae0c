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
import { z } from 'zod';
import type { Device } from '../devices/device.js';
import { natGatewayAddress, type NetworkParts } from '../devices/lab/build-network.js';
import type { LabNetwork } from '../devices/lab/schema.js';
import { SocketGateway, type GatewayCounters } from '../devices/network/index.js';
import { ip4ToString } from '../devices/wire/bytes.js';
import type { Route } from './api.js';
import { EndpointStatusSchema, bridgedUplinkStatus } from './endpoint-api.js';
import { endpointStatus } from './endpoints/index.js';
import { notFound } from './errors.js';
import type { LabService } from './labs.js';

const COUNTERS = [
  'tcpOpened', 'tcpRefused', 'tcpUnreachable', 'tcpTableFull', 'tcpTimedOut', 'udpDatagramsOut', 'udpDatagramsIn', 'udpEvicted',
  'udpExpired', 'dnsQueries', 'dnsAnswers', 'dnsFailed', 'icmpEchoRequests', 'icmpEchoReplies', 'icmpUnreachable', 'icmpExpired',
  'icmpEvicted', 'icmpNotRelayed', 'refused', 'malformed', 'inboxDrops',
] as const satisfies readonly (keyof GatewayCounters)[];
const Counters = z.object(Object.fromEntries(COUNTERS.map((k) => [k, z.number()])) as Record<(typeof COUNTERS)[number], z.ZodNumber>);

const GatewaySchema = z.object({
  mode: z.enum(['nat', 'host']),
  address: z.string(),
  mac: z.string(),
  relaying: z.boolean().meta({ description: 'Host sockets are available (the server always has them); without them nothing is relayed' }),
  icmpRelay: z
    .enum(['datagram', 'raw'])
    .nullable()
    .meta({ description: 'How pings to outside addresses leave the host (NAT gateway): an unprivileged ICMP datagram socket, a raw ICMP socket, or null: not relayed (see icmpRelayError)' }),
  icmpRelayError: z
    .string()
    .nullable()
    .meta({ description: 'Why a NAT gateway relays no ping, e.g. "ICMP needs CAP_NET_RAW or net.ipv4.ping_group_range ..."; null when it does (and for the host adapter)' }),
  dnsUpstream: z.string().nullable().meta({ description: 'Where DNS queries to .2 go: dns-upstream, or the host\'s resolver' }),
  tcp: z.array(
    z.object({
      direction: z.enum(['out', 'in']).meta({ description: 'out: opened by a guest; in: through a port forward' }),
      guest: z.string(),
      peer: z.string().meta({ description: 'The address the guest talks to (the outside address, or .2 for a port forward)' }),
      host: z.string().meta({ description: 'The host side: where the connection goes, or who opened it' }),
      state: z.enum(['connecting', 'handshake', 'open']),
      tcpState: z.string().nullable(),
      bytesToHost: z.number(),
      bytesToGuest: z.number(),
      ageS: z.number(),
      idleS: z.number(),
    }),
  ),
  udp: z.array(
    z.object({
      kind: z.enum(['relay', 'dns', 'forward']),
      guest: z.string(),
      peer: z.string(),
      datagramsToHost: z.number(),
      datagramsToGuest: z.number(),
      ageS: z.number(),
      idleS: z.number(),
    }),
  ),
  icmp: z
    .array(
      z.object({
        guest: z.string().meta({ description: 'The guest\'s address' }),
        peer: z.string().meta({ description: 'The outside address it pings' }),
        ident: z.number().meta({ description: 'The guest\'s echo identifier (the host\'s socket uses its own; replies get this one back)' }),
        requests: z.number(),
        replies: z.number(),
        ageS: z.number(),
        idleS: z.number(),
      }),
    )
    .meta({ description: 'Ping flows relayed through the host: one per guest, destination and identifier, forgotten 30 s after the last echo' }),
  portForwards: z.array(
    z.object({
      proto: z.enum(['tcp', 'udp']),
      host: z.string(),
      guest: z.string(),
      state: z.enum(['stopped', 'listening', 'failed']),
      error: z.string().nullable(),
      accepted: z.number(),
    }),
  ),
  counters: Counters,
});

export const NetworkStatusSchema = z.object({
  name: z.string(),
  type: z.enum(['nat', 'host-only', 'bridged', 'segment']),
  running: z.boolean(),
  plan: z
    .object({
      subnet: z.string(),
      hostAdapter: z.string().nullable().meta({ description: '.1, or null with host-adapter: false' }),
      hostAdapterMode: z.enum(['host-sockets', 'tap', 'off']),
      gateway: z.string().nullable().meta({ description: '.2 on a NAT network (also its DNS server)' }),
      dhcpServer: z.string().nullable(),
      dhcpRange: z.string().nullable(),
      leaseSeconds: z.number().nullable(),
      domain: z.string().nullable(),
    })
    .nullable()
    .meta({ description: 'The VMware address plan; null for bridged networks and segments' }),
  dhcp: z
    .object({
      leases: z.array(z.object({ ip: z.string(), mac: z.string(), hostname: z.string(), client: z.string(), expiresInS: z.number(), type: z.enum(['automatic', 'manual']) })),
      size: z.number(),
      leased: z.number(),
      exhausted: z.number(),
    })
    .nullable(),
  nat: GatewaySchema.nullable(),
  hostAdapter: z
    .object({
      mode: z.enum(['host-sockets', 'tap']),
      gateway: GatewaySchema.nullable(),
      tap: z.object({ endpoint: z.string(), state: z.string(), error: z.string().nullable(), counters: z.record(z.string(), z.unknown()) }).nullable(),
    })
    .nullable(),
  uplink: EndpointStatusSchema.optional().meta({ description: 'Bridged networks only: the real NIC\'s state, error and counters (state stopped while the lab is stopped)' }),
});
export type NetworkStatus = z.infer<typeof NetworkStatusSchema>;

function plan(net: LabNetwork): NetworkStatus['plan'] {
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

function adapterView(d: Device | null): NetworkStatus['hostAdapter'] {
  if (d === null) return null;
  if (d instanceof SocketGateway) return { mode: 'host-sockets', gateway: d.status(), tap: null };
  const e = endpointStatus(d);
  return { mode: 'tap', gateway: null, tap: e ? { endpoint: e.endpoint, state: e.state, error: e.error, counters: e.counters as unknown as Record<string, unknown> } : null };
}

export function networkStatus(labs: LabService, labName: string, network: string): NetworkStatus {
  const lab = labs.lab(labName);
  const net = lab.networks[network];
  if (!net) throw notFound(`no network named ${JSON.stringify(network)}`, [{ field: 'network', message: 'no such network' }]);
  const rt = labs.runtime(labName);
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
    {
      method: 'get',
      path: '/labs/{lab}/networks/{network}/status',
      tag: 'networks',
      summary: 'A network\'s address plan, DHCP leases, NAT translations, port forwards and host adapter (live while the lab runs)',
      response: NetworkStatusSchema,
      errors: [404, 409],
      handler: (req) => networkStatus(labs, String(req.params['lab']), String(req.params['network'])),
    },
  ];
}
