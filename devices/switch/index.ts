/**
 * An Ethernet switch: MAC learning per VLAN with aging, flooding, 802.1Q access and trunk ports
 * with a native VLAN, and Rapid Spanning Tree (802.1w, falling back to 802.1D per port).
 *
 * The per-frame path reads the frame in place and keeps its per-port settings in typed arrays:
 * an untagged frame from one access port to a known address on another costs two table probes
 * and one `Port.send`, and allocates nothing. Tagging and untagging must make new frames (sent
 * frames are immutable); a flood makes at most one tagged and one untagged copy, shared by every
 * port it goes out of.
 */
import type { Engine } from '../engine/engine.js';
import { Port } from '../engine/port.js';
import { stableMac, type Device, type NodeKind } from '../device.js';
import { macToString, type Mac } from '../wire/bytes.js';
import { DecodeError } from '../wire/errors.js';
import { ETH_MIN_FRAME, padFrame, popVlanTag, pushVlanTag } from '../wire/ethernet.js';
import { decodeStpFrame, isStpFrame } from '../wire/stp.js';
import { LEARN_ADDED, MacTable } from './mac-table.js';
import {
  PORT_STATE,
  PORT_STATE_NAMES,
  ROLE,
  ROLE_NAMES,
  Rstp,
  bridgeIdString,
  newBridgeState,
  pathCostForRate,
  type PortStateName,
  type RoleName,
  type StpHost,
} from './rstp.js';

export { MacTable } from './mac-table.js';
export { pathCostForRate, DEFAULT_PATH_COST, type RoleName, type PortStateName } from './rstp.js';

export type PortMode = 'access' | 'trunk';

export interface SwitchPortConfig {
  mode?: PortMode;
  /** Access VLAN (default 1). */
  vlan?: number;
  /** VLANs a trunk carries (default all, 1-4094). */
  allowed?: number[];
  /** The trunk's untagged VLAN (default 1). */
  native?: number;
  /** Spanning-tree path cost (default: from the link's rate, else 20000 for 1 Gbit/s, 802.1t). */
  cost?: number;
  /** Spanning-tree port priority, 0..240 in steps of 16 (default 128). */
  priority?: number;
  /** Administrative edge port (PortFast): forwards at once; a BPDU heard still makes it a bridge port. */
  edge?: boolean;
  /** Administrative state; false is `shutdown`. */
  up?: boolean;
}

export interface SwitchOptions {
  name: string;
  /** How many ports (named e0..e{n-1}, default 8), or their names. */
  ports?: number | string[];
  /** Per-port configuration by port name. */
  interfaces?: Record<string, SwitchPortConfig>;
  /** Spanning tree on (default true). */
  stp?: boolean;
  /** Bridge priority, 0..61440 in steps of 4096 (default 32768). */
  stpPriority?: number;
  /** 'rstp' (802.1w, default) or 'stp' (802.1D Configuration BPDUs only). */
  stpVersion?: 'rstp' | 'stp';
  /** Bridge MAC (the bridge id's address); port n uses this address plus n + 1. */
  mac?: Mac;
  /** MAC address aging time in ns (default 300 s; 0 never ages). */
  macAgingNs?: number;
  /** Most addresses the MAC table holds (default 8192); beyond it new addresses are not learned. */
  macTableMax?: number;
}

export interface MacTableRow {
  vlan: number;
  mac: string;
  port: string;
  /** Seconds since the address was last seen. */
  age: number;
}

export interface StpPortStatus {
  name: string;
  /** "priority.number", e.g. "128.1". */
  portId: string;
  role: RoleName;
  state: PortStateName;
  cost: number;
  designatedBridge: string;
  designatedPort: string;
  edge: boolean;
  /** What the port speaks: 'rstp', or 'stp' after hearing an 802.1D bridge. */
  protocol: 'rstp' | 'stp';
}

export interface StpStatus {
  enabled: boolean;
  protocol: 'rstp' | 'stp';
  bridgeId: string;
  rootId: string;
  isRoot: boolean;
  rootPort: string | null;
  rootCost: number;
  helloTime: number;
  maxAge: number;
  forwardDelay: number;
  topologyChanges: number;
  ports: StpPortStatus[];
}

