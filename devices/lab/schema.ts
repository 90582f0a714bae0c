/**
 * The lab file (SPEC section 2) as zod schemas.
 *
 * Two models, on purpose:
 * - `LabFile` (this file's schemas, `z.infer`) is the file's own shape: the strings stay as the
 *   user wrote them (`30m`, `0.5%`, `10.1.0.10/24`) and nothing is defaulted, so a server that
 *   edits a lab (moves a node, adds a link) changes a `LabFile` and writes it back without
 *   inventing keys the user never wrote. Every text value is checked by the same parsers that
 *   the model uses, so a `LabFile` that passes these schemas only lacks the cross-field checks.
 * - `Lab` (below, produced by `validateLab`) is the normalized model the topology builder and
 *   the checks runner read: every default filled in, every value parsed (ns, bps, 0..1, uint32
 *   addresses, 48-bit MACs), interfaces listed per node, links resolved.
 *
 * The per-part schemas (`NodeSchema`, `NetworkSchema`, `LinkSchema`, `CheckSchema`, ...) are
 * exported for API bodies; `describeZodIssues` turns zod's issues into the messages the loader
 * prints, so the API and `wirelab check` word their errors the same way.
 */
import { z } from 'zod';
import { stableMac } from '../device.js';
import type { Impairments } from '../engine/link.js';
import { type Ip4, type Mac, ip4ToString, macToString, parseIp4 } from '../wire/bytes.js';
import {
  type Cidr,
  type IpPort,
  type IpRange,
  type Parsed,
  cidrContains,
  formatCidr,
  formatIpRange,
  formatSubnet,
  isHostAddress,
  makeCidr,
  parseCidr,
  parseDuration,
  parseIp,
  parseIpPort,
  parseIpRange,
  parseMacAddress,
  parsePercent,
  parseRate,
  parseSubnet,
  rangeContains,
  rangeInSubnet,
  subnetsOverlap,
} from './units.js';

// ---------------------------------------------------------------- helpers

/** Marks the unknown-key message so `describeZodIssues` can split it per key and suggest a spelling. */
const UNKNOWN_KEY = 'unknown key; the keys here are: ';

/** A mapping that refuses unknown keys, naming the ones it knows. */
function strict<S extends z.core.$ZodLooseShape>(shape: S) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? UNKNOWN_KEY + known : undefined),
  });
}

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'nothing (an empty value)';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

/**
 * A text value checked by one of the units.ts parsers. A YAML number where text is expected
 * (`lease: 30`, `loss: 0.5`) is run through the parser too, so the user reads why 30 is not a
 * duration rather than that it is not a string.
 */
function textValue(what: string, parse: (s: string) => Parsed<unknown>) {
  return z
    .string({
      error: (iss) => {
        if (iss.input === undefined) return undefined;
        if (typeof iss.input === 'number') {
          const r = parse(String(iss.input));
          return r.ok ? `expected ${what} as text; quote it: "${iss.input}"` : r.error;
        }
        return `expected ${what}, got ${describeValue(iss.input)}`;
      },
    })
    .superRefine((s, ctx) => {
      const r = parse(s);
      if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
    });
}

function matching(re: RegExp, rule: string) {
  return (s: string): Parsed<string> => (re.test(s) ? { ok: true, value: s } : { ok: false, error: `${JSON.stringify(s)}: ${rule}` });
}

function wholeNumber(what: string, min: number, max: number) {
  const rule = `${what} is a whole number ${min}..${max}`;
  return z
    .number({ error: (iss) => (iss.input === undefined ? undefined : `${rule}, not ${describeValue(iss.input)}`) })
    .int({ error: (iss) => `${rule}, not ${String(iss.input)}` })
    .min(min, { error: (iss) => `${rule}, not ${String(iss.input)}` })
    .max(max, { error: (iss) => `${rule}, not ${String(iss.input)}` });
}

function flag(what: string) {
  return z.boolean({
    error: (iss) => (iss.input === undefined ? undefined : `${what} is true or false, not ${describeValue(iss.input)}`),
  });
}

function oneOf<const T extends readonly [string, ...string[]]>(what: string, values: T) {
  return z.enum(values, {
    error: (iss) =>
      iss.input === undefined ? undefined : `${what} is one of ${values.join(', ')}; not ${describeValue(iss.input)}`,
  });
}

function listOf<T extends z.ZodType>(item: T, what: string) {
  return z.array(item, {
    error: (iss) => (iss.input === undefined ? undefined : `${what} is a list [..], not ${describeValue(iss.input)}`),
  });
}

// ---------------------------------------------------------------- names and values

export const LAB_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Node and network names: upper case allowed (GNS3 and Packet Tracer users write PC1, R1); no ':' (endpoint syntax). */
export const NODE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
export const HOST_IFACE_RE = /^[a-z][a-z0-9]{0,14}$/;
export const SWITCH_IFACE_RE = /^e(0|[1-9]\d{0,3})$/;
/** Physical `g0/1`, `gi1/0/2`; sub-interface `g0/2.20`. */
export const ROUTER_IFACE_RE = /^[a-z][a-z-]*\d+(\/\d+){0,2}(\.[1-9]\d{0,9})?$/;
/** Any interface name a link or a check may name; the node's kind decides which exist. */
export const IFACE_NAME_RE = /^[a-z][a-z0-9/.-]{0,31}$/;
/** A Linux network interface name (IFNAMSIZ 16, with the terminator). */
export const OS_IFACE_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const DNS_NAME_RE = /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$/;

export const LabNameSchema = textValue(
  'a lab name',
  matching(LAB_NAME_RE, 'a lab name is 1..63 lowercase letters, digits, - or _, starting with a letter or digit'),
);
export const NodeNameSchema = textValue(
  'a node name',
  matching(NODE_NAME_RE, 'a name is 1..63 letters, digits, - or _, starting with a letter or digit'),
);
const HostIfaceName = textValue('an interface name', matching(HOST_IFACE_RE, 'a host interface name is like eth0'));
const SwitchIfaceName = textValue('a switch port name', matching(SWITCH_IFACE_RE, 'a switch port is e0, e1, ...'));
const RouterIfaceName = textValue(
  'a router interface name',
  matching(ROUTER_IFACE_RE, 'a router interface is like g0/1, or g0/1.20 for a sub-interface'),
);
const OsIfaceName = textValue('a host network interface name', matching(OS_IFACE_RE, 'not a network interface name (1..15 of A-Z a-z 0-9 _ . -)'));

const IpText = textValue('an IPv4 address', parseIp);
const MacText = textValue('a MAC address', parseMacAddress);
const CidrText = textValue('an address with a prefix length', parseCidr);
const SubnetText = textValue('a subnet', parseSubnet);
const RangeText = textValue('an address range', parseIpRange);
const IpPortText = textValue('IP:PORT', (s) => parseIpPort(s));
const DurationText = textValue('a duration', parseDuration);
const RateText = textValue('a rate', parseRate);
const PercentText = textValue('a percentage', parsePercent);
const Vlan = wholeNumber('a VLAN', 1, 4094);
const PortNumber = wholeNumber('a port', 1, 65535);

/** `dhcp`, or a static address with its prefix. */
const HostIpText = textValue('dhcp or an address with a prefix length', (s) =>
  s === 'dhcp' ? { ok: true, value: s } : parseCidr(s),
);
/** An address, or a range of addresses. */
const IpOrRangeText = textValue('an address or a range', (s) => (s.includes('-') ? parseIpRange(s) : parseIp(s)));

// ---------------------------------------------------------------- shared parts

export const UiSchema = strict({
  x: z.number({ error: (iss) => (iss.input === undefined ? undefined : `x is a number, not ${describeValue(iss.input)}`) }),
  y: z.number({ error: (iss) => (iss.input === undefined ? undefined : `y is a number, not ${describeValue(iss.input)}`) }),
});
const common = {
  /** Position on the canvas. */
  ui: UiSchema.optional(),
  /** Telnet console port (GNS3 convention); assigned from 5000 up when absent. */
  console: wholeNumber('a console port', 1, 65535).optional(),
};

/** A fixed address for one client, named by node (its interface on that subnet) or by MAC. */
export const ReservationSchema = strict({
  node: NodeNameSchema.optional(),
  iface: textValue('an interface name', matching(IFACE_NAME_RE, 'not an interface name')).optional(),
  mac: MacText.optional(),
  ip: IpText,
}).superRefine((r, ctx) => {
  if (r.node === undefined && r.mac === undefined) ctx.addIssue({ code: 'custom', message: 'a reservation names a node: or a mac:' });
  if (r.node !== undefined && r.mac !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['mac'], message: 'a reservation names a node: or a mac:, not both' });
  }
  if (r.iface !== undefined && r.node === undefined) ctx.addIssue({ code: 'custom', path: ['iface'], message: 'iface: goes with node:' });
});

// ---------------------------------------------------------------- networks

export const NetworkDhcpSchema = strict({
  /** false turns the network's DHCP server off. */
  enabled: flag('enabled').optional(),
  range: RangeText.optional(),
  lease: DurationText.optional(),
  reservations: listOf(ReservationSchema, 'reservations').optional(),
});
export const PortForwardSchema = strict({
  proto: oneOf('proto', ['tcp', 'udp']),
  /** Where the host listens. */
  host: IpPortText,
  /** The lab address it is forwarded to. */
  guest: IpPortText,
});
const HostAdapterSchema = z.union([flag('host-adapter'), z.literal('tap')], {
  error: (iss) =>
    iss.code === 'invalid_union' && iss.input !== undefined ? `host-adapter is true, false or tap; not ${describeValue(iss.input)}` : undefined,
});
const vmnet = {
  /** Omitted: a free 192.168.X.0/24 chosen from the lab and network names. */
  subnet: SubnetText.optional(),
  dhcp: NetworkDhcpSchema.optional(),
  /** The host itself at .1; `tap` insists on a TAP device on the host. */
  'host-adapter': HostAdapterSchema.optional(),
  ui: UiSchema.optional(),
};
export const NatNetworkSchema = strict({
  type: z.literal('nat'),
  ...vmnet,
  nat: strict({
    'port-forwards': listOf(PortForwardSchema, 'port-forwards').optional(),
    /** Where the gateway's DNS forwards queries; the host's resolver when absent. Port 53 unless given. */
    'dns-upstream': textValue('an address (IP or IP:PORT)', (s) => parseIpPort(s, 53)).optional(),
  }).optional(),
});
export const HostOnlyNetworkSchema = strict({ type: z.literal('host-only'), ...vmnet });
export const BridgedNetworkSchema = strict({
  type: z.literal('bridged'),
  /** The real NIC frames go to and come from. */
  interface: OsIfaceName,
  ui: UiSchema.optional(),
});
export const SegmentNetworkSchema = strict({ type: z.literal('segment'), ui: UiSchema.optional() });
export const NetworkSchema = z.discriminatedUnion('type', [
  NatNetworkSchema,
  HostOnlyNetworkSchema,
  BridgedNetworkSchema,
  SegmentNetworkSchema,
]);

