/**
 * Live packet traces. A subscription watches one link or every link of a lab; frames are
 * filtered on their raw bytes and queued by reference (a frame is immutable once sent) in a
 * fixed ring, with no decoding and no allocation on the forwarding path. The WebSocket side
 * drains the ring at its own pace: decoding, the one-line summary and JSON happen there, within
 * a CPU share, so a trace can never take the lab's forwarding below a fixed fraction. Records
 * are written as JSON bytes straight into the message (devices/trace/json.ts), and a frame that
 * crosses several links is decoded once. When a ring is full the frame is only counted: the
 * client is sent fewer records and told how many it missed, and memory stays where it was.
 */
import type { TraceFilter } from '../contract/index.js';
import { type FrameTap, type Link, addTap, removeTap } from '../devices/engine/index.js';
import type { Lab, LabLink } from '../devices/lab/schema.js';
import { JsonBytes, type Piece, jsonAscii, piece, writeDecodedJson } from '../devices/trace/json.js';
import { parseIp4OrPrefix, parseMac, prefixToMask } from '../devices/wire/bytes.js';
import type { LabService } from './labs.js';
import type { LabRuntimeApi } from './runtime.js';

// ---------------------------------------------------------------- filters

const P = {
  ethernet: 1,
  vlan: 2,
  llc: 4,
  stp: 8,
  arp: 16,
  ipv4: 32,
  icmp: 64,
  udp: 128,
  tcp: 256,
  dhcp: 512,
  dns: 1024,
} as const;
/** Protocol names a filter accepts (case-insensitive), as Wireshark's display filters spell them, plus a few aliases. */
export const TRACE_PROTOCOLS: Record<string, number> = {
  eth: P.ethernet,
  ethernet: P.ethernet,
  vlan: P.vlan,
  '802.1q': P.vlan,
  llc: P.llc,
  stp: P.stp,
  arp: P.arp,
  ip: P.ipv4,
  ipv4: P.ipv4,
  icmp: P.icmp,
  udp: P.udp,
  tcp: P.tcp,
  dhcp: P.dhcp,
  bootp: P.dhcp,
  dns: P.dns,
};

/** A trace subscription's filter, as the client sends it (contract/ws.ts). */
export type TraceFilterSpec = TraceFilter;

/** A compiled filter: every test reads the frame in place. */
export class RawFilter {
  constructor(
    readonly protocols: number,
    readonly ip: number,
    readonly ipMask: number,
    readonly mac: number,
    readonly port: number,
  ) {}

  matches(f: Uint8Array): boolean {
    const n = f.length;
    if (n < 14) return false;
    let mask = P.ethernet;
    let o = 12;
    let type = (f[o]! << 8) | f[o + 1]!;
    while ((type === 0x8100 || type === 0x88a8) && o + 6 <= n) {
      mask |= P.vlan;
      o += 4;
      type = (f[o]! << 8) | f[o + 1]!;
    }
    const p = o + 2;
    let ipSrc = -1;
    let ipDst = -1;
    let sport = -1;
    let dport = -1;
    if (type < 0x0600) {
      mask |= P.llc;
      if (p < n && f[p] === 0x42) mask |= P.stp;
    } else if (type === 0x0806) {
      mask |= P.arp;
      if (p + 28 <= n) {
        ipSrc = u32(f, p + 14);
        ipDst = u32(f, p + 24);
      }
    } else if (type === 0x0800 && p + 20 <= n) {
      mask |= P.ipv4;
      ipSrc = u32(f, p + 12);
      ipDst = u32(f, p + 16);
      const ihl = (f[p]! & 15) * 4;
      const proto = f[p + 9]!;
      const firstFragment = (((f[p + 6]! << 8) | f[p + 7]!) & 0x1fff) === 0;
      const l4 = p + ihl;
      if (proto === 1) mask |= P.icmp;
      else if ((proto === 17 || proto === 6) && firstFragment && l4 + 4 <= n) {
        mask |= proto === 17 ? P.udp : P.tcp;
        sport = (f[l4]! << 8) | f[l4 + 1]!;
        dport = (f[l4 + 2]! << 8) | f[l4 + 3]!;
        if (proto === 17 && (sport === 67 || sport === 68 || dport === 67 || dport === 68)) mask |= P.dhcp;
        if (sport === 53 || dport === 53) mask |= P.dns;
      }
    }
    if (this.protocols !== 0 && (mask & this.protocols) === 0) return false;
    if (this.ip !== -1) {
      const m = this.ipMask;
      if (ipSrc === -1 || (((ipSrc & m) >>> 0) !== this.ip && ((ipDst & m) >>> 0) !== this.ip)) return false;
    }
    if (this.mac !== -1 && macAt(f, 0) !== this.mac && macAt(f, 6) !== this.mac) return false;
    if (this.port !== -1 && sport !== this.port && dport !== this.port) return false;
    return true;
  }
}

