/**
 * Rapid Spanning Tree (IEEE 802.1D-2004 clause 17, i.e. 802.1w) for one bridge, with 802.1D
 * (STP) compatibility per port: a port that hears a Configuration or TCN BPDU talks STP on that
 * port (Configuration BPDUs, TCNs, forward-delay timers) until it hears RST BPDUs again.
 *
 * The standard describes ten communicating state machines. Here they are evaluated together:
 * every event (a BPDU, the one-second tick, a port going up or down) updates the variables and
 * then `run()` applies the machines' transitions to every port until nothing changes, so a
 * proposal/agreement handshake completes in the same instant the BPDUs arrive. Timers count
 * in 1/256 s, the unit BPDUs carry, and are decremented by the bridge's one-second tick.
 *
 * Everything in `StpBridgeState` is plain data (numbers, booleans, arrays of objects), so a
 * running bridge can be snapshotted; the host (the switch) is reached through `StpHost`.
 */
import { BPDU_TYPE, PORT_ROLE, STP_VERSION, bpduLength, buildStpFrame, encodeBpdu, type Bpdu, type ConfigBpdu } from '../wire/stp.js';

/** Where a BPDU starts in its frame: after the 802.3 header (14 bytes) and the LLC header (3). */
const BPDU_OFFSET = 17;
/** Room for the longest BPDU (RST, 36 bytes), to compare one with a frame sent before. */
const bpduScratch = new Uint8Array(64);

/** Whether `frame` (from buildStpFrame) carries exactly `bpdu`. */
function sameBpdu(frame: Uint8Array, bpdu: Bpdu): boolean {
  const len = bpduLength(bpdu);
  if (((frame[12]! << 8) | frame[13]!) !== 3 + len) return false;
  encodeBpdu(bpdu, bpduScratch, 0);
  for (let k = 0; k < len; k++) if (frame[BPDU_OFFSET + k] !== bpduScratch[k]) return false;
  return true;
}
import { macToString, type Mac } from '../wire/bytes.js';

/** Timer units per second (BPDU times are in 1/256 s). */
export const TICKS_PER_SECOND = 256;
const T = TICKS_PER_SECOND;