export interface VlanMembership {
  vlan: number;
  /** Ports that carry the VLAN untagged (access ports, trunks whose native VLAN it is). */
  untagged: string[];
  /** Trunk ports that carry it tagged. */
  tagged: string[];
}

export interface PortCounters {
  name: string;
  up: boolean;
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** Frames that arrived while the port was shut down. */
  rxDrops: number;
  /** Frames not sent: port down or uncabled. */
  txDrops: number;
  /** Frames refused by VLAN ingress rules (tagged on access, VLAN not allowed). */
  vlanDrops: number;
  /** Frames dropped because spanning tree had the port discarding or learning. */
  stpDrops: number;
  /** Unicast frames whose destination is on the port they came from. */
  filtered: number;
  /** Runts and malformed BPDUs. */
  malformed: number;
  bpduIn: number;
  bpduOut: number;
}

export interface SwitchCounters {
  /** Frames flooded (broadcast, multicast, unknown unicast). */
  flooded: number;
  /** Unicast frames flooded because their destination was not in the table. */
  unknownUnicast: number;
  /** Source addresses not learned because the table was full. */
  macLearnRefused: number;
  macEntries: number;
  /** Frames to IEEE reserved addresses (01:80:c2:00:00:0x) that a bridge never forwards. */
  reservedDropped: number;
}

const TICK = 1;
const AGING = 2;
const SECOND = 1e9;

/** Egress membership of a port in a VLAN. */
const NOT_MEMBER = 0;
const UNTAGGED = 1;
const TAGGED = 2;

/** How a frame arrived. */
const IN_UNTAGGED = 0;
const IN_TAGGED = 1;
/** 802.1p priority tag: VID 0, classified like an untagged frame but carrying a PCP. */
const IN_PRIORITY = 2;

function checkVlan(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1 || v > 4094) throw new Error(`${what}: VLAN ${v} is not in 1-4094`);
  return v;
}

interface NormalizedPortConfig {
  mode: PortMode;
  vlan: number;
  allowed: number[] | null;
  native: number;
  cost: number | null;
  priority: number;
  edge: boolean;
}

function normalizePortConfig(name: string, c: SwitchPortConfig, base?: NormalizedPortConfig): NormalizedPortConfig {
  const mode = c.mode ?? base?.mode ?? 'access';
  if (mode !== 'access' && mode !== 'trunk') throw new Error(`${name}: mode must be access or trunk`);
  const vlan = checkVlan(c.vlan ?? base?.vlan ?? 1, `${name} vlan`);
  const native = checkVlan(c.native ?? base?.native ?? 1, `${name} native`);
  let allowed = base?.allowed ?? null;
  if (c.allowed !== undefined) allowed = [...new Set(c.allowed.map((v) => checkVlan(v, `${name} allowed`)))].sort((a, b) => a - b);
  const cost = c.cost ?? base?.cost ?? null;
  if (cost !== null && (!Number.isInteger(cost) || cost < 1 || cost > 200_000_000)) throw new Error(`${name}: path cost ${cost} is not in 1-200000000`);
  const priority = c.priority ?? base?.priority ?? 128;
  if (!Number.isInteger(priority) || priority < 0 || priority > 240 || priority % 16 !== 0) throw new Error(`${name}: port priority ${priority} is not 0-240 in steps of 16`);
  return { mode, vlan, allowed, native, cost, priority, edge: c.edge ?? base?.edge ?? false };
}

export class Switch implements Device, StpHost {
  readonly kind: NodeKind = 'switch';
  readonly name: string;
  readonly ports: readonly Port[];
  readonly mac: Mac;
  running = false;

