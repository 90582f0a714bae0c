/**
 * Hostile API bodies and names, generated from a fixed seed: built-in property names, path
 * tricks, wrong types in every field of valid bodies, deep nesting, huge arrays and strings.
 * Every answer is below 500; every 400 names the field at fault; afterwards the lab's file on
 * disk is valid and GET of the lab equals it. 600 requests, about 15 s.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabText } from '../../devices/lab/load.js';
import { type Reply, type TestServer, startTestServer } from '../integration/server-harness.js';
import { rng } from './spawned.js';

let t: TestServer;
const SEED = 0x5eed15;

const NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', '..', '%2e%2e', '%2F', 'a%00b', 'x'.repeat(300), ' ', 'ü', '😀', 'CON', 'sw1', 'pc1'];

function deep(n: number, open = '[', close = ']'): string {
  return open.repeat(n) + close.repeat(n);
}

/** Values that are wrong almost anywhere. */
function hostileValue(r: () => number): unknown {
  const pool: (() => unknown)[] = [
    () => null,
    () => -1,
    () => 1e308,
    () => 2 ** 53 + 1,
    () => 'x',
    () => '',
    () => true,
    () => [],
    () => ({}),
    () => ({ __proto__: { kind: 'host' } }),
    () => JSON.parse('{"__proto__": {"polluted": 1}}'),
    () => ({ constructor: { prototype: { polluted: 1 } } }),
    () => JSON.parse(deep(60)),
    () => Array.from({ length: 20_000 }, (_, i) => i),
    () => 'y'.repeat(200_000),
    () => NAMES[Math.floor(r() * NAMES.length)],
    () => ({ toString: 1, valueOf: 2 }),
  ];
  return pool[Math.floor(r() * pool.length)]!();
}

/** A valid body with one field (at any depth) replaced by a hostile value, or a key added. */
function mutate(body: unknown, r: () => number): unknown {
  if (body === null || typeof body !== 'object') return hostileValue(r);
  const copy: any = Array.isArray(body) ? [...body] : { ...body };
  const keys = Object.keys(copy);
  if (keys.length === 0 || r() < 0.15) {
    Object.defineProperty(copy, NAMES[Math.floor(r() * NAMES.length)]!, { value: hostileValue(r), enumerable: true, writable: true, configurable: true });
    return copy;
  }
  const k = keys[Math.floor(r() * keys.length)]!;
  copy[k] = r() < 0.5 ? hostileValue(r) : mutate(copy[k], r);
  return copy;
}

const LAB = {
  name: 'f',
  networks: { seg: { type: 'segment' } },
  nodes: {
    pc1: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24', gateway: '10.0.0.254' } } },
    r1: { kind: 'router', interfaces: { 'g0/0': { ip: '10.0.0.254/24' } } },
    sw1: { kind: 'switch', ports: 8 },
  },
  links: [
    ['pc1:eth0', 'sw1:e1'],
    ['r1:g0/0', 'sw1:e2'],
  ],
  checks: [{ name: 'p', ping: { from: 'pc1', to: '10.0.0.254' } }],
};

/** Routes and a valid body for each; {name} is replaced by a hostile or ordinary name. */
const ROUTES: [string, string, unknown][] = [
  ['POST', '/labs', { ...LAB, name: 'g' }],
  ['PUT', '/labs/f', LAB],
  ['POST', '/labs/f/nodes', { name: 'pc9', kind: 'host', interfaces: { eth0: { ip: '10.0.0.9/24' } } }],
  ['PUT', '/labs/f/nodes/{name}', { kind: 'host', interfaces: { eth0: { dhcp: true } } }],
  ['PATCH', '/labs/f/nodes/{name}', { ui: { x: 10, y: 20 } }],
  ['POST', '/labs/f/nodes/{name}/clone', { name: 'pc8' }],
  ['POST', '/labs/f/networks', { name: 'n9', type: 'segment' }],
  ['PATCH', '/labs/f/networks/{name}', { ui: { x: 1, y: 2 } }],
  ['POST', '/labs/f/links', { endpoints: ['r1:g0/1', 'seg'], delay: '5ms' }],
  ['PUT', '/labs/f/links/{name}/impairments', { delay: '1ms', loss: '1%' }],
  ['POST', '/labs/f/checks', { name: 'q', ping: { from: 'pc1', to: '10.0.0.1' } }],
  ['POST', '/labs/f/snapshots', { name: 's', description: 'd' }],
  ['POST', '/labs/f/clone', { name: 'c1', mode: 'full' }],
  ['POST', '/labs/f/captures', { link: 'pc1:eth0--sw1:e1' }],
  ['GET', '/labs/{name}', undefined],
  ['DELETE', '/labs/f/nodes/{name}', undefined],
  ['DELETE', '/labs/f/networks/{name}', undefined],
  ['GET', '/labs/f/links/{name}', undefined],
];

