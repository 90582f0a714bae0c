/**
 * A GNS3 project folder whose startup files (or a folder on their path) are symbolic links must
 * not be followed: nothing outside the project is read, and the report names what was skipped.
 * Imported through importCommand, as `wirelab import FILE.gns3` does.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { importCommand } from '../../server/cmd-archive.js';
import { importGns3Project } from '../../server/gns3-import.js';
import { LabStore } from '../../server/store.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/gns3/gns3-server_dynamips', import.meta.url));
const SECRET = 'TOPSECRET-4f2a9c';
const CONFIGS = 'project-files/dynamips/configs';

let dir = '';
let project = '';
let outside = '';
let store: LabStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wirelab-gns3-link-'));
  project = join(dir, 'project');
  outside = join(dir, 'outside');
  cpSync(FIXTURE, project, { recursive: true });
  mkdirSync(outside);
  // Lines a router parser reports back verbatim as "not applied", so a leak would show.
  const secret = `!\nhostname ${SECRET}\n${SECRET} password line\nsnmp-server community ${SECRET} RO\n`;
  writeFileSync(join(outside, 'secret.txt'), secret);
  writeFileSync(join(outside, 'i1_startup-config.cfg'), secret);
  writeFileSync(join(outside, 'i2_startup-config.cfg'), secret);
  store = new LabStore(join(dir, 'labs'));
  await store.init();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function runImport(): Promise<{ out: string; lab: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (s: string) => lines.push(String(s));
  try {
    expect(await importCommand([join(project, 'dynamips_2_0_0_b2.gns3'), '--labs', store.root])).toBe(0);
  } finally {
    console.log = log;
  }
  const labs = readdirSync(store.root).filter((n) => !n.startsWith('.'));
  expect(labs).toHaveLength(1);
  return { out: lines.join('\n'), lab: join(store.root, labs[0]!) };
}

function expectNoSecret(out: string, lab: string): void {
  expect(out).not.toContain(SECRET);
  for (const f of readdirSync(lab, { recursive: true, encoding: 'utf8' })) {
    let text = '';
    try {
      text = readFileSync(join(lab, f), 'utf8');
    } catch {
      continue; // a folder
    }
    expect(text, f).not.toContain(SECRET);
  }
}

describe('GNS3 import refuses symbolic links inside the project', () => {
  it('a startup-config that is a symlink to a file outside is not read, and the report says so', async () => {
    const cfg = join(project, CONFIGS, 'i1_startup-config.cfg');
    unlinkSync(cfg);
    symlinkSync(join(outside, 'secret.txt'), cfg);
    const { out, lab } = await runImport();
    expectNoSecret(out, lab);
    expect(out).toMatch(/project-files\/dynamips\/configs\/i1_startup-config\.cfg.*symbolic link/);
    expect(readFileSync(join(lab, 'gns3-import.txt'), 'utf8')).toMatch(/i1_startup-config\.cfg.*symbolic link/);
    // The other router's real file is still read.
    expect(out).toMatch(/R2 \(dynamips\) -> router R2 .*startup-config applied/);
  });

  it('a symlinked folder on the path inside the project is not followed', async () => {
    rmSync(join(project, CONFIGS), { recursive: true });
    symlinkSync(outside, join(project, CONFIGS));
    const { out, lab } = await runImport();
    expectNoSecret(out, lab);
    expect(out).toMatch(/project-files\/dynamips\/configs.*symbolic link/);
  });

  it('project-files itself as a symlink is not followed', async () => {
    const real = join(outside, 'pf');
    mkdirSync(join(real, 'dynamips', 'configs'), { recursive: true });
    for (const f of ['i1_startup-config.cfg', 'i2_startup-config.cfg']) cpSync(join(outside, f), join(real, 'dynamips', 'configs', f));
    rmSync(join(project, 'project-files'), { recursive: true });
    symlinkSync(real, join(project, 'project-files'));
    const { out, lab } = await runImport();
    expectNoSecret(out, lab);
    expect(out).toMatch(/project-files.*symbolic link/);
  });

  it('a .gns3project whose startup file is a symlink entry is refused whole', async () => {
    const gns3 = readFileSync(join(project, 'dynamips_2_0_0_b2.gns3'));
    const link = new TextEncoder().encode(join(outside, 'secret.txt'));
    const bytes = zipSync({
      'dynamips_2_0_0_b2.gns3': [gns3, {}],
      [`${CONFIGS}/i1_startup-config.cfg`]: [link, { os: 3, attrs: (0o120777 << 16) >>> 0 }],
    });
    await expect(importGns3Project(store, bytes)).rejects.toThrow(/symbolic link/);
    expect(readdirSync(store.root).filter((n) => !n.startsWith('.'))).toEqual([]);
  });
});
