/**
 * Fault: one valid lab must not starve the server of file descriptors. A server process whose
 * descriptor limit is lowered (prlimit, 1,024) starts a lab of 2,000 hubs; before the fix every
 * node opened a telnet listener, the process ran out of descriptors and the API failed (EMFILE).
 * Now the per-node listeners stop at a cap taken from the limit, the API keeps answering (GET,
 * PATCH, snapshot), the nodes beyond the cap say so in their view, and their consoles are
 * reached through the one shared telnet port by typing `lab/node`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { loadLabText } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import { ConsoleHub } from '../../server/console-hub.js';
import { ConsolePortPool, consoleBudget, openFileLimit } from '../../server/console-ports.js';
import { TelnetConsoles } from '../../server/console-telnet.js';
import { Api, startTestServer } from '../integration/server-harness.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NOFILE = 1024;
const NODES = 2000;

function havePrlimit(): boolean {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const prlimit = havePrlimit();
if (!prlimit) {
  if (process.env['CI'] === 'true') throw new Error('prlimit (util-linux) is needed for the descriptor fault test');
  console.warn('skipping consoles-fd: prlimit (util-linux) is not installed');
}

const work = mkdtempSync(join(tmpdir(), 'wirelab-consoles-fd-'));
let child: ChildProcess | null = null;
afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

interface Server {
  proc: ChildProcess;
  api: Api;
  log: () => string;
}

/** `wirelab serve` from the sources, in its own process with at most `nofile` descriptors. */
function startServer(labsDir: string, nofile: number): Promise<Server> {
  const entry = join(work, 'entry.mjs');
  writeFileSync(entry, `const { main } = await import(${JSON.stringify(pathToFileURL(join(REPO, 'server', 'cli.ts')).href)});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
  const proc = spawn(
    'prlimit',
    [`--nofile=${nofile}:${nofile}`, process.execPath, '--import', pathToFileURL(join(REPO, 'tests', 'helpers', 'ts-register.mjs')).href, entry, 'serve', '--port', '0', '--labs', labsDir, '--log-level', 'info'],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child = proc;
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in time:\n${out}`)), 60_000);
    proc.stdout!.on('data', () => {
      const line = out.split('\n').find((l) => l.includes('wirelab server listening'));
      if (!line) return;
      clearTimeout(timer);
      resolvePromise({ proc, api: new Api((JSON.parse(line) as { url: string }).url), log: () => out });
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening:\n${out}`));
    });
  });
}

/**
 * Connects to a telnet port, types `lines` (each followed by CR), and answers what it printed
 * once `until` matches (telnet negotiation left out), or what it had after the time ran out.
 */
function telnet(port: number, lines: string[], until: RegExp, ms = 10_000): Promise<string> {
  return new Promise((resolveText) => {
    const sock = connect(port, '127.0.0.1');
    let seen = '';
    let sent = 0;
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolveText(seen);
    };
    const timer = setTimeout(done, ms);
    sock.on('data', (d) => {
      seen += d.toString('latin1').replace(/\xff[\xfb-\xfe]./gs, '').replace(/\xff\xfa[\s\S]*?\xff\xf0/g, '');
      if (until.test(seen)) return done();
      // Each line goes after the server has asked for it (it prints a prompt ending in ': ' or '>').
      if (sent < lines.length && /(: |[>#])\s*$/.test(seen)) sock.write(`${lines[sent++]}\r`);
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      seen += `error ${e.code}`;
      done();
    });
  });
}

describe.skipIf(!prlimit)('a lab of many nodes in a server with few file descriptors', () => {
  test('the API keeps answering and every console is reachable', async () => {
    const labs = join(work, 'labs');
    const s = await startServer(labs, NOFILE);
    const nodes: Record<string, unknown> = {};
    for (let i = 1; i <= NODES; i++) nodes[`h${i}`] = { kind: 'hub', ports: 2 };
    await s.api.expect(201, 'POST', '/labs', { name: 'big', nodes });
    const started = await s.api.request('POST', '/labs/big/start');
    expect(started.status, started.text.slice(0, 500)).toBe(200);

    // The API answers, several requests at once, including ones that open files.
    for (let round = 0; round < 3; round++) {
      const replies = await Promise.all([
        s.api.request('GET', '/labs'),
        s.api.request('PATCH', '/labs/big/nodes/h1', { ui: { x: round, y: 1 } }),
        s.api.request('POST', '/labs/big/snapshots', { description: `round ${round}` }),
        s.api.request('GET', '/labs/big/nodes/h2'),
      ]);
      expect(replies.map((r) => r.status), replies.map((r) => r.text.slice(0, 200)).join('\n')).toEqual([200, 200, 201, 200]);
    }

    // Some nodes have telnet ports of their own; the rest say why not and where their console is.
    const views = (await s.api.expect(200, 'GET', '/labs/big/nodes')).body as { name: string; console: number | null; consoleShared?: number | null; consoleNote?: string | null }[];
    const own = views.filter((v) => v.console !== null);
    const shared = views.filter((v) => v.console === null);
    expect(own.length).toBeGreaterThan(0);
    expect(own.length).toBeLessThan(NOFILE);
    expect(shared.length).toBe(NODES - own.length);
    expect(new Set(own.map((v) => v.console)).size).toBe(own.length);
    const port = shared[0]!.consoleShared!;
    expect(port).toBeTypeOf('number');
    for (const v of shared) {
      expect(v.consoleShared).toBe(port);
      expect(v.consoleNote).toMatch(/big\/h\d+/);
    }
    expect(s.log().match(/telnet console listeners/g)?.length, s.log().slice(-2000)).toBe(1);

    // A node with a port of its own answers on it; one beyond the cap through the shared port.
    const first = own[0]!;
    expect(await telnet(first.console!, [''], new RegExp(`${first.name}[>#]\\s*$`))).toMatch(new RegExp(`${first.name}[>#]`));
    const last = shared[shared.length - 1]!;
    const text = await telnet(port, [`big/${last.name}`, ''], new RegExp(`\\n${last.name}[>#]\\s*$`));
    expect(text).toMatch(/lab\/node/);
    expect(text).toMatch(new RegExp(`\\n${last.name}[>#]\\s*$`));
    // A name that is no running lab's node is told so and asked again.
    expect(await telnet(port, ['big/nope'], /no node/)).toMatch(/no node "nope"/);

    // Stopping the lab frees its ports; the server still answers.
    await s.api.expect(200, 'POST', '/labs/big/stop');
    await s.api.expect(200, 'GET', '/labs');
    s.proc.kill('SIGTERM');
  }, 180_000);
});

