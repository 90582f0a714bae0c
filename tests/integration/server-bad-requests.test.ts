/**
 * Bad input, over real HTTP: each request is answered with the right status and names the field
 * at fault, never with a stack trace, and the lab on disk is byte for byte what it was.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Reply, type TestServer, startTestServer } from './server-harness.js';

let t: TestServer;
let before: Buffer;
let listingBefore: string[];

const LAB = {
  name: 'bad',
  description: 'a lab the bad requests must not change',
  networks: { seg: { type: 'segment' } },
  nodes: {
    pc1: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } } },
    pc2: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.2/24' } } },
    sw1: { kind: 'switch', stp: false },
    r1: { kind: 'router', interfaces: { 'g0/0': { ip: '10.0.0.254/24' } } },
  },
  links: [['pc1:eth0', 'sw1:e1'], ['r1:g0/0', 'sw1:e0']],
  checks: [{ ping: { from: 'pc1', to: '10.0.0.2' } }],
};

beforeAll(async () => {
  t = await startTestServer({ bodyLimitBytes: 64 * 1024 });
  await t.api.expect(201, 'POST', '/labs', LAB);
  before = readFileSync(join(t.dir, 'bad', 'lab.yaml'));
  listingBefore = readdirSync(t.dir).sort();
});
afterAll(async () => {
  await t?.close();
});

interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  status: number;
  /** A field the details must name. */
  field?: string;
  /** Text the error must contain. */
  says?: string;
}

const big = 'x'.repeat(100 * 1024);

