/**
 * The OpenAPI document: served at /api/v1/openapi.json, generated from the zod schemas, and in
 * step with the routes the server really answers.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type TestServer, startTestServer } from './server-harness.js';

let t: TestServer;
let doc: any;

beforeAll(async () => {
  t = await startTestServer();
  doc = (await t.api.expect(200, 'GET', '/openapi.json')).body;
});
afterAll(async () => {
  await t?.close();
});

describe('the OpenAPI document', () => {
  test('is OpenAPI 3.1 with the lab.yaml schemas as components', () => {
    expect(doc.openapi).toBe('3.1.0');
    const schemas = doc.components.schemas;
    // From devices/lab/schema.ts, not written by hand: the lab file's sections and a node's kinds.
    expect(Object.keys(schemas.LabFile.properties)).toEqual(expect.arrayContaining(['wirelab', 'name', 'networks', 'nodes', 'links', 'checks']));
    expect(schemas.LabFile.additionalProperties).toBe(false);
    const kinds = schemas.Node.oneOf.map((o: { properties: { kind: { const: string } } }) => o.properties.kind.const);
    expect(kinds).toEqual(['host', 'switch', 'router', 'hub', 'cloud']);
    const host = schemas.NodeCreate.oneOf.find((o: { properties: { kind: { const: string } } }) => o.properties.kind.const === 'host');
    expect(host.required).toEqual(expect.arrayContaining(['kind', 'name']));
    expect(schemas.Impairments.properties).toHaveProperty('loss');
    expect(schemas.Impairments.properties).not.toHaveProperty('endpoints');
  });

  test('documents every route once, and every $ref resolves', () => {
    const ops: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, { operationId: string }>>)) {
      for (const [method, op] of Object.entries(methods)) ops.push(`${method} ${path} ${op.operationId}`);
    }
    for (const r of t.server.routes) expect(ops.some((o) => o.startsWith(`${r.method} ${r.path} `)), `${r.method} ${r.path}`).toBe(true);
    const ids = ops.map((o) => o.split(' ')[2]);
    expect(new Set(ids).size).toBe(ids.length);
    const text = JSON.stringify(doc);
    for (const m of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) expect(doc.components.schemas, m[1]).toHaveProperty(m[1]!);
    expect(text).not.toMatch(/"\$ref":"#\/\$defs/);
  });

  test('every documented operation is one the server answers', async () => {
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      if (path === '/ws') continue;
      for (const method of Object.keys(methods)) {
        const concrete = path.replace(/\{(\w+)\}/g, 'nothing-here');
        const r = await t.api.request(method.toUpperCase(), concrete, ['post', 'put', 'patch'].includes(method) ? {} : undefined);
        // A missing lab is a 404 naming the lab; an unknown route would be "no such endpoint".
        expect(r.body?.error ?? '', `${method} ${path}`).not.toMatch(/no such endpoint/);
        expect([200, 400, 404, 409], `${method} ${path}: ${r.text}`).toContain(r.status);
      }
    }
  });
});
