/**
 * Pure helpers about the topology: names for new nodes, which interfaces are free, endpoints,
 * and renaming a node everywhere the lab file names it.
 */
import type { LinkView, NetworkType, NodeInterfaceView, NodeKind, NodeView } from '../../../contract/index.js';

const NODE_PREFIX: Record<NodeKind, string> = { host: 'pc', switch: 'sw', router: 'r', hub: 'hub', cloud: 'cloud' };

/** pc1, pc2, ... sw1, r1: the first name of the kind nobody uses. */
export function nextNodeName(kind: NodeKind, taken: Iterable<string>): string {
  const used = new Set(taken);
  const prefix = NODE_PREFIX[kind];
  for (let i = 1; ; i++) if (!used.has(`${prefix}${i}`)) return `${prefix}${i}`;
}

/** Why `to` cannot be the new name of a node or network (the lab file's rule, or taken), or null when it can. */
export function renameProblem(to: string, taken: readonly string[]): string | null {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(to)) return 'a name is 1..63 letters, digits, - or _, starting with a letter or digit';
  if (taken.includes(to)) return `${to} is taken`;
  return null;
}

/** VMware's names: vmnet0 bridged, vmnet1 host-only, vmnet8 NAT; more of a type take the next free number. */
export function nextNetworkName(type: NetworkType, taken: Iterable<string>): string {
  const used = new Set(taken);
  const preferred = type === 'bridged' ? 0 : type === 'host-only' ? 1 : type === 'nat' ? 8 : 2;
  if (!used.has(`vmnet${preferred}`)) return `vmnet${preferred}`;
  for (let i = 2; ; i++) if (i !== 8 && !used.has(`vmnet${i}`)) return `vmnet${i}`;
}

/** What a node dropped from the palette starts as: the kind's defaults, at the drop point. */
export function newNodeSpec(kind: NodeKind, at: { x: number; y: number }, takenUdpPorts: Iterable<number> = []): Record<string, unknown> {
  const ui = { x: Math.round(at.x), y: Math.round(at.y) };
  if (kind === 'cloud') {
    // A UDP tunnel is the one endpoint that needs no privilege; the pair is the first free one from 20000.
    const used = new Set(takenUdpPorts);
    let p = 20000;
    while (used.has(p) || used.has(p + 1)) p += 2;
    return { kind, endpoint: { type: 'udp', local: `127.0.0.1:${p}`, remote: `127.0.0.1:${p + 1}` }, ui };
  }
  return { kind, ui };
}

export function newNetworkSpec(type: NetworkType, at: { x: number; y: number }): Record<string, unknown> {
  const ui = { x: Math.round(at.x), y: Math.round(at.y) };
  if (type === 'bridged') return { type, interface: 'eth0', ui };
  return { type, ui };
}

/** Interfaces in the link popup's order: free ones first, each group in the node's own order. */
export function interfacesFreeFirst(node: NodeView): { iface: NodeInterfaceView; free: boolean }[] {
  const all = node.interfaces.map((iface) => ({ iface, free: iface.link === null && iface.network === null }));
  return [...all.filter((i) => i.free), ...all.filter((i) => !i.free)];
}

/** `sw1:e0` -> { node: sw1, iface: e0 }; a network's name -> { node: vmnet8, iface: null }. */
export function splitEndpoint(endpoint: string): { node: string; iface: string | null } {
  const i = endpoint.indexOf(':');
  return i < 0 ? { node: endpoint, iface: null } : { node: endpoint.slice(0, i), iface: endpoint.slice(i + 1) };
}