// ---------------------------------------------------------------- nodes

export const HostInterfaceSchema = strict({
  network: NodeNameSchema.optional(),
  ip: HostIpText.optional(),
  gateway: IpText.optional(),
  mac: MacText.optional(),
  /** The host tags its frames with this 802.1Q VLAN. */
  vlan: Vlan.optional(),
});
export const HostServicesSchema = strict({
  http: strict({ port: PortNumber.optional(), body: z.string().optional() }).optional(),
  'udp-echo': strict({ port: PortNumber.optional() }).optional(),
  'tcp-echo': strict({ port: PortNumber.optional() }).optional(),
  dns: strict({
    port: PortNumber.optional(),
    records: z.record(textValue('a DNS name', matching(DNS_NAME_RE, 'not a DNS name')), IpText),
  }).optional(),
});
export const HostNodeSchema = strict({
  kind: z.literal('host'),
  interfaces: z.record(HostIfaceName, HostInterfaceSchema).optional(),
  /** DNS servers for the stub resolver (DHCP's when absent). */
  dns: listOf(IpText, 'dns').optional(),
  services: HostServicesSchema.optional(),
  ...common,
});

/** `description TEXT` on an IOS interface: one line, up to IOS's 240 characters. */
const InterfaceDescription = textValue('a description', matching(/^[^\r\n]{1,240}$/, 'a description is one line of up to 240 characters'));
/** `name TEXT` under `vlan N`: IOS's 32 characters, no spaces. */
const VlanName = textValue('a VLAN name', matching(/^[!-~]{1,32}$/, 'a VLAN name is up to 32 characters without spaces'));
const VlanKey = textValue('a VLAN', (s) => (/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 4094 ? { ok: true, value: s } : { ok: false, error: `${JSON.stringify(s)}: a VLAN is a whole number 1..4094` }));

export const SwitchInterfaceSchema = strict({
  mode: oneOf('mode', ['access', 'trunk']).optional(),
  /** Access VLAN. */
  vlan: Vlan.optional(),
  /** VLANs a trunk carries: a list, or `all`. */
  allowed: z
    .union([listOf(Vlan, 'allowed'), z.literal('all')], {
      error: (iss) =>
        iss.code === 'invalid_union' && iss.input !== undefined ? `allowed is a list of VLANs or all; not ${describeValue(iss.input)}` : undefined,
    })
    .optional(),
  native: Vlan.optional(),
  shutdown: flag('shutdown').optional(),
  description: InterfaceDescription.optional(),
}).superRefine((i, ctx) => {
  const trunk = i.mode === 'trunk';
  if (trunk && i.vlan !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['vlan'], message: 'vlan: is for access ports; a trunk takes native: and allowed:' });
  }
  if (!trunk && i.allowed !== undefined) ctx.addIssue({ code: 'custom', path: ['allowed'], message: 'allowed: is for trunk ports (mode: trunk)' });
  if (!trunk && i.native !== undefined) ctx.addIssue({ code: 'custom', path: ['native'], message: 'native: is for trunk ports (mode: trunk)' });
});
export const SwitchNodeSchema = strict({
  kind: z.literal('switch'),
  /** e0 .. e{ports-1}. */
  ports: wholeNumber('ports', 1, 4096).optional(),
  /** true or `rstp`: 802.1w (falling back to 802.1D per port where a neighbour speaks only that); `stp`: 802.1D only; false: none. */
  stp: z
    .union([flag('stp'), z.literal('stp'), z.literal('rstp')], {
      error: (iss) =>
        iss.code === 'invalid_union' && iss.input !== undefined ? `stp is true, false, stp or rstp; not ${describeValue(iss.input)}` : undefined,
    })
    .optional(),
  'stp-priority': wholeNumber('stp-priority', 0, 61440)
    .multipleOf(4096, { error: (iss) => `stp-priority is a multiple of 4096 (0, 4096, ... 61440), not ${String(iss.input)}` })
    .optional(),
  interfaces: z.record(SwitchIfaceName, SwitchInterfaceSchema).optional(),
  /** VLAN names (`vlan 10` / `name users`), keyed by VLAN id; VLANs are used without being listed here. */
  vlans: z.record(VlanKey, strict({ name: VlanName })).optional(),
  ...common,
});

/** IOS list names: numbers (1-99 and 1300-1999 are standard lists) or words. */
const AclNameText = textValue('an access list name', matching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'an access list name is letters, digits, _ and -'));
/**
 * One IOS rule: `permit 10.1.0.0 0.0.0.255`, `deny tcp any host 10.2.0.10 eq 23`. Only its
 * action is checked here; the router parses the rest when it is built.
 */
const AclRuleText = textValue('an access list rule', matching(/^\s*(permit|deny)\s+\S/i, 'a rule is "permit ..." or "deny ..." as IOS writes it'));

export const RouterInterfaceSchema = strict({
  network: NodeNameSchema.optional(),
  ip: CidrText.optional(),
  mac: MacText.optional(),
  shutdown: flag('shutdown').optional(),
  /** 802.1Q VLAN of a sub-interface (g0/2.20). */
  vlan: Vlan.optional(),
  /** Access lists filtering what comes in and goes out (`ip access-group NAME in|out`). */
  'acl-in': AclNameText.optional(),
  'acl-out': AclNameText.optional(),
  description: InterfaceDescription.optional(),
});
export const RouteSchema = strict({
  to: SubnetText,
  via: IpText,
  /** Out of this interface too (a fully specified route). */
  interface: RouterIfaceName.optional(),
  /** Administrative distance; above 1 makes a floating static route. */
  distance: wholeNumber('distance', 1, 255).optional(),
});
export const DhcpPoolSchema = strict({
  name: textValue('a pool name', matching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'a pool name is letters, digits, _ . -')).optional(),
  /** The pool serves this interface's subnet ... */
  interface: RouterIfaceName.optional(),
  /** ... or this subnet, for clients behind a relay (matched by giaddr). */
  network: SubnetText.optional(),
  /** Default: every host address of the subnet. */
  range: RangeText.optional(),
  /** Default router handed out; the interface's address when the pool serves an interface. */
  gateway: IpText.optional(),
  dns: listOf(IpText, 'dns').optional(),
  lease: DurationText.optional(),
  reservations: listOf(ReservationSchema, 'reservations').optional(),
  /** Addresses never leased (the router's own are always excluded). */
  excluded: listOf(IpOrRangeText, 'excluded').optional(),
}).superRefine((p, ctx) => {
  if ((p.interface === undefined) === (p.network === undefined)) {
    ctx.addIssue({
      code: 'custom',
      message: p.interface === undefined ? 'a pool names the interface: it serves, or a network: reached through a relay' : 'a pool has interface: or network:, not both',
    });
  }
});
export const RouterNatSchema = strict({
  inside: listOf(RouterIfaceName, 'inside'),
  outside: RouterIfaceName,
  /** Port address translation onto the outside address (default true). */
  overload: flag('overload').optional(),
  static: listOf(strict({ inside: IpText, outside: IpText }), 'static').optional(),
});
export const RouterNodeSchema = strict({
  kind: z.literal('router'),
  interfaces: z.record(RouterIfaceName, RouterInterfaceSchema).optional(),
  routes: listOf(RouteSchema, 'routes').optional(),
  'dhcp-server': strict({ pools: listOf(DhcpPoolSchema, 'pools') }).optional(),
  /** Interface -> the DHCP server its clients' requests are relayed to. */
  'dhcp-relay': z.record(RouterIfaceName, IpText).optional(),
  /** Access lists by name, each a list of IOS rules checked in order (implicit deny at the end). */
  acls: z.record(AclNameText, listOf(AclRuleText, 'an access list').min(1, { error: 'an access list needs at least one rule' })).optional(),
  nat: RouterNatSchema.optional(),
  ...common,
});

export const HubNodeSchema = strict({
  kind: z.literal('hub'),
  /** p0 .. p{ports-1}. */
  ports: wholeNumber('ports', 1, 4096).optional(),
  ...common,
});

export const CloudEndpointSchema = z.discriminatedUnion('type', [
  /** One Ethernet frame per datagram: the GNS3/VPCS/QEMU/Dynamips UDP tunnel. */
  strict({ type: z.literal('udp'), local: IpPortText, remote: IpPortText }),
  strict({ type: z.literal('tap'), name: OsIfaceName, netns: textValue('a network namespace', matching(/^[A-Za-z0-9_.-]{1,64}$/, 'not a namespace name')).optional() }),
  strict({ type: z.literal('nic'), interface: OsIfaceName }),
]);
export const CloudNodeSchema = strict({
  kind: z.literal('cloud'),
  endpoint: CloudEndpointSchema,
  ...common,
});

export const NodeSchema = z.discriminatedUnion('kind', [
  HostNodeSchema,
  SwitchNodeSchema,
  RouterNodeSchema,
  HubNodeSchema,
  CloudNodeSchema,
]);

// ---------------------------------------------------------------- links

/** `node:iface`, or a network's name. */
export const LinkEndpointSchema = textValue(
  'an endpoint (node:interface or a network name)',
  matching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}(:[a-z][a-z0-9/.-]{0,31})?$/, 'an endpoint is node:interface (pc1:eth0) or a network name (vmnet8)'),
);
const endpointPair = z.tuple([LinkEndpointSchema, LinkEndpointSchema], {
  error: (iss) => (iss.input === undefined ? undefined : 'a link has two endpoints, like [pc1:eth0, sw1:e1]'),
});
export const LinkLongSchema = strict({
  endpoints: endpointPair,
  delay: DurationText.optional(),
  jitter: DurationText.optional(),
  loss: PercentText.optional(),
  duplicate: PercentText.optional(),
  corrupt: PercentText.optional(),
  rate: RateText.optional(),
  /** Cable pulled: frames are dropped until resumed. */
  suspended: flag('suspended').optional(),
});
/** `[a:eth0, b:e1]`, or `{ endpoints: [a:eth0, b:e1], delay: 5ms, ... }`. */
export const LinkSchema = z.union([endpointPair, LinkLongSchema], {
  error: (iss) =>
    iss.code !== 'invalid_union' || iss.input === undefined
      ? undefined
      : Array.isArray(iss.input)
        ? `a link has two endpoints, like [pc1:eth0, sw1:e1]; this one has ${iss.input.length}`
        : `a link is [a:eth0, b:e1] or { endpoints: [a:eth0, b:e1], delay: ..., loss: ... }; not ${describeValue(iss.input)}`,
});

// ---------------------------------------------------------------- checks

/** An IPv4 address, a node name (its first address) or a DNS name. */
const TargetText = textValue('an address, node or DNS name', (s) => {
  if (/^[\d.]+$/.test(s)) return parseIp(s);
  return NODE_NAME_RE.test(s) || DNS_NAME_RE.test(s) ? { ok: true, value: s } : { ok: false, error: `${JSON.stringify(s)} is not an address, node name or DNS name` };
});
const UrlText = textValue('an http:// URL', (s) => {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return { ok: false, error: `${JSON.stringify(s)} is not a URL (like http://10.0.0.5/)` };
  }
  return url.protocol === 'http:' ? { ok: true, value: url } : { ok: false, error: `${JSON.stringify(s)}: only http:// URLs can be checked` };
});