  private readonly n: number;
  // Spanning-tree settings: changed only through setSpanningTree, which restarts the bridge.
  private stpOn: boolean;
  private stpPriority: number;
  private stpVersion: 'rstp' | 'stp';
  private readonly agingNs: number;
  private readonly table: MacTable;
  private readonly configs: NormalizedPortConfig[];
  /** Per port: PORT_STATE value; FORWARDING for every port when spanning tree is off. */
  private readonly fwd: Uint8Array;
  /** Per port: the VLAN untagged and priority-tagged frames belong to, 0 when they are refused. */
  private readonly pvid: Int32Array;
  /** Per port: 1 for trunks (tagged frames accepted). */
  private readonly trunk: Uint8Array;
  /**
   * Egress membership by VLAN: row[port] is NOT_MEMBER, UNTAGGED or TAGGED. A row is made from
   * the port configs when a frame of its VLAN is first forwarded, so a hundred access ports in
   * VLAN 1 keep one row of a hundred bytes (a whole 4096-VLAN table costs 4 KiB a port).
   */
  private readonly egressRows = new Map<number, Uint8Array>();
  /** The VLAN forwarded last and its row: most labs carry one VLAN, which skips the map. */
  private lastVlan = -1;
  private lastRow: Uint8Array;
  private rstp: Rstp | null = null;
  private tickTimer = -1;
  private agingTimer = -1;
  private readonly enabledScratch: boolean[];

  // Counters (per port, Float64 so they never wrap).
  private readonly vlanDrops: Float64Array;
  private readonly stpDrops: Float64Array;
  private readonly filtered: Float64Array;
  private readonly malformed: Float64Array;
  private readonly bpduIn: Float64Array;
  private readonly bpduOut: Float64Array;
  private flooded = 0;
  private unknownUnicast = 0;
  private reservedDropped = 0;

  constructor(
    readonly engine: Engine,
    opts: SwitchOptions,
  ) {
    this.name = opts.name;
    const names = Array.isArray(opts.ports) ? opts.ports : Array.from({ length: opts.ports ?? 8 }, (_, i) => `e${i}`);
    if (names.length < 1 || names.length > 4095) throw new Error(`${opts.name}: a switch has 1 to 4095 ports, not ${names.length}`);
    if (new Set(names).size !== names.length) throw new Error(`${opts.name}: duplicate port names`);
    for (const key of Object.keys(opts.interfaces ?? {})) {
      if (!names.includes(key)) throw new Error(`${opts.name}: no port named ${key}`);
    }
    this.n = names.length;
    this.ports = names.map((name, i) => new Port(this, name, i));
    this.mac = opts.mac ?? stableMac('', opts.name, 'bridge');
    this.stpOn = opts.stp ?? true;
    this.stpPriority = opts.stpPriority ?? 32768;
    if (!Number.isInteger(this.stpPriority) || this.stpPriority < 0 || this.stpPriority > 61440 || this.stpPriority % 4096 !== 0) {
      throw new Error(`${opts.name}: bridge priority ${this.stpPriority} is not 0-61440 in steps of 4096`);
    }
    this.stpVersion = opts.stpVersion ?? 'rstp';
    const aging = opts.macAgingNs ?? 300 * SECOND;
    if (!(aging >= 0)) throw new Error(`${opts.name}: MAC aging ${aging / SECOND} s is negative`);
    this.agingNs = aging === 0 ? Infinity : aging;
    this.table = new MacTable(opts.macTableMax ?? 8192);
    this.configs = names.map((name) => normalizePortConfig(name, opts.interfaces?.[name] ?? {}));
    this.fwd = new Uint8Array(this.n);
    this.pvid = new Int32Array(this.n);
    this.trunk = new Uint8Array(this.n);
    this.lastRow = new Uint8Array(0);
    this.vlanDrops = new Float64Array(this.n);
    this.stpDrops = new Float64Array(this.n);
    this.filtered = new Float64Array(this.n);
    this.malformed = new Float64Array(this.n);
    this.bpduIn = new Float64Array(this.n);
    this.bpduOut = new Float64Array(this.n);
    this.enabledScratch = new Array<boolean>(this.n).fill(false);
    for (let i = 0; i < this.n; i++) {
      this.applyVlanConfig(i);
      const up = opts.interfaces?.[names[i]!]?.up;
      if (up === false) this.ports[i]!.up = false;
    }
  }

  get stpEnabled(): boolean {
    return this.stpOn;
  }

  // ---- power ----

