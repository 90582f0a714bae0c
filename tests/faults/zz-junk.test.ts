import { it } from 'vitest';
import { startTestServer, WsClient } from '../integration/server-harness.js';
import { abuseLab } from './abuse.js';
it('junk', async () => {
  const t = await startTestServer();
  await t.api.expect(201, 'POST', '/labs', abuseLab('abuse'));
  await t.api.expect(200, 'POST', '/labs/abuse/start');
  const lab = 'abuse';
  const junk = ['{', 'null', '[]', JSON.stringify({ op: 'subscribe' }),
    JSON.stringify({ op: 'subscribe', id: 'x', channel: 'console', lab, node: '__proto__' }),
    JSON.stringify({ op: 'subscribe', id: 'y', channel: 'trace', lab, link: 'constructor' }),
    JSON.stringify({ op: 'input', id: 'nope', data: 'x' }),
    JSON.stringify({ op: 'subscribe', id: 'z', channel: 'trace', lab, filter: { protocol: 'valueOf' } })];
  for (const j of junk) {
    const c = await WsClient.connect(t.api.base);
    await c.waitFor((m) => m.type === 'hello');
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) c.ws.send(j);
    await c.waitFor(() => c.messages.length >= 2001, 60000);
    console.log(j.slice(0, 60), ((performance.now() - t0) / 2000 * 1000).toFixed(1), 'us each', JSON.stringify(c.messages[1]).slice(0, 200));
    c.close();
  }
  await t.close();
}, 200000);
