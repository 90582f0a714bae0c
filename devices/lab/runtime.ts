/**
 * A lab brought to life: every node and network built from the normalized model, cabled, powered
 * on and driven by one engine. `apply(next)` changes a running lab in place, touching only the
 * nodes, networks and links whose model changed.
 */
import type { Device } from '../device.js';
import { Engine, type TimeMode } from '../engine/engine.js';
import { Link, type Impairments } from '../engine/link.js';
import type { Port } from '../engine/port.js';
import { Host } from '../host/index.js';
import { Router, type DhcpLeaseDatabase } from '../router/index.js';
import { Switch } from '../switch/index.js';
import { BRIDGE_UPLINK_PORT, buildNetwork, buildNode, networkPortName, type BridgeFactory, type CloudFactory, type NetworkParts } from './build.js';
import type { HostSockets, NetworkDhcp } from '../network/index.js';
import type { HostAdapterTapFactory } from './build-network.js';
import type { Lab, LabLink, LabNetwork, LabNode } from './schema.js';
import { runChecks, type CheckResult, type RunChecksOptions } from './checks.js';
import type { AddressConflictSink } from '../stack/arp.js';
import type { IpStack } from '../stack/stack.js';
import type { IpInterface } from '../stack/types.js';
import { type Ip4, type Mac, ip4ToString, macToString } from '../wire/bytes.js';

/** What outlives a stop: saved in labs/<lab>/state/ by the server and CLI. */
export interface LabState {
  version: 1;
  /** DHCP lease databases by server (router name, or `<network>-dhcp`). */
  dhcp: Record<string, DhcpLeaseDatabase>;
}

export interface RuntimeOptions {
  time?: TimeMode;
  seed?: number;
  state?: LabState;
  cloudFactory?: CloudFactory;
  /** Carries bridged networks to their real NIC; without it a bridged network is a plain switch. */
  bridgeFactory?: BridgeFactory;
  /** The host's sockets, for NAT gateways (.2) and host adapters (.1); without them those relay nothing. */
  hostSockets?: HostSockets;
  /** Makes `host-adapter: tap` networks' TAP device on the host. */
  hostAdapterTap?: HostAdapterTapFactory;
  /** Wall-clock time of engine time 0 (captures); default: now in real time, 0 in virtual time. */
  epochNs?: bigint;
}

export type RuntimeEvent =
  | { type: 'lab-state'; status: 'running' | 'stopped' }
  | { type: 'node-state'; node: string; status: 'running' | 'stopped' }
  | { type: 'link-state'; link: string; status: 'up' | 'suspended' | 'removed' | 'added' }
  | { type: 'node-changed'; node: string; change: 'added' | 'removed' | 'rebuilt' }
  | { type: 'network-changed'; network: string; change: 'added' | 'removed' | 'rebuilt' }
  /** `node` heard an ARP claiming its address `ip` (on `iface`) from `mac`: `by` names the interface of the lab with that MAC. */
  | { type: 'address-conflict'; node: string; iface: string; ip: string; mac: string; by: string | null };

export type RuntimeListener = (e: RuntimeEvent) => void;

interface NodeEntry {
  spec: LabNode;
  device: Device;
  /** Port admin states saved when the node is powered off, restored when it is powered on. */
  savedUp: boolean[] | null;
  /**
   * Made on first use for nodes with many ports (switches with thousands are cabled one port at
   * a time); a host's or router's few ports are searched instead of holding a map each.
   */
  portsByName: Map<string, Port> | null;
}
interface NetworkEntry {
  spec: LabNetwork;
  parts: NetworkParts;
  /** The cables between the fabric and its services (DHCP, NAT gateway, host adapter). */
  serviceLinks: Link[];
  /** The cable between a bridged network's fabric and its real NIC's endpoint. */
  uplinkLink: Link | null;
}
interface LinkEntry {
  spec: LabLink;
  link: Link;
}

const json = (v: unknown) => JSON.stringify(v);
/** Up to this many ports, a node's port is found by a search rather than a map of its own. */
const PORTS_SEARCHED = 16;

export class LabRuntime implements AddressConflictSink {
  readonly engine: Engine;
  lab: Lab;
  status: 'stopped' | 'running' = 'stopped';
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly networks = new Map<string, NetworkEntry>();
  private readonly links = new Map<string, LinkEntry>();
  private readonly listeners = new Set<RuntimeListener>();
  private readonly cloudFactory: CloudFactory | undefined;
  private readonly bridgeFactory: BridgeFactory | undefined;
  private readonly hostSockets: HostSockets | undefined;
  private readonly hostAdapterTap: HostAdapterTapFactory | undefined;
  private savedState: LabState;

