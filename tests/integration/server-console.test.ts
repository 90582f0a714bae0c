/**
 * Node consoles over the WebSocket: the browser's xterm.js tab talks to the same interpreter as
 * the telnet port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startTestServer, WsClient, eventually, type TestServer } from './server-harness.js';

const R1_TELNET = 40_000 + Math.floor(Math.random() * 20_000);
let t: TestServer;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wirelab-consoles-'));
  cpSync(join(import.meta.dirname, '../../labs/triangle/lab.yaml'), join(dir, 'triangle', 'lab.yaml'));
  // A console port of its own, so that labs other test files run at the same time cannot hold it.
  const file = join(dir, 'triangle', 'lab.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('  r1:\n    kind: router\n', `  r1:\n    kind: router\n    console: ${R1_TELNET}\n`));
  t = await startTestServer({ labsDir: dir });
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

function text(c: WsClient, id: string): string {
  return c.messages.filter((m) => m.type === 'console' && m.id === id).map((m) => m.data as string).join('');
}

describe('consoles on the WebSocket', () => {
  it('are refused while the lab is stopped, then speak IOS and VPCS once it runs', async () => {
    const c = await WsClient.connect(t.api.base);
    try {
      await expect(c.subscribe({ id: 'early', channel: 'console', lab: 'triangle', node: 'r1' })).rejects.toThrow(/not running/);
      const started = await t.api.request('POST', '/labs/triangle/start');
      expect(started.status, started.text).toBe(200);

      await c.subscribe({ id: 'r1', channel: 'console', lab: 'triangle', node: 'r1', cols: 100, rows: 30 });
      c.send({ op: 'input', id: 'r1', data: 'sh ip int br\r' });
      await eventually(() => /GigabitEthernet0\/1|g0\/1/.test(text(c, 'r1')) && /10\.12\.0\.1/.test(text(c, 'r1')), 15_000, 'show ip interface brief');
      expect(text(c, 'r1')).toMatch(/10\.1\.0\.1/);

      await c.subscribe({ id: 'h1', channel: 'console', lab: 'triangle', node: 'h1' });
      c.send({ op: 'input', id: 'h1', data: 'ping 10.3.0.10 -c 2\r' });
      await eventually(() => (text(c, 'h1').match(/10\.3\.0\.10 icmp_seq=\d+ ttl=62/g) ?? []).length >= 2, 20_000, 'two ping replies on h1').catch((e) => {
        throw new Error(`${e.message}: ${JSON.stringify(text(c, 'h1'))}`);
      });

      // The same console on its telnet port, shared with the browser.
      const telnet = await new Promise<string>((resolve, reject) => {
        const sock = connect(R1_TELNET, '127.0.0.1');
        let seen = '';
        sock.on('data', (d) => {
          seen += d.toString('latin1');
          if (/r1[>#]\s*$/.test(seen) && !seen.includes('sh ip int br')) sock.write('sh ip int br\r\n');
          if (/10\.12\.0\.1/.test(seen)) {
            sock.destroy();
            resolve(seen);
          }
        });
        sock.on('error', reject);
        setTimeout(() => {
          sock.destroy();
          reject(new Error(`telnet saw: ${JSON.stringify(seen)}`));
        }, 10_000);
        sock.write('\r\n');
      });
      expect(telnet).toMatch(/GigabitEthernet0\/1\s+10\.12\.0\.1/);

      await expect(c.subscribe({ id: 'ghost', channel: 'console', lab: 'triangle', node: 'nobody' })).rejects.toThrow(/nobody/);
      c.send({ op: 'input', id: 'none', data: 'x' });
      await c.waitFor((m) => m.type === 'error' && m.id === 'none', 5_000, 'an error for a console nobody opened');

      // Stopping the lab closes its consoles.
      expect((await t.api.request('POST', '/labs/triangle/stop')).status).toBe(200);
      await c.waitFor((m) => m.type === 'closed' && m.id === 'r1', 10_000, 'the console closing with the lab');
      expect(readFileSync(join(t.dir, 'triangle', 'lab.yaml'), 'utf8')).toContain('name: triangle');
    } finally {
      c.close();
    }
  });
});
