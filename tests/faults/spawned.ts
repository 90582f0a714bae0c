/**
 * A wirelab server in a process of its own (`wirelab serve`), so that its RSS is the server's
 * alone and it can be killed at any point. From the TypeScript sources (tests) the process runs
 * them through module hooks; compiled (the bench, from dist/) it runs dist/server/cli.js.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const COMPILED = import.meta.url.endsWith('.js');
/** The checkout: two levels up from the sources, three from dist/tests/faults. */
const REPO = resolve(HERE, COMPILED ? '../../..' : '../..');

let launcher: string | null = null;

/** The script `node` runs for `wirelab ...`: the compiled CLI, or an entry that registers TypeScript hooks first. */
export function serverEntry(): string {
  if (COMPILED) return join(REPO, 'bin', 'wirelab.js'); // runs dist/server/cli.js
  if (launcher) return launcher;
  const dir = mkdtempSync(join(tmpdir(), 'wirelab-spawn-'));
  const vite = join(REPO, 'node_modules', 'vite', 'dist', 'node', 'index.js');
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
let transform;
if (${JSON.stringify(existsSync(vite))}) {
  const { transformWithOxc } = await import(${JSON.stringify(pathToFileURL(vite).href)});
  transform = async (src, file) => (await transformWithOxc(src, file, { lang: 'ts', sourcemap: false })).code;
} else {
  const ts = createRequire(${JSON.stringify(join(REPO, 'package.json'))})('typescript');
  transform = async (src, file) => ts.transpileModule(src, { fileName: file, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
}
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    if (specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) return next(specifier.slice(0, -3) + '.ts', context);
    throw e;
  }
}
export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const file = fileURLToPath(url);
  return { format: 'module', source: await transform(await readFile(file, 'utf8'), file), shortCircuit: true };
}
`,
  );
  writeFileSync(
    join(dir, 'entry.mjs'),
    `
import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});
const { main } = await import(${JSON.stringify(pathToFileURL(join(REPO, 'server', 'cli.ts')).href)});
process.exitCode = await main(process.argv.slice(2));
`,
  );
  launcher = join(dir, 'entry.mjs');
  return launcher;
}

export interface Spawned {
  proc: ChildProcess;
  pid: number;
  /** http://127.0.0.1:PORT */
  url: string;
  exited: Promise<number | null>;
  /** Everything the server wrote (JSON log lines on stdout, messages on stderr). */
  output(): string;
  /** The server process's resident memory now, in MB (from /proc). */
  rssMb(): number;
  /** SIGKILL unless it has exited, and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  logLevel?: string;
  args?: string[];
  /** Options for node itself (--cpu-prof, --max-old-space-size). */
  nodeArgs?: string[];
}

export function spawnServer(labsDir: string, opts: SpawnOptions = {}): Promise<Spawned> {
  const script = serverEntry();
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), script, 'serve', '--port', '0', '--labs', labsDir, '--log-level', opts.logLevel ?? 'info', ...(opts.args ?? [])], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(opts.env ?? {}) },
  });
  let out = '';
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const pid = proc.pid!;
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the server did not start in time:\n${out.slice(-4000)}`));
    }, 90_000);
    let started = false;
    const take = (c: Buffer) => {
      out += c.toString();
      if (out.length > 4 << 20) out = out.slice(-(1 << 20));
      if (started) return;
      // cmd-serve.ts prints where it serves on stderr whatever the log level.
      const m = /wirelab serving .* at (http:\/\/[^/\s]+)\/api\/v1/.exec(out);
      if (!m) return;
      started = true;
      clearTimeout(timer);
      resolvePromise({
        proc,
        pid,
        url: m[1]!.replace('localhost', '127.0.0.1').replace('0.0.0.0', '127.0.0.1'),
        exited,
        output: () => out,
        rssMb: () => rssOf(pid),
        async kill(signal: NodeJS.Signals = 'SIGKILL') {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
          return exited;
        },
      });
    };
    proc.stdout!.on('data', take);
    proc.stderr!.on('data', take);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      if (!started) reject(new Error(`the server exited (${code}) before listening:\n${out.slice(-4000)}`));
    });
  });
}

/** VmRSS of a process, MB. */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** p-th percentile (0..100) of the values, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** mulberry32: a small seeded generator, so that a failure names the case that reproduces it. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** .wirelab-tmp-* files and folders in a labs folder, its labs and their snapshots and state. */
export function tempFolders(root: string): string[] {
  const found: string[] = [];
  const walk = (d: string, depth: number) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.wirelab-tmp-')) found.push(join(d, e.name));
      else if (e.isDirectory() && depth < 3) walk(join(d, e.name), depth + 1);
    }
  };
  walk(root, 0);
  return found;
}

/** A small lab: two hosts on a switch. */
export function twoHostLab(name: string, description?: string): Record<string, unknown> {
  return {
    name,
    ...(description !== undefined ? { description } : {}),
    nodes: {
      pc1: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } } },
      pc2: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.2/24' } } },
      sw1: { kind: 'switch', ports: 8 },
    },
    links: [
      ['pc1:eth0', 'sw1:e0'],
      ['pc2:eth0', 'sw1:e1'],
    ],
  };
}