export const CHECK_KINDS = ['ping', 'trace', 'dhcp', 'tcp', 'udp', 'http', 'arp', 'pingall'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

export const PingCheckSchema = strict({ from: NodeNameSchema, to: TargetText, count: wholeNumber('count', 1, 1000).optional() });
export const TraceCheckSchema = strict({
  from: NodeNameSchema,
  to: TargetText,
  /** The routers expected on the way, in order (the destination may end the list). */
  hops: listOf(IpText, 'hops').optional(),
});
export const DhcpCheckSchema = strict({
  node: NodeNameSchema,
  iface: HostIfaceName.optional(),
  in: SubnetText.optional(),
});
export const TcpCheckSchema = strict({ from: NodeNameSchema, to: IpPortText });
export const UdpCheckSchema = strict({ from: NodeNameSchema, to: IpPortText });
export const HttpCheckSchema = strict({
  from: NodeNameSchema,
  url: UrlText,
  status: wholeNumber('status', 100, 599).optional(),
  contains: z.string().optional(),
});
export const ArpCheckSchema = strict({
  node: NodeNameSchema,
  ip: IpText,
  mac: textValue('a MAC address', parseMacAddress).optional(),
});
export const PingAllCheckSchema = strict({ among: listOf(NodeNameSchema, 'among').optional() }).nullable();

export const CheckSchema = strict({
  name: z.string().optional(),
  expect: oneOf('expect', ['success', 'failure']).optional(),
  timeout: DurationText.optional(),
  ping: PingCheckSchema.optional(),
  trace: TraceCheckSchema.optional(),
  dhcp: DhcpCheckSchema.optional(),
  tcp: TcpCheckSchema.optional(),
  udp: UdpCheckSchema.optional(),
  http: HttpCheckSchema.optional(),
  arp: ArpCheckSchema.optional(),
  pingall: PingAllCheckSchema.optional(),
}).superRefine((c, ctx) => {
  const kinds = CHECK_KINDS.filter((k) => c[k] !== undefined);
  if (kinds.length === 0) ctx.addIssue({ code: 'custom', message: `a check needs one of ${CHECK_KINDS.join(', ')}` });
  for (const extra of kinds.slice(1)) {
    ctx.addIssue({ code: 'custom', path: [extra], params: { at: 'key' }, message: `a check tests one thing: it already has ${kinds[0]}` });
  }
});

// ---------------------------------------------------------------- the file

export const SnapshotsSchema = strict({
  every: DurationText,
  keep: wholeNumber('keep', 1, 1000).optional(),
});
export const CloneOfSchema = strict({
  lab: LabNameSchema,
  snapshot: textValue('a snapshot name', matching(LAB_NAME_RE, 'a snapshot name is lowercase letters, digits, - or _')),
});

export const LabFileSchema = strict({
  wirelab: z.literal(1, {
    error: (iss) =>
      iss.input === undefined
        ? 'missing: a lab file starts with wirelab: 1 (the format version)'
        : `this is lab format version ${typeof iss.input === 'number' || typeof iss.input === 'string' ? iss.input : describeValue(iss.input)}; this wirelab reads version 1 only`,
  }),
  name: LabNameSchema,
  description: z.string().optional(),
  /** Absent: virtual unless the lab reaches real equipment (cloud, bridged, NAT). */
  time: oneOf('time', ['real', 'virtual']).optional(),
  seed: wholeNumber('seed', 0, 0xffff_ffff).optional(),
  networks: z.record(NodeNameSchema, NetworkSchema).nullable().optional(),
  nodes: z.record(NodeNameSchema, NodeSchema).nullable().optional(),
  links: listOf(LinkSchema, 'links').nullable().optional(),
  checks: listOf(CheckSchema, 'checks').nullable().optional(),
  snapshots: SnapshotsSchema.optional(),
  'clone-of': CloneOfSchema.optional(),
});

export type LabFile = z.infer<typeof LabFileSchema>;
export type NetworkSpec = z.infer<typeof NetworkSchema>;
export type NodeSpec = z.infer<typeof NodeSchema>;
export type HostNodeSpec = z.infer<typeof HostNodeSchema>;
export type SwitchNodeSpec = z.infer<typeof SwitchNodeSchema>;
export type RouterNodeSpec = z.infer<typeof RouterNodeSchema>;
export type HubNodeSpec = z.infer<typeof HubNodeSchema>;
export type CloudNodeSpec = z.infer<typeof CloudNodeSchema>;
export type LinkSpec = z.infer<typeof LinkSchema>;
export type CheckSpec = z.infer<typeof CheckSchema>;
export type ReservationSpec = z.infer<typeof ReservationSchema>;
export type DhcpPoolSpec = z.infer<typeof DhcpPoolSchema>;

// ---------------------------------------------------------------- issues

export type PathSegment = string | number;

/** One thing wrong with a lab, located by its path in the file; `at` says whether the key or its value is to blame. */
export interface LabIssue {
  path: PathSegment[];
  message: string;
  at: 'key' | 'value';
}

/** `nodes.r1.interfaces["g0/2.20"].ip`, `links[2].delay`. */
export function formatPath(path: readonly PathSegment[]): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (/^[A-Za-z0-9_/-]+$/.test(seg)) s += s === '' ? seg : `.${seg}`;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s === '' ? '(top)' : s;
}

/** zod's own wording starts like this; messages written in this file never do. */
const ZOD_DEFAULT = /^(Invalid|Too (big|small)|Unrecognized key)/;

/**
 * zod issues (parsed with `reportInput: true`, so values can be quoted) as lab issues: one per
 * unknown key with a suggested spelling, "missing" for absent required keys, and for a union the
 * branch the value was evidently meant to be.
 */
export function describeZodIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PathSegment[] = []): LabIssue[] {
  const out: LabIssue[] = [];
  for (const iss of issues) describeIssue(iss, [...prefix, ...(iss.path as PathSegment[])], out);
  return out;
}

function describeIssue(iss: z.core.$ZodIssue, path: PathSegment[], out: LabIssue[]): void {
  const custom = !ZOD_DEFAULT.test(iss.message);
  switch (iss.code) {
    case 'unrecognized_keys': {
      const known = iss.message.startsWith(UNKNOWN_KEY) ? iss.message.slice(UNKNOWN_KEY.length).split(', ') : [];
      for (const key of iss.keys) out.push({ path: [...path, key], at: 'key', message: unknownKeyMessage(key, known) });
      return;
    }
    case 'invalid_key': {
      const inner = describeZodIssues(iss.issues);
      for (const i of inner) out.push({ path, at: 'key', message: i.message });
      return;
    }
    case 'invalid_union': {
      if (iss.discriminator !== undefined) {
        const options = (iss as { options?: unknown[] }).options ?? [];
        const given = isRecord(iss.input) ? iss.input[iss.discriminator] : undefined;
        const list = options.map(String).join(', ');
        out.push({
          path,
          at: 'value',
          message: given === undefined ? `missing: ${iss.discriminator} is one of ${list}` : `unknown ${iss.discriminator} ${describeValue(given)}; it is one of ${list}`,
        });
        return;
      }
      // The branch the user evidently meant is the one that got past its root type check.
      const meant = iss.errors.filter((branch) => !branch.some((b) => b.path.length === 0 && (b.code === 'invalid_type' || b.code === 'invalid_value' || b.code === 'too_small' || b.code === 'too_big')));
      if (meant.length === 1) {
        for (const b of meant[0]!) describeIssue(b, [...path, ...(b.path as PathSegment[])], out);
        return;
      }
      out.push({ path, at: 'value', message: custom ? iss.message : `not a valid value: ${describeValue(iss.input)}` });
      return;
    }
  }
  if (iss.code === 'invalid_type' && iss.input === undefined) {
    out.push({ path, at: 'value', message: custom ? iss.message : 'missing: this key is required' });
    return;
  }
  const at = iss.code === 'custom' && iss.params?.['at'] === 'key' ? 'key' : 'value';
  out.push({ path, at, message: custom ? iss.message : defaultMessage(iss) });
}

function defaultMessage(iss: z.core.$ZodIssue): string {
  const got = describeValue(iss.input);
  switch (iss.code) {
    case 'invalid_type': {
      const expected: Record<string, string> = {
        string: 'text',
        number: 'a number',
        int: 'a whole number',
        boolean: 'true or false',
        object: 'a mapping (key: value)',
        record: 'a mapping (key: value)',
        array: 'a list [..]',
        tuple: 'a list [..]',
      };
      return `expected ${expected[iss.expected] ?? iss.expected}, got ${got}`;
    }
    case 'too_small':
      if (iss.origin === 'array') return `needs at least ${iss.minimum} item${iss.minimum === 1 ? '' : 's'}`;
      if (iss.origin === 'string') return iss.minimum === 1 ? 'must not be empty' : `needs at least ${iss.minimum} characters`;
      return `must be at least ${iss.minimum}, not ${got}`;
    case 'too_big':
      if (iss.origin === 'array') return `has more than ${iss.maximum} items`;
      if (iss.origin === 'string') return `is longer than ${iss.maximum} characters`;
      return `must be at most ${iss.maximum}, not ${got}`;
    case 'invalid_value':
      return iss.values.length === 1 ? `must be ${describeValue(iss.values[0])}, not ${got}` : `is one of ${iss.values.map(String).join(', ')}; not ${got}`;
    case 'not_multiple_of':
      return `must be a multiple of ${iss.divisor}, not ${got}`;
    case 'invalid_format':
      return `${got} does not have the expected form`;
    default:
      return iss.message;
  }
}

