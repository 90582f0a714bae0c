/**
 * The engine's one timer heap, ordered by (time, sequence) so that timers due at the same
 * instant fire in the order they were set. Entries live in parallel typed arrays indexed by a
 * slot, so setting and firing timers allocates nothing once the arrays have grown.
 */

export interface TimerTarget {
  onTimer(tag: number, arg: unknown): void;
}

const SLOT_BITS = 24;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
const SLOT_SPAN = 1 << SLOT_BITS;

export class TimerHeap {
  private capacity = 0;
  private time = new Float64Array(0);
  private seq = new Float64Array(0);
  private gen = new Int32Array(0);
  /** Position of each slot in the heap, -1 when the slot is free. */
  private pos = new Int32Array(0);
  private tag = new Int32Array(0);
  private targets: (TimerTarget | null)[] = [];
  private args: unknown[] = [];
  private heap = new Int32Array(0);
  private freeSlots: number[] = [];
  private nextSeq = 0;
  size = 0;

  constructor(initialCapacity = 256) {
    this.grow(initialCapacity);
  }

  private grow(to: number): void {
    const old = this.capacity;
    const copyF = (a: Float64Array): Float64Array<ArrayBuffer> => { const n = new Float64Array(to); n.set(a); return n; };
    const copyI = (a: Int32Array): Int32Array<ArrayBuffer> => { const n = new Int32Array(to); n.set(a); return n; };
    this.time = copyF(this.time);
    this.seq = copyF(this.seq);
    this.gen = copyI(this.gen);
    this.pos = copyI(this.pos);
    this.tag = copyI(this.tag);
    this.heap = copyI(this.heap);
    for (let s = to - 1; s >= old; s--) {
      this.pos[s] = -1;
      this.targets.push(null);
      this.args.push(undefined);
      this.freeSlots.push(s);
    }
    this.capacity = to;
  }

  /** Adds a timer; returns a handle that stays valid until the timer fires or is cancelled. */
  add(at: number, target: TimerTarget, tag: number, arg: unknown): number {
    if (this.freeSlots.length === 0) {
      if (this.capacity >= SLOT_SPAN) throw new Error('timer heap full');
      this.grow(Math.min(SLOT_SPAN, this.capacity * 2));
    }
    const slot = this.freeSlots.pop()!;
    this.time[slot] = at;
    this.seq[slot] = this.nextSeq++;
    this.tag[slot] = tag;
    this.targets[slot] = target;
    this.args[slot] = arg;
    const g = (this.gen[slot]! + 1) & 0x1fffffff;
    this.gen[slot] = g;
    const i = this.size++;
    this.heap[i] = slot;
    this.pos[slot] = i;
    this.siftUp(i);
    return g * SLOT_SPAN + slot;
  }

  /** Cancels a timer by handle; returns false when it already fired or was cancelled. */
  cancel(handle: number): boolean {
    const slot = handle & SLOT_MASK;
    if (slot >= this.capacity || this.pos[slot] === -1) return false;
    if (this.gen[slot] !== Math.floor(handle / SLOT_SPAN)) return false;
    this.removeAt(this.pos[slot]!);
    this.release(slot);
    return true;
  }

  /** Time of the earliest timer, or Infinity. */
  peekTime(): number {
    return this.size === 0 ? Infinity : this.time[this.heap[0]!]!;
  }

  /** Removes the earliest timer and calls its target. */
  fireFirst(): void {
    const slot = this.heap[0]!;
    const target = this.targets[slot]!;
    const tag = this.tag[slot]!;
    const arg = this.args[slot];
    this.removeAt(0);
    this.release(slot);
    target.onTimer(tag, arg);
  }

  /** Every pending timer in firing order, for snapshots and inspection. */
  pending(): { at: number; seq: number; target: TimerTarget; tag: number; arg: unknown }[] {
    const out = [];
    for (let i = 0; i < this.size; i++) {
      const s = this.heap[i]!;
      out.push({ at: this.time[s]!, seq: this.seq[s]!, target: this.targets[s]!, tag: this.tag[s]!, arg: this.args[s] });
    }
    return out.sort((x, y) => x.at - y.at || x.seq - y.seq);
  }

  clear(): void {
    while (this.size > 0) {
      const slot = this.heap[this.size - 1]!;
      this.size--;
      this.release(slot);
    }
  }

  private release(slot: number): void {
    this.pos[slot] = -1;
    this.targets[slot] = null;
    this.args[slot] = undefined;
    this.freeSlots.push(slot);
  }

  private less(x: number, y: number): boolean {
    const tx = this.time[x]!, ty = this.time[y]!;
    return tx < ty || (tx === ty && this.seq[x]! < this.seq[y]!);
  }

  private removeAt(i: number): void {
    const last = --this.size;
    if (i !== last) {
      const moved = this.heap[last]!;
      this.heap[i] = moved;
      this.pos[moved] = i;
      this.siftDown(i);
      this.siftUp(this.pos[moved]!);
    }
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const slot = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!this.less(slot, p)) break;
      heap[i] = p;
      this.pos[p] = i;
      i = parent;
    }
    heap[i] = slot;
    this.pos[slot] = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = this.size;
    const slot = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.less(heap[child + 1]!, heap[child]!)) child++;
      const c = heap[child]!;
      if (!this.less(c, slot)) break;
      heap[i] = c;
      this.pos[c] = i;
      i = child;
    }
    heap[i] = slot;
    this.pos[slot] = i;
  }
}
