/**
 * Conflicting edits and snapshots at once, chosen from a fixed seed: 30 rounds of 8 requests
 * sent together (the same node patched, replaced, deleted and re-created; links to it added;
 * the whole lab replaced; snapshots taken, restored and deleted) on a running lab. No answer is
 * a 500; after every round lab.yaml loads and GET of the lab equals it, every snapshot listed is
 * whole on disk, and no temporary folder is left; a server restarted on the folder finds the
 * same lab. About 20 s.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadLabText } from '../../devices/lab/load.js';
import { type Api, type Reply, type TestServer, startTestServer } from '../integration/server-harness.js';
import { rng, tempFolders, twoHostLab } from './spawned.js';

const SEED = 0xc0ffee;
const dir = mkdtempSync(join(tmpdir(), 'wirelab-concurrent-'));
let t: TestServer | null = null;
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const LAB = twoHostLab('race');

type Op = (api: Api, r: () => number) => Promise<Reply>;
const host = (n: number) => ({ kind: 'host', interfaces: { eth0: { ip: `10.0.0.${n}/24` } } });
const OPS: Op[] = [
  (api, r) => api.patch('/labs/race/nodes/pc3', { ui: { x: Math.floor(r() * 500), y: 7 } }),
  (api, r) => api.put('/labs/race/nodes/pc3', host(3 + Math.floor(r() * 50))),
  (api) => api.post('/labs/race/nodes', { name: 'pc3', ...host(3) }),
  (api) => api.delete('/labs/race/nodes/pc3'),
  (api) => api.post('/labs/race/links', ['pc3:eth0', 'sw1:e2']),
  (api) => api.delete('/labs/race/links/pc3:eth0--sw1:e2'),
  (api, r) => api.put('/labs/race', { ...LAB, description: `whole ${Math.floor(r() * 1000)}` }),
  (api, r) => api.patch('/labs/race/nodes/pc1', { ui: { x: Math.floor(r() * 500), y: 1 } }),
  (api) => api.post('/labs/race/snapshots', {}),
  async (api) => {
    const list = (await api.get('/labs/race/snapshots')).body as { name: string }[];
    return list.length ? api.post(`/labs/race/snapshots/${list[list.length - 1]!.name}/restore`) : api.get('/labs/race');
  },
  async (api) => {
    const list = (await api.get('/labs/race/snapshots')).body as { name: string }[];
    return list.length > 3 ? api.delete(`/labs/race/snapshots/${list[0]!.name}`) : api.get('/labs/race');
  },
  (api) => api.post('/labs/race/stop'),
  (api) => api.post('/labs/race/start'),
];

async function intact(api: Api): Promise<void> {
  const text = readFileSync(join(dir, 'race', 'lab.yaml'), 'utf8');
  const loaded = loadLabText(text, 'race/lab.yaml', { folderName: 'race' });
  if (!loaded.ok) throw new Error(`lab.yaml does not load: ${JSON.stringify(loaded.errors).slice(0, 500)}\n${text}`);
  const view = (await api.expect(200, 'GET', '/labs/race')).body;
  expect(view.file).toEqual(JSON.parse(JSON.stringify(loaded.lab.file)));
  const snaps = (await api.expect(200, 'GET', '/labs/race/snapshots')).body as { name: string; parent: string | null }[];
  for (const s of snaps) {
    expect(existsSync(join(dir, 'race', 'snapshots', s.name, 'lab.yaml')), `snapshot ${s.name} is whole`).toBe(true);
    expect(s.parent === null || snaps.some((p) => p.name === s.parent), `parent of ${s.name}`).toBe(true);
  }
  expect(tempFolders(dir)).toEqual([]);
}

it('30 rounds of 8 conflicting edits and snapshots at once: no 500, lab.yaml valid and equal to GET, snapshots whole', async () => {
  t = await startTestServer({ labsDir: dir });
  const { api } = t;
  await api.expect(201, 'POST', '/labs', LAB);
  await api.expect(200, 'POST', '/labs/race/start');
  const r = rng(SEED);
  const statuses: Record<number, number> = {};
  for (let round = 0; round < 30; round++) {
    const ops = Array.from({ length: 8 }, () => OPS[Math.floor(r() * OPS.length)]!);
    const replies = await Promise.all(ops.map((op) => op(api, r)));
    for (const [i, reply] of replies.entries()) {
      statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
      expect(reply.status, `round ${round} (seed ${SEED}) request ${i}: ${reply.text.slice(0, 300)}`).toBeLessThan(500);
    }
    await intact(api);
  }
  console.log(`statuses: ${JSON.stringify(statuses)}`);
  const before = (await api.expect(200, 'GET', '/labs/race')).body.file;
  await t.close();
  t = await startTestServer({ labsDir: dir });
  expect((await t.api.expect(200, 'GET', '/labs/race')).body.file).toEqual(before);
  await intact(t.api);
}, 120_000);
