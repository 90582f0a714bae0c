/**
 * A generic object-graph recorder: walks everything reachable from a set of roots and writes it
 * as plain JSON (plus one binary blob for typed arrays), keeping every object's class, every
 * shared reference and every cycle. Restoring rebuilds the same graph: instances are made with
 * `Object.create(Class.prototype)` and their fields assigned, so nothing runs a constructor and
 * identities inside the graph (which socket belongs to which layer, which frame a ring holds)
 * come back exactly.
 *
 * This works because devices keep their state as plain data plus references to other state
 * objects. Anything else is refused loudly with the path that reaches it (a closure stored in a
 * device, an instance of a class the registry does not know), so a change that would silently
 * break snapshots fails the snapshot tests instead.
 *
 * What lies outside the lab is cut at its boundary:
 * - `externals`: objects the caller names (the runtime and engine to restore into, cloud devices
 *   and their ports). They are recorded by key; on restore the caller supplies the live object
 *   for each key, and with `assignFields` the recorded fields are assigned onto it.
 * - classes the registry marks `boundary` (console shells): references to them become null.
 * - timers whose target is reachable only through the timer heap and is of a class the registry
 *   does not know (a console's input timer, a test's own target): left out, and counted.
 * - fields a class spec lists in `skip` (capture taps, listener sets, real-time driver state).
 */
import { TimerHeap } from '../engine/timers.js';

/** How one class is recorded and rebuilt. */
export interface ClassSpec {
  /** Stable name written into snapshots (not the minifiable constructor name). */
  name: string;
  /** The class's prototype. */
  proto: object;
  /** Fields not recorded: state that belongs to the world outside the lab. */
  skip?: readonly string[];
  /** Sets the skipped fields of an instance made by restore (not of an external one: it keeps its own). */
  fresh?: (obj: Record<string, unknown>) => void;
  /**
   * ArrayBuffer fields whose bytes matter only where views handed out from them reach (a frame
   * slab: what it has not handed out yet is zero, what it handed out is reached through the
   * frames still alive). The rest of the buffer is restored as zeros.
   */
  trim?: readonly string[];
  /**
   * Called on restore, instead of assigning it, for a trimmed buffer no live view reaches: leaves
   * the object as if that buffer were used up, so that it takes a fresh one when it next needs
   * one (restoring a thousand idle slabs would otherwise allocate a thousand big buffers).
   */
  release?: (obj: Record<string, unknown>, field: string) => void;
  /** References to instances become null: objects of the world outside (a console shell). */
  boundary?: boolean;
  /** How instances recorded by an earlier wirelab, with another field layout, are brought up to date. */
  upgrade?: ClassUpgrade;
}

/**
 * A migration of one class's recorded fields, for snapshots taken before its layout changed
 * (fields moved into new part objects, added, renamed). Restore assigns the recorded fields of
 * such an instance to a plain object first, hands it to `apply`, and gives the instance what
 * `apply` leaves there, so the live instance never carries (or loses) a stale field.
 */
export interface ClassUpgrade {
  /** Whether instances recorded with these field names need `apply`. Asked once per shape. */
  outdated(fields: readonly string[]): boolean;
  /**
   * Rewrites `fields` (the recorded ones, by name) into the current layout of `target`, which is
   * still empty. Other restored objects may not have their fields yet: take references to them,
   * do not read them.
   */
  apply(fields: Record<string, unknown>, target: object): void;
}

export class SnapshotRegistry {
  private readonly byProto = new Map<object, ClassSpec>();
  private readonly byName = new Map<string, ClassSpec>();

  constructor(specs: readonly ClassSpec[]) {
    for (const s of specs) this.add(s);
  }

  add(spec: ClassSpec): void {
    const prev = this.byName.get(spec.name);
    if (prev && prev.proto !== spec.proto) throw new Error(`snapshot registry: two classes named ${spec.name}`);
    this.byName.set(spec.name, spec);
    this.byProto.set(spec.proto, spec);
  }

  forProto(proto: object): ClassSpec | undefined {
    return this.byProto.get(proto);
  }

  forName(name: string): ClassSpec | undefined {
    return this.byName.get(name);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }
}

export class SnapshotError extends Error {}

/** An object the caller records by key instead of by content. */
export interface ExternalRef {
  key: string;
  /** Record the object's own fields too, to be assigned onto the live object on restore. */
  assignFields: boolean;
}

