/**
 * The labs on the server, with their state kept current by the lab channel of the WebSocket
 * (lab-state, lab-created, lab-deleted events from every lab).
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api } from '../api/http.js';
import type { LabSummary } from '../api/types.js';
import { type Subscription, wsClient } from '../api/ws.js';

export const useLabsStore = defineStore('labs', () => {
  const labs = ref<LabSummary[]>([]);
  const loaded = ref(false);
  const loading = ref(false);
  let sub: Subscription | null = null;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      labs.value = await api.listLabs();
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

  return { labs, loaded, loading, refresh, watchLabs, unwatch, create, remove, start, stop };
});
