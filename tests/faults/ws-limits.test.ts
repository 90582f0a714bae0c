/**
 * WebSocket limits, against a server in its own process (so RSS is the server's): subscriptions
 * per connection are capped with an error message and stay cheap (3,000 trace subscribes on one
 * socket once took a GET to 19 s and the server to 1.3 GB); connections are capped per server and
 * per client address with close code 1013; an idle connection, even one with a lab and a trace
 * subscription, costs little memory.
 *
 * Bounds (generous; a regression to the old behaviour breaks them many times over): a GET during
 * the 3,000 subscribes answers within 3 s; the server grows by less than 100 MB; 200 connections
 * with two subscriptions each cost less than 100 KB of RSS per connection (measured: about 15 KB).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, startTestServer } from '../integration/server-harness.js';
import { type Spawned, spawnServer } from './spawned.js';

let s: Spawned;
let api: Api;
const dir = mkdtempSync(join(tmpdir(), 'wirelab-ws-limits-'));

beforeAll(async () => {
  s = await spawnServer(dir, { logLevel: 'error' });
  api = new Api(s.url);
  const nodes: Record<string, unknown> = { sw: { kind: 'switch', ports: 8 } };
  const links: string[][] = [];
  for (let i = 0; i < 4; i++) {
    nodes[`h${i}`] = { kind: 'host', interfaces: { eth0: { ip: `10.0.0.${i + 1}/24` } } };
    links.push([`h${i}:eth0`, `sw:e${i}`]);
  }
  await api.expect(201, 'POST', '/labs', { name: 'l', nodes, links });
  await api.expect(200, 'POST', '/labs/l/start');
});
afterAll(async () => {
  await s?.kill();
  rmSync(dir, { recursive: true, force: true });
});

interface Conn {
  ws: WebSocket;
  messages: any[];
  closed: Promise<{ code: number; reason: string }>;
}

function open(localAddress?: string): Promise<Conn> {
  const ws = new WebSocket(s.url.replace('http', 'ws') + '/api/v1/ws', localAddress ? { localAddress } : {});
  const messages: any[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, closed }));
    ws.once('error', reject);
  });
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function settledRss(): Promise<number> {
  await new Promise((r) => setTimeout(r, 1500));
  return s.rssMb();
}

describe('WebSocket limits', () => {
  it('3,000 trace subscribes on one socket: 64 taken, the rest refused with field id, GETs keep answering', async () => {
    const rss0 = await settledRss();
    const c = await open();
    await until(() => c.messages.some((m) => m.type === 'hello'), 5_000, 'hello');
    for (let i = 0; i < 3000; i++) c.ws.send(JSON.stringify({ op: 'subscribe', id: `t${i}`, channel: 'trace', lab: 'l' }));
    const t0 = performance.now();
    expect((await api.get('/labs')).status).toBe(200);
    const getMs = performance.now() - t0;
    await until(() => c.messages.filter((m) => m.type === 'subscribed' || m.type === 'error').length >= 3000, 30_000, '3,000 answers');
    const subscribed = c.messages.filter((m) => m.type === 'subscribed');
    const refused = c.messages.filter((m) => m.type === 'error');
    expect(subscribed.length).toBe(64);
    expect(refused.length).toBe(3000 - 64);
    expect(refused[0]).toMatchObject({ id: 't64', details: [{ field: 'id' }] });
    expect(refused[0].error).toContain('64 subscriptions');
    expect(getMs).toBeLessThan(3_000);
    // Still open and usable: one unsubscribe makes room for one more.
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.ws.send(JSON.stringify({ op: 'unsubscribe', id: 't0' }));
    c.ws.send(JSON.stringify({ op: 'subscribe', id: 'again', channel: 'trace', lab: 'l' }));
    await until(() => c.messages.some((m) => m.type === 'subscribed' && m.id === 'again'), 5_000, 'the subscription after an unsubscribe');
    // The lab's traffic reaches the subscriptions (ping: ARP and ICMP on every link).
    await api.expect(201, 'POST', '/labs/l/checks', { name: 'p', ping: { from: 'h0', to: '10.0.0.2', count: 1 } });
    await api.expect(200, 'POST', '/labs/l/checks/run');
    await until(() => c.messages.some((m) => m.type === 'trace' && m.id === 'again' && m.records.length > 0), 10_000, 'trace records');
    const growth = (await settledRss()) - rss0;
    expect(growth).toBeLessThan(100);
    c.ws.close();
    await c.closed;
  });

  it('an idle connection with a lab and a trace subscription costs little memory', async () => {
    const rss0 = await settledRss();
    const conns: Conn[] = [];
    // Spread over addresses: 64 connections from one address at most.
    for (let i = 0; i < 200; i++) {
      const c = await open(`127.0.0.${2 + (i % 4)}`);
      c.ws.send(JSON.stringify({ op: 'subscribe', id: 'ev', channel: 'lab', lab: 'l' }));
      c.ws.send(JSON.stringify({ op: 'subscribe', id: 'tr', channel: 'trace', lab: 'l' }));
      conns.push(c);
    }
    await until(() => conns.every((c) => c.messages.filter((m) => m.type === 'subscribed').length === 2), 20_000, 'every subscription');
    // Traffic, so that each trace ring holds frames.
    await api.expect(200, 'POST', '/labs/l/checks/run');
    const rss1 = await settledRss();
    const perConnKb = ((rss1 - rss0) * 1024) / conns.length;
    console.log(`RSS ${rss0.toFixed(1)} -> ${rss1.toFixed(1)} MB for ${conns.length} connections: ${perConnKb.toFixed(1)} KB each`);
    expect(perConnKb).toBeLessThan(100);
    for (const c of conns) c.ws.close();
    await Promise.all(conns.map((c) => c.closed));
  });

  it('refuses the 65th connection from one address and the 257th to the server with code 1013', async () => {
    const conns: Conn[] = [];
    for (let i = 0; i < 64; i++) conns.push(await open('127.0.0.9'));
    const extra = await open('127.0.0.9');
    const refusal = await extra.closed;
    expect(refusal.code).toBe(1013);
    expect(refusal.reason).toMatch(/too many WebSocket connections from .*127\.0\.0\.9: 64 at most/);
    // Three more addresses make 256; the next from a fifth address is refused by the server-wide limit.
    for (let a = 10; a < 13; a++) for (let i = 0; i < 64; i++) conns.push(await open(`127.0.0.${a}`));
    const over = await open('127.0.0.20');
    const r2 = await over.closed;
    expect(r2.code).toBe(1013);
    expect(r2.reason).toBe('too many WebSocket connections: the server takes 256');
    // A connection closed makes room again.
    conns.pop()!.ws.close();
    await new Promise((r) => setTimeout(r, 200));
    const again = await open('127.0.0.20');
    await until(() => again.messages.some((m) => m.type === 'hello'), 5_000, 'hello');
    expect((await api.get('/labs')).status).toBe(200);
    for (const c of [...conns, again]) c.ws.close();
    await Promise.all([...conns, again].map((c) => c.closed));
  });
});

describe('WebSocket limits on a server with a token', () => {
  it('connections without the token or with a wrong one are refused before they count against the limits', async () => {
    const t = await startTestServer({ token: 'right-token', ws: { maxConnections: 2 } });
    try {
      const ws = (token: string | null) => new WebSocket(t.api.base.replace('http', 'ws') + '/api/v1/ws' + (token ? `?token=${token}` : ''));
      for (const token of [null, 'wrong', null, 'wrong', null]) {
        const status = await new Promise<number>((resolve) => {
          const w = ws(token);
          w.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          w.once('open', () => resolve(101));
          w.once('error', () => resolve(-1));
        });
        expect(status, `token ${token}`).toBe(401);
      }
      const open = await Promise.all(
        [0, 1].map(
          () =>
            new Promise<WebSocket>((resolve, reject) => {
              const w = ws('right-token');
              w.once('open', () => resolve(w));
              w.once('error', reject);
            }),
        ),
      );
      const third = ws('right-token');
      const closed = await new Promise<{ code: number; reason: string }>((resolve) => third.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
      expect(closed).toEqual({ code: 1013, reason: 'too many WebSocket connections: the server takes 2' });
      for (const w of open) w.close();
    } finally {
      await t.close();
    }
  });
});