export interface EncodeOptions {
  registry: SnapshotRegistry;
  externals?: Map<object, ExternalRef>;
  /**
   * Objects that belong to something outside the lab (what an external device holds): never
   * recorded; references to them become null and timers aimed at them are left out.
   */
  opaque?: Set<object>;
}

/**
 * Every object reachable from `from` without passing through `stops` (nor into functions): what
 * an external device owns. Unknown classes and closures are fine here; nothing is recorded.
 */
export function reachableFrom(from: readonly object[], stops: Set<object>): Set<object> {
  const seen = new Set<object>();
  const stack: unknown[] = [...from];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || seen.has(v) || stops.has(v)) continue;
    seen.add(v);
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) continue;
    if (v instanceof Map) {
      for (const [k, x] of v) stack.push(k, x);
      continue;
    }
    if (v instanceof Set) {
      for (const x of v) stack.push(x);
      continue;
    }
    for (const k of Object.keys(v)) stack.push((v as Record<string, unknown>)[k]);
  }
  return seen;
}

/** A recorded graph: JSON-safe `data` plus the bytes of its typed arrays. */
export interface EncodedGraph {
  data: GraphData;
  blob: Uint8Array;
}

export interface GraphData {
  format: 'wirelab-graph';
  version: 1;
  /** Record id of each root. */
  roots: Record<string, number>;
  /** Object shapes: [class name ('' plain object, '*' null prototype), ...field names]. */
  shapes: string[][];
  records: unknown[][];
  /** Timers left out because their target lies outside the lab, by the target's class. */
  droppedTimers: Record<string, number>;
  blobBytes: number;
}

type Value = unknown;
type Shape = { id: number; keys: string[] };

const TYPED_KINDS: Record<string, new (buf: ArrayBuffer, offset: number, length: number) => ArrayBufferView> = {
  Uint8Array,
  Int8Array,
  Uint8ClampedArray,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};
const TYPED_PROTOS = new Map<object, string>(Object.entries(TYPED_KINDS).map(([k, c]) => [c.prototype, k]));

const UNDEF = ['u'];
const CUT = ['c'];
/** Fields per object whose reference and undefined bits fit in a double's integer range. */
const MASK_BITS = 52;
const POW2 = Array.from({ length: MASK_BITS }, (_, i) => 2 ** i);
/** Where field `i` (0-based) of a record of `fieldCount` fields is. */
const fieldAt = (fieldCount: number, i: number) => (fieldCount <= MASK_BITS ? 3 + i : 1 + i);

/** Records everything reachable from `roots`. */
export function encodeGraph(roots: Record<string, unknown>, opts: EncodeOptions): EncodedGraph {
  return new Encoder(opts).run(roots);
}

class Encoder {
  private readonly registry: SnapshotRegistry;
  private readonly externals: Map<object, ExternalRef>;
  private readonly opaque: Set<object>;
  private readonly ids = new Map<object, number>();
  private readonly objects: object[] = [];
  private readonly records: unknown[][] = [];
  /** For error paths: who first reached each object, and by which key. */
  private readonly parent: number[] = [];
  private readonly parentKey: (string | number)[] = [];
  private readonly shapes: string[][] = [];
  private readonly shapeCache = new Map<object | null, Shape[]>();
  private readonly bufferExtent = new Map<ArrayBuffer, number>();
  /** Buffers some field holds directly (not only through views): kept whole. */
  private readonly direct = new Set<ArrayBuffer>();
  private inTrimmedField = false;
  /** Some external is a plain object: plain objects must be looked up among the externals. */
  private plainExternals = false;
  private readonly trimmedSeen = new Set<ArrayBuffer>();
  private readonly heaps: { id: number; heap: TimerHeap }[] = [];
  private readonly dropped: Record<string, number> = {};
  private next = 0;
  private current = -1;
  private currentKey: string | number | undefined = '';

  constructor(opts: EncodeOptions) {
    this.registry = opts.registry;
    this.externals = opts.externals ?? new Map();
    this.opaque = opts.opaque ?? new Set();
    for (const o of this.externals.keys()) if (Object.getPrototypeOf(o) === Object.prototype) this.plainExternals = true;
  }