export const ROLE = { DISABLED: 0, ROOT: 1, DESIGNATED: 2, ALTERNATE: 3, BACKUP: 4 } as const;
export const ROLE_NAMES = ['disabled', 'root', 'designated', 'alternate', 'backup'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export const PORT_STATE = { DISCARDING: 0, LEARNING: 1, FORWARDING: 2 } as const;
export const PORT_STATE_NAMES = ['discarding', 'learning', 'forwarding'] as const;
export type PortStateName = (typeof PORT_STATE_NAMES)[number];

/** Where a port's priority vector came from (17.19.10 infoIs). */
const INFO = { DISABLED: 0, AGED: 1, MINE: 2, RECEIVED: 3 } as const;
/** Topology Change state machine (17.31); its transient states run inline. */
const TCM = { INACTIVE: 0, LEARNING: 1, ACTIVE: 2 } as const;
/** Port Protocol Migration state machine (17.26). */
const PPM = { CHECKING_RSTP: 0, SELECTING_STP: 1, SENSING: 2 } as const;
/** Results of rcvInfo (17.21.8). */
const MSG = { SUPERIOR: 0, REPEATED: 1, INFERIOR_ROOT_ALT: 2, OTHER: 3 } as const;

/** Default path cost of a 1 Gbit/s link, IEEE 802.1D-2004 Table 17-3 (802.1t long costs). */
export const DEFAULT_PATH_COST = 20_000;
/** Path cost for a link of `bps` bits per second (802.1D-2004 17.14: 20 Tbit/s / speed). */
export function pathCostForRate(bps: number): number {
  if (!(bps > 0)) return DEFAULT_PATH_COST;
  return Math.max(1, Math.min(200_000_000, Math.round(20e12 / bps)));
}

export interface PriorityVector {
  rootPriority: number;
  rootMac: Mac;
  rootPathCost: number;
  bridgePriority: number;
  bridgeMac: Mac;
  /** Designated port id. */
  portId: number;
}

/** In 1/256 s. */
export interface StpTimes {
  messageAge: number;
  maxAge: number;
  forwardDelay: number;
  helloTime: number;
}

export interface StpPortState {
  portId: number;
  pathCost: number;
  adminEdge: boolean;
  autoEdge: boolean;
  /** MAC operational: cabled, admin up, cable not pulled. */
  enabled: boolean;
  /** A point-to-point link (anything but a hub): rapid agreement is allowed on it. */
  pointToPoint: boolean;
  infoIs: number;
  role: number;
  state: number;
  tcState: number;
  ppmState: number;
  sendRstp: boolean;
  rcvdStp: boolean;
  rcvdRstp: boolean;
  portPriority: PriorityVector;
  portTimes: StpTimes;
  designatedPriority: PriorityVector;
  designatedTimes: StpTimes;
  proposing: boolean;
  proposed: boolean;
  agree: boolean;
  agreed: boolean;
  sync: boolean;
  synced: boolean;
  reRoot: boolean;
  operEdge: boolean;
  newInfo: boolean;
  tcAck: boolean;
  rcvdTc: boolean;
  rcvdTcn: boolean;
  rcvdTcAck: boolean;
  tcProp: boolean;
  txCount: number;
  helloWhen: number;
  tcWhile: number;
  fdWhile: number;
  rcvdInfoWhile: number;
  rrWhile: number;
  rbWhile: number;
  mdelayWhile: number;
  edgeDelayWhile: number;
  rxBpdus: number;
  txBpdus: number;
  forwardTransitions: number;
  /** The last BPDU frame sent: a hello that says the same is sent again as it is (frames are never changed once sent). */
  lastBpdu: Uint8Array | null;
}

export interface StpBridgeState {
  /** The 16-bit bridge priority field (multiple of 4096; system id extension 0: one tree for all VLANs). */
  priority: number;
  mac: Mac;
  /** 2 (RSTP) or 0 (force STP). */
  forceVersion: number;
  bridgeTimes: StpTimes;
  txHoldCount: number;
  migrateTime: number;
  rootPriority: PriorityVector;
  rootTimes: StpTimes;
  /** Index of the root port, -1 when this bridge is the root. */
  rootPort: number;
  reselect: boolean;
  topologyChanges: number;
  /** Engine time (ns) of the last topology change detected or notified, -1 when none. */
  lastTopologyChange: number;
  ports: StpPortState[];
}

/** What the bridge needs from the switch it runs in. */
export interface StpHost {
  stpTransmit(port: number, frame: Uint8Array): void;
  /** A port's forwarding state changed (PORT_STATE value). */
  stpPortState(port: number, state: number): void;
  /** Forget every address learned on the port (fdbFlush). */
  stpFlush(port: number): void;
  stpPortMac(port: number): Mac;
  stpNow(): number;
}

export interface StpPortOptions {
  pathCost?: number;
  /** 0..240 in steps of 16. */
  priority?: number;
  adminEdge?: boolean;
}

export interface RstpOptions {
  priority?: number;
  mac: Mac;
  /** 'stp' forces 802.1D Configuration BPDUs on every port. */
  version?: 'rstp' | 'stp';
  helloTime?: number;
  maxAge?: number;
  forwardDelay?: number;
  ports: StpPortOptions[];
}

const ROLE_TO_FLAG = [PORT_ROLE.UNKNOWN, PORT_ROLE.ROOT, PORT_ROLE.DESIGNATED, PORT_ROLE.ALTERNATE_BACKUP, PORT_ROLE.ALTERNATE_BACKUP];
const MAX_PASSES = 64;

/** Negative when a is better (lower) than b, 0 when equal, positive when worse. */
export function comparePriority(a: PriorityVector, b: PriorityVector): number {
  return (
    a.rootPriority - b.rootPriority ||
    a.rootMac - b.rootMac ||
    a.rootPathCost - b.rootPathCost ||
    a.bridgePriority - b.bridgePriority ||
    a.bridgeMac - b.bridgeMac ||
    a.portId - b.portId
  );
}

function sameTimes(a: StpTimes, b: StpTimes): boolean {
  return a.messageAge === b.messageAge && a.maxAge === b.maxAge && a.forwardDelay === b.forwardDelay && a.helloTime === b.helloTime;
}

export function bridgeIdString(priority: number, mac: Mac): string {
  return `${priority}.${macToString(mac)}`;
}

function newPort(bridge: StpBridgeState, index: number, o: StpPortOptions): StpPortState {
  const priority = o.priority ?? 128;
  const own: PriorityVector = { ...bridge.rootPriority };
  return {
    portId: ((priority & 0xf0) << 8) | ((index + 1) & 0x0fff),
    pathCost: o.pathCost ?? DEFAULT_PATH_COST,
    adminEdge: o.adminEdge ?? false,
    autoEdge: true,
    enabled: false,
    pointToPoint: true,
    infoIs: INFO.DISABLED,
    role: ROLE.DISABLED,
    state: PORT_STATE.DISCARDING,
    tcState: TCM.INACTIVE,
    ppmState: PPM.CHECKING_RSTP,
    sendRstp: bridge.forceVersion >= 2,
    rcvdStp: false,
    rcvdRstp: false,
    portPriority: own,
    portTimes: { ...bridge.bridgeTimes },
    designatedPriority: { ...own },
    designatedTimes: { ...bridge.bridgeTimes },
    proposing: false,
    proposed: false,
    agree: false,
    agreed: false,
    sync: false,
    synced: true,
    reRoot: false,
    operEdge: o.adminEdge ?? false,
    newInfo: true,
    tcAck: false,
    rcvdTc: false,
    rcvdTcn: false,
    rcvdTcAck: false,
    tcProp: false,
    txCount: 0,
    helloWhen: 0,
    tcWhile: 0,
    fdWhile: bridge.bridgeTimes.maxAge,
    rcvdInfoWhile: 0,
    rrWhile: 0,
    rbWhile: 0,
    mdelayWhile: bridge.migrateTime,
    edgeDelayWhile: bridge.migrateTime,
    rxBpdus: 0,
    txBpdus: 0,
    forwardTransitions: 0,
    lastBpdu: null,
  };
}

export function newBridgeState(o: RstpOptions): StpBridgeState {
  const priority = o.priority ?? 32768;
  const bridgeTimes: StpTimes = {
    messageAge: 0,
    maxAge: Math.round((o.maxAge ?? 20) * T),
    forwardDelay: Math.round((o.forwardDelay ?? 15) * T),
    helloTime: Math.round((o.helloTime ?? 2) * T),
  };
  const own: PriorityVector = { rootPriority: priority, rootMac: o.mac, rootPathCost: 0, bridgePriority: priority, bridgeMac: o.mac, portId: 0 };
  const bridge: StpBridgeState = {
    priority,
    mac: o.mac,
    forceVersion: o.version === 'stp' ? STP_VERSION.STP : STP_VERSION.RSTP,
    bridgeTimes,
    txHoldCount: 6,
    migrateTime: 3 * T,
    rootPriority: own,
    rootTimes: { ...bridgeTimes },
    rootPort: -1,
    reselect: false,
    topologyChanges: 0,
    lastTopologyChange: -1,
    ports: [],
  };
  bridge.ports = o.ports.map((p, i) => newPort(bridge, i, p));
  return bridge;
}

/** How a received BPDU reads once decoded for rcvInfo. */
interface Message {
  role: number;
  priority: PriorityVector;
  times: StpTimes;
  proposal: boolean;
  agreement: boolean;
  learning: boolean;
  forwarding: boolean;
  tc: boolean;
  tcAck: boolean;
}

export class Rstp {
  /** Set while `run()` applies transitions, so it knows whether another pass is needed. */
  private dirty = false;

  constructor(
    private readonly host: StpHost,
    public state: StpBridgeState,
  ) {}

  get rstpVersion(): boolean {
    return this.state.forceVersion >= 2;
  }

  /** BEGIN: every port starts disabled; the enabled ones then come up and the tree forms. */
  begin(enabled: readonly boolean[]): void {
    const b = this.state;
    for (let i = 0; i < b.ports.length; i++) {
      if (enabled[i]) this.enablePort(i);
    }
    this.run();
  }

  /** Called once a second by the switch; `enabled` is each port's MAC operational state. */
  tick(enabled: readonly boolean[]): void {
    const ports = this.state.ports;
    for (let i = 0; i < ports.length; i++) {
      if (enabled[i] !== ports[i]!.enabled) {
        if (enabled[i]) this.enablePort(i);
        else this.disablePort(i);
      }
    }
    for (const p of ports) {
      p.helloWhen = dec(p.helloWhen);
      p.tcWhile = dec(p.tcWhile);
      p.fdWhile = dec(p.fdWhile);
      p.rcvdInfoWhile = dec(p.rcvdInfoWhile);
      p.rrWhile = dec(p.rrWhile);
      p.rbWhile = dec(p.rbWhile);
      p.mdelayWhile = dec(p.mdelayWhile);
      p.edgeDelayWhile = dec(p.edgeDelayWhile);
      if (p.txCount > 0) p.txCount--;
    }
    this.run();
  }

  /** A port's MAC became operational or not (cable, admin state). */
  setPortEnabled(i: number, enabled: boolean): void {
    if (this.state.ports[i]!.enabled === enabled) return;
    if (enabled) this.enablePort(i);
    else this.disablePort(i);
    this.run();
  }

  setPointToPoint(i: number, ptp: boolean): void {
    this.state.ports[i]!.pointToPoint = ptp;
  }

  /** Sets the path cost of a port that is down (one that is up needs `configurePort` to re-elect). */
  setIdlePathCost(i: number, cost: number): void {
    const p = this.state.ports[i]!;
    if (!p.enabled) p.pathCost = cost;
  }

  /** Changes a port's path cost, priority or admin edge; the tree is recomputed. */
  configurePort(i: number, o: StpPortOptions): void {
    const p = this.state.ports[i]!;
    if (o.pathCost !== undefined) p.pathCost = o.pathCost;
    if (o.priority !== undefined) p.portId = ((o.priority & 0xf0) << 8) | (p.portId & 0x0fff);
    if (o.adminEdge !== undefined) {
      p.adminEdge = o.adminEdge;
      if (o.adminEdge) p.operEdge = true;
    }
    this.state.reselect = true;
    this.run();
  }

  private enablePort(i: number): void {
    const b = this.state;
    const p = b.ports[i]!;
    p.enabled = true;
    // PIM DISABLED -> AGED; PPM restarts in CHECKING_RSTP; BDM per AdminEdge.
    p.infoIs = INFO.AGED;
    p.ppmState = PPM.CHECKING_RSTP;
    p.sendRstp = this.rstpVersion;
    p.mdelayWhile = b.migrateTime;
    p.rcvdStp = p.rcvdRstp = false;
    p.operEdge = p.adminEdge;
    p.edgeDelayWhile = b.migrateTime;
    p.helloWhen = 0;
    b.reselect = true;
  }

  private disablePort(i: number): void {
    const b = this.state;
    const p = b.ports[i]!;
    p.enabled = false;
    p.infoIs = INFO.DISABLED;
    p.proposing = p.proposed = p.agree = p.agreed = false;
    p.rcvdInfoWhile = 0;
    p.operEdge = p.adminEdge;
    p.ppmState = PPM.CHECKING_RSTP;
    p.sendRstp = this.rstpVersion;
    p.mdelayWhile = b.migrateTime;
    b.reselect = true;
  }

  // ---- receive (Port Receive + Port Information, 17.23 and 17.27) ----

  receive(i: number, bpdu: Bpdu): void {
    const b = this.state;
    const p = b.ports[i]!;
    if (!p.enabled) return;
    p.rxBpdus++;
    // 9.3.4: our own Configuration BPDU come back to the port that sent it (a hub) is ignored.
    if (bpdu.type !== BPDU_TYPE.TCN && bpdu.bridgeId.mac === b.mac && (bpdu.portId & 0x0fff) === (p.portId & 0x0fff)) return;
    // updtBPDUVersion, and BDM: a port that hears BPDUs is not an edge port.
    if (bpdu.type === BPDU_TYPE.RST) p.rcvdRstp = true;
    else p.rcvdStp = true;
    p.operEdge = false;
    p.edgeDelayWhile = b.migrateTime;
    if (bpdu.type === BPDU_TYPE.TCN) {
      p.rcvdTcn = true;
      this.run();
      return;
    }
    if (p.infoIs !== INFO.MINE && p.infoIs !== INFO.RECEIVED) {
      this.run();
      return;
    }
    const msg = toMessage(bpdu);
    if (msg === null) {
      this.run();
      return;
    }
    switch (this.rcvInfo(p, msg)) {
      case MSG.SUPERIOR: {
        p.agreed = false;
        p.proposing = false;
        this.recordProposal(p, msg);
        setTcFlags(p, msg);
        const betterOrSame = p.infoIs === INFO.RECEIVED && comparePriority(msg.priority, p.portPriority) <= 0;
        p.agree = p.agree && betterOrSame;
        p.portPriority = { ...msg.priority };
        p.portTimes = { ...msg.times, helloTime: Math.max(msg.times.helloTime, T) };
        this.updtRcvdInfoWhile(p);
        p.infoIs = INFO.RECEIVED;
        b.reselect = true;
        break;
      }
      case MSG.REPEATED:
        this.recordProposal(p, msg);
        setTcFlags(p, msg);
        this.updtRcvdInfoWhile(p);
        break;
      case MSG.INFERIOR_ROOT_ALT:
        // recordAgreement: only a point-to-point RSTP link may agree its way to forwarding.
        if (this.rstpVersion && p.pointToPoint && msg.agreement) {
          p.agreed = true;
          p.proposing = false;
        } else {
          p.agreed = false;
        }
        setTcFlags(p, msg);
        break;
      default:
        break;
    }
    this.run();
  }

  private rcvInfo(p: StpPortState, msg: Message): number {
    if (msg.role === ROLE.DESIGNATED) {
      const c = comparePriority(msg.priority, p.portPriority);
      if (c === 0) return sameTimes(msg.times, p.portTimes) ? MSG.REPEATED : MSG.SUPERIOR;
      // 17.6: better, or a new message from the same designated bridge and port (its info may be worse now).
      if (c < 0) return MSG.SUPERIOR;
      if (msg.priority.bridgeMac === p.portPriority.bridgeMac && (msg.priority.portId & 0x0fff) === (p.portPriority.portId & 0x0fff)) return MSG.SUPERIOR;
      return MSG.OTHER;
    }
    if (msg.role === ROLE.ROOT || msg.role === ROLE.ALTERNATE) {
      if (comparePriority(msg.priority, p.portPriority) >= 0) return MSG.INFERIOR_ROOT_ALT;
    }
    return MSG.OTHER;
  }

  private recordProposal(p: StpPortState, msg: Message): void {
    if (msg.role === ROLE.DESIGNATED && msg.proposal) p.proposed = true;
  }

  private updtRcvdInfoWhile(p: StpPortState): void {
    const t = p.portTimes;
    p.rcvdInfoWhile = t.messageAge + T <= t.maxAge ? 3 * t.helloTime : 0;
  }

  // ---- the machines ----

  /** Applies transitions until every port is stable, then transmits what changed. */
  run(): void {
    const b = this.state;
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      this.dirty = false;
      for (const p of b.ports) {
        // PIM: received information that was not refreshed in time is aged out.
        if (p.infoIs === INFO.RECEIVED && p.rcvdInfoWhile === 0) {
          p.infoIs = INFO.AGED;
          b.reselect = true;
        }
      }
      if (b.reselect) {
        b.reselect = false;
        this.updateRoles();
        this.dirty = true;
      }
      for (let i = 0; i < b.ports.length; i++) {
        const p = b.ports[i]!;
        this.protocolMigration(p);
        this.bridgeDetection(p);
        this.roleTransitions(p);
        this.topologyChange(i, p);
      }
      if (!this.dirty) break;
    }
    for (let i = 0; i < b.ports.length; i++) this.transmit(i, b.ports[i]!);
  }

  /** Port Role Selection (17.28, updtRolesTree) with the roles taken at once. */
  private updateRoles(): void {
    const b = this.state;
    const own: PriorityVector = { rootPriority: b.priority, rootMac: b.mac, rootPathCost: 0, bridgePriority: b.priority, bridgeMac: b.mac, portId: 0 };
    let root = own;
    let rootTimes: StpTimes = { ...b.bridgeTimes, messageAge: 0 };
    let rootPort = -1;
    for (let i = 0; i < b.ports.length; i++) {
      const p = b.ports[i]!;
      if (p.infoIs !== INFO.RECEIVED) continue;
      // Our own information heard back (two of our ports on one segment) never makes a root path.
      if (p.portPriority.bridgeMac === b.mac) continue;
      const candidate: PriorityVector = { ...p.portPriority, rootPathCost: p.portPriority.rootPathCost + p.pathCost };
      const c = comparePriority(candidate, root);
      // Ties between ports go to the lower receiving port id (the fifth component of the vector).
      if (c < 0 || (c === 0 && rootPort >= 0 && p.portId < b.ports[rootPort]!.portId)) {
        root = candidate;
        rootTimes = { ...p.portTimes, messageAge: p.portTimes.messageAge + T };
        rootPort = i;
      }
    }
    b.rootPriority = root;
    b.rootTimes = rootTimes;
    b.rootPort = rootPort;
    for (let i = 0; i < b.ports.length; i++) {
      const p = b.ports[i]!;
      p.designatedPriority = {
        rootPriority: root.rootPriority,
        rootMac: root.rootMac,
        rootPathCost: root.rootPathCost,
        bridgePriority: b.priority,
        bridgeMac: b.mac,
        portId: p.portId,
      };
      p.designatedTimes = { messageAge: rootTimes.messageAge, maxAge: rootTimes.maxAge, forwardDelay: rootTimes.forwardDelay, helloTime: b.bridgeTimes.helloTime };
      switch (p.infoIs) {
        case INFO.DISABLED:
          this.setRole(p, ROLE.DISABLED);
          break;
        case INFO.AGED:
          this.setRole(p, ROLE.DESIGNATED);
          this.updtInfo(p);
          break;
        case INFO.MINE:
          this.setRole(p, ROLE.DESIGNATED);
          if (comparePriority(p.portPriority, p.designatedPriority) !== 0 || !sameTimes(p.portTimes, p.designatedTimes)) this.updtInfo(p);
          break;
        case INFO.RECEIVED:
          if (i === rootPort) {
            this.setRole(p, ROLE.ROOT);
          } else if (comparePriority(p.designatedPriority, p.portPriority) < 0) {
            this.setRole(p, ROLE.DESIGNATED);
            this.updtInfo(p);
          } else if (p.portPriority.bridgeMac === b.mac) {
            this.setRole(p, ROLE.BACKUP);
          } else {
            this.setRole(p, ROLE.ALTERNATE);
          }
          break;
      }
    }
  }

  /** PIM UPDATE: the port's own designated information replaces what it held. */
  private updtInfo(p: StpPortState): void {
    p.proposing = false;
    p.proposed = false;
    const betterOrSame = p.infoIs === INFO.MINE && comparePriority(p.designatedPriority, p.portPriority) <= 0;
    if (p.agreed && !betterOrSame) p.agreed = false;
    if (p.synced && !p.agreed) p.synced = false;
    p.portPriority = { ...p.designatedPriority };
    p.portTimes = { ...p.designatedTimes };
    p.infoIs = INFO.MINE;
    p.newInfo = true;
  }

  private setRole(p: StpPortState, role: number): void {
    if (p.role === role) return;
    const old = p.role;
    // What the old role's state held steady keeps counting down from there.
    if (old === ROLE.ROOT) p.rrWhile = p.designatedTimes.forwardDelay;
    if (old === ROLE.BACKUP) p.rbWhile = 2 * p.designatedTimes.helloTime;
    p.role = role;
    p.proposing = false;
    if (role === ROLE.DISABLED || role === ROLE.ALTERNATE || role === ROLE.BACKUP) {
      this.setState(p, PORT_STATE.DISCARDING);
      p.rrWhile = 0;
      p.sync = false;
      p.synced = true;
      p.reRoot = false;
    } else if (role === ROLE.DESIGNATED) {
      // A designated port does not carry the agreement it may have given as a root port.
      p.agree = false;
    }
    this.dirty = true;
  }

  private setState(p: StpPortState, state: number): void {
    if (p.state === state) return;
    p.state = state;
    if (state === PORT_STATE.FORWARDING) {
      p.fdWhile = 0;
      p.forwardTransitions++;
    }
    this.host.stpPortState((p.portId & 0x0fff) - 1, state);
    this.dirty = true;
  }

  /** forwardDelay (17.20.6): Hello Time on an RSTP port, Forward Delay on an STP one. */
  private forwardDelay(p: StpPortState): number {
    return p.sendRstp ? p.designatedTimes.helloTime : p.designatedTimes.forwardDelay;
  }

  private allSynced(): boolean {
    for (const q of this.state.ports) if (q.role !== ROLE.ROOT && !q.synced) return false;
    return true;
  }

  private reRooted(self: StpPortState): boolean {
    for (const q of this.state.ports) if (q !== self && q.rrWhile !== 0) return false;
    return true;
  }

  private setSyncTree(): void {
    for (const q of this.state.ports) q.sync = true;
    this.dirty = true;
  }

  private setReRootTree(): void {
    for (const q of this.state.ports) q.reRoot = true;
    this.dirty = true;
  }

  private setTcPropTree(self: StpPortState): void {
    for (const q of this.state.ports) if (q !== self) q.tcProp = true;
    this.dirty = true;
  }

  /** Sets a field and notes a change only when the value differs (held timers and flags). */
  private hold<K extends keyof StpPortState>(p: StpPortState, key: K, value: StpPortState[K]): void {
    if (p[key] !== value) {
      p[key] = value;
      this.dirty = true;
    }
  }

  /** Port Role Transitions (17.29) and the Port State Transition they drive (17.30). */
  private roleTransitions(p: StpPortState): void {
    const b = this.state;
    switch (p.role) {
      case ROLE.DISABLED:
        this.setState(p, PORT_STATE.DISCARDING);
        this.hold(p, 'fdWhile', b.rootTimes.maxAge);
        this.hold(p, 'synced', true);
        this.hold(p, 'rrWhile', 0);
        this.hold(p, 'sync', false);
        this.hold(p, 'reRoot', false);
        break;

      case ROLE.ALTERNATE:
      case ROLE.BACKUP:
        if ((p.proposed && p.agree) || (this.allSynced() && !p.agree)) {
          p.proposed = false;
          p.agree = true;
          p.newInfo = true;
          this.dirty = true;
        }
        if (p.proposed && !p.agree) {
          this.setSyncTree();
          p.proposed = false;
        }
        if (p.role === ROLE.BACKUP) this.hold(p, 'rbWhile', 2 * p.designatedTimes.helloTime);
        this.hold(p, 'fdWhile', this.forwardDelay(p));
        this.hold(p, 'synced', true);
        this.hold(p, 'rrWhile', 0);
        this.hold(p, 'sync', false);
        this.hold(p, 'reRoot', false);
        break;

      case ROLE.ROOT: {
        if ((p.proposed && p.agree) || (this.allSynced() && !p.agree)) {
          p.proposed = false;
          p.sync = false;
          p.agree = true;
          p.newInfo = true;
          this.dirty = true;
        }
        if (p.proposed && !p.agree) {
          this.setSyncTree();
          p.proposed = false;
        }
        if (p.state !== PORT_STATE.FORWARDING && !p.reRoot) this.setReRootTree();
        this.hold(p, 'rrWhile', p.designatedTimes.forwardDelay);
        if ((p.agreed && !p.synced) || (p.sync && p.synced)) {
          p.synced = true;
          p.sync = false;
          this.dirty = true;
        }
        if (p.state !== PORT_STATE.FORWARDING && (p.fdWhile === 0 || (this.reRooted(p) && p.rbWhile === 0 && this.rstpVersion))) {
          if (p.state === PORT_STATE.DISCARDING) {
            p.fdWhile = this.forwardDelay(p);
            this.setState(p, PORT_STATE.LEARNING);
          } else {
            this.setState(p, PORT_STATE.FORWARDING);
          }
        }
        if (p.state === PORT_STATE.FORWARDING && p.reRoot) {
          p.reRoot = false;
          this.dirty = true;
        }
        break;
      }

      case ROLE.DESIGNATED: {
        if (p.state !== PORT_STATE.FORWARDING && !p.agreed && !p.proposing && !p.operEdge) {
          p.proposing = true;
          p.edgeDelayWhile = p.pointToPoint ? b.migrateTime : p.designatedTimes.maxAge;
          p.newInfo = true;
          this.dirty = true;
        }
        if ((p.state === PORT_STATE.DISCARDING && !p.synced) || (p.agreed && !p.synced) || (p.operEdge && !p.synced) || (p.sync && p.synced)) {
          p.rrWhile = 0;
          p.synced = true;
          p.sync = false;
          this.dirty = true;
        }
        if (p.reRoot && p.rrWhile === 0) {
          p.reRoot = false;
          this.dirty = true;
        }
        if (((p.sync && !p.synced) || (p.reRoot && p.rrWhile !== 0)) && !p.operEdge && p.state !== PORT_STATE.DISCARDING) {
          p.fdWhile = this.forwardDelay(p);
          this.setState(p, PORT_STATE.DISCARDING);
        }
        if (p.state !== PORT_STATE.FORWARDING && (p.fdWhile === 0 || p.agreed || p.operEdge) && (p.rrWhile === 0 || !p.reRoot) && !p.sync) {
          if (p.agreed || p.operEdge || p.state === PORT_STATE.LEARNING) {
            this.setState(p, PORT_STATE.FORWARDING);
            p.agreed = p.sendRstp;
          } else {
            p.fdWhile = this.forwardDelay(p);
            this.setState(p, PORT_STATE.LEARNING);
          }
        }
        break;
      }
    }
  }

  /** Topology Change state machine (17.31). */
  private topologyChange(i: number, p: StpPortState): void {
    const b = this.state;
    const rootOrDesignated = p.role === ROLE.ROOT || p.role === ROLE.DESIGNATED;
    switch (p.tcState) {
      case TCM.INACTIVE:
        if (p.state !== PORT_STATE.DISCARDING) this.enterTcLearning(p);
        break;
      case TCM.LEARNING:
        if (p.rcvdTc || p.rcvdTcn || p.rcvdTcAck || p.tcProp) {
          this.enterTcLearning(p);
        } else if (rootOrDesignated && p.state === PORT_STATE.FORWARDING && !p.operEdge) {
          // DETECTED: this port started forwarding, so paths changed: tell everyone.
          this.newTcWhile(p);
          this.setTcPropTree(p);
          p.newInfo = true;
          b.topologyChanges++;
          b.lastTopologyChange = this.host.stpNow();
          p.tcState = TCM.ACTIVE;
          this.dirty = true;
        } else if (!rootOrDesignated && p.state === PORT_STATE.DISCARDING) {
          this.enterTcInactive(i, p);
        }
        break;
      case TCM.ACTIVE:
        if (!rootOrDesignated || p.operEdge) {
          this.enterTcLearning(p);
        } else if (p.rcvdTcn || p.rcvdTc) {
          // NOTIFIED_TCN / NOTIFIED_TC
          if (p.rcvdTcn) this.newTcWhile(p);
          p.rcvdTcn = false;
          p.rcvdTc = false;
          if (p.role === ROLE.DESIGNATED) p.tcAck = true;
          this.setTcPropTree(p);
          b.topologyChanges++;
          b.lastTopologyChange = this.host.stpNow();
          this.dirty = true;
        } else if (p.tcProp && !p.operEdge) {
          // PROPAGATING
          this.newTcWhile(p);
          this.host.stpFlush(i);
          p.tcProp = false;
          this.dirty = true;
        } else if (p.rcvdTcAck) {
          // ACKNOWLEDGED
          p.tcWhile = 0;
          p.rcvdTcAck = false;
          this.dirty = true;
        }
        break;
    }
  }

  private enterTcLearning(p: StpPortState): void {
    p.tcState = TCM.LEARNING;
    p.rcvdTc = p.rcvdTcn = p.rcvdTcAck = p.tcProp = false;
    this.dirty = true;
  }

  private enterTcInactive(i: number, p: StpPortState): void {
    p.tcState = TCM.INACTIVE;
    // fdbFlush: a port that stopped forwarding forgets what it learned.
    this.host.stpFlush(i);
    p.tcWhile = 0;
    p.tcAck = false;
    this.dirty = true;
  }

  private newTcWhile(p: StpPortState): void {
    if (p.tcWhile !== 0) return;
    if (p.sendRstp) {
      p.tcWhile = p.designatedTimes.helloTime + T;
      p.newInfo = true;
    } else {
      p.tcWhile = this.state.rootTimes.maxAge + this.state.rootTimes.forwardDelay;
    }
  }

  /** Port Protocol Migration (17.26). */
  private protocolMigration(p: StpPortState): void {
    const b = this.state;
    switch (p.ppmState) {
      case PPM.CHECKING_RSTP:
      case PPM.SELECTING_STP:
        if (p.mdelayWhile === 0) {
          p.ppmState = PPM.SENSING;
          p.rcvdStp = p.rcvdRstp = false;
          this.dirty = true;
        }
        break;
      case PPM.SENSING:
        if (this.rstpVersion && !p.sendRstp && p.rcvdRstp) {
          p.ppmState = PPM.CHECKING_RSTP;
          p.sendRstp = true;
          p.mdelayWhile = b.migrateTime;
          p.newInfo = true;
          this.dirty = true;
        } else if (p.sendRstp && p.rcvdStp) {
          p.ppmState = PPM.SELECTING_STP;
          p.sendRstp = false;
          p.mdelayWhile = b.migrateTime;
          p.newInfo = true;
          this.dirty = true;
        }
        break;
    }
  }

  /** Bridge Detection (17.25): a designated port that proposed and heard nothing back is an edge. */
  private bridgeDetection(p: StpPortState): void {
    if (p.operEdge || !p.enabled) return;
    if (p.edgeDelayWhile === 0 && p.autoEdge && p.sendRstp && p.proposing) {
      p.operEdge = true;
      this.dirty = true;
    }
  }

  /** Port Transmit (17.24). */
  private transmit(i: number, p: StpPortState): void {
    if (!p.enabled || p.role === ROLE.DISABLED) return;
    const b = this.state;
    if (p.helloWhen === 0) {
      p.newInfo = p.newInfo || p.role === ROLE.DESIGNATED || (p.role === ROLE.ROOT && p.tcWhile !== 0);
      p.helloWhen = b.bridgeTimes.helloTime;
    }
    if (!p.newInfo || p.txCount >= b.txHoldCount) return;
    let bpdu: Bpdu;
    if (p.sendRstp) {
      bpdu = this.configBpdu(p, BPDU_TYPE.RST);
    } else if (p.role === ROLE.DESIGNATED) {
      bpdu = this.configBpdu(p, BPDU_TYPE.CONFIG);
    } else if (p.role === ROLE.ROOT && p.tcWhile !== 0) {
      // An 802.1D root port speaks only to report a topology change, until it is acknowledged.
      bpdu = { type: BPDU_TYPE.TCN, protocolId: 0, version: STP_VERSION.STP };
    } else {
      p.newInfo = false;
      return;
    }
    if (bpdu.type !== BPDU_TYPE.TCN) p.tcAck = false;
    p.newInfo = false;
    p.txCount++;
    p.txBpdus++;
    p.helloWhen = b.bridgeTimes.helloTime;
    let frame = p.lastBpdu;
    if (frame === null || !sameBpdu(frame, bpdu)) {
      frame = buildStpFrame(bpdu, this.host.stpPortMac(i));
      p.lastBpdu = frame;
    }
    this.host.stpTransmit(i, frame);
  }

  private configBpdu(p: StpPortState, type: typeof BPDU_TYPE.CONFIG | typeof BPDU_TYPE.RST): ConfigBpdu {
    const d = p.designatedPriority;
    const t = p.designatedTimes;
    const rst = type === BPDU_TYPE.RST;
    return {
      type,
      protocolId: 0,
      version: rst ? STP_VERSION.RSTP : STP_VERSION.STP,
      flags: {
        tc: p.tcWhile !== 0,
        // A forwarding port has nothing left to propose; saying so would make the peer re-sync.
        proposal: rst && p.proposing && p.state !== PORT_STATE.FORWARDING,
        role: rst ? ROLE_TO_FLAG[p.role]! : 0,
        learning: rst && p.state !== PORT_STATE.DISCARDING,
        forwarding: rst && p.state === PORT_STATE.FORWARDING,
        agreement: rst && p.agree,
        tca: !rst && p.tcAck,
      },
      rootId: { priority: d.rootPriority, mac: d.rootMac },
      rootPathCost: d.rootPathCost,
      bridgeId: { priority: d.bridgePriority, mac: d.bridgeMac },
      portId: d.portId,
      messageAge: t.messageAge / T,
      maxAge: t.maxAge / T,
      helloTime: t.helloTime / T,
      forwardDelay: t.forwardDelay / T,
    };
  }
}

