/**
 * The API's views of a lab (contract/labs.ts): built from the lab model, what lab.yaml says of
 * each object, and the running lab's state. Pure functions: server/lab-registry.ts finds the lab.
 */
import type { CheckView, InterfaceAddress, LabSummary, LabView, LinkView, NetworkView, NodeAddresses, NodeSpec, NetworkSpec, NodeView } from '../contract/index.js';
import { Host } from '../devices/host/index.js';
import { Router } from '../devices/router/index.js';
import { type LabError, formatLabError, formatLabWarning, labWarnings } from '../devices/lab/load.js';
import type { Lab, LabLink, LabNode } from '../devices/lab/schema.js';
import { formatCidr, formatDuration, formatPercent, formatRate } from '../devices/lab/units.js';
import { ip4ToString, macToString } from '../devices/wire/bytes.js';
import type { LabRuntimeApi } from './runtime.js';

/** What a view needs of a lab the server knows (server/lab-registry.ts's entry). */
export interface KnownLab {
  name: string;
  lab: Lab | null;
  problems: LabError[] | null;
  runtime: LabRuntimeApi | null;
  /** lab.yaml's text, to locate warnings in (null: not read yet). */
  text?: string | null;
}

/** Warnings by lab model: a view is asked for often, the model changes at each edit. */
const warningsOf = new WeakMap<Lab, LabError[]>();

/** Where a running lab's node's telnet console is: its own port, or none, the shared port and why. */
export interface NodeConsoleInfo {
  port: number | null;
  shared: number | null;
  note: string | null;
}
/** The node's console while its lab runs, or null (stopped, or a service without consoles). */
export type TelnetPortOf = (node: string) => NodeConsoleInfo | null;

export function labSummary(e: KnownLab): LabSummary {
  return {
    name: e.name,
    description: e.lab?.description ?? '',
    status: e.runtime ? 'running' : e.problems && !e.lab ? 'invalid' : 'stopped',
    nodeCount: e.lab ? Object.keys(e.lab.nodes).length : 0,
    linkCount: e.lab ? e.lab.links.length : 0,
  };
}

export function labView(e: KnownLab, telnetPort: TelnetPortOf): LabView {
  const lab = e.lab;
  return {
    ...labSummary(e),
    problems: e.problems ? e.problems.map((p) => ({ ...p, text: formatLabError(p), severity: 'error' as const })) : null,
    warnings: lab ? viewWarnings(e.name, lab, e.problems ? null : (e.text ?? null)) : [],
    file: lab ? lab.file : null,
    nodes: lab ? nodeViews(lab, e.runtime, telnetPort) : [],
    networks: lab ? networkViews(lab) : [],
    links: lab ? lab.links.map((l) => linkView(l)) : [],
  };
}

function viewWarnings(name: string, lab: Lab, text: string | null): LabView['warnings'] {
  let w = warningsOf.get(lab);
  if (w === undefined) {
    w = labWarnings(lab, text, `${name}/lab.yaml`);
    warningsOf.set(lab, w);
  }
  return w.map((p) => ({ ...p, text: formatLabWarning(p), severity: 'warning' as const }));
}

export function nodeViews(lab: Lab, rt: LabRuntimeApi | null, telnetPort: TelnetPortOf): NodeView[] {
  return Object.values(lab.nodes).map((n) => nodeView(lab, n, rt, telnetPort(n.name)));
}

export function networkViews(lab: Lab): NetworkView[] {
  return Object.keys(lab.networks).map((n) => networkView(lab, n));
}

/** `a:eth0` and `b:e1` (or the network's name) of a link. */
export function linkEnds(l: LabLink): [string, string] {
  return [`${l.a.node}:${l.a.iface}`, l.b.kind === 'network' ? l.b.network : `${l.b.node}:${l.b.iface}`];
}

export function nodeView(lab: Lab, n: LabNode, rt: LabRuntimeApi | null, telnet: NodeConsoleInfo | null): NodeView {
  const cable = new Map<string, string>();
  for (const l of lab.links) {
    if (l.a.node === n.name) cable.set(l.a.iface, l.id);
    if (l.b.kind === 'iface' && l.b.node === n.name) cable.set(l.b.iface, l.id);
  }
  return {
    name: n.name,
    kind: n.kind,
    status: rt ? rt.nodeStatus(n.name) : 'stopped',
    // While the lab runs, where the console really is (never the model's port when it listens elsewhere).
    console: rt && telnet ? telnet.port : n.console,
    consoleShared: rt && telnet ? telnet.shared : null,
    consoleNote: rt && telnet ? telnet.note : null,
    ui: n.ui ?? null,
    interfaces: n.interfaces.map((i) => ({ name: i.name, mac: macToString(i.mac), network: i.network ?? null, link: cable.get(i.name) ?? null })),
    spec: lab.file.nodes?.[n.name] ?? ({} as NodeSpec),
  };
}