  start(): void {
    if (this.running) return;
    this.running = true;
    this.fwd.fill(this.stpEnabled ? PORT_STATE.DISCARDING : PORT_STATE.FORWARDING);
    if (this.stpEnabled) {
      this.rstp = new Rstp(this, this.newStpState());
      for (let i = 0; i < this.n; i++) this.refreshCable(i, this.rstp);
      this.rstp.begin(this.portsEnabled());
      this.tickTimer = this.engine.after(SECOND, this, TICK);
    }
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    if (this.tickTimer !== -1) this.engine.cancel(this.tickTimer);
    if (this.agingTimer !== -1) this.engine.cancel(this.agingTimer);
    this.tickTimer = -1;
    this.agingTimer = -1;
    this.table.clear();
    this.rstp = null;
    this.fwd.fill(PORT_STATE.DISCARDING);
  }

  private newStpState(): ReturnType<typeof newBridgeState> {
    return newBridgeState({
      mac: this.mac,
      priority: this.stpPriority,
      version: this.stpVersion,
      ports: this.configs.map((c, i) => ({ pathCost: c.cost ?? this.autoCost(i), priority: c.priority, adminEdge: c.edge })),
    });
  }

  /** The cable's rate when it has one, else 1 Gbit/s. */
  private autoCost(i: number): number {
    const link = this.ports[i]!.link;
    if (link === null) return pathCostForRate(0);
    return pathCostForRate(link.impairments(0).rateBps ?? link.impairments(1).rateBps ?? 0);
  }

  private isPointToPoint(i: number): boolean {
    const peer = this.ports[i]!.peer;
    // A hub makes a shared segment, where 802.1w forbids the rapid agreement handshake.
    return !(peer !== null && (peer.owner as Partial<Device>).kind === 'hub');
  }

  /**
   * Carrier, as a real port would sense it: cabled, cable not pulled, both ends administratively
   * up, and the device at the other end powered on (a powered-off neighbour is a dark link).
   */
  private portEnabled(i: number): boolean {
    const p = this.ports[i]!;
    const link = p.link;
    if (!p.up || link === null || link.suspended) return false;
    const peer = p.peer!;
    return peer.up && (peer.owner as Partial<Device>).running !== false;
  }

  /** A cable plugged in since start brings its own speed, and maybe a hub (a shared segment). */
  private refreshCable(i: number, rstp: Rstp): void {
    rstp.setPointToPoint(i, this.isPointToPoint(i));
    if (this.configs[i]!.cost === null) rstp.setIdlePathCost(i, this.autoCost(i));
  }

  private portsEnabled(): boolean[] {
    const e = this.enabledScratch;
    for (let i = 0; i < this.n; i++) e[i] = this.portEnabled(i);
    return e;
  }

  onTimer(tag: number): void {
    if (tag === TICK) {
      this.tickTimer = this.engine.after(SECOND, this, TICK);
      if (this.rstp !== null) {
        for (let i = 0; i < this.n; i++) this.refreshCable(i, this.rstp);
        this.rstp.tick(this.portsEnabled());
      }
    } else if (tag === AGING) {
      this.agingTimer = -1;
      this.sweepAged();
    }
  }

  private sweepAged(): void {
    const now = this.engine.now;
    const aging = this.agingNs;
    this.table.removeWhere((_port, seen) => now - seen >= aging);
    const oldest = this.table.oldestSeen();
    // One timer for the whole table, at the next expiry, but never more than once a second.
    if (oldest !== Infinity && this.running) this.agingTimer = this.engine.schedule(Math.max(oldest + aging, now + SECOND), this, AGING);
  }

  // ---- the frame path ----

