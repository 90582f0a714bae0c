/**
 * Test harness for the server suites: a server on an ephemeral port over a temporary labs
 * folder, a small JSON client, and a WebSocket client that keeps every message for assertions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { type ServerOptions, type WirelabServer, startServer } from '../../server/app.js';

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export class Api {
  constructor(
    readonly base: string,
    readonly token: string | null = null,
  ) {}

  /**
   * One request, sent with node:http so the path goes out exactly as written (fetch would
   * resolve `%2e%2e` and `..` before sending).
   */
  async request(method: string, path: string, body?: unknown, init: { headers?: Record<string, string>; raw?: string | Uint8Array } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) };
    let payload: string | Uint8Array | undefined;
    if (init.raw !== undefined) payload = init.raw;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
    Object.assign(headers, init.headers ?? {});
    const url = new URL(this.base);
    const { status, head, text } = await new Promise<{ status: number; head: Headers; text: string }>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, method, path: '/api/v1' + path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          resolve({ status: res.statusCode ?? 0, head: h, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status, headers: head, body: parsed, text };
  }

  get(path: string) {
    return this.request('GET', path);
  }
  post(path: string, body?: unknown) {
    return this.request('POST', path, body);
  }
  put(path: string, body?: unknown) {
    return this.request('PUT', path, body);
  }
  patch(path: string, body?: unknown) {
    return this.request('PATCH', path, body);
  }
  delete(path: string) {
    return this.request('DELETE', path);
  }

  /** Like request, but fails the test unless the status is the one expected. */
  async expect(status: number, method: string, path: string, body?: unknown): Promise<Reply> {
    const r = await this.request(method, path, body);
    if (r.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${r.status} ${r.text}`);
    return r;
  }
}

export interface TestServer {
  server: WirelabServer;
  dir: string;
  api: Api;
  close(): Promise<void>;
}

export async function startTestServer(opts: ServerOptions = {}): Promise<TestServer> {
  const dir = opts.labsDir ?? mkdtempSync(join(tmpdir(), 'wirelab-server-'));
  const server = await startServer({ port: 0, logLevel: 'silent', watchDebounceMs: 50, ...opts, labsDir: dir });
  const base = server.url.replace('0.0.0.0', '127.0.0.1');
  return {
    server,
    dir,
    api: new Api(base, server.token),
    async close() {
      await server.close();
      if (opts.labsDir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Msg = any;

/** A WebSocket client that records every message, with waits on what arrives. */
export class WsClient {
  readonly messages: Msg[] = [];
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Msg;
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  static connect(base: string, token: string | null = null, headers: Record<string, string> = {}): Promise<WsClient> {
    const url = base.replace(/^http/, 'ws') + '/api/v1/ws' + (token ? `?token=${encodeURIComponent(token)}` : '');
    const ws = new WebSocket(url, { headers });
    const client = new WsClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** The first message (already received or to come) for which `pred` holds. */
  waitFor(pred: (m: Msg) => boolean, timeoutMs = 20_000, what = 'a message'): Promise<Msg> {
    const seen = this.messages.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; last messages: ${JSON.stringify(this.messages.slice(-5)).slice(0, 2000)}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Trace records received so far on subscription `id`. */
  records(id: string): Msg[] {
    return this.messages.filter((m) => m.type === 'trace' && m.id === id).flatMap((m) => m.records);
  }

  async subscribe(msg: Record<string, unknown>): Promise<Msg> {
    this.send({ op: 'subscribe', ...msg });
    const r = await this.waitFor((m) => (m.type === 'subscribed' || m.type === 'error') && m.id === msg['id'], 10_000, `subscription ${String(msg['id'])}`);
    if (r.type === 'error') throw new Error(`subscribe ${String(msg['id'])}: ${JSON.stringify(r)}`);
    return r;
  }

  close(): void {
    this.ws.close();
  }
}

/** Polls `fn` until it returns something truthy. */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 20_000, what = 'a condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
