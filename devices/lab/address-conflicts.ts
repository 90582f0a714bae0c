/**
 * Duplicate IPv4 addresses on one L2 segment, found in the lab model: a warning (the lab still
 * loads and runs, as a real network with two hosts on one address does), not an error.
 *
 * A segment is approximated from the cabling alone: an address sits on a port with a VLAN tag
 * (0 = untagged: a host's eth0, a router's g0/0; a host's `vlan:` or a router sub-interface is
 * tagged on its parent's cable). Links, hubs and networks carry every tag unchanged; a switch
 * joins an access port's untagged traffic to its VLAN, and a trunk's untagged traffic to its
 * native VLAN and each allowed tag to that VLAN. Spanning tree, port shutdown and suspended
 * links are ignored: two addresses that could ever meet are a conflict worth a warning.
 */
import { ip4ToString } from '../wire/bytes.js';
import type { LabIssue } from './issues.js';
import type { Lab } from './model.js';

/** One address the lab file gives, where it sits and the path of the key that gives it. */
interface Placed {
  ip: number;
  port: string;
  tag: number;
  /** Null for a network's own addresses (gateway, DHCP server, host adapter): implied, not written. */
  path: (string | number)[] | null;
  who: string;
}

/**
 * A warning per written address that another interface (or a network's own gateway, DHCP
 * server or host adapter) on the same segment also holds. Cheap when there is none: the segments
 * are worked out only when some address appears twice.
 */
export function addressConflicts(lab: Lab): LabIssue[] {
  const placed = placedAddresses(lab);
  const byIp = new Map<number, Placed[]>();
  let repeated = false;
  for (const p of placed) {
    const list = byIp.get(p.ip);
    if (list === undefined) byIp.set(p.ip, [p]);
    else {
      list.push(p);
      repeated = true;
    }
  }
  if (!repeated) return [];
  const tags = new Set<number>([0]);
  for (const list of byIp.values()) if (list.length > 1) for (const p of list) tags.add(p.tag);
  const seg = segments(lab, [...tags]);
  const out: LabIssue[] = [];
  for (const list of byIp.values()) {
    if (list.length < 2) continue;
    // By segment: a classroom of identical copies (one address on many segments) stays linear.
    const bySegment = new Map<string, Placed[]>();
    for (const p of list) {
      const root = seg.find(`${p.port}#${p.tag}`);
      const same = bySegment.get(root);
      if (same === undefined) bySegment.set(root, [p]);
      else same.push(p);
    }
    for (const same of bySegment.values()) {
      if (same.length < 2) continue;
      for (const p of same) {
        if (p.path === null) continue;
        const others = same.filter((o) => o !== p).map((o) => o.who);
        const named = others.length <= 3 ? others.join(' and ') : `${others.slice(0, 3).join(', ')} and ${others.length - 3} more`;
        out.push({ path: p.path, at: 'value', message: `duplicate address: ${ip4ToString(p.ip)} is also ${named}'s, on the same segment` });
      }
    }
  }
  return out;
}

function placedAddresses(lab: Lab): Placed[] {
  const out: Placed[] = [];
  for (const n of Object.values(lab.nodes)) {
    if (n.kind === 'host') {
      for (const i of n.interfaces) {
        if (i.ip.mode !== 'static') continue;
        out.push({ ip: i.ip.cidr.ip, port: `${n.name}:${i.name}`, tag: i.vlan ?? 0, path: ['nodes', n.name, 'interfaces', i.name, 'ip'], who: `${n.name} ${i.name}` });
      }
    } else if (n.kind === 'router') {
      for (const i of n.interfaces) if (i.ip) out.push({ ip: i.ip.ip, port: `${n.name}:${i.name}`, tag: 0, path: ['nodes', n.name, 'interfaces', i.name, 'ip'], who: `${n.name} ${i.name}` });
      for (const s of n.subinterfaces) if (s.ip) out.push({ ip: s.ip.ip, port: `${n.name}:${s.parent}`, tag: s.vlan, path: ['nodes', n.name, 'interfaces', s.name, 'ip'], who: `${n.name} ${s.name}` });
    }
  }
  for (const net of Object.values(lab.networks)) {
    if (net.type !== 'nat' && net.type !== 'host-only') continue;
    const port = `net:${net.name}`;
    if (net.hostAdapter !== false) out.push({ ip: net.hostIp, port, tag: 0, path: null, who: `${net.name}'s host adapter` });
    if (net.nat) out.push({ ip: net.nat.gatewayIp, port, tag: 0, path: null, who: `${net.name}'s NAT gateway` });
    if (net.dhcp.enabled) out.push({ ip: net.dhcp.serverIp, port, tag: 0, path: null, who: `${net.name}'s DHCP server` });
  }
  return out;
}

/** Union-find over `port#tag` keys. */
class Segments {
  private readonly parent = new Map<string, string>();
  find(k: string): string {
    let r = k;
    for (let p = this.parent.get(r); p !== undefined && p !== r; p = this.parent.get(r)) r = p;
    // Path compression keeps a long chain of switches cheap.
    for (let c = k, p = this.parent.get(c); p !== undefined && p !== r; c = p, p = this.parent.get(c)) this.parent.set(c, r);
    return r;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }
}

function segments(lab: Lab, tags: readonly number[]): Segments {
  const s = new Segments();
  for (const l of lab.links) {
    const a = `${l.a.node}:${l.a.iface}`;
    const b = l.b.kind === 'network' ? `net:${l.b.network}` : `${l.b.node}:${l.b.iface}`;
    for (const t of tags) s.union(`${a}#${t}`, `${b}#${t}`);
  }
  for (const n of Object.values(lab.nodes)) {
    if (n.kind === 'hub') {
      for (const i of n.interfaces) for (const t of tags) s.union(`${n.name}:${i.name}#${t}`, `${n.name}#${t}`);
    } else if (n.kind === 'switch') {
      for (const i of n.interfaces) {
        const port = `${n.name}:${i.name}`;
        if (i.mode === 'access') {
          s.union(`${port}#0`, `${n.name}#vlan${i.vlan}`);
          continue;
        }
        s.union(`${port}#0`, `${n.name}#vlan${i.native}`);
        for (const t of tags) if (t !== 0 && (i.allowed === 'all' || i.allowed.includes(t))) s.union(`${port}#${t}`, `${n.name}#vlan${t}`);
      }
    }
  }
  return s;
}
