/**
 * The web client's stores against a real wirelab server (in this process, on a temporary labs
 * folder): what the user does through the stores reaches lab.yaml and the running lab, undo and
 * redo put it back, live events update the state, and the trace keeps up and tells what it lost.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPinia, setActivePinia } from 'pinia';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { parse as parseYaml } from 'yaml';
import { ApiError, api, configureApi } from '../../client/src/api/http.js';
import type { TraceRecord } from '../../contract/index.js';
import { type WsFactory, configureWs } from '../../client/src/api/ws.js';
import { useChecksStore } from '../../client/src/stores/checks.js';
import { useLabsStore } from '../../client/src/stores/labs.js';
import { useTopologyStore } from '../../client/src/stores/topology.js';
import { TRACE_CAPACITY, useTracesStore } from '../../client/src/stores/traces.js';
import { type WirelabServer, startServer } from '../../server/app.js';
import { readPcapng } from '../helpers/pcapng.js';

let server: WirelabServer;
let dir: string;

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A trace record of an ARP request for 10.0.0.(i % 250), as the trace channel sends one. */
const arpRecord = (i: number): TraceRecord => ({
  time: i,
  link: 'a:eth0--b:eth0',
  from: 'a:eth0',
  to: 'b:eth0',
  length: 60,
  protocol: 'ARP',
  src: '02:00:00:00:00:01',
  dst: 'ff:ff:ff:ff:ff:ff',
  info: `Who has 10.0.0.${i % 250}? Tell 10.0.0.1`,
  layers: [{ name: 'Ethernet II', fields: { dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:01', type: '0x0806' } }, { name: 'ARP', fields: { op: 'request', senderIp: '10.0.0.1', targetIp: `10.0.0.${i % 250}` } }],
});

const labFile = (lab: string) => parseYaml(readFileSync(join(dir, lab, 'lab.yaml'), 'utf8')) as Record<string, any>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wirelab-client-'));
  server = await startServer({ port: 0, labsDir: dir, logLevel: 'silent', watch: false });
  configureApi({ base: server.url, fetch: (...a) => fetch(...a) });
  configureWs(((url: string) => new WebSocket(url)) as unknown as WsFactory);
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  setActivePinia(createPinia());
});

describe('labs store', () => {
  test('create, list with state, follow another client starting the lab, delete', async () => {
    const labs = useLabsStore();
    await labs.create('first', 'a lab made by the store');
    expect(labs.labs.find((l) => l.name === 'first')).toMatchObject({ description: 'a lab made by the store', status: 'stopped', nodeCount: 0 });
    labs.watchLabs();
    await new Promise((r) => setTimeout(r, 200));
    await api.startLab('first');
    await until(() => labs.labs.find((l) => l.name === 'first')?.status === 'running', 'the lab-state event');
    await expect(labs.remove('first')).rejects.toMatchObject({ status: 409 });
    await labs.stop('first');
    await labs.remove('first');
    expect(labs.labs.map((l) => l.name)).not.toContain('first');
    expect((await api.listLabs()).map((l) => l.name)).not.toContain('first');
    labs.unwatch();
  });

  test('a bad name comes back as the server words it, on the name field', async () => {
    const labs = useLabsStore();
    const e = await labs.create('Bad Name', '').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(400);
    expect((e as ApiError).forField('name')).toContain('is not a lab name');
  });
});

describe('topology store: every edit through the API, undoable', () => {
  beforeAll(async () => {
    await api.createLab({ name: 'draw' });
  });

  test('add, cable, move; undo and redo reach lab.yaml', async () => {
    const topo = useTopologyStore();
    await topo.open('draw');
    expect(await topo.addNode('host', { x: 10.4, y: 20 })).toBe('pc1');
    expect(await topo.addNode('switch', { x: 200, y: 20 })).toBe('sw1');
    await topo.addLink('pc1:eth0', 'sw1:e0');
    expect(topo.links.map((l) => l.id)).toEqual(['pc1:eth0--sw1:e0']);
    expect(labFile('draw').nodes.pc1.ui).toEqual({ x: 10, y: 20 });
    expect(topo.history.undoLabel).toBe('link pc1:eth0 to sw1:e0');

    await topo.move([{ id: 'pc1', kind: 'node', from: { x: 10, y: 20 }, to: { x: 100.2, y: 250 } }]);
    expect(labFile('draw').nodes.pc1.ui).toEqual({ x: 100, y: 250 });
    expect(topo.nodeByName.get('pc1')!.ui).toEqual({ x: 100, y: 250 });

    await topo.history.undo();
    expect(labFile('draw').nodes.pc1.ui).toEqual({ x: 10, y: 20 });
    await topo.history.undo();
    expect(labFile('draw').links ?? []).toEqual([]);
    expect(topo.links).toEqual([]);
    expect(topo.history.redoLabel).toBe('link pc1:eth0 to sw1:e0');
    await topo.history.redo();
    expect(labFile('draw').links).toEqual([['pc1:eth0', 'sw1:e0']]);
    await topo.history.redo();
    expect(labFile('draw').nodes.pc1.ui).toEqual({ x: 100, y: 250 });
    expect(topo.history.canRedo).toBe(false);
    topo.close();
  });

  test('deleting a node takes its cables; undo brings both back, impairments included', async () => {
    const topo = useTopologyStore();
    await topo.open('draw');
    await topo.setImpairments('pc1:eth0--sw1:e0', { delay: '5ms', loss: '1%' });
    const before = labFile('draw');
    await topo.remove([{ kind: 'node', id: 'sw1' }]);
    expect(topo.nodeByName.has('sw1')).toBe(false);
    expect(labFile('draw').links ?? []).toEqual([]);
    await topo.history.undo();
    expect(labFile('draw')).toEqual(before);
    expect(topo.linkById.get('pc1:eth0--sw1:e0')!.impairments).toEqual({ delay: '5ms', loss: '1%' });
    await topo.history.undo();
    expect(topo.linkById.get('pc1:eth0--sw1:e0')!.impairments).toEqual({});
    topo.close();
  });

  test('deleting a network unplugs the interfaces on it; undo plugs them back', async () => {
    const topo = useTopologyStore();
    await topo.open('draw');
    expect(await topo.addNetwork('host-only', { x: 0, y: -100 })).toBe('vmnet1');
    expect(await topo.addNode('host', { x: 0, y: 100 })).toBe('pc2');
    await topo.updateNode('pc2', { kind: 'host', interfaces: { eth0: { network: 'vmnet1', ip: 'dhcp' } } });
    expect(topo.networkByName.get('vmnet1')!.attached).toEqual(['pc2:eth0']);
    await topo.remove([{ kind: 'network', id: 'vmnet1' }]);
    expect(labFile('draw').nodes.pc2.interfaces.eth0).toEqual({ ip: 'dhcp' });
    await topo.history.undo();
    expect(topo.networkByName.get('vmnet1')!.attached).toEqual(['pc2:eth0']);
    expect(topo.linkById.has('pc2:eth0--vmnet1')).toBe(true);
    topo.close();
  });

  test('rename changes the node everywhere the file names it; undo names it back', async () => {
    const topo = useTopologyStore();
    await topo.open('draw');
    await api.addCheck('draw', { name: 'pc1 up', ping: { from: 'pc1', to: 'pc2' } });
    await topo.rename('pc1', 'web');
    const f = labFile('draw');
    expect(Object.keys(f.nodes)).toContain('web');
    expect(Object.keys(f.nodes)).not.toContain('pc1');
    expect(f.links).toContainEqual(['web:eth0', 'sw1:e0']);
    expect(f.checks[0].ping).toEqual({ from: 'web', to: 'pc2' });
    await topo.history.undo();
    expect(Object.keys(labFile('draw').nodes)).toContain('pc1');
    expect(labFile('draw').checks[0].ping).toEqual({ from: 'pc1', to: 'pc2' });
    await api.deleteCheck('draw', 0);
    topo.close();
  });

  test('a refused edit changes nothing and is not recorded', async () => {
    const topo = useTopologyStore();
    await topo.open('draw');
    await topo.addNode('router', { x: 300, y: 300 });
    const label = topo.history.undoLabel;
    const before = readFileSync(join(dir, 'draw', 'lab.yaml'), 'utf8');
    const cabled = await topo.addLink('pc1:eth0', 'r1:g0/0').catch((e: unknown) => e);
    expect(cabled).toBeInstanceOf(ApiError);
    expect((cabled as ApiError).status).toBe(409);
    expect((cabled as ApiError).message).toContain('pc1:eth0 is already cabled');
    const bad = await topo.updateNode('pc1', { kind: 'host', interfaces: { eth0: { ip: '10.0.0.300/24' } } }).catch((e: unknown) => e);
    expect((bad as ApiError).forField('interfaces.eth0.ip')).toContain('10.0.0.300');
    expect(readFileSync(join(dir, 'draw', 'lab.yaml'), 'utf8')).toBe(before);
    expect(topo.history.undoLabel).toBe(label);
    // A new edit after an undo forgets what was undone.
    await topo.history.undo();
    expect(topo.history.canRedo).toBe(true);
    await topo.addNode('hub', { x: 0, y: 0 });
    expect(topo.history.canRedo).toBe(false);
    topo.close();
  });
});

describe('live state, traces and checks on a running lab', () => {
  beforeAll(async () => {
    await api.createLab({
      name: 'live',
      nodes: {
        pc1: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } } },
        pc2: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.2/24' } } },
        sw1: { kind: 'switch' },
      },
      links: [
        ['pc1:eth0', 'sw1:e0'],
        ['pc2:eth0', 'sw1:e1'],
      ],
      checks: [{ name: 'ping', ping: { from: 'pc1', to: '10.0.0.2' } }],
    });
  });
  afterAll(async () => {
    await api.stopLab('live');
  });

  test('start, node and link state from events (also from other clients)', async () => {
    const topo = useTopologyStore();
    await topo.open('live');
    await new Promise((r) => setTimeout(r, 200));
    await topo.start();
    expect(topo.labStatus).toBe('running');
    expect(Object.values(topo.nodeStatus)).toEqual(['running', 'running', 'running']);
    await topo.stopNode('pc2');
    expect(topo.nodeStatus['pc2']).toBe('stopped');
    await api.startNode('live', 'pc2');
    await until(() => topo.nodeStatus['pc2'] === 'running', 'the node-state event');
    await api.suspendLink('live', 'pc2:eth0--sw1:e1');
    await until(() => topo.linkSuspended['pc2:eth0--sw1:e1'] === true, 'the link-state event');
    await topo.history.run({ label: 'noop', redo: async () => undefined, undo: async () => undefined });
    await topo.setSuspended('pc2:eth0--sw1:e1', false);
    await until(() => topo.linkSuspended['pc2:eth0--sw1:e1'] === false, 'resumed');
    topo.close();
  });

  test('the trace shows the ping, filters it, pauses, and downloads what it shows', async () => {
    const traces = useTracesStore();
    const checks = useChecksStore();
    traces.watch('live');
    await until(() => traces.subscribed, 'the trace subscription');
    await checks.load('live');
    const results = await checks.run();
    expect(results).toMatchObject([{ name: 'ping', passed: true }]);
    await until(() => traces.total >= 4, 'trace records');
    const rows = () => Array.from({ length: traces.count }, (_, i) => traces.row(i)!.record);
    const icmp = rows().filter((r) => r.protocol === 'ICMP');
    expect(icmp.some((r) => r.info.startsWith('Echo (ping) request') && r.src === '10.0.0.1' && r.dst === '10.0.0.2')).toBe(true);
    expect(icmp.some((r) => r.info.startsWith('Echo (ping) reply') && r.src === '10.0.0.2' && r.dst === '10.0.0.1')).toBe(true);

    expect(traces.setFilter('icmp && ip.src == 10.0.0.2')).toBe(true);
    expect(rows().length).toBeGreaterThan(0);
    expect(rows().every((r) => r.protocol === 'ICMP' && r.src === '10.0.0.2')).toBe(true);
    expect(traces.setFilter('icmp &&')).toBe(false);
    expect(traces.filterError?.message).toContain('the filter ends');
    expect(rows().every((r) => r.src === '10.0.0.2')).toBe(true);

    traces.select(traces.row(0)!.seq);
    expect(traces.selectedLayers.map((l) => l.name)).toEqual(['Ethernet II', 'IPv4', 'ICMP']);

    const shown = traces.count;
    traces.setPaused(true);
    await checks.run();
    await until(() => traces.heldCount > 0, 'records held while paused');
    expect(traces.count).toBe(shown);
    traces.setPaused(false);
    await until(() => traces.count > shown, 'the held records shown');

    const { bytes, frames } = traces.pcapng();
    expect(frames).toBe(traces.count);
    const cap = readPcapng(bytes);
    expect(cap.packets).toHaveLength(traces.count);
    expect(cap.interfaces.map((i) => i.name).sort()).toEqual(['pc1:eth0--sw1:e0', 'pc2:eth0--sw1:e1']);
    // The filter (icmp from 10.0.0.2) still applies: IP protocol 1 in every frame saved.
    expect(cap.packets.every((p) => p.data[23] === 1)).toBe(true);

    traces.clear();
    expect(traces.count).toBe(0);
    expect(traces.total).toBe(0);
    traces.unwatch();
  });

  test('the trace is bounded and says what it dropped and discarded', async () => {
    const traces = useTracesStore();
    const batch = Array.from({ length: 1000 }, (_, i) => arpRecord(i));
    for (let k = 0; k < 60; k++) traces.receive(batch, k === 0 ? 7 : 0);
    await until(() => traces.total > 0, 'a redraw');
    expect(traces.total).toBeLessThanOrEqual(TRACE_CAPACITY);
    expect(traces.evicted + traces.total).toBe(60_000);
    expect(traces.dropped).toBe(7);
    expect(traces.droppedText).toContain('7 records dropped by the server');
    expect(traces.droppedText).toContain('older records discarded');
    expect(traces.setFilter('arp.addr == 10.0.0.3')).toBe(true);
    expect(traces.count).toBeGreaterThan(0);
    expect(traces.count).toBeLessThan(traces.total / 100);
  });

  test('each lab keeps its own trace and filter, for the last four labs left', () => {
    const traces = useTracesStore();
    traces.watch('lab-a');
    traces.receive([arpRecord(1), arpRecord(2)], 0);
    expect(traces.setFilter('arp')).toBe(true);
    traces.watch('lab-b');
    expect([traces.filterText, traces.total, traces.count]).toEqual(['', 0, 0]);
    traces.watch('lab-a');
    expect([traces.filterText, traces.total, traces.count]).toEqual(['arp', 2, 2]);
    // Five other labs later, lab-a's trace has made room for theirs.
    for (const l of ['lab-c', 'lab-d', 'lab-e', 'lab-f', 'lab-g']) traces.watch(l);
    traces.watch('lab-a');
    expect([traces.filterText, traces.total]).toEqual(['', 0]);
    traces.unwatch();
  });

  test('the live status of a network: address plan and the leases of its DHCP server', async () => {
    await api.addNetwork('live', 'vmnet1', { type: 'host-only', subnet: '192.168.56.0/24' });
    await api.addNode('live', 'pc3', { kind: 'host', interfaces: { eth0: { network: 'vmnet1', ip: 'dhcp' } } });
    await until(async () => ((await api.networkStatus('live', 'vmnet1')).dhcp?.leased ?? 0) > 0, 'a lease', 20_000);
    const s = await api.networkStatus('live', 'vmnet1');
    expect(s.plan).toMatchObject({ subnet: '192.168.56.0/24', hostAdapter: '192.168.56.1', dhcpServer: '192.168.56.254' });
    expect(s.dhcp!.leases[0]!.ip).toMatch(/^192\.168\.56\.(1[2-9]\d|2[0-4]\d|25[0-3])$/);
    await api.deleteNode('live', 'pc3');
    await api.deleteNetwork('live', 'vmnet1');
  });

  test('checks: a cable at 100% loss makes the ping fail', async () => {
    const topo = useTopologyStore();
    const checks = useChecksStore();
    await topo.open('live');
    await checks.load('live');
    expect((await checks.run())[0]!.passed).toBe(true);
    await topo.setImpairments('pc2:eth0--sw1:e1', { loss: '100%' });
    const r = await checks.run();
    expect(r[0]).toMatchObject({ name: 'ping', passed: false, ok: false });
    expect(r[0]!.detail).toContain('0/');
    await topo.history.undo();
    expect((await checks.run())[0]!.passed).toBe(true);
    topo.close();
  });
});
