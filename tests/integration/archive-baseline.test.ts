/**
 * `.wlab` archives exported by an earlier wirelab (tests/fixtures/archives, see SOURCES.md there)
 * still import: the lab file, its snapshots, and a live snapshot that restores into a running lab
 * whose checks pass. Renaming or splitting a class the snapshot registry knows must keep these.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from './server-harness.js';

let t: TestServer | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

const archive = (name: string) => readFileSync(new URL(`../fixtures/archives/${name}`, import.meta.url)).toString('base64');

describe('archives from an earlier wirelab', () => {
  it('office with a live snapshot: imports, restores running, and its checks pass', async () => {
    t = await startTestServer();
    const imported = (await t.api.expect(201, 'POST', '/labs/import', { archive: archive('office-live.wlab') })).body;
    expect(imported.lab.name).toBe('office');
    expect(imported.snapshots).toEqual(['live']);
    const restored = (await t.api.expect(200, 'POST', '/labs/office/snapshots/live/restore')).body;
    expect(restored.lab.status).toBe('running');
    expect(restored.restoredObjects).toBeGreaterThan(500);
    const checks = (await t.api.expect(200, 'POST', '/labs/office/checks/run')).body as { name: string; passed: boolean; detail: string }[];
    expect(checks.length).toBeGreaterThan(5);
    for (const c of checks) expect(c.passed, `${c.name}: ${c.detail}`).toBe(true);
    await t.api.expect(200, 'POST', '/labs/office/stop');
  });

  it('triangle with a snapshot of the stopped lab: imports and restores stopped', async () => {
    t = await startTestServer();
    const imported = (await t.api.expect(201, 'POST', '/labs/import', { archive: archive('triangle.wlab'), as: 'tri' })).body;
    expect(imported.snapshots).toEqual(['stopped-before']);
    const restored = (await t.api.expect(200, 'POST', '/labs/tri/snapshots/stopped-before/restore')).body;
    expect(restored.lab.status).toBe('stopped');
    const nodes = (await t.api.expect(200, 'GET', '/labs/tri/nodes')).body as { name: string }[];
    expect(nodes.map((n) => n.name).sort()).toEqual(['h1', 'h3', 'r1', 'r2', 'r3']);
  });
});