  run(roots: Record<string, unknown>): EncodedGraph {
    const rootIds: Record<string, number> = {};
    for (const [name, obj] of Object.entries(roots)) {
      this.current = -1;
      this.currentKey = name;
      const v = this.value(obj);
      if (!Array.isArray(v) || v.length !== 1 || typeof v[0] !== 'number') throw new SnapshotError(`snapshot root ${name} is not an object`);
      rootIds[name] = v[0];
    }
    this.drain();
    // Timers are judged once everything else is known: a target the lab reaches (or of a lab
    // class) is kept with its argument; any other target belongs to someone outside the lab.
    for (const { id, heap } of this.heaps) {
      this.recordHeapTimers(id, heap);
      this.drain();
    }
    const blob = this.buildBlob();
    return {
      data: {
        format: 'wirelab-graph',
        version: 1,
        roots: rootIds,
        shapes: this.shapes,
        records: this.records,
        droppedTimers: this.dropped,
        blobBytes: blob.length,
      },
      blob,
    };
  }

  private drain(): void {
    while (this.next < this.objects.length) {
      const id = this.next++;
      if (this.records[id] !== undefined) continue;
      this.records[id] = this.record(id, this.objects[id]!);
    }
  }

  private path(id: number, key?: string | number): string {
    const parts: (string | number)[] = key === undefined ? [] : [key];
    for (let at = id; at >= 0; at = this.parent[at]!) parts.push(this.parentKey[at]!);
    parts.reverse();
    return parts.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  }

  private fail(message: string): never {
    throw new SnapshotError(`snapshot: ${this.path(this.current, this.currentKey)}: ${message}`);
  }

  private ref(obj: object): number {
    let id = this.ids.get(obj);
    if (id !== undefined) return id;
    id = this.objects.length;
    this.ids.set(obj, id);
    this.objects.push(obj);
    this.parent.push(this.current);
    this.parentKey.push(this.currentKey ?? '');
    return id;
  }

  private value(v: unknown): Value {
    switch (typeof v) {
      case 'number':
        if (Number.isFinite(v) && !Object.is(v, -0)) return v;
        return ['n', Object.is(v, -0) ? '-0' : String(v)];
      case 'string':
      case 'boolean':
        return v;
      case 'undefined':
        return UNDEF;
      case 'bigint':
        return ['b', v.toString()];
      case 'function':
        return this.fail(`a function (${v.name || 'anonymous'}): device state must be plain data, not closures`);
      case 'symbol':
        return this.fail('a symbol');
      case 'object': {
        if (v === null) return null;
        const id = this.objectRef(v);
        return id < 0 ? CUT : [id];
      }
    }
  }

  /** The record id of an object (met before or now queued), or -1 where the lab's graph is cut. */
  private objectRef(v: object): number {
    // Most references are to objects already met: one lookup.
    const known = this.ids.get(v);
    if (known !== undefined) {
      if (!this.inTrimmedField && v instanceof ArrayBuffer) this.direct.add(v);
      return known;
    }
    const proto = Object.getPrototypeOf(v) as object | null;
    if (this.opaque.size > 0 && this.opaque.has(v) && !this.externals.has(v)) return -1;
    if (proto === ArrayBuffer.prototype && !this.inTrimmedField) this.direct.add(v as ArrayBuffer);
    if (proto !== null && proto !== Object.prototype && !this.externals.has(v)) {
      const spec = this.registry.forProto(proto);
      if (spec?.boundary) return -1;
    }
    return this.ref(v);
  }