  onFrame(port: Port, frame: Uint8Array): void {
    const i = port.index;
    if (!this.running || frame.length < 14) {
      this.runt(i);
      return;
    }
    const d0 = frame[0]!;
    if (d0 === 0x01 && this.linkLocal(i, frame)) return;
    const state = this.fwd[i]!;
    if (state === PORT_STATE.DISCARDING) {
      this.stpDrops[i]++;
      return;
    }
    // Classification: untagged (and 0x88a8-tagged, which a plain 802.1Q bridge sees as data)
    // frames belong to the port's VLAN; 802.1Q-tagged ones are sorted out of line.
    let vlan: number;
    let how = IN_UNTAGGED;
    if (frame[12] === 0x81 && frame[13] === 0x00) {
      const c = this.classifyTagged(i, frame);
      if (c === 0) return;
      vlan = c & 0xfff;
      how = c >>> 12;
    } else {
      vlan = this.pvid[i]!;
      if (vlan === 0) {
        this.vlanDrops[i]++;
        return;
      }
    }
    const now = this.engine.now;
    if ((frame[6]! & 1) === 0) {
      const learned = this.table.learn((vlan << 16) | (frame[6]! << 8) | frame[7]!, (frame[8]! << 24) | (frame[9]! << 16) | (frame[10]! << 8) | frame[11]!, i, now);
      if (learned === LEARN_ADDED && this.agingTimer === -1) this.armAging(now);
    }
    if (state !== PORT_STATE.FORWARDING) {
      this.stpDrops[i]++;
      return;
    }
    if ((d0 & 1) === 0) {
      const out = this.table.lookup((vlan << 16) | (d0 << 8) | frame[1]!, (frame[2]! << 24) | (frame[3]! << 16) | (frame[4]! << 8) | frame[5]!, now, this.agingNs);
      if (out >= 0) {
        const member = this.egressRow(vlan)[out]!;
        if (member === UNTAGGED && how === IN_UNTAGGED && out !== i && this.fwd[out] === PORT_STATE.FORWARDING) this.ports[out]!.send(frame);
        else this.unicastSlow(i, out, member, frame, vlan, how);
        return;
      }
      this.unknownUnicast++;
    }
    this.flood(i, frame, vlan, how);
  }

  private runt(i: number): void {
    if (this.running) this.malformed[i]++;
  }

  /**
   * Frames to 01:80:c2:00:00:0x, the 802.1D reserved group addresses, are never forwarded:
   * BPDUs go to spanning tree, the rest (pause, LACP, LLDP...) are dropped. Without spanning
   * tree the bridge is transparent to BPDUs, as a Linux bridge with stp off is. Returns whether
   * the frame was consumed here.
   */
  private linkLocal(i: number, frame: Uint8Array): boolean {
    if (frame[1] !== 0x80 || frame[2] !== 0xc2 || frame[3] !== 0 || frame[4] !== 0 || frame[5]! >= 0x10) return false;
    if (!this.stpEnabled && frame[5] === 0) return false;
    this.reserved(i, frame);
    return true;
  }

  /** VLAN of an 802.1Q-tagged frame as `how << 12 | vlan`, or 0 when the port refuses it. */
  private classifyTagged(i: number, frame: Uint8Array): number {
    if (frame.length < 18) {
      this.malformed[i]++;
      return 0;
    }
    const vid = ((frame[14]! & 0x0f) << 8) | frame[15]!;
    if (vid === 0) {
      const vlan = this.pvid[i]!;
      if (vlan === 0) {
        this.vlanDrops[i]++;
        return 0;
      }
      return (IN_PRIORITY << 12) | vlan;
    }
    if (this.trunk[i] === 0 || this.membership(i, vid) === NOT_MEMBER) {
      this.vlanDrops[i]++;
      return 0;
    }
    return (IN_TAGGED << 12) | vid;
  }

  private armAging(now: number): void {
    if (this.agingNs !== Infinity) this.agingTimer = this.engine.schedule(now + this.agingNs, this, AGING);
  }

  /** A known destination that needs a tag pushed or popped, or that must not be sent to. */
  private unicastSlow(i: number, out: number, member: number, frame: Uint8Array, vlan: number, how: number): void {
    if (out === i) {
      this.filtered[i]++;
      return;
    }
    if (member === NOT_MEMBER || this.fwd[out] !== PORT_STATE.FORWARDING) return;
    this.ports[out]!.send(member === UNTAGGED ? untag(frame, how) : tag(frame, vlan, how));
  }

  private flood(from: number, frame: Uint8Array, vlan: number, how: number): void {
    this.flooded++;
    const n = this.n;
    const row = this.egressRow(vlan);
    let untagged: Uint8Array | null = how === IN_UNTAGGED ? frame : null;
    let tagged: Uint8Array | null = how === IN_TAGGED ? frame : null;
    for (let p = 0; p < n; p++) {
      if (p === from) continue;
      const member = row[p]!;
      if (member === NOT_MEMBER || this.fwd[p] !== PORT_STATE.FORWARDING) continue;
      const port = this.ports[p]!;
      if (port.link === null || !port.up) continue;
      if (member === UNTAGGED) port.send((untagged ??= untag(frame, how)));
      else port.send((tagged ??= tag(frame, vlan, how)));
    }
  }