function u32(f: Uint8Array, o: number): number {
  return ((f[o]! << 24) | (f[o + 1]! << 16) | (f[o + 2]! << 8) | f[o + 3]!) >>> 0;
}
function macAt(f: Uint8Array, o: number): number {
  return (f[o]! * 2 ** 40) + (f[o + 1]! * 2 ** 32) + u32(f, o + 2);
}

export type CompiledFilter = { ok: true; filter: RawFilter | null } | { ok: false; field: string; message: string };

export function compileFilter(spec: TraceFilterSpec | undefined): CompiledFilter {
  if (!spec) return { ok: true, filter: null };
  let protocols = 0;
  const list = spec.protocol === undefined ? [] : Array.isArray(spec.protocol) ? spec.protocol : [spec.protocol];
  for (const [i, name] of list.entries()) {
    const bit = TRACE_PROTOCOLS[name.toLowerCase()];
    if (bit === undefined) {
      return { ok: false, field: Array.isArray(spec.protocol) ? `filter.protocol[${i}]` : 'filter.protocol', message: `unknown protocol ${JSON.stringify(name)}; one of ${Object.keys(TRACE_PROTOCOLS).join(', ')}` };
    }
    protocols |= bit;
  }
  let ip = -1;
  let ipMask = 0xffffffff;
  let mac = -1;
  if (spec.address !== undefined) {
    const a = spec.address.trim();
    const subnet = parseIp4OrPrefix(a);
    if (subnet !== null) {
      ipMask = prefixToMask(subnet.prefix);
      ip = (subnet.ip & ipMask) >>> 0;
    } else {
      const m = a.includes('/') ? null : parseMac(a);
      if (m === null) return { ok: false, field: 'filter.address', message: `${JSON.stringify(spec.address)} is not an IPv4 address, subnet or MAC` };
      mac = m;
    }
  }
  const port = spec.port ?? -1;
  if (protocols === 0 && ip === -1 && mac === -1 && port === -1) return { ok: true, filter: null };
  return { ok: true, filter: new RawFilter(protocols, ip, ipMask, mac, port) };
}

// ---------------------------------------------------------------- subscriptions

/** Frames a subscription holds for its client at most; beyond them frames are counted as dropped. */
export const DEFAULT_RING = 16384;
/** Frames a new subscription has room for: the ring doubles up to its size as a slow client falls behind. */
const FIRST_RING = 16;

/** One client's view of one link or of a whole lab. */
export class TraceSubscription {
  /** Capacity - 1 of the ring as it is now (a power of two). */
  private mask = FIRST_RING - 1;
  /** The capacity the ring may grow to. */
  private readonly size: number;
  // Allocated small and grown on demand: a subscription nobody falls behind on costs a few
  // hundred bytes, not the 400 KB a full ring takes (3,000 of them cost 1.3 GB and stalled GETs).
  private frames: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(FIRST_RING).fill(undefined);
  private times = new Float64Array(FIRST_RING);
  private taps: (LinkTrace | undefined)[] = new Array<LinkTrace | undefined>(FIRST_RING).fill(undefined);
  private dirs = new Uint8Array(FIRST_RING);
  private head = 0;
  count = 0;
  /** Frames that matched but found the ring full, since the client was last told. */
  dropped = 0;
  droppedTotal = 0;
  delivered = 0;

