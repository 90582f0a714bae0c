/**
 * The server builds cloud nodes with real endpoints: a lab with a UDP tunnel starts, and frames
 * from the tunnel's far end reach the lab.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, WsClient, type TestServer } from './server-harness.js';

let t: TestServer;
let dir: string;
let far: Socket;
const LOCAL = 20_000 + Math.floor(Math.random() * 10_000);
const REMOTE = LOCAL + 1;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wirelab-cloud-'));
  mkdirSync(join(dir, 'tunnel'));
  writeFileSync(
    join(dir, 'tunnel', 'lab.yaml'),
    [
      'wirelab: 1',
      'name: tunnel',
      'nodes:',
      `  ext: { kind: cloud, endpoint: { type: udp, local: "127.0.0.1:${LOCAL}", remote: "127.0.0.1:${REMOTE}" } }`,
      '  pc1: { kind: host, interfaces: { eth0: { ip: 10.0.0.1/24 } } }',
      '  sw1: { kind: switch }',
      'links:',
      '  - [ext:eth0, sw1:e0]',
      '  - [pc1:eth0, sw1:e1]',
      '',
    ].join('\n'),
  );
  far = createSocket('udp4');
  await new Promise<void>((r) => far.bind(REMOTE, '127.0.0.1', r));
  t = await startTestServer({ labsDir: dir });
});
afterAll(async () => {
  far?.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cloud nodes in the server', () => {
  it('start with a UDP tunnel whose frames reach the lab', async () => {
    const started = await t.api.request('POST', '/labs/tunnel/start');
    expect(started.status, started.text).toBe(200);
    const c = await WsClient.connect(t.api.base);
    try {
      await c.subscribe({ id: 'arp', channel: 'trace', lab: 'tunnel', link: 'pc1:eth0--sw1:e1', filter: { protocol: 'arp' } });
      // An ARP request from the far end of the tunnel, for pc1.
      const arp = Buffer.from('ffffffffffff02000000aa010806000108000604000102000000aa010a0000630000000000000a000001' + '00'.repeat(18), 'hex');
      const answered = new Promise<Buffer>((resolve) => far.on('message', (m) => m.readUInt16BE(12) === 0x0806 && m[21] === 2 && resolve(m)));
      // Spanning tree lets the new ports forward after a few seconds: ask until pc1 answers.
      const again = setInterval(() => far.send(arp, LOCAL, '127.0.0.1'), 500);
      const reply = await answered.finally(() => clearInterval(again));
      expect(reply.subarray(0, 6).toString('hex')).toBe('02000000aa01'); // pc1 answers the tunnel's sender
      await c.waitFor((m) => m.type === 'trace' && m.id === 'arp' && m.records.some((r: { info: string }) => /is at/.test(r.info)), 10_000, 'the ARP reply in the trace');
    } finally {
      c.close();
    }
  });
});