  private reserved(i: number, frame: Uint8Array): void {
    if (frame[5] !== 0 || this.rstp === null) {
      this.reservedDropped++;
      return;
    }
    if (!isStpFrame(frame, 0)) {
      this.malformed[i]++;
      return;
    }
    let decoded;
    try {
      decoded = decodeStpFrame(frame);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.malformed[i]++;
      return;
    }
    this.bpduIn[i]++;
    // A cable plugged in since the last tick: bring the port up before it hears anything.
    if (!this.rstp.state.ports[i]!.enabled && this.portEnabled(i)) {
      this.refreshCable(i, this.rstp);
      this.rstp.setPortEnabled(i, true);
    }
    this.rstp.receive(i, decoded.bpdu);
  }

  // ---- StpHost ----

  stpTransmit(port: number, frame: Uint8Array): void {
    this.bpduOut[port]++;
    this.ports[port]!.send(frame);
  }

  stpPortState(port: number, state: number): void {
    this.fwd[port] = state;
  }

  stpFlush(port: number): void {
    this.table.removeWhere((p) => p === port);
  }

  stpPortMac(port: number): Mac {
    return portMac(this.mac, port);
  }

  stpNow(): number {
    return this.engine.now;
  }

  // ---- configuration ----

  /** Changes a port's VLAN or spanning-tree settings while running; its learned addresses are forgotten. */
  configurePort(name: string, cfg: SwitchPortConfig): void {
    const i = this.indexOf(name);
    this.configs[i] = normalizePortConfig(name, cfg, this.configs[i]);
    this.applyVlanConfig(i);
    this.table.removeWhere((p) => p === i);
    if (cfg.up !== undefined) this.setPortUp(name, cfg.up);
    if (this.rstp !== null && (cfg.cost !== undefined || cfg.priority !== undefined || cfg.edge !== undefined)) {
      const c = this.configs[i]!;
      this.rstp.configurePort(i, { pathCost: c.cost ?? this.autoCost(i), priority: c.priority, adminEdge: c.edge });
    }
  }

  /** `shutdown` (false) / `no shutdown` (true). */
  setPortUp(name: string, up: boolean): void {
    const i = this.indexOf(name);
    this.ports[i]!.up = up;
    if (!up) this.table.removeWhere((p) => p === i);
    if (this.rstp !== null) this.rstp.setPortEnabled(i, this.portEnabled(i));
  }

  portConfig(name: string): Required<Omit<SwitchPortConfig, 'allowed' | 'cost'>> & { allowed: number[] | 'all'; cost: number | 'auto' } {
    const i = this.indexOf(name);
    const c = this.configs[i]!;
    return { mode: c.mode, vlan: c.vlan, allowed: c.allowed ?? 'all', native: c.native, cost: c.cost ?? 'auto', priority: c.priority, edge: c.edge, up: this.ports[i]!.up };
  }

  private indexOf(name: string): number {
    const i = this.ports.findIndex((p) => p.name === name);
    if (i < 0) throw new Error(`${this.name}: no port named ${name}`);
    return i;
  }

  private applyVlanConfig(i: number): void {
    const c = this.configs[i]!;
    this.trunk[i] = c.mode === 'trunk' ? 1 : 0;
    // Untagged frames of a trunk belong to its native VLAN, and only if the trunk allows it.
    this.pvid[i] = c.mode === 'access' ? c.vlan : this.membership(i, c.native) !== NOT_MEMBER ? c.native : 0;
    for (const [vlan, row] of this.egressRows) row[i] = this.membership(i, vlan);
  }

