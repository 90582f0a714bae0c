/**
 * The lab file (docs/lab-file.md) as zod schemas: `LabFile` (`z.infer`) is the file's own shape.
 *
 * The strings stay as the user wrote them (`30m`, `0.5%`, `10.1.0.10/24`) and nothing is
 * defaulted, so a server that edits a lab (moves a node, adds a link) changes a `LabFile` and
 * writes it back without inventing keys the user never wrote. Every text value is checked by the
 * same parsers that the model (model.ts, built by normalize.ts) uses, so a `LabFile` that passes
 * these schemas only lacks the cross-field checks.
 *
 * The per-part schemas (`NodeSchema`, `NetworkSchema`, `LinkSchema`, `CheckSchema`, ...) are
 * exported for API bodies.
 */
import { z } from 'zod';
import { UNKNOWN_KEY, describeValue } from './issues.js';
import {
  type Parsed,
  parseCidr,
  parseDuration,
  parseIp,
  parseIpPort,
  parseIpRange,
  parseMacAddress,
  parsePercent,
  parseRate,
  parseSubnet,
} from './units.js';

// ---------------------------------------------------------------- helpers

/** A mapping that refuses unknown keys, naming the ones it knows. */
function strict<S extends z.core.$ZodLooseShape>(shape: S) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? UNKNOWN_KEY + known : undefined),
  });
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
  /** e0 .. e{ports-1}; at most 4,095, the most an 802.1D port number (12 bits, 0 unused) can name. */
  ports: wholeNumber('ports', 1, 4095).optional(),
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
  // Shown in reports and --junit XML, where a control character (NUL, ESC) would break them.
  name: textValue('a check name', matching(/^[^\p{Cc}]*$/u, 'a check name is printable text, without control characters')).optional(),
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
