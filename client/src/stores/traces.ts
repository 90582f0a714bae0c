/**
 * The packet trace of the open lab: records from the WebSocket's trace channel kept in a
 * bounded buffer outside Vue's reactivity (tens of thousands of records would make every one a
 * proxy), with the indices the display filter lets through. The view is told at most ten times a
 * second that something changed (`version`), and renders only the rows it shows, so the page
 * keeps up with thousands of records a second. Records the server could not send (the browser
 * was too slow) are counted and shown, never silently lost.
 *
 * Each lab keeps its own trace: leaving a lab puts its records, filter and subscription aside (for
 * the last few labs), where frames keep arriving, and reopening it brings them back, so a running
 * lab shows what it did before and while another lab was open.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef } from 'vue';
import type { Layer, TraceRecord, WsServerMessage } from '../../../contract/index.js';
import { type Subscription, wsClient } from '../api/ws.js';
import { type Predicate, compileFilter } from '../lib/filter.js';
import { recordsToPcapng } from '../lib/pcapng.js';
import { type StoredRecord, layersOf, storeRecord } from '../lib/records.js';

/** Records kept; the oldest go first. */
export const TRACE_CAPACITY = 50_000;
/** Records held while paused, at most. */
const PAUSED_CAPACITY = 50_000;
/** Labs whose trace is kept aside while another is open (the most recent ones). */
const LABS_KEPT = 4;
/** Records a lab kept aside holds at most once new ones arrive: busy labs in the background stay cheap. */
const ASIDE_CAPACITY = 10_000;

/** One lab's trace while another lab is open. */
interface PutAside {
  all: StoredRecord[];
  base: number;
  held: StoredRecord[];
  dropped: number;
  evicted: number;
  t0: number | null;
  epochNs: bigint | null;
  filterText: string;
  paused: boolean;
  /** Still open: the lab's frames are kept while another lab is shown. */
  sub: Subscription | null;
  subscribed: boolean;
}

export type ActivityListener = (links: Set<string>) => void;

/**
 * The list is redrawn at most this often while records pour in: a person cannot read faster,
 * and each redraw costs the page a layout and a paint (Wireshark refreshes its list twice a second).
 */
const REDRAW_MS = 100;
const nextFrame: (fn: () => void) => void =
  typeof requestAnimationFrame === 'function' ? (fn) => requestAnimationFrame(() => fn()) : (fn) => setTimeout(fn, 16);
let lastRedraw = 0;
function whenRedraw(fn: () => void): void {
  const wait = Math.max(0, lastRedraw + REDRAW_MS - performance.now());
  setTimeout(
    () =>
      nextFrame(() => {
        lastRedraw = performance.now();
        fn();
      }),
    wait,
  );
}

