/**
 * What the server answers, as the client reads it. The lab file's own shapes (node, network,
 * link and check specs) are the zod-inferred types of devices/lab/schema.ts and the decoded
 * layers come from devices/trace/decode.ts, imported as types so nothing is copied; the view
 * objects mirror server/api-schemas.ts (tests/unit/client-api-types.test.ts proves at compile
 * time that the server's views are assignable to these).
 */
import type { CheckSpec, LabFile, NetworkSpec, NodeSpec } from '../../../devices/lab/schema.js';
import type { Layer } from '../../../devices/trace/decode.js';

export type { CheckSpec, LabFile, NetworkSpec, NodeSpec, Layer };
export type NodeKind = NodeSpec['kind'];
export type NetworkType = NetworkSpec['type'];
export type LabStatus = 'stopped' | 'running' | 'invalid';

export interface LabSummary {
  name: string;
  description: string;
  status: LabStatus;
  nodeCount: number;
  linkCount: number;
}

export interface NodeInterfaceView {
  name: string;
  mac: string;
  network: string | null;
  link: string | null;
}

export interface NodeView {
  name: string;
  kind: NodeKind;
  status: 'running' | 'stopped';
  console: number;
  ui: { x: number; y: number } | null;
  interfaces: NodeInterfaceView[];
  /** The node as written in lab.yaml. */
  spec: Record<string, unknown>;
}

export interface NetworkView {
  name: string;
  type: string;
  subnet: string | null;
  attached: string[];
  spec: Record<string, unknown>;
}

export interface Impairments {
  delay?: string;
  jitter?: string;
  loss?: string;
  duplicate?: string;
  corrupt?: string;
  rate?: string;
}
export const IMPAIRMENT_KEYS = ['delay', 'jitter', 'loss', 'duplicate', 'corrupt', 'rate'] as const;

export interface LinkView {
  id: string;
  endpoints: [string, string];
  suspended: boolean;
  impairments: Impairments;
  origin: 'link' | 'network-key';
}

export interface LabProblem {
  file: string;
  line: number;
  column: number;
  field: string;
  message: string;
  text: string;
}

export interface LabView extends LabSummary {
  problems: LabProblem[] | null;
  file: Record<string, unknown> | null;
  nodes: NodeView[];
  networks: NetworkView[];
  links: LinkView[];
}

export interface CheckView {
  index: number;
  name?: string | undefined;
  [key: string]: unknown;
}

export interface CheckResult {
  name: string;
  kind: string;
  expect: 'success' | 'failure';
  ok: boolean;
  passed: boolean;
  detail: string;
  durationNs: number;
}

export interface CaptureView {
  id: string;
  lab: string;
  link: string | null;
  node: string | null;
  interface: string | null;
  state: 'running' | 'stopped';
  frames: number;
  bytes: number;
  dropped: number;
  maxBytes: number;
  url: string;
}

/** GET /labs/{lab}/networks/{network}/status, the parts the Virtual Network Editor shows (server/nat-api.ts). */
export interface NetworkStatusView {
  name: string;
  type: string;
  running: boolean;
  plan: {
    subnet: string;
    hostAdapter: string | null;
    hostAdapterMode: string;
    gateway: string | null;
    dhcpServer: string | null;
    dhcpRange: string | null;
    leaseSeconds: number | null;
  } | null;
  dhcp: {
    leases: { ip: string; mac: string; hostname: string; expiresInS: number; type: string }[];
    size: number;
    leased: number;
    exhausted: number;
  } | null;
  nat: {
    tcp: { direction: string; guest: string; peer: string; host: string; state: string; bytesToHost: number; bytesToGuest: number; idleS: number }[];
    udp: { kind: string; guest: string; peer: string; datagramsToHost: number; datagramsToGuest: number; idleS: number }[];
    portForwards: { proto: string; host: string; guest: string; state: string; error: string | null; accepted: number }[];
    /** How ping leaves the host (an ICMP datagram or raw socket), or null with the reason in icmpRelayError. */
    icmpRelay: 'datagram' | 'raw' | null;
    icmpRelayError: string | null;
    icmp: { guest: string; peer: string; ident: number; requests: number; replies: number; ageS: number; idleS: number }[];
  } | null;
  /** Bridged networks only: the real NIC's endpoint. */
  uplink?: EndpointStatusView;
}