export function networkView(lab: Lab, name: string): NetworkView {
  const n = lab.networks[name]!;
  return {
    name,
    type: n.type,
    subnet: n.type === 'nat' || n.type === 'host-only' ? formatCidr({ ...n.subnet, ip: n.subnet.network }) : null,
    attached: n.attached.map((a) => `${a.node}:${a.iface}`),
    spec: lab.file.networks?.[name] ?? ({} as NetworkSpec),
  };
}

export function linkView(l: LabLink): LinkView {
  const imp: LinkView['impairments'] = {};
  const i = l.impairments;
  if (i.delayNs) imp.delay = formatDuration(i.delayNs);
  if (i.jitterNs) imp.jitter = formatDuration(i.jitterNs);
  if (i.loss) imp.loss = formatPercent(i.loss);
  if (i.duplicate) imp.duplicate = formatPercent(i.duplicate);
  if (i.corrupt) imp.corrupt = formatPercent(i.corrupt);
  if (i.rateBps) imp.rate = formatRate(i.rateBps);
  return { id: l.id, endpoints: linkEnds(l), suspended: l.suspended, impairments: imp, origin: l.origin.kind };
}

/** The checks as written in lab.yaml, each with its index and its name (given or made up). */
export function checkViews(lab: Lab): CheckView[] {
  return (lab.file.checks ?? []).map((c, i) => ({ index: i, name: lab.checks.find((k) => k.index === i)?.name, ...c }));
}

const noLive = { dhcp: null, status: null } as const;

/** What lab.yaml gives a node's interfaces: a stopped node's addresses. */
function configuredAddresses(n: LabNode): InterfaceAddress[] {
  if (n.kind === 'host') {
    return n.interfaces.map((i) => ({
      name: i.name,
      address: i.ip.mode === 'static' ? formatCidr(i.ip.cidr) : null,
      source: i.ip.mode,
      gateway: i.ip.mode === 'static' && i.gateway !== undefined ? ip4ToString(i.gateway) : null,
      ...noLive,
    }));
  }
  if (n.kind === 'router') {
    return [...n.interfaces, ...n.subinterfaces].map((i) => ({ name: i.name, address: i.ip ? formatCidr(i.ip) : null, source: i.ip ? 'static' : 'none', gateway: null, ...noLive }));
  }
  return [];
}

/** A running host's interfaces: the address it has, how, its gateway and its lease. */
function hostAddresses(h: Host, nowNs: number): InterfaceAddress[] {
  return h.showIp().map((i) => {
    const lease = i.dhcp?.lease ?? null;
    const infinite = lease !== null && lease.leaseSeconds === 0xffffffff;
    const remaining = lease && !infinite ? Math.max(0, Math.floor((lease.startNs + lease.leaseSeconds * 1e9 - nowNs) / 1e9)) : null;
    return {
      name: i.iface,
      address: i.ip !== 0 ? `${ip4ToString(i.ip)}/${i.prefix}` : null,
      source: i.mode,
      gateway: i.gateway !== 0 ? ip4ToString(i.gateway) : null,
      dhcp: i.dhcp ? { state: i.dhcp.state, server: lease ? ip4ToString(lease.serverId) : null, leaseS: lease && !infinite ? lease.leaseSeconds : null, remainingS: remaining } : null,
      status: null,
    };
  });
}

/**
 * A node's addresses (GET .../nodes/{node}/addresses): live from the running device (hosts:
 * static or leased, with the lease; routers: each interface as IOS shows it), else as lab.yaml
 * configures them. Switches, hubs and clouds have no address of their own.
 */
export function nodeAddresses(n: LabNode, rt: LabRuntimeApi | null): NodeAddresses {
  const device = rt && rt.nodeStatus(n.name) === 'running' ? rt.node(n.name) : undefined;
  if (rt && device instanceof Host) {
    // Lease times are read against the lab's clock, which stands still while an idle real-time lab sleeps.
    rt.engine.sync();
    return { node: n.name, kind: n.kind, running: true, interfaces: hostAddresses(device, rt.engine.now) };
  }
  if (device instanceof Router) {
    const interfaces = device.interfaces().map((i): InterfaceAddress => ({
      name: i.name,
      address: i.ip === 'unassigned' ? null : i.ip,
      source: i.ip === 'unassigned' ? 'none' : 'static',
      gateway: null,
      dhcp: null,
      status: i.status,
    }));
    return { node: n.name, kind: n.kind, running: true, interfaces };
  }
  return { node: n.name, kind: n.kind, running: device !== undefined, interfaces: device ? [] : configuredAddresses(n) };
}