  constructor(lab: Lab, opts: RuntimeOptions = {}) {
    this.lab = lab;
    this.cloudFactory = opts.cloudFactory;
    this.bridgeFactory = opts.bridgeFactory;
    this.hostSockets = opts.hostSockets;
    this.hostAdapterTap = opts.hostAdapterTap;
    this.engine = new Engine({ mode: opts.time ?? lab.time, seed: opts.seed ?? lab.seed, ...(opts.epochNs !== undefined ? { epochNs: opts.epochNs } : {}) });
    this.savedState = opts.state ?? { version: 1, dhcp: {} };
    this.build(lab);
  }

  onEvent(fn: RuntimeListener): void {
    this.listeners.add(fn);
  }
  offEvent(fn: RuntimeListener): void {
    this.listeners.delete(fn);
  }
  private emit(e: RuntimeEvent): void {
    for (const fn of this.listeners) fn(e);
  }

  /** A node's stack heard another station claim its address (devices/stack/arp.ts): an event for the consoles and the UI. */
  addressConflict(stack: IpStack, iface: IpInterface, ip: Ip4, mac: Mac): void {
    let by: string | null = null;
    for (const n of Object.values(this.lab.nodes)) {
      const i = n.interfaces.find((x) => x.mac === mac);
      if (i) {
        by = `${n.name} ${i.name}`;
        break;
      }
    }
    this.emit({ type: 'address-conflict', node: stack.name, iface: iface.name, ip: ip4ToString(ip), mac: macToString(mac), by });
  }

  // ------------------------------------------------------------ building

  private build(lab: Lab): void {
    for (const net of Object.values(lab.networks)) this.addNetwork(net);
    for (const node of Object.values(lab.nodes)) this.addNode(node);
    for (const link of lab.links) this.addLink(link);
  }

  private addNode(spec: LabNode): NodeEntry {
    const device = buildNode(this.engine, this.lab, spec, this.cloudFactory);
    const entry: NodeEntry = { spec, device, savedUp: null, portsByName: null };
    this.nodes.set(spec.name, entry);
    if (device instanceof Host || device instanceof Router) device.stack.arp.conflictSink = this;
    const leases = savedLeases(this.savedState, spec.name);
    if (leases && device instanceof Router) device.importLeases(leases);
    return entry;
  }

  private addNetwork(spec: LabNetwork): NetworkEntry {
    const parts = buildNetwork(this.engine, this.lab, spec, { bridgeFactory: this.bridgeFactory, hostSockets: this.hostSockets, hostAdapterTap: this.hostAdapterTap });
    const uplinkLink = parts.uplink ? new Link(this.engine, `${spec.name}:${BRIDGE_UPLINK_PORT}`, parts.uplink.ports[0]!, parts.fabric.ports.find((p) => p.name === BRIDGE_UPLINK_PORT)!) : null;
    const serviceLinks = parts.services.map((s) => new Link(this.engine, `${spec.name}:${s.port}`, s.device.ports[0]!, parts.fabric.ports.find((p) => p.name === s.port)!));
    if (parts.dhcp) {
      const leases = savedLeases(this.savedState, parts.dhcp.name);
      if (leases) parts.dhcp.importLeases(leases);
    }
    const entry: NetworkEntry = { spec, parts, serviceLinks, uplinkLink };
    this.networks.set(spec.name, entry);
    return entry;
  }

  private addLink(spec: LabLink): LinkEntry {
    const a = this.nodePort(spec.a.node, spec.a.iface);
    let b: Port;
    if (spec.b.kind === 'iface') b = this.nodePort(spec.b.node, spec.b.iface);
    else {
      const net = this.networks.get(spec.b.network);
      if (!net) throw new Error(`link ${spec.id}: no network ${spec.b.network}`);
      const name = networkPortName(spec.a.node, spec.a.iface);
      const p = net.parts.fabric.ports.find((x) => x.name === name);
      if (!p) throw new Error(`link ${spec.id}: network ${spec.b.network} has no port for ${name}`);
      b = p;
    }
    const link = new Link(this.engine, spec.id, a, b, spec.impairments);
    if (spec.suspended) link.suspend();
    const entry: LinkEntry = { spec, link };
    this.links.set(spec.id, entry);
    return entry;
  }

