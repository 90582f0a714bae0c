/**
 * Live snapshot figures of issue 9, on a running 1,000-node lab (1,000 hosts on one switch, every
 * host in the middle of a ping sequence to its neighbour):
 * - snapshot.take_ms: what a user waits for when taking a snapshot through the server: the
 *   HTTP request `POST /labs/{lab}/snapshots` on a real server over a temporary labs folder, i.e.
 *   record the runtime, encode it, gzip it, write the snapshot's folder durably (fsync) under a
 *   temporary name and rename it into place (server/snapshots.ts);
 * - snapshot.restore_ms: the same for `POST /labs/{lab}/snapshots/{snap}/restore`: read state.bin
 *   and lab.yaml, gunzip, decode, check the lab file, write lab.yaml, restore the running lab in place;
 * - snapshot.size_kb: state.bin as the server stored it;
 * - snapshot.take_memory_ms / snapshot.restore_memory_ms: the in-memory part alone
 *   (captureRuntime + encodeState, decodeState + restoreRuntime), on the same lab in virtual time.
 * The server figures are wall time (disk waits are part of them), best of five; the in-memory
 * figures are CPU time of this process (user + system), best of five, as the router bench
 * measures: on a shared machine wall time mostly measures the neighbours.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateLab } from '../../devices/lab/schema.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import { captureRuntime, decodeState, encodeState, restoreRuntime } from '../../devices/snapshot/index.js';
import { startServer } from '../../server/app.js';
import { flatLab } from './devices.bench.js';
import type { Figure } from './run.js';

const ROUNDS = 5;
const LAB = 'snapbench';

/** Starts every host pinging its neighbour (`count` pings, one a second). */
function pingNeighbours(rt: LabRuntime, count: number): string[] {
  const hosts = rt.nodeNames().filter((n) => rt.host(n));
  hosts.forEach((h, i) => {
    const n = ((i + 1) % hosts.length) + 10;
    rt.host(h)!.ping(`10.0.${(n >> 8) & 255}.${n & 255}`, { count });
  });
  return hosts;
}

function stillPinging(rt: LabRuntime, hosts: string[]): number {
  return hosts.filter((h) => !(rt.host(h) as unknown as { ops: { isDone: boolean }[] }).ops.every((o) => o.isDone)).length;
}

/** Collected before each measure when the runner exposes gc (node --expose-gc), so that the previous round's garbage is not billed to this one. */
const gc = (globalThis as { gc?: () => void }).gc;

/** The in-memory part: capture + encode, decode + restore, on a virtual-time runtime. */
function inMemory(nodes: number): { take: number; restore: number } {
  const v = validateLab(flatLab(LAB, nodes));
  if (!v.ok) throw new Error('bench lab invalid');
  const rt = new LabRuntime(v.lab, { time: 'virtual' });
  rt.start();
  rt.engine.runFor(5e9);
  const hosts = pingNeighbours(rt, 20);
  rt.engine.runFor(5.5e9);

  let take = Infinity;
  let restore = Infinity;
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  for (let i = 0; i < ROUNDS; i++) {
    gc?.();
    const t0 = cpuMs();
    const bytes = encodeState(captureRuntime(rt));
    const t1 = cpuMs();
    gc?.();
    const t1b = cpuMs();
    restoreRuntime(rt, decodeState(bytes), v.lab);
    const t2 = cpuMs();
    take = Math.min(take, t1 - t0);
    restore = Math.min(restore, t2 - t1b);
    // The restored lab runs on: the next round snapshots a lab that moved.
    rt.engine.runFor(100e6);
  }
  const pinging = stillPinging(rt, hosts);
  if (pinging < hosts.length / 2) throw new Error(`the bench lab should be busy: only ${pinging} hosts still pinging`);
  rt.stop();
  return { take, restore };
}

/** Through the server: a real server, its HTTP API, its labs folder in a temporary directory. */
async function throughServer(nodes: number): Promise<{ take: number; restore: number; stateBytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'wirelab-bench-'));
  const server = await startServer({ port: 0, labsDir: dir, logLevel: 'silent', watch: false });
  try {
    const post = async (path: string, body?: unknown): Promise<unknown> => {
      const r = await fetch(`${server.url}/api/v1${path}`, {
        method: 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
      return r.json();
    };
    await post('/labs', flatLab(LAB, nodes));
    await post(`/labs/${LAB}/start`);
    // The server runs labs in real time: let the hosts come up, then keep them all pinging.
    await new Promise((r) => setTimeout(r, 2000));
    const hosts = pingNeighbours(server.labs.runtime(LAB)!, 3600);
    await new Promise((r) => setTimeout(r, 1500));

    let take = Infinity;
    let restore = Infinity;
    for (let i = 0; i < ROUNDS; i++) {
      const name = `round${i}`;
      gc?.();
      const t0 = performance.now();
      const view = (await post(`/labs/${LAB}/snapshots`, { name })) as { live?: boolean };
      const t1 = performance.now();
      if (view.live !== true) throw new Error('snapshot bench: the snapshot taken is not live');
      gc?.();
      const t2 = performance.now();
      await post(`/labs/${LAB}/snapshots/${name}/restore`);
      const t3 = performance.now();
      take = Math.min(take, t1 - t0);
      restore = Math.min(restore, t3 - t2);
      // The restored lab runs on: the next round snapshots a lab that moved.
      await new Promise((r) => setTimeout(r, 100));
    }
    const rt = server.labs.runtime(LAB)!;
    const pinging = stillPinging(rt, hosts);
    if (pinging < hosts.length / 2) throw new Error(`the bench lab should be busy: only ${pinging} hosts still pinging`);
    const stateBytes = statSync(join(dir, LAB, 'snapshots', `round${ROUNDS - 1}`, 'state.bin')).size;
    await post(`/labs/${LAB}/stop`);
    return { take, restore, stateBytes };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function snapshotBench(nodes = 1000): Promise<Figure[]> {
  const memory = inMemory(nodes);
  const served = await throughServer(nodes);
  const ms = (x: number) => Math.round(x * 10) / 10;
  return [
    { name: 'snapshot.take_ms', value: ms(served.take), unit: 'ms', target: 200 },
    { name: 'snapshot.restore_ms', value: ms(served.restore), unit: 'ms', target: 200 },
    { name: 'snapshot.size_kb', value: Math.round(served.stateBytes / 1024), unit: 'KiB', target: 1024 },
    { name: 'snapshot.take_memory_ms', value: ms(memory.take), unit: 'ms', target: 200 },
    { name: 'snapshot.restore_memory_ms', value: ms(memory.restore), unit: 'ms', target: 200 },
  ];
}