/** A real-world endpoint (cloud node, bridged network's NIC): server/endpoint-api.ts EndpointStatusSchema. */
export interface EndpointStatusView {
  type: 'udp' | 'tap' | 'nic';
  /** `udp 127.0.0.1:20001 -> 127.0.0.1:20002`, `tap wl0 (netns red)`, `nic eth1`. */
  endpoint: string;
  state: 'stopped' | 'starting' | 'running' | 'failed';
  /** Why it refused to start or stopped working; null while all is well. */
  error: string | null;
  counters: {
    framesIn: number;
    bytesIn: number;
    framesOut: number;
    bytesOut: number;
    paddedIn: number;
    drops: Record<EndpointDropReason, number>;
  };
}
export type EndpointDropReason = 'runt' | 'oversized' | 'badSource' | 'congested' | 'down' | 'txErrors' | 'rxErrors';

export interface ErrorDetail {
  field?: string;
  path?: string;
  message: string;
}

/** One frame as the trace channel sends it. */
export interface TraceRecord {
  /** Lab clock, ns. */
  time: number;
  link: string;
  from: string;
  to: string;
  length: number;
  protocol: string;
  src: string;
  dst: string;
  info: string;
  layers: Layer[];
  /** The frame's bytes, base64 (subscriptions with raw: true). */
  raw?: string;
}

/** Events of the lab channel (server/labs.ts and devices/lab/runtime.ts). */
export interface LabEvent {
  type: string;
  [key: string]: unknown;
}

export type ServerMessage =
  | { type: 'hello'; version: number; labs: string[] }
  | { type: 'subscribed'; id: string; channel: string; lab: string | null; link?: string | null; running?: boolean }
  | { type: 'unsubscribed'; id: string }
  | { type: 'event'; id: string; lab: string; event: LabEvent }
  | { type: 'trace'; id: string; dropped: number; droppedTotal: number; records: TraceRecord[] }
  | { type: 'error'; id?: string; error: string; details: ErrorDetail[] }
  | { type: string; id?: string; [key: string]: unknown };

export const NODE_KINDS: readonly NodeKind[] = ['host', 'switch', 'router', 'hub', 'cloud'];
export const NETWORK_TYPES: readonly NetworkType[] = ['nat', 'host-only', 'bridged', 'segment'];

/** A snapshot as GET /labs/{lab}/snapshots lists it (server/api-snapshots.ts SnapshotViewSchema). */
export interface SnapshotView {
  name: string;
  description: string;
  /** ISO 8601. */
  createdAt: string;
  parent: string | null;
  children: string[];
  /** Taken while the lab ran: restoring it brings the running lab back exactly. */
  live: boolean;
  /** Taken by the lab's `snapshots: {every, keep}` schedule. */
  auto: boolean;
  engineTimeNs: number | null;
  sizeBytes: number;
  /** Linked clones made from it: it cannot be deleted while there are any. */
  lockedBy: string[];
  /** The lab is at this snapshot (last taken or restored). */
  current: boolean;
}

export interface RestoreResult {
  lab: LabView;
  snapshot: SnapshotView;
  restoredObjects: number | null;
}

export interface CloneResult {
  lab: LabView;
  warnings: string[];
}

/** GET /clones: a linked clone and the lab snapshot it stores its differences from. */
export interface LinkedClone {
  lab: string;
  parent: { lab: string; snapshot: string };
}

export interface ImportResult {
  lab: LabView;
  renamedFrom: string | null;
  snapshots: string[];
  notes: string[];
  gns3Report: { project: string; gns3Version: string | null; mapped: string[]; approximated: string[]; unsupported: string[] } | null;
}