const cases: Case[] = [
  // -------- lab names and path traversal
  { name: 'lab name with a path in the body', method: 'POST', path: '/labs', body: { name: '../x' }, status: 400, field: 'name' },
  { name: 'lab name in capitals', method: 'POST', path: '/labs', body: { name: 'Office' }, status: 400, field: 'name' },
  { name: 'lab name missing', method: 'POST', path: '/labs', body: { description: 'no name' }, status: 400, field: 'name' },
  { name: 'lab name as a number', method: 'POST', path: '/labs', body: { name: 7 }, status: 400, field: 'name' },
  { name: 'duplicate lab', method: 'POST', path: '/labs', body: { name: 'bad' }, status: 409, field: 'name' },
  { name: 'dot-dot lab in the URL, encoded', method: 'GET', path: '/labs/%2e%2e', status: 400, field: 'lab' },
  { name: 'traversal to another folder, encoded slash', method: 'GET', path: '/labs/..%2Fx', status: 400, field: 'lab' },
  { name: 'traversal to /etc/passwd', method: 'GET', path: '/labs/%2e%2e%2f%2e%2e%2fetc%2fpasswd', status: 400, field: 'lab' },
  { name: 'traversal on replace', method: 'PUT', path: '/labs/%2e%2e', body: { name: '..' }, status: 400, field: 'lab' },
  { name: 'traversal on delete', method: 'DELETE', path: '/labs/..%2Fbad', status: 400, field: 'lab' },
  { name: 'traversal through a node route', method: 'POST', path: '/labs/%2e%2e/nodes', body: { name: 'x', kind: 'hub' }, status: 400, field: 'lab' },
  { name: 'a literal dot-dot lab', method: 'GET', path: '/labs/..', status: 400, field: 'lab' },
  { name: 'a literal ../ walks to no endpoint', method: 'GET', path: '/labs/../../etc/passwd', status: 404 },
  { name: 'unknown lab', method: 'GET', path: '/labs/nope', status: 404, field: 'lab' },
  // -------- whole lab bodies
  { name: 'unsupported lab format version', method: 'POST', path: '/labs', body: { wirelab: 2, name: 'v2' }, status: 400, field: 'wirelab' },
  { name: 'unknown top-level key', method: 'POST', path: '/labs', body: { name: 'typo', nodez: {} }, status: 400, field: 'nodez', says: 'nodes' },
  { name: 'replace renames the lab', method: 'PUT', path: '/labs/bad', body: { ...LAB, name: 'other' }, status: 400, field: 'name' },
  { name: 'replace with a broken link', method: 'PUT', path: '/labs/bad', body: { ...LAB, links: [['pc1:eth0', 'sw1:e99']] }, status: 400, field: 'links[0][1]' },
  // -------- nodes
  { name: 'wrong type for an address', method: 'POST', path: '/labs/bad/nodes', body: { name: 'pc3', kind: 'host', interfaces: { eth0: { ip: 5 } } }, status: 400, field: 'interfaces.eth0.ip' },
  { name: 'address out of range', method: 'POST', path: '/labs/bad/nodes', body: { name: 'pc3', kind: 'host', interfaces: { eth0: { ip: '10.0.0.300/24' } } }, status: 400, field: 'interfaces.eth0.ip', says: '300' },
  { name: 'unknown field on a node', method: 'POST', path: '/labs/bad/nodes', body: { name: 'pc3', kind: 'host', colour: 'red' }, status: 400, field: 'colour' },
  { name: 'duplicate node name', method: 'POST', path: '/labs/bad/nodes', body: { name: 'pc1', kind: 'host' }, status: 409, field: 'name' },
  { name: 'node named like a network', method: 'POST', path: '/labs/bad/nodes', body: { name: 'seg', kind: 'hub' }, status: 409, field: 'name' },
  { name: 'node name with a path', method: 'POST', path: '/labs/bad/nodes', body: { name: '../etc', kind: 'hub' }, status: 400, field: 'name' },
  { name: 'node without a kind', method: 'POST', path: '/labs/bad/nodes', body: { name: 'pc3' }, status: 400, field: 'kind' },
  { name: 'node of an unknown kind', method: 'POST', path: '/labs/bad/nodes', body: { name: 'pc3', kind: 'toaster' }, status: 400, field: 'kind' },
  { name: 'switch ports as text', method: 'POST', path: '/labs/bad/nodes', body: { name: 'sw2', kind: 'switch', ports: 'eight' }, status: 400, field: 'ports' },
  { name: 'host on a network that does not exist', method: 'POST', path: '/labs/bad/nodes', body: { name: 'pc3', kind: 'host', interfaces: { eth0: { network: 'vmnet9' } } }, status: 400, field: 'interfaces.eth0.network' },
  { name: 'patch with a bad value', method: 'PATCH', path: '/labs/bad/nodes/pc1', body: { interfaces: { eth0: { ip: 'dhcpx' } } }, status: 400, field: 'interfaces.eth0.ip' },
  { name: 'replace a node that does not exist', method: 'PUT', path: '/labs/bad/nodes/pc9', body: { kind: 'host' }, status: 404, field: 'node' },
  { name: 'delete a node a check still names', method: 'DELETE', path: '/labs/bad/nodes/pc1', status: 409, field: 'checks[0].ping.from' },
  { name: 'delete a node that does not exist', method: 'DELETE', path: '/labs/bad/nodes/pc9', status: 404, field: 'node' },
  { name: 'start a node of a stopped lab', method: 'POST', path: '/labs/bad/nodes/pc1/start', status: 409 },
  // -------- networks
  { name: 'network with an impossible prefix', method: 'POST', path: '/labs/bad/networks', body: { name: 'vmnet1', type: 'host-only', subnet: '192.168.7.0/33' }, status: 400, field: 'subnet' },
  { name: 'network of an unknown type', method: 'POST', path: '/labs/bad/networks', body: { name: 'vmnet1', type: 'wormhole' }, status: 400, field: 'type' },
  { name: 'duplicate network name', method: 'POST', path: '/labs/bad/networks', body: { name: 'seg', type: 'segment' }, status: 409, field: 'name' },
  // -------- links
  { name: 'link to a missing interface', method: 'POST', path: '/labs/bad/links', body: ['pc2:eth9', 'sw1:e5'], status: 400, field: '[0]', says: 'no interface eth9' },
  { name: 'link to a missing switch port', method: 'POST', path: '/labs/bad/links', body: { endpoints: ['pc2:eth0', 'sw1:e42'] }, status: 400, field: 'endpoints[1]' },
  { name: 'link to a missing node', method: 'POST', path: '/labs/bad/links', body: ['pc9:eth0', 'sw1:e5'], status: 400, field: '[0]' },
  { name: 'link to an interface already cabled', method: 'POST', path: '/labs/bad/links', body: ['pc1:eth0', 'sw1:e6'], status: 409, field: '[0]' },
  { name: 'link with one end', method: 'POST', path: '/labs/bad/links', body: ['pc2:eth0'], status: 400, field: '(body)' },
  { name: 'link loss without a % sign', method: 'POST', path: '/labs/bad/links', body: { endpoints: ['pc2:eth0', 'sw1:e5'], loss: '5' }, status: 400, field: 'loss' },
  { name: 'link with an unknown impairment', method: 'POST', path: '/labs/bad/links', body: { endpoints: ['pc2:eth0', 'sw1:e5'], latency: '5ms' }, status: 400, field: 'latency' },
  { name: 'impairment of the wrong type', method: 'PUT', path: '/labs/bad/links/pc1:eth0--sw1:e1/impairments', body: { delay: 5 }, status: 400, field: 'delay' },
  { name: 'unknown impairment', method: 'PUT', path: '/labs/bad/links/pc1:eth0--sw1:e1/impairments', body: { bandwidth: '1mbit' }, status: 400, field: 'bandwidth' },
  { name: 'suspend a link that does not exist', method: 'POST', path: '/labs/bad/links/pc2:eth0--sw1:e2/suspend', status: 404, field: 'link' },
  // -------- checks and captures
  { name: 'check naming nobody', method: 'POST', path: '/labs/bad/checks', body: { ping: { from: 'nobody', to: '10.0.0.1' } }, status: 400, field: 'ping.from' },
  { name: 'run a check that does not exist', method: 'POST', path: '/labs/bad/checks/run', body: { only: ['nope'] }, status: 404, field: 'only[0]' },
  { name: 'run checks with an unknown option', method: 'POST', path: '/labs/bad/checks/run', body: { all: true }, status: 400, field: 'all' },
  { name: 'run checks of a stopped lab', method: 'POST', path: '/labs/bad/checks/run', status: 409 },
  { name: 'delete a check that does not exist', method: 'DELETE', path: '/labs/bad/checks/7', status: 404, field: 'check' },
  { name: 'capture on a stopped lab', method: 'POST', path: '/labs/bad/captures', body: { link: 'pc1:eth0--sw1:e1' }, status: 409 },
  { name: 'capture on a link that does not exist', method: 'POST', path: '/labs/bad/captures', body: { link: 'x--y' }, status: 404, field: 'link' },
  { name: 'capture on nothing', method: 'POST', path: '/labs/bad/captures', body: {}, status: 400, field: 'link' },
  { name: 'capture with an unknown option', method: 'POST', path: '/labs/bad/captures', body: { link: 'pc1:eth0--sw1:e1', snaplen: 64 }, status: 400, field: 'snaplen' },
  { name: 'capture cap too small', method: 'POST', path: '/labs/bad/captures', body: { link: 'pc1:eth0--sw1:e1', maxBytes: 10 }, status: 400, field: 'maxBytes' },
  // -------- bodies that are not JSON objects
  { name: 'body as text/plain', method: 'POST', path: '/labs/bad/nodes', raw: '{"name":"pc3","kind":"hub"}', headers: { 'content-type': 'text/plain' }, status: 415, field: '(body)' },
  { name: 'body without a content type', method: 'POST', path: '/labs/bad/nodes', raw: '{"name":"pc3","kind":"hub"}', status: 415, field: '(body)' },
  { name: 'form post to an action (cross-site form)', method: 'POST', path: '/labs/bad/start', raw: '', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415 },
  { name: 'malformed JSON', method: 'POST', path: '/labs/bad/nodes', raw: '{"name": "pc3",', headers: { 'content-type': 'application/json' }, status: 400, field: '(body)' },
  { name: 'JSON list where an object goes', method: 'POST', path: '/labs/bad/nodes', body: [{ name: 'pc3', kind: 'hub' }], status: 400, field: '(body)' },
  { name: 'oversized body', method: 'POST', path: '/labs/bad/nodes', body: { name: 'pc3', kind: 'host', services: { http: { body: big } } }, status: 413, field: '(body)' },
  { name: 'oversized replace', method: 'PUT', path: '/labs/bad', body: { ...LAB, description: big }, status: 413, field: '(body)' },
  { name: 'unknown endpoint', method: 'GET', path: '/nowhere', status: 404 },
];

