/**
 * What a console needs from the lab around it, and what it hands back when the user saves.
 * devices/ does no I/O: `write memory` (IOS) and `save` (VPCS) produce the node's part of the
 * lab file in the file's own shape; the caller (server or CLI) validates the whole lab with
 * validateLab and writes lab.yaml, then says how it went.
 */
import type { LabRuntime } from '../lab/runtime.js';
import type { LabFile, NodeSpec } from '../lab/schema.js';

export interface SaveRequest {
  /** The node as lab.yaml names it now. */
  node: string;
  /** The node's new entry under `nodes:`, in the file's shape. */
  spec: NodeSpec;
  /** `hostname R1` / `set pcname R1`: the node's new name (links and checks follow it). */
  rename?: string;
  /** Running configuration lab.yaml has no place for (told to the user, not saved). */
  warnings: string[];
}

export type SaveOutcome = { ok: true; detail?: string } | { ok: false; error: string };

export interface ConsoleEnv {
  readonly runtime: LabRuntime;
  /** The node this console belongs to. */
  readonly node: string;
  /** Writes a node's saved configuration into lab.yaml; absent: saving is refused. */
  save?(request: SaveRequest): SaveOutcome | Promise<SaveOutcome>;
}

/**
 * The lab file with one node's entry replaced (and renamed, with every reference to it: links,
 * checks, DHCP reservations), in the order the file had. Pure: the caller validates and writes.
 * Throws when the new name is taken.
 */
export function applySaveToLabFile(file: LabFile, request: SaveRequest): LabFile {
  const next = structuredClone(file) as LabFile;
  const nodes = next.nodes ?? {};
  const from = request.node;
  const to = request.rename ?? from;
  if (to !== from && (file.nodes?.[to] !== undefined || file.networks?.[to] !== undefined)) {
    throw new Error(`cannot rename ${from} to ${to}: the lab already has a ${file.nodes?.[to] !== undefined ? 'node' : 'network'} named ${to}`);
  }
  const entries = Object.entries(nodes).map(([name, spec]) => (name === from ? ([to, request.spec] as const) : ([name, spec] as const)));
  if (!(from in nodes)) entries.push([to, request.spec]);
  next.nodes = Object.fromEntries(entries) as LabFile['nodes'];
  if (to !== from) renameReferences(next, from, to);
  return next;
}

function renameEndpoint(text: string, from: string, to: string): string {
  const colon = text.indexOf(':');
  if (colon < 0) return text;
  return text.slice(0, colon) === from ? `${to}${text.slice(colon)}` : text;
}

function renameReferences(file: LabFile, from: string, to: string): void {
  file.links = file.links?.map((l) => {
    if (Array.isArray(l)) return [renameEndpoint(l[0], from, to), renameEndpoint(l[1], from, to)] as typeof l;
    return { ...l, endpoints: [renameEndpoint(l.endpoints[0], from, to), renameEndpoint(l.endpoints[1], from, to)] as typeof l.endpoints };
  }) ?? file.links;
  const sub = (s: string | undefined): string | undefined => (s === from ? to : s);
  for (const c of file.checks ?? []) {
    for (const key of ['ping', 'trace', 'tcp', 'udp', 'http'] as const) {
      const v = c[key] as { from?: string; to?: string } | undefined;
      if (v?.from !== undefined) v.from = sub(v.from)!;
      if (key === 'ping' || key === 'trace') {
        const t = c[key] as { to: string } | undefined;
        if (t) t.to = sub(t.to)!;
      }
    }
    if (c.dhcp) c.dhcp.node = sub(c.dhcp.node)!;
    if (c.arp) c.arp.node = sub(c.arp.node)!;
    if (c.pingall?.among) c.pingall.among = c.pingall.among.map((n) => sub(n)!);
  }
  const fixReservations = (list: { node?: string }[] | undefined) => {
    for (const r of list ?? []) if (r.node === from) r.node = to;
  };
  for (const net of Object.values(file.networks ?? {})) if ('dhcp' in net && net.dhcp) fixReservations(net.dhcp.reservations);
  for (const n of Object.values(file.nodes ?? {})) {
    if (n.kind === 'router') for (const p of n['dhcp-server']?.pools ?? []) fixReservations(p.reservations);
  }
}
