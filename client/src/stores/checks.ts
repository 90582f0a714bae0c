/**
 * The open lab's checks (PoC validations in lab.yaml) and the results of the last run.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api } from '../api/http.js';
import type { CheckResult, CheckView } from '../../../contract/index.js';

export const useChecksStore = defineStore('checks', () => {
  const lab = ref<string | null>(null);
  const checks = ref<CheckView[]>([]);
  const results = ref<CheckResult[] | null>(null);
  const runAt = ref<Date | null>(null);
  const running = ref(false);

  async function load(name: string): Promise<void> {
    if (lab.value !== name) results.value = null;
    lab.value = name;
    checks.value = await api.listChecks(name);
  }

  async function add(spec: Record<string, unknown>): Promise<void> {
    await api.addCheck(lab.value!, spec);
    await load(lab.value!);
  }

  async function remove(index: number): Promise<void> {
    await api.deleteCheck(lab.value!, index);
    results.value = null;
    await load(lab.value!);
  }

  async function run(): Promise<CheckResult[]> {
    running.value = true;
    try {
      results.value = await api.runChecks(lab.value!);
      runAt.value = new Date();
      return results.value;
    } finally {
      running.value = false;
    }
  }

  function reset(): void {
    lab.value = null;
    checks.value = [];
    results.value = null;
  }

  return { lab, checks, results, runAt, running, load, add, remove, run, reset };
});

/** A check in one line, as the list shows it: "ping pc1 -> 10.0.0.2". */
export function describeCheck(c: CheckView): string {
  for (const kind of ['ping', 'trace', 'dhcp', 'tcp', 'udp', 'http', 'arp', 'pingall'] as const) {
    const body = c[kind] as Record<string, unknown> | null | undefined;
    if (body === undefined) continue;
    if (kind === 'pingall') return `pingall ${Array.isArray(body?.['among']) ? (body['among'] as string[]).join(' ') : 'hosts'}`;
    if (kind === 'dhcp' || kind === 'arp') return `${kind} ${String(body!['node'])}${body!['ip'] ? ` ${String(body!['ip'])}` : ''}${body!['in'] ? ` in ${String(body!['in'])}` : ''}`;
    if (kind === 'http') return `http ${String(body!['from'])} -> ${String(body!['url'])}`;
    return `${kind} ${String(body!['from'])} -> ${String(body!['to'])}`;
  }
  return '?';
}
