/**
 * SIGKILL and SIGTERM at seeded random moments while the server (its own process) saves node
 * edits, replaces a whole lab, takes snapshots of a running lab and imports archives, four
 * writers at once. After each stop a server restarted on the folder finds every lab valid, each
 * acknowledged write there (a write in flight may or may not have landed, nothing older), every
 * acknowledged snapshot and import whole, and no .wirelab-tmp-* left anywhere. 4 cycles, ~40 s.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadLabText } from '../../devices/lab/load.js';
import { Api } from '../integration/server-harness.js';
import { type Spawned, rng, spawnServer, tempFolders, twoHostLab } from './spawned.js';

const SEED = 0xdead15;
const dir = mkdtempSync(join(tmpdir(), 'wirelab-kill-'));
let s: Spawned | null = null;
afterAll(async () => {
  await s?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const lab = twoHostLab;

/** What the writers had acknowledged when the server stopped, and what was in flight. */
interface Acked {
  x: number;
  desc: number;
  snapshots: string[];
  imports: string[];
}

it('labs survive SIGKILL and SIGTERM in the middle of saves, snapshots and imports', async () => {
  const r = rng(SEED);
  s = await spawnServer(dir, { logLevel: 'warn' });
  let api = new Api(s.url);
  await api.expect(201, 'POST', '/labs', lab('k', 'base'));
  await api.expect(201, 'POST', '/labs', lab('w', 'v0'));
  const archive = Buffer.from(await (await fetch(`${s.url}/api/v1/labs/k/export`)).arrayBuffer()).toString('base64');
  const acked: Acked = { x: 0, desc: 0, snapshots: [], imports: [] };
  let seq = 0;

  for (let cycle = 0; cycle < 4; cycle++) {
    const signal = cycle % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
    await api.expect(200, 'POST', '/labs/k/start');
    let stop = false;
    const until = async (write: () => Promise<void>) => {
      while (!stop) await write().catch(() => undefined);
    };
    const writers = [
      until(async () => {
        const x = ++seq;
        const reply = await api.patch('/labs/k/nodes/pc1', { ui: { x, y: 1 } });
        if (reply.status === 200) acked.x = x;
      }),
      until(async () => {
        const d = ++seq;
        const reply = await api.put('/labs/w', lab('w', `v${d}`));
        if (reply.status === 200) acked.desc = d;
      }),
      until(async () => {
        const name = `s${++seq}`;
        const reply = await api.post('/labs/k/snapshots', { name });
        if (reply.status === 201) acked.snapshots.push(name);
      }),
      until(async () => {
        const name = `imp${++seq}`;
        const reply = await api.post('/labs/import', { archive, as: name });
        if (reply.status === 201) acked.imports.push(name);
      }),
    ];
    await new Promise((res) => setTimeout(res, 300 + Math.floor(r() * 1500)));
    const xBefore = acked.x;
    await s.kill(signal);
    stop = true;
    await Promise.all(writers);
    expect(acked.x, `cycle ${cycle}: some writes were acknowledged`).toBeGreaterThanOrEqual(xBefore);

    s = await spawnServer(dir, { logLevel: 'warn' });
    api = new Api(s.url);
    expect(tempFolders(dir), `cycle ${cycle} (${signal}): temporary folders swept`).toEqual([]);
    const list = (await api.expect(200, 'GET', '/labs')).body as { name: string; problems?: unknown[] }[];
    for (const l of list) {
      const text = readFileSync(join(dir, l.name, 'lab.yaml'), 'utf8');
      const loaded = loadLabText(text, `${l.name}/lab.yaml`, { folderName: l.name });
      expect(loaded.ok, `cycle ${cycle} (${signal}): ${l.name}/lab.yaml is valid`).toBe(true);
    }
    const names = list.map((l) => l.name);
    // The last acknowledged edit, or the one in flight after it: nothing older.
    const x = (await api.expect(200, 'GET', '/labs/k/nodes/pc1')).body.ui?.x ?? 0;
    expect(x === acked.x || x > acked.x, `cycle ${cycle} (${signal}): pc1 at x=${x}, last acknowledged ${acked.x}`).toBe(true);
    const desc = Number(String((await api.expect(200, 'GET', '/labs/w')).body.file.description).slice(1));
    expect(desc >= acked.desc, `cycle ${cycle} (${signal}): w is v${desc}, last acknowledged v${acked.desc}`).toBe(true);
    const snaps = ((await api.expect(200, 'GET', '/labs/k/snapshots')).body as { name: string }[]).map((x) => x.name);
    for (const name of acked.snapshots) {
      expect(snaps, `cycle ${cycle} (${signal}): acknowledged snapshot ${name}`).toContain(name);
      expect(existsSync(join(dir, 'k', 'snapshots', name, 'lab.yaml'))).toBe(true);
    }
    for (const name of acked.imports) expect(names, `cycle ${cycle} (${signal}): acknowledged import ${name}`).toContain(name);
    console.log(`cycle ${cycle} ${signal}: x=${x} (acked ${acked.x}), w v${desc} (acked v${acked.desc}), ${acked.snapshots.length} snapshots, ${acked.imports.length} imports`);
  }
  // A snapshot taken before the kills still restores.
  if (acked.snapshots.length > 0) await api.expect(200, 'POST', `/labs/k/snapshots/${acked.snapshots[0]}/restore`);
}, 180_000);
