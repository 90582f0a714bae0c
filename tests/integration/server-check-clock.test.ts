/**
 * Check times through the API on a real-time lab left idle: `durationNs` is whole nanoseconds
 * and no longer than the request took (an idle lab's clock used to lag wall time by the idle spell).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestServer, eventually, startTestServer } from './server-harness.js';

let t: TestServer;

const LAB = `wirelab: 1
name: idle
time: real
nodes:
  pc1: { kind: host, interfaces: { eth0: { ip: 10.0.0.1/24 } } }
  pc2: { kind: host, interfaces: { eth0: { ip: 10.0.0.2/24 } } }
  sw1: { kind: switch, stp: false }
links:
  - [pc1:eth0, sw1:e1]
  - [pc2:eth0, sw1:e2]
checks:
  - { name: pc1 reaches pc2, ping: { from: pc1, to: pc2, count: 1 } }
`;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

test('a check on an idle real-time lab reports a whole-nanosecond duration within the request time', async () => {
  await t.api.expect(201, 'POST', '/labs', { name: 'idle' });
  writeFileSync(join(t.dir, 'idle', 'lab.yaml'), LAB);
  await eventually(async () => (await t.api.get('/labs/idle')).body.nodeCount === 3, 10_000, 'the lab file');
  await t.api.expect(200, 'POST', '/labs/idle/start');
  const first = (await t.api.expect(200, 'POST', '/labs/idle/checks/run')).body;
  expect(first[0].passed).toBe(true);
  // Nothing is scheduled now: the engine sleeps and no slice moves its clock.
  await new Promise((r) => setTimeout(r, 1500));
  const w0 = performance.now();
  const results = (await t.api.expect(200, 'POST', '/labs/idle/checks/run')).body as { passed: boolean; detail: string; durationNs: number }[];
  const wallNs = (performance.now() - w0) * 1e6;
  expect(results[0]!.passed).toBe(true);
  expect(Number.isInteger(results[0]!.durationNs), String(results[0]!.durationNs)).toBe(true);
  expect(results[0]!.durationNs).toBeLessThanOrEqual(wallNs);
  const rttMs = Number(/rtt avg ([\d.]+) ms/.exec(results[0]!.detail)?.[1]);
  expect(rttMs).toBeLessThanOrEqual(wallNs / 1e6);
  await t.api.expect(200, 'POST', '/labs/idle/stop');
}, 30_000);
