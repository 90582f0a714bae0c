/**
 * Hostile GNS3 projects: startup files that are symbolic links (absolute and relative) to a
 * secret outside the project, linked folders on the way to them, a FIFO where a startup file
 * should be (opening it would hang), traversal in names, ids and numbers, and .gns3project
 * archives whose entries are named `../x` or `/etc/x`. Each import either makes a lab or is
 * refused with an ArchiveError; the secret appears in no report and no file written, nothing
 * outside the labs folder changes, and no temporary folder is left.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importGns3File, importGns3Project } from '../../server/gns3-import.js';
import { ArchiveError, writeZip } from '../../server/snapshots-zip.js';
import { LabStore } from '../../server/store.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/gns3', import.meta.url));
const DYNAMIPS = join(FIXTURES, 'gns3-server_dynamips');
const VPCS = join(FIXTURES, 'dvarrui_teuton-tests');
const SECRET = `SECRET-${process.pid}-${Date.now()}`;

const work = mkdtempSync(join(tmpdir(), 'wirelab-gns3-hostile-'));
const outside = join(work, 'outside');
const projects = join(work, 'projects');
const labs = join(work, 'labs');
let store: LabStore;

/** Every file under `dir` with its size and mtime, to see that nothing changed. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p, { throwIfNoEntry: false });
        out[relative(dir, p)] = st ? `${st.size}:${st.mtimeMs}` : 'link';
      }
    }
  };
  walk(dir);
  return out;
}

/** Every file's text under the labs folder. */
function labsText(): string {
  const parts: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) parts.push(readFileSync(p, 'utf8'));
    }
  };
  walk(labs);
  return parts.join('\n');
}

beforeAll(async () => {
  mkdirSync(join(outside, 'pf', 'dynamips', 'configs'), { recursive: true });
  writeFileSync(join(outside, 'secret.cfg'), `hostname ${SECRET}\n!\ninterface FastEthernet0/0\n description ${SECRET}\n`);
  writeFileSync(join(outside, 'pf', 'dynamips', 'configs', 'i1_startup-config.cfg'), `hostname ${SECRET}\n`);
  writeFileSync(join(outside, 'secret.vpc'), `set pcname ${SECRET}\nip 10.0.0.99 255.255.255.0\n`);
  mkdirSync(projects);
  store = new LabStore(labs);
  await store.init();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of a fixture project, changed by `hack`; answers its .gns3 file. */
function project(name: string, from: string, hack: (dir: string) => void): string {
  const dir = join(projects, name);
  cpSync(from, dir, { recursive: true });
  hack(dir);
  return join(dir, readdirSync(dir).find((f) => f.endsWith('.gns3'))!);
}

async function expectHarmless(what: string, run: () => Promise<unknown>): Promise<void> {
  const outsideBefore = tree(outside);
  const workBefore = readdirSync(work).sort();
  let report = '';
  try {
    const r = (await run()) as { text: string };
    report = r.text;
  } catch (e) {
    expect(e, `${what}: refused with an ArchiveError, not ${(e as Error).stack}`).toBeInstanceOf(ArchiveError);
    report = (e as Error).message;
  }
  expect(report, `${what}: the report`).not.toContain(SECRET);
  expect(labsText(), `${what}: files written`).not.toContain(SECRET);
  expect(tree(outside), `${what}: nothing outside changed`).toEqual(outsideBefore);
  expect(readdirSync(work).sort()).toEqual(workBefore);
  expect(readdirSync(labs).filter((n) => n.startsWith('.wirelab-tmp-'))).toEqual([]);
}

const I1 = 'project-files/dynamips/configs/i1_startup-config.cfg';
const I2 = 'project-files/dynamips/configs/i2_startup-config.cfg';

describe('hostile GNS3 project folders', () => {
  it('startup files that are absolute and relative symbolic links', async () => {
    const file = project('links', DYNAMIPS, (d) => {
      rmSync(join(d, I1));
      rmSync(join(d, I2));
      symlinkSync(join(outside, 'secret.cfg'), join(d, I1));
      symlinkSync('../../../../outside/secret.cfg', join(d, I2));
    });
    await expectHarmless('file links', () => importGns3File(store, file));
  });

  it('a linked project-files folder and a linked configs folder', async () => {
    const a = project('dirlink', DYNAMIPS, (d) => {
      rmSync(join(d, 'project-files'), { recursive: true });
      symlinkSync(join(outside, 'pf'), join(d, 'project-files'));
    });
    await expectHarmless('linked project-files', () => importGns3File(store, a));
    const b = project('configslink', DYNAMIPS, (d) => {
      rmSync(join(d, 'project-files/dynamips/configs'), { recursive: true });
      symlinkSync(join(outside, 'pf', 'dynamips', 'configs'), join(d, 'project-files/dynamips/configs'));
    });
    await expectHarmless('linked configs', () => importGns3File(store, b));
  });

  it('a VPCS startup file that is a link, and one that is a FIFO (opening it would hang)', async () => {
    const file = project('vpcslink', VPCS, (d) => {
      const ids = readdirSync(join(d, 'project-files', 'vpcs'));
      rmSync(join(d, 'project-files', 'vpcs', ids[0]!, 'startup.vpc'));
      symlinkSync(join(outside, 'secret.vpc'), join(d, 'project-files', 'vpcs', ids[0]!, 'startup.vpc'));
      rmSync(join(d, 'project-files', 'vpcs', ids[1]!, 'startup.vpc'));
      execFileSync('mkfifo', [join(d, 'project-files', 'vpcs', ids[1]!, 'startup.vpc')]);
    });
    await expectHarmless('vpcs link and fifo', () => importGns3File(store, file));
  }, 20_000);

  it('traversal in the project name, node names, ids and dynamips numbers', async () => {
    const file = project('names', DYNAMIPS, (d) => {
      const f = join(d, readdirSync(d).find((x) => x.endsWith('.gns3'))!);
      const p = JSON.parse(readFileSync(f, 'utf8'));
      p.name = '../../../outside/evil';
      const [n1, n2] = p.topology.nodes;
      n1.name = '../../outside/r1';
      n1.properties.dynamips_id = '../../../outside/secret';
      n2.node_id = '../../../outside';
      n2.properties.dynamips_id = -1;
      p.topology.nodes.push({ ...n1, node_id: '/etc', name: '/etc/passwd', properties: { ...n1.properties, dynamips_id: 1e300 } });
      writeFileSync(f, JSON.stringify(p));
    });
    await expectHarmless('names', () => importGns3File(store, file));
    for (const name of readdirSync(labs)) expect(existsSync(join(labs, name, 'lab.yaml')) || name.startsWith('.'), name).toBe(true);
  });

  it('.gns3project archives with entries named ../x and /etc/x', async () => {
    const gns3 = readFileSync(join(DYNAMIPS, 'dynamips_2_0_0_b2.gns3'));
    const secret = new TextEncoder().encode(`hostname ${SECRET}\n`);
    for (const evil of ['../outside/i1.cfg', '/etc/wirelab-evil.cfg', 'project-files/../../outside/x.cfg', 'project-files\\..\\..\\x.cfg']) {
      const zip = writeZip([
        { name: 'p.gns3', data: gns3 },
        { name: evil, data: secret },
        { name: I1, data: new TextEncoder().encode('hostname R1\n') },
      ]);
      await expectHarmless(`entry ${evil}`, () => importGns3Project(store, zip));
      expect(existsSync('/etc/wirelab-evil.cfg')).toBe(false);
    }
  });
});
