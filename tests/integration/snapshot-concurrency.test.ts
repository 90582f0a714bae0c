/**
 * Snapshots taken at the same time (issue 15, item 5): each answers 201, each stored snapshot is
 * whole and restores, the tree's parent links follow the order the server took them in, and an
 * export with snapshots imports again. Also: temporary folders of interrupted imports are swept
 * when the server starts (item 11).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from './server-harness.js';

const LAB = {
  name: 'office',
  nodes: {
    pc1: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } } },
    pc2: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.2/24' } } },
    sw1: { kind: 'switch', ports: 4 },
  },
  links: [
    ['pc1:eth0', 'sw1:e0'],
    ['pc2:eth0', 'sw1:e1'],
  ],
};

let t: TestServer | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

interface Snap {
  name: string;
  parent: string | null;
  createdAt: string;
}

describe('parallel snapshots', () => {
  it('3 simultaneous POSTs x 5 rounds on a running lab: all 201, all whole, a linear tree in the order taken, export then import works', async () => {
    t = await startTestServer();
    const { api, dir } = t;
    await api.expect(201, 'POST', '/labs', LAB);
    await api.expect(200, 'POST', '/labs/office/start');

    const taken: Snap[] = [];
    const statuses: number[] = [];
    for (let round = 0; round < 5; round++) {
      // Unnamed: the server picks the names, which must not collide either.
      const replies = await Promise.all([0, 1, 2].map(() => api.post('/labs/office/snapshots', {})));
      for (const r of replies) {
        statuses.push(r.status);
        if (r.status === 201) taken.push(r.body as Snap);
      }
    }
    expect(statuses).toEqual(Array(15).fill(201));
    expect(new Set(taken.map((s) => s.name)).size).toBe(15);

    // One chain: each snapshot's parent is the one current before it (no restores happened).
    const byParent = new Map<string | null, Snap[]>();
    for (const s of taken) byParent.set(s.parent, [...(byParent.get(s.parent) ?? []), s]);
    const chain: Snap[] = [];
    let at: string | null = null;
    for (;;) {
      const next: Snap[] = byParent.get(at) ?? [];
      expect(next.length, `children of ${String(at)}`).toBeLessThanOrEqual(1);
      if (next.length === 0) break;
      chain.push(next[0]!);
      at = next[0]!.name;
    }
    expect(chain.length).toBe(15);
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.createdAt >= chain[i - 1]!.createdAt).toBe(true);
    const list = (await api.expect(200, 'GET', '/labs/office/snapshots')).body as (Snap & { current: boolean })[];
    expect(list.filter((s) => s.current).map((s) => s.name)).toEqual([chain[14]!.name]);

    const snapsDir = join(dir, 'office/snapshots');
    expect(readdirSync(snapsDir).filter((n) => n.startsWith('.wirelab-tmp-'))).toEqual([]);
    for (const s of taken) {
      expect(existsSync(join(snapsDir, s.name, 'lab.yaml')), `${s.name}/lab.yaml`).toBe(true);
      expect(existsSync(join(snapsDir, s.name, 'state.bin')), `${s.name}/state.bin`).toBe(true);
    }
    for (const s of taken) expect((await api.post(`/labs/office/snapshots/${s.name}/restore`)).status, `restore ${s.name}`).toBe(200);

    await api.expect(200, 'POST', '/labs/office/stop');
    const raw = await fetch(`${t.server.url}/api/v1/labs/office/export?withSnapshots=true`);
    expect(raw.status).toBe(200);
    const archive = Buffer.from(await raw.arrayBuffer()).toString('base64');
    const imported = (await api.expect(201, 'POST', '/labs/import', { archive, as: 'office2' })).body;
    expect([...imported.snapshots].sort()).toEqual(taken.map((s) => s.name).sort());
  }, 120_000);

  it('mixes takes, restores, descriptions and deletes at once without a 500 or a damaged snapshot', async () => {
    t = await startTestServer();
    const { api, dir } = t;
    await api.expect(201, 'POST', '/labs', LAB);
    await api.expect(200, 'POST', '/labs/office/start');
    await api.expect(201, 'POST', '/labs/office/snapshots', { name: 'base' });
    await api.expect(201, 'POST', '/labs/office/snapshots', { name: 'gone' });
    const replies = await Promise.all([
      api.post('/labs/office/snapshots', { name: 's1' }),
      api.post('/labs/office/snapshots/base/restore'),
      api.patch('/labs/office/snapshots/base', { description: 'first' }),
      api.delete('/labs/office/snapshots/gone'),
      api.post('/labs/office/snapshots', { name: 's2' }),
      api.post('/labs/office/clone', { snapshot: 'base', name: 'office-copy' }),
    ]);
    expect(replies.map((r) => r.status)).toEqual([201, 200, 200, 204, 201, 201]);
    const list = (await api.expect(200, 'GET', '/labs/office/snapshots')).body as Snap[];
    expect(list.map((s) => s.name).sort()).toEqual(['base', 's1', 's2']);
    for (const s of list) expect(existsSync(join(dir, 'office/snapshots', s.name, 'lab.yaml'))).toBe(true);
    // Whatever the order was, no snapshot names a parent that is gone.
    for (const s of list) expect(s.parent === null || list.some((p) => p.name === s.parent)).toBe(true);
  }, 60_000);
});

describe('temporary folders at start', () => {
  it('sweeps .wirelab-tmp-* folders left in the labs folder, a lab folder and its snapshots folder by an interrupted write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wirelab-sweep-'));
    try {
      // Left by this process id in an earlier life (a container restarts with the same one), or by one that is gone.
      const gone = 2 ** 30;
      const leftovers = [
        join(dir, `.wirelab-tmp-${process.pid}-2-3`),
        join(dir, `office/.wirelab-tmp-${gone}-5-6`),
        join(dir, `office/snapshots/.wirelab-tmp-${process.pid}-8-9`),
      ];
      mkdirSync(join(dir, 'office/snapshots'), { recursive: true });
      writeFileSync(join(dir, 'office/lab.yaml'), 'wirelab: 1\nname: office\n');
      for (const l of leftovers) {
        mkdirSync(join(l, 'snapshots/x'), { recursive: true });
        writeFileSync(join(l, 'lab.yaml'), 'half');
      }
      writeFileSync(join(dir, `office/snapshots/.wirelab-tmp-${gone}-2-.here`), '{');
      t = await startTestServer({ labsDir: dir });
      for (const l of leftovers) expect(existsSync(l), l).toBe(false);
      expect(readdirSync(join(dir, 'office/snapshots'))).toEqual([]);
      expect((await t.api.expect(200, 'GET', '/labs/office')).body.name).toBe('office');
    } finally {
      await t?.close();
      t = null;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
