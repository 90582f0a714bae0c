/**
 * The labs on the server, with their state kept current by the lab channel of the WebSocket
 * (lab-state, lab-created, lab-deleted events from every lab), and which of them are linked clones
 * of which lab snapshot.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api, snapshotApi } from '../api/http.js';
import type { ImportResult, LabSummary } from '../../../contract/index.js';
import { type Subscription, wsClient } from '../api/ws.js';

export const useLabsStore = defineStore('labs', () => {
  const labs = ref<LabSummary[]>([]);
  /** Linked clones by name: the lab snapshot each is made from. */
  const cloneOf = ref<Record<string, { lab: string; snapshot: string }>>({});
  const loaded = ref(false);
  const loading = ref(false);
  let sub: Subscription | null = null;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      // The clones are a detail of the list: a server without /clones still lists its labs.
      const [list, clones] = await Promise.all([api.listLabs(), snapshotApi.linkedClones().catch(() => null)]);
      labs.value = list;
      if (clones) cloneOf.value = Object.fromEntries(clones.map((c) => [c.lab, c.parent]));
      loaded.value = true;
    } finally {
      loading.value = false;
    }
  }

  function refreshSoon(): void {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void refresh().catch(() => undefined), 150);
  }

  /** Follows every lab's events until `unwatch`. */
  function watchLabs(): void {
    if (sub) return;
    sub = wsClient().subscribe({ channel: 'lab' }, (m) => {
      if (m.type !== 'event') return;
      const { lab, event } = m as { lab: string; event: { type: string; status?: string } };
      const known = labs.value.find((l) => l.name === lab);
      if (event.type === 'lab-state' && known && (event.status === 'running' || event.status === 'stopped')) {
        known.status = event.status;
      } else if (['lab-created', 'lab-deleted', 'lab-changed', 'lab-file-error', 'lab-file-ok'].includes(event.type)) {
        refreshSoon();
      }
    });
  }

  function unwatch(): void {
    sub?.close();
    sub = null;
  }

  async function create(name: string, description: string): Promise<void> {
    await api.createLab({ wirelab: 1, name, ...(description ? { description } : {}) });
    await refresh();
  }

  /** The linked clones made from snapshots of `name` (it cannot be deleted while there are any). */
  function clonesOf(name: string): string[] {
    return Object.entries(cloneOf.value)
      .filter(([, p]) => p.lab === name)
      .map(([clone]) => clone)
      .sort();
  }

  async function remove(name: string): Promise<void> {
    await api.deleteLab(name);
    labs.value = labs.value.filter((l) => l.name !== name);
  }

  async function start(name: string): Promise<void> {
    const v = await api.startLab(name);
    const l = labs.value.find((x) => x.name === name);
    if (l) l.status = v.status;
  }

  async function stop(name: string): Promise<void> {
    const v = await api.stopLab(name);
    const l = labs.value.find((x) => x.name === name);
    if (l) l.status = v.status;
  }

  /** Imports a .wlab archive, a GNS3 .gns3project (both base64) or a GNS3 .gns3 file (its JSON). */
  async function importFile(fileName: string, bytes: Uint8Array, as?: string): Promise<ImportResult> {
    const named = as ? { as } : {};
    let r: ImportResult;
    if (fileName.toLowerCase().endsWith('.gns3')) {
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder().decode(bytes));
      } catch (e) {
        throw new Error(`${fileName} is not a GNS3 project file (JSON): ${(e as Error).message}`);
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${fileName} is not a GNS3 project file (a JSON object)`);
      r = await snapshotApi.importLab({ gns3: json as Record<string, unknown>, ...named });
    } else {
      r = await snapshotApi.importLab({ archive: toBase64(bytes), fileName, ...named });
    }
    await refresh();
    return r;
  }

  return { labs, cloneOf, loaded, loading, refresh, clonesOf, watchLabs, unwatch, create, remove, start, stop, importFile };
});

function toBase64(bytes: Uint8Array): string {
  let bin = '';
  // In slices: String.fromCharCode takes its arguments on the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}
