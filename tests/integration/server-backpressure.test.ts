/**
 * A WebSocket client that reads nothing while a lab floods (a switching loop without spanning
 * tree: a broadcast storm at full engine speed): the server's memory stays within a fixed
 * bound, and once the client reads again it is told how many trace records it missed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Reply, type TestServer, WsClient, eventually, startTestServer } from './server-harness.js';

let t: TestServer;
const MAX_BUFFERED = 256 * 1024;

beforeAll(async () => {
  t = await startTestServer({ ws: { maxBufferedBytes: MAX_BUFFERED } });
  await t.api.expect(201, 'POST', '/labs', {
    name: 'storm',
    nodes: {
      pc1: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } } },
      pc2: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.2/24' } } },
      sw1: { kind: 'switch', stp: false },
      sw2: { kind: 'switch', stp: false },
    },
    links: [['sw1:e0', 'sw2:e0'], ['sw1:e1', 'sw2:e1'], ['pc1:eth0', 'sw1:e2'], ['pc2:eth0', 'sw2:e2']],
    checks: [{ ping: { from: 'pc1', to: '10.0.0.2', count: 1 }, timeout: '2s' }],
  });
});
afterAll(async () => {
  await t?.close();
});

describe('a slow WebSocket client during a broadcast storm', () => {
  test('costs bounded memory and is told how many records it missed', async () => {
    await t.api.expect(200, 'POST', '/labs/storm/start');
    const rt = t.server.labs.runtime('storm')!;
    const slow = await WsClient.connect(t.api.base);
    await slow.subscribe({ id: 'all', channel: 'trace', lab: 'storm', raw: true });
    slow.ws.pause(); // reads nothing from here on

    // pc1's first ARP request loops between the switches for ever.
    const checks: Promise<Reply> = t.api.post('/labs/storm/checks/run');
    const before = rt.engine.delivered;
    await eventually(() => rt.engine.delivered - before > 200_000, 30_000, 'the storm');

    const serverSide = [...t.server.ws.wss.clients][0]!;
    const heap: number[] = [];
    let maxBuffered = 0;
    const sampleUntil = Date.now() + 5_000;
    while (Date.now() < sampleUntil) {
      await new Promise((r) => setTimeout(r, 100));
      heap.push(process.memoryUsage().heapUsed);
      maxBuffered = Math.max(maxBuffered, serverSide.bufferedAmount);
    }
    const forwarded = rt.engine.delivered - before;
    // Without a budget the server would have queued every record of millions of frames (well over 100 MB by now).
    expect(forwarded).toBeGreaterThan(1_000_000);
    expect(Math.max(...heap) - Math.min(...heap)).toBeLessThan(64 * 1024 * 1024);
    // What waits in the socket stays near the budget: at most one more batch beyond it.
    expect(maxBuffered).toBeLessThan(MAX_BUFFERED + 1024 * 1024);

    slow.ws.resume();
    // Messages sent before the socket filled come first; the ones after it say what was missed.
    const told = await slow.waitFor((m) => m.type === 'trace' && m.id === 'all' && m.droppedTotal > 100_000, 20_000, 'a large dropped count');
    const upTo = slow.messages.indexOf(told);
    const traceMsgs = slow.messages.slice(0, upTo + 1).filter((m) => m.type === 'trace' && m.id === 'all');
    expect(traceMsgs.reduce((n, m) => n + m.dropped, 0)).toBe(told.droppedTotal);
    const delivered = slow.records('all').length;
    expect(delivered).toBeGreaterThan(0);
    expect(delivered).toBeLessThan(forwarded / 10);

    await t.api.expect(200, 'POST', '/labs/storm/stop');
    await checks;
    slow.close();
  }, 120_000);
});
