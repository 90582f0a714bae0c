/**
 * The open lab: its nodes, networks and links as the server has them, their live state from the
 * lab channel, and every edit of the topology as an undoable command through the API. The
 * server's answer is the truth: after an edit the lab is fetched again (coalesced, so a burst of
 * events costs one request), and nothing is changed locally that the server did not accept.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { api, apiConfig, snapshotApi } from '../api/http.js';
import type { Impairments, LabView, LinkView, NetworkType, NetworkView, NodeKind, NodeView } from '../../../contract/index.js';
import { type Subscription, wsClient } from '../api/ws.js';
import { useUiStore } from './ui.js';
import { type Command, useHistory } from '../lib/history.js';
import {
  linkBody,
  newNetworkSpec,
  newNodeSpec,
  nextNetworkName,
  nextNodeName,
  renameNodeInFile,
  splitEndpoint,
} from '../lib/topology.js';

export interface Point {
  x: number;
  y: number;
}
export interface Move {
  id: string;
  kind: 'node' | 'network';
  from: Point | null;
  to: Point;
}
export type ElementRef = { kind: 'node' | 'network' | 'link'; id: string };

const REFRESH_EVENTS = /^(node|network|link)-(created|updated|deleted)$|^lab-changed$|^lab-file-(error|ok)$|^apply-error$/;

export const useTopologyStore = defineStore('topology', () => {
  const lab = ref<string | null>(null);
  const view = shallowRef<LabView | null>(null);
  const loadError = ref<string | null>(null);
  /** Live state, kept apart from `view` so events change one entry instead of the whole lab. */
  const labStatus = ref<LabView['status']>('stopped');
  const nodeStatus = ref<Record<string, 'running' | 'stopped'>>({});
  const linkSuspended = ref<Record<string, boolean>>({});
  /** Bumped when the lab was changed by someone else (a hand edit of lab.yaml, another browser). */
  const externalChanges = ref(0);
  /** Bumped when the server says the open lab's snapshots changed (taken, deleted, restored, locked...). */
  const snapshotsChanged = ref(0);
  const history = useHistory();
  let sub: Subscription | null = null;
  let offStatus: (() => void) | null = null;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;

  const nodes = computed<NodeView[]>(() => view.value?.nodes ?? []);
  const networks = computed<NetworkView[]>(() => view.value?.networks ?? []);
  const links = computed<LinkView[]>(() => view.value?.links ?? []);
  const nodeByName = computed(() => new Map(nodes.value.map((n) => [n.name, n])));
  const networkByName = computed(() => new Map(networks.value.map((n) => [n.name, n])));
  const linkById = computed(() => new Map(links.value.map((l) => [l.id, l])));
  const names = computed(() => [...nodes.value.map((n) => n.name), ...networks.value.map((n) => n.name)]);
  const running = computed(() => labStatus.value === 'running');

  function need(): string {
    if (lab.value === null) throw new Error('no lab is open');
    return lab.value;
  }

  function applyView(v: LabView): void {
    if (view.value === null) performance.mark('wirelab:lab-loaded');
    view.value = v;
    labStatus.value = v.status;
    nodeStatus.value = Object.fromEntries(v.nodes.map((n) => [n.name, n.status]));
    linkSuspended.value = Object.fromEntries(v.links.map((l) => [l.id, l.suspended]));
  }

  /** The lab's view fetched by index.html before the app started, used once if it is the lab opened. */
  async function prefetched(name: string): Promise<LabView | null> {
    const w = typeof window === 'undefined' ? undefined : (window as { wirelabPrefetch?: { lab: string; response: Promise<Response | null> } });
    const p = w?.wirelabPrefetch;
    if (!p || p.lab !== name || apiConfig.base !== '') return null;
    w.wirelabPrefetch = undefined;
    const r = await p.response;
    return r && r.ok ? ((await r.json()) as LabView) : null;
  }

  let running$: Promise<void> | null = null;
  let queued$: Promise<void> | null = null;
  /** Fetches the lab; a call while one is in flight is served by one more fetch after it. */
  function refresh(): Promise<void> {
    if (!running$) {
      const name = need();
      running$ = api
        .getLab(name)
        .then((v) => {
          if (lab.value === name) {
            applyView(v);
            loadError.value = null;
          }
        })
        .finally(() => {
          running$ = null;
        });
      return running$;
    }
    queued$ ??= running$.then(
      () => ((queued$ = null), refresh()),
      () => ((queued$ = null), refresh()),
    );
    return queued$;
  }

  function refreshSoon(): void {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void refresh().catch(() => undefined), 80);
  }

  async function open(name: string): Promise<void> {
    close();
    lab.value = name;
    loadError.value = null;
    try {
      const early = await prefetched(name).catch(() => null);
      if (early && lab.value === name) applyView(early);
      else await refresh();
    } catch (e) {
      loadError.value = (e as Error).message;
      throw e;
    }
    sub = wsClient().subscribe({ channel: 'lab', lab: name }, (m) => {
      if (m.type !== 'event') return;
      onEvent((m as { event: { type: string; [k: string]: unknown } }).event);
    });
    offStatus = wsClient().onStatus((s, reconnected) => {
      if (s === 'open' && reconnected) refreshSoon();
    });
  }

  function close(): void {
    sub?.close();
    sub = null;
    offStatus?.();
    offStatus = null;
    clearTimeout(refreshTimer);
    lab.value = null;
    view.value = null;
    history.clear();
  }

  function onEvent(e: { type: string; [k: string]: unknown }): void {
    switch (e.type) {
      case 'lab-state':
        labStatus.value = e['status'] === 'running' ? 'running' : 'stopped';
        if (labStatus.value === 'stopped') nodeStatus.value = Object.fromEntries(Object.keys(nodeStatus.value).map((n) => [n, 'stopped' as const]));
        return;
      case 'node-state':
        nodeStatus.value = { ...nodeStatus.value, [String(e['node'])]: e['status'] === 'running' ? 'running' : 'stopped' };
        return;
      case 'link-state': {
        const id = String(e['link']);
        if (e['status'] === 'suspended' || e['status'] === 'up') linkSuspended.value = { ...linkSuspended.value, [id]: e['status'] === 'suspended' };
        else refreshSoon();
        return;
      }
      case 'snapshots-changed':
        snapshotsChanged.value++;
        return;
      case 'address-conflict': {
        // A device heard its address claimed by another (devices/stack/arp.ts): as a router's console says it.
        const by = e['by'] ? `${String(e['by'])} (${String(e['mac'])})` : String(e['mac']);
        useUiStore().notify('error', `Duplicate address ${String(e['ip'])}: ${String(e['node'])} ${String(e['iface'])} hears it from ${by}`, [], 15000);
        return;
      }
      case 'lab-deleted':
        loadError.value = 'this lab was deleted';
        view.value = null;
        return;
      default:
        if (REFRESH_EVENTS.test(e.type)) {
          if (e['source'] === 'disk' && e.type === 'lab-changed') externalChanges.value++;
          refreshSoon();
        }
    }
  }

  /** Runs an edit as an undoable command; the lab is fetched again whatever happens. */
  async function edit(cmd: Command): Promise<void> {
    const wrapped: Command = {
      label: cmd.label,
      redo: () => cmd.redo().finally(() => refresh().catch(() => undefined)),
      undo: () => cmd.undo().finally(() => refresh().catch(() => undefined)),
    };
    await history.run(wrapped);
  }

  // ------------------------------------------------------------ nodes and networks

  async function addNode(kind: NodeKind, at: Point): Promise<string> {
    const name = need();
    const node = nextNodeName(kind, names.value);
    const udpPorts = nodes.value.flatMap((n) => {
      const ep = n.spec.kind === 'cloud' ? n.spec.endpoint : undefined;
      return ep?.type === 'udp' ? [ep.local, ep.remote].map((s) => Number(String(s).split(':').pop())) : [];
    });
    const spec = newNodeSpec(kind, at, udpPorts);
    await edit({
      label: `add ${node}`,
      redo: async () => void (await api.addNode(name, node, spec)),
      undo: () => api.deleteNode(name, node),
    });
    return node;
  }

  async function addNetwork(type: NetworkType, at: Point): Promise<string> {
    const name = need();
    const net = nextNetworkName(type, names.value);
    const spec = newNetworkSpec(type, at);
    await edit({
      label: `add ${net}`,
      redo: async () => void (await api.addNetwork(name, net, spec)),
      undo: () => api.deleteNetwork(name, net),
    });
    return net;
  }

  /**
   * Deletes nodes, networks and links in one undoable step. Undo puts back networks, then nodes
   * (their specs still name the networks they were on), then the interfaces of surviving nodes
   * that were on a deleted network, then every cable, with its impairments.
   */
  async function remove(items: ElementRef[]): Promise<void> {
    const name = need();
    const delNodes = items.filter((i) => i.kind === 'node').map((i) => nodeByName.value.get(i.id)).filter((n): n is NodeView => !!n);
    const delNets = items.filter((i) => i.kind === 'network').map((i) => networkByName.value.get(i.id)).filter((n): n is NetworkView => !!n);
    const gone = new Set([...delNodes.map((n) => n.name), ...delNets.map((n) => n.name)]);
    const touches = (l: LinkView) => l.endpoints.some((e) => gone.has(splitEndpoint(e).node));
    const selectedLinks = items.filter((i) => i.kind === 'link').map((i) => linkById.value.get(i.id)).filter((l): l is LinkView => !!l);
    const ownLinkDeletes = selectedLinks.filter((l) => !touches(l));
    // Cables to restore: those in links: that go with a deleted element or were selected.
    const restoreLinks = links.value.filter((l) => l.origin === 'link' && (touches(l) || ownLinkDeletes.includes(l)));
    // Interfaces of surviving nodes joined to a deleted network (or a selected link of that kind) by their network: key.
    const restoreKeys = links.value
      .filter((l) => l.origin === 'network-key' && (ownLinkDeletes.includes(l) || (touches(l) && !gone.has(splitEndpoint(l.endpoints[0]).node))))
      .map((l) => ({ ...splitEndpoint(l.endpoints[0]), network: l.endpoints[1] }));
    if (delNodes.length + delNets.length + ownLinkDeletes.length === 0) return;
    const nodeSpecs = delNodes.map((n) => ({ name: n.name, spec: structuredClone(n.spec) }));
    const netSpecs = delNets.map((n) => ({ name: n.name, spec: structuredClone(n.spec) }));
    const what = [...delNodes.map((n) => n.name), ...delNets.map((n) => n.name), ...ownLinkDeletes.map((l) => `link ${l.id}`)];
    const restore = async () => {
      for (const n of netSpecs) await api.addNetwork(name, n.name, n.spec);
      for (const n of nodeSpecs) await api.addNode(name, n.name, n.spec);
      for (const k of restoreKeys) if (k.iface) await api.patchNode(name, k.node, { interfaces: { [k.iface]: { network: k.network } } });
      for (const l of restoreLinks) await api.addLink(name, linkBody(l));
    };
    await edit({
      label: `delete ${what.length === 1 ? what[0] : `${what.length} items`}`,
      redo: async () => {
        for (const l of ownLinkDeletes) await api.deleteLink(name, l.id);
        for (const n of delNodes) await api.deleteNode(name, n.name);
        for (const n of delNets) await api.deleteNetwork(name, n.name);
      },
      undo: restore,
    });
  }

  /** A copy of a node beside it (new name and MACs, same settings, no cables); undo deletes the copy. */
  async function cloneNode(node: string): Promise<string> {
    const name = need();
    let copy: string | null = null;
    await edit({
      label: `clone ${node}`,
      // Redone after an undo, the copy gets the name it had.
      redo: async () => {
        copy = (await snapshotApi.cloneNode(name, node, copy ? { name: copy } : {})).name;
      },
      undo: () => api.deleteNode(name, copy!),
    });
    return copy!;
  }

  async function addLink(a: string, b: string): Promise<void> {
    const name = need();
    let id: string | null = null;
    await edit({
      label: `link ${a} to ${b}`,
      redo: async () => {
        id = (await api.addLink(name, [a, b])).id;
      },
      undo: () => api.deleteLink(name, id!),
    });
  }

  /** Positions after a drag (already shown on the canvas): saved, and recorded for undo. */
  async function move(moves: Move[]): Promise<void> {
    const name = need();
    const real = moves.filter((m) => !m.from || Math.round(m.from.x) !== Math.round(m.to.x) || Math.round(m.from.y) !== Math.round(m.to.y));
    if (real.length === 0) return;
    const put = (pick: (m: Move) => Point | null) =>
      Promise.all(
        real.map((m) => {
          const p = pick(m);
          const ui = p ? { x: Math.round(p.x), y: Math.round(p.y) } : null;
          return m.kind === 'node' ? api.patchNode(name, m.id, { ui }) : api.patchNetwork(name, m.id, { ui });
        }),
      ).then(() => undefined);
    await put((m) => m.to);
    history.record({
      label: real.length === 1 ? `move ${real[0]!.id}` : `move ${real.length} items`,
      redo: () => put((m) => m.to).finally(() => refresh().catch(() => undefined)),
      undo: () => put((m) => m.from).finally(() => refresh().catch(() => undefined)),
    });
    await refresh();
  }

  /** A node or network renamed everywhere the lab file names it (one PUT of the file). */
  async function rename(from: string, to: string): Promise<void> {
    const name = need();
    if (from === to) return;
    const put = async (a: string, b: string) => {
      await refresh();
      const file = view.value?.file;
      if (!file) throw new Error('the lab file has errors; fix them first');
      await api.replaceLab(name, renameNodeInFile(file, a, b));
    };
    await edit({ label: `rename ${from} to ${to}`, redo: () => put(from, to), undo: () => put(to, from) });
  }

  /** Replaces a node's settings; undo puts the old ones back (where the node is now). */
  async function updateNode(node: string, spec: Record<string, unknown>): Promise<void> {
    const name = need();
    await updateSpec(`node ${node}`, spec, () => nodeByName.value.get(node), (s) => api.replaceNode(name, node, s));
  }

  async function updateNetwork(net: string, spec: Record<string, unknown>): Promise<void> {
    const name = need();
    await updateSpec(`network ${net}`, spec, () => networkByName.value.get(net), (s) => api.replaceNetwork(name, net, s));
  }

  /** One undoable replacement of a node's or network's settings; its place on the canvas (ui) stays where it is at each step. */
  async function updateSpec(
    what: string,
    spec: Record<string, unknown>,
    current: () => { name: string; spec: Record<string, unknown> } | undefined,
    replace: (spec: Record<string, unknown>) => Promise<unknown>,
  ): Promise<void> {
    const before = current();
    if (!before) throw new Error(`no ${what}`);
    const old = structuredClone(before.spec);
    const here = () => current()?.spec['ui'];
    await edit({
      label: `change ${before.name}`,
      redo: async () => void (await replace(withUi(spec, here()))),
      undo: async () => void (await replace(withUi(old, here()))),
    });
  }

  async function setImpairments(id: string, imp: Impairments): Promise<void> {
    const name = need();
    const before = linkById.value.get(id);
    if (!before) throw new Error(`no link ${id}`);
    const old = { ...before.impairments };
    await edit({
      label: `impair ${id}`,
      redo: async () => void (await api.setImpairments(name, id, imp)),
      undo: async () => void (await api.setImpairments(name, id, old)),
    });
  }

  async function setSuspended(id: string, suspended: boolean): Promise<void> {
    const name = need();
    const go = (s: boolean) => (s ? api.suspendLink(name, id) : api.resumeLink(name, id)).then(() => undefined);
    await edit({ label: `${suspended ? 'suspend' : 'resume'} ${id}`, redo: () => go(suspended), undo: () => go(!suspended) });
  }

  // ------------------------------------------------------------ power

  async function start(): Promise<void> {
    applyView(await api.startLab(need()));
  }
  async function stop(): Promise<void> {
    applyView(await api.stopLab(need()));
  }
  async function startNode(node: string): Promise<void> {
    const v = await api.startNode(need(), node);
    nodeStatus.value = { ...nodeStatus.value, [node]: v.status };
  }
  async function stopNode(node: string): Promise<void> {
    const v = await api.stopNode(need(), node);
    nodeStatus.value = { ...nodeStatus.value, [node]: v.status };
  }

  return {
    lab,
    view,
    loadError,
    labStatus,
    nodeStatus,
    linkSuspended,
    externalChanges,
    snapshotsChanged,
    history,
    nodes,
    networks,
    links,
    nodeByName,
    networkByName,
    linkById,
    names,
    running,
    open,
    close,
    refresh,
    onEvent,
    addNode,
    addNetwork,
    remove,
    cloneNode,
    addLink,
    move,
    rename,
    updateNode,
    updateNetwork,
    setImpairments,
    setSuspended,
    start,
    stop,
    startNode,
    stopNode,
  };
});

function withUi(spec: Record<string, unknown>, ui: unknown): Record<string, unknown> {
  const s = structuredClone(spec);
  if (ui === undefined) delete s['ui'];
  else s['ui'] = ui;
  return s;
}
