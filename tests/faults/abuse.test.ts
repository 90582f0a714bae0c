/**
 * Telnet and WebSocket abuse (abuse.ts: never-reading clients, IAC AYT and option storms, lines
 * without end, message floods, subscription churn, connection churn) for 15 s against a server
 * in its own process, while GET /api/v1/labs is timed.
 *
 * Bounds (generous: CI's two cores also run other test files; the bench measures the real
 * figures against 100 ms and 100 MB): every GET answers 200; p99 under 1.5 s, none over 8 s; the
 * server's RSS once the abuse stopped is at most 150 MB above where it began, and never more
 * than 400 MB above during it. Afterwards a new telnet client gets a working console.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { prepareAbuseLab, runAbuse } from './abuse.js';
import { type Spawned, spawnServer } from './spawned.js';

let s: Spawned;
let port: number;
const dir = mkdtempSync(join(tmpdir(), 'wirelab-abuse-'));

beforeAll(async () => {
  s = await spawnServer(dir, { logLevel: 'error' });
  port = await prepareAbuseLab(s.url, 'abuse');
});
afterAll(async () => {
  await s?.kill();
  rmSync(dir, { recursive: true, force: true });
});

it('the API keeps answering and memory stays bounded under telnet and WebSocket abuse', async () => {
  const r = await runAbuse({ url: s.url, lab: 'abuse', node: 'r1', telnetPort: port, rssMb: () => s.rssMb() }, 15_000);
  console.log(
    `abuse: ${r.latencies.length} GETs, p99 ${r.p99.toFixed(1)} ms, worst ${r.worst.toFixed(1)} ms, RSS ${r.rssBefore.toFixed(0)} -> max ${r.rssMax.toFixed(0)} -> ${r.rssAfter.toFixed(0)} MB; rounds ${JSON.stringify(r.rounds)}`,
  );
  expect(r.failures).toBe(0);
  expect(r.latencies.length).toBeGreaterThan(20);
  expect(r.p99).toBeLessThan(1_500);
  expect(r.worst).toBeLessThan(8_000);
  expect(r.rssAfter - r.rssBefore).toBeLessThan(150);
  expect(r.rssMax - r.rssBefore).toBeLessThan(400);
  expect(s.proc.exitCode).toBe(null);

  // The console still works for a new client.
  const sock = connect(port, '127.0.0.1');
  let text = '';
  sock.on('data', (d: Buffer) => (text = (text + d.toString('latin1')).slice(-8192)));
  sock.on('error', () => undefined);
  const deadline = Date.now() + 15_000;
  while (!/10\.9\.0\.1/.test(text)) {
    expect(Date.now() < deadline, `the console answers after the abuse; saw ${JSON.stringify(text.slice(-300))}`).toBe(true);
    sock.write('\r\nshow ip interface brief\r\n');
    await new Promise((res) => setTimeout(res, 500));
  }
  sock.destroy();
}, 90_000);
