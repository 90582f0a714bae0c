/**
 * The lab store: lab.yaml as people read it, hand edits on disk noticed while the server runs
 * (applied to the running lab when valid, reported and ignored when not), folders appearing and
 * going, runtime state kept under state/, and no path outside the labs folder.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadLabText } from '../../devices/lab/load.js';
import { validateLab } from '../../devices/lab/schema.js';
import { formatLabFile } from '../../server/lab-yaml.js';
import { InvalidLabName, LabStore } from '../../server/store.js';
import { type TestServer, WsClient, eventually, startTestServer } from './server-harness.js';

let t: TestServer;
let ws: WsClient;

const BASE = `wirelab: 1
name: hand
# a comment the server does not rewrite: the user's own edits are applied, not reformatted
nodes:
  pc1: { kind: host, interfaces: { eth0: { ip: 10.0.0.1/24 } } }
  pc2: { kind: host, interfaces: { eth0: { ip: 10.0.0.2/24 } } }
  sw1: { kind: switch, stp: false }
links:
  - [pc1:eth0, sw1:e1]
  - [pc2:eth0, sw1:e2]
`;

const EDITED = BASE.replace('  sw1: { kind: switch, stp: false }\n', '  sw1: { kind: switch, stp: false }\n  pc3: { kind: host, interfaces: { eth0: { ip: 10.0.0.3/24 } } }\n') +
  '  - [pc3:eth0, sw1:e3]\nchecks:\n  - { name: pc3 reaches pc1, ping: { from: pc3, to: 10.0.0.1 } }\n';

beforeAll(async () => {
  t = await startTestServer();
  ws = await WsClient.connect(t.api.base);
  await ws.subscribe({ id: 'all', channel: 'lab' });
});
afterAll(async () => {
  ws?.close();
  await t?.close();
});

const events = (type: string) => ws.messages.filter((m) => m.type === 'event' && m.event.type === type);

describe('hand edits of lab.yaml', () => {
  test('a lab folder written by hand appears in the list', async () => {
    await t.api.expect(201, 'POST', '/labs', { name: 'hand' });
    writeFileSync(join(t.dir, 'hand', 'lab.yaml'), BASE);
    await eventually(async () => (await t.api.get('/labs/hand')).body.nodeCount === 3, 10_000, 'the hand-written lab');
    await t.api.expect(200, 'POST', '/labs/hand/start');
    expect(t.server.labs.runtime('hand')?.nodeNames().sort()).toEqual(['pc1', 'pc2', 'sw1']);
  });

  test('a valid edit is applied to the running lab without rewriting the file', async () => {
    const file = join(t.dir, 'hand', 'lab.yaml');
    const rt = t.server.labs.runtime('hand')!;
    const pc1 = rt.node('pc1');
    writeFileSync(file, EDITED);
    await ws.waitFor((m) => m.type === 'event' && m.lab === 'hand' && m.event.type === 'node-created' && m.event.node === 'pc3' && m.event.source === 'disk', 10_000, 'node-created from disk');
    await ws.waitFor((m) => m.type === 'event' && m.event.type === 'link-state' && m.event.link === 'pc3:eth0--sw1:e3' && m.event.status === 'added', 10_000, 'link added');
    expect(t.server.labs.runtime('hand')).toBe(rt);
    expect(rt.node('pc1')).toBe(pc1); // untouched nodes were not rebuilt
    expect(rt.nodeStatus('pc3')).toBe('running');
    const results = (await t.api.expect(200, 'POST', '/labs/hand/checks/run')).body;
    expect(results).toEqual([expect.objectContaining({ name: 'pc3 reaches pc1', passed: true })]);
    expect(readFileSync(file, 'utf8')).toBe(EDITED);
  });

  test('a broken edit is reported as an event and leaves the running lab as it was', async () => {
    const file = join(t.dir, 'hand', 'lab.yaml');
    const good = EDITED;
    const rt = t.server.labs.runtime('hand')!;
    const modelBefore = JSON.stringify(rt.lab);
    const broken = good.replace('ip: 10.0.0.3/24', 'ip: 10.0.0.300/24').replace('kind: switch, stp: false', 'kind: switch, stp: false, colour: red');
    writeFileSync(file, broken);
    const ev = await ws.waitFor((m) => m.type === 'event' && m.lab === 'hand' && m.event.type === 'lab-file-error', 10_000, 'lab-file-error');
    const texts: string[] = ev.event.errors.map((e: { text: string }) => e.text);
    expect(texts).toEqual([
      expect.stringMatching(/^hand\/lab\.yaml:\d+:\d+: nodes\.sw1\.colour: unknown key "colour"/),
      expect.stringMatching(/^hand\/lab\.yaml:\d+:\d+: nodes\.pc3\.interfaces\.eth0\.ip: .*300 is more than 255/),
    ]);
    expect(JSON.stringify(rt.lab)).toBe(modelBefore);
    expect(rt.status).toBe('running');
    const view = (await t.api.expect(200, 'GET', '/labs/hand')).body;
    expect(view.status).toBe('running');
    expect(view.problems).toHaveLength(2);
    // Partial changes would overwrite the user's broken edit: refused until it is fixed.
    const refused = await t.api.post('/labs/hand/nodes', { name: 'pc4', kind: 'host' });
    expect(refused.status).toBe(409);
    expect(refused.body.details[0].message).toMatch(/lab\.yaml/);
    expect(readFileSync(file, 'utf8')).toBe(broken);

    // Fixing the file by hand clears the problem.
    writeFileSync(file, good);
    await ws.waitFor((m) => m.type === 'event' && m.lab === 'hand' && m.event.type === 'lab-file-ok', 10_000, 'lab-file-ok');
    expect((await t.api.get('/labs/hand')).body.problems).toBeNull();
  });

  test('a file whose name disagrees with its folder is refused', async () => {
    const file = join(t.dir, 'hand', 'lab.yaml');
    const good = EDITED;
    writeFileSync(file, good.replace('name: hand', 'name: other'));
    const ev = await ws.waitFor((m) => m.type === 'event' && m.lab === 'hand' && m.event.type === 'lab-file-error' && m.event.errors.some((e: { field: string }) => e.field === 'name'), 10_000, 'name error');
    expect(ev.event.errors[0].message).toMatch(/folder/);
    // Replacing the whole lab through the API is the other way out, and rewrites the file.
    await t.api.expect(200, 'PUT', '/labs/hand', parseYaml(good));
    expect((await t.api.get('/labs/hand')).body.problems).toBeNull();
    expect(readFileSync(file, 'utf8')).not.toContain('# a comment');
  });

  test('the runtime state is saved under state/ at stop', async () => {
    await t.api.expect(200, 'POST', '/labs/hand/stop');
    const state = JSON.parse(readFileSync(join(t.dir, 'hand', 'state', 'runtime.json'), 'utf8'));
    expect(state).toMatchObject({ version: 1, dhcp: {} });
  });

  test('a lab folder copied in appears, one deleted by hand goes', async () => {
    cpSync(join(t.dir, 'hand'), join(t.dir, 'copy'), { recursive: true });
    const f = join(t.dir, 'copy', 'lab.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('name: hand', 'name: copy'));
    await eventually(async () => (await t.api.get('/labs')).body.some((l: { name: string }) => l.name === 'copy'), 10_000, 'the copied lab');
    expect((await t.api.get('/labs/copy')).body.problems).toBeNull();
    rmSync(join(t.dir, 'copy'), { recursive: true });
    await eventually(async () => (await t.api.get('/labs/copy')).status === 404, 10_000, 'the deleted lab to go');
    expect(events('lab-deleted').some((m) => m.lab === 'copy')).toBe(true);
  });
});

describe('a lab broken when first seen', () => {
  test('is listed as invalid with its errors, cannot start, and can be replaced', async () => {
    mkdirSync(join(t.dir, 'broken'));
    writeFileSync(join(t.dir, 'broken', 'lab.yaml'), 'wirelab: 1\nname: broken\nnodes:\n  pc1: { kind: host, interfaces: { eth0: { ip: nope } } }\n');
    // The folder may be seen a moment before its lab.yaml is: wait for the file's verdict.
    const listed = await eventually(async () => (await t.api.get('/labs')).body.find((l: { name: string; status: string }) => l.name === 'broken' && l.status !== 'stopped'), 10_000, 'the broken lab');
    expect(listed.status).toBe('invalid');
    const view = (await t.api.expect(200, 'GET', '/labs/broken')).body;
    expect(view.problems[0].text).toMatch(/^broken\/lab\.yaml:4:\d+: nodes\.pc1\.interfaces\.eth0\.ip: /);
    expect(view.file).toBeNull();
    expect((await t.api.post('/labs/broken/start')).status).toBe(409);
    expect((await t.api.get('/labs/broken/nodes')).status).toBe(409);
    await t.api.expect(200, 'PUT', '/labs/broken', { name: 'broken', nodes: { pc1: { kind: 'host' } } });
    const fixed = (await t.api.expect(200, 'GET', '/labs/broken')).body;
    expect(fixed).toMatchObject({ status: 'stopped', problems: null, nodeCount: 1 });
  });
});

describe('lab.yaml as written by the server', () => {
  test('keys in schema order, short collections on one line, and stable', () => {
    const file = {
      links: [{ loss: '0.5%', endpoints: ['r1:g0/1', 'sw1:e7'], delay: '5ms' }, ['pc2:eth0', 'sw1:e1']],
      nodes: {
        pc2: { interfaces: { eth0: { gateway: '10.1.0.1', ip: '10.1.0.10/24' } }, kind: 'host' },
        sw1: { kind: 'switch', interfaces: { e7: { native: 1, allowed: [10, 20], mode: 'trunk' } } },
        r1: { kind: 'router', interfaces: { 'g0/1': { ip: '10.1.0.1/24' } } },
      },
      name: 'office',
      wirelab: 1,
    };
    const r = validateLab(file, {});
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const text = formatLabFile(r.lab.file);
    expect(text).toBe(`wirelab: 1
name: office

nodes:
  pc2:
    kind: host
    interfaces: { eth0: { ip: 10.1.0.10/24, gateway: 10.1.0.1 } }
  sw1:
    kind: switch
    interfaces: { e7: { mode: trunk, allowed: [ 10, 20 ], native: 1 } }
  r1:
    kind: router
    interfaces: { g0/1: { ip: 10.1.0.1/24 } }

links:
  - { endpoints: [ r1:g0/1, sw1:e7 ], delay: 5ms, loss: 0.5% }
  - [ pc2:eth0, sw1:e1 ]
`);
    const again = loadLabText(text, 'lab.yaml');
    if (!again.ok) throw new Error(JSON.stringify(again.errors));
    expect(formatLabFile(again.lab.file)).toBe(text);
  });
});

describe('the store', () => {
  test('builds no path outside the labs folder', () => {
    const store = new LabStore(t.dir);
    for (const bad of ['..', '../x', 'a/b', '.hidden', '', '%2e%2e', 'x\u0000y', '/etc', 'A']) {
      expect(() => store.labDir(bad), bad).toThrow(InvalidLabName);
    }
    expect(store.labDir('ok-1')).toBe(join(store.root, 'ok-1'));
    expect(existsSync(join(t.dir, '..', 'x'))).toBe(false);
  });
});
