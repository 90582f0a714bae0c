/**
 * The wirelab server: the HTTP API (/api/v1), the WebSocket hub (/api/v1/ws), live traces,
 * captures and the lab store, put together and listening.
 */
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import { type Logger, pino } from 'pino';
import { MAX_NESTING } from '../devices/lab/load.js';
import { type Route, router, routes } from './api.js';
import { type AccessPolicy, checkAccess, generateToken, isLoopbackHost } from './auth.js';
import { type CaptureOptions, CaptureManager } from './captures.js';
import { ApiError } from './errors.js';
import { LabService } from './labs.js';
import { openApiDocument } from './openapi.js';
import { type RuntimeFactory, realWorldRuntimeFactory } from './runtime.js';
import { InvalidLabName, LabStore } from './store.js';
import { TraceHub } from './trace.js';
import { type WsOptions, WsHub } from './ws.js';
import { LabConsoles } from './console-channel.js';
import { consoleBudget } from './console-ports.js';

/** How long stopping the server waits for requests in flight before it closes their connections. */
const SHUTDOWN_GRACE_MS = 10_000;

export const API_PREFIX = '/api/v1';
export const API_VERSION = '1.0.0';

export interface ServerOptions {
  /** Default 127.0.0.1. Anything but loopback requires a token. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** The labs directory (default ./labs). */
  labsDir?: string;
  /** pino level (default info); ignored when `logger` is given. */
  logLevel?: string;
  logger?: Logger;
  /**
   * A token every request must carry. When absent: WIRELAB_TOKEN if set, otherwise a token is
   * generated when `host` is not loopback, and none is required on loopback.
   */
  token?: string;
  /** Largest request body (default 1 MiB). */
  bodyLimitBytes?: number;
  /** How a lab's runtime is made at start (default: devices/lab/runtime.js's LabRuntime). */
  runtimeFactory?: RuntimeFactory;
  /** The built web client to serve at /; default dist/client of this checkout when it was built. */
  clientDir?: string;
  /** Notice hand edits of lab.yaml (default true). */
  watch?: boolean;
  watchDebounceMs?: number;
  ws?: Partial<Omit<WsOptions, 'log' | 'labs' | 'traces'>>;
  captures?: CaptureOptions;
  /** Telnet console listeners the server may open (default: from its open-file limit, server/console-ports.ts). */
  consoleListeners?: number;
}

export interface WirelabServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The token requests must carry, or null on loopback without one. */
  readonly token: string | null;
  /** True when the token was made up at start (and should be shown to the user). */
  readonly tokenGenerated: boolean;
  readonly labs: LabService;
  readonly traces: TraceHub;
  readonly captures: CaptureManager;
  readonly ws: WsHub;
  readonly http: Server;
  readonly log: Logger;
  readonly routes: Route[];
  close(): Promise<void>;
}