  constructor(
    readonly id: string,
    readonly lab: string,
    /** A link id, or null for every link of the lab. */
    readonly link: string | null,
    readonly filter: RawFilter | null,
    /** Whether records carry the frame's bytes (base64). */
    readonly raw: boolean,
    /** Called when the ring goes from empty to not empty. */
    private readonly onData: () => void,
    ringSize = DEFAULT_RING,
  ) {
    let size = FIRST_RING;
    while (size < ringSize) size *= 2;
    this.size = size;
  }

  /** Frames the ring has room for now (it grows up to the ring size given). */
  get capacity(): number {
    return this.mask + 1;
  }

  offer(tap: LinkTrace, frame: Uint8Array, direction: number, now: number): void {
    if (this.filter !== null && !this.filter.matches(frame)) return;
    if (this.count > this.mask) {
      if (this.mask + 1 >= this.size) {
        this.dropped++;
        this.droppedTotal++;
        return;
      }
      this.grow();
    }
    const i = (this.head + this.count) & this.mask;
    this.frames[i] = frame;
    this.times[i] = now;
    this.taps[i] = tap;
    this.dirs[i] = direction;
    if (this.count++ === 0) this.onData();
  }

  /** Doubles the full ring, oldest frame first (at most log2(size / 16) times in a subscription's life). */
  private grow(): void {
    const n = (this.mask + 1) * 2;
    const frames = new Array<Uint8Array | undefined>(n).fill(undefined);
    const times = new Float64Array(n);
    const taps = new Array<LinkTrace | undefined>(n).fill(undefined);
    const dirs = new Uint8Array(n);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & this.mask;
      frames[k] = this.frames[i];
      times[k] = this.times[i]!;
      taps[k] = this.taps[i];
      dirs[k] = this.dirs[i]!;
    }
    this.frames = frames;
    this.times = times;
    this.taps = taps;
    this.dirs = dirs;
    this.head = 0;
    this.mask = n - 1;
  }

  /** Takes the oldest frame and appends it to `out` as one JSON record. */
  writeRecord(out: JsonBytes, records: TraceRecords): void {
    const i = this.head;
    const frame = this.frames[i]!;
    records.write(out, frame, this.times[i]!, this.taps[i]!, this.dirs[i]!, this.raw);
    this.frames[i] = undefined;
    this.taps[i] = undefined;
    this.head = (i + 1) & this.mask;
    this.count--;
    this.delivered++;
  }

  /** Forgets what is queued (the subscription ends). */
  clear(): void {
    this.frames.fill(undefined);
    this.taps.fill(undefined);
    this.count = 0;
    this.head = 0;
  }
}

/** The tap on one engine link, shared by every subscription that watches it. */
export class LinkTrace implements FrameTap {
  /** Subscriptions to this link alone. */
  subs: TraceSubscription[] = [];
  /** Subscriptions to every link of the lab: one array shared by all the lab's taps. */
  all: TraceSubscription[] = [];
  /** `,"link":...,"from":...,"to":...,"length":` for direction 1 (towards the first end) and 2, as JSON bytes. */
  readonly fragments: [Piece, Piece, Piece];

  constructor(
    readonly link: Link,
    readonly id: string,
    ends: [string, string],
  ) {
    const [first, second] = orientation(link, ends);
    const fragment = (from: string, to: string) => {
      const json = jsonAscii({ link: id, from, to, length: 0 });
      json[0] = 0x2c; // the opening brace becomes the comma after "time"
      return piece(json.subarray(0, json.length - 2)); // without the 0 and the closing brace
    };
    this.fragments = [piece(''), fragment(second, first), fragment(first, second)];
  }

  record(frame: Uint8Array, direction: 1 | 2): void {
    const now = this.link.engine.now;
    const subs = this.subs;
    for (let i = 0; i < subs.length; i++) subs[i]!.offer(this, frame, direction, now);
    const all = this.all;
    for (let i = 0; i < all.length; i++) all[i]!.offer(this, frame, direction, now);
  }
}

/** The lab's endpoint names in the engine link's end order (the runtime may cable either way round). */
function orientation(link: Link, ends: [string, string]): [string, string] {
  const p = link.ends[0];
  const owner = (p.owner as { name?: unknown }).name;
  const [a, b] = ends;
  if (typeof owner === 'string' && b === `${owner}:${p.name}` && a !== b) return [b, a];
  if (typeof owner === 'string' && b === owner && !a.startsWith(`${owner}:`)) return [b, a];
  return [a, b];
}

