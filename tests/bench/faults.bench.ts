/**
 * The server under telnet and WebSocket abuse (tests/faults/abuse.ts: never-reading clients,
 * IAC AYT and option storms, lines without end, message floods, subscription and connection
 * churn, ping traffic) for 30 s, against `wirelab serve` in a process of its own:
 *
 * - faults.api_p99_ms_under_abuse: p99 of GET /api/v1/labs, timed every 25 ms from a worker
 *   thread of the bench process (so the abusers' own work is not counted);
 * - faults.rss_growth_mb: the server process's peak RSS during the run (and 2 s after it) minus
 *   its RSS before it, from /proc/PID/status.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareAbuseLab, runAbuse } from '../faults/abuse.js';
import { spawnServer } from '../faults/spawned.js';
import type { Figure } from './run.js';

export async function faultsBench(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'wirelab-faults-bench-'));
  const server = await spawnServer(dir, { logLevel: 'error' });
  try {
    const port = await prepareAbuseLab(server.url, 'abuse');
    // Let the started lab settle before the baseline is taken.
    await new Promise((r) => setTimeout(r, 2_000));
    const r = await runAbuse({ url: server.url, lab: 'abuse', node: 'r1', telnetPort: port, rssMb: () => server.rssMb() }, 30_000);
    if (r.failures > 0) throw new Error(`${r.failures} of ${r.latencies.length} GETs failed under abuse`);
    if (server.proc.exitCode !== null) throw new Error('the server exited during the abuse');
    return [
      { name: 'faults.api_p99_ms_under_abuse', value: Math.round(r.p99 * 10) / 10, unit: 'ms', target: 100 },
      { name: 'faults.rss_growth_mb', value: Math.round((r.rssMax - r.rssBefore) * 10) / 10, unit: 'MB', target: 100 },
    ];
  } finally {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