function dec(t: number): number {
  return t > T ? t - T : 0;
}

function setTcFlags(p: StpPortState, msg: Message): void {
  if (msg.tc) p.rcvdTc = true;
  if (msg.tcAck) p.rcvdTcAck = true;
}

function toMessage(bpdu: Bpdu): Message | null {
  if (bpdu.type === BPDU_TYPE.TCN) return null;
  const times: StpTimes = {
    messageAge: Math.round(bpdu.messageAge * T),
    maxAge: Math.round(bpdu.maxAge * T),
    forwardDelay: Math.round(bpdu.forwardDelay * T),
    helloTime: Math.round(bpdu.helloTime * T),
  };
  const priority: PriorityVector = {
    rootPriority: bpdu.rootId.priority,
    rootMac: bpdu.rootId.mac,
    rootPathCost: bpdu.rootPathCost,
    bridgePriority: bpdu.bridgeId.priority,
    bridgeMac: bpdu.bridgeId.mac,
    portId: bpdu.portId,
  };
  const f = bpdu.flags;
  if (bpdu.type === BPDU_TYPE.CONFIG) {
    // An 802.1D Configuration BPDU speaks for a designated port and carries only TC and TCA.
    return { role: ROLE.DESIGNATED, priority, times, proposal: false, agreement: false, learning: false, forwarding: false, tc: f.tc, tcAck: f.tca };
  }
  let role: number;
  switch (f.role) {
    case PORT_ROLE.ROOT:
      role = ROLE.ROOT;
      break;
    case PORT_ROLE.DESIGNATED:
      role = ROLE.DESIGNATED;
      break;
    case PORT_ROLE.ALTERNATE_BACKUP:
      role = ROLE.ALTERNATE;
      break;
    default:
      role = -1;
  }
  return { role, priority, times, proposal: f.proposal, agreement: f.agreement, learning: f.learning, forwarding: f.forwarding, tc: f.tc, tcAck: false };
}
