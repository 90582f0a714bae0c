/**
 * A live snapshot keeps the consoles' command histories: after a restore, the up arrow recalls
 * what was typed before the snapshot, not what was typed after it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, WsClient, eventually, type TestServer } from './server-harness.js';

let t: TestServer;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wirelab-snapshot-console-'));
  cpSync(join(import.meta.dirname, '../../labs/triangle/lab.yaml'), join(dir, 'triangle', 'lab.yaml'));
  t = await startTestServer({ labsDir: dir });
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const UP = '\x1b[A';
const DOWN = '\x1b[B';

describe('console history in live snapshots', () => {
  it('comes back with the snapshot', async () => {
    expect((await t.api.request('POST', '/labs/triangle/start')).status).toBe(200);
    const c = await WsClient.connect(t.api.base);
    const text = () => c.messages.filter((m) => m.type === 'console' && m.id === 'r1').map((m) => m.data as string).join('');
    try {
      await c.subscribe({ id: 'r1', channel: 'console', lab: 'triangle', node: 'r1', cols: 120, rows: 40 });
      c.send({ op: 'input', id: 'r1', data: 'show ip route\r' });
      await eventually(() => /10\.3\.0\.0/.test(text()), 10_000, 'show ip route answering');
      const snap = await t.api.request('POST', '/labs/triangle/snapshots', { name: 'before' });
      expect(snap.status, snap.text).toBe(201);

      c.send({ op: 'input', id: 'r1', data: 'show arp\r' });
      await eventually(() => /Protocol\s+Address/.test(text()), 10_000, 'show arp answering');
      // Without a restore the up arrow recalls the last command.
      let mark = text().length;
      c.send({ op: 'input', id: 'r1', data: UP });
      await eventually(() => (text().slice(mark).includes('show arp') ? true : null), 5_000, 'the up arrow recalling show arp');
      c.send({ op: 'input', id: 'r1', data: DOWN }); // back to the empty line

      const restored = await t.api.request('POST', '/labs/triangle/snapshots/before/restore');
      expect(restored.status, restored.text).toBe(200);
      mark = text().length;
      c.send({ op: 'input', id: 'r1', data: UP });
      await eventually(() => (text().slice(mark).includes('show ip route') ? true : null), 5_000, 'the up arrow recalling the snapshot\'s last command');
      expect(text().slice(mark)).not.toContain('show arp');
    } finally {
      c.close();
      await t.api.request('POST', '/labs/triangle/stop');
    }
  }, 60_000);
});
