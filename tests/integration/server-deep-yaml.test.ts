/**
 * A lab.yaml nested thousands deep (10 KB of brackets) is a lab with a problem: the server starts
 * and lists it with the problem at its line and column, and a running server that sees such a
 * hand edit keeps the lab listed with the problem instead of crashing or losing it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { type TestServer, eventually, startTestServer } from './server-harness.js';

const DEEP = (name: string) => `wirelab: 1\nname: ${name}\ndescription: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;

const dir = mkdtempSync(join(tmpdir(), 'wirelab-deep-'));
let t: TestServer | undefined;
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the server starts with a deeply nested lab.yaml and lists the lab with its problem', { timeout: 30_000 }, async () => {
  mkdirSync(join(dir, 'deep'));
  writeFileSync(join(dir, 'deep', 'lab.yaml'), DEEP('deep'));
  mkdirSync(join(dir, 'fine'));
  writeFileSync(join(dir, 'fine', 'lab.yaml'), 'wirelab: 1\nname: fine\nnodes:\n  pc1:\n    kind: host\n');
  t = await startTestServer({ labsDir: dir });
  const list = await t.api.expect(200, 'GET', '/labs');
  const deep = list.body.find((l: { name: string }) => l.name === 'deep');
  expect(deep, list.text).toBeDefined();
  expect(deep.status).toBe('invalid');
  const view = await t.api.expect(200, 'GET', '/labs/deep');
  expect(view.body.problems?.[0]?.text).toMatch(/^deep\/lab\.yaml:3:\d+: \(syntax\): nested more than \d+ levels deep/);
  expect(list.body.find((l: { name: string }) => l.name === 'fine')?.status).toBe('stopped');

  // The same hand edit while the server runs: the lab stays listed, with the problem.
  writeFileSync(join(dir, 'fine', 'lab.yaml'), DEEP('fine'));
  await eventually(async () => {
    const l = (await t!.api.get('/labs/fine')).body;
    return /nested more than/.test(JSON.stringify(l?.problems ?? null));
  }, 10_000, 'the running server to list the deep lab with its problem');
  expect((await t.api.get('/labs')).body.map((l: { name: string }) => l.name).sort()).toEqual(['deep', 'fine']);
});