  private record(id: number, obj: object): unknown[] {
    this.current = id;
    // Until a field is being read, a failure is about the object itself.
    this.currentKey = undefined;
    const proto = Object.getPrototypeOf(obj) as object | null;
    // Plain objects are half of a lab's records: straight to their fields.
    if (proto === Object.prototype && !this.plainExternals) return this.fields(obj as Record<string, unknown>, undefined, proto);
    const ext = this.externals.get(obj);
    if (ext) {
      if (!ext.assignFields) return ['X', ext.key];
      const spec = this.registry.forProto(proto as object);
      return ['X', ext.key, this.fields(obj as Record<string, unknown>, spec, null)];
    }
    if (Array.isArray(obj)) {
      let empty = 0;
      for (let i = 0; i < obj.length; i++) if (obj[i] === undefined) empty++;
      if (empty * 2 > obj.length && obj.length > 16) {
        // Mostly empty (a grown queue, a protocol table): only the filled slots, as index, value.
        const out: unknown[] = ['a', obj.length];
        for (let i = 0; i < obj.length; i++) {
          if (obj[i] === undefined) continue;
          this.currentKey = i;
          out.push(i, this.value(obj[i]));
        }
        return out;
      }
      const out: unknown[] = ['A'];
      for (let i = 0; i < obj.length; i++) {
        this.currentKey = i;
        out.push(this.value(obj[i]));
      }
      return out;
    }
    if (proto === Object.prototype || proto === null) return this.fields(obj as Record<string, unknown>, undefined, proto);
    if (proto === Map.prototype) {
      const out: unknown[] = ['M'];
      let i = 0;
      for (const [k, v] of obj as Map<unknown, unknown>) {
        this.currentKey = typeof k === 'string' || typeof k === 'number' ? `get(${JSON.stringify(k)})` : `entry${i}`;
        out.push(this.value(k), this.value(v));
        i++;
      }
      return out;
    }
    if (proto === Set.prototype) {
      const out: unknown[] = ['S'];
      let i = 0;
      for (const v of obj as Set<unknown>) {
        this.currentKey = `item${i++}`;
        out.push(this.value(v));
      }
      return out;
    }
    if (proto === ArrayBuffer.prototype) {
      const buf = obj as ArrayBuffer;
      return ['B', buf.byteLength];
    }
    const kind = proto === null ? undefined : TYPED_PROTOS.get(proto);
    if (kind !== undefined) {
      const t = obj as ArrayBufferView;
      const buf = t.buffer as ArrayBuffer;
      if (!(buf instanceof ArrayBuffer)) this.fail('a typed array over a SharedArrayBuffer');
      this.extend(buf, t.byteOffset + t.byteLength);
      this.currentKey = 'buffer';
      return ['T', kind, this.ref(buf), t.byteOffset, (t as Uint8Array).length];
    }
    if (proto === DataView.prototype) {
      const d = obj as DataView;
      this.extend(d.buffer as ArrayBuffer, d.byteOffset + d.byteLength);
      this.currentKey = 'buffer';
      return ['V', this.ref(d.buffer), d.byteOffset, d.byteLength];
    }
    const spec = this.registry.forProto(proto as object);
    if (!spec) {
      const name = (proto as { constructor?: { name?: string } }).constructor?.name ?? '?';
      if (obj instanceof Promise) this.fail('a Promise: a running lab holds no pending promises in its state');
      this.fail(`an instance of class ${name}, which the snapshot registry (devices/snapshot/registry.ts) does not know`);
    }
    if (spec.proto === TimerHeap.prototype) this.heaps.push({ id, heap: obj as TimerHeap });
    return this.fields(obj as Record<string, unknown>, spec, proto);
  }

  private extend(buf: ArrayBuffer, end: number): void {
    const have = this.bufferExtent.get(buf) ?? 0;
    if (end > have) this.bufferExtent.set(buf, end);
  }

  private shapeFor(proto: object | null, className: string, keys: string[]): number {
    let list = this.shapeCache.get(proto);
    if (!list) this.shapeCache.set(proto, (list = []));
    outer: for (const s of list) {
      if (s.keys.length !== keys.length) continue;
      for (let i = 0; i < keys.length; i++) if (s.keys[i] !== keys[i]) continue outer;
      return s.id;
    }
    const id = this.shapes.length;
    this.shapes.push([className, ...keys]);
    list.push({ id, keys });
    return id;
  }

