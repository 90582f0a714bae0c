/**
 * The API keeps its contract: a real server is driven through a whole session (a lab built node
 * by node with a cloud, NAT, host-only and bridged networks, started, checked, captured, snapshotted,
 * cloned, exported and imported, with bad requests along the way), and every answer is parsed
 * against the schema its route declares in the route table (the same zod schemas the OpenAPI
 * document is generated from). The view schemas are strict, so a field the server adds, drops
 * or retypes fails here. Every route of the table must be exercised; a new route without a
 * schema, or without a call here, fails too.
 */
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { z } from 'zod';
import { ErrorSchema, WsServerMessageSchema } from '../../contract/index.js';
import type { Route } from '../../server/api.js';
import { type Reply, type TestServer, WsClient, eventually, startTestServer } from './server-harness.js';

let t: TestServer;
let ws: WsClient;
let doc: any;
/** Routes answered with their success status, by `METHOD path-template`. */
const covered = new Set<string>();
/** Error statuses seen (each answer parsed as the Error schema). */
const errorStatuses = new Set<number>();

const key = (r: Pick<Route, 'method' | 'path'>) => `${r.method.toUpperCase()} ${r.path}`;

/** The route of the table a concrete request lands on: the one with the fewest parameters, as express matches literals first here. */
function routeOf(method: string, path: string): Route {
  const bare = path.split('?')[0]!;
  const candidates = t.server.routes.filter((r) => {
    if (r.method !== method.toLowerCase()) return false;
    const re = new RegExp('^' + r.path.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '[^/]+') + '$');
    return re.test(bare);
  });
  candidates.sort((a, b) => (a.path.match(/\{/g)?.length ?? 0) - (b.path.match(/\{/g)?.length ?? 0));
  const r = candidates[0];
  if (!r) throw new Error(`${method} ${path}: no route in the table`);
  return r;
}

function parse(schema: z.ZodType, body: unknown, what: string): void {
  const r = schema.safeParse(body);
  if (!r.success) throw new Error(`${what}: the answer does not fit its schema:\n${r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}\n${JSON.stringify(body).slice(0, 1500)}`);
}

/** One request; its answer must have `status` and fit the schema the route declares for it. */
async function call(status: number, method: string, path: string, body?: unknown): Promise<Reply> {
  const route = routeOf(method, path);
  const reply = await t.api.request(method, path, body);
  if (reply.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${reply.status} ${reply.text.slice(0, 500)}`);
  const what = `${method} ${path} (${route.path})`;
  const documented = doc.paths[route.path]?.[route.method]?.responses as Record<string, unknown> | undefined;
  expect(documented, `${what} is in the OpenAPI document`).toBeDefined();
  expect(Object.keys(documented!), `${what}: status ${status} is documented`).toContain(String(status));
  if (status >= 400) {
    parse(ErrorSchema, reply.body, what);
    errorStatuses.add(status);
    return reply;
  }
  if (status === 204) {
    expect(reply.text, `${what}: a 204 has no body`).toBe('');
  } else if (route.produces) {
    expect(reply.headers.get('content-type') ?? '', what).toContain(route.produces === 'application/zip' ? 'zip' : 'pcapng');
  } else {
    if (!route.response) throw new Error(`${what}: the route answers JSON but declares no response schema`);
    parse(route.response, reply.body, what);
  }
  covered.add(key(route));
  return reply;
}

/** A UDP port free right now on loopback, for the cloud node's tunnel. */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The export's bytes (the harness reads answers as text). */
async function download(path: string): Promise<Buffer> {
  const res = await fetch(`${t.api.base}/api/v1${path}`, { headers: t.api.token ? { authorization: `Bearer ${t.api.token}` } : {} });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

beforeAll(async () => {
  t = await startTestServer();
  const r = await t.api.expect(200, 'GET', '/openapi.json');
  doc = r.body;
  ws = await WsClient.connect(t.api.base, t.api.token);
  await ws.waitFor((m) => m.type === 'hello');
  await ws.subscribe({ id: 'events', channel: 'lab' });
});

afterAll(async () => {
  ws?.close();
  await t?.close();
});

describe('the API contract', () => {
  test('the OpenAPI document declares a schema for every JSON answer', () => {
    expect(doc.openapi).toBe('3.1.0');
    for (const r of t.server.routes) {
      const op = doc.paths[r.path]?.[r.method];
      expect(op, key(r)).toBeDefined();
      const ok = String(r.status ?? 200);
      if (r.produces || ok === '204') continue;
      expect(r.response, `${key(r)} declares its answer's schema`).toBeDefined();
      const schema = op.responses[ok]?.content?.['application/json']?.schema;
      expect(schema && Object.keys(schema).length > 0, `${key(r)}: the document has the answer's schema`).toBe(true);
    }
  });

  test('a whole session answers as the contract says', { timeout: 120_000 }, async () => {
    const L = '/labs/contract';
    await call(200, 'GET', '/labs');
    await call(201, 'POST', '/labs', { name: 'contract', description: 'every answer checked' });
    await call(200, 'GET', L);

    // Networks: VMware NAT and host-only, and a LAN segment.
    await call(201, 'POST', `${L}/networks`, { name: 'vmnet8', type: 'nat', subnet: '192.168.90.0/24', nat: { 'port-forwards': [] } });
    await call(201, 'POST', `${L}/networks`, { name: 'vmnet1', type: 'host-only', subnet: '192.168.91.0/24' });
    await call(201, 'POST', `${L}/networks`, { name: 'lan', type: 'segment' });
    // Bridged to a NIC that does not exist: its uplink shows as failed, with the reason.
    await call(201, 'POST', `${L}/networks`, { name: 'vmnet0', type: 'bridged', interface: 'wlnone0' });
    await call(200, 'GET', `${L}/networks`);
    await call(200, 'GET', `${L}/networks/vmnet1`);
    await call(200, 'PUT', `${L}/networks/vmnet1`, { type: 'host-only', subnet: '192.168.91.0/24', ui: { x: 500, y: 100 } });
    await call(200, 'PATCH', `${L}/networks/lan`, { ui: { x: 700, y: 100 } });

    // Nodes: hosts, a switch, a router, and a cloud with a UDP tunnel on loopback.
    const [local, remote] = [await freeUdpPort(), await freeUdpPort()];
    await call(201, 'POST', `${L}/nodes`, { name: 'pc1', kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } }, ui: { x: 100, y: 300 } });
    await call(201, 'POST', `${L}/nodes`, { name: 'pc2', kind: 'host', interfaces: { eth0: { ip: '10.0.0.2/24' } } });
    await call(201, 'POST', `${L}/nodes`, { name: 'sw1', kind: 'switch' });
    await call(201, 'POST', `${L}/nodes`, { name: 'r1', kind: 'router', interfaces: { 'g0/0': { ip: '10.0.0.254/24' }, 'g0/1': { network: 'vmnet8', ip: '192.168.90.20/24' } } });
    await call(201, 'POST', `${L}/nodes`, { name: 'nat1', kind: 'host', interfaces: { eth0: { network: 'vmnet8', ip: 'dhcp' } } });
    await call(201, 'POST', `${L}/nodes`, { name: 'ho1', kind: 'host', interfaces: { eth0: { ip: '192.168.91.30/24' } } });
    await call(201, 'POST', `${L}/nodes`, { name: 'ext', kind: 'cloud', endpoint: { type: 'udp', local: `127.0.0.1:${local}`, remote: `127.0.0.1:${remote}` } });
    await call(200, 'GET', `${L}/nodes`);
    await call(200, 'GET', `${L}/nodes/pc1`);
    await call(200, 'PUT', `${L}/nodes/pc2`, { kind: 'host', interfaces: { eth0: { ip: '10.0.0.2/24', gateway: '10.0.0.254' } } });
    await call(200, 'PATCH', `${L}/nodes/pc1`, { ui: { x: 120, y: 320 } });
    await call(200, 'GET', `${L}/nodes/ext/endpoint`);
    await call(200, 'GET', `${L}/nodes/r1/addresses`);

    // Links: short and long forms, to a network, and edits.
    await call(201, 'POST', `${L}/links`, ['pc1:eth0', 'sw1:e1']);
    await call(201, 'POST', `${L}/links`, { endpoints: ['pc2:eth0', 'sw1:e2'], delay: '1ms' });
    await call(201, 'POST', `${L}/links`, ['r1:g0/0', 'sw1:e3']);
    await call(201, 'POST', `${L}/links`, ['ho1:eth0', 'vmnet1']);
    await call(201, 'POST', `${L}/links`, ['ext:eth0', 'sw1:e4']);
    await call(200, 'GET', `${L}/links`);
    const pc2Link = encodeURIComponent('pc2:eth0--sw1:e2');
    await call(200, 'GET', `${L}/links/${pc2Link}`);
    await call(200, 'PUT', `${L}/links/${pc2Link}`, { endpoints: ['pc2:eth0', 'sw1:e2'], delay: '2ms', loss: '0%' });
    await call(200, 'PATCH', `${L}/links/${pc2Link}`, { delay: null, jitter: '1ms', rate: '1Gbps' });
    await call(200, 'PUT', `${L}/links/${pc2Link}/impairments`, {});
    await call(200, 'POST', `${L}/links/${pc2Link}/suspend`);
    await call(200, 'POST', `${L}/links/${pc2Link}/resume`);
    const natLink = encodeURIComponent('r1:g0/1--vmnet8');
    await call(200, 'GET', `${L}/links/${natLink}`);

    // Checks.
    await call(201, 'POST', `${L}/checks`, { name: 'pc1 reaches pc2', ping: { from: 'pc1', to: '10.0.0.2', count: 1 } });
    await call(201, 'POST', `${L}/checks`, { ping: { from: 'pc1', to: '10.0.0.254', count: 1 } });
    await call(201, 'POST', `${L}/checks`, { expect: 'failure', ping: { from: 'pc1', to: '10.9.9.9', count: 1 }, timeout: '300ms' });
    await call(200, 'GET', `${L}/checks`);

    // Bad requests: 400 naming the field, 404, 409.
    await call(400, 'POST', `${L}/nodes`, { name: 'bad', kind: 'host', interfaces: { eth0: { ip: '10.0.0.300/24' } } });
    await call(400, 'POST', '/labs', { name: '../up' });
    await call(404, 'GET', '/labs/nothing-here');
    await call(404, 'GET', `${L}/nodes/nobody`);
    await call(404, 'GET', `${L}/links/${encodeURIComponent('a:eth0--b:e0')}`);
    await call(409, 'POST', '/labs', { name: 'contract' });
    await call(409, 'POST', `${L}/checks/run`);

    // Running.
    await call(200, 'POST', `${L}/start`);
    await call(409, 'DELETE', L);
    await call(200, 'GET', `${L}/nodes/ext/endpoint`);
    await call(200, 'GET', `${L}/networks/vmnet8/status`);
    await call(200, 'GET', `${L}/networks/vmnet1/status`);
    await call(200, 'GET', `${L}/networks/lan/status`);
    await call(200, 'GET', `${L}/nodes/nat1/addresses`);
    await call(200, 'GET', `${L}/nodes/r1/addresses`);
    const uplink = (await call(200, 'GET', `${L}/networks/vmnet0/status`)).body.uplink;
    expect(uplink.state).toBe('failed');
    await ws.subscribe({ id: 'trace', channel: 'trace', lab: 'contract' });
    const results = await call(200, 'POST', `${L}/checks/run`);
    expect(results.body.map((r: { passed: boolean }) => r.passed)).toEqual([true, true, true]);
    await call(200, 'POST', `${L}/checks/run`, { only: ['pc1 reaches pc2'] });
    await eventually(() => ws.records('trace').length > 0, 10_000, 'trace records');
    await call(200, 'POST', `${L}/nodes/pc2/stop`);
    await call(200, 'POST', `${L}/nodes/pc2/start`);

    // Captures.
    const cap = (await call(201, 'POST', `${L}/captures`, { link: 'pc1:eth0--sw1:e1' })).body;
    await call(201, 'POST', `${L}/captures`, { node: 'pc2', interface: 'eth0' });
    await call(200, 'POST', `${L}/checks/run`, { only: ['pc1 reaches pc2'] });
    await call(200, 'GET', `${L}/captures`);
    await call(200, 'GET', `${L}/captures/${cap.id}`);
    await call(200, 'DELETE', `${L}/captures/${cap.id}`);
    await call(200, 'GET', `${L}/captures/${cap.id}.pcapng`);
    await call(204, 'DELETE', `${L}/captures/${cap.id}`);

    // Snapshots and clones.
    await call(201, 'POST', `${L}/snapshots`, { name: 'live', description: 'while running' });
    await call(200, 'GET', `${L}/snapshots`);
    await call(200, 'GET', `${L}/snapshots/live`);
    await call(200, 'PATCH', `${L}/snapshots/live`, { description: 'taken while running' });
    await call(200, 'POST', `${L}/snapshots/live/restore`);
    await call(201, 'POST', `${L}/nodes/pc1/clone`, { name: 'pc9' });
    await call(200, 'POST', `${L}/stop`);
    await call(201, 'POST', `${L}/snapshots`, { name: 'cold' });
    await call(201, 'POST', `${L}/clone`, { name: 'contract-full' });
    await call(201, 'POST', `${L}/clone`, { name: 'contract-linked', linked: true, snapshot: 'cold' });
    await call(200, 'GET', '/clones');
    await call(409, 'DELETE', `${L}/snapshots/cold`);

    // Export and import: a .wlab archive, and a GNS3 project.
    await call(200, 'GET', `${L}/export`);
    await call(200, 'POST', `${L}/export`, { withSnapshots: true });
    const archive = (await download(`${L}/export?withSnapshots=true`)).toString('base64');
    const imported = await call(201, 'POST', '/labs/import', { archive, as: 'contract-copy' });
    expect(imported.body.snapshots.sort()).toEqual(['cold', 'live']);
    await call(400, 'POST', '/labs/import', { archive: 'not base64 !!' });
    const gns3 = {
      name: 'tiny',
      revision: 9,
      version: '2.2.0',
      type: 'topology',
      topology: {
        nodes: [{ node_id: '11111111-1111-1111-1111-111111111111', name: 'PC1', node_type: 'vpcs', x: 0, y: 0, properties: {} }],
        links: [],
      },
    };
    const fromGns3 = await call(201, 'POST', '/labs/import', { gns3, as: 'contract-gns3' });
    expect(fromGns3.body.gns3Report).not.toBeNull();
    await call(200, 'GET', '/labs');

    // Taking it apart again.
    await call(204, 'DELETE', '/labs/contract-linked');
    await call(204, 'DELETE', `${L}/snapshots/cold`);
    await call(200, 'PUT', L, { ...(await call(200, 'GET', L)).body.file, description: 'replaced whole' });
    await call(204, 'DELETE', `${L}/checks/2`);
    await call(204, 'DELETE', `${L}/links/${pc2Link}`);
    await call(204, 'DELETE', `${L}/nodes/pc9`);
    await call(204, 'DELETE', `${L}/networks/lan`);
    await call(204, 'DELETE', L);

    // The lab channel's and trace channel's messages fit the contract too.
    await eventually(() => ws.messages.some((m) => m.type === 'event' && m.event.type === 'lab-deleted'), 10_000, 'the lab-deleted event');
    for (const m of ws.messages) parse(WsServerMessageSchema, m, `WebSocket message ${String(m.type)}`);
  });

  test('every route of the table was answered and checked', () => {
    const missing = t.server.routes.map(key).filter((k) => !covered.has(k));
    expect(missing, 'routes this test never exercised').toEqual([]);
    expect([...errorStatuses].sort()).toEqual(expect.arrayContaining([400, 404, 409]));
  });
});
