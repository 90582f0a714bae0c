/**
 * The live view of real-world endpoints: GET /labs/{lab}/nodes/{node}/endpoint for a cloud node
 * and the `uplink` of a bridged network's status. A test-owned UDP socket is the tunnel's far
 * end: it sends valid frames and garbage, and the counters say exactly what happened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startTestServer, type TestServer } from './server-harness.js';

let t: TestServer;
let dir: string;
let far: Socket;
const received: Buffer[] = [];
const LOCAL = 30_000 + Math.floor(Math.random() * 10_000);
const REMOTE = LOCAL + 1;
const NIC = 'wlnope0';

/** An ARP request from the tunnel's far end (02:00:00:00:aa:01, 10.0.0.99) for 10.0.0.1: 42 bytes, as a Linux TAP sends it. */
const ARP_FOR_PC1 = Buffer.from('ffffffffffff02000000aa010806000108000604000102000000aa010a0000630000000000000a000001', 'hex');

const zeroDrops = { runt: 0, oversized: 0, badSource: 0, congested: 0, down: 0, txErrors: 0, rxErrors: 0 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wirelab-endpoints-'));
  mkdirSync(join(dir, 'tunnel'));
  writeFileSync(
    join(dir, 'tunnel', 'lab.yaml'),
    [
      'wirelab: 1',
      'name: tunnel',
      'networks:',
      `  vmnet0: { type: bridged, interface: ${NIC} }`,
      '  seg: { type: segment }',
      'nodes:',
      `  ext: { kind: cloud, endpoint: { type: udp, local: "127.0.0.1:${LOCAL}", remote: "127.0.0.1:${REMOTE}" } }`,
      '  pc1: { kind: host, interfaces: { eth0: { ip: 10.0.0.1/24 } } }',
      '  pc2: { kind: host, interfaces: { eth0: { network: vmnet0, ip: 10.0.1.2/24 } } }',
      'links:',
      '  - [ext:eth0, pc1:eth0]',
      '',
    ].join('\n'),
  );
  far = createSocket('udp4');
  far.on('message', (m) => received.push(m));
  await new Promise<void>((r) => far.bind(REMOTE, '127.0.0.1', r));
  t = await startTestServer({ labsDir: dir });
});
afterAll(async () => {
  far?.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a cloud node's endpoint in the API", () => {
  it('is stopped, described from lab.yaml, while the lab is stopped', async () => {
    const r = await t.api.expect(200, 'GET', '/labs/tunnel/nodes/ext/endpoint');
    expect(r.body).toEqual({
      type: 'udp',
      endpoint: `udp 127.0.0.1:${LOCAL} -> 127.0.0.1:${REMOTE}`,
      state: 'stopped',
      error: null,
      counters: { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, paddedIn: 0, drops: zeroDrops },
    });
    const net = await t.api.expect(200, 'GET', '/labs/tunnel/networks/vmnet0/status');
    expect(net.body.uplink).toMatchObject({ type: 'nic', endpoint: `nic ${NIC}`, state: 'stopped', error: null });
    expect((await t.api.expect(200, 'GET', '/labs/tunnel/networks/seg/status')).body).not.toHaveProperty('uplink');
  });

  it('answers 404 for a missing node, a node that is not a cloud, and a missing lab', async () => {
    const none = await t.api.get('/labs/tunnel/nodes/nope/endpoint');
    expect(none.status).toBe(404);
    expect(none.body).toEqual({ error: 'no node named "nope"', details: [{ field: 'node', message: 'no such node' }] });
    const host = await t.api.get('/labs/tunnel/nodes/pc1/endpoint');
    expect(host.status).toBe(404);
    expect(host.body.error).toBe('pc1 is a host: only cloud nodes have a real-world endpoint');
    expect((await t.api.get('/labs/nolab/nodes/ext/endpoint')).status).toBe(404);
    expect((await t.api.get('/labs/..%2Fx/nodes/ext/endpoint')).status).toBe(400);
  });

  it('counts frames in and out and drops by reason while the lab runs', async () => {
    await t.api.expect(200, 'POST', '/labs/tunnel/start');
    await eventually(async () => (await t.api.get('/labs/tunnel/nodes/ext/endpoint')).body.state === 'running', 10_000, 'the tunnel to open');
    // pc1 announced its address when it started (one gratuitous ARP, out through the tunnel).
    await eventually(() => received.length === 1, 10_000, "pc1's gratuitous ARP");

    const send = (b: Buffer) => new Promise<void>((r, j) => far.send(b, LOCAL, '127.0.0.1', (e) => (e ? j(e) : r())));
    await send(Buffer.alloc(5, 0xee)); // runt
    await send(ARP_FOR_PC1.subarray(0, 13)); // one byte short of an Ethernet header: runt
    await send(Buffer.concat([ARP_FOR_PC1, Buffer.alloc(1600 - ARP_FOR_PC1.length)])); // oversized
    const multicastSource = Buffer.from(ARP_FOR_PC1);
    multicastSource[6] = 0x01; // the group bit on the source MAC
    await send(multicastSource);
    for (let i = 0; i < 3; i++) await send(ARP_FOR_PC1);
    // pc1 answers each request: three replies follow the announcement.
    await eventually(() => received.length === 4, 10_000, "pc1's three ARP replies");
    for (const reply of received.slice(1)) {
      expect(reply.subarray(0, 6).toString('hex')).toBe('02000000aa01');
      expect(reply.readUInt16BE(20)).toBe(2);
    }

    const r = await t.api.expect(200, 'GET', '/labs/tunnel/nodes/ext/endpoint');
    expect(r.body).toEqual({
      type: 'udp',
      endpoint: `udp 127.0.0.1:${LOCAL} -> 127.0.0.1:${REMOTE}`,
      state: 'running',
      error: null,
      counters: {
        framesIn: 3,
        bytesIn: 3 * 42,
        framesOut: 4,
        bytesOut: 4 * 60,
        paddedIn: 3,
        drops: { ...zeroDrops, runt: 2, oversized: 1, badSource: 1 },
      },
    });
  });

  it("shows a bridged network's NIC that could not open as failed, with the reason", async () => {
    const r = await t.api.expect(200, 'GET', '/labs/tunnel/networks/vmnet0/status');
    expect(r.body.running).toBe(true);
    expect(r.body.uplink).toMatchObject({ type: 'nic', endpoint: `nic ${NIC}`, state: 'failed' });
    // Without CAP_NET_RAW the privilege is named; with it, the missing interface is.
    expect(r.body.uplink.error).toMatch(new RegExp(`^nic ${NIC}: .*(CAP_NET_RAW|no interface ${NIC}|addon)`));
  });

  it('keeps the counters of a node stopped in a running lab; a stopped lab has none', async () => {
    await t.api.expect(200, 'POST', '/labs/tunnel/nodes/ext/stop');
    const stopped = await t.api.expect(200, 'GET', '/labs/tunnel/nodes/ext/endpoint');
    expect(stopped.body.state).toBe('stopped');
    expect(stopped.body.counters.framesIn).toBe(3);
    await t.api.expect(200, 'POST', '/labs/tunnel/nodes/ext/start');
    await eventually(async () => (await t.api.get('/labs/tunnel/nodes/ext/endpoint')).body.state === 'running', 10_000, 'the tunnel to reopen');
    await t.api.expect(200, 'POST', '/labs/tunnel/stop');
    const after = await t.api.expect(200, 'GET', '/labs/tunnel/nodes/ext/endpoint');
    expect(after.body).toMatchObject({ state: 'stopped', counters: { framesIn: 0, framesOut: 0 } });
  });

  it('is in the OpenAPI document with its schema', async () => {
    const doc = (await t.api.expect(200, 'GET', '/openapi.json')).body;
    const op = doc.paths['/labs/{lab}/nodes/{node}/endpoint'].get;
    const schema = op.responses['200'].content['application/json'].schema;
    expect(schema.properties.state.enum).toEqual(['stopped', 'starting', 'running', 'failed']);
    expect(Object.keys(schema.properties.counters.properties.drops.properties)).toEqual(['runt', 'oversized', 'badSource', 'congested', 'down', 'txErrors', 'rxErrors']);
    expect(Object.keys(op.responses)).toContain('404');
    const net = doc.paths['/labs/{lab}/networks/{network}/status'].get.responses['200'].content['application/json'].schema;
    expect(JSON.stringify(net)).toContain('uplink');
  });
});
