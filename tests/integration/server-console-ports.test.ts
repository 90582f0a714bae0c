/**
 * Telnet console ports across the running labs of one server: two labs numbered from 5000 both
 * get every console (the second on the next free ports), the API shows where each listens, a
 * node added to a running lab gets a console and a removed one frees its port, and a port the
 * lab file names explicitly is that port or nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, eventually, type TestServer } from './server-harness.js';

let t: TestServer;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wirelab-console-ports-'));
  const triangle = join(import.meta.dirname, '../../labs/triangle/lab.yaml');
  cpSync(triangle, join(dir, 'one', 'lab.yaml'));
  cpSync(triangle, join(dir, 'two', 'lab.yaml'));
  for (const lab of ['one', 'two']) {
    const file = join(dir, lab, 'lab.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^name: .*$/m, `name: ${lab}`));
  }
  t = await startTestServer({ labsDir: dir });
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What the console on `port` prints after a carriage return (its prompt), or the connection's error. */
function prompt(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let seen = '';
    const done = (s: string) => {
      sock.destroy();
      resolve(s);
    };
    sock.on('data', (d) => {
      // Telnet negotiation bytes are left out; the prompt is the last printable line.
      seen += d.toString('latin1').replace(/\xff[\xfb-\xfe]./gs, '').replace(/\xff\xfa[\s\S]*?\xff\xf0/g, '');
      if (/[>#]\s*$/.test(seen)) done(seen.trim().split(/\r?\n/).pop()!);
    });
    sock.on('error', (e: NodeJS.ErrnoException) => done(`error ${e.code}`));
    setTimeout(() => done(`timeout after ${JSON.stringify(seen)}`), 8_000);
    sock.write('\r\n');
  });
}

async function ports(lab: string): Promise<Map<string, number>> {
  const r = await t.api.request('GET', `/labs/${lab}/nodes`);
  expect(r.status, r.text).toBe(200);
  return new Map((r.body as { name: string; console: number }[]).map((n) => [n.name, n.console]));
}

describe('telnet console ports', () => {
  it('answers, at start and after, the port each console really listens on, whichever lab starts first', async () => {
    // Two labs numbered alike from 5000, with different node names so a prompt tells the lab.
    const names = { con: ['pc1', 'pc2', 'pc3'], other: ['x1', 'x2', 'x3'] } as const;
    for (const [lab, nodes] of Object.entries(names)) {
      await t.api.expect(201, 'POST', '/labs', { name: lab, nodes: Object.fromEntries(nodes.map((n) => [n, { kind: 'host' }])) });
    }
    for (const order of [['other', 'con'], ['con', 'other']] as const) {
      const answered = new Map<string, Map<string, number>>();
      for (const lab of order) {
        const r = await t.api.request('POST', `/labs/${lab}/start`);
        expect(r.status, r.text).toBe(200);
        answered.set(lab, new Map((r.body as { nodes: { name: string; console: number }[] }).nodes.map((n) => [n.name, n.console])));
      }
      for (const lab of order) {
        // The start answer, the node views and the listener agree, and it is this lab's node.
        expect(await ports(lab), `${lab} after starting ${order.join(', ')}`).toEqual(answered.get(lab));
        for (const [node, port] of answered.get(lab)!) expect(await prompt(port), `${lab}/${node} on ${port}`).toMatch(new RegExp(`^${node}>`));
      }
      for (const lab of order) await t.api.expect(200, 'POST', `/labs/${lab}/stop`);
    }
    for (const lab of Object.keys(names)) await t.api.expect(204, 'DELETE', `/labs/${lab}`);
  }, 60_000);

  it('gives every node of two labs numbered alike its own port, following live edits', async () => {
    const before = await ports('one');
    expect([...before.values()].every((p) => p >= 5000)).toBe(true);
    expect(await ports('two')).toEqual(before);

    for (const lab of ['one', 'two']) expect((await t.api.request('POST', `/labs/${lab}/start`)).status).toBe(200);
    const all = await eventually(async () => {
      const one = await ports('one');
      const two = await ports('two');
      const used = [...one.values(), ...two.values()];
      return new Set(used).size === used.length ? { one, two } : null;
    }, 15_000, 'distinct console ports for the nodes of both labs');

    // Every console answers with its own node's prompt.
    for (const lab of ['one', 'two'] as const) {
      for (const [node, port] of all[lab]) expect(await prompt(port), `${lab}/${node} on ${port}`).toMatch(new RegExp(`^${node}[>#]`));
    }

    // A node added to the running lab gets a console of its own.
    const added = await t.api.request('POST', '/labs/two/nodes', { name: 'r9', kind: 'router' });
    expect(added.status, added.text).toBe(201);
    const r9 = await eventually(async () => {
      const p = (await ports('two')).get('r9');
      return p !== undefined && (await prompt(p)).startsWith('r9') ? p : null;
    }, 15_000, 'r9 reachable on its console port');
    expect([...all.one.values(), ...all.two.values()]).not.toContain(r9);

    // A removed node's port is closed.
    expect((await t.api.request('DELETE', '/labs/two/nodes/r9')).status).toBe(204);
    await eventually(async () => ((await prompt(r9)) === 'error ECONNREFUSED' ? true : null), 10_000, `port ${r9} closed after the node went`);

    // A port the lab file names is that port or nothing: lab one's r1 port, explicit in a third lab, is refused.
    const taken = all.one.get('r1')!;
    const file = join(dir, 'three', 'lab.yaml');
    cpSync(join(dir, 'one', 'lab.yaml'), file);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^name: .*$/m, 'name: three').replace('  r1:\n    kind: router\n', `  r1:\n    kind: router\n    console: ${taken}\n`));
    await eventually(async () => ((await t.api.request('GET', '/labs/three')).status === 200 ? true : null), 10_000, 'lab three found');
    expect((await t.api.request('POST', '/labs/three/start')).status).toBe(200);
    await eventually(async () => {
      const three = await ports('three');
      const h1 = three.get('h1');
      return h1 !== undefined && h1 !== all.one.get('h1') && (await prompt(h1)).startsWith('h1') ? true : null;
    }, 15_000, 'lab three\'s h1 on a free port');
    // Lab one's r1 still answers on that port (the third lab did not take it over).
    expect(await prompt(taken)).toMatch(/^r1[>#]/);
    for (const lab of ['one', 'two', 'three']) expect((await t.api.request('POST', `/labs/${lab}/stop`)).status).toBe(200);
  }, 90_000);
});