const TIME = piece('{"time":');
const RAW = piece(',"raw":"');
/** Frames remembered per run of records; a frame whose slot another took is decoded again. */
const SLOTS = 4096;

/**
 * Writes trace records `{time, link, from, to, length, protocol, src, dst, info, layers[, raw]}`
 * as JSON bytes; time is the lab's clock in ns, `info` a one-line summary like Wireshark's Info
 * column. A switch forwards the very same bytes object, so a frame is usually traced on several
 * links in a row: between `begin` and `end` (one flush of one client, whose messages are written
 * one after the other into the same buffer) a frame is decoded once and its decoded fields
 * copied within the buffer the next time. Frames are remembered in a table indexed by a few of
 * their bytes and matched by identity, which costs less than a Map: two frames that share a
 * slot only cost a second decoding.
 */
export class TraceRecords {
  private readonly slotFrame: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOTS).fill(undefined);
  private readonly slotStart = new Float64Array(SLOTS);
  private readonly slotEnd = new Float64Array(SLOTS);
  private out: JsonBytes | null = null;
  /** The buffer's length after the last record: a shorter buffer was rewound, and what was cached is gone. */
  private mark = 0;

  /** Starts a run of records written to `out`; cached fields stay valid until `out` is rewound. */
  begin(out: JsonBytes): void {
    this.end();
    this.out = out;
    this.mark = out.length;
  }

  /** Forgets the run's frames, so that the table holds none of them once the flush is over. */
  end(): void {
    if (this.out === null) return;
    this.slotFrame.fill(undefined);
    this.out = null;
  }

  write(out: JsonBytes, frame: Uint8Array, time: number, tap: LinkTrace, direction: number, raw: boolean): void {
    if (out !== this.out || out.length < this.mark) this.begin(out);
    out.piece(TIME);
    out.uint(Math.round(time));
    out.piece(tap.fragments[direction]!);
    out.uint(frame.length);
    out.byte(0x2c);
    const slot = slotOf(frame);
    if (this.slotFrame[slot] === frame) {
      const at = this.slotStart[slot]!;
      const length = this.slotEnd[slot]! - at;
      out.reserve(length);
      out.bytes.copyWithin(out.length, at, at + length);
      out.length += length;
    } else {
      const from = out.length;
      writeDecodedJson(out, frame);
      this.slotFrame[slot] = frame;
      this.slotStart[slot] = from;
      this.slotEnd[slot] = out.length;
    }
    if (raw) {
      out.piece(RAW);
      out.base64(frame);
      out.byte(0x22);
    }
    out.byte(0x7d);
    this.mark = out.length;
  }
}

/** A slot from bytes that differ between frames of one flow: length, IPv4 id and checksum (or whatever lies there), the middle and last byte. */
function slotOf(f: Uint8Array): number {
  const n = f.length;
  let h = Math.imul(n, 0x9e3779b1);
  if (n >= 26) h ^= Math.imul((f[18]! << 8) | f[19]!, 0x85ebca6b) ^ Math.imul((f[24]! << 8) | f[25]!, 0xc2b2ae35);
  if (n > 0) h ^= (f[n >> 1]! << 7) ^ (f[n - 1]! << 15);
  return (h ^ (h >>> 13) ^ (h >>> 24)) & (SLOTS - 1);
}

// ---------------------------------------------------------------- the hub

function labLinkEnds(l: LabLink): [string, string] {
  return [`${l.a.node}:${l.a.iface}`, l.b.kind === 'network' ? l.b.network : `${l.b.node}:${l.b.iface}`];
}

/** Keeps the taps of every lab in line with its subscriptions and its running topology. */
export class TraceHub {
  private readonly subs = new Map<string, Set<TraceSubscription>>();
  /** Per lab: the taps in place, by engine link. */
  private readonly taps = new Map<string, Map<Link, LinkTrace>>();
  /** Labs whose subscriptions changed since their taps were last bound. */
  private readonly dirty = new Set<string>();
  private readonly unlisten: () => void;

