/**
 * The switch's filtering database: (VLAN, MAC) -> port, with the time each address was last seen.
 *
 * Why not a `Map` keyed by `vlan * 2**48 + mac`: 12 + 48 bits do not fit the 53 bits a double
 * holds exactly, so two entries could collide; and a key above 2^31 is a heap number that V8
 * boxes on every `Map.get`. Instead this is an open-addressing table (linear probing) over
 * typed arrays, keyed by two int32 halves that the switch reads straight from the frame:
 * `hi = vlan << 16 | first two MAC octets`, `lo = last four octets`. A lookup allocates nothing,
 * and the whole table is plain data (typed arrays) for snapshots.
 *
 * The table is bounded: once `max` addresses are known, new ones are refused (and counted) so a
 * MAC flood cannot grow memory; the switch then floods frames to the addresses it could not learn.
 */

/** A slot whose `keyHi` is 0 is empty: VLAN 0 never keys an entry, so a real key is never 0. */
const EMPTY = 0;
const INITIAL_SLOTS = 64;

export const LEARN_REFRESHED = 0;
export const LEARN_ADDED = 1;
export const LEARN_FULL = 2;

/** Fibonacci hashing of the two key halves: the top `bits` bits of one multiply. Kept tiny: it is on every frame. */
function hashSlot(hi: number, lo: number, shift: number): number {
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca77), 0x9e3779b1) >>> shift;
}

export interface MacEntry {
  vlan: number;
  /** 48-bit MAC as a number. */
  mac: number;
  port: number;
  /** Engine time (ns) the address was last seen as a source. */
  seen: number;
}

