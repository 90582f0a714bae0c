/**
 * What the browser tests and the client bench share: building the web client, a wirelab server
 * over a temporary labs folder, a web server for the client, and Debian's Chromium.
 *
 * The client is served by `wirelab serve` itself when the server does (it answers / with the
 * client's index.html); until then, a small web server here serves dist/client and forwards
 * /api/v1 (HTTP and WebSocket upgrades) to the wirelab server, as `wirelab serve` would.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { type ServerOptions, type WirelabServer, startServer } from '../../server/app.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The repository root (tests run from it; the compiled bench too, through npm). */
export const ROOT = resolve(process.cwd());
export const CLIENT_DIST = join(ROOT, 'dist', 'client');

/** Why the browser tests cannot run here, or null when they can. */
export function browserMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} is not installed (apt-get install chromium)`;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the client with Vite unless dist/client is newer than every source of it. */
export function buildClient(): void {
  const index = join(CLIENT_DIST, 'index.html');
  const sources = Math.max(newestMtime(join(ROOT, 'client')), newestMtime(join(ROOT, 'devices', 'trace')), newestMtime(join(ROOT, 'devices', 'engine')));
  if (existsSync(index) && statSync(index).mtimeMs > sources) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'client/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
}

export interface Lab {
  server: WirelabServer;
  labsDir: string;
  /** Where the browser opens the app. */
  appUrl: string;
  /** The API's origin. */
  apiUrl: string;
  close(): Promise<void>;
}

/** A wirelab server on a fresh labs folder, and the client served next to it. */
export async function startLab(opts: Partial<ServerOptions> = {}): Promise<Lab> {
  const labsDir = mkdtempSync(join(tmpdir(), 'wirelab-e2e-'));
  const server = await startServer({ port: 0, labsDir, logLevel: 'silent', watch: false, ...opts });
  const apiUrl = server.url;
  let front: Server | null = null;
  let appUrl = apiUrl + '/';
  const probe = await fetch(apiUrl + '/').then(
    async (r) => r.ok && (await r.text()).includes('<div id="app">'),
    () => false,
  );
  if (!probe) {
    front = await serveClient(apiUrl);
    appUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}/`;
  }
  return {
    server,
    labsDir,
    appUrl,
    apiUrl,
    async close() {
      if (front) {
        front.closeAllConnections();
        await new Promise<void>((r) => front!.close(() => r()));
      }
      await server.close();
      rmSync(labsDir, { recursive: true, force: true });
    },
  };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/** dist/client as static files, /api/v1 forwarded to the wirelab server. */
export async function serveClient(apiUrl: string): Promise<Server> {
  const api = new URL(apiUrl);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/api/')) {
      const fwd = httpRequest({ host: api.hostname, port: api.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      fwd.on('error', () => res.destroy());
      req.pipe(fwd);
      return;
    }
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = normalize(join(CLIENT_DIST, rel));
    if (!file.startsWith(CLIENT_DIST) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const up = connect(Number(api.port), api.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return server;
}

/** Chromium with a profile of its own, thrown away on close. */
export async function launchBrowser(viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'wirelab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    acceptDownloads: true,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** One API request: its status and its body (parsed when JSON, the text otherwise, undefined when empty). */
export async function apiCall(apiUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(`${apiUrl}/api/v1${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: !text ? undefined : r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

/** What the tests read of the canvas: the Cytoscape instance the client puts on window. */
export interface CanvasCy {
  getElementById(id: string): {
    empty(): boolean;
    hasClass(c: string): boolean;
    renderedPosition(): { x: number; y: number };
    renderedMidpoint(): { x: number; y: number };
    style(name: string): string;
  };
  container(): HTMLElement;
}
declare global {
  interface Window {
    wirelabCy?: CanvasCy;
  }
}

/** Where a node (or a cable's middle) is on the page. */
export async function screenPos(page: Page, id: string, edge = false): Promise<{ x: number; y: number }> {
  return page.evaluate(
    ([id, edge]) => {
      const cy = window.wirelabCy!;
      const el = cy.getElementById(id as string);
      const p = edge ? el.renderedMidpoint() : el.renderedPosition();
      const r = cy.container().getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y };
    },
    [id, edge] as const,
  );
}

/** With the Link tool, a drag from one canvas node to another (the popup, if any, is the caller's). */
export async function dragLink(page: Page, from: string, to: string): Promise<void> {
  await page.click('[data-test="tool-link"]');
  const a = await screenPos(page, from);
  const b = await screenPos(page, to);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps: 12 });
  await page.mouse.up();
}

/** Where the browser tests put their screenshots. */
export const SHOTS = join('test-output', 'screenshots');

/** What a browser test file starts with: the client built, a server on a fresh labs folder, Chromium and a page. */
export async function startBrowserLab(viewport = { width: 1280, height: 800 }): Promise<{ lab: Lab; page: Page; context: BrowserContext; close(): Promise<void> }> {
  mkdirSync(SHOTS, { recursive: true });
  buildClient();
  const lab = await startLab();
  const browser = await launchBrowser(viewport);
  const page = await browser.context.newPage();
  return {
    lab,
    page,
    context: browser.context,
    async close() {
      await browser.close();
      await lab.close();
    },
  };
}