describe('bad requests', () => {
  test('the table has at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  test.each(cases)('$name -> $status', async (c) => {
    const r: Reply = await t.api.request(c.method, c.path, c.body, { ...(c.raw !== undefined ? { raw: c.raw } : {}), ...(c.headers ? { headers: c.headers } : {}) });
    expect(r.status, r.text).toBe(c.status);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(typeof r.body.error).toBe('string');
    expect(Array.isArray(r.body.details)).toBe(true);
    expect(r.text).not.toMatch(/\n\s+at |\.ts:\d+|node_modules/);
    if (c.field !== undefined) expect(r.body.details.map((d: { field?: string }) => d.field), r.text).toContain(c.field);
    if (c.says !== undefined) expect(r.text).toContain(c.says);
  });

  test('left the lab on disk exactly as it was, and wrote nothing else', async () => {
    expect(Buffer.compare(readFileSync(join(t.dir, 'bad', 'lab.yaml')), before)).toBe(0);
    expect(readdirSync(t.dir).sort()).toEqual(listingBefore);
    expect(readdirSync(join(t.dir, 'bad'))).toEqual(['lab.yaml']);
    const lab = (await t.api.expect(200, 'GET', '/labs/bad')).body;
    expect(lab.nodes.map((n: { name: string }) => n.name)).toEqual(['pc1', 'pc2', 'sw1', 'r1']);
    expect(lab.status).toBe('stopped');
  });
});