function checkReply(what: string, r: Reply): void {
  expect(r.status, `${what} -> ${r.status} ${r.text.slice(0, 300)}`).toBeLessThan(500);
  expect(r.status, `${what} -> ${r.status}`).toBeGreaterThanOrEqual(200);
  if (r.status === 400) {
    const fields = (r.body?.details ?? []).map((d: { field?: unknown }) => d.field);
    expect(fields.length, `${what}: a 400 names the field at fault: ${r.text.slice(0, 300)}`).toBeGreaterThan(0);
    for (const f of fields) expect(typeof f, `${what}: ${r.text.slice(0, 300)}`).toBe('string');
  }
}

beforeAll(async () => {
  t = await startTestServer();
  await t.api.expect(201, 'POST', '/labs', LAB);
});
afterAll(async () => {
  await t?.close();
});

async function labEqualsDisk(name: string): Promise<void> {
  const text = readFileSync(join(t.dir, name, 'lab.yaml'), 'utf8');
  const loaded = loadLabText(text, `${name}/lab.yaml`, { folderName: name });
  if (!loaded.ok) throw new Error(`lab.yaml of ${name} does not load: ${JSON.stringify(loaded.errors).slice(0, 500)}`);
  const view = (await t.api.expect(200, 'GET', `/labs/${name}`)).body;
  expect(view.file).toEqual(JSON.parse(JSON.stringify(loaded.lab.file)));
}

describe('hostile API input', () => {
  it('600 seeded hostile requests: never a 500, every 400 names its field, the lab stays equal to its file', async () => {
    const r = rng(SEED);
    const statuses: Record<number, number> = {};
    for (let i = 0; i < 600; i++) {
      const [method, template, body] = ROUTES[Math.floor(r() * ROUTES.length)]!;
      const name = NAMES[Math.floor(r() * NAMES.length)]!;
      const path = template.replace('{name}', name.startsWith('%') ? name : encodeURIComponent(name));
      const sent = body === undefined ? undefined : r() < 0.9 ? mutate(body, r) : hostileValue(r);
      const reply = await t.api.request(method, path, sent);
      checkReply(`case ${i} (seed ${SEED}): ${method} ${path} ${JSON.stringify(sent)?.slice(0, 200)}`, reply);
      statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
      // Captures and clones made by a lucky valid body are let go, so the run stays bounded.
      if (reply.status === 201 && path === '/labs/f/captures') await t.api.delete(`/labs/f/captures/${reply.body.id}`);
    }
    console.log(`statuses: ${JSON.stringify(statuses)}`);
    // Not all refused at the door: some hostile names and values are valid and taken.
    expect(Object.keys(statuses).some((k) => Number(k) < 300)).toBe(true);
    await labEqualsDisk('f');
  }, 120_000);

  it('100,000 levels of nesting, a huge array and a huge key count: 4xx with the field, quickly', async () => {
    for (const [open, close] of [
      ['[', ']'],
      ['{"a":', '}'],
    ] as const) {
      const raw = open.repeat(100_000) + '1' + close.repeat(100_000);
      const start = performance.now();
      const reply = await t.api.request('POST', '/labs', undefined, { raw, headers: { 'content-type': 'application/json' } });
      checkReply('deep body', reply);
      expect(reply.status).toBe(400);
      expect(performance.now() - start).toBeLessThan(5_000);
    }
    const links = Array.from({ length: 60_000 }, (_, i) => [`pc${i}:eth0`, `sw1:e${i}`]);
    checkReply('60,000 links', await t.api.put('/labs/f', { ...LAB, links }));
    const nodes: Record<string, unknown> = {};
    for (let i = 0; i < 40_000; i++) nodes[`n${i}`] = { kind: 'hub' };
    const many = await t.api.put('/labs/f', { ...LAB, nodes });
    checkReply('40,000 hub nodes', many);
    checkReply('a 2 MB body', await t.api.post('/labs', { name: 'big', description: 'z'.repeat(2 << 20) }));
    await t.api.put('/labs/f', LAB);
    await labEqualsDisk('f');
  }, 120_000);
});
