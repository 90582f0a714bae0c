/**
 * Big lab files: how long loadLabText takes per MB of a realistic lab.yaml (a 20,000-hub lab,
 * about 0.5 MB, median of five loads), and how long one PATCH of one node of a 25,000-hub lab
 * takes through a real server's HTTP API (validate the whole lab, format, atomic write; lab
 * stopped): the first one (which formats every node of a file read from disk) and the median of
 * the next five (which format only the node that changed).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLabText } from '../../devices/lab/load.js';
import { startServer } from '../../server/app.js';
import type { Figure } from './run.js';

function hubLab(name: string, n: number): string {
  const lines = ['wirelab: 1', `name: ${name}`, '', 'nodes:'];
  for (let i = 0; i < n; i++) lines.push(`  hub${i}:`, '    kind: hub');
  return lines.join('\n') + '\n';
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function labFileBench(): Promise<Figure[]> {
  const text = hubLab('big', 20_000);
  const loads: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    const r = loadLabText(text, 'big/lab.yaml', { folderName: 'big' });
    if (!r.ok) throw new Error('the generated lab did not load');
    if (i > 0) loads.push(performance.now() - t0);
  }
  const mb = Buffer.byteLength(text) / 1e6;

  const dir = mkdtempSync(join(tmpdir(), 'wirelab-bench-'));
  mkdirSync(join(dir, 'big'));
  writeFileSync(join(dir, 'big', 'lab.yaml'), hubLab('big', 25_000));
  const server = await startServer({ port: 0, labsDir: dir, logLevel: 'silent', watch: false });
  try {
    const patch = async (k: number) => {
      const t0 = performance.now();
      const r = await fetch(`${server.url}/api/v1/labs/big/nodes/hub${k * 997}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', ...(server.token ? { authorization: `Bearer ${server.token}` } : {}) },
        body: JSON.stringify({ ui: { x: k, y: 1 } }),
      });
      if (!r.ok) throw new Error(`PATCH: ${r.status} ${await r.text()}`);
      return performance.now() - t0;
    };
    const first = await patch(0);
    const next: number[] = [];
    for (let k = 1; k <= 5; k++) next.push(await patch(k));
    return [
      { name: 'server.lab_load_ms_per_mb', value: Math.round(median(loads) / mb), unit: 'ms/MB', target: 1000 },
      { name: 'server.lab_patch25k_first_ms', value: Math.round(first), unit: 'ms', target: 2000 },
      { name: 'server.lab_patch25k_ms', value: Math.round(median(next)), unit: 'ms', target: 500 },
    ];
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