function unknownKeyMessage(key: string, known: string[]): string {
  const close = known.filter((k) => editDistance(k, key) <= Math.max(1, Math.floor(k.length / 4)));
  if (close.length > 0) return `unknown key ${JSON.stringify(key)}; did you mean ${close.join(' or ')}?`;
  return known.length > 0 ? `unknown key ${JSON.stringify(key)}; the keys here are ${known.join(', ')}` : `unknown key ${JSON.stringify(key)}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ================================================================ the normalized model

/** Defaults the file may leave out (SPEC section 2, VMware's and IOS's own defaults). */
export const LAB_DEFAULTS = {
  seed: 1,
  hostInterface: 'eth0',
  cloudInterface: 'eth0',
  switchPorts: 8,
  hubPorts: 4,
  routerInterfaces: ['g0/0', 'g0/1', 'g0/2', 'g0/3'] as readonly string[],
  /** `stp: true` is 802.1w, which converges in seconds and still talks 802.1D to old bridges; `stp: stp` forces 802.1D. */
  stp: 'rstp' as const,
  stpPriority: 32768,
  vlan: 1,
  /** VMware's default lease. */
  networkLeaseNs: 30 * 60e9,
  /** IOS's default lease (one day). */
  poolLeaseNs: 86_400e9,
  httpPort: 80,
  echoPort: 7,
  dnsPort: 53,
  pingCount: 3,
  httpStatus: 200,
  checkTimeoutNs: 30e9,
  firstConsolePort: 5000,
  snapshotsKeep: 5,
};

export interface Ui {
  x: number;
  y: number;
}
export interface IfaceRef {
  node: string;
  iface: string;
}

/** What every interface (a port of its node) has. */
export interface LabIfaceBase {
  name: string;
  /** Given with mac:, or stableMac(lab, node, iface). */
  mac: Mac;
  macExplicit: boolean;
  /** The network this interface is on, by its network: key or by a link to the network. */
  network: string | undefined;
}
export type HostIp = { mode: 'dhcp' } | { mode: 'static'; cidr: Cidr } | { mode: 'none' };
export interface LabHostIface extends LabIfaceBase {
  ip: HostIp;
  gateway: Ip4 | undefined;
  vlan: number | undefined;
}
export interface LabSwitchPort extends LabIfaceBase {
  mode: 'access' | 'trunk';
  /** Access VLAN (access ports). */
  vlan: number;
  /** VLANs carried (trunk ports), sorted. */
  allowed: number[] | 'all';
  /** Untagged VLAN (trunk ports). */
  native: number;
  shutdown: boolean;
}
export interface LabRouterIface extends LabIfaceBase {
  ip: Cidr | undefined;
  shutdown: boolean;
  aclIn: string | undefined;
  aclOut: string | undefined;
}
/** An 802.1Q sub-interface: not a port; it rides on its parent's cable and MAC. */
export interface LabRouterSubIface {
  name: string;
  parent: string;
  vlan: number;
  ip: Cidr | undefined;
  mac: Mac;
  shutdown: boolean;
  aclIn: string | undefined;
  aclOut: string | undefined;
}
export interface LabReservation {
  ip: Ip4;
  mac: Mac;
  /** The node and interface the reservation was written for (absent for mac: reservations). */
  node: string | undefined;
  iface: string | undefined;
}
export interface LabDhcpPool {
  name: string;
  /** The interface served, or undefined for a pool reached through a relay. */
  interface: string | undefined;
  subnet: Cidr;
  range: IpRange;
  gateway: Ip4 | undefined;
  dns: Ip4[];
  leaseNs: number;
  reservations: LabReservation[];
  /** The user's exclusions plus the router's own address and the gateway. */
  excluded: IpRange[];
}
export interface LabRoute {
  to: Cidr;
  via: Ip4;
  /** Out of this interface (otherwise the one facing via). */
  iface: string | undefined;
  /** Administrative distance, 1 for a static route unless given. */
  distance: number;
}

interface LabNodeBase {
  name: string;
  ui: Ui | undefined;
  /** Telnet port: given, or assigned from 5000 up in file order, skipping given ones. */
  console: number;
  consoleExplicit: boolean;
}
export interface LabHost extends LabNodeBase {
  kind: 'host';
  interfaces: LabHostIface[];
  dns: Ip4[];
  services: {
    http: { port: number; body: string } | undefined;
    udpEcho: { port: number } | undefined;
    tcpEcho: { port: number } | undefined;
    dns: { port: number; records: { name: string; ip: Ip4 }[] } | undefined;
  };
}
export interface LabSwitch extends LabNodeBase {
  kind: 'switch';
  ports: number;
  stp: 'off' | 'stp' | 'rstp';
  stpPriority: number;
  interfaces: LabSwitchPort[];
}
export interface LabRouter extends LabNodeBase {
  kind: 'router';
  interfaces: LabRouterIface[];
  subinterfaces: LabRouterSubIface[];
  routes: LabRoute[];
  dhcpPools: LabDhcpPool[];
  dhcpRelays: { iface: string; server: Ip4 }[];
  nat: { inside: string[]; outside: string; overload: boolean; static: { inside: Ip4; outside: Ip4 }[] } | undefined;
  /** Access lists by name: IOS rule text, as the router's Acl takes it. */
  acls: Record<string, string[]>;
}
export interface LabHub extends LabNodeBase {
  kind: 'hub';
  ports: number;
  interfaces: LabIfaceBase[];
}
export type LabCloudEndpoint =
  | { type: 'udp'; local: IpPort; remote: IpPort }
  | { type: 'tap'; name: string; netns: string | undefined }
  | { type: 'nic'; interface: string };
export interface LabCloud extends LabNodeBase {
  kind: 'cloud';
  endpoint: LabCloudEndpoint;
  interfaces: LabIfaceBase[];
}
export type LabNode = LabHost | LabSwitch | LabRouter | LabHub | LabCloud;

interface LabNetworkBase {
  name: string;
  ui: Ui | undefined;
  /** Every interface on this network, by network: key or by link, in file order. */
  attached: IfaceRef[];
}
export interface LabVmnet extends LabNetworkBase {
  type: 'nat' | 'host-only';
  subnet: Cidr;
  /** True when the file has no subnet: and one was chosen (from the lab and network names). */
  subnetAuto: boolean;
  hostAdapter: boolean | 'tap';
  /** .1: the host's own address on the network. */
  hostIp: Ip4;
  dhcp: {
    enabled: boolean;
    /** .254 (the last host address but one's neighbour: broadcast - 1). */
    serverIp: Ip4;
    range: IpRange;
    leaseNs: number;
    reservations: LabReservation[];
  };
  /** Type nat only. */
  nat:
    | {
        /** .2, which is also the DNS server. */
        gatewayIp: Ip4;
        portForwards: { proto: 'tcp' | 'udp'; host: IpPort; guest: IpPort }[];
        dnsUpstream: IpPort | undefined;
      }
    | undefined;
}
export interface LabBridged extends LabNetworkBase {
  type: 'bridged';
  interface: string;
}
export interface LabSegment extends LabNetworkBase {
  type: 'segment';
}
export type LabNetwork = LabVmnet | LabBridged | LabSegment;

export type LinkEnd = { kind: 'iface'; node: string; iface: string } | { kind: 'network'; network: string };
export interface LabLink {
  /** `pc2:eth0--sw1:e1`, `pc1:eth0--vmnet8`: unique, since an interface has one cable. */
  id: string;
  /** Always an interface; a link to a network has the network at b. */
  a: { kind: 'iface'; node: string; iface: string };
  b: LinkEnd;
  /** Applied to both directions; the engine's own shape. */
  impairments: Impairments;
  suspended: boolean;
  /** Written in links: (index), or implied by an interface's network: key. */
  origin: { kind: 'link'; index: number } | { kind: 'network-key' };
}

/** What a check aims at: a literal address, a node (resolved to its address when run) or a DNS name. */
export interface CheckTarget {
  text: string;
  ip: Ip4 | undefined;
  node: string | undefined;
}
interface LabCheckBase {
  index: number;
  /** Given, or made from the check ("ping pc2 -> 10.1.0.99"). */
  name: string;
  expect: 'success' | 'failure';
  timeoutNs: number;
}
export type LabCheck = LabCheckBase &
  (
    | { kind: 'ping'; from: string; to: CheckTarget; count: number }
    | { kind: 'trace'; from: string; to: CheckTarget; hops: Ip4[] | undefined }
    | { kind: 'dhcp'; node: string; iface: string; in: Cidr | undefined }
    | { kind: 'tcp' | 'udp'; from: string; to: IpPort }
    | { kind: 'http'; from: string; url: string; status: number; contains: string | undefined }
    | { kind: 'arp'; node: string; ip: Ip4; mac: Mac | undefined }
    | { kind: 'pingall'; among: string[] }
  );

export interface Lab {
  version: 1;
  name: string;
  description: string;
  time: 'real' | 'virtual';
  /** False when time was derived: real if the lab reaches real equipment (cloud, bridged, NAT, TAP). */
  timeExplicit: boolean;
  seed: number;
  networks: Record<string, LabNetwork>;
  nodes: Record<string, LabNode>;
  links: LabLink[];
  checks: LabCheck[];
  snapshots: { everyNs: number; keep: number } | undefined;
  cloneOf: { lab: string; snapshot: string } | undefined;
  /** The file as validated: edit it and run validateLab again to change the lab. */
  file: LabFile;
}

export interface ValidateOptions {
  /** The lab folder's name: the file's name: must equal it. */
  folderName?: string;
}
export type ValidateResult = { ok: true; lab: Lab } | { ok: false; issues: LabIssue[] };

/**
 * Validates a lab (the JS value of lab.yaml, or an API body) and builds its normalized model.
 * Every problem is reported: the schema's, then the cross-field ones (references, subnets,
 * cabling) found in the parts that are themselves valid, so one broken node does not hide the
 * mistakes elsewhere nor cause made-up ones about itself.
 */
export function validateLab(input: unknown, opts: ValidateOptions = {}): ValidateResult {
  const parsed = LabFileSchema.safeParse(input, { reportInput: true });
  const issues = parsed.success ? [] : describeZodIssues(parsed.error.issues);
  if (!isRecord(input)) return { ok: false, issues };
  // A file that passed as a whole has every part valid: the normalizer reads the parsed file
  // instead of parsing each part again (it does that only to isolate a broken file's errors).
  const n = new Normalizer(input, opts, parsed.success ? parsed.data : undefined);
  const lab = n.run();
  issues.push(...n.issues);
  if (issues.length > 0 || !parsed.success) return { ok: false, issues: dedupe(issues) };
  lab.file = parsed.data;
  return { ok: true, lab };
}

function dedupe(issues: LabIssue[]): LabIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${formatPath(i.path)}\u0000${i.at}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function must<T>(p: Parsed<T>): T {
  if (!p.ok) throw new Error(`validated value failed to parse: ${p.error}`);
  return p.value;
}

/** The entries of a section of a file that passed as a whole: all valid. */
function allEntries<T>(section: Record<string, T> | null | undefined): { all: Set<string>; valid: Map<string, T>; broken: boolean } {
  const valid = new Map<string, T>(section ? Object.entries(section) : []);
  return { all: new Set(valid.keys()), valid, broken: false };
}

/** The items of a list section of a file that passed as a whole: all valid. */
function allItems<T>(section: T[] | null | undefined): { valid: Map<number, T>; broken: boolean } {
  return { valid: new Map<number, T>(section ? section.map((v, i) => [i, v] as const) : []), broken: false };
}

/** Entries of a record-valued section whose key and value are each valid by themselves. */
function validEntries<T>(section: unknown, keyRe: RegExp, schema: z.ZodType<T>): { all: Set<string>; valid: Map<string, T>; broken: boolean } {
  const all = new Set<string>();
  const valid = new Map<string, T>();
  if (section === undefined || section === null) return { all, valid, broken: false };
  if (!isRecord(section)) return { all, valid, broken: true };
  for (const [k, v] of Object.entries(section)) {
    all.add(k);
    if (!keyRe.test(k)) continue;
    const r = schema.safeParse(v);
    if (r.success) valid.set(k, r.data);
  }
  return { all, valid, broken: false };
}

function validItems<T>(section: unknown, schema: z.ZodType<T>): { valid: Map<number, T>; broken: boolean } {
  const valid = new Map<number, T>();
  if (section === undefined || section === null) return { valid, broken: false };
  if (!Array.isArray(section)) return { valid, broken: true };
  section.forEach((v, i) => {
    const r = schema.safeParse(v);
    if (r.success) valid.set(i, r.data);
  });
  return { valid, broken: false };
}

function fnv(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const ip = ip4ToString;

/** One pass over a lab's valid parts: builds the model and records every cross-field problem. */
class Normalizer {
  readonly issues: LabIssue[] = [];
  private readonly labName: string;
  private readonly nets: ReturnType<typeof validEntries<NetworkSpec>>;
  private readonly nodeSpecs: ReturnType<typeof validEntries<NodeSpec>>;
  private readonly networks: Record<string, LabNetwork> = {};
  private readonly nodes: Record<string, LabNode> = {};
  /** `node\0iface` -> the interface model, for ports only (not sub-interfaces). */
  private readonly ports = new Map<string, LabIfaceBase>();
  /** `node\0iface` -> where it was cabled first, for "cabled twice": its network: key, or the index in links:. */
  private readonly cabled = new Map<string, string | number>();
  private readonly networkKeys: { node: string; iface: string; network: string; path: PathSegment[] }[] = [];
  private readonly macs: { mac: Mac; owner: string; path: PathSegment[] | undefined }[] = [];
  /** Reservations whose MAC needs the links (node: reservations). */
  private readonly pendingReservations: {
    into: LabReservation[];
    spec: ReservationSpec;
    path: PathSegment[];
    /** A network's name, or undefined for a router pool (the node's DHCP interface). */
    network: string | undefined;
  }[] = [];

  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly opts: ValidateOptions,
    /** The whole file, when it passed the schema: then every part is known valid. */
    private readonly whole: LabFile | undefined,
  ) {
    if (whole !== undefined) {
      this.labName = whole.name;
      this.nets = allEntries(whole.networks);
      this.nodeSpecs = allEntries(whole.nodes);
      return;
    }
    const name = LabNameSchema.safeParse(raw['name']);
    this.labName = name.success ? name.data : 'lab';
    this.nets = validEntries(raw['networks'], NODE_NAME_RE, NetworkSchema);
    this.nodeSpecs = validEntries(raw['nodes'], NODE_NAME_RE, NodeSchema);
  }

  private linkSpecs(): { valid: Map<number, LinkSpec>; broken: boolean } {
    return this.whole !== undefined ? allItems(this.whole.links) : validItems(this.raw['links'], LinkSchema);
  }

  private checkSpecs(): { valid: Map<number, CheckSpec>; broken: boolean } {
    return this.whole !== undefined ? allItems(this.whole.checks) : validItems(this.raw['checks'], CheckSchema);
  }

  private issue(path: PathSegment[], message: string, at: 'key' | 'value' = 'value'): void {
    this.issues.push({ path, message, at });
  }

  run(): Lab {
    const raw = this.raw;
    if (typeof raw['name'] === 'string' && this.opts.folderName !== undefined && raw['name'] !== this.opts.folderName) {
      this.issue(['name'], `the lab is named ${JSON.stringify(raw['name'])} but its folder is ${JSON.stringify(this.opts.folderName)}; they must be the same`);
    }
    for (const name of this.nodeSpecs.all) {
      if (this.nets.all.has(name)) this.issue(['nodes', name], `${JSON.stringify(name)} is also the name of a network; node and network names must differ`, 'key');
    }
    for (const [name, spec] of this.nodeSpecs.valid) this.nodes[name] = this.node(name, spec);
    this.assignConsoles();
    const vmnets: [string, NetworkSpec & { type: 'nat' | 'host-only' }][] = [];
    for (const [name, spec] of this.nets.valid) if (spec.type === 'nat' || spec.type === 'host-only') vmnets.push([name, spec]);
    const autoSubnets = this.chooseSubnets(vmnets);
    for (const [name, spec] of this.nets.valid) {
      if (spec.type === 'nat' || spec.type === 'host-only') this.networks[name] = this.vmnet(name, spec, autoSubnets.get(name));
      else if (spec.type === 'bridged') this.networks[name] = { name, type: 'bridged', ui: spec.ui, attached: [], interface: spec.interface };
      else this.networks[name] = { name, type: 'segment', ui: spec.ui, attached: [] };
    }
    const links = this.links();
    this.resolveReservations();
    this.checkMacs();
    const checks = this.checks();

    const time = raw['time'] === 'real' || raw['time'] === 'virtual' ? raw['time'] : undefined;
    const whole = this.whole;
    const snapshots = whole !== undefined ? whole.snapshots : SnapshotsSchema.safeParse(raw['snapshots']).data;
    const cloneOf = whole !== undefined ? whole['clone-of'] : CloneOfSchema.safeParse(raw['clone-of']).data;
    if (cloneOf !== undefined && cloneOf.lab === this.labName) this.issue(['clone-of', 'lab'], 'a lab cannot be a linked clone of itself');
    const seed = raw['seed'];
    return {
      version: 1,
      name: this.labName,
      description: typeof raw['description'] === 'string' ? raw['description'] : '',
      time: time ?? (this.reachesRealWorld() ? 'real' : 'virtual'),
      timeExplicit: time !== undefined,
      seed: typeof seed === 'number' ? seed : LAB_DEFAULTS.seed,
      networks: this.networks,
      nodes: this.nodes,
      links,
      checks,
      snapshots: snapshots !== undefined ? { everyNs: must(parseDuration(snapshots.every)), keep: snapshots.keep ?? LAB_DEFAULTS.snapshotsKeep } : undefined,
      cloneOf: cloneOf !== undefined ? { lab: cloneOf.lab, snapshot: cloneOf.snapshot } : undefined,
      file: raw as LabFile,
    };
  }

  private reachesRealWorld(): boolean {
    for (const n of Object.values(this.networks)) {
      if (n.type === 'bridged' || n.type === 'nat' || (n.type === 'host-only' && n.hostAdapter === 'tap')) return true;
    }
    return Object.values(this.nodes).some((n) => n.kind === 'cloud');
  }

  // ------------------------------------------------------------ references

  private suggest(name: string, candidates: Iterable<string>): string {
    const close = [...candidates].filter((c) => editDistance(c.toLowerCase(), name.toLowerCase()) <= 2);
    return close.length > 0 ? ` (did you mean ${close.join(' or ')}?)` : '';
  }

  /** A network named by an interface's network: key; false when it names nothing valid. */
  private networkRef(name: string, path: PathSegment[]): boolean {
    if (this.nets.valid.has(name)) return true;
    if (this.nets.all.has(name) || this.nets.broken) return false;
    if (this.nodeSpecs.all.has(name)) this.issue(path, `${name} is a node, not a network; join a node with a link`);
    else this.issue(path, `no network named ${JSON.stringify(name)}${this.suggest(name, this.nets.all)}`);
    return false;
  }

  /** A node named by a check or reservation: the node, undefined if it is missing (reported) or broken (already reported). */
  private nodeRef(name: string, path: PathSegment[], kinds?: readonly LabNode['kind'][], role = 'this'): LabNode | undefined {
    const node = this.nodes[name];
    if (node === undefined) {
      if (!this.nodeSpecs.all.has(name) && !this.nodeSpecs.broken) {
        this.issue(path, `no node named ${JSON.stringify(name)}${this.suggest(name, this.nodeSpecs.all)}`);
      }
      return undefined;
    }
    if (kinds !== undefined && !kinds.includes(node.kind)) {
      this.issue(path, `${name} is a ${node.kind}; ${role} needs a ${kinds.join(' or ')}`);
      return undefined;
    }
    return node;
  }

  private mac(node: string, iface: string, text: string | undefined, nodePath: PathSegment[]): Mac {
    const mac = text === undefined ? stableMac(this.labName, node, iface) : must(parseMacAddress(text));
    this.macs.push({ mac, owner: `${node}:${iface}`, path: text === undefined ? undefined : [...nodePath, 'interfaces', iface, 'mac'] });
    return mac;
  }

  private checkMacs(): void {
    const first = new Map<Mac, string>();
    for (const m of this.macs) if (m.path === undefined && !first.has(m.mac)) first.set(m.mac, m.owner);
    for (const m of this.macs) {
      if (m.path === undefined) continue;
      const other = first.get(m.mac);
      if (other !== undefined && other !== m.owner) this.issue(m.path, `${macToString(m.mac)} is also the MAC of ${other}`);
      else first.set(m.mac, m.owner);
    }
  }

  /** Flags addresses that cannot be an interface's: the subnet's own network or broadcast address. */
  /** Flags addresses that cannot be an interface's (`path` is the interface's; the issue is on its ip:). */
  private hostAddress(c: Cidr, path: PathSegment[]): void {
    if (isHostAddress(c, c.ip)) return;
    path = [...path, 'ip'];
    const which = c.ip === c.network ? 'network' : 'broadcast';
    this.issue(path, `${ip(c.ip)} is the ${which} address of ${formatSubnet(c)}; an interface needs a host address`);
  }

  // ------------------------------------------------------------ nodes

  private node(name: string, spec: NodeSpec): LabNode {
    const base = { name, ui: spec.ui, console: spec.console ?? 0, consoleExplicit: spec.console !== undefined };
    const P: PathSegment[] = ['nodes', name];
    // Object.assign rather than spreading both: the same object, made once per node of a big lab.
    switch (spec.kind) {
      case 'host':
        return Object.assign(base, this.host(name, spec, P));
      case 'switch':
        return Object.assign(base, this.switch(name, spec, P));
      case 'router':
        return Object.assign(base, this.router(name, spec, P));
      case 'hub': {
        const ports = spec.ports ?? LAB_DEFAULTS.hubPorts;
        const interfaces = Array.from({ length: ports }, (_, i) => this.port(name, `p${i}`, undefined, P));
        return { ...base, kind: 'hub', ports, interfaces };
      }
      case 'cloud': {
        const e = spec.endpoint;
        const endpoint: LabCloudEndpoint =
          e.type === 'udp'
            ? { type: 'udp', local: must(parseIpPort(e.local)), remote: must(parseIpPort(e.remote)) }
            : e.type === 'tap'
              ? { type: 'tap', name: e.name, netns: e.netns }
              : { type: 'nic', interface: e.interface };
        return { ...base, kind: 'cloud', endpoint, interfaces: [this.port(name, LAB_DEFAULTS.cloudInterface, undefined, P)] };
      }
    }
  }

  private port(node: string, iface: string, mac: string | undefined, nodePath: PathSegment[]): LabIfaceBase {
    const port: LabIfaceBase = { name: iface, mac: this.mac(node, iface, mac, nodePath), macExplicit: mac !== undefined, network: undefined };
    this.ports.set(`${node}\u0000${iface}`, port);
    return port;
  }

  private joinNetwork(node: string, iface: string, network: string | undefined, path: PathSegment[]): void {
    if (network !== undefined && this.networkRef(network, [...path, 'network'])) {
      this.networkKeys.push({ node, iface, network, path: [...path, 'network'] });
    }
  }

  private host(name: string, spec: HostNodeSpec, P: PathSegment[]): Omit<LabHost, keyof LabNodeBase> {
    const declared = spec.interfaces ?? {};
    const names = [...new Set([LAB_DEFAULTS.hostInterface, ...Object.keys(declared)])];
    const interfaces = names.map((ifn): LabHostIface => {
      const d = declared[ifn];
      const path = [...P, 'interfaces', ifn];
      const port = this.port(name, ifn, d?.mac, P);
      let hostIp: HostIp = { mode: 'none' };
      if (d?.ip === 'dhcp') hostIp = { mode: 'dhcp' };
      else if (d?.ip !== undefined) {
        hostIp = { mode: 'static', cidr: must(parseCidr(d.ip)) };
        this.hostAddress(hostIp.cidr, path);
      }
      let gateway: Ip4 | undefined;
      if (d?.gateway !== undefined) {
        gateway = must(parseIp(d.gateway));
        const gp = [...path, 'gateway'];
        if (hostIp.mode === 'dhcp') this.issue(gp, 'with ip: dhcp the gateway comes from the DHCP server; remove gateway: or give a static ip:');
        else if (hostIp.mode === 'none') this.issue(gp, 'a gateway needs a static ip: on this interface');
        else if (!cidrContains(hostIp.cidr, gateway)) this.issue(gp, `gateway ${ip(gateway)} is outside ${ifn}'s subnet ${formatSubnet(hostIp.cidr)}`);
        else if (gateway === hostIp.cidr.ip) this.issue(gp, `gateway ${ip(gateway)} is this interface's own address`);
      }
      this.joinNetwork(name, ifn, d?.network, path);
      return Object.assign(port, { ip: hostIp, gateway, vlan: d?.vlan });
    });
    const s = spec.services;
    return {
      kind: 'host',
      interfaces,
      dns: (spec.dns ?? []).map((t) => must(parseIp(t))),
      services: {
        http: s?.http ? { port: s.http.port ?? LAB_DEFAULTS.httpPort, body: s.http.body ?? '' } : undefined,
        udpEcho: s?.['udp-echo'] ? { port: s['udp-echo'].port ?? LAB_DEFAULTS.echoPort } : undefined,
        tcpEcho: s?.['tcp-echo'] ? { port: s['tcp-echo'].port ?? LAB_DEFAULTS.echoPort } : undefined,
        dns: s?.dns
          ? {
              port: s.dns.port ?? LAB_DEFAULTS.dnsPort,
              records: Object.entries(s.dns.records).map(([n, a]) => ({ name: n.replace(/\.$/, '').toLowerCase(), ip: must(parseIp(a)) })),
            }
          : undefined,
      },
    };
  }

  private switch(name: string, spec: SwitchNodeSpec, P: PathSegment[]): Omit<LabSwitch, keyof LabNodeBase> {
    const ports = spec.ports ?? LAB_DEFAULTS.switchPorts;
    const declared = spec.interfaces ?? {};
    for (const key of Object.keys(declared)) {
      const index = Number(key.slice(1));
      if (index >= ports) {
        this.issue(
          [...P, 'interfaces', key],
          `${name} has ${ports} port${ports === 1 ? '' : 's'} (e0..e${ports - 1}); set ports: ${index + 1} or more to use ${key}`,
          'key',
        );
      }
    }
    const interfaces = Array.from({ length: ports }, (_, i): LabSwitchPort => {
      const ifn = `e${i}`;
      const d = declared[ifn];
      // Completed in place (in this key order): a switch of a thousand ports makes one object a port.
      const port = this.port(name, ifn, undefined, P) as LabSwitchPort;
      const mode = d?.mode ?? 'access';
      port.mode = mode;
      port.vlan = mode === 'access' ? (d?.vlan ?? LAB_DEFAULTS.vlan) : LAB_DEFAULTS.vlan;
      port.allowed = mode === 'trunk' && Array.isArray(d?.allowed) ? [...new Set(d.allowed)].sort((a, b) => a - b) : 'all';
      port.native = d?.native ?? LAB_DEFAULTS.vlan;
      port.shutdown = d?.shutdown ?? false;
      return port;
    });
    const stp = spec.stp === false ? 'off' : spec.stp === 'stp' ? 'stp' : spec.stp === 'rstp' ? 'rstp' : LAB_DEFAULTS.stp;
    return { kind: 'switch', ports, stp, stpPriority: spec['stp-priority'] ?? LAB_DEFAULTS.stpPriority, interfaces };
  }

  private router(name: string, spec: RouterNodeSpec, P: PathSegment[]): Omit<LabRouter, keyof LabNodeBase> {
    const declared = spec.interfaces ?? {};
    const IP: PathSegment[] = [...P, 'interfaces'];
    const physicalNames = [...new Set([...LAB_DEFAULTS.routerInterfaces, ...Object.keys(declared).filter((k) => !k.includes('.'))])];
    const interfaces = physicalNames.map((ifn): LabRouterIface => {
      const d = declared[ifn];
      const path = [...IP, ifn];
      const port = this.port(name, ifn, d?.mac, P);
      const cidr = d?.ip === undefined ? undefined : must(parseCidr(d.ip));
      if (cidr) this.hostAddress(cidr, path);
      if (d?.vlan !== undefined) this.issue([...path, 'vlan'], `vlan: is for sub-interfaces such as ${ifn}.${d.vlan}; ${ifn} itself is untagged`);
      this.joinNetwork(name, ifn, d?.network, path);
      return Object.assign(port, { ip: cidr, shutdown: d?.shutdown ?? false, aclIn: d?.['acl-in'], aclOut: d?.['acl-out'] });
    });
    const subinterfaces: LabRouterSubIface[] = [];
    const vlansByParent = new Map<string, Set<number>>();
    for (const [ifn, d] of Object.entries(declared)) {
      if (!ifn.includes('.')) continue;
      const path = [...IP, ifn];
      const parentName = ifn.slice(0, ifn.indexOf('.'));
      const parent = interfaces.find((i) => i.name === parentName);
      if (!parent) {
        this.issue(path, `${name} has no interface ${parentName} for the sub-interface ${ifn}`, 'key');
        continue;
      }
      if (d.network !== undefined) this.issue([...path, 'network'], `a sub-interface rides on its parent's cable; put network: on ${parentName}`);
      if (d.mac !== undefined) this.issue([...path, 'mac'], `a sub-interface uses its parent's MAC; set mac: on ${parentName}`);
      if (d.vlan === undefined) {
        this.issue([...path, 'vlan'], `missing: the sub-interface ${ifn} needs the 802.1Q vlan: it carries`);
        continue;
      }
      const used = vlansByParent.get(parentName) ?? new Set<number>();
      vlansByParent.set(parentName, used);
      if (used.has(d.vlan)) this.issue([...path, 'vlan'], `another sub-interface of ${parentName} already carries VLAN ${d.vlan}`);
      used.add(d.vlan);
      const cidr = d.ip === undefined ? undefined : must(parseCidr(d.ip));
      if (cidr) this.hostAddress(cidr, path);
      subinterfaces.push({
        name: ifn,
        parent: parentName,
        vlan: d.vlan,
        ip: cidr,
        mac: parent.mac,
        shutdown: d.shutdown ?? false,
        aclIn: d['acl-in'],
        aclOut: d['acl-out'],
      });
    }
    // IOS refuses an address whose subnet overlaps another interface's.
    const l3: { name: string; ip: Cidr | undefined }[] = [...interfaces, ...subinterfaces];
    l3.forEach((a, i) => {
      if (!a.ip) return;
      const b = l3.slice(0, i).find((o) => o.ip && subnetsOverlap(o.ip, a.ip!));
      if (b) this.issue([...IP, a.name, 'ip'], `${formatSubnet(a.ip)} overlaps ${b.name} (${formatCidr(b.ip!)})`);
    });
    const l3ByName = new Map(l3.map((i) => [i.name, i]));
    const ifaceRef = (ifn: string, path: PathSegment[], needIp: boolean, at: 'key' | 'value' = 'value') => {
      const i = l3ByName.get(ifn);
      if (!i) this.issue(path, `${name} has no interface ${ifn}; it has ${describeNames([...l3ByName.keys()])}`, at);
      else if (needIp && !i.ip) this.issue(path, `${ifn} has no ip:`, at);
      return i;
    };

    const routes = (spec.routes ?? []).map((r, i): LabRoute => {
      if (r.interface !== undefined) ifaceRef(r.interface, [...P, 'routes', i, 'interface'], false);
      return { to: must(parseSubnet(r.to)), via: must(parseIp(r.via)), iface: r.interface, distance: r.distance ?? 1 };
    });
    const acls = spec.acls ?? {};
    for (const [ifn, d] of Object.entries(declared)) {
      for (const key of ['acl-in', 'acl-out'] as const) {
        const acl = d[key];
        if (acl !== undefined && !(acl in acls)) {
          this.issue([...IP, ifn, key], `no access list named ${JSON.stringify(acl)}${Object.keys(acls).length ? `; acls: has ${Object.keys(acls).join(', ')}` : ' (define it under acls:)'}`);
        }
      }
    }

    const dhcpPools: LabDhcpPool[] = [];
    (spec['dhcp-server']?.pools ?? []).forEach((p, i) => {
      const path: PathSegment[] = [...P, 'dhcp-server', 'pools', i];
      let subnet: Cidr | undefined;
      let own: Ip4 | undefined;
      if (p.interface !== undefined) {
        const iface = ifaceRef(p.interface, [...path, 'interface'], true);
        if (iface?.ip) {
          own = iface.ip.ip;
          subnet = makeCidr(iface.ip.network, iface.ip.prefix);
        }
      } else if (p.network !== undefined) subnet = must(parseSubnet(p.network));
      if (!subnet) return;
      const where = p.interface !== undefined ? `${p.interface}'s subnet ${formatSubnet(subnet)}` : `the pool's network ${formatSubnet(subnet)}`;
      const range = p.range === undefined ? { start: subnet.network + 1, end: subnet.broadcast - 1 } : must(parseIpRange(p.range));
      if (p.range !== undefined) this.rangeInside(range, subnet, where, [...path, 'range']);
      const gateway = p.gateway !== undefined ? must(parseIp(p.gateway)) : own;
      if (p.gateway !== undefined && gateway !== undefined && !cidrContains(subnet, gateway)) {
        this.issue([...path, 'gateway'], `gateway ${ip(gateway)} is outside ${where}`);
      }
      const excluded = (p.excluded ?? []).map((t, j) => {
        const r = t.includes('-') ? must(parseIpRange(t)) : { start: must(parseIp(t)), end: must(parseIp(t)) };
        if (!rangeInSubnet(r, subnet)) this.issue([...path, 'excluded', j], `${t} is outside ${where}`);
        return r;
      });
      for (const a of [own, gateway]) if (a !== undefined && !excluded.some((r) => rangeContains(r, a))) excluded.push({ start: a, end: a });
      const pool: LabDhcpPool = {
        name: p.name ?? `pool${i + 1}`,
        interface: p.interface,
        subnet,
        range,
        gateway,
        dns: (p.dns ?? []).map((t) => must(parseIp(t))),
        leaseNs: p.lease === undefined ? LAB_DEFAULTS.poolLeaseNs : must(parseDuration(p.lease)),
        reservations: [],
        excluded,
      };
      this.reservations(pool.reservations, p.reservations, [...path, 'reservations'], subnet, where, [], undefined);
      dhcpPools.push(pool);
    });

    const dhcpRelays = Object.entries(spec['dhcp-relay'] ?? {}).map(([ifn, server]) => {
      ifaceRef(ifn, [...P, 'dhcp-relay', ifn], true, 'key');
      return { iface: ifn, server: must(parseIp(server)) };
    });

    let nat: LabRouter['nat'];
    if (spec.nat) {
      const N: PathSegment[] = [...P, 'nat'];
      spec.nat.inside.forEach((ifn, i) => ifaceRef(ifn, [...N, 'inside', i], false));
      ifaceRef(spec.nat.outside, [...N, 'outside'], false);
      if (spec.nat.inside.includes(spec.nat.outside)) this.issue([...N, 'outside'], `${spec.nat.outside} cannot be both inside and outside`);
      nat = {
        inside: spec.nat.inside,
        outside: spec.nat.outside,
        overload: spec.nat.overload ?? true,
        static: (spec.nat.static ?? []).map((s) => ({ inside: must(parseIp(s.inside)), outside: must(parseIp(s.outside)) })),
      };
    }
    return { kind: 'router', interfaces, subinterfaces, routes, dhcpPools, dhcpRelays, nat, acls: structuredClone(acls) };
  }

  private assignConsoles(): void {
    const taken = new Map<number, string>();
    for (const node of Object.values(this.nodes)) {
      if (!node.consoleExplicit) continue;
      const other = taken.get(node.console);
      if (other !== undefined) this.issue(['nodes', node.name, 'console'], `console port ${node.console} is also ${other}'s`);
      else taken.set(node.console, node.name);
    }
    let next = LAB_DEFAULTS.firstConsolePort;
    for (const node of Object.values(this.nodes)) {
      if (node.consoleExplicit) continue;
      while (taken.has(next)) next++;
      node.console = next++;
    }
  }

  // ------------------------------------------------------------ networks

  /**
   * SPEC: a nat/host-only network without subnet gets "a random free 192.168.X.0/24". Random
   * but stable: X comes from a hash of the lab and network names, moved on past subnets the lab
   * already uses, so the network keeps its addresses from one load to the next.
   */
  private chooseSubnets(vmnets: [string, NetworkSpec & { type: 'nat' | 'host-only' }][]): Map<string, Cidr> {
    const used: Cidr[] = [];
    for (const [, spec] of vmnets) if (spec.subnet !== undefined) used.push(must(parseSubnet(spec.subnet)));
    for (const node of Object.values(this.nodes)) {
      if (node.kind === 'host') for (const i of node.interfaces) if (i.ip.mode === 'static') used.push(i.ip.cidr);
      if (node.kind === 'router') {
        for (const i of [...node.interfaces, ...node.subinterfaces]) if (i.ip) used.push(i.ip);
        for (const p of node.dhcpPools) used.push(p.subnet);
      }
    }
    const chosen = new Map<string, Cidr>();
    for (const [name, spec] of vmnets) {
      if (spec.subnet !== undefined) continue;
      const start = fnv(`${this.labName}/${name}`) % 254;
      for (let k = 0; k < 254; k++) {
        const c = makeCidr(((192 << 24) | (168 << 16) | (((start + k) % 254) + 1) << 8) >>> 0, 24);
        if (used.some((u) => subnetsOverlap(u, c))) continue;
        used.push(c);
        chosen.set(name, c);
        break;
      }
      if (!chosen.has(name)) this.issue(['networks', name], 'no free 192.168.X.0/24 is left for this network; give it a subnet:', 'key');
    }
    return chosen;
  }

  private vmnet(name: string, spec: NetworkSpec & { type: 'nat' | 'host-only' }, auto: Cidr | undefined): LabVmnet {
    const P: PathSegment[] = ['networks', name];
    const subnet = spec.subnet !== undefined ? must(parseSubnet(spec.subnet)) : (auto ?? makeCidr(0xc0a80000, 24));
    if (subnet.prefix > 29) this.issue([...P, 'subnet'], `a ${spec.type} network needs room for .1, .2, .254 and clients: a /29 or larger, not /${subnet.prefix}`);
    const hostIp = subnet.network + 1;
    const gatewayIp = subnet.network + 2;
    const serverIp = subnet.broadcast - 1;
    const reserved = [hostIp, gatewayIp, serverIp];
    const where = `${name}'s subnet ${formatSubnet(subnet)}`;
    const d = spec.dhcp;
    const half = Math.floor((subnet.broadcast - subnet.network + 1) / 2);
    const range = d?.range !== undefined ? must(parseIpRange(d.range)) : { start: subnet.network + half, end: subnet.broadcast - 2 };
    if (d?.range !== undefined && this.rangeInside(range, subnet, where, [...P, 'dhcp', 'range'])) {
      const hit = reserved.find((a) => rangeContains(range, a));
      if (hit !== undefined) {
        this.issue(
          [...P, 'dhcp', 'range'],
          `the range includes ${ip(hit)}; ${ip(hostIp)} (host), ${ip(gatewayIp)} (gateway) and ${ip(serverIp)} (DHCP server) are never leased`,
        );
      }
    }
    const enabled = d?.enabled ?? true;
    if (!enabled && d?.reservations?.length) this.issue([...P, 'dhcp', 'reservations'], 'reservations need DHCP on (enabled: false turns it off)');
    const reservations: LabReservation[] = [];
    this.reservations(reservations, d?.reservations, [...P, 'dhcp', 'reservations'], subnet, where, reserved, name);

    let nat: LabVmnet['nat'];
    if (spec.type === 'nat') {
      const seen = new Set<string>();
      const portForwards = (spec.nat?.['port-forwards'] ?? []).map((f, i) => {
        const path: PathSegment[] = [...P, 'nat', 'port-forwards', i];
        const host = must(parseIpPort(f.host));
        const guest = must(parseIpPort(f.guest));
        if (!isHostAddress(subnet, guest.ip)) this.issue([...path, 'guest'], `${f.guest} is not a host address in ${where}`);
        const key = `${f.proto} ${host.port}`;
        if (seen.has(key)) this.issue([...path, 'host'], `another ${f.proto} forward already listens on port ${host.port}`);
        seen.add(key);
        return { proto: f.proto, host, guest };
      });
      const up = spec.nat?.['dns-upstream'];
      nat = { gatewayIp, portForwards, dnsUpstream: up === undefined ? undefined : must(parseIpPort(up, 53)) };
    }
    return {
      name,
      type: spec.type,
      ui: spec.ui,
      attached: [],
      subnet,
      subnetAuto: spec.subnet === undefined,
      hostAdapter: spec['host-adapter'] ?? true,
      hostIp,
      dhcp: { enabled, serverIp, range, leaseNs: d?.lease === undefined ? LAB_DEFAULTS.networkLeaseNs : must(parseDuration(d.lease)), reservations },
      nat,
    };
  }

  /** True when the range lies in the subnet's host addresses (reported otherwise). */
  private rangeInside(range: IpRange, subnet: Cidr, where: string, path: PathSegment[]): boolean {
    const text = formatIpRange(range);
    if (!rangeInSubnet(range, subnet)) {
      this.issue(path, `${text} is outside ${where}`);
      return false;
    }
    const edge = [subnet.network, subnet.broadcast].find((a) => subnet.prefix < 31 && rangeContains(range, a));
    if (edge !== undefined) {
      this.issue(path, `${text} includes ${ip(edge)}, the ${edge === subnet.network ? 'network' : 'broadcast'} address of ${formatSubnet(subnet)}`);
      return false;
    }
    return true;
  }

  private reservations(
    into: LabReservation[],
    specs: ReservationSpec[] | undefined,
    path: PathSegment[],
    subnet: Cidr,
    where: string,
    reserved: Ip4[],
    network: string | undefined,
  ): void {
    const ips = new Map<Ip4, number>();
    (specs ?? []).forEach((r, i) => {
      const a = must(parseIp(r.ip));
      const ipPath = [...path, i, 'ip'];
      if (!isHostAddress(subnet, a)) this.issue(ipPath, `${r.ip} is not a host address in ${where}`);
      else if (reserved.includes(a)) this.issue(ipPath, `${r.ip} belongs to the network itself (.1 host, .2 gateway, .254 DHCP server)`);
      else if (ips.has(a)) this.issue(ipPath, `${r.ip} is already reserved by reservations[${ips.get(a)}]`);
      ips.set(a, i);
      if (r.mac !== undefined) into.push({ ip: a, mac: must(parseMacAddress(r.mac)), node: undefined, iface: undefined });
      else this.pendingReservations.push({ into, spec: r, path: [...path, i], network });
    });
  }

  /** node: reservations become MACs once the links say which interface is on which network. */
  private resolveReservations(): void {
    for (const { into, spec, path, network } of this.pendingReservations) {
      const nodeName = spec.node!;
      const node = this.nodeRef(nodeName, [...path, 'node'], network === undefined ? ['host'] : undefined, 'a DHCP reservation');
      if (!node) continue;
      const candidates: LabIfaceBase[] =
        network !== undefined
          ? node.interfaces.filter((i: LabIfaceBase) => i.network === network)
          : (node as LabHost).interfaces.filter((i) => i.ip.mode === 'dhcp');
      let chosen: LabIfaceBase | undefined;
      if (spec.iface !== undefined) {
        const named = (node.interfaces as LabIfaceBase[]).find((i) => i.name === spec.iface);
        if (!named) this.issue([...path, 'iface'], `${nodeName} has no interface ${spec.iface}`);
        else if (!candidates.includes(named)) {
          this.issue([...path, 'iface'], network !== undefined ? `${nodeName}:${spec.iface} is not on ${network}` : `${nodeName}:${spec.iface} does not use ip: dhcp`);
        } else chosen = named;
      } else if (candidates.length === 0) {
        this.issue([...path, 'node'], network !== undefined ? `${nodeName} has no interface on ${network}` : `${nodeName} has no interface with ip: dhcp`);
      } else if (candidates.length > 1 && network === undefined) {
        this.issue([...path, 'node'], `${nodeName} has several DHCP interfaces (${candidates.map((c) => c.name).join(', ')}); say which with iface:`);
      } else chosen = candidates[0];
      if (chosen) into.push({ ip: must(parseIp(spec.ip)), mac: chosen.mac, node: nodeName, iface: chosen.name });
    }
  }

  // ------------------------------------------------------------ links

  private links(): LabLink[] {
    const links: LabLink[] = [];
    const attach = (node: string, iface: string, network: string) => {
      const port = this.ports.get(`${node}\u0000${iface}`);
      if (port) port.network = network;
      this.networks[network]?.attached.push({ node, iface });
    };
    for (const k of this.networkKeys) {
      this.cabled.set(`${k.node}\u0000${k.iface}`, `its network: ${k.network}`);
      attach(k.node, k.iface, k.network);
      links.push({
        id: `${k.node}:${k.iface}--${k.network}`,
        a: { kind: 'iface', node: k.node, iface: k.iface },
        b: { kind: 'network', network: k.network },
        impairments: {},
        suspended: false,
        origin: { kind: 'network-key' },
      });
    }
    const { valid, broken } = this.linkSpecs();
    if (broken) return links;
    for (const [index, spec] of valid) {
      const long = !Array.isArray(spec);
      const texts = long ? spec.endpoints : spec;
      const P: PathSegment[] = long ? ['links', index, 'endpoints'] : ['links', index];
      const e0 = this.endpoint(texts[0], P, 0);
      const e1 = this.endpoint(texts[1], P, 1);
      if (!e0 || !e1) continue;
      if (e0.kind === 'network' && e1.kind === 'network') {
        this.issue(['links', index], 'both ends are networks; a link joins an interface to an interface or to a network');
        continue;
      }
      if (e0.kind === 'iface' && e1.kind === 'iface' && e0.node === e1.node && e0.iface === e1.iface) {
        this.issue([...P, 1], `a link cannot join ${e0.node}:${e0.iface} to itself`);
        continue;
      }
      let clash = false;
      for (let side = 0; side < 2; side++) {
        const e = side === 0 ? e0 : e1;
        if (e.kind !== 'iface') continue;
        const key = `${e.node}\u0000${e.iface}`;
        const before = this.cabled.get(key);
        if (before !== undefined) {
          this.issue([...P, side], `${e.node}:${e.iface} is already cabled by ${typeof before === 'number' ? `links[${before}]` : before}; an interface takes one cable`);
          clash = true;
        } else this.cabled.set(key, index);
      }
      if (clash) continue;
      const a = e0.kind === 'iface' ? e0 : (e1 as LinkEnd & { kind: 'iface' });
      const b = a === e0 ? e1 : e0;
      if (b.kind === 'network') attach(a.node, a.iface, b.network);
      const impairments: Impairments = {};
      let suspended = false;
      if (long) {
        if (spec.delay !== undefined) impairments.delayNs = must(parseDuration(spec.delay));
        if (spec.jitter !== undefined) impairments.jitterNs = must(parseDuration(spec.jitter));
        if (spec.loss !== undefined) impairments.loss = must(parsePercent(spec.loss));
        if (spec.duplicate !== undefined) impairments.duplicate = must(parsePercent(spec.duplicate));
        if (spec.corrupt !== undefined) impairments.corrupt = must(parsePercent(spec.corrupt));
        if (spec.rate !== undefined) impairments.rateBps = must(parseRate(spec.rate));
        suspended = spec.suspended ?? false;
      }
      const bText = b.kind === 'network' ? b.network : `${b.node}:${b.iface}`;
      links.push({ id: `${a.node}:${a.iface}--${bText}`, a, b, impairments, suspended, origin: { kind: 'link', index } });
    }
    return links;
  }

  /** The end `side` of the link at `P` (its path in the file), written `text`; undefined when it names nothing (reported). */
  private endpoint(text: string, P: PathSegment[], side: number): LinkEnd | undefined {
        const colon = text.indexOf(':');
    if (colon < 0) {
      if (this.nets.valid.has(text)) return { kind: 'network', network: text };
      if (this.nets.all.has(text) || this.nets.broken) return undefined;
      const node = this.nodes[text];
      if (node) this.issue([...P, side], `${text} is a node: name its interface too, like ${text}:${node.interfaces[0]!.name}`);
      else if (!this.nodeSpecs.all.has(text)) this.issue([...P, side], `no network named ${JSON.stringify(text)}${this.suggest(text, this.nets.all)}; a node's end is written node:interface`);
      return undefined;
    }
    const nodeName = text.slice(0, colon);
    const iface = text.slice(colon + 1);
    const node = this.nodes[nodeName];
    if (!node) {
      if (this.nodeSpecs.all.has(nodeName) || this.nodeSpecs.broken) return undefined;
      if (this.nets.all.has(nodeName)) this.issue([...P, side], `${nodeName} is a network; write just ${nodeName}: a network has no interface names`);
      else this.issue([...P, side], `no node named ${JSON.stringify(nodeName)}${this.suggest(nodeName, this.nodeSpecs.all)}`);
      return undefined;
    }
    if (this.ports.has(`${nodeName}\u0000${iface}`)) return { kind: 'iface', node: nodeName, iface };
    const sub = node.kind === 'router' ? node.subinterfaces.find((s) => s.name === iface) : undefined;
    if (sub) this.issue([...P, side], `${iface} is a sub-interface; cable its parent ${nodeName}:${sub.parent}`);
    else this.issue([...P, side], `${nodeName} has no interface ${iface}; it has ${describeNames(node.interfaces.map((i: LabIfaceBase) => i.name))}`);
    return undefined;
  }

  // ------------------------------------------------------------ checks

  private checks(): LabCheck[] {
    const out: LabCheck[] = [];
    const { valid } = this.checkSpecs();
    const hosts = Object.values(this.nodes).filter((n) => n.kind === 'host').map((n) => n.name);
    const hostOrRouter = ['host', 'router'] as const;
    for (const [index, c] of valid) {
      const P: PathSegment[] = ['checks', index];
      const base = {
        index,
        expect: c.expect ?? 'success',
        timeoutNs: c.timeout === undefined ? LAB_DEFAULTS.checkTimeoutNs : must(parseDuration(c.timeout)),
      };
      const named = (auto: string) => ({ ...base, name: c.name ?? auto });
      if (c.ping) {
        this.nodeRef(c.ping.from, [...P, 'ping', 'from'], hostOrRouter, 'ping');
        const to = this.target(c.ping.to, [...P, 'ping', 'to']);
        out.push({ ...named(`ping ${c.ping.from} -> ${c.ping.to}`), kind: 'ping', from: c.ping.from, to, count: c.ping.count ?? LAB_DEFAULTS.pingCount });
      } else if (c.trace) {
        this.nodeRef(c.trace.from, [...P, 'trace', 'from'], hostOrRouter, 'trace');
        const to = this.target(c.trace.to, [...P, 'trace', 'to']);
        out.push({ ...named(`trace ${c.trace.from} -> ${c.trace.to}`), kind: 'trace', from: c.trace.from, to, hops: c.trace.hops?.map((h) => must(parseIp(h))) });
      } else if (c.dhcp) {
        const node = this.nodeRef(c.dhcp.node, [...P, 'dhcp', 'node'], ['host'], 'a dhcp check') as LabHost | undefined;
        let iface = c.dhcp.iface ?? '';
        if (node) {
          if (c.dhcp.iface !== undefined) {
            const i = node.interfaces.find((x) => x.name === c.dhcp!.iface);
            if (!i) this.issue([...P, 'dhcp', 'iface'], `${node.name} has no interface ${c.dhcp.iface}`);
            else if (i.ip.mode !== 'dhcp') this.issue([...P, 'dhcp', 'iface'], `${node.name}:${i.name} does not use ip: dhcp`);
          } else {
            const i = node.interfaces.find((x) => x.ip.mode === 'dhcp');
            if (!i) this.issue([...P, 'dhcp', 'node'], `${node.name} has no interface with ip: dhcp`);
            else iface = i.name;
          }
        }
        out.push({
          ...named(`dhcp ${c.dhcp.node}${iface ? `:${iface}` : ''}`),
          kind: 'dhcp',
          node: c.dhcp.node,
          iface,
          in: c.dhcp.in === undefined ? undefined : must(parseSubnet(c.dhcp.in)),
        });
      } else if (c.tcp || c.udp) {
        const kind = c.tcp ? 'tcp' : 'udp';
        const spec = (c.tcp ?? c.udp)!;
        this.nodeRef(spec.from, [...P, kind, 'from'], ['host'], `a ${kind} check`);
        out.push({ ...named(`${kind} ${spec.from} -> ${spec.to}`), kind, from: spec.from, to: must(parseIpPort(spec.to)) });
      } else if (c.http) {
        this.nodeRef(c.http.from, [...P, 'http', 'from'], ['host'], 'an http check');
        out.push({
          ...named(`http ${c.http.from} -> ${c.http.url}`),
          kind: 'http',
          from: c.http.from,
          url: c.http.url,
          status: c.http.status ?? LAB_DEFAULTS.httpStatus,
          contains: c.http.contains,
        });
      } else if (c.arp) {
        this.nodeRef(c.arp.node, [...P, 'arp', 'node'], hostOrRouter, 'an arp check');
        out.push({
          ...named(`arp ${c.arp.node} ${c.arp.ip}`),
          kind: 'arp',
          node: c.arp.node,
          ip: must(parseIp(c.arp.ip)),
          mac: c.arp.mac === undefined ? undefined : must(parseMacAddress(c.arp.mac)),
        });
      } else if (c.pingall !== undefined) {
        const among = c.pingall?.among;
        among?.forEach((n, i) => this.nodeRef(n, [...P, 'pingall', 'among', i], ['host'], 'pingall'));
        const list = among ?? hosts;
        if (list.length < 2 && !this.nodeSpecs.broken) {
          this.issue([...P, 'pingall'], `pingall needs two hosts or more; ${among ? 'among: names' : 'the lab has'} ${list.length}`);
        }
        out.push({ ...named(`pingall ${among ? among.join(' ') : '(all hosts)'}`), kind: 'pingall', among: list });
      }
    }
    return out;
  }

  private target(text: string, path: PathSegment[]): CheckTarget {
    const literal = parseIp4(text);
    if (literal !== null) return { text, ip: literal, node: undefined };
    if (this.nodeSpecs.all.has(text)) {
      const kind = this.nodes[text]?.kind;
      if (kind !== undefined && kind !== 'host' && kind !== 'router') this.issue(path, `${text} is a ${kind}: it has no address to reach`);
      return { text, ip: undefined, node: text };
    }
    if (!text.includes('.') && !this.nodeSpecs.broken) {
      this.issue(path, `no node named ${JSON.stringify(text)}${this.suggest(text, this.nodeSpecs.all)}; to: is an address, a node or a DNS name`);
    }
    return { text, ip: undefined, node: undefined };
  }
}

/** `e0..e7` for numbered runs, otherwise a list. */
function describeNames(names: string[]): string {
  const m = names.map((n) => /^(.*?)(\d+)$/.exec(n));
  if (names.length > 2 && m.every((x, i) => x && x[1] === m[0]![1] && Number(x[2]) === Number(m[0]![2]) + i)) {
    return `${names[0]}..${names[names.length - 1]}`;
  }
  return names.join(', ');
}
