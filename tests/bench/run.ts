/**
 * `npm run bench [-- GROUP...]`: prints one JSON line per figure,
 * {"name": "group.figure", "value": N, "unit": "...", "target": N}.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { engineBench } from './engine.bench.js';
import { devicesBench } from './devices.bench.js';
import { switchBench } from './switch.bench.js';
import { routerBench } from './router.bench.js';
import { hostBench } from './host.bench.js';
import { serverBench } from './server.bench.js';
import { tcpBench } from './tcp.bench.js';
import { consoleBench } from './console.bench.js';
import { snapshotBench } from './snapshot.bench.js';
import { bridgeBench } from './bridge.bench.js';
import { natBench } from './nat.bench.js';
import { clientBench } from './client.bench.js';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  target: number;
}

const groups: Record<string, () => Promise<Figure[]>> = {
  engine: engineBench,
  server: serverBench,
  tcp: async () => [...(await tcpBench()), ...(await natBench())],
  snapshot: snapshotBench,
  bridge: bridgeBench,
  client: clientBench,
  devices: async () => [...(await switchBench()), ...(await routerBench()), ...(await hostBench()), ...(await consoleBench()), ...(await devicesBench())],
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const w of wanted) {
  if (!(w in groups)) {
    console.error(`unknown bench group "${w}"; groups: ${Object.keys(groups).join(', ')}`);
    process.exit(2);
  }
}
const selected = Object.keys(groups).filter((name) => wanted.length === 0 || wanted.includes(name));
if (selected.length === 1) {
  for (const f of await groups[selected[0]!]!()) console.log(JSON.stringify(f));
} else {
  // One process per group: a group's figures must not pay for the previous group's heap and
  // garbage (idle CPU and throughput figures fell by a third when every group shared a process).
  let failed = 0;
  for (const name of selected) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name], { stdio: 'inherit' });
    if (r.status !== 0) {
      failed++;
      console.error(`bench group ${name} failed (exit ${r.status ?? r.signal})`);
    }
  }
  if (failed) process.exit(1);
}
