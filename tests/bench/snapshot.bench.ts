/**
 * Live snapshot figures of issue 9, on a running 1,000-node lab (1,000 hosts on one switch, every
 * host half-way through a ping sequence to its neighbour):
 * - snapshot.take_ms: record the whole runtime and encode it as the state file's bytes (what
 *   pauses the lab; the server then gzips and writes off the event loop);
 * - snapshot.restore_ms: decode those bytes and restore the running lab in place;
 * - snapshot.size_kb: the state file as stored (gzip level 1).
 * Times are CPU time of this process (user + system), best of five runs, as the router bench
 * measures: on a shared machine wall time mostly measures the neighbours.
 */
import { gzipSync } from 'node:zlib';
import { validateLab } from '../../devices/lab/schema.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import { captureRuntime, decodeState, encodeState, restoreRuntime } from '../../devices/snapshot/index.js';
import { flatLab } from './devices.bench.js';
import type { Figure } from './run.js';

export async function snapshotBench(nodes = 1000): Promise<Figure[]> {
  const v = validateLab(flatLab('snapbench', nodes));
  if (!v.ok) throw new Error('bench lab invalid');
  const rt = new LabRuntime(v.lab, { time: 'virtual' });
  rt.start();
  rt.engine.runFor(5e9);
  const hosts = rt.nodeNames().filter((n) => rt.host(n));
  hosts.forEach((h, i) => {
    const n = ((i + 1) % hosts.length) + 10;
    rt.host(h)!.ping(`10.0.${(n >> 8) & 255}.${n & 255}`, { count: 20 });
  });
  rt.engine.runFor(5.5e9);

  let take = Infinity;
  let restore = Infinity;
  let bytes: Uint8Array = new Uint8Array(0);
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  // Collected before each measure when the runner exposes gc (node --expose-gc), so that the
  // previous round's garbage is not billed to this one.
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 5; i++) {
    gc?.();
    const t0 = cpuMs();
    bytes = encodeState(captureRuntime(rt));
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
  const pinging = hosts.filter((h) => !(rt.host(h) as unknown as { ops: { isDone: boolean }[] }).ops.every((o) => o.isDone)).length;
  if (pinging < hosts.length / 2) throw new Error(`the bench lab should be busy: only ${pinging} hosts still pinging`);
  const sizeKb = gzipSync(bytes, { level: 1 }).length / 1024;
  rt.stop();
  return [
    { name: 'snapshot.take_ms', value: Math.round(take * 10) / 10, unit: 'ms', target: 200 },
    { name: 'snapshot.restore_ms', value: Math.round(restore * 10) / 10, unit: 'ms', target: 200 },
    { name: 'snapshot.size_kb', value: Math.round(sizeKb), unit: 'KiB', target: 1024 },
  ];
}
