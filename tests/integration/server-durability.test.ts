/**
 * Durability: the server runs as its own process (`wirelab serve` from the TypeScript sources),
 * is killed with SIGKILL while it saves labs as fast as it can, and every lab.yaml is then
 * exactly the old or the new version of that lab, never a torn or empty file; a restarted
 * server loads every lab and sweeps the leftovers of the interrupted writes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { loadLabText } from '../../devices/lab/load.js';
import { validateLab } from '../../devices/lab/schema.js';
import { formatLabFile } from '../../server/lab-yaml.js';
import { Api } from './server-harness.js';
import { serverEntry } from '../faults/spawned.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LABS = ['d1', 'd2', 'd3', 'd4'];
const CYCLES = 3;

/** The server from the TypeScript sources through module hooks (tests/faults/spawned.ts), no build step. */
function writeLauncher(_dir: string): string {
  return serverEntry();
}

interface Child {
  proc: ChildProcess;
  url: string;
  exited: Promise<void>;
}

function startChild(entry: string, labsDir: string): Promise<Child> {
  const proc = spawn(process.execPath, [entry, 'serve', '--port', '0', '--labs', labsDir, '--log-level', 'info'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let out = '';
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in time:\n${out}\n${err}`)), 90_000);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('wirelab server listening')) continue;
        clearTimeout(timer);
        resolvePromise({ proc, url: (JSON.parse(line) as { url: string }).url, exited });
        return;
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening:\n${out}\n${err}`));
    });
  });
}

/** Version n of a lab: its size changes from one version to the next, so a torn file could not pass for either. */
function version(lab: string, n: number): Record<string, unknown> {
  const nodes: Record<string, unknown> = {};
  for (let i = 1; i <= 1 + (n % 9); i++) nodes[`pc${i}`] = { kind: 'host', interfaces: { eth0: { ip: `10.${n % 200}.0.${i}/24` } } };
  nodes['sw1'] = { kind: 'switch', ports: 16 };
  const links = Object.keys(nodes)
    .filter((k) => k !== 'sw1')
    .map((k, i) => [`${k}:eth0`, `sw1:e${i}`]);
  return { wirelab: 1, name: lab, description: `v${n} ${'x'.repeat((n % 50) * 40)}`, nodes, links };
}

function expectedText(lab: string, n: number): string {
  const r = validateLab(version(lab, n), { folderName: lab });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return formatLabFile(r.lab.file);
}

