/**
 * What the user is looking at: the page (labs list or one lab), the selection on the canvas,
 * the tool, the bottom panel's tab and size, and the notices shown in the corner.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { describeError } from '../lib/errors.js';

export type Selection = { kind: 'node' | 'network' | 'link'; id: string };
export type Tool = 'select' | 'link';
export type BottomTab = 'trace' | 'checks' | 'networks' | 'consoles' | 'snapshots';
export interface Notice {
  id: number;
  level: 'error' | 'info';
  text: string;
  details: string[];
}

export const useUiStore = defineStore('ui', () => {
  /** The open lab's name, or null for the labs page; mirrored in the URL's hash (#/labs/NAME). */
  const route = ref<string | null>(typeof location === 'undefined' ? null : labFromHash(location.hash));
  const selection = ref<Selection[]>([]);
  const tool = ref<Tool>('select');
  /** Interface names at the cable ends on the canvas. */
  const interfaceLabels = ref(true);
  const bottomTab = ref<BottomTab>('trace');
  const bottomHeight = ref(typeof window === 'undefined' ? 280 : Math.round(Math.min(380, Math.max(220, window.innerHeight * 0.34))));
  const bottomOpen = ref(true);
  const notices = ref<Notice[]>([]);
  let nextNotice = 1;

  const selected = computed<Selection | null>(() => (selection.value.length === 1 ? selection.value[0]! : null));

  function select(items: Selection[]): void {
    selection.value = items;
  }
  function isSelected(kind: Selection['kind'], id: string): boolean {
    return selection.value.some((s) => s.kind === kind && s.id === id);
  }

  function notify(level: Notice['level'], text: string, details: string[] = [], ttlMs = level === 'error' ? 9000 : 3500): number {
    const id = nextNotice++;
    notices.value = [...notices.value.slice(-4), { id, level, text, details }];
    if (ttlMs > 0) setTimeout(() => dismiss(id), ttlMs);
    return id;
  }
  function dismiss(id: number): void {
    notices.value = notices.value.filter((n) => n.id !== id);
  }

  /** Shows what went wrong; returns nothing so it can end a catch. */
  function fail(e: unknown, context?: string): void {
    const d = describeError(e);
    notify('error', context ? `${context}: ${d.text}` : d.text, d.details);
  }

  function openLab(name: string | null): void {
    route.value = name;
    selection.value = [];
    if (typeof location !== 'undefined') {
      const hash = name === null ? '#/' : `#/labs/${encodeURIComponent(name)}`;
      if (location.hash !== hash) history.pushState(null, '', hash);
    }
  }

  /** Reads the page's hash (on load and on back/forward). */
  function fromHash(hash: string): void {
    route.value = labFromHash(hash);
    selection.value = [];
  }

  function showBottom(tab: BottomTab): void {
    bottomTab.value = tab;
    bottomOpen.value = true;
  }

  return { route, selection, selected, tool, interfaceLabels, bottomTab, bottomHeight, bottomOpen, notices, select, isSelected, notify, fail, dismiss, openLab, fromHash, showBottom };
});

function labFromHash(hash: string): string | null {
  const m = /^#\/labs\/([^/]+)$/.exec(hash);
  return m ? decodeURIComponent(m[1]!) : null;
}