export const useTracesStore = defineStore('traces', () => {
  // The buffer: `all[i]` has sequence number `base + i`; `shown` holds sequence numbers, ascending.
  let all: StoredRecord[] = [];
  let base = 0;
  let shown: number[] = [];
  let held: StoredRecord[] = [];
  let test: Predicate | null = null;
  let sub: Subscription | null = null;
  let scheduled = false;
  const activity = new Set<ActivityListener>();
  let active = new Set<string>();
  /** Labs' traces put aside, least recently left first. */
  const aside = new Map<string, PutAside>();

  const lab = ref<string | null>(null);
  /** Bumped (at most every REDRAW_MS) when records were added or removed. */
  const version = ref(0);
  const count = ref(0);
  const total = ref(0);
  const heldCount = ref(0);
  const paused = ref(false);
  const filterText = ref('');
  const filterError = ref<{ message: string; at: number } | null>(null);
  /** Records the server counted as dropped because this browser did not keep up. */
  const dropped = ref(0);
  /** Records that made room for newer ones (the buffer is bounded). */
  const evicted = ref(0);
  const selectedSeq = ref<number | null>(null);
  const selected = shallowRef<StoredRecord | null>(null);
  const selectedLayers = shallowRef<Layer[]>([]);
  const subscribed = ref(false);
  const error = ref<string | null>(null);
  /** Lab time of the first record since the last clear: times are shown relative to it. */
  const t0 = ref<number | null>(null);
  /** Wall clock (ns) of lab time 0, estimated from the first record, for pcapng dates. */
  let epochNs: bigint | null = null;

  function bump(): void {
    if (scheduled) return;
    scheduled = true;
    whenRedraw(() => {
      scheduled = false;
      count.value = shown.length;
      total.value = all.length;
      heldCount.value = held.length;
      version.value++;
      if (active.size > 0) {
        const links = active;
        active = new Set();
        for (const fn of activity) fn(links);
      }
    });
  }

  function append(records: StoredRecord[]): void {
    if (records.length === 0) return;
    if (t0.value === null) t0.value = records[0]!.time;
    epochNs ??= BigInt(Date.now()) * 1_000_000n - BigInt(Math.round(records[0]!.time));
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const seq = base + all.length;
      all.push(r);
      if (test === null || test(r)) shown.push(seq);
    }
    if (all.length > TRACE_CAPACITY) evict(all.length - TRACE_CAPACITY + (TRACE_CAPACITY >> 4));
  }

  /** Drops the oldest `n` records (in one splice, a sixteenth of the buffer at a time). */
  function evict(n: number): void {
    all.splice(0, n);
    base += n;
    evicted.value += n;
    let cut = 0;
    while (cut < shown.length && shown[cut]! < base) cut++;
    if (cut > 0) shown.splice(0, cut);
    if (selectedSeq.value !== null && selectedSeq.value < base) select(null);
  }

  /** Takes one message of the trace channel. */
  function receive(incoming: TraceRecord[], droppedNow: number): void {
    if (droppedNow > 0) dropped.value += droppedNow;
    const records = incoming.map(storeRecord);
    for (let i = 0; i < records.length; i++) active.add(records[i]!.link);
    if (paused.value) {
      for (const r of records) held.push(r);
      if (held.length > PAUSED_CAPACITY) {
        const n = held.length - PAUSED_CAPACITY;
        held.splice(0, n);
        evicted.value += n;
      }
    } else append(records);
    bump();
  }

  /** A message of lab `name`'s subscription: shown when it is the open lab, else kept aside. */
  function onMessage(name: string, m: WsServerMessage): void {
    if (lab.value !== name) {
      const a = aside.get(name);
      if (!a) return;
      if (m.type === 'trace') keepAside(a, m.records, m.dropped);
      else if (m.type === 'subscribed') a.subscribed = true;
      return;
    }
    if (m.type === 'trace') {
      receive(m.records, m.dropped);
    } else if (m.type === 'subscribed') {
      subscribed.value = true;
      error.value = null;
    } else if (m.type === 'error') {
      error.value = m.error;
    }
  }

  /** Records of a lab that is not shown: stored as `append` would, in a smaller bound. */
  function keepAside(a: PutAside, incoming: TraceRecord[], droppedNow: number): void {
    a.dropped += droppedNow;
    if (incoming.length === 0) return;
    const records = incoming.map(storeRecord);
    if (a.t0 === null) a.t0 = records[0]!.time;
    a.epochNs ??= BigInt(Date.now()) * 1_000_000n - BigInt(Math.round(records[0]!.time));
    const into = a.paused ? a.held : a.all;
    for (let i = 0; i < records.length; i++) into.push(records[i]!);
    if (a.held.length > PAUSED_CAPACITY) {
      const n = a.held.length - PAUSED_CAPACITY;
      a.held.splice(0, n);
      a.evicted += n;
    }
    if (a.all.length > ASIDE_CAPACITY) {
      const n = a.all.length - ASIDE_CAPACITY + (ASIDE_CAPACITY >> 4);
      a.all.splice(0, n);
      a.base += n;
      a.evicted += n;
    }
  }

  function watch(name: string): void {
    unwatch();
    lab.value = name;
    clear();
    const kept = restore(name);
    error.value = null;
    sub = kept?.sub ?? wsClient().subscribe({ channel: 'trace', lab: name, raw: true }, (m) => onMessage(name, m));
    subscribed.value = kept?.subscribed ?? false;
  }

  function unwatch(): void {
    // `sub` is set only while a lab is watched: putting the lab aside keeps it.
    if (lab.value !== null) putAside(lab.value);
    sub = null;
    subscribed.value = false;
    lab.value = null;
  }

  function putAside(name: string): void {
    aside.delete(name);
    aside.set(name, { all, base, held, dropped: dropped.value, evicted: evicted.value, t0: t0.value, epochNs, filterText: filterText.value, paused: paused.value, sub, subscribed: subscribed.value });
    while (aside.size > LABS_KEPT) {
      const oldest = aside.keys().next().value!;
      aside.get(oldest)!.sub?.close();
      aside.delete(oldest);
    }
  }

  /** The lab's trace as it was left (and kept since), or an empty one with no filter. */
  function restore(name: string): PutAside | undefined {
    const a = aside.get(name);
    aside.delete(name);
    filterError.value = null;
    paused.value = a?.paused ?? false;
    if (a) {
      all = a.all;
      base = a.base;
      held = a.held;
      dropped.value = a.dropped;
      evicted.value = a.evicted;
      t0.value = a.t0;
      epochNs = a.epochNs;
    }
    // The filter is compiled again (it was valid when left), which also rebuilds the shown rows.
    if (!setFilter(a?.filterText ?? '')) setFilter('');
    total.value = all.length;
    heldCount.value = held.length;
    return a;
  }

  function clear(): void {
    all = [];
    shown = [];
    held = [];
    base = 0;
    dropped.value = 0;
    evicted.value = 0;
    select(null);
    t0.value = null;
    epochNs = null;
    count.value = 0;
    total.value = 0;
    heldCount.value = 0;
    version.value++;
  }

  function setPaused(p: boolean): void {
    if (paused.value === p) return;
    paused.value = p;
    if (!p && held.length > 0) {
      const h = held;
      held = [];
      append(h);
    }
    bump();
  }

  /** Compiles and applies a display filter; a bad one keeps the previous filter and says why. */
  function setFilter(text: string): boolean {
    filterText.value = text;
    const c = compileFilter(text);
    if (!c.ok) {
      filterError.value = { message: c.error, at: c.at };
      return false;
    }
    filterError.value = null;
    test = c.test;
    shown = [];
    for (let i = 0; i < all.length; i++) if (test === null || test(all[i]!)) shown.push(base + i);
    count.value = shown.length;
    version.value++;
    return true;
  }

  /** The record at row `row` of the filtered list. */
  function row(rowIndex: number): { seq: number; record: StoredRecord } | null {
    const seq = shown[rowIndex];
    if (seq === undefined) return null;
    const record = all[seq - base];
    return record ? { seq, record } : null;
  }

  /** The row of a sequence number in the filtered list, or -1. */
  function rowOf(seq: number): number {
    let lo = 0;
    let hi = shown.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = shown[mid]!;
      if (v === seq) return mid;
      if (v < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  function select(seq: number | null): void {
    selectedSeq.value = seq;
    const r = seq === null ? undefined : all[seq - base];
    selected.value = r ? markRaw(r) : null;
    selectedLayers.value = r ? layersOf(r) : [];
  }

  /** The records the filter shows, as a pcapng file. */
  function pcapng(): { bytes: Uint8Array; frames: number; skipped: number } {
    const records = shown.map((seq) => all[seq - base]!).filter(Boolean);
    return recordsToPcapng(records, epochNs ?? BigInt(Date.now()) * 1_000_000n);
  }

  function onActivity(fn: ActivityListener): () => void {
    activity.add(fn);
    return () => activity.delete(fn);
  }

  const droppedText = computed(() => {
    const parts: string[] = [];
    if (dropped.value > 0) parts.push(`${dropped.value.toLocaleString('en')} records dropped by the server: this browser did not keep up`);
    if (evicted.value > 0) parts.push(`${evicted.value.toLocaleString('en')} older records discarded (the trace keeps the last ${TRACE_CAPACITY.toLocaleString('en')})`);
    return parts.join('; ');
  });

  return {
    lab,
    version,
    count,
    total,
    heldCount,
    paused,
    filterText,
    filterError,
    dropped,
    evicted,
    droppedText,
    selectedSeq,
    selected,
    selectedLayers,
    subscribed,
    error,
    t0,
    watch,
    unwatch,
    receive,
    clear,
    setPaused,
    setFilter,
    row,
    rowOf,
    select,
    pcapng,
    onActivity,
  };
});