  /**
   * [shape, refMask, undefinedMask, ...values] for an instance or a plain object (its skipped
   * fields left out): a field that references an object holds the object's id with its bit set in
   * refMask, and an undefined field a 0 with its bit set in undefinedMask, so that the commonest
   * values need no array of their own (less JSON, less to parse, nothing to collect). Objects with
   * more fields than a mask holds are written [shape, ...values] with references as [id].
   */
  private fields(obj: Record<string, unknown>, spec: ClassSpec | undefined, proto: object | null): unknown[] {
    let keys = Object.keys(obj);
    const skip = spec?.skip;
    if (skip) keys = keys.filter((k) => !skip.includes(k));
    const heap = spec?.proto === TimerHeap.prototype;
    const className = spec ? spec.name : proto === null ? '*' : '';
    const compact = keys.length <= MASK_BITS;
    const out: unknown[] = compact ? [this.shapeFor(spec ? spec.proto : proto, className, keys), 0, 0] : [this.shapeFor(spec ? spec.proto : proto, className, keys)];
    const trim = spec?.trim;
    let refs = 0;
    let undef = 0;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      this.currentKey = k;
      const v = obj[k];
      if (heap && (k === 'targets' || k === 'args')) {
        out.push(null); // filled in by recordHeapTimers
        continue;
      }
      if (typeof v === 'object' && v !== null) {
        // References, the commonest value, as a bare id (no array to make and collect).
        const id = trim && v instanceof ArrayBuffer && trim.includes(k) ? this.trimmedRef(v) : this.objectRef(v);
        if (id < 0) out.push(CUT);
        else if (compact) {
          refs += POW2[i]!;
          out.push(id);
        } else out.push([id]);
        continue;
      }
      if (compact && v === undefined) {
        undef += POW2[i]!;
        out.push(0);
        continue;
      }
      out.push(v === undefined ? UNDEF : this.value(v));
    }
    if (compact) {
      out[1] = refs;
      out[2] = undef;
    }
    return out;
  }

  /** A buffer held by a trimmed field: only what live views reach of it is recorded. */
  private trimmedRef(buf: ArrayBuffer): number {
    this.trimmedSeen.add(buf);
    this.inTrimmedField = true;
    const id = this.objectRef(buf);
    this.inTrimmedField = false;
    return id;
  }

  private recordHeapTimers(id: number, heap: TimerHeap): void {
    const h = heap as unknown as { targets: (object | null)[]; args: unknown[]; pos: Int32Array };
    const rec = this.records[id]!;
    const shape = this.shapes[rec[0] as number]!;
    const targetsAt = fieldAt(shape.length - 1, shape.indexOf('targets') - 1);
    const argsAt = fieldAt(shape.length - 1, shape.indexOf('args') - 1);
    const targets: unknown[] = ['A'];
    const args: unknown[] = ['A'];
    const droppedSlots: number[] = [];
    this.current = id;
    for (let slot = 0; slot < h.targets.length; slot++) {
      const t = h.targets[slot] ?? null;
      this.currentKey = `timer${slot}`;
      if (t === null || h.pos[slot] === -1) {
        targets.push(null);
        args.push(UNDEF);
        continue;
      }
      const proto = Object.getPrototypeOf(t) as object | null;
      const spec = proto === null ? undefined : this.registry.forProto(proto);
      const outside = this.opaque.has(t) || (this.externals.has(t) && !this.externals.get(t)!.assignFields);
      if (!outside && (this.ids.has(t) || this.externals.has(t) || (spec !== undefined && !spec.boundary))) {
        targets.push(this.value(t));
        args.push(this.value(h.args[slot]));
        continue;
      }
      const name = spec?.name ?? (proto as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'Object';
      this.dropped[name] = (this.dropped[name] ?? 0) + 1;
      droppedSlots.push(slot);
      targets.push(null);
      args.push(UNDEF);
    }
    const tId = this.ref(targets);
    const aId = this.ref(args);
    // Already-made arrays: record them directly (their items are encoded values).
    this.records[tId] = targets;
    this.records[aId] = args;
    rec[targetsAt] = [tId];
    rec[argsAt] = [aId];
    rec.push(['dropped', droppedSlots]);
  }

  private buildBlob(): Uint8Array {
    const parts: { rec: unknown[]; bytes: Uint8Array; segments: number[] | null; stored: number }[] = [];
    for (let id = 0; id < this.records.length; id++) {
      const rec = this.records[id]!;
      if (rec[0] !== 'B') continue;
      const buf = this.objects[id] as ArrayBuffer;
      if (!this.direct.has(buf) && !this.bufferExtent.has(buf) && this.trimmedSeen.has(buf)) {
        rec.push(0, 0, 'released');
        continue;
      }
      const len = this.direct.has(buf) ? buf.byteLength : (this.bufferExtent.get(buf) ?? 0);
      const bytes = new Uint8Array(buf, 0, len);
      const segments = len > ZERO_SCAN_MIN ? nonZeroSegments(bytes) : null;
      let stored = len;
      if (segments) {
        stored = 0;
        for (let i = 1; i < segments.length; i += 2) stored += segments[i]!;
      }
      parts.push({ rec, bytes, segments, stored });
    }
    let total = 0;
    for (const p of parts) total += (p.stored + 7) & ~7;
    const blob = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      if (p.segments) {
        let w = at;
        for (let i = 0; i < p.segments.length; i += 2) {
          const off = p.segments[i]!;
          const n = p.segments[i + 1]!;
          blob.set(p.bytes.subarray(off, off + n), w);
          w += n;
        }
        p.rec.push(at, p.stored, 'segments', p.segments);
      } else {
        blob.set(p.bytes, at);
        p.rec.push(at, p.stored);
      }
      at += (p.stored + 7) & ~7;
    }
    return blob;
  }
}