export class MacTable {
  /** Most addresses held at once. */
  readonly max: number;
  private readonly maxSlots: number;
  private mask: number;
  /** 32 - log2(slots): hashSlot keeps the top bits of its product. */
  private shift: number;
  private keyHi: Int32Array;
  private keyLo: Int32Array;
  private port: Int32Array;
  private seen: Float64Array;
  /** Addresses held (including ones past their age that a sweep has not removed yet). */
  count = 0;
  /** Source addresses not learned because the table was full. */
  refused = 0;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`MAC table size must be a positive integer, got ${max}`);
    this.max = max;
    // Load factor at most 1/2 keeps linear probes short.
    let slots = INITIAL_SLOTS;
    while (slots < max * 2) slots *= 2;
    this.maxSlots = slots;
    const initial = Math.min(INITIAL_SLOTS, slots);
    this.mask = initial - 1;
    this.shift = 32 - Math.log2(initial);
    this.keyHi = new Int32Array(initial);
    this.keyLo = new Int32Array(initial);
    this.port = new Int32Array(initial);
    this.seen = new Float64Array(initial);
  }

  /**
   * The port `mac` was learned on in `vlan`, or -1 when unknown or older than `agingNs`
   * (an expired entry is removed on the spot).
   */
  lookup(hi: number, lo: number, now: number, agingNs: number): number {
    const keyHi = this.keyHi;
    const keyLo = this.keyLo;
    const mask = this.mask;
    let s = hashSlot(hi, lo, this.shift);
    for (;;) {
      const k = keyHi[s]!;
      if (k === hi && keyLo[s] === lo) return now - this.seen[s]! < agingNs ? this.port[s]! : this.expire(s);
      if (k === EMPTY) return -1;
      s = (s + 1) & mask;
    }
  }

  private expire(slot: number): number {
    this.removeSlot(slot);
    return -1;
  }

  /** Records that the address was seen on `port` now: LEARN_REFRESHED, LEARN_ADDED or LEARN_FULL. */
  learn(hi: number, lo: number, port: number, now: number): number {
    const keyHi = this.keyHi;
    const keyLo = this.keyLo;
    const mask = this.mask;
    let s = hashSlot(hi, lo, this.shift);
    for (;;) {
      const k = keyHi[s]!;
      if (k === hi && keyLo[s] === lo) {
        this.port[s] = port;
        this.seen[s] = now;
        return LEARN_REFRESHED;
      }
      if (k === EMPTY) return this.insert(hi, lo, port, now, s);
      s = (s + 1) & mask;
    }
  }

  /** The rare half of `learn`, out of line so the per-frame path stays small enough to inline. */
  private insert(hi: number, lo: number, port: number, now: number, free: number): number {
    if (this.count >= this.max) {
      this.refused++;
      return LEARN_FULL;
    }
    let s = free;
    if ((this.count + 1) * 2 > this.mask + 1 && this.mask + 1 < this.maxSlots) {
      this.resize((this.mask + 1) * 2);
      s = this.freeSlotFor(hi, lo);
    }
    this.keyHi[s] = hi;
    this.keyLo[s] = lo;
    this.port[s] = port;
    this.seen[s] = now;
    this.count++;
    return LEARN_ADDED;
  }

  private freeSlotFor(hi: number, lo: number): number {
    const mask = this.mask;
    let s = hashSlot(hi, lo, this.shift);
    while (this.keyHi[s] !== EMPTY) s = (s + 1) & mask;
    return s;
  }

  private resize(slots: number): void {
    const oldHi = this.keyHi, oldLo = this.keyLo, oldPort = this.port, oldSeen = this.seen;
    this.mask = slots - 1;
    this.shift = 32 - Math.log2(slots);
    this.keyHi = new Int32Array(slots);
    this.keyLo = new Int32Array(slots);
    this.port = new Int32Array(slots);
    this.seen = new Float64Array(slots);
    for (let i = 0; i < oldHi.length; i++) {
      const hi = oldHi[i]!;
      if (hi === EMPTY) continue;
      const s = this.freeSlotFor(hi, oldLo[i]!);
      this.keyHi[s] = hi;
      this.keyLo[s] = oldLo[i]!;
      this.port[s] = oldPort[i]!;
      this.seen[s] = oldSeen[i]!;
    }
  }

  /** Backward-shift deletion: later entries of the probe run move up so lookups never stop early. */
  private removeSlot(slot: number): void {
    const mask = this.mask;
    let hole = slot;
    let j = slot;
    for (;;) {
      j = (j + 1) & mask;
      const hi = this.keyHi[j]!;
      if (hi === EMPTY) break;
      const home = hashSlot(hi, this.keyLo[j]!, this.shift);
      // The entry at j may fill the hole only if its home slot is not cyclically within (hole, j].
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      this.keyHi[hole] = hi;
      this.keyLo[hole] = this.keyLo[j]!;
      this.port[hole] = this.port[j]!;
      this.seen[hole] = this.seen[j]!;
      hole = j;
    }
    this.keyHi[hole] = EMPTY;
    this.count--;
  }

  /**
   * Removes every entry for which `drop(port, seen)` is true, by rebuilding the arrays (rare:
   * aging sweeps, topology-change flushes, port reconfiguration). Returns how many went.
   */
  removeWhere(drop: (port: number, seen: number, vlan: number) => boolean): number {
    const oldHi = this.keyHi, oldLo = this.keyLo, oldPort = this.port, oldSeen = this.seen;
    let removed = 0;
    for (let i = 0; i < oldHi.length; i++) {
      const hi = oldHi[i]!;
      if (hi !== EMPTY && drop(oldPort[i]!, oldSeen[i]!, hi >>> 16)) removed++;
    }
    if (removed === 0) return 0;
    const slots = oldHi.length;
    this.keyHi = new Int32Array(slots);
    this.keyLo = new Int32Array(slots);
    this.port = new Int32Array(slots);
    this.seen = new Float64Array(slots);
    this.count = 0;
    for (let i = 0; i < slots; i++) {
      const hi = oldHi[i]!;
      if (hi === EMPTY || drop(oldPort[i]!, oldSeen[i]!, hi >>> 16)) continue;
      const s = this.freeSlotFor(hi, oldLo[i]!);
      this.keyHi[s] = hi;
      this.keyLo[s] = oldLo[i]!;
      this.port[s] = oldPort[i]!;
      this.seen[s] = oldSeen[i]!;
      this.count++;
    }
    return removed;
  }

  /** Oldest last-seen time among the entries, Infinity when empty. */
  oldestSeen(): number {
    let oldest = Infinity;
    for (let i = 0; i < this.keyHi.length; i++) {
      if (this.keyHi[i] !== EMPTY && this.seen[i]! < oldest) oldest = this.seen[i]!;
    }
    return oldest;
  }

  clear(): void {
    this.mask = Math.min(INITIAL_SLOTS, this.maxSlots) - 1;
    this.shift = 32 - Math.log2(this.mask + 1);
    this.keyHi = new Int32Array(this.mask + 1);
    this.keyLo = new Int32Array(this.mask + 1);
    this.port = new Int32Array(this.mask + 1);
    this.seen = new Float64Array(this.mask + 1);
    this.count = 0;
  }

  entries(): MacEntry[] {
    const out: MacEntry[] = [];
    for (let i = 0; i < this.keyHi.length; i++) {
      const hi = this.keyHi[i]!;
      if (hi === EMPTY) continue;
      out.push({ vlan: hi >>> 16, mac: (hi & 0xffff) * 0x1_0000_0000 + (this.keyLo[i]! >>> 0), port: this.port[i]!, seen: this.seen[i]! });
    }
    return out;
  }
}

/** The `hi` half of a table key. */
export function macKeyHi(vlan: number, mac: number): number {
  return (vlan << 16) | Math.floor(mac / 0x1_0000_0000);
}
/** The `lo` half of a table key. */
export function macKeyLo(mac: number): number {
  return mac | 0;
}