const work = mkdtempSync(join(tmpdir(), 'wirelab-durability-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

describe('a server killed while it saves labs', () => {
  test(`leaves every lab.yaml old or new, never torn (${CYCLES} kills)`, async () => {
    const entry = writeLauncher(work);
    const labsDir = join(work, 'labs');
    const acked = new Map<string, number>(LABS.map((l) => [l, 0]));
    const sent = new Map<string, number>(LABS.map((l) => [l, 0]));
    let totalAcked = 0;

    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const child = await startChild(entry, labsDir);
      children.push(child.proc);
      const api = new Api(child.url);
      if (cycle === 1) {
        for (const lab of LABS) await api.expect(201, 'POST', '/labs', version(lab, 0));
      } else {
        // The restarted server loaded every lab as it was left.
        const list = (await api.expect(200, 'GET', '/labs')).body as { name: string; status: string; description: string }[];
        expect(list.map((l) => l.name)).toEqual(LABS);
        for (const l of list) expect(l.status).toBe('stopped');
      }

      let killed = false;
      const loops = LABS.map(async (lab) => {
        while (!killed) {
          const n = sent.get(lab)! + 1;
          sent.set(lab, n);
          try {
            const r = await api.put(`/labs/${lab}`, version(lab, n));
            if (r.status !== 200) throw new Error(`PUT ${lab} v${n}: ${r.status} ${r.text}`);
            acked.set(lab, n);
            totalAcked++;
          } catch (e) {
            if (killed) return;
            throw e;
          }
        }
      });
      await new Promise((r) => setTimeout(r, 400 + Math.random() * 800));
      killed = true;
      child.proc.kill('SIGKILL');
      await child.exited;
      await Promise.allSettled(loops);

      for (const lab of LABS) {
        const text = readFileSync(join(labsDir, lab, 'lab.yaml'), 'utf8');
        const loaded = loadLabText(text, `${lab}/lab.yaml`, { folderName: lab });
        expect(loaded.ok, `${lab}: ${text.slice(0, 200)}`).toBe(true);
        const n = Number(/^v(\d+)/.exec(loaded.ok ? loaded.lab.description : '')?.[1]);
        // Old or new: at least the last version the server acknowledged, at most the last one sent.
        expect(n).toBeGreaterThanOrEqual(acked.get(lab)!);
        expect(n).toBeLessThanOrEqual(sent.get(lab)!);
        expect(text).toBe(expectedText(lab, n));
        // The loop continues from what is on disk.
        acked.set(lab, n);
        sent.set(lab, n);
      }
    }
    expect(totalAcked).toBeGreaterThan(CYCLES * LABS.length);

    // A last start sweeps the temporary files of the interrupted writes.
    const child = await startChild(entry, labsDir);
    children.push(child.proc);
    const list = (await new Api(child.url).expect(200, 'GET', '/labs')).body as { name: string }[];
    expect(list.map((l) => l.name)).toEqual(LABS);
    for (const lab of LABS) expect(readdirSync(join(labsDir, lab))).toEqual(['lab.yaml']);
    child.proc.kill('SIGTERM');
    await child.exited;
    expect(child.proc.exitCode).toBe(0);
  }, 300_000);
});

function tempsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.wirelab-tmp-')) out.push(join(dir, e.name));
    else if (e.isDirectory()) out.push(...tempsUnder(join(dir, e.name)));
  }
  return out;
}

describe('a server killed while it takes snapshots', () => {
  test('restarts with every acknowledged snapshot whole and restorable, and no temporary folders (2 kills)', async () => {
    const entry = writeLauncher(work);
    const labsDir = join(work, 'snaplabs');
    const acked = new Set<string>();
    for (let cycle = 1; cycle <= 2; cycle++) {
      const child = await startChild(entry, labsDir);
      children.push(child.proc);
      const api = new Api(child.url);
      if (cycle === 1) await api.expect(201, 'POST', '/labs', version('office', 3));
      await api.expect(200, 'POST', '/labs/office/start');
      let killed = false;
      const failures: string[] = [];
      // Three clients taking snapshots at the same time, as fast as the server answers.
      const loops = [0, 1, 2].map(async () => {
        while (!killed && failures.length === 0) {
          const r = await api.post('/labs/office/snapshots', {}).catch(() => null);
          if (r === null && !killed) failures.push('the server did not answer before it was killed');
          if (r === null || killed) return;
          if (r.status === 201) acked.add((r.body as { name: string }).name);
          else failures.push(`snapshot: ${r.status} ${r.text}`);
        }
      });
      await new Promise((r) => setTimeout(r, 400 + Math.random() * 800));
      killed = true;
      child.proc.kill('SIGKILL');
      await child.exited;
      await Promise.all(loops);
      expect(failures).toEqual([]);
    }
    expect(acked.size).toBeGreaterThan(0);

    const child = await startChild(entry, labsDir);
    children.push(child.proc);
    const api = new Api(child.url);
    expect(tempsUnder(labsDir)).toEqual([]);
    const list = (await api.expect(200, 'GET', '/labs/office/snapshots')).body as { name: string; parent: string | null }[];
    const names = new Set(list.map((s) => s.name));
    for (const n of acked) expect(names.has(n), `acknowledged snapshot ${n}`).toBe(true);
    for (const s of list) {
      expect(s.parent === null || names.has(s.parent), `${s.name}'s parent ${s.parent}`).toBe(true);
      expect((await api.post(`/labs/office/snapshots/${s.name}/restore`)).status, `restore ${s.name}`).toBe(200);
    }
    child.proc.kill('SIGTERM');
    await child.exited;
  }, 300_000);
});
