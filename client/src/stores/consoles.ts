/**
 * Node consoles: one tab per node opened (double-click on the canvas). A tab talks to the
 * node's console over the WebSocket's console channel:
 *
 *   -> {op:'subscribe', id, channel:'console', lab, node, cols, rows}
 *   <- {type:'subscribed', id, ...}      <- {type:'console', id, data}     <- {type:'closed', id, reason}
 *   -> {op:'input', id, data}            -> {op:'resize', id, cols, rows}
 *
 * A server without that channel answers the subscription with an error; the tab then says so
 * and shows how to reach the node over telnet instead (its port, GNS3 convention, or the
 * server's shared telnet port and `lab/node`).
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { type Subscription, wsClient } from '../api/ws.js';
import type { TelnetHint } from '../lib/topology.js';

export interface ConsoleTab {
  node: string;
  kind: string;
  /** Where its telnet console is (its own port, or the shared port and lab/node). */
  telnet: TelnetHint;
  state: 'connecting' | 'open' | 'unavailable' | 'closed';
  message: string;
}

export type ConsoleSink = (data: string) => void;

export const useConsolesStore = defineStore('consoles', () => {
  const lab = ref<string | null>(null);
  const tabs = ref<ConsoleTab[]>([]);
  const active = ref<string | null>(null);
  const subs = new Map<string, Subscription>();
  const sinks = new Map<string, ConsoleSink>();
  const backlog = new Map<string, string[]>();

  function tab(node: string): ConsoleTab | undefined {
    return tabs.value.find((t) => t.node === node);
  }

  function setState(node: string, state: ConsoleTab['state'], message: string): void {
    const t = tab(node);
    if (t) {
      t.state = state;
      t.message = message;
    }
  }

  function output(node: string, data: string): void {
    const sink = sinks.get(node);
    if (sink) sink(data);
    else {
      const b = backlog.get(node) ?? [];
      b.push(data);
      backlog.set(node, b);
    }
  }

  function open(labName: string, node: string, kind: string, telnet: TelnetHint): void {
    if (lab.value !== labName) closeAll();
    lab.value = labName;
    active.value = node;
    if (tab(node)) return;
    tabs.value = [...tabs.value, { node, kind, telnet, state: 'connecting', message: '' }];
    const sub = wsClient().subscribe({ channel: 'console', lab: labName, node, cols: 80, rows: 24 }, (m) => {
      if (m.type === 'subscribed') setState(node, 'open', '');
      else if (m.type === 'console') output(node, String((m as { data?: unknown }).data ?? ''));
      else if (m.type === 'closed') setState(node, 'closed', String((m as { reason?: unknown }).reason ?? 'the console closed'));
      else if (m.type === 'error') {
        const text = String((m as { error?: unknown }).error ?? '');
        setState(node, 'unavailable', text);
        subs.get(node)?.close();
        subs.delete(node);
      }
    });
    subs.set(node, sub);
  }

  /** Keys typed in the terminal. */
  function input(node: string, data: string): void {
    const sub = subs.get(node);
    if (sub) wsClient().send({ op: 'input', id: sub.id, data });
  }

  /** The terminal's size, so full-screen output and line editing fit it. */
  function resize(node: string, cols: number, rows: number): void {
    const sub = subs.get(node);
    if (sub && tab(node)?.state === 'open') wsClient().send({ op: 'resize', id: sub.id, cols, rows });
  }

  function attach(node: string, sink: ConsoleSink): () => void {
    sinks.set(node, sink);
    for (const d of backlog.get(node) ?? []) sink(d);
    backlog.delete(node);
    return () => {
      if (sinks.get(node) === sink) sinks.delete(node);
    };
  }

  function close(node: string): void {
    subs.get(node)?.close();
    subs.delete(node);
    sinks.delete(node);
    backlog.delete(node);
    tabs.value = tabs.value.filter((t) => t.node !== node);
    if (active.value === node) active.value = tabs.value[0]?.node ?? null;
  }

  function closeAll(): void {
    for (const t of [...tabs.value]) close(t.node);
    lab.value = null;
  }

  return { lab, tabs, active, open, input, resize, attach, close, closeAll };
});