  private nodePort(node: string, iface: string): Port {
    const n = this.nodes.get(node);
    if (!n) throw new Error(`no node ${node}`);
    const ports = n.device.ports;
    let p: Port | undefined;
    if (ports.length <= PORTS_SEARCHED) {
      for (let i = 0; i < ports.length && p === undefined; i++) if (ports[i]!.name === iface) p = ports[i];
    } else {
      n.portsByName ??= new Map(ports.map((x) => [x.name, x] as const));
      p = n.portsByName.get(iface);
    }
    if (!p) throw new Error(`node ${node} has no interface ${iface}`);
    return p;
  }

  private removeLink(id: string): void {
    const e = this.links.get(id);
    if (!e) return;
    e.link.disconnect();
    this.links.delete(id);
  }

  private removeNode(name: string): void {
    const e = this.nodes.get(name);
    if (!e) return;
    for (const [id, l] of this.links) if (l.spec.a.node === name || (l.spec.b.kind === 'iface' && l.spec.b.node === name)) this.removeLink(id);
    if (e.device.running) e.device.stop();
    if (e.device instanceof Router && e.device.dhcp) this.savedState.dhcp[name] = e.device.exportLeases();
    this.nodes.delete(name);
  }

  private removeNetwork(name: string): void {
    const e = this.networks.get(name);
    if (!e) return;
    for (const [id, l] of this.links) if (l.spec.b.kind === 'network' && l.spec.b.network === name) this.removeLink(id);
    for (const l of e.serviceLinks) l.disconnect();
    e.uplinkLink?.disconnect();
    if (e.parts.uplink?.running) e.parts.uplink.stop();
    e.parts.fabric.stop();
    for (const s of e.parts.services) s.device.stop();
    if (e.parts.dhcp) {
      this.savedState.dhcp[e.parts.dhcp.name] = e.parts.dhcp.exportLeases();
    }
    this.networks.delete(name);
  }

  // ------------------------------------------------------------ power

  /** Powers every node and network on; in real time the engine then runs on its own. */
  start(): void {
    if (this.status === 'running') return;
    for (const n of this.networks.values()) this.powerNetwork(n, true);
    for (const name of this.nodes.keys()) this.powerNode(name, true);
    if (this.engine.mode === 'real') this.engine.start();
    this.status = 'running';
    this.emit({ type: 'lab-state', status: 'running' });
  }

  /** Powers everything off and returns what must outlive the stop. */
  stop(): LabState {
    if (this.status === 'running') {
      for (const name of this.nodes.keys()) this.powerNode(name, false);
      for (const n of this.networks.values()) this.powerNetwork(n, false);
      if (this.engine.mode === 'real') this.engine.stop();
      this.status = 'stopped';
      this.emit({ type: 'lab-state', status: 'stopped' });
    }
    return this.state();
  }

  /** The state to save: every DHCP server's leases. */
  state(): LabState {
    const dhcp: Record<string, DhcpLeaseDatabase> = { ...this.savedState.dhcp };
    for (const [name, n] of this.nodes) if (n.device instanceof Router && n.device.dhcp) dhcp[name] = n.device.exportLeases();
    for (const n of this.networks.values()) if (n.parts.dhcp) dhcp[n.parts.dhcp.name] = n.parts.dhcp.exportLeases();
    return { version: 1, dhcp };
  }

  private powerNetwork(n: NetworkEntry, on: boolean): void {
    if (on) {
      n.parts.fabric.start();
      for (const s of n.parts.services) s.device.start();
      n.parts.uplink?.start();
    } else {
      n.parts.uplink?.stop();
      for (const s of n.parts.services) s.device.stop();
      n.parts.fabric.stop();
    }
  }

  private powerNode(name: string, on: boolean): void {
    const e = this.nodes.get(name)!;
    const d = e.device;
    if (on === d.running) return;
    if (on) {
      // A powered-off node's ports neither send nor receive; restore their admin states.
      if (e.savedUp) d.ports.forEach((p, i) => (p.up = e.savedUp![i]!));
      e.savedUp = null;
      d.start();
    } else {
      d.stop();
      e.savedUp = d.ports.map((p) => p.up);
      for (const p of d.ports) p.up = false;
    }
    this.emit({ type: 'node-state', node: name, status: on ? 'running' : 'stopped' });
  }

