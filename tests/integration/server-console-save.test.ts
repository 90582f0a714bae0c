/**
 * `write memory` on a running router keeps the router running as it is: lab.yaml gets the new
 * entry, the lab service applies the file, and the router is not rebuilt for a configuration it
 * already runs (its ARP table and the console session carry on).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, WsClient, eventually, type TestServer } from './server-harness.js';

let t: TestServer;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wirelab-console-save-'));
  cpSync(join(import.meta.dirname, '../../labs/triangle/lab.yaml'), join(dir, 'triangle', 'lab.yaml'));
  t = await startTestServer({ labsDir: dir });
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

function text(c: WsClient, id: string): string {
  return c.messages.filter((m) => m.type === 'console' && m.id === id).map((m) => m.data as string).join('');
}

describe('write memory in a running lab', () => {
  it('saves the router without rebuilding it', async () => {
    expect((await t.api.request('POST', '/labs/triangle/start')).status).toBe(200);
    const c = await WsClient.connect(t.api.base);
    try {
      await c.subscribe({ id: 'h1', channel: 'console', lab: 'triangle', node: 'h1' });
      c.send({ op: 'input', id: 'h1', data: 'ping 10.3.0.10 -c 1\r' });
      await eventually(() => /10\.3\.0\.10 icmp_seq=1 ttl=62/.test(text(c, 'h1')), 20_000, 'h1 reaching h3 through r1');

      await c.subscribe({ id: 'r1', channel: 'console', lab: 'triangle', node: 'r1', cols: 120, rows: 40 });
      c.send({ op: 'input', id: 'r1', data: 'enable\rshow ip arp\r' });
      await eventually(() => /10\.1\.0\.10\s/.test(text(c, 'r1')), 10_000, 'h1 in r1\'s ARP table');

      c.send({ op: 'input', id: 'r1', data: 'conf t\rip route 192.0.2.0 255.255.255.0 10.12.0.2\rend\rwrite memory\r' });
      await eventually(() => /\[OK\]/.test(text(c, 'r1')), 10_000, 'write memory answering [OK]');
      await eventually(() => (readFileSync(join(dir, 'triangle', 'lab.yaml'), 'utf8').includes('192.0.2.0/24') ? true : null), 10_000, 'the route in lab.yaml');
      // The service applies the written file; give it the time it takes to notice and apply.
      await new Promise((r) => setTimeout(r, 500));

      const mark = text(c, 'r1').length;
      c.send({ op: 'input', id: 'r1', data: 'show ip arp\r' });
      await eventually(() => (/#\s*$/.test(text(c, 'r1').slice(mark).split('show ip arp')[1] ?? '') ? true : null), 10_000, 'show ip arp answering');
      const after = text(c, 'r1').slice(mark);
      expect(after, 'r1 kept its ARP table').toMatch(/10\.1\.0\.10\s/);
      expect(text(c, 'r1')).not.toMatch(/was rebuilt from lab\.yaml/);

    } finally {
      c.close();
      await t.api.request('POST', '/labs/triangle/stop');
    }
  }, 60_000);
});