  /** Whether port i carries `vlan` out, and tagged or not, from its config. */
  private membership(i: number, vlan: number): number {
    const c = this.configs[i]!;
    if (c.mode === 'access') return vlan === c.vlan ? UNTAGGED : NOT_MEMBER;
    const allowed = c.allowed === null ? vlan >= 1 && vlan <= 4094 : c.allowed.includes(vlan);
    if (!allowed) return NOT_MEMBER;
    return vlan === c.native ? UNTAGGED : TAGGED;
  }

  /** Egress membership of every port in `vlan` (1..4095). */
  private egressRow(vlan: number): Uint8Array {
    if (vlan === this.lastVlan) return this.lastRow;
    let row = this.egressRows.get(vlan);
    if (row === undefined) {
      row = new Uint8Array(this.n);
      for (let i = 0; i < this.n; i++) row[i] = this.membership(i, vlan);
      this.egressRows.set(vlan, row);
    }
    this.lastVlan = vlan;
    this.lastRow = row;
    return row;
  }

  // ---- show ----

  /** Learned addresses, by VLAN then MAC. */
  macTable(): MacTableRow[] {
    const now = this.engine.now;
    return this.table
      .entries()
      .filter((e) => now - e.seen < this.agingNs)
      .sort((a, b) => a.vlan - b.vlan || a.mac - b.mac)
      .map((e) => ({ vlan: e.vlan, mac: macToString(e.mac), port: this.ports[e.port]!.name, age: Math.floor((now - e.seen) / SECOND) }));
  }

  stpStatus(): StpStatus {
    const ownId = bridgeIdString(this.stpPriority, this.mac);
    const rstp = this.rstp;
    if (rstp === null) {
      return {
        enabled: this.stpEnabled,
        protocol: this.stpVersion,
        bridgeId: ownId,
        rootId: ownId,
        isRoot: true,
        rootPort: null,
        rootCost: 0,
        helloTime: 2,
        maxAge: 20,
        forwardDelay: 15,
        topologyChanges: 0,
        ports: this.ports.map((p, i) => ({
          name: p.name,
          portId: `${this.configs[i]!.priority}.${i + 1}`,
          role: 'disabled',
          state: this.running && this.portEnabled(i) ? 'forwarding' : 'discarding',
          cost: this.configs[i]!.cost ?? this.autoCost(i),
          designatedBridge: ownId,
          designatedPort: `${this.configs[i]!.priority}.${i + 1}`,
          edge: this.configs[i]!.edge,
          protocol: this.stpVersion,
        })),
      };
    }
    const b = rstp.state;
    const r = b.rootPriority;
    const t = b.rootTimes;
    return {
      enabled: true,
      protocol: this.stpVersion,
      bridgeId: ownId,
      rootId: bridgeIdString(r.rootPriority, r.rootMac),
      isRoot: b.rootPort === -1,
      rootPort: b.rootPort === -1 ? null : this.ports[b.rootPort]!.name,
      rootCost: r.rootPathCost,
      helloTime: b.bridgeTimes.helloTime / 256,
      maxAge: t.maxAge / 256,
      forwardDelay: t.forwardDelay / 256,
      topologyChanges: b.topologyChanges,
      ports: b.ports.map((p, i) => ({
        name: this.ports[i]!.name,
        portId: `${p.portId >>> 8 & 0xf0}.${p.portId & 0x0fff}`,
        role: ROLE_NAMES[p.role]!,
        state: PORT_STATE_NAMES[p.state]!,
        cost: p.pathCost,
        designatedBridge: bridgeIdString(p.portPriority.bridgePriority, p.portPriority.bridgeMac),
        designatedPort: `${p.portPriority.portId >>> 8 & 0xf0}.${p.portPriority.portId & 0x0fff}`,
        edge: p.operEdge,
        protocol: p.sendRstp ? 'rstp' : 'stp',
      })),
    };
  }

  /**
   * Spanning tree has settled (what a lab waiting to settle asks, every 50 ms of lab time, of
   * every switch): every root and designated port forwards, and no port with a live cable is
   * still without a role. The same verdict as reading stpStatus(), without building it.
   */
  stpConverged(): boolean {
    if (!this.stpEnabled) return true;
    const ports = this.rstp?.state.ports;
    for (let i = 0; i < this.n; i++) {
      const role = ports === undefined ? ROLE.DISABLED : ports[i]!.role;
      if (role === ROLE.ROOT || role === ROLE.DESIGNATED) {
        if (ports![i]!.state !== PORT_STATE.FORWARDING) return false;
      } else if (role === ROLE.DISABLED) {
        const port = this.ports[i]!;
        const peer = port.peer;
        if (port.up && port.link !== null && !port.link.suspended && peer !== null && peer.up) return false;
      }
    }
    return true;
  }