  /**
   * The node already runs `spec` (its console configured it live and saved it): the next
   * `apply` takes it as the node's spec instead of rebuilding the node, so its ARP, MAC, NAT and
   * DHCP state and its console session carry on. False when there is no such node or the spec
   * is of another kind of node.
   */
  adopt(name: string, spec: LabNode): boolean {
    const e = this.nodes.get(name);
    if (!e || e.spec.kind !== spec.kind || spec.name !== name) return false;
    e.spec = spec;
    return true;
  }

  nodeStatus(name: string): 'running' | 'stopped' {
    const e = this.nodes.get(name);
    if (!e) throw new Error(`no node ${name}`);
    return e.device.running ? 'running' : 'stopped';
  }

  startNode(name: string): void {
    if (!this.nodes.has(name)) throw new Error(`no node ${name}`);
    this.engine.sync(); // its timers start from wall time, not from the last slice of an idle lab
    this.powerNode(name, true);
  }

  stopNode(name: string): void {
    if (!this.nodes.has(name)) throw new Error(`no node ${name}`);
    this.engine.sync();
    this.powerNode(name, false);
  }

  // ------------------------------------------------------------ live changes

  /**
   * Brings the running (or stopped) lab to `next`, changing only what differs: removed links,
   * nodes and networks go; changed ones are rebuilt (with their cables re-plugged); new ones are
   * built and, in a running lab, powered on; impairments and suspension change in place.
   */
  apply(next: Lab): void {
    this.engine.sync();
    const prev = this.lab;
    this.lab = next;
    const running = this.status === 'running';
    const rebuiltNodes = new Set<string>();
    const rebuiltNets = new Set<string>();

    for (const name of [...this.nodes.keys()]) {
      const spec = next.nodes[name];
      if (!spec) {
        this.removeNode(name);
        this.emit({ type: 'node-changed', node: name, change: 'removed' });
      } else if (json(spec) !== json(this.nodes.get(name)!.spec)) rebuiltNodes.add(name);
    }
    for (const name of [...this.networks.keys()]) {
      const spec = next.networks[name];
      if (!spec) {
        this.removeNetwork(name);
        this.emit({ type: 'network-changed', network: name, change: 'removed' });
      } else if (json(spec) !== json(this.networks.get(name)!.spec)) rebuiltNets.add(name);
    }

    // Links that go away, or whose ends are rebuilt, are unplugged first.
    const nextLinks = new Map(next.links.map((l) => [l.id, l] as const));
    const touches = (l: LabLink) =>
      rebuiltNodes.has(l.a.node) || (l.b.kind === 'iface' ? rebuiltNodes.has(l.b.node) : rebuiltNets.has(l.b.network));
    for (const [id, e] of [...this.links]) {
      const n = nextLinks.get(id);
      if (!n || touches(e.spec)) {
        this.removeLink(id);
        if (!n) this.emit({ type: 'link-state', link: id, status: 'removed' });
      }
    }

    for (const name of rebuiltNodes) {
      const wasRunning = this.nodes.get(name)!.device.running;
      this.removeNode(name);
      this.addNode(next.nodes[name]!);
      if (running && wasRunning) this.powerNode(name, true);
      this.emit({ type: 'node-changed', node: name, change: 'rebuilt' });
    }
    for (const name of rebuiltNets) {
      this.removeNetwork(name);
      const e = this.addNetwork(next.networks[name]!);
      if (running) this.powerNetwork(e, true);
      this.emit({ type: 'network-changed', network: name, change: 'rebuilt' });
    }
    for (const [name, spec] of Object.entries(next.networks)) {
      if (this.networks.has(name)) continue;
      const e = this.addNetwork(spec);
      if (running) this.powerNetwork(e, true);
      this.emit({ type: 'network-changed', network: name, change: 'added' });
    }
    for (const [name, spec] of Object.entries(next.nodes)) {
      if (this.nodes.has(name)) continue;
      this.addNode(spec);
      if (running) this.powerNode(name, true);
      this.emit({ type: 'node-changed', node: name, change: 'added' });
    }

    for (const spec of next.links) {
      const e = this.links.get(spec.id);
      if (!e) {
        this.addLink(spec);
        this.emit({ type: 'link-state', link: spec.id, status: 'added' });
        continue;
      }
      if (json(e.spec) === json(spec)) continue;
      if (json(e.spec.impairments) !== json(spec.impairments)) e.link.setImpairments(spec.impairments);
      if (e.spec.suspended !== spec.suspended) {
        if (spec.suspended) e.link.suspend();
        else e.link.resume();
        this.emit({ type: 'link-state', link: spec.id, status: spec.suspended ? 'suspended' : 'up' });
      }
      e.spec = spec;
    }
    void prev;
  }

