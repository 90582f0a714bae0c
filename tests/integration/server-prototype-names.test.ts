/**
 * Names that are also properties every JavaScript object has (`constructor`, `toString`,
 * `valueOf`, ...) are ordinary node and network names; `__proto__` is refused with a clear 400.
 * A missing one is a 404 like any other missing name, never a 500, a false 409 or a 204.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type TestServer, WsClient, startTestServer } from './server-harness.js';

let t: TestServer;

const LAB = {
  name: 'proto',
  networks: { seg: { type: 'segment' } },
  nodes: {
    pc1: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } } },
    sw1: { kind: 'switch', stp: false },
  },
  links: [['pc1:eth0', 'sw1:e1']],
};

const BUILTIN = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

beforeAll(async () => {
  t = await startTestServer();
  await t.api.expect(201, 'POST', '/labs', LAB);
});
afterAll(async () => {
  await t?.close();
});

describe('a missing node or network with a built-in name is 404', () => {
  for (const n of [...BUILTIN, '__proto__']) {
    test(n, async () => {
      for (const [method, path, body] of [
        ['GET', `/labs/proto/nodes/${n}`],
        ['PUT', `/labs/proto/nodes/${n}`, { kind: 'host' }],
        ['PATCH', `/labs/proto/nodes/${n}`, { ui: { x: 1, y: 2 } }],
        ['DELETE', `/labs/proto/nodes/${n}`],
        ['POST', `/labs/proto/nodes/${n}/clone`, {}],
        ['GET', `/labs/proto/networks/${n}`],
        ['PUT', `/labs/proto/networks/${n}`, { type: 'segment' }],
        ['PATCH', `/labs/proto/networks/${n}`, { ui: { x: 1, y: 2 } }],
        ['DELETE', `/labs/proto/networks/${n}`],
      ] as [string, string, unknown?][]) {
        const r = await t.api.request(method, path, body);
        expect(r.status, `${method} ${path}: ${r.text}`).toBe(404);
      }
      const link = await t.api.post('/labs/proto/links', [`${n}:eth0`, 'sw1:e2']);
      expect([400, 404], link.text).toContain(link.status);
    });
  }
});

describe('built-in names are ordinary names', () => {
  test('nodes and networks named constructor, toString, ... are created, linked, cloned and deleted', async () => {
    for (const n of BUILTIN) {
      const r = await t.api.post('/labs/proto/nodes', { name: n, kind: 'host' });
      expect(r.status, r.text).toBe(201);
      expect(r.body.name).toBe(n);
      expect((await t.api.get(`/labs/proto/nodes/${n}`)).status).toBe(200);
      const dup = await t.api.post('/labs/proto/nodes', { name: n, kind: 'host' });
      expect(dup.status, dup.text).toBe(409);
    }
    const net = await t.api.post('/labs/proto/networks', { name: 'hasOwnProperty2', type: 'segment' });
    expect(net.status, net.text).toBe(201);
    for (const n of ['toLocaleString', 'propertyIsEnumerable']) {
      const r = await t.api.post('/labs/proto/networks', { name: n, type: 'segment' });
      expect(r.status, r.text).toBe(201);
      expect((await t.api.get(`/labs/proto/networks/${n}`)).status).toBe(200);
    }
    const link = await t.api.post('/labs/proto/links', ['constructor:eth0', 'sw1:e2']);
    expect(link.status, link.text).toBe(201);
    const link2 = await t.api.post('/labs/proto/links', ['valueOf:eth0', 'toLocaleString']);
    expect(link2.status, link2.text).toBe(201);
    const clone = await t.api.post('/labs/proto/nodes/toString/clone', { name: 'valueOf2' });
    expect(clone.status, clone.text).toBe(201);
    const labClone = await t.api.post('/labs/proto/clone', { name: 'proto-copy' });
    expect(labClone.status, labClone.text).toBe(201);
    expect((await t.api.get('/labs/proto-copy/nodes/constructor')).status).toBe(200);
    expect((await t.api.delete('/labs/proto/nodes/valueOf')).status).toBe(204);
    expect((await t.api.get('/labs/proto/nodes/valueOf')).status).toBe(404);
    expect((await t.api.delete('/labs/proto/nodes/valueOf')).status).toBe(404);
  });

  test('a network may not take a built-in name a node has', async () => {
    const r = await t.api.post('/labs/proto/networks', { name: 'constructor', type: 'segment' });
    expect(r.status, r.text).toBe(409);
  });
});

describe('__proto__ is refused, never dropped', () => {
  test('as a node or network name in POST', async () => {
    const r = await t.api.request('POST', '/labs/proto/nodes', undefined, { raw: '{"name":"__proto__","kind":"host"}', headers: { 'content-type': 'application/json' } });
    expect(r.status, r.text).toBe(400);
    expect(r.text).toContain('__proto__');
    const n = await t.api.request('POST', '/labs/proto/networks', undefined, { raw: '{"name":"__proto__","type":"segment"}', headers: { 'content-type': 'application/json' } });
    expect(n.status, n.text).toBe(400);
  });

  test('as a key of nodes: or networks: in a PUT of the lab', async () => {
    const before = (await t.api.get('/labs/proto')).text;
    for (const section of ['nodes', 'networks']) {
      const body = `{"name":"proto","${section}":{"__proto__":${section === 'nodes' ? '{"kind":"host"}' : '{"type":"segment"}'}}}`;
      const r = await t.api.request('PUT', '/labs/proto', undefined, { raw: body, headers: { 'content-type': 'application/json' } });
      expect(r.status, r.text).toBe(400);
      expect(r.text).toContain('__proto__');
    }
    expect((await t.api.get('/labs/proto')).text).toBe(before);
  });

  test('as a key of a merge patch', async () => {
    const before = (await t.api.get('/labs/proto')).text;
    for (const body of ['{"__proto__":{"kind":"switch"}}', '{"ui":{"__proto__":{"x":1}}}']) {
      const r = await t.api.request('PATCH', '/labs/proto/nodes/pc1', undefined, { raw: body, headers: { 'content-type': 'application/json' } });
      expect(r.status, r.text).toBe(400);
      expect(r.text).toContain('__proto__');
    }
    expect((await t.api.get('/labs/proto')).text).toBe(before);
  });
});

describe('WebSocket console subscriptions', () => {
  test('to a built-in name that is not a node are refused; to one that is, opened', async () => {
    await t.api.expect(200, 'POST', '/labs/proto/start');
    const ws = await WsClient.connect(t.server.url.replace('0.0.0.0', '127.0.0.1'), t.server.token);
    try {
      for (const node of ['valueOf', '__proto__', 'hasOwnProperty2', 'propertyIsEnumerable', 'isPrototypeOf2']) {
        const id = `c-${node}`;
        ws.send({ op: 'subscribe', id, channel: 'console', lab: 'proto', node });
        const m = await ws.waitFor((x) => x.id === id && (x.type === 'error' || x.type === 'subscribed'), 5_000, id);
        expect(m.type, `${node}: ${JSON.stringify(m)}`).toBe('error');
      }
      const ok = await ws.subscribe({ id: 'c-ctor', channel: 'console', lab: 'proto', node: 'constructor' });
      expect(ok.type).toBe('subscribed');
    } finally {
      ws.close();
      await t.api.expect(200, 'POST', '/labs/proto/stop');
    }
  });
});

describe('other name-keyed tables', () => {
  test('a DNS record named constructor, and a lab named constructor, work like any other', async () => {
    const lab = {
      name: 'constructor',
      nodes: { dns1: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } }, services: { dns: { records: { constructor: '10.0.0.9', valueOf: '10.0.0.8' } } } } },
    };
    await t.api.expect(201, 'POST', '/labs', lab);
    const r = await t.api.post('/labs/constructor/start');
    expect(r.status, r.text).toBe(200);
    await t.api.expect(200, 'POST', '/labs/constructor/stop');
    expect((await t.api.get('/labs/valueof')).status).toBe(404);
  });

  test('a DHCP router named constructor and a NAT network named valueOf start, stop and start again', async () => {
    const lab = {
      name: 'dhcpnames',
      networks: { valueOf: { type: 'host-only', subnet: '192.168.81.0/24' } },
      nodes: {
        constructor: {
          kind: 'router',
          interfaces: { 'g0/0': { ip: '10.1.0.1/24' } },
          'dhcp-server': { pools: [{ interface: 'g0/0', range: '10.1.0.100-10.1.0.199', gateway: '10.1.0.1', lease: '1h' }] },
        },
        toString: { kind: 'host', interfaces: { eth0: { network: 'valueOf', ip: 'dhcp' } } },
      },
    };
    await t.api.expect(201, 'POST', '/labs', lab);
    for (let i = 0; i < 2; i++) {
      const r = await t.api.post('/labs/dhcpnames/start');
      expect(r.status, r.text).toBe(200);
      await t.api.expect(200, 'POST', '/labs/dhcpnames/stop');
    }
  });
});
