/**
 * The normalized model of a lab (`Lab`, produced by `validateLab` in normalize.ts) that the
 * topology builder and the checks runner read: every default filled in, every value parsed (ns,
 * bps, 0..1, uint32 addresses, 48-bit MACs), interfaces listed per node, links resolved.
 */
import type { Impairments } from '../engine/link.js';
import type { Ip4, Mac } from '../wire/bytes.js';
import type { LabFile } from './file-schema.js';
import type { LabIssue } from './issues.js';
import type { Cidr, IpPort, IpRange } from './units.js';

/** Defaults the file may leave out (docs/lab-file.md, VMware's and IOS's own defaults). */
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

export interface LabNodeBase {
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
