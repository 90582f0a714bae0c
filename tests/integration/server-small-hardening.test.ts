/**
 * Small holes an adversarial probe found (issue 15, item 11): a JSON body nested 100,000 deep is
 * a 400, not a 500; the Authorization scheme is case-insensitive (RFC 7235) while a wrong or
 * missing token is still refused; a check name holds printable text only, so --junit XML stays valid.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { Api, type TestServer, startTestServer } from './server-harness.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const json = { 'content-type': 'application/json' };

describe('deeply nested JSON bodies', () => {
  test('100,000 deep is a 400 naming the body, and the server keeps answering', { timeout: 30_000 }, async () => {
    t = await startTestServer();
    await t.api.expect(201, 'POST', '/labs', { name: 'deep' });
    for (const [open, close] of [['[', ']'], ['{"a":', '}']]) {
      const raw = open!.repeat(100_000) + '1' + close!.repeat(100_000);
      for (const [method, path] of [['POST', '/labs'], ['PUT', '/labs/deep'], ['POST', '/labs/deep/nodes'], ['PATCH', '/labs/deep/nodes/pc1']]) {
        const r = await t.api.request(method!, path!, undefined, { raw, headers: json });
        expect(r.status, `${method} ${path}: ${r.text.slice(0, 200)}`).toBe(400);
        expect(r.body.details[0].field).toBe('(body)');
        expect(r.body.error).toMatch(/nested/);
      }
    }
    // Brackets inside strings are text, not nesting.
    const text = await t.api.request('POST', '/labs', undefined, { raw: JSON.stringify({ name: 'text', description: '['.repeat(10_000) }), headers: json });
    expect(text.status, text.text.slice(0, 200)).toBe(201);
    expect((await t.api.get('/labs')).status).toBe(200);
  });
});

describe('the Authorization scheme', () => {
  test('bearer, BEARER and Bearer all carry the token; a wrong or missing one is refused', async () => {
    t = await startTestServer({ host: '0.0.0.0' });
    const token = t.server.token!;
    const anonymous = new Api(t.api.base);
    for (const scheme of ['bearer', 'BEARER', 'Bearer', 'bEaReR']) {
      const r = await anonymous.request('GET', '/labs', undefined, { headers: { authorization: `${scheme} ${token}` } });
      expect(r.status, `${scheme}: ${r.text}`).toBe(200);
    }
    for (const auth of [`bearer ${'x'.repeat(token.length)}`, 'bearer ', 'bearer', `Basic ${token}`, `bearer${token}`]) {
      const r = await anonymous.request('GET', '/labs', undefined, { headers: { authorization: auth } });
      expect(r.status, auth).toBe(401);
    }
    expect((await anonymous.get('/labs')).status).toBe(401);
  });
});

describe('check names', () => {
  test('a NUL or another control character in a check name is refused', async () => {
    t = await startTestServer();
    await t.api.expect(201, 'POST', '/labs', { name: 'checks', nodes: { pc1: { kind: 'host' } } });
    for (const name of ['a\u0000b', 'bell\u0007', 'line\nbreak', 'esc\u001b[31m', 'del\u007f', 'c1\u0085']) {
      const r = await t.api.post('/labs/checks/checks', { name, ping: { from: 'pc1', to: '10.0.0.1' } });
      expect(r.status, `${JSON.stringify(name)}: ${r.text}`).toBe(400);
      expect(r.text).toMatch(/name/);
      const whole = await t.api.put('/labs/checks', { name: 'checks', nodes: { pc1: { kind: 'host' } }, checks: [{ name, ping: { from: 'pc1', to: '10.0.0.1' } }] });
      expect(whole.status, whole.text).toBe(400);
    }
    const ok = await t.api.post('/labs/checks/checks', { name: 'pc1 reaches itself — «ok» ✓', ping: { from: 'pc1', to: '10.0.0.1' } });
    expect(ok.status, ok.text).toBe(201);
  });
});
