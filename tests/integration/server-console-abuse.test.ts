/**
 * Hostile console clients: a telnet client that never reads and asks "are you there" (IAC AYT)
 * without end, and megabytes typed on one line without Enter, over telnet and the WebSocket.
 * The server's memory for the connection stays bounded, the API keeps answering, and the console
 * still works afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { type TestServer, WsClient, eventually, startTestServer } from './server-harness.js';

const PORT = 40_000 + Math.floor(Math.random() * 20_000);
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  await t.api.expect(201, 'POST', '/labs', {
    name: 'abuse',
    nodes: { r1: { kind: 'router', console: PORT, interfaces: { 'g0/0': { ip: '10.1.0.1/24' } } } },
    links: [],
  });
  await t.api.expect(200, 'POST', '/labs/abuse/start');
});
afterAll(async () => {
  await t?.close();
});

/** GETs /labs every 100 ms until stopped; answers the slowest reply's time in ms. */
function probeLatency(): { stop(): Promise<number> } {
  let running = true;
  let worst = 0;
  const loop = (async () => {
    while (running) {
      const start = performance.now();
      const r = await t.api.get('/labs');
      expect(r.status).toBe(200);
      worst = Math.max(worst, performance.now() - start);
      await new Promise((res) => setTimeout(res, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return worst;
    },
  };
}

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(PORT, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Writes `total` bytes of 'a' in pieces of `size`, each waiting for the one before to leave. */
async function flood(write: (chunk: Buffer | string, done: () => void) => void, total: number, size: number, asString = false): Promise<void> {
  const piece = Buffer.alloc(size, 'a');
  const text = piece.toString('latin1');
  for (let sent = 0; sent < total; sent += piece.length) await new Promise<void>((r) => write(asString ? text : piece, r));
}

describe('hostile console clients', () => {
  it('a telnet client that never reads and sends IAC AYT without end is cut off, memory bounded', async () => {
    const sock = await open();
    sock.pause(); // reads nothing from here on
    let closed = false;
    sock.on('close', () => (closed = true));
    sock.on('error', () => undefined);
    const probe = probeLatency();
    const rss0 = process.memoryUsage().rss;
    let rssMax = rss0;
    // 50,000 AYT per round: each answered with `\r\n[Yes]\r\n` (9 bytes), so the answers owed
    // reach the 1 MiB backlog after a few rounds.
    const ayt = Buffer.alloc(100_000);
    for (let i = 0; i < ayt.length; i += 2) ayt.set([0xff, 0xf6], i);
    const deadline = Date.now() + 15_000;
    for (let round = 0; !closed && Date.now() < deadline && round < 200; round++) {
      if (!sock.destroyed) sock.write(ayt);
      await new Promise((r) => setTimeout(r, 20));
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
    }
    const worst = await probe.stop();
    sock.destroy();
    expect(closed, 'the server drops a client that owes it over its backlog').toBe(true);
    expect(rssMax - rss0).toBeLessThan(50 * 1024 * 1024);
    expect(worst).toBeLessThan(2_000);
  }, 40_000);

  it('megabytes typed on one line over telnet: the API keeps answering and the console still works', async () => {
    const sock = await open();
    sock.on('error', () => undefined);
    let tail = '';
    sock.on('data', (d: Buffer) => (tail = (tail + d.toString('latin1')).slice(-4096)));
    sock.write('\r\n');
    await eventually(() => /r1>\s*$/.test(tail), 10_000, 'the prompt');
    const probe = probeLatency();
    await flood((c, done) => sock.write(c, () => done()), 6 * 1024 * 1024, 64 * 1024);
    await new Promise((r) => setTimeout(r, 500));
    const worst = await probe.stop();
    expect(worst).toBeLessThan(2_000);
    sock.write('\r\nshow ip interface brief\r\n');
    await eventually(() => /10\.1\.0\.1/.test(tail), 15_000, 'the command answered after the long line');
    sock.destroy();
  }, 60_000);

  it('megabytes typed on one line over the WebSocket: the API keeps answering and the console still works', async () => {
    const c = await WsClient.connect(t.api.base);
    try {
      await c.subscribe({ id: 'r1', channel: 'console', lab: 'abuse', node: 'r1' });
      const probe = probeLatency();
      await flood((chunk, done) => c.ws.send(JSON.stringify({ op: 'input', id: 'r1', data: chunk as string }), () => done()), 4 * 1024 * 1024, 16_000, true); // 16,000: under the console message's limit
      await new Promise((r) => setTimeout(r, 500));
      const worst = await probe.stop();
      expect(worst).toBeLessThan(2_000);
      const text = () =>
        c.messages
          .filter((m) => m.type === 'console')
          .slice(-50)
          .map((m) => m.data as string)
          .join('');
      // Input beyond what a console holds waiting is dropped, so Enter is sent until it is taken.
      const until = Date.now() + 15_000;
      while (!/10\.1\.0\.1/.test(text())) {
        expect(Date.now() < until, `the command answered after the long line; saw ${JSON.stringify(text().slice(-300))}`).toBe(true);
        c.send({ op: 'input', id: 'r1', data: '\rshow ip interface brief\r' });
        await new Promise((r) => setTimeout(r, 500));
      }
      // Echo came in a few large messages, not one per typed character.
      expect(c.messages.filter((m) => m.type === 'console').length).toBeLessThan(10_000);
    } finally {
      c.close();
    }
  }, 60_000);
});
