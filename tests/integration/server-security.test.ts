/**
 * Who gets in: beyond loopback every HTTP request and WebSocket upgrade needs the token (401
 * without it); on loopback the server answers loopback names and pages only.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { Api, type TestServer, WsClient, startTestServer } from './server-harness.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
  delete process.env['WIRELAB_TOKEN'];
});

describe('listening beyond loopback', () => {
  test('a token is generated, and requests without it are refused with 401', async () => {
    t = await startTestServer({ host: '0.0.0.0' });
    const { server } = t;
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(server.tokenGenerated).toBe(true);
    const anonymous = new Api(t.api.base);
    for (const [method, path] of [['GET', '/labs'], ['POST', '/labs'], ['GET', '/openapi.json'], ['DELETE', '/labs/x']] as const) {
      const r = await anonymous.request(method, path, method === 'POST' ? { name: 'sneaky' } : undefined);
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(r.body.error).toMatch(/token/);
    }
    expect((await new Api(t.api.base, 'wrong-token-of-the-same-length-xx').get('/labs')).status).toBe(401);
    // Nothing was created by the refused POST.
    const ok = await t.api.get('/labs');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual([]);
    // The token also works as a query parameter (browsers' WebSocket, curl | wireshark).
    const q = await anonymous.get(`/labs?token=${encodeURIComponent(server.token!)}`);
    expect(q.status).toBe(200);
  });

  test('the WebSocket upgrade needs the token too', async () => {
    t = await startTestServer({ host: '0.0.0.0' });
    await expect(WsClient.connect(t.api.base)).rejects.toThrow(/401/);
    const ws = await WsClient.connect(t.api.base, t.server.token);
    const hello = await ws.waitFor((m) => m.type === 'hello');
    expect(hello.version).toBe(1);
    ws.close();
  });

  test('WIRELAB_TOKEN chooses the token', async () => {
    process.env['WIRELAB_TOKEN'] = 'chosen-by-the-operator';
    t = await startTestServer({ host: '0.0.0.0' });
    expect(t.server.token).toBe('chosen-by-the-operator');
    expect(t.server.tokenGenerated).toBe(false);
    expect((await new Api(t.api.base).get('/labs')).status).toBe(401);
    expect((await new Api(t.api.base, 'chosen-by-the-operator').get('/labs')).status).toBe(200);
  });

  test('a token can be required on loopback as well', async () => {
    t = await startTestServer({ token: 'loopback-token' });
    expect((await new Api(t.api.base).get('/labs')).status).toBe(401);
    expect((await new Api(t.api.base, 'loopback-token').get('/labs')).status).toBe(200);
  });
});

describe('on loopback without a token', () => {
  test('answers requests to loopback names, refuses other Host names (DNS rebinding)', async () => {
    t = await startTestServer();
    expect(t.server.token).toBeNull();
    expect((await t.api.get('/labs')).status).toBe(200);
    expect((await t.api.request('GET', '/labs', undefined, { headers: { host: `localhost:${t.server.port}` } })).status).toBe(200);
    const rebound = await t.api.request('GET', '/labs', undefined, { headers: { host: `attacker.example:${t.server.port}` } });
    expect(rebound.status).toBe(403);
  });

  test('refuses requests from pages of other sites, HTTP and WebSocket', async () => {
    t = await startTestServer();
    const cross = await t.api.request('POST', '/labs', { name: 'csrf' }, { headers: { origin: 'https://attacker.example' } });
    expect(cross.status).toBe(403);
    expect((await t.api.get('/labs')).body).toEqual([]);
    const local = await t.api.request('POST', '/labs', { name: 'ui' }, { headers: { origin: 'http://localhost:5173' } });
    expect(local.status).toBe(201);
    await expect(WsClient.connect(t.api.base, null, { origin: 'https://attacker.example' })).rejects.toThrow(/403/);
    const ws = await WsClient.connect(t.api.base, null, { origin: `http://127.0.0.1:${t.server.port}` });
    ws.close();
  });
});