/** Buffers larger than this are stored without their runs of zeros (a sparse table, a mostly idle ring). */
const ZERO_SCAN_MIN = 4096;
/** Zero runs shorter than this stay inside a segment: a segment costs two numbers of JSON. */
const ZERO_GAP = 64;

/** [offset, length, ...] of the parts of `b` that are not long runs of zeros. */
function nonZeroSegments(b: Uint8Array): number[] {
  const out: number[] = [];
  const n = b.length;
  // Whole 8-byte words first: most of a sparse buffer is skipped a word at a time.
  const words = b.byteOffset % 8 === 0 ? new Float64Array(b.buffer, b.byteOffset, n >> 3) : null;
  let i = 0;
  let start = -1;
  let lastNonZero = -1;
  while (i < n) {
    if (words !== null && (i & 7) === 0 && i + 8 <= n && words[i >> 3] === 0 && !Object.is(words[i >> 3], -0)) {
      i += 8;
      continue;
    }
    if (b[i] !== 0) {
      if (start < 0) start = i;
      else if (i - lastNonZero > ZERO_GAP) {
        out.push(start, lastNonZero + 1 - start);
        start = i;
      }
      lastNonZero = i;
    }
    i++;
  }
  if (start >= 0) out.push(start, lastNonZero + 1 - start);
  return out;
}

/** Bounds on what a (possibly crafted) snapshot may make a restore allocate. */
const MAX_RESTORED_BUFFERS = 1 << 30;
const MAX_RESTORED_ARRAY = 1 << 24;

export interface DecodeOptions {
  registry: SnapshotRegistry;
  /** The live object for each external key met in the graph. */
  externals?: Map<string, object>;
}

export interface DecodedGraph {
  roots: Record<string, unknown>;
  /** Objects rebuilt (externals not counted). */
  objects: number;
}

