/**
 * Issue 14 through the API: duplicate addresses warned about in the lab view (the file still
 * loads) and reported at run time on the lab channel; a host cabled to a NAT or host-only network
 * takes DHCP when it has no address of its own, written into lab.yaml.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type TestServer, WsClient, startTestServer } from './server-harness.js';

let t: TestServer;
let ws: WsClient;

beforeAll(async () => {
  t = await startTestServer();
  ws = await WsClient.connect(t.api.base);
  await ws.subscribe({ id: 'all', channel: 'lab' });
});
afterAll(async () => {
  ws?.close();
  await t?.close();
});

describe('duplicate addresses', () => {
  test('a host given its router\'s address is saved, with a warning in the view; at run time both report it on the lab channel', async () => {
    await t.api.expect(201, 'POST', '/labs', { name: 'dup' });
    await t.api.expect(201, 'POST', '/labs/dup/nodes', { name: 'r1', kind: 'router', interfaces: { 'g0/0': { ip: '10.0.0.1/24' } } });
    await t.api.expect(201, 'POST', '/labs/dup/nodes', { name: 'pc1', kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } } });
    await t.api.expect(201, 'POST', '/labs/dup/links', ['pc1:eth0', 'r1:g0/0']);
    const view = (await t.api.expect(200, 'GET', '/labs/dup')).body;
    expect(view.problems).toBeNull();
    // In the file's order (r1 was written first).
    expect(view.warnings).toEqual([
      expect.objectContaining({ field: 'nodes.r1.interfaces.g0/0.ip', severity: 'warning' }),
      expect.objectContaining({ field: 'nodes.pc1.interfaces.eth0.ip', severity: 'warning', message: "duplicate address: 10.0.0.1 is also r1 g0/0's, on the same segment" }),
    ]);
    expect(view.warnings[1].text).toMatch(/^dup\/lab\.yaml:\d+:\d+: warning: nodes\.pc1\.interfaces\.eth0\.ip: duplicate address/);
    await t.api.expect(200, 'POST', '/labs/dup/start');
    const m = await ws.waitFor((x) => x.type === 'event' && x.lab === 'dup' && x.event.type === 'address-conflict' && x.event.node === 'r1', 10_000, 'r1 reports the conflict');
    expect(m.event).toMatchObject({ iface: 'g0/0', ip: '10.0.0.1', by: 'pc1 eth0' });
    await ws.waitFor((x) => x.type === 'event' && x.lab === 'dup' && x.event.type === 'address-conflict' && x.event.node === 'pc1', 10_000, 'pc1 reports the conflict');
    await t.api.expect(200, 'POST', '/labs/dup/stop');
    // Another address: no warning left.
    await t.api.expect(200, 'PATCH', '/labs/dup/nodes/pc1', { interfaces: { eth0: { ip: '10.0.0.5/24' } } });
    expect((await t.api.expect(200, 'GET', '/labs/dup')).body.warnings).toEqual([]);
  });
});

describe('a host cabled to a NAT or host-only network takes DHCP', () => {
  test('by a link or a network: key, written into lab.yaml; not on a segment, not over an address given', async () => {
    await t.api.expect(201, 'POST', '/labs', { name: 'vm' });
    await t.api.expect(201, 'POST', '/labs/vm/networks', { name: 'vmnet8', type: 'nat' });
    await t.api.expect(201, 'POST', '/labs/vm/networks', { name: 'vmnet1', type: 'host-only' });
    await t.api.expect(201, 'POST', '/labs/vm/networks', { name: 'seg', type: 'segment' });
    for (const n of ['a', 'b', 'c', 'd', 'e']) await t.api.expect(201, 'POST', '/labs/vm/nodes', { name: n, kind: 'host', ...(n === 'c' ? { interfaces: { eth0: { ip: '192.168.1.9/24' } } } : {}) });
    await t.api.expect(201, 'POST', '/labs/vm/links', ['a:eth0', 'vmnet8']);
    await t.api.expect(201, 'POST', '/labs/vm/links', { endpoints: ['vmnet1', 'b:eth0'] });
    await t.api.expect(201, 'POST', '/labs/vm/links', ['c:eth0', 'vmnet8']);
    await t.api.expect(201, 'POST', '/labs/vm/links', ['d:eth0', 'seg']);
    await t.api.expect(200, 'PATCH', '/labs/vm/nodes/e', { interfaces: { eth0: { network: 'vmnet1' } } });
    const spec = (n: string) => (t.api.get('/labs/vm/nodes/' + n) as Promise<{ body: { spec: { interfaces?: Record<string, { ip?: string }> } } }>).then((r) => r.body.spec.interfaces?.['eth0']?.ip);
    expect(await spec('a')).toBe('dhcp');
    expect(await spec('b')).toBe('dhcp');
    expect(await spec('c')).toBe('192.168.1.9/24');
    expect(await spec('d')).toBeUndefined();
    expect(await spec('e')).toBe('dhcp');
    expect(readFileSync(join(t.dir, 'vm', 'lab.yaml'), 'utf8')).toContain('  a:\n    kind: host\n    interfaces: { eth0: { ip: dhcp } }\n');
    // The user's own choice afterwards stands: no address, by an edit that keeps the network.
    await t.api.expect(200, 'PATCH', '/labs/vm/nodes/e', { interfaces: { eth0: { ip: null } } });
    expect(await spec('e')).toBeUndefined();
  });
});
