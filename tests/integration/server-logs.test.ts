/**
 * The server log at the default level: refusals (400, 401, 404, 409) are logged at info with the
 * route pattern, the status and the field at fault, an import is logged like a clone, and no line
 * carries the token (right or wrong) or a request body.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { pino } from 'pino';
import { Api, type TestServer, WsClient, startTestServer } from './server-harness.js';

const TOKEN = 'log-test-token-0123456789abcdef';
const WRONG = 'wrong-token-fedcba9876543210';
const lines: string[] = [];
let t: TestServer;

beforeAll(async () => {
  const logger = pino({ level: 'info', base: undefined }, { write: (s: string) => void lines.push(s) });
  t = await startTestServer({ token: TOKEN, logger });
  await t.api.expect(201, 'POST', '/labs', { name: 'logged', nodes: { pc1: { kind: 'host' } } });
}, 20_000);
afterAll(async () => {
  await t?.close();
});

const logged = () => lines.map((l) => JSON.parse(l) as Record<string, any>);
const refusal = (status: number, route: string) => logged().find((l) => l['status'] === status && l['route'] === route && l['level'] === 30);

test('a bad field (400) is logged at info with the route and the field', async () => {
  const r = await t.api.request('POST', '/labs/logged/nodes', { name: 'pc2', kind: 'toaster' });
  expect(r.status).toBe(400);
  const line = refusal(400, '/labs/{lab}/nodes');
  expect(line).toMatchObject({ method: 'POST', status: 400, route: '/labs/{lab}/nodes' });
  expect(line!['field']).toBe(r.body.details[0].field);
  expect(JSON.stringify(lines)).not.toContain('toaster');
});

test('a conflict (409) and an unknown lab (404) are logged at info', async () => {
  expect((await t.api.request('POST', '/labs', { name: 'logged' })).status).toBe(409);
  expect(refusal(409, '/labs')).toMatchObject({ method: 'POST' });
  expect((await t.api.get('/labs/nosuch')).status).toBe(404);
  expect(refusal(404, '/labs/{lab}')).toMatchObject({ method: 'GET' });
});

test('a wrong token (401) is logged at info without the token', async () => {
  const wrong = new Api(t.api.base, WRONG);
  expect((await wrong.get('/labs')).status).toBe(401);
  expect((await new Api(t.api.base).request('GET', `/labs?token=${WRONG}`)).status).toBe(401);
  await expect(WsClient.connect(t.api.base, WRONG)).rejects.toThrow(/401/);
  expect(logged().filter((l) => l['status'] === 401 && l['level'] === 30).length).toBe(3);
});

test('a .wlab import is logged at info like a clone', async () => {
  // fetch, not the harness: the archive is binary.
  const raw = await fetch(`${t.api.base}/api/v1/labs/logged/export`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const archive = Buffer.from(await raw.arrayBuffer()).toString('base64');
  const r = await t.api.request('POST', '/labs/import', { archive });
  expect(r.status).toBe(201);
  const line = logged().find((l) => l['msg'] === 'lab imported');
  expect(line).toMatchObject({ level: 30, lab: r.body.lab.name, renamedFrom: 'logged', snapshots: 0, source: 'wlab' });
});

test('no log line carries a token', () => {
  expect(lines.length).toBeGreaterThan(3);
  for (const l of lines) {
    expect(l).not.toContain(TOKEN);
    expect(l).not.toContain(WRONG);
  }
});
