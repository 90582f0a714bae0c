/**
 * The OpenAPI 3.1 document of the API, made from the route table and the zod schemas (zod 4's
 * JSON Schema output is the 2020-12 dialect OpenAPI 3.1 uses).
 */
import { z } from 'zod';
import { NAMED_SCHEMAS } from '../contract/index.js';
import type { Route } from './api.js';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad input; details name the field',
  401: 'A token is required (the server listens beyond loopback)',
  403: 'Refused: not a loopback Host or Origin',
  404: 'Not found',
  409: 'Conflict with the lab\'s state (running, already exists, still referred to, lab.yaml broken on disk)',
  413: 'The body is too large',
  415: 'The body is not JSON',
  503: 'Busy (too many imports at once); try again after Retry-After seconds',
};

export function openApiDocument(table: Route[], version: string): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(NAMED_SCHEMAS)) registry.add(schema, { id });
  const generated = z.toJSONSchema(registry, { io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
  const schemas: Record<string, unknown> = {};
  for (const [id, s] of Object.entries(generated.schemas)) {
    const { $schema: _schema, $id: _id, ...rest } = s as Record<string, unknown>;
    schemas[id] = tidy(rest);
  }
  const ref = (schema: z.ZodType): unknown => {
    const id = registry.get(schema)?.id;
    if (id) return { $ref: `#/components/schemas/${id}` };
    const def = (schema as unknown as { _zod: { def: { type: string; element?: z.ZodType } } })._zod.def;
    if (def.type === 'array' && def.element) return { type: 'array', items: ref(def.element) };
    const { $schema: _schema, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    return tidy(rest);
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of table) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const ok = r.status ?? 200;
    const responses: Record<string, unknown> = {};
    if (r.produces) responses[String(ok)] = { description: 'The file', content: { [r.produces]: { schema: { type: 'string', format: 'binary' } } } };
    else if (ok === 204) responses['204'] = { description: 'Done' };
    else responses[String(ok)] = { description: 'OK', content: { 'application/json': { schema: r.response ? ref(r.response) : {} } } };
    if (r.noContent) responses['204'] = { description: r.noContent };
    const errs = new Set([400, 401, 403, ...(r.body ? [413, 415] : []), ...(r.errors ?? [])]);
    for (const e of [...errs].sort()) {
      responses[String(e)] = { description: STATUS_TEXT[e] ?? 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    const op: Record<string, unknown> = {
      operationId: operationId(r),
      summary: r.summary,
      tags: [r.tag],
      ...(params.length ? { parameters: params } : {}),
      ...(r.body ? { requestBody: { required: !r.body.optional, content: { 'application/json': { schema: ref(r.body.schema) } } } } : {}),
      responses,
    };
    (paths[r.path] ??= {})[r.method] = op;
  }
  paths['/ws'] = {
    get: {
      operationId: 'websocket',
      summary:
        'WebSocket (upgrade). Send WsClientMessage JSON: subscribe to lab events (channel lab) or packet traces (channel trace, per link or lab-wide, with a filter); ' +
        'receive {type: event|trace|subscribed|error,...}. Trace messages carry records {time, link, from, to, length, protocol, src, dst, info, layers[, raw]} and dropped counts.',
      tags: ['websocket'],
      responses: { '101': { description: 'Switching protocols' }, '401': { description: STATUS_TEXT[401] } },
    },
  };
  paths['/openapi.json'] = { get: { operationId: 'openapi', summary: 'This document', tags: ['meta'], responses: { '200': { description: 'OK', content: { 'application/json': {} } } } } };

  return {
    openapi: '3.1.0',
    info: {
      title: 'wirelab',
      version,
      description:
        'Build and run network labs. Every body is validated with the lab.yaml schemas; errors are {error, details} with the field at fault. ' +
        'Beyond loopback every request needs Authorization: Bearer TOKEN (or ?token=).',
    },
    servers: [{ url: '/api/v1' }],
    components: {
      schemas,
      securitySchemes: { token: { type: 'http', scheme: 'bearer' }, tokenQuery: { type: 'apiKey', in: 'query', name: 'token' } },
    },
    security: [{}, { token: [] }, { tokenQuery: [] }],
    paths,
  };
}

/** Drops zod's ±2^53 bounds on integers: true of every JSON number a client sends, and noise to a reader. */
function tidy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(tidy);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if ((k === 'minimum' && x === Number.MIN_SAFE_INTEGER) || (k === 'maximum' && x === Number.MAX_SAFE_INTEGER)) continue;
    out[k] = tidy(x);
  }
  return out;
}

function operationId(r: Route): string {
  const words = r.path
    .split('/')
    .filter(Boolean)
    .map((s) => (s.startsWith('{') ? '' : s.replace(/\..*$/, '')))
    .filter(Boolean);
  return [r.method, ...words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))].join('') + (r.path.endsWith('}') ? 'One' : '') + (r.path.endsWith('.pcapng') ? 'File' : '');
}
