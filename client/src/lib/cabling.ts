/**
 * What each interface of a node is cabled to, from the lab view's links (a cable written in
 * links: or implied by a network: key): the far end as `node:interface`, or a network's name.
 */
import type { LabProblem, LinkView, NodeView } from '../../../contract/index.js';

export interface Peer {
  iface: string;
  /** `sw1:e0`, or a network's name; null when not cabled. */
  peer: string | null;
  /** The far end is a network (no `:`). */
  network: boolean;
  suspended: boolean;
}

export function peersOf(node: NodeView, links: readonly LinkView[]): Peer[] {
  const far = new Map<string, LinkView>();
  for (const l of links) {
    const [a, b] = l.endpoints;
    if (a.startsWith(`${node.name}:`)) far.set(a.slice(node.name.length + 1), l);
    if (b.startsWith(`${node.name}:`)) far.set(b.slice(node.name.length + 1), l);
  }
  return node.interfaces.map((i) => {
    const l = far.get(i.name);
    if (!l) return { iface: i.name, peer: null, network: false, suspended: false };
    const mine = `${node.name}:${i.name}`;
    const peer = l.endpoints[0] === mine ? l.endpoints[1] : l.endpoints[0];
    return { iface: i.name, peer, network: !peer.includes(':'), suspended: l.suspended };
  });
}

/** The lab's warnings about this node (their field is under nodes.NAME), as `interface: message` where one is named. */
export function nodeWarnings(node: string, warnings: readonly LabProblem[]): { iface: string | null; message: string }[] {
  const out: { iface: string | null; message: string }[] = [];
  for (const w of warnings) {
    // nodes.pc1.interfaces.eth0.ip, nodes.r1.interfaces["g0/1.10"].ip
    const m = /^nodes(?:\.([A-Za-z0-9_/-]+)|\["((?:[^"\\]|\\.)*)"\])(?:\.interfaces(?:\.([A-Za-z0-9_/-]+)|\["((?:[^"\\]|\\.)*)"\]))?/.exec(w.field);
    if (!m || (m[1] ?? m[2]) !== node) continue;
    out.push({ iface: m[3] ?? m[4] ?? null, message: w.message });
  }
  return out;
}