export async function startServer(opts: ServerOptions = {}): Promise<WirelabServer> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.logger ?? pino({ level: opts.logLevel ?? 'info', base: undefined });
  const envToken = process.env['WIRELAB_TOKEN'];
  let token: string | null = opts.token ?? (envToken && envToken.length > 0 ? envToken : null);
  let tokenGenerated = false;
  if (token === null && !isLoopbackHost(host)) {
    token = generateToken();
    tokenGenerated = true;
  }
  const policy: AccessPolicy = { token };

  const store = new LabStore(opts.labsDir ?? './labs');
  const labs = new LabService(store, {
    log,
    // Cloud nodes and bridged networks reach real equipment through the server's endpoints.
    runtimeFactory: opts.runtimeFactory ?? realWorldRuntimeFactory((node, message) => log.warn({ node }, message)),
    watch: opts.watch,
    watchDebounceMs: opts.watchDebounceMs,
  });
  await labs.init();
  const traces = new TraceHub(labs);
  const captures = new CaptureManager(labs, opts.captures);
  const consoles = new LabConsoles(labs, {
    token,
    budget: consoleBudget(undefined, opts.consoleListeners),
    onTelnetError: (lab, node, port, error) => log.warn({ lab, node, port }, `telnet console not opened: ${error}`),
    onNotice: (fields, message) => log.warn(fields, message),
  });
  labs.consoles = consoles;
  const ws = new WsHub({ ...opts.ws, log, labs, traces, consoles });
  const table = routes({ labs, captures, log });
  const openapi = openApiDocument(table, API_VERSION);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestLog(log));
  app.use((req, res, next) => {
    const access = checkAccess(req, policy);
    if (!access.ok) return sendError(res, new ApiError(access.status, access.error));
    next();
  });
  app.use(jsonOnly);
  app.use(express.json({ limit: opts.bodyLimitBytes ?? 1 << 20, strict: true, type: 'application/json', verify: limitNesting }));
  app.get(`${API_PREFIX}/openapi.json`, (_req, res) => {
    res.json(openapi);
  });
  app.use(API_PREFIX, router(table));
  const clientDir = opts.clientDir ?? findClientDir();
  if (clientDir) {
    // The web client (built by `npm run build` into dist/client); index.html is never cached so a rebuild shows at once.
    app.use(
      express.static(clientDir, {
        index: 'index.html',
        setHeaders: (res, file) => {
          if (file.endsWith('.html')) res.setHeader('Cache-Control', 'no-cache');
        },
      }),
    );
  }
  app.use((req, _res, next) => next(new ApiError(404, `no such endpoint: ${req.method} ${req.path}`)));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toApiError(err);
    if (e.status >= 500) log.error({ err, method: req.method, url: redact(req.originalUrl) }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, e);
  });

  const http = createServer(app);
  // Requests being answered, so that stopping the server can let them finish first.
  let inFlight = 0;
  let onIdle: (() => void) | null = null;
  http.on('request', (_req, res) => {
    inFlight++;
    res.once('close', () => {
      if (--inFlight === 0) onIdle?.();
    });
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const refuse = (status: number, error: string) => {
      log.info({ method: 'GET', route: path, status, upgrade: true }, 'request refused');
      refuseUpgrade(socket, status, error);
    };
    if (path !== `${API_PREFIX}/ws`) return refuse(404, 'no WebSocket here; it is at /api/v1/ws');
    const access = checkAccess(req, policy);
    if (!access.ok) return refuse(access.status, access.error);
    ws.accept(req, socket, head);
  });
  // Slow senders are cut off (a request must arrive within the default 5 minutes, its headers
  // within 30 s); answers may stream for as long as they like (a followed capture).
  http.headersTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port ?? 8080, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}`;
  log.info({ url, labs: store.root, token: token !== null }, 'wirelab server listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    host,
    port: address.port,
    token,
    tokenGenerated,
    labs,
    traces,
    captures,
    ws,
    http,
    log,
    routes: table,
    close() {
      closing ??= (async () => {
        ws.close();
        consoles.close();
        captures.close();
        traces.close();
        // No new requests; those in flight are answered (within 10 s) before the labs stop under them.
        const closed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeIdleConnections();
        if (inFlight > 0) {
          await new Promise<void>((resolve) => {
            const limit = setTimeout(resolve, SHUTDOWN_GRACE_MS);
            onIdle = () => {
              clearTimeout(limit);
              resolve();
            };
          });
        }
        await labs.close();
        http.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}

// ---------------------------------------------------------------- helpers

function sendError(res: Response, e: ApiError): void {
  // For the request log: a refusal is logged with its first field (never the body).
  res.locals['refusal'] = e;
  res.status(e.status).json({ error: e.message, details: e.details });
}

/** Request bodies are JSON: anything else is refused before it is read. */
function jsonOnly(req: Request, _res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
  const type = req.headers['content-type'];
  const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
  if (type === undefined) {
    if (hasBody) return next(new ApiError(415, 'request bodies are JSON: send Content-Type: application/json', [{ field: '(body)', message: 'no Content-Type' }]));
    return next();
  }
  const media = type.split(';')[0]!.trim().toLowerCase();
  if (media !== 'application/json') {
    return next(new ApiError(415, `request bodies are JSON, not ${media}`, [{ field: '(body)', message: `Content-Type ${media} is not application/json` }]));
  }
  next();
}

/**
 * Refuses a body nested deeper than any request needs, before it is parsed: the recursive
 * validators after JSON.parse would overflow the stack on 100,000 levels (a 500).
 */
function limitNesting(_req: IncomingMessage, _res: unknown, buf: Buffer): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_NESTING) throw new ApiError(400, `the body is nested more than ${MAX_NESTING} levels deep`, [{ field: '(body)', message: `nested more than ${MAX_NESTING} levels deep` }]);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof InvalidLabName) return new ApiError(400, err.message, [{ field: 'lab', message: err.message }]);
  const e = err as { type?: string; status?: number; expose?: boolean; message?: string; limit?: number };
  if (e?.type === 'entity.too.large') {
    return new ApiError(413, `the body is larger than ${e.limit} bytes`, [{ field: '(body)', message: `more than ${e.limit} bytes` }]);
  }
  if (e?.type === 'entity.parse.failed') return new ApiError(400, 'the body is not valid JSON', [{ field: '(body)', message: String(e.message) }]);
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return new ApiError(415, String(e.message), [{ field: '(body)', message: String(e.message) }]);
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new ApiError(e.status, e.expose && e.message ? e.message : 'bad request');
  }
  return new ApiError(500, 'internal error; the server log has the details');
}

function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message, details: [] });
  const text = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** URLs as logged: without the token. */
function redact(url: string): string {
  return url.replace(/([?&]token=)[^&]*/g, '$1***');
}

function requestLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const start = performance.now();
    res.on('finish', () => {
      const fields = { method: req.method, url: redact(req.originalUrl), status: res.statusCode, ms: Math.round(performance.now() - start) };
      if (res.statusCode >= 500) log.error(fields, 'request');
      else if (res.statusCode >= 400) log.info(refusalFields(req, res), 'request refused');
      else log.debug(fields, 'request');
    });
    next();
  };
}

/**
 * A refusal as logged: the route pattern (/labs/{lab}/nodes) or, before routing, the path
 * without its query (which may hold ?token=), and the first field at fault. The error's own
 * message is left out: it may quote the body.
 */
function refusalFields(req: Request, res: Response): Record<string, unknown> {
  const e = res.locals['refusal'] as ApiError | undefined;
  const d = e?.details[0];
  return { method: req.method, route: (res.locals['route'] as string | undefined) ?? req.originalUrl.split('?')[0], status: res.statusCode, ...(d ? { field: d.field } : {}) };
}

/** dist/client beside the compiled server (dist/server) or under the checkout (running from sources). */
function findClientDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [join(here, '..', 'client'), join(here, '..', 'dist', 'client')]) {
    if (existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'assets'))) return dir;
  }
  return null;
}