/** The long form of a link, as POST /links takes it, keeping its impairments and state. */
export function linkBody(l: LinkView): unknown {
  const extra = { ...l.impairments, ...(l.suspended ? { suspended: true } : {}) };
  return Object.keys(extra).length === 0 ? [...l.endpoints] : { endpoints: [...l.endpoints], ...extra };
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The lab file with node `from` called `to`: its key, link endpoints, DHCP reservations and the
 * checks that name it. Returns a copy. The server has no rename route, so a rename is a PUT of
 * the whole file; every place the file can name a node is handled here.
 */
export function renameNodeInFile(file: Json, from: string, to: string): Json {
  const f = structuredClone(file);
  const ep = (s: unknown) => (typeof s !== 'string' ? s : s === from ? to : s.startsWith(`${from}:`) ? `${to}${s.slice(from.length)}` : s);
  const name = (s: unknown) => (s === from ? to : s);
  const renameKey = (obj: Json) => {
    const out: Json = {};
    for (const [k, v] of Object.entries(obj)) out[k === from ? to : k] = v;
    return out;
  };
  const reservations = (list: unknown) => {
    if (Array.isArray(list)) for (const r of list) if (isObj(r)) r['node'] = name(r['node']);
  };
  if (isObj(f['nodes'])) f['nodes'] = renameKey(f['nodes']);
  if (isObj(f['networks'])) {
    f['networks'] = renameKey(f['networks']);
    for (const n of Object.values(f['networks'] as Json)) if (isObj(n) && isObj(n['dhcp'])) reservations(n['dhcp']['reservations']);
  }
  if (isObj(f['nodes'])) {
    for (const n of Object.values(f['nodes'] as Json)) {
      if (!isObj(n)) continue;
      if (isObj(n['interfaces'])) for (const i of Object.values(n['interfaces'])) if (isObj(i) && 'network' in i) i['network'] = name(i['network']);
      const pools = isObj(n['dhcp-server']) ? n['dhcp-server']['pools'] : undefined;
      if (Array.isArray(pools)) for (const p of pools) if (isObj(p)) reservations(p['reservations']);
    }
  }
  if (Array.isArray(f['links'])) {
    f['links'] = (f['links'] as unknown[]).map((l) => {
      if (Array.isArray(l)) return l.map(ep);
      if (isObj(l) && Array.isArray(l['endpoints'])) return { ...l, endpoints: (l['endpoints'] as unknown[]).map(ep) };
      return l;
    });
  }
  if (Array.isArray(f['checks'])) {
    for (const c of f['checks'] as unknown[]) {
      if (!isObj(c)) continue;
      for (const [k, body] of Object.entries(c)) {
        if (!isObj(body)) continue;
        for (const key of ['from', 'to', 'node']) if (key in body) body[key] = name(body[key]);
        if (k === 'pingall' && Array.isArray(body['among'])) body['among'] = body['among'].map(name);
      }
    }
  }
  return f;
}

/**
 * A link's impairments in a few characters for its mark on the canvas, as GNS3 marks filtered
 * links: "5ms ±1ms 1% loss 100Mbps"; "" for a plain link.
 */
export function impairmentLabel(imp: LinkView['impairments']): string {
  const parts: string[] = [];
  if (imp.delay) parts.push(imp.delay);
  if (imp.jitter) parts.push(`±${imp.jitter}`);
  if (imp.loss) parts.push(`${imp.loss} loss`);
  if (imp.duplicate) parts.push(`${imp.duplicate} dup`);
  if (imp.corrupt) parts.push(`${imp.corrupt} corrupt`);
  if (imp.rate) parts.push(imp.rate);
  return parts.join(' ');
}

export interface TelnetHint {
  /** Short, for the inspector: `telnet 5003`, `telnet 4999 → lab/node` or `no telnet port`. */
  label: string;
  /** Its own port, or null. */
  port: number | null;
  /** The server's shared telnet port where `lab/node` is typed, or null. */
  shared: number | null;
  /** What to type at the shared port. */
  pick: string;
  /** Why the node has no port of its own (the server's words), or null. */
  note: string | null;
}

/** How a node's console is reached over telnet: its own port, or the shared port and `lab/node`. */
export function telnetHint(lab: string, n: Pick<NodeView, 'name' | 'console' | 'consoleShared' | 'consoleNote'>): TelnetHint {
  const pick = `${lab}/${n.name}`;
  const label = n.console !== null ? `telnet ${n.console}` : n.consoleShared !== null ? `telnet ${n.consoleShared} → ${pick}` : 'no telnet port';
  return { label, port: n.console, shared: n.consoleShared, pick, note: n.consoleNote };
}
