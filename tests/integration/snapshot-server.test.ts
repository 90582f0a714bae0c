/**
 * Snapshots, clones, export and import through the HTTP API, on a real server over a temporary
 * labs folder (labs run in real time there).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type TestServer, eventually, startTestServer } from './server-harness.js';

const LAB = {
  name: 'snaplab',
  description: 'two PCs on a switch',
  nodes: {
    pc1: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } }, ui: { x: 10, y: 20 } },
    pc2: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.2/24' } }, ui: { x: 110, y: 20 } },
    sw1: { kind: 'switch', ports: 4 },
  },
  links: [
    ['pc1:eth0', 'sw1:e0'],
    ['pc2:eth0', 'sw1:e1'],
  ],
  checks: [{ name: 'pc1 reaches pc2', ping: { from: 'pc1', to: '10.0.0.2' } }],
};

let t: TestServer | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

async function server(): Promise<TestServer> {
  t = await startTestServer();
  await t.api.expect(201, 'POST', '/labs', LAB);
  return t;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

describe('snapshots through the API', () => {
  it('take a live snapshot, delete a node, restore: the node is back and running, and the lab works', async () => {
    const { api, dir } = await server();
    await api.expect(200, 'POST', '/labs/snaplab/start');
    const snap = (await api.expect(201, 'POST', '/labs/snaplab/snapshots', { name: 'before', description: 'both PCs' })).body;
    expect(snap).toMatchObject({ name: 'before', description: 'both PCs', live: true, parent: null, current: true, lockedBy: [] });
    expect(snap.sizeBytes).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'snaplab/snapshots/before/state.bin'))).toBe(true);

    await api.expect(204, 'DELETE', '/labs/snaplab/nodes/pc2');
    expect((await api.get('/labs/snaplab/nodes/pc2')).status).toBe(404);

    const restored = (await api.expect(200, 'POST', '/labs/snaplab/snapshots/before/restore')).body;
    expect(restored.lab.status).toBe('running');
    expect(restored.restoredObjects).toBeGreaterThan(0);
    const pc2 = (await api.expect(200, 'GET', '/labs/snaplab/nodes/pc2')).body;
    expect(pc2.status).toBe('running');
    expect(pc2.interfaces[0].link).toBe('pc2:eth0--sw1:e1');
    // lab.yaml is the snapshot's again.
    expect(parseYaml(readFileSync(join(dir, 'snaplab/lab.yaml'), 'utf8')).nodes.pc2).toBeDefined();
    const checks = (await api.expect(200, 'POST', '/labs/snaplab/checks/run')).body;
    expect(checks.map((c: { passed: boolean; detail: string }) => [c.passed, c.detail])[0][0]).toBe(true);
  });

  it('keeps a tree: parents, children, the current snapshot; deleting one moves its children up', async () => {
    const { api } = await server();
    await api.expect(201, 'POST', '/labs/snaplab/snapshots', { name: 'a' });
    await api.expect(201, 'POST', '/labs/snaplab/snapshots', { name: 'b' });
    await api.expect(200, 'POST', '/labs/snaplab/snapshots/a/restore');
    await api.expect(201, 'POST', '/labs/snaplab/snapshots', { name: 'c' });
    const list = (await api.expect(200, 'GET', '/labs/snaplab/snapshots')).body as { name: string; parent: string | null; children: string[]; current: boolean; live: boolean }[];
    expect(list.map((s) => [s.name, s.parent, s.children, s.current, s.live])).toEqual([
      ['a', null, ['b', 'c'], false, false],
      ['b', 'a', [], false, false],
      ['c', 'a', [], true, false],
    ]);
    expect((await api.post('/labs/snaplab/snapshots', { name: 'c' })).status).toBe(409);
    expect((await api.post('/labs/snaplab/snapshots', { name: '../x' })).status).toBe(400);
    expect((await api.get('/labs/snaplab/snapshots/nope')).status).toBe(404);
    const d = (await api.expect(200, 'PATCH', '/labs/snaplab/snapshots/b', { description: 'second' })).body;
    expect(d.description).toBe('second');
    await api.expect(204, 'DELETE', '/labs/snaplab/snapshots/a');
    const after = (await api.expect(200, 'GET', '/labs/snaplab/snapshots')).body as { name: string; parent: string | null }[];
    expect(after.map((s) => [s.name, s.parent])).toEqual([
      ['b', null],
      ['c', null],
    ]);
  });

  it('restores a snapshot of a stopped lab: its file, stopped', async () => {
    const { api } = await server();
    await api.expect(201, 'POST', '/labs/snaplab/snapshots', { name: 'plain' });
    await api.expect(201, 'POST', '/labs/snaplab/nodes', { name: 'pc3', kind: 'host' });
    await api.expect(200, 'POST', '/labs/snaplab/start');
    const r = (await api.expect(200, 'POST', '/labs/snaplab/snapshots/plain/restore')).body;
    expect(r.lab.status).toBe('stopped');
    expect(r.lab.nodes.map((n: { name: string }) => n.name).sort()).toEqual(['pc1', 'pc2', 'sw1']);
  });

  it('takes snapshots on the lab\'s schedule and keeps the last ones', async () => {
    const { api } = await server();
    await api.expect(200, 'PUT', '/labs/snaplab', { ...LAB, snapshots: { every: '300ms', keep: 2 } });
    await api.expect(201, 'POST', '/labs/snaplab/snapshots', { name: 'manual' });
    await api.expect(200, 'POST', '/labs/snaplab/start');
    await eventually(async () => {
      const list = (await api.get('/labs/snaplab/snapshots')).body as { auto: boolean; createdAt: string }[];
      return list.filter((s) => s.auto).length >= 2 && list;
    }, 20_000, 'two scheduled snapshots');
    await new Promise((r) => setTimeout(r, 1200));
    await api.expect(200, 'POST', '/labs/snaplab/stop');
    await new Promise((r) => setTimeout(r, 400));
    const list = (await api.get('/labs/snaplab/snapshots')).body as { name: string; auto: boolean; live: boolean }[];
    const autos = list.filter((s) => s.auto);
    expect(autos.length).toBe(2);
    expect(autos.every((s) => s.live && s.name.startsWith('auto-'))).toBe(true);
    // A snapshot the user took is never pruned.
    expect(list.some((s) => s.name === 'manual')).toBe(true);
  });
});

describe('clones through the API', () => {
  it('a linked clone stays small, follows its parent snapshot and locks it; a full clone survives the parent', async () => {
    const { api, dir } = await server();
    // A bigger parent, so that sizes tell.
    const nodes: Record<string, unknown> = { sw1: { kind: 'switch', ports: 40 } };
    const links: unknown[] = [];
    for (let i = 0; i < 30; i++) {
      nodes[`h${i}`] = { kind: 'host', interfaces: { eth0: { ip: `10.1.0.${i + 10}/24`, mac: `02:00:00:00:01:${(i + 16).toString(16)}` } }, ui: { x: i * 40, y: 200 } };
      links.push([`h${i}:eth0`, `sw1:e${i}`]);
    }
    await api.expect(201, 'POST', '/labs', { name: 'big', nodes, links });
    await api.expect(201, 'POST', '/labs/big/snapshots', { name: 'base' });

    const lc = (await api.expect(201, 'POST', '/labs/big/clone', { name: 'lc', linked: true, snapshot: 'base' })).body;
    expect(lc.lab.nodes.length).toBe(31);
    const parentBytes = statSync(join(dir, 'big/lab.yaml')).size;
    const cloneText = readFileSync(join(dir, 'lc/lab.yaml'), 'utf8');
    const stored = parseYaml(cloneText);
    expect(stored['clone-of']).toEqual({ lab: 'big', snapshot: 'base' });
    // Only what differs: its name, and the explicit MACs made its own.
    expect(Object.keys(stored).sort()).toEqual(['clone-of', 'name', 'nodes', 'wirelab']);
    expect(Object.keys(stored.nodes.h0)).toEqual(['interfaces']);
    expect(cloneText.length).toBeLessThan(parentBytes / 2);
    const cloneMacs = lc.lab.nodes.filter((n: { kind: string }) => n.kind === 'host').map((n: { interfaces: { mac: string }[] }) => n.interfaces[0]!.mac);
    expect(new Set(cloneMacs).size).toBe(30);
    expect(cloneMacs).not.toContain('02:00:00:00:01:10');

    // It follows the snapshot, not the parent lab as it is now.
    await api.expect(201, 'POST', '/labs/big/nodes', { name: 'late', kind: 'host' });
    expect(((await api.expect(200, 'GET', '/labs/lc')).body.nodes as { name: string }[]).some((n) => n.name === 'late')).toBe(false);

    // The parent snapshot is locked while the linked clone uses it.
    const snaps = (await api.expect(200, 'GET', '/labs/big/snapshots')).body;
    expect(snaps[0].lockedBy).toEqual(['lc']);
    const refused = await api.delete('/labs/big/snapshots/base');
    expect(refused.status).toBe(409);
    expect(refused.body.error).toContain('lc');
    expect(existsSync(join(dir, 'big/snapshots/base/lab.yaml'))).toBe(true);
    // Nor can the parent lab go with it.
    const labRefused = await api.delete('/labs/big');
    expect(labRefused.status).toBe(409);
    expect(labRefused.body.error).toContain('lc');

    // An edit of the clone is stored as a difference still.
    await api.expect(201, 'POST', '/labs/lc/nodes', { name: 'extra', kind: 'host' });
    const edited = parseYaml(readFileSync(join(dir, 'lc/lab.yaml'), 'utf8'));
    expect(Object.keys(edited.nodes).sort()).toEqual([...Object.keys(stored.nodes), 'extra'].sort());
    expect((await api.expect(200, 'GET', '/labs/lc')).body.nodes.length).toBe(32);
    // ... and it runs.
    await api.expect(200, 'POST', '/labs/lc/start');
    await api.expect(200, 'POST', '/labs/lc/stop');

    // A full clone is a whole lab of its own.
    const fc = (await api.expect(201, 'POST', '/labs/big/clone', { name: 'fc', snapshot: 'base' })).body;
    expect(fc.lab.nodes.length).toBe(31);
    expect(parseYaml(readFileSync(join(dir, 'fc/lab.yaml'), 'utf8'))['clone-of']).toBeUndefined();
    await api.expect(204, 'DELETE', '/labs/lc');
    await api.expect(204, 'DELETE', '/labs/big/snapshots/base');
    await api.expect(200, 'POST', '/labs/big/stop');
    await api.expect(204, 'DELETE', '/labs/big');
    const survivor = (await api.expect(200, 'GET', '/labs/fc')).body;
    expect(survivor.problems).toBeNull();
    expect(survivor.nodes.length).toBe(31);
    await api.expect(200, 'POST', '/labs/fc/start');
  });

  it('a linked clone of a running lab takes its snapshot first; clone names are made free', async () => {
    const { api } = await server();
    await api.expect(200, 'POST', '/labs/snaplab/start');
    const a = (await api.expect(201, 'POST', '/labs/snaplab/clone', { linked: true })).body;
    expect(a.lab.name).toBe('snaplab-clone');
    expect(a.lab.status).toBe('stopped');
    const b = (await api.expect(201, 'POST', '/labs/snaplab/clone', {})).body;
    expect(b.lab.name).toBe('snaplab-clone-2');
    const snaps = (await api.expect(200, 'GET', '/labs/snaplab/snapshots')).body;
    expect(snaps).toHaveLength(1);
    expect(snaps[0]).toMatchObject({ live: true, lockedBy: ['snaplab-clone'] });
    expect((await api.post('/labs/snaplab/clone', { name: 'snaplab-clone' })).status).toBe(409);
    expect((await api.post('/labs/snaplab/clone', { bogus: 1 })).status).toBe(400);
  });

  it('clones a node: new name and MACs, same settings, placed beside it', async () => {
    const { api } = await server();
    const n = (await api.expect(201, 'POST', '/labs/snaplab/nodes/pc1/clone', {})).body;
    expect(n.name).toBe('pc3');
    expect(n.kind).toBe('host');
    expect(n.ui).toEqual({ x: 70, y: 80 });
    expect(n.spec.interfaces.eth0.ip).toBe('10.0.0.1/24');
    const pc1 = (await api.expect(200, 'GET', '/labs/snaplab/nodes/pc1')).body;
    expect(n.interfaces[0].mac).not.toBe(pc1.interfaces[0].mac);
    expect(n.interfaces[0].link).toBeNull();
    expect((await api.post('/labs/snaplab/nodes/pc1/clone', { name: 'pc2' })).status).toBe(409);
    expect((await api.post('/labs/snaplab/nodes/nope/clone', {})).status).toBe(404);
  });
});

describe('export and import through the API', () => {
  it('round-trips a lab with its snapshots, and refuses a damaged archive without writing anything', async () => {
    const { api, dir } = await server();
    await api.expect(200, 'POST', '/labs/snaplab/start');
    await api.expect(201, 'POST', '/labs/snaplab/snapshots', { name: 'live' });
    await api.expect(200, 'POST', '/labs/snaplab/stop');
    const res = await api.request('POST', '/labs/snaplab/export', { withSnapshots: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    const raw = await fetch(`${t!.server.url}/api/v1/labs/snaplab/export?withSnapshots=true`);
    const bytes = new Uint8Array(await raw.arrayBuffer());
    expect(bytes[0]).toBe(0x50); // PK
    const archive = Buffer.from(bytes).toString('base64');

    const imported = (await api.expect(201, 'POST', '/labs/import', { archive })).body;
    expect(imported.lab.name).toBe('snaplab-2');
    expect(imported.renamedFrom).toBe('snaplab');
    expect(imported.notes.join(' ')).toContain('running state');
    const original = parseYaml(readFileSync(join(dir, 'snaplab/lab.yaml'), 'utf8'));
    const copy = parseYaml(readFileSync(join(dir, 'snaplab-2/lab.yaml'), 'utf8'));
    expect({ ...copy, name: 'snaplab' }).toEqual(original);

    const same = (await api.expect(201, 'POST', '/labs/import', { archive, as: 'exact' })).body;
    expect(same.lab.name).toBe('exact');
    expect(same.snapshots).toEqual(['live']);

    const before = filesUnder(dir);
    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 30] ^= 0xff;
    const bad = await api.post('/labs/import', { archive: damaged.toString('base64'), as: 'nope' });
    expect(bad.status).toBe(400);
    expect(filesUnder(dir)).toEqual(before);
    expect((await api.post('/labs/import', { archive: 'not base64 !!' })).status).toBe(400);
    expect((await api.post('/labs/import', { archive, as: 'exact' })).status).toBe(400);
  });

  it('imports a GNS3 project given as JSON, with its report', async () => {
    const { api } = await server();
    const project = JSON.parse(readFileSync(new URL('../fixtures/gns3/dvarrui_teuton-tests/dvarrui_teuton-tests.gns3', import.meta.url), 'utf8'));
    const r = (await api.expect(201, 'POST', '/labs/import', { gns3: project, as: 'teuton' })).body;
    expect(r.lab.nodes.map((n: { name: string }) => n.name).sort()).toEqual(['PC1', 'PC2', 'Switch1']);
    expect(r.gns3Report.mapped.length).toBe(3);
  });
});