describe('the console budget', () => {
  test('is taken from the open-file limit, leaving at least half (and 512) to the rest of the server', () => {
    expect(openFileLimit()).toBeGreaterThan(0);
    expect(consoleBudget(1024)).toEqual({ listeners: 512, connections: 64, fileLimit: 1024 });
    expect(consoleBudget(20_000)).toEqual({ listeners: 10_000, connections: 1250, fileLimit: 20_000 });
    expect(consoleBudget(256).listeners).toBe(0);
    expect(consoleBudget(1024, 7).listeners).toBe(7);
  });

  test('caps listeners and connections: beyond the cap a node has no port, a client is told and closed', async () => {
    const r = loadLabText('wirelab: 1\nname: few\nnodes:\n  r1: { kind: router }\n  r2: { kind: router }\n  r3: { kind: router }\n', 'lab.yaml');
    if (!r.ok) throw new Error('bad lab');
    const rt = new LabRuntime(r.lab);
    rt.start();
    const hub = new ConsoleHub(rt);
    const first = 40_000 + Math.floor(Math.random() * 20_000);
    const pool = new ConsolePortPool(first, first + 50, { listeners: 2, connections: 2 });
    const consoles = new TelnetConsoles(hub, { pool, portOffset: first - 5000 });
    try {
      const opened = await consoles.listen();
      expect(opened.filter((l) => l.error === null)).toHaveLength(2);
      expect(consoles.state('r3')).toEqual({ port: null, none: 'cap' });
      expect(consoles.withoutPort()).toBe(1);
      const port = consoles.portOf('r1')!;
      // Two clients held open (each got the server's first bytes: admitted), then a third is refused with a message.
      const held = await Promise.all(
        [0, 1].map(
          () =>
            new Promise<Socket>((resolveSocket) => {
              const sock = connect(port, '127.0.0.1');
              sock.once('data', () => resolveSocket(sock));
            }),
        ),
      );
      const c = await telnet(port, [], /too many|r1>/);
      expect(c).toMatch(/too many telnet console connections \(2\)/);
      for (const sock of held) sock.destroy();
      // Once the server has seen them go, clients are taken again.
      let again = '';
      for (let i = 0; i < 20 && !/r1>/.test(again); i++) again = await telnet(port, [''], /r1>\s*$|too many/, 3_000);
      expect(again).toMatch(/r1>/);
    } finally {
      await consoles.close();
      hub.close();
      rt.stop();
    }
  });
});

describe('a running lab replaced by one of many nodes', () => {
  test('plans its console ports once, not once per node added', async () => {
    const t = await startTestServer({ consoleListeners: 64 });
    try {
      await t.api.expect(201, 'POST', '/labs', { name: 'grow', nodes: { h0: { kind: 'hub' } } });
      await t.api.expect(200, 'POST', '/labs/grow/start');
      const nodes: Record<string, unknown> = {};
      for (let i = 0; i < 10_000; i++) nodes[`h${i}`] = { kind: 'hub', ports: 2 };
      const t0 = Date.now();
      const r = await t.api.request('PUT', '/labs/grow', { name: 'grow', nodes });
      const ms = Date.now() - t0;
      expect(r.status, r.text.slice(0, 300)).toBe(200);
      const views = (r.body as { nodes: { console: number | null }[] }).nodes;
      expect(views.filter((v) => v.console !== null).length).toBeLessThanOrEqual(64);
      console.log(`PUT of 10,000 nodes into a running lab: ${ms} ms`);
      // Generous: one plan per node added took minutes (each plan walks the whole lab).
      expect(ms).toBeLessThan(60_000);
      await t.api.expect(200, 'POST', '/labs/grow/stop');
    } finally {
      await t.close();
    }
  }, 120_000);
});
