/**
 * A node's addresses in the API: GET /labs/{lab}/nodes/{node}/addresses answers what lab.yaml
 * configures while the lab is stopped, and the live addresses while it runs (a DHCP host's
 * lease with its server and the time left, a router's interfaces as IOS shows them). Every
 * answer fits the contract's schema; without the token, or with a wrong one, it is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAddressesSchema } from '../../contract/index.js';
import { Api, eventually, startTestServer, type TestServer } from './server-harness.js';

let t: TestServer;
const L = '/labs/addr';

const LAB = {
  name: 'addr',
  nodes: {
    pc1: { kind: 'host', interfaces: { eth0: { ip: 'dhcp' } } },
    pc2: { kind: 'host', interfaces: { eth0: { ip: '10.5.0.20/24', gateway: '10.5.0.1' } } },
    sw1: { kind: 'switch' },
    r1: {
      kind: 'router',
      interfaces: { 'g0/0': { ip: '10.5.0.1/24' }, 'g0/1': {} },
      'dhcp-server': { pools: [{ interface: 'g0/0', range: '10.5.0.100-10.5.0.150', gateway: '10.5.0.1', lease: '1h' }] },
    },
  },
  links: [
    ['pc1:eth0', 'sw1:e1'],
    ['pc2:eth0', 'sw1:e2'],
    ['r1:g0/0', 'sw1:e3'],
  ],
};

async function addresses(node: string) {
  const r = await t.api.expect(200, 'GET', `${L}/nodes/${node}/addresses`);
  return NodeAddressesSchema.parse(r.body);
}

beforeAll(async () => {
  t = await startTestServer({ token: 'addresses-token' });
  await t.api.expect(201, 'POST', '/labs', LAB);
});
afterAll(async () => {
  await t?.close();
});

describe("a node's addresses", () => {
  it('are what lab.yaml configures while the lab is stopped', async () => {
    expect(await addresses('pc1')).toEqual({
      node: 'pc1', kind: 'host', running: false,
      interfaces: [{ name: 'eth0', address: null, source: 'dhcp', gateway: null, dhcp: null, status: null }],
    });
    expect((await addresses('pc2')).interfaces[0]).toMatchObject({ address: '10.5.0.20/24', source: 'static', gateway: '10.5.0.1' });
    expect((await addresses('r1')).interfaces.map((i) => [i.name, i.address])).toEqual([['g0/0', '10.5.0.1/24'], ['g0/1', null], ['g0/2', null], ['g0/3', null]]);
    expect(await addresses('sw1')).toEqual({ node: 'sw1', kind: 'switch', running: false, interfaces: [] });
  });

  it('are live while it runs: the DHCP lease with its server and time left, the router per interface', { timeout: 30_000 }, async () => {
    await t.api.expect(200, 'POST', `${L}/start`);
    const pc1 = await eventually(async () => {
      const a = await addresses('pc1');
      return a.interfaces[0]?.dhcp?.state === 'bound' ? a : null;
    }, 20_000, 'pc1 to lease');
    const eth0 = pc1.interfaces[0]!;
    expect(pc1.running).toBe(true);
    expect(eth0.source).toBe('dhcp');
    expect(eth0.address).toMatch(/^10\.5\.0\.(1[0-4]\d|150)\/24$/);
    expect(eth0.gateway).toBe('10.5.0.1');
    expect(eth0.dhcp).toMatchObject({ server: '10.5.0.1', leaseS: 3600 });
    expect(Number.isInteger(eth0.dhcp!.remainingS)).toBe(true);
    expect(eth0.dhcp!.remainingS).toBeGreaterThan(3500);
    expect(eth0.dhcp!.remainingS).toBeLessThanOrEqual(3600);

    const r1 = await addresses('r1');
    expect(r1.running).toBe(true);
    expect(r1.interfaces.slice(0, 2)).toEqual([
      { name: 'g0/0', address: '10.5.0.1/24', source: 'static', gateway: null, dhcp: null, status: 'up' },
      { name: 'g0/1', address: null, source: 'none', gateway: null, dhcp: null, status: 'down' },
    ]);
    expect(await addresses('sw1')).toEqual({ node: 'sw1', kind: 'switch', running: true, interfaces: [] });

    // A node powered off in the running lab shows its configuration again.
    await t.api.expect(200, 'POST', `${L}/nodes/pc2/stop`);
    expect(await addresses('pc2')).toMatchObject({ running: false, interfaces: [{ address: '10.5.0.20/24', source: 'static' }] });
  });

  it('answers 404 for a node or lab that does not exist', async () => {
    expect((await t.api.get(`${L}/nodes/nobody/addresses`)).status).toBe(404);
    expect((await t.api.get('/labs/nolab/nodes/pc1/addresses')).status).toBe(404);
  });

  it('is refused without the token or with a wrong one', async () => {
    const none = await new Api(t.api.base).get(`${L}/nodes/pc1/addresses`);
    expect(none.status).toBe(401);
    expect(JSON.stringify(none.body)).not.toContain('10.5.0');
    const wrong = await new Api(t.api.base, 'wrong-token-xxxxxxxxx').get(`${L}/nodes/pc1/addresses`);
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(wrong.body)).not.toContain('10.5.0');
  });
});