  constructor(private readonly labs: LabService) {
    this.unlisten = labs.onRuntime((lab) => this.rebind(lab));
  }

  close(): void {
    this.unlisten();
    this.dirty.clear();
    for (const lab of [...this.taps.keys()]) {
      this.subs.delete(lab);
      this.rebind(lab);
    }
  }

  add(sub: TraceSubscription): void {
    let set = this.subs.get(sub.lab);
    if (!set) this.subs.set(sub.lab, (set = new Set()));
    set.add(sub);
    this.later(sub.lab);
  }

  remove(sub: TraceSubscription): void {
    const set = this.subs.get(sub.lab);
    if (!set?.delete(sub)) return;
    if (set.size === 0) this.subs.delete(sub.lab);
    sub.clear();
    this.later(sub.lab);
  }

  /**
   * Binds the lab's taps once the current turn is over: a client that sends many subscribes or
   * unsubscribes in one read, or a connection closing with its subscriptions, costs one rebind.
   */
  private later(lab: string): void {
    if (this.dirty.size === 0) {
      queueMicrotask(() => {
        const labs = [...this.dirty];
        this.dirty.clear();
        for (const l of labs) this.rebind(l);
      });
    }
    this.dirty.add(lab);
  }

  /**
   * Taps exactly the links the lab's subscriptions watch, as the runtime has them now. Costs
   * one pass over the links and one over the subscriptions: lab-wide subscriptions are one
   * array that every tap of the lab shares.
   */
  rebind(lab: string): void {
    const rt: LabRuntimeApi | null = this.labs.runtime(lab);
    const all: TraceSubscription[] = [];
    const byLink = new Map<string, TraceSubscription[]>();
    for (const s of this.subs.get(lab) ?? []) {
      if (s.link === null) all.push(s);
      else {
        const list = byLink.get(s.link);
        if (list) list.push(s);
        else byLink.set(s.link, [s]);
      }
    }
    const want = new Map<Link, { id: string; ends: [string, string]; subs: TraceSubscription[] }>();
    if (rt && (all.length > 0 || byLink.size > 0)) {
      const model: Lab = rt.lab;
      for (const l of model.links) {
        const subs = byLink.get(l.id) ?? [];
        if (subs.length === 0 && all.length === 0) continue;
        const engineLink = rt.link(l.id);
        if (engineLink) want.set(engineLink, { id: l.id, ends: labLinkEnds(l), subs });
      }
    }
    let have = this.taps.get(lab);
    for (const [link, tap] of have ?? []) {
      const w = want.get(link);
      if (!w || w.id !== tap.id) {
        removeTap(link, tap);
        have!.delete(link);
      }
    }
    if (want.size === 0) {
      this.taps.delete(lab);
      return;
    }
    if (!have) this.taps.set(lab, (have = new Map()));
    for (const [link, w] of want) {
      let tap = have.get(link);
      if (!tap) {
        tap = new LinkTrace(link, w.id, w.ends);
        have.set(link, tap);
        addTap(link, tap);
      }
      tap.subs = w.subs;
      tap.all = all;
    }
  }

  /** Links currently tapped for a lab (for tests and diagnostics). */
  tapped(lab: string): string[] {
    return [...(this.taps.get(lab)?.values() ?? [])].map((t) => t.id);
  }
}

/**
 * A shared CPU allowance for turning frames into records: a token bucket that fills at `share`
 * of wall time, so tracing gets at most that fraction of the process and forwarding keeps the rest.
 */
export class CpuShare {
  private tokensMs: number;
  private last = performance.now();

  constructor(
    readonly share = 0.4,
    private readonly burstMs = 100,
  ) {
    this.tokensMs = burstMs;
  }

  /** Milliseconds of work allowed now (may be 0). */
  available(): number {
    const now = performance.now();
    this.tokensMs = Math.min(this.burstMs, this.tokensMs + (now - this.last) * this.share);
    this.last = now;
    return Math.max(0, this.tokensMs);
  }

  spend(ms: number): void {
    this.tokensMs -= ms;
  }

  /** Milliseconds until `ms` of work is allowed. */
  waitFor(ms: number): number {
    return Math.max(1, (ms - this.tokensMs) / this.share);
  }
}