describe('the shared telnet port', () => {
  it('reaches the nodes beyond the listener cap by lab/node, after the token on a server with one', async () => {
    const TOKEN = 'shared-port-token-0123456789';
    const s = await startTestServer({ token: TOKEN, consoleListeners: 1 });
    try {
      await s.api.expect(201, 'POST', '/labs', { name: 'capped', nodes: { r1: { kind: 'router' }, pc1: { kind: 'host' }, pc2: { kind: 'host' } } });
      const started = await s.api.request('POST', '/labs/capped/start');
      expect(started.status, started.text).toBe(200);
      type View = { name: string; console: number | null; consoleShared: number | null; consoleNote: string | null };
      const views = (started.body as { nodes: View[] }).nodes;
      const own = views.filter((v) => v.console !== null);
      const beyond = views.filter((v) => v.console === null);
      expect(own).toHaveLength(1);
      expect(own[0]).toMatchObject({ consoleShared: null, consoleNote: null });
      expect(beyond).toHaveLength(2);
      const shared = beyond[0]!.consoleShared!;
      expect(shared).toBeTypeOf('number');
      for (const v of beyond) {
        expect(v.consoleShared).toBe(shared);
        expect(v.consoleNote).toContain(`type capped/${v.name}`);
        expect(v.consoleNote).toMatch(/cap of 1 telnet console listeners/);
      }
      // The node views answer the same as the start did.
      expect(((await s.api.expect(200, 'GET', '/labs/capped/nodes')).body as View[]).map((v) => [v.name, v.console, v.consoleShared])).toEqual(views.map((v) => [v.name, v.console, v.consoleShared]));

      // No token, or a wrong one: refused before any console.
      const none = await talk(shared, [''], /needs the server's token/);
      expect(none).toContain('Token: ');
      expect(none).toMatch(/wrong token; the console needs the server's token/);
      expect(none).not.toContain('Console (lab/node)');
      const wrong = await talk(shared, ['not-the-token'], /wrong token/);
      expect(wrong).toMatch(/wrong token; the console needs the server's token/);
      expect(wrong).not.toContain('Console (lab/node)');

      // The token, then a name that is no console (asked again), then a node beyond the cap.
      const name = beyond[1]!.name;
      const text = await talk(shared, [TOKEN, 'capped', 'capped/nope', '?', `capped/${name}`, ''], new RegExp(`\\n${name}>\\s*$`));
      expect(text).not.toContain(TOKEN);
      expect(text).toMatch(/type a node as lab\/node/);
      expect(text).toMatch(/names no console: type lab\/node/);
      expect(text).toMatch(/lab capped has no node "nope"/);
      expect(text).toContain('capped/r1 capped/pc1 capped/pc2');
      expect(text).toMatch(new RegExp(`\\n${name}>\\s*$`));
      await s.api.expect(200, 'POST', '/labs/capped/stop');
    } finally {
      await s.close();
    }
  }, 30_000);
});

/** Connects, types each line when the server asks (a prompt ending in ': ' or '>'), answers all it saw once `until` matches, it closes, or 8 s pass. */
function talk(port: number, lines: string[], until: RegExp): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let seen = '';
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(seen);
    };
    const timer = setTimeout(done, 8_000);
    sock.on('data', (d) => {
      seen += d.toString('latin1').replace(/\xff[\xfb-\xfe]./gs, '').replace(/\xff\xfa[\s\S]*?\xff\xf0/g, '');
      if (until.test(seen)) return done();
      if (lines.length > 0 && /(: |>)\s*$/.test(seen)) sock.write(`${lines.shift()!}\r\n`);
    });
    sock.on('close', done);
    sock.on('error', () => undefined);
  });
}