  // ------------------------------------------------------------ access

  node(name: string): Device | undefined {
    return this.nodes.get(name)?.device;
  }
  nodeNames(): string[] {
    return [...this.nodes.keys()];
  }
  host(name: string): Host | undefined {
    const d = this.node(name);
    return d instanceof Host ? d : undefined;
  }
  /** The switch behind a network, for `show`-like inspection. */
  networkFabric(name: string): Switch | undefined {
    return this.networks.get(name)?.parts.fabric;
  }
  networkDhcp(name: string): NetworkDhcp | undefined {
    return this.networks.get(name)?.parts.dhcp ?? undefined;
  }
  /** A network's devices (DHCP .254, NAT gateway .2, host adapter .1), for status and inspection. */
  networkParts(name: string): NetworkParts | undefined {
    return this.networks.get(name)?.parts;
  }
  /** A bridged network's real-NIC endpoint (made by the bridge factory), for its state and counters. */
  networkUplink(name: string): Device | undefined {
    return this.networks.get(name)?.parts.uplink ?? undefined;
  }
  link(id: string): Link | undefined {
    return this.links.get(id)?.link;
  }
  linkIds(): string[] {
    return [...this.links.keys()];
  }
  port(node: string, iface: string): Port | undefined {
    return this.nodes.get(node)?.device.ports.find((p) => p.name === iface);
  }

  suspendLink(id: string): void {
    const e = this.mustLink(id);
    this.engine.sync();
    e.link.suspend();
    e.spec = { ...e.spec, suspended: true };
    this.emit({ type: 'link-state', link: id, status: 'suspended' });
  }
  resumeLink(id: string): void {
    const e = this.mustLink(id);
    this.engine.sync();
    e.link.resume();
    e.spec = { ...e.spec, suspended: false };
    this.emit({ type: 'link-state', link: id, status: 'up' });
  }
  setImpairments(id: string, imp: Impairments): void {
    const e = this.mustLink(id);
    this.engine.sync();
    e.link.setImpairments(imp);
    e.spec = { ...e.spec, impairments: imp };
  }
  private mustLink(id: string): LinkEntry {
    const e = this.links.get(id);
    if (!e) throw new Error(`no link ${id}`);
    return e;
  }

  // ------------------------------------------------------------ settling and checks

  /**
   * True once spanning tree has converged on every switch (every root and designated port
   * forwarding) and no DHCP client is still working towards its first lease.
   */
  get settled(): boolean {
    for (const e of this.nodes.values()) {
      const d = e.device;
      if (!d.running) continue;
      if (d instanceof Host && !d.settled) return false;
      if (d instanceof Switch && !d.stpConverged()) return false;
    }
    return true;
  }

  /** Waits (virtual: runs) until `settled`, at most `limitNs`; returns whether it settled. */
  async settle(limitNs = 180e9): Promise<boolean> {
    if (this.engine.mode === 'real') return this.waitFor(() => this.settled, limitNs);
    // Asking every switch for its spanning-tree state is not free: look every 50 ms of lab time.
    const until = this.engine.now + limitNs;
    while (!this.settled) {
      if (this.engine.now >= until) return false;
      this.engine.runUntil(Math.min(until, this.engine.now + 50e6));
    }
    return true;
  }

  /** Virtual time: runs the engine until `done`; real time: polls until `done` or the limit passes. */
  async waitFor(done: () => boolean, limitNs: number): Promise<boolean> {
    if (this.engine.mode === 'virtual') return this.engine.runUntilCondition(done, limitNs);
    const deadline = performance.now() + limitNs / 1e6;
    let ok = true;
    while (!done()) {
      if (performance.now() >= deadline) {
        ok = false;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    // The caller goes on from outside a slice (a check's next program): time it from now.
    this.engine.sync();
    return ok;
  }

  async runChecks(opts: RunChecksOptions = {}): Promise<CheckResult[]> {
    return runChecks(this, this.lab.checks, opts);
  }
}

/** Saved leases by node or network name: own keys only (state/runtime.json is parsed JSON; a node may be named `constructor`). */
function savedLeases(state: LabState, name: string): DhcpLeaseDatabase | undefined {
  return Object.hasOwn(state.dhcp, name) ? state.dhcp[name] : undefined;
}
