import { type Ip4, prefixToMask } from '../wire/bytes.js';
import type { IpInterface, Route } from './types.js';

export const DISTANCE = { connected: 0, static: 1, dhcp: 254 } as const;

export interface RouteInit {
  prefix: Ip4;
  prefixLength: number;
  /** Next hop; 0 or absent for a route straight out of `ifIndex`. */
  via?: Ip4;
  /** Interface index; absent means resolved through the route to `via`. */
  ifIndex?: number;
  metric?: number;
  distance?: number;
  source?: Route['source'];
}

export function makeRoute(r: RouteInit): Route {
  if (!(r.prefixLength >= 0 && r.prefixLength <= 32)) throw new RangeError(`prefix length ${r.prefixLength}`);
  const mask = prefixToMask(r.prefixLength);
  const source = r.source ?? 'static';
  const via = (r.via ?? 0) >>> 0;
  const ifIndex = r.ifIndex ?? -1;
  if (via === 0 && ifIndex < 0) throw new RangeError('a route needs a next hop or an interface');
  return {
    prefix: (r.prefix & mask) >>> 0,
    prefixLength: r.prefixLength,
    mask,
    via,
    ifIndex,
    distance: r.distance ?? DISTANCE[source],
    metric: r.metric ?? 0,
    source,
  };
}

/**
 * Routes kept sorted by prefix length (longest first), then distance, then metric, so a lookup
 * is the first usable entry that matches. Tables in a lab are tens of routes: a linear scan is
 * faster than a trie at that size and allocates nothing.
 */
export class RouteTable {
  readonly routes: Route[] = [];
  /** The egress interface of the last successful `lookup` (scratch: read it right after the call). */
  egress: IpInterface | null = null;
  /** The next hop of the last successful `lookup`: the route's gateway, or the destination itself. */
  nextHop: Ip4 = 0;

  /**
   * Longest-prefix match: the first usable route to `dst` (its interface up, or for a recursive
   * static route, a connected route reaching its gateway out of an up interface), or null.
   * Sets `egress` and `nextHop` instead of returning an object, so that forwarding allocates
   * nothing. The one route lookup: IpStack and the router's fast path both call it.
   */
  lookup(dst: Ip4, interfaces: readonly IpInterface[]): Route | null {
    const routes = this.routes;
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i]!;
      if (((dst & r.mask) >>> 0) !== r.prefix) continue;
      // Small on purpose: the router's fast path inlines it, and recursive routes are rare.
      const iface = r.ifIndex >= 0 ? interfaces[r.ifIndex]! : this.gatewayInterface(r.via, interfaces);
      if (iface === null || !iface.up) continue;
      this.egress = iface;
      this.nextHop = r.via !== 0 ? r.via : dst;
      return r;
    }
    return null;
  }

  /** For a recursive route: the up interface whose connected (or interface) route reaches `via`, or null. */
  private gatewayInterface(via: Ip4, interfaces: readonly IpInterface[]): IpInterface | null {
    const routes = this.routes;
    for (let k = 0; k < routes.length; k++) {
      const c = routes[k]!;
      if (c.ifIndex < 0 || c.via !== 0 || ((via & c.mask) >>> 0) !== c.prefix) continue;
      const iface = interfaces[c.ifIndex]!;
      if (iface.up) return iface;
    }
    return null;
  }

  add(route: Route): void {
    const i = this.routes.findIndex((r) => sameRoute(r, route));
    if (i >= 0) this.routes.splice(i, 1);
    let at = 0;
    while (at < this.routes.length && !before(route, this.routes[at]!)) at++;
    this.routes.splice(at, 0, route);
  }

  /** Removes routes matching prefix/length and, when given, next hop and interface. Returns how many. */
  remove(prefix: Ip4, prefixLength: number, via?: Ip4, ifIndex?: number): number {
    const mask = prefixToMask(prefixLength);
    const p = (prefix & mask) >>> 0;
    let n = 0;
    for (let i = this.routes.length - 1; i >= 0; i--) {
      const r = this.routes[i]!;
      if (r.prefix !== p || r.prefixLength !== prefixLength) continue;
      if (via !== undefined && r.via !== via >>> 0) continue;
      if (ifIndex !== undefined && r.ifIndex !== ifIndex) continue;
      if (r.source === 'connected' && via === undefined && ifIndex === undefined) continue;
      this.routes.splice(i, 1);
      n++;
    }
    return n;
  }

  removeWhere(pred: (r: Route) => boolean): void {
    for (let i = this.routes.length - 1; i >= 0; i--) if (pred(this.routes[i]!)) this.routes.splice(i, 1);
  }

  /**
   * Replaces every route from `source` with `routes`: the table that removing them and add()ing
   * each of `routes` in order makes, built in one pass (a router with a hundred interfaces
   * rebuilds its connected routes for each address it is given).
   */
  replaceSource(source: Route['source'], routes: readonly Route[]): void {
    // add() drops an identical route before inserting: the last of identical ones stays.
    const fresh: Route[] = [];
    const seen = new Set<string>();
    for (let i = routes.length - 1; i >= 0; i--) {
      const r = routes[i]!;
      const key = `${r.prefix}/${r.prefixLength}/${r.via}/${r.ifIndex}/${r.source}`;
      if (seen.has(key)) continue;
      seen.add(key);
      fresh.push(r);
    }
    fresh.reverse();
    // add() inserts after every route that does not rank after the new one: a stable sort by
    // rank, older routes first among equals.
    fresh.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    const rest = this.routes.filter((r) => r.source !== source);
    const merged: Route[] = [];
    let i = 0;
    let j = 0;
    while (i < rest.length || j < fresh.length) {
      if (j < fresh.length && (i >= rest.length || before(fresh[j]!, rest[i]!))) merged.push(fresh[j++]!);
      else merged.push(rest[i++]!);
    }
    this.routes.length = 0;
    for (const r of merged) this.routes.push(r);
  }
}

function sameRoute(a: Route, b: Route): boolean {
  return a.prefix === b.prefix && a.prefixLength === b.prefixLength && a.via === b.via && a.ifIndex === b.ifIndex && a.source === b.source;
}

function before(a: Route, b: Route): boolean {
  if (a.prefixLength !== b.prefixLength) return a.prefixLength > b.prefixLength;
  if (a.distance !== b.distance) return a.distance < b.distance;
  return a.metric < b.metric;
}