  /** VLANs some port is configured for, with their untagged and tagged member ports. */
  vlans(): VlanMembership[] {
    const ids = new Set<number>();
    for (const c of this.configs) {
      if (c.mode === 'access') ids.add(c.vlan);
      else {
        ids.add(c.native);
        for (const v of c.allowed ?? []) ids.add(v);
      }
    }
    const n = this.n;
    return [...ids]
      .sort((a, b) => a - b)
      .map((vlan) => {
        const untagged: string[] = [];
        const tagged: string[] = [];
        for (let i = 0; i < n; i++) {
          const m = this.membership(i, vlan);
          if (m === UNTAGGED) untagged.push(this.ports[i]!.name);
          else if (m === TAGGED) tagged.push(this.ports[i]!.name);
        }
        return { vlan, untagged, tagged };
      })
      .filter((v) => v.untagged.length + v.tagged.length > 0);
  }

  portCounters(): PortCounters[] {
    return this.ports.map((p, i) => ({
      name: p.name,
      up: p.up,
      rxFrames: p.rxFrames,
      rxBytes: p.rxBytes,
      txFrames: p.txFrames,
      txBytes: p.txBytes,
      rxDrops: p.rxDrops,
      txDrops: p.txDrops,
      vlanDrops: this.vlanDrops[i]!,
      stpDrops: this.stpDrops[i]!,
      filtered: this.filtered[i]!,
      malformed: this.malformed[i]!,
      bpduIn: this.bpduIn[i]!,
      bpduOut: this.bpduOut[i]!,
    }));
  }

  counters(): SwitchCounters {
    return {
      flooded: this.flooded,
      unknownUnicast: this.unknownUnicast,
      macLearnRefused: this.table.refused,
      macEntries: this.table.count,
      reservedDropped: this.reservedDropped,
    };
  }

  /**
   * `spanning-tree mode`, `spanning-tree vlan ... priority`, `no spanning-tree vlan` on a running
   * switch: the bridge starts its spanning tree over (and forgets learned addresses), as a
   * Catalyst does when the mode changes.
   */
  setSpanningTree(opts: { enabled: boolean; version: 'rstp' | 'stp'; priority: number }): void {
    const p = opts.priority;
    if (!Number.isInteger(p) || p < 0 || p > 61440 || p % 4096 !== 0) throw new Error(`${this.name}: bridge priority ${p} is not 0-61440 in steps of 4096`);
    const wasRunning = this.running;
    this.stop();
    this.stpOn = opts.enabled;
    this.stpVersion = opts.version;
    this.stpPriority = p;
    if (wasRunning) this.start();
  }
}

/** Port `index`'s own MAC: the bridge address plus index + 1 in the low 24 bits. */
export function portMac(bridgeMac: Mac, index: number): Mac {
  const low = bridgeMac % 0x100_0000;
  return bridgeMac - low + ((low + index + 1) % 0x100_0000);
}

/** A copy of a tagged or priority-tagged frame without its tag, padded to the minimum size. */
function untag(frame: Uint8Array, how: number): Uint8Array {
  if (how === IN_UNTAGGED) return frame;
  return padFrame(popVlanTag(frame), ETH_MIN_FRAME);
}

/** A copy of the frame tagged with `vlan` (a priority tag keeps its PCP and DEI). */
function tag(frame: Uint8Array, vlan: number, how: number): Uint8Array {
  if (how === IN_UNTAGGED) return pushVlanTag(frame, vlan);
  if (how === IN_TAGGED) return frame;
  const out = frame.slice();
  out[14] = (out[14]! & 0xf0) | (vlan >>> 8);
  out[15] = vlan & 0xff;
  return out;
}

export function createSwitch(engine: Engine, opts: SwitchOptions): Switch {
  return new Switch(engine, opts);
}
