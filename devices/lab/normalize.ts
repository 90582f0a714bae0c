/**
 * `validateLab`: checks a lab file (schema, then the cross-field rules) and builds its normalized
 * model (model.ts) in one pass over its valid parts.
 */
import type { z } from 'zod';
import { stableMac } from '../device.js';
import type { Impairments } from '../engine/link.js';
import { type Ip4, type Mac, ip4ToString, macToString, parseIp4 } from '../wire/bytes.js';
import {
  CheckSchema,
  CloneOfSchema,
  LabFileSchema,
  LabNameSchema,
  LinkSchema,
  NODE_NAME_RE,
  NetworkSchema,
  NodeSchema,
  SnapshotsSchema,
  type CheckSpec,
  type HostNodeSpec,
  type LabFile,
  type LinkSpec,
  type NetworkSpec,
  type NodeSpec,
  type ReservationSpec,
  type RouterNodeSpec,
  type SwitchNodeSpec,
} from './file-schema.js';
import { type LabIssue, type PathSegment, describeZodIssues, editDistance, formatPath, isRecord } from './issues.js';
import { protoKeyPaths } from './proto-keys.js';
import {
  type CheckTarget,
  type HostIp,
  type Lab,
  type LabCheck,
  type LabCloudEndpoint,
  type LabDhcpPool,
  type LabHost,
  type LabHostIface,
  type LabIfaceBase,
  type LabLink,
  type LabNetwork,
  type LabNode,
  type LabNodeBase,
  type LabReservation,
  type LabRoute,
  type LabRouter,
  type LabRouterIface,
  type LabRouterSubIface,
  type LabSwitch,
  type LabSwitchPort,
  type LabVmnet,
  type LinkEnd,
  type ValidateOptions,
  type ValidateResult,
  LAB_DEFAULTS,
} from './model.js';
import {
  type Cidr,
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
  // zod's records skip an own `__proto__` key (JSON.parse and yaml make one): refused here, not lost.
  const proto = protoKeyPaths(input);
  if (proto.length > 0) {
    const said = new Set(issues.map((i) => formatPath(i.path)));
    for (const path of proto) if (!said.has(formatPath(path))) issues.push({ path, message: '"__proto__" cannot be a name or key in a lab file', at: 'key' });
    return { ok: false, issues: dedupe(issues) };
  }
  // A file that passed as a whole has every part valid: the normalizer reads the parsed file
  // instead of parsing each part again (it does that only to isolate a broken file's errors).
  const n = new Normalizer(input, opts, parsed.success ? parsed.data : undefined);
  const lab = n.run();
  issues.push(...n.issues);
  if (issues.length > 0 || !parsed.success) return { ok: false, issues: dedupe(issues) };
  lab.file = parsed.data;
  // Name-keyed tables without a prototype, so `file.nodes[name]` of a missing `valueOf` is undefined.
  if (lab.file.nodes) Object.setPrototypeOf(lab.file.nodes, null);
  if (lab.file.networks) Object.setPrototypeOf(lab.file.networks, null);
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
  // No prototype: a node named `constructor` or a lookup of a missing `valueOf` is an ordinary name.
  private readonly networks: Record<string, LabNetwork> = Object.create(null) as Record<string, LabNetwork>;
  private readonly nodes: Record<string, LabNode> = Object.create(null) as Record<string, LabNode>;
  /** The nodes in order: listing a big prototype-less table (Object.values) sorts its keys each time. */
  private readonly nodeList: LabNode[] = [];
  /** Interface name -> port, for nodes with many ports (a few are searched); built on first use. */
  private readonly portIndex = new Map<string, Map<string, LabIfaceBase>>();
  /** `node\0iface` -> where it was cabled first, for "cabled twice": its network: key, or the index in links:. */
  private readonly cabled = new Map<string, string | number>();
  private readonly networkKeys: { node: string; iface: string; network: string; path: PathSegment[] }[] = [];
  /** MACs written in the file, in order; generated ones only as numbers (a big lab has many). */
  private readonly explicitMacs: { mac: Mac; owner: string; path: PathSegment[] }[] = [];
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
    for (const [name, spec] of this.nodeSpecs.valid) this.nodeList.push((this.nodes[name] = this.node(name, spec)));
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
    return this.nodeList.some((n) => n.kind === 'cloud');
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
    if (text === undefined) return stableMac(this.labName, node, iface);
    const mac = must(parseMacAddress(text));
    this.explicitMacs.push({ mac, owner: `${node}:${iface}`, path: [...nodePath, 'interfaces', iface, 'mac'] });
    return mac;
  }

  /** A MAC written in the file that another interface has (generated MACs are not compared: they differ by construction). */
  private checkMacs(): void {
    if (this.explicitMacs.length === 0) return;
    const first = new Map<Mac, string>();
    for (const node of this.nodeList) {
      for (const p of node.interfaces as LabIfaceBase[]) if (!p.macExplicit && !first.has(p.mac)) first.set(p.mac, `${node.name}:${p.name}`);
    }
    for (const m of this.explicitMacs) {
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
        return Object.assign(base, { kind: 'hub' as const, ports, interfaces });
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
    return port;
  }

  /** A node's port (not a sub-interface) by name, once every node is built. */
  private portOf(node: string, iface: string): LabIfaceBase | undefined {
    const ifs = this.nodes[node]?.interfaces as LabIfaceBase[] | undefined;
    if (ifs === undefined) return undefined;
    if (ifs.length <= 16) {
      for (const p of ifs) if (p.name === iface) return p;
      return undefined;
    }
    let index = this.portIndex.get(node);
    if (index === undefined) {
      index = new Map(ifs.map((p) => [p.name, p]));
      this.portIndex.set(node, index);
    }
    return index.get(iface);
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
        if (acl !== undefined && !Object.hasOwn(acls, acl)) {
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
    for (const node of this.nodeList) {
      if (!node.consoleExplicit) continue;
      const other = taken.get(node.console);
      if (other !== undefined) this.issue(['nodes', node.name, 'console'], `console port ${node.console} is also ${other}'s`);
      else taken.set(node.console, node.name);
    }
    let next = LAB_DEFAULTS.firstConsolePort;
    for (const node of this.nodeList) {
      if (node.consoleExplicit) continue;
      while (taken.has(next)) next++;
      node.console = next++;
    }
  }

  // ------------------------------------------------------------ networks

  /**
   * A nat/host-only network without subnet gets "a random free 192.168.X.0/24". Random
   * but stable: X comes from a hash of the lab and network names, moved on past subnets the lab
   * already uses, so the network keeps its addresses from one load to the next.
   */
  private chooseSubnets(vmnets: [string, NetworkSpec & { type: 'nat' | 'host-only' }][]): Map<string, Cidr> {
    const used: Cidr[] = [];
    for (const [, spec] of vmnets) if (spec.subnet !== undefined) used.push(must(parseSubnet(spec.subnet)));
    for (const node of this.nodeList) {
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
      const port = this.portOf(node, iface);
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
    if (this.portOf(nodeName, iface) !== undefined) return { kind: 'iface', node: nodeName, iface };
    const sub = node.kind === 'router' ? node.subinterfaces.find((s) => s.name === iface) : undefined;
    if (sub) this.issue([...P, side], `${iface} is a sub-interface; cable its parent ${nodeName}:${sub.parent}`);
    else this.issue([...P, side], `${nodeName} has no interface ${iface}; it has ${describeNames(node.interfaces.map((i: LabIfaceBase) => i.name))}`);
    return undefined;
  }

  // ------------------------------------------------------------ checks

  private checks(): LabCheck[] {
    const out: LabCheck[] = [];
    const { valid } = this.checkSpecs();
    const hosts = this.nodeList.filter((n) => n.kind === 'host').map((n) => n.name);
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
