/**
 * On a server with a token, a telnet console is reached only by a client that types the token
 * as its first line; a wrong one is told so and disconnected (before this, anyone on the host
 * could `hostname pwned` and `write memory`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { type TestServer, startTestServer } from './server-harness.js';

const PORT = 40_000 + Math.floor(Math.random() * 20_000);
const TOKEN = 'console-token-0123456789';
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ token: TOKEN });
  await t.api.expect(201, 'POST', '/labs', {
    name: 'guarded',
    nodes: { r1: { kind: 'router', console: PORT, interfaces: { 'g0/0': { ip: '10.1.0.1/24' } } } },
    links: [],
  });
  await t.api.expect(200, 'POST', '/labs/guarded/start');
});
afterAll(async () => {
  await t?.close();
});

/** Connects, sends `lines` one by one as prompts appear, and answers all it saw when the server closes or after 5 s. */
function session(lines: string[]): Promise<{ seen: string; closed: boolean }> {
  return new Promise((resolve) => {
    const sock = connect(PORT, '127.0.0.1');
    let seen = '';
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ seen, closed });
    };
    const timer = setTimeout(finish, 5_000);
    sock.on('data', (d: Buffer) => {
      seen += d.toString('latin1').replace(/\xff[\xfb-\xfe]./gs, '');
      if (/(Token: |[>#] ?)$/.test(seen) && lines.length > 0) sock.write(`${lines.shift()!}\r\n`);
      if (lines.length === 0 && /hostname-done/.test(seen)) finish();
    });
    sock.on('close', () => {
      closed = true;
      finish();
    });
    sock.on('error', () => undefined);
  });
}

describe('telnet consoles on a server with a token', () => {
  it('refuse a client without the token and take one that gives it first', async () => {
    const refused = await session(['enable', 'configure terminal', 'hostname pwned', 'end', 'write memory']);
    expect(refused.closed).toBe(true);
    expect(refused.seen).toContain('Token: ');
    expect(refused.seen).toMatch(/wrong token; the console needs the server's token/);
    expect(refused.seen).not.toContain('pwned');
    expect(readFileSync(join(t.dir, 'guarded', 'lab.yaml'), 'utf8')).not.toContain('pwned');
    expect((await t.api.get('/labs/guarded/nodes/r1')).text).not.toContain('pwned');

    const taken = await session([TOKEN, 'enable', 'show ip interface brief', 'echo hostname-done']);
    expect(taken.seen).not.toContain(TOKEN); // not echoed
    expect(taken.seen).toMatch(/r1#/);
    expect(taken.seen).toMatch(/10\.1\.0\.1/);
  }, 20_000);

  it('takes the token\'s CR and LF in separate pieces without an empty line for the console', async () => {
    const sock = connect(PORT, '127.0.0.1');
    sock.on('error', () => undefined);
    let seen = '';
    sock.on('data', (d: Buffer) => (seen += d.toString('latin1').replace(/\xff[\xfb-\xfe]./gs, '')));
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    while (!seen.includes('Token: ')) await pause(10);
    sock.write(`${TOKEN}\r`);
    await pause(100);
    sock.write('\n');
    await pause(300);
    sock.destroy();
    expect(seen.match(/r1[>#]/g)).toHaveLength(1);
  }, 10_000);
});
