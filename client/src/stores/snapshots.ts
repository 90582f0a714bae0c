/**
 * The open lab's snapshots (VMware's Snapshot Manager): the tree as the server has it, and the
 * actions on it. One request at a time: a restore replaces the whole lab, so nothing else on the
 * snapshots should run meanwhile. After a restore the canvas, its run states, the checks and the
 * undo history follow the restored lab (undoing an edit made before the restore would replay it
 * on a lab that no longer has it).
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { snapshotApi } from '../api/http.js';
import type { CloneResult, RestoreResult, SnapshotView } from '../../../contract/index.js';
import { useChecksStore } from './checks.js';
import { useTopologyStore } from './topology.js';

export type SnapshotAction = 'take' | 'describe' | 'restore' | 'delete' | 'clone';

/** A snapshot in the tree's reading order, indented under the one it was taken from. */
export interface SnapshotRow {
  snapshot: SnapshotView;
  depth: number;
}

/** Depth-first from the roots, oldest first at each level (the server lists oldest first). */
export function snapshotRows(list: SnapshotView[]): SnapshotRow[] {
  const byName = new Map(list.map((s) => [s.name, s]));
  const children = new Map<string | null, SnapshotView[]>();
  for (const s of list) {
    const parent = s.parent !== null && byName.has(s.parent) ? s.parent : null;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const rows: SnapshotRow[] = [];
  const seen = new Set<string>();
  const walk = (parent: string | null, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      if (seen.has(s.name)) continue;
      seen.add(s.name);
      rows.push({ snapshot: s, depth });
      walk(s.name, depth + 1);
    }
  };
  walk(null, 0);
  // A cycle in hand-edited metadata leaves snapshots unreachable from a root: shown flat, not lost.
  for (const s of list) if (!seen.has(s.name)) rows.push({ snapshot: s, depth: 0 });
  return rows;
}

export const useSnapshotsStore = defineStore('snapshots', () => {
  const lab = ref<string | null>(null);
  const snapshots = ref<SnapshotView[]>([]);
  const loaded = ref(false);
  const loading = ref(false);
  /** The request under way, if any, and the snapshot it is about. */
  const busy = ref<{ action: SnapshotAction; snapshot: string | null } | null>(null);

  const rows = computed(() => snapshotRows(snapshots.value));
  const byName = computed(() => new Map(snapshots.value.map((s) => [s.name, s])));
  const current = computed(() => snapshots.value.find((s) => s.current) ?? null);

  function need(): string {
    if (lab.value === null) throw new Error('no lab is open');
    return lab.value;
  }

  async function load(name: string): Promise<void> {
    if (lab.value !== name) {
      snapshots.value = [];
      loaded.value = false;
    }
    lab.value = name;
    await refresh();
  }

  async function refresh(): Promise<void> {
    const name = need();
    loading.value = true;
    try {
      const list = await snapshotApi.list(name);
      if (lab.value === name) {
        snapshots.value = list;
        loaded.value = true;
      }
    } finally {
      loading.value = false;
    }
  }

  function reset(): void {
    lab.value = null;
    snapshots.value = [];
    loaded.value = false;
  }

  async function run<T>(action: SnapshotAction, snapshot: string | null, fn: (lab: string) => Promise<T>): Promise<T> {
    if (busy.value) throw new Error(`wait for the ${busy.value.action} under way to finish`);
    const name = need();
    busy.value = { action, snapshot };
    try {
      return await fn(name);
    } finally {
      busy.value = null;
      // Whatever happened (a 409 included), the tree shown is the server's.
      await refresh().catch(() => undefined);
    }
  }

  function take(name: string, description: string): Promise<SnapshotView> {
    return run('take', null, (l) => snapshotApi.take(l, { ...(name ? { name } : {}), ...(description ? { description } : {}) }));
  }

  function describe(snapshot: string, description: string): Promise<SnapshotView> {
    return run('describe', snapshot, (l) => snapshotApi.describe(l, snapshot, description));
  }

  function remove(snapshot: string): Promise<void> {
    return run('delete', snapshot, (l) => snapshotApi.remove(l, snapshot));
  }

  function restore(snapshot: string): Promise<RestoreResult> {
    const topo = useTopologyStore();
    const checks = useChecksStore();
    return run('restore', snapshot, async (l) => {
      const r = await snapshotApi.restore(l, snapshot);
      topo.history.clear();
      await Promise.all([topo.refresh().catch(() => undefined), checks.load(l).catch(() => undefined)]);
      return r;
    });
  }

  /** A new lab from a snapshot: linked (its differences only; the snapshot is then locked) or full. */
  function cloneLab(snapshot: string, opts: { name?: string; linked: boolean; description?: string }): Promise<CloneResult> {
    return run('clone', snapshot, (l) =>
      snapshotApi.cloneLab(l, {
        snapshot,
        linked: opts.linked,
        ...(opts.name ? { name: opts.name } : {}),
        ...(opts.description ? { description: opts.description } : {}),
      }),
    );
  }

  return { lab, snapshots, loaded, loading, busy, rows, byName, current, load, refresh, reset, take, describe, remove, restore, cloneLab };
});
