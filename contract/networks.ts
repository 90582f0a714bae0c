/**
 * Live status of the things that reach beyond the lab: a network's address plan, DHCP leases,
 * NAT translations and host adapter (GET .../networks/{network}/status), and a cloud node's or
 * bridged network's real-world endpoint (GET .../nodes/{node}/endpoint).
 */
import { z } from 'zod';
import type { GatewayCounters } from '../devices/network/index.js';
import { NETWORK_TYPES } from './labs.js';

const count = (description: string) => z.number().meta({ description });

export const ENDPOINT_DROP_REASONS = ['runt', 'oversized', 'badSource', 'congested', 'down', 'txErrors', 'rxErrors'] as const;

export const EndpointStatusSchema = z
  .strictObject({
    type: z.enum(['udp', 'tap', 'nic']),
    endpoint: z.string().meta({ description: 'Where frames go: "udp 127.0.0.1:20001 -> 127.0.0.1:20002", "tap wl0 (netns red)", "nic eth1"' }),
    state: z.enum(['stopped', 'starting', 'running', 'failed']),
    error: z.string().nullable().meta({ description: 'Why the endpoint refused to start or stopped working (a missing privilege, a port in use); null while all is well' }),
    counters: z.strictObject({
      framesIn: count('Frames from outside that entered the lab'),
      bytesIn: z.number(),
      framesOut: count('Frames the lab sent out'),
      bytesOut: z.number(),
      paddedIn: count('Frames from outside shorter than 60 bytes, padded before entering the lab'),
      drops: z.strictObject({
        runt: count('Inbound, shorter than an Ethernet header (14 bytes)'),
        oversized: count('Inbound, longer than the largest frame accepted (1522 bytes by default)'),
        badSource: count('Inbound, with a group (multicast) source MAC'),
        congested: count('Inbound, while the lab was too busy to queue more frames'),
        down: count('Either way, while the endpoint was not running'),
        txErrors: count('Outbound, refused by the kernel (peer gone, queue full, interface down)'),
        rxErrors: count('Inbound, reading from the socket or device failed'),
      } satisfies Record<(typeof ENDPOINT_DROP_REASONS)[number], z.ZodNumber>),
    }),
  })
  .meta({ description: 'A real-world endpoint (cloud node, bridged network uplink): its state and counters' });

/** The NAT gateway's (and host-socket adapter's) counters. */
export const GATEWAY_COUNTERS = [
  'tcpOpened', 'tcpRefused', 'tcpUnreachable', 'tcpTableFull', 'tcpTimedOut', 'udpDatagramsOut', 'udpDatagramsIn', 'udpEvicted',
  'udpExpired', 'dnsQueries', 'dnsAnswers', 'dnsFailed', 'icmpEchoRequests', 'icmpEchoReplies', 'icmpUnreachable', 'icmpExpired',
  'icmpEvicted', 'icmpNotRelayed', 'refused', 'malformed', 'inboxDrops',
] as const satisfies readonly (keyof GatewayCounters)[];
const GatewayCountersSchema = z.strictObject(Object.fromEntries(GATEWAY_COUNTERS.map((k) => [k, z.number()])) as Record<(typeof GATEWAY_COUNTERS)[number], z.ZodNumber>);

export const GatewayStatusSchema = z.strictObject({
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
    z.strictObject({
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
    z.strictObject({
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
      z.strictObject({
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
    z.strictObject({
      proto: z.enum(['tcp', 'udp']),
      host: z.string(),
      guest: z.string(),
      state: z.enum(['stopped', 'listening', 'failed']),
      error: z.string().nullable(),
      accepted: z.number(),
    }),
  ),
  counters: GatewayCountersSchema,
});

export const NetworkStatusSchema = z.strictObject({
  name: z.string(),
  type: z.enum(NETWORK_TYPES),
  running: z.boolean(),
  plan: z
    .strictObject({
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
    .strictObject({
      leases: z.array(z.strictObject({ ip: z.string(), mac: z.string(), hostname: z.string(), client: z.string(), expiresInS: z.number(), type: z.enum(['automatic', 'manual']) })),
      size: z.number(),
      leased: z.number(),
      exhausted: z.number(),
    })
    .nullable(),
  nat: GatewayStatusSchema.nullable(),
  hostAdapter: z
    .strictObject({
      mode: z.enum(['host-sockets', 'tap']),
      gateway: GatewayStatusSchema.nullable(),
      tap: z.strictObject({ endpoint: z.string(), state: z.string(), error: z.string().nullable(), counters: z.record(z.string(), z.unknown()) }).nullable(),
    })
    .nullable(),
  uplink: EndpointStatusSchema.optional().meta({ description: 'Bridged networks only: the real NIC\'s state, error and counters (state stopped while the lab is stopped)' }),
});

export type EndpointDropReason = (typeof ENDPOINT_DROP_REASONS)[number];
export type EndpointStatusView = z.infer<typeof EndpointStatusSchema>;
export type GatewayStatusView = z.infer<typeof GatewayStatusSchema>;
export type NetworkStatusView = z.infer<typeof NetworkStatusSchema>;