/** Rebuilds a recorded graph. */
export function decodeGraph(graph: EncodedGraph, opts: DecodeOptions): DecodedGraph {
  const { data, blob } = graph;
  if (data.format !== 'wirelab-graph' || data.version !== 1) throw new SnapshotError('not a wirelab object graph (or a version this wirelab cannot read)');
  const registry = opts.registry;
  const externals = opts.externals ?? new Map<string, object>();
  const records = data.records;
  const shapes = data.shapes;
  const objs: unknown[] = new Array(records.length);
  const specs: (ClassSpec | undefined)[] = new Array(shapes.length);
  for (let s = 0; s < shapes.length; s++) {
    const shape = shapes[s]!;
    if (!Array.isArray(shape) || shape.some((k) => typeof k !== 'string')) throw new SnapshotError('snapshot: damaged shape');
    // A crafted snapshot must not reach an object's prototype through a field name.
    if (shape.includes('__proto__')) throw new SnapshotError('snapshot: a field named __proto__ is refused');
    const name = shapes[s]![0]!;
    if (name === '' || name === '*') continue;
    const spec = registry.forName(name);
    if (!spec) throw new SnapshotError(`snapshot: class ${name} is unknown to this wirelab`);
    specs[s] = spec;
  }

  // Buffers first: typed arrays are made on them.
  const released = new Set<number>();
  let bufferBytes = 0;
  for (let id = 0; id < records.length; id++) {
    const r = records[id]!;
    if (r[0] !== 'B') continue;
    if (r[4] === 'released') {
      released.add(id);
      continue;
    }
    bufferBytes += r[1] as number;
    if (!(Number.isInteger(r[1]) && (r[1] as number) >= 0) || bufferBytes > MAX_RESTORED_BUFFERS) throw new SnapshotError('snapshot: buffers larger than a lab holds');
    const buf = new ArrayBuffer(r[1] as number);
    const at = r[2] as number;
    const len = r[3] as number;
    if (r[4] === 'segments') {
      const seg = r[5] as number[];
      const bytes = new Uint8Array(buf);
      let from = at;
      for (let i = 0; i < seg.length; i += 2) {
        bytes.set(blob.subarray(from, from + seg[i + 1]!), seg[i]!);
        from += seg[i + 1]!;
      }
    } else if (len > 0) new Uint8Array(buf).set(blob.subarray(at, at + len));
    objs[id] = buf;
  }
  for (let id = 0; id < records.length; id++) {
    const r = records[id]!;
    const tag = r[0];
    if (typeof tag === 'number') {
      const spec = specs[tag];
      const cls = shapes[tag]![0];
      objs[id] = spec ? Object.create(spec.proto) : cls === '*' ? Object.create(null) : {};
      continue;
    }
    switch (tag) {
      case 'A':
        objs[id] = new Array(r.length - 1);
        break;
      case 'a':
        if (!(Number.isInteger(r[1]) && (r[1] as number) >= 0 && (r[1] as number) <= MAX_RESTORED_ARRAY)) throw new SnapshotError('snapshot: damaged array');
        objs[id] = new Array(r[1] as number).fill(undefined);
        break;
      case 'M':
        objs[id] = new Map();
        break;
      case 'S':
        objs[id] = new Set();
        break;
      case 'T': {
        const C = TYPED_KINDS[r[1] as string];
        if (!C) throw new SnapshotError(`snapshot: unknown typed array ${String(r[1])}`);
        objs[id] = new C(objs[r[2] as number] as ArrayBuffer, r[3] as number, r[4] as number);
        break;
      }
      case 'V':
        objs[id] = new DataView(objs[r[1] as number] as ArrayBuffer, r[2] as number, r[3] as number);
        break;
      case 'X': {
        const live = externals.get(r[1] as string);
        if (!live) throw new SnapshotError(`snapshot: nothing to restore ${String(r[1])} into`);
        objs[id] = live;
        break;
      }
      case 'B':
        break;
      default:
        throw new SnapshotError(`snapshot: damaged record ${id}`);
    }
  }

  const val = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    const a = v as unknown[];
    if (typeof a[0] === 'number') return objs[a[0]];
    switch (a[0]) {
      case 'u':
        return undefined;
      case 'c':
        return null;
      case 'n':
        return a[1] === '-0' ? -0 : Number(a[1]);
      case 'b':
        return BigInt(a[1] as string);
    }
    throw new SnapshotError('snapshot: damaged value');
  };

  const heapsToPrune: { heap: TimerHeap; slots: number[] }[] = [];
  // One field-assigning function per shape: stores by constant keys stay monomorphic, which
  // makes restoring a big lab several times faster than stores by computed key.
  type Assigner = (t: Record<string, unknown>, r: unknown[], val: (v: unknown) => unknown, objs: unknown[]) => void;
  const assigners: (Assigner | null | undefined)[] = new Array(shapes.length);
  const assignerFor = (shapeId: number): Assigner | null => {
    let a = assigners[shapeId];
    if (a !== undefined) return a;
    const shape = shapes[shapeId]!;
    const n = shape.length - 1;
    if (specs[shapeId]?.trim || n > MASK_BITS) a = null;
    else {
      const bit = (mask: string, i: number) => (i < 30 ? `(${mask} >> ${i}) & 1` : `Math.floor(${mask} / ${2 ** i}) % 2`);
      const body = shape
        .slice(1)
        .map(
          (k, i) =>
            `x = r[${3 + i}]; t[${JSON.stringify(k)}] = ${bit('m', i)} ? objs[x] : ${bit('u', i)} ? undefined : typeof x === 'object' && x !== null ? val(x) : x;`,
        )
        .join('\n');
      a = new Function('t', 'r', 'val', 'objs', `let x; const m = r[1], u = r[2];\n${body}`) as Assigner;
    }
    assigners[shapeId] = a;
    return a;
  };

  // Whether each shape is of an earlier layout its class upgrades from.
  const outdated: boolean[] = shapes.map((shape, s) => specs[s]?.upgrade?.outdated(shape.slice(1)) ?? false);

  const assign = (target: Record<string, unknown>, rec: unknown[], external: boolean) => {
    const shapeId = rec[0] as number;
    if (outdated[shapeId]) {
      const fields: Record<string, unknown> = {};
      assignFields(fields, rec, shapeId, target);
      specs[shapeId]!.upgrade!.apply(fields, target);
      Object.assign(target, fields);
    } else assignFields(target, rec, shapeId, target);
    const spec = specs[shapeId];
    if (spec?.fresh && !external) spec.fresh(target);
  };

  /** Assigns a record's fields onto `target` (`owner` itself, or the plain object an upgrade starts from). */
  const assignFields = (target: Record<string, unknown>, rec: unknown[], shapeId: number, owner: object) => {
    const shape = shapes[shapeId]!;
    const spec = specs[shapeId];
    const fast = assignerFor(shapeId);
    const n = shape.length - 1;
    if (fast) {
      fast(target, rec, val, objs);
      const extra = rec[fieldAt(n, n)] as [string, number[]] | undefined;
      if (extra && extra[0] === 'dropped' && extra[1].length > 0) heapsToPrune.push({ heap: owner as TimerHeap, slots: extra[1] });
      return;
    }
    let releasedFields: string[] | null = null;
    const compact = n <= MASK_BITS;
    const m = compact ? (rec[1] as number) : 0;
    const u = compact ? (rec[2] as number) : 0;
    for (let i = 0; i < n; i++) {
      const key = shape[i + 1]!;
      const raw = rec[fieldAt(n, i)];
      const isRef = compact && Math.floor(m / 2 ** i) % 2 === 1;
      if (compact && Math.floor(u / 2 ** i) % 2 === 1) {
        target[key] = undefined;
        continue;
      }
      const refId = isRef ? (raw as number) : Array.isArray(raw) && raw.length === 1 && typeof raw[0] === 'number' ? (raw[0] as number) : -1;
      if (refId >= 0 && released.has(refId)) {
        if (spec?.release) (releasedFields ??= []).push(key);
        else target[key] = new ArrayBuffer(records[refId]![1] as number);
        continue;
      }
      target[key] = isRef ? objs[raw as number] : val(raw);
    }
    // After every field, so that the hook's word on the fill mark is the last.
    if (releasedFields) for (const f of releasedFields) spec!.release!(target, f);
    const extra = rec[fieldAt(n, n)] as [string, number[]] | undefined;
    if (extra && extra[0] === 'dropped' && extra[1].length > 0) heapsToPrune.push({ heap: owner as TimerHeap, slots: extra[1] });
  };

  for (let id = 0; id < records.length; id++) {
    const r = records[id]!;
    const tag = r[0];
    const o = objs[id];
    if (typeof tag === 'number') assign(o as Record<string, unknown>, r, false);
    else if (tag === 'A') {
      const a = o as unknown[];
      for (let i = 1; i < r.length; i++) a[i - 1] = val(r[i]);
    } else if (tag === 'a') {
      const a = o as unknown[];
      for (let i = 2; i < r.length; i += 2) a[r[i] as number] = val(r[i + 1]);
    } else if (tag === 'M') {
      const m = o as Map<unknown, unknown>;
      for (let i = 1; i < r.length; i += 2) m.set(val(r[i]), val(r[i + 1]));
    } else if (tag === 'S') {
      const s = o as Set<unknown>;
      for (let i = 1; i < r.length; i++) s.add(val(r[i]));
    } else if (tag === 'X' && r.length > 2) assign(o as Record<string, unknown>, r[2] as unknown[], true);
  }

  // Timers of objects outside the lab were recorded as free-to-be slots; release them properly.
  for (const { heap, slots } of heapsToPrune) {
    const h = heap as unknown as { gen: Int32Array };
    for (const slot of slots) heap.cancel(h.gen[slot]! * 2 ** 24 + slot);
  }

  const roots: Record<string, unknown> = {};
  for (const [name, id] of Object.entries(data.roots)) roots[name] = objs[id];
  let count = 0;
  for (const r of records) if (r[0] !== 'X') count++;
  return { roots, objects: count };
}
