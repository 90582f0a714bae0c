/**
 * .wlab archives: every sample lab survives export and import unchanged (with snapshots too, a
 * live one restorable), and hostile archives are refused with a clear error before anything is
 * written: path traversal, absolute paths, symlinks, devices, huge or lying sizes, zip bombs,
 * too many entries, a wrong version, broken YAML, files the manifest does not list.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadLabText } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import { captureRuntime, encodeState } from '../../devices/snapshot/index.js';
import { LabStore } from '../../server/store.js';
import { ArchiveError, checkArchive, exportLab, importArchive } from '../../server/snapshots-archive.js';
import { listZip } from '../../server/snapshots-zip.js';
import { type Entry, LAB_YAML, archive, sha, text, zip, zstdRle } from '../faults/archive-zip.js';
import { deflateRawSync, gzipSync } from 'node:zlib';

let dir = '';
let store: LabStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wirelab-archive-'));
  store = new LabStore(join(dir, 'labs'));
  await store.init();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), r);
      else out.push(r);
    }
  };
  if (existsSync(root)) walk(root, '');
  return out.sort();
}

const SAMPLES = readdirSync('labs').filter((n) => existsSync(join('labs', n, 'lab.yaml')));

describe('export then import', () => {
  it.each(SAMPLES)('gives back sample lab %s equal, under its name or another', async (name) => {
    cpSync(join('labs', name, 'lab.yaml'), join(store.root, name, 'lab.yaml'), { recursive: true });
    const { bytes, manifest } = await exportLab(store, name);
    expect(manifest.files.map((f) => f.path)).toContain('lab/lab.yaml');

    const other = new LabStore(join(dir, 'elsewhere'));
    await other.init();
    const same = await importArchive(other, bytes);
    expect(same).toMatchObject({ lab: name, renamedFrom: null });
    expect(readFileSync(join(other.root, name, 'lab.yaml'), 'utf8')).toBe(readFileSync(join(store.root, name, 'lab.yaml'), 'utf8'));

    const renamed = await importArchive(store, bytes);
    expect(renamed.lab).toBe(`${name}-2`);
    const a = parseYaml(readFileSync(join(store.root, name, 'lab.yaml'), 'utf8'));
    const b = parseYaml(readFileSync(join(store.root, `${name}-2`, 'lab.yaml'), 'utf8'));
    expect({ ...b, name }).toEqual(a);
    const r = loadLabText(readFileSync(join(store.root, `${name}-2`, 'lab.yaml'), 'utf8'), 'x', { folderName: `${name}-2` });
    expect(r.ok).toBe(true);
  });

  it('carries snapshots (a live one too) with --with-snapshots, and leaves them out without', async () => {
    const name = 'office';
    cpSync(join('labs', name, 'lab.yaml'), join(store.root, name, 'lab.yaml'));
    const r = loadLabText(readFileSync(join('labs', name, 'lab.yaml'), 'utf8'), 'x', { folderName: name });
    if (!r.ok) throw new Error('office');
    const rt = new LabRuntime(r.lab, { time: 'virtual' });
    rt.start();
    rt.engine.runFor(5e9);
    const snapDir = join(store.root, name, 'snapshots', 'warm');
    cpSync(join('labs', name, 'lab.yaml'), join(snapDir, 'lab.yaml'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(snapDir, 'state.bin'), gzipSync(encodeState(captureRuntime(rt))));
    writeFileSync(join(snapDir, 'snapshot.json'), JSON.stringify({ format: 'wirelab-snapshot', version: 1, name: 'warm', description: '', createdAt: new Date().toISOString(), parent: null, live: true, auto: false, engineTimeNs: 5e9, droppedTimers: {} }));

    const without = await exportLab(store, name);
    expect(without.manifest.files.some((f) => f.path.includes('snapshots'))).toBe(false);
    const withSnaps = await exportLab(store, name, { withSnapshots: true });
    expect(withSnaps.manifest.files.map((f) => f.path)).toEqual(expect.arrayContaining(['lab/snapshots/warm/state.bin', 'lab/snapshots/warm/snapshot.json']));
    const other = new LabStore(join(dir, 'elsewhere'));
    await other.init();
    const res = await importArchive(other, withSnaps.bytes);
    expect(res.snapshots).toEqual(['warm']);
    expect(readFileSync(join(other.root, name, 'snapshots/warm/state.bin'))).toEqual(readFileSync(join(snapDir, 'state.bin')));
    // Imported under another name, the running state (its MACs belong to the old name) is left out and said so.
    const renamed = await importArchive(store, withSnaps.bytes);
    expect(renamed.notes.join('\n')).toMatch(/snapshot warm was taken running/);
    expect(existsSync(join(store.root, `${name}-2`, 'snapshots/warm/state.bin'))).toBe(false);
    expect(JSON.parse(readFileSync(join(store.root, `${name}-2`, 'snapshots/warm/snapshot.json'), 'utf8')).live).toBe(false);
  });
});

// ---------------------------------------------------------------- hand-made archives

const good = (): Entry => ({ name: 'lab/lab.yaml', data: text(LAB_YAML) });

describe('hostile archives are refused before anything is written', () => {
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['a path that climbs out', () => archive([good(), { name: 'lab/../../escape.txt', data: text('x') }]), /climbs out with \.\./],
    ['an absolute path', () => archive([good(), { name: '/etc/evil', data: text('x') }]), /absolute path/],
    ['a Windows drive path', () => archive([good(), { name: 'C:/evil', data: text('x') }]), /absolute path/],
    ['a backslash path', () => archive([good(), { name: 'lab\\..\\evil', data: text('x') }]), /backslash/],
    ['a symbolic link', () => archive([good(), { name: 'lab/state/runtime.json', data: text('/etc/passwd'), mode: 0o120777 }]), /symbolic link/],
    ['a device node', () => archive([good(), { name: 'lab/state/runtime.json', data: text(''), mode: 0o020644 }]), /device, socket or pipe/],
    ['a huge file', () => zip([{ name: 'manifest.json', data: text('{}'), declare: 3_000_000_000 }]), /once inflated; an entry may have at most/],
    ['a zip bomb that lies about its size', () => archive([good(), { name: 'lab/state/runtime.json', data: new Uint8Array(5_000_000), deflate: true, declare: 100 }]), /more than the 100 bytes it declares/],
    ['entries that add up beyond the cap', () => zip(Array.from({ length: 6 }, (_, i) => ({ name: `f${i}`, data: text('x'), declare: 100 << 20 }))), /add up to more than/],
    ['too many entries', () => zip(Array.from({ length: 10_001 }, (_, i) => ({ name: `f${i}`, data: new Uint8Array(0) }))), /10001 entries; at most 10000/],
    ['a damaged entry', () => archive([{ ...good(), badCrc: true }]), /CRC does not match/],
    ['deflate data that is not deflate', () => archive([good(), { name: 'lab/state/runtime.json', deflated: new Uint8Array(64).fill(0xff), crc: 0, declare: 10, listed: { size: 10 } }]), /lab\/state\/runtime\.json: cannot be inflated/],
    ['a deflate stream cut short', () => archive([good(), { name: 'lab/state/runtime.json', deflated: new Uint8Array(deflateRawSync(new Uint8Array(1 << 20).fill(7)).subarray(0, 100)), crc: 0, declare: 1 << 20, listed: { size: 1 << 20 } }]), /lab\/state\/runtime\.json: (cannot be inflated|inflates to \d+ bytes, not the 1048576)/],
    ['a zstd entry that lies about its size', () => archive([good(), { name: 'lab/state/runtime.json', zstd: zstdRle(0x20, 8 << 20), crc: 0, declare: 100, listed: { size: 100 } }]), /lab\/state\/runtime\.json: inflates to more than the 100 bytes it declares/],
    ['a name twice', () => zip([{ name: 'a', data: text('1') }, { name: 'a', data: text('2') }]), /appears twice/],
    ['no manifest', () => zip([good()]), /no manifest\.json/],
    ['another format', () => archive([good()], { format: 'something-else' }), /not a wirelab archive/],
    ['a newer archive version', () => archive([good()], { version: 2 }), /archive version 2; this wirelab reads version 1/],
    ['a newer lab format', () => archive([good()], { wirelab: 7 }), /lab format version 7/],
    ['broken YAML', () => archive([{ name: 'lab/lab.yaml', data: text('wirelab: 1\nname: evil\nnodes: {pc1: [\n') }]), /is not a valid lab file/],
    ['deeply nested YAML', () => archive([{ name: 'lab/lab.yaml', data: text(`wirelab: 1\nname: evil\ndescription: ${'['.repeat(5000)}${']'.repeat(5000)}\n`) }]), /is not a valid lab file[\s\S]*lab\/lab\.yaml:3:\d+: \(syntax\): nested more than/],
    ['an invalid lab', () => archive([{ name: 'lab/lab.yaml', data: text('wirelab: 1\nname: evil\nnodes:\n  pc1: { kind: toaster }\n') }]), /is not a valid lab file[\s\S]*kind/],
    ['a lab of another name than the manifest', () => archive([good()], { lab: 'other' }), /is lab evil, the manifest says other/],
    ['a file the manifest does not list', () => zip([{ name: 'manifest.json', data: text(JSON.stringify({ format: 'wirelab-archive', version: 1, wirelab: 1, lab: 'evil', files: [{ path: 'lab/lab.yaml', size: LAB_YAML.length, sha256: sha(text(LAB_YAML)) }] })) }, good(), { name: 'lab/extra.sh', data: text('rm -rf /') }]), /not in the manifest/],
    ['a manifest that lists itself', () => zip([{ name: 'manifest.json', data: text(JSON.stringify({ format: 'wirelab-archive', version: 1, wirelab: 1, lab: 'evil', files: [{ path: 'lab/lab.yaml', size: LAB_YAML.length, sha256: sha(text(LAB_YAML)) }, { path: 'manifest.json', size: 1, sha256: '0'.repeat(64) }] })) }, good()]), /manifest\.json: refused: a wirelab archive has no such file/],
    ['a file no archive has', () => archive([good(), { name: 'lab/run.sh', data: text('x') }]), /a wirelab archive has no such file/],
    ['a file that does not match the manifest', () => zip([{ name: 'manifest.json', data: text(JSON.stringify({ format: 'wirelab-archive', version: 1, wirelab: 1, lab: 'evil', files: [{ path: 'lab/lab.yaml', size: LAB_YAML.length, sha256: '0'.repeat(64) }] })) }, good()]), /does not match its SHA-256/],
    ['a linked clone', () => archive([{ name: 'lab/lab.yaml', data: text(`${LAB_YAML}clone-of: { lab: base, snapshot: s1 }\n`) }]), /names a parent/],
    ['a damaged snapshot state', () => archive([good(), { name: 'lab/snapshots/s1/snapshot.json', data: text(JSON.stringify({ format: 'wirelab-snapshot', version: 1, name: 's1', createdAt: 'x', live: true, parent: null })) }, { name: 'lab/snapshots/s1/lab.yaml', data: text(LAB_YAML) }, { name: 'lab/snapshots/s1/state.bin', data: gzipSync(text('WLSTATE1 garbage')) }]), /state\.bin/],
    ['not a zip at all', () => text('hello, this is not an archive at all, nope'), /not a zip archive/],
  ];

  it.each(cases)('%s', async (_what, make, message) => {
    const before = tree(dir);
    let error: unknown;
    try {
      await importArchive(store, make());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ArchiveError);
    expect((error as Error).message).toMatch(message);
    expect(tree(dir)).toEqual(before);
  });

  it('reads zstd entries (method 93) as a stream too', async () => {
    // runtime.json: `{"version":1,"dhcp":{}}` followed by 300 KiB of spaces, as three RLE blocks and a raw one.
    const head = text('{"version":1,"dhcp":{}}');
    const body = new Uint8Array(head.length + 300 * 1024).fill(0x20);
    body.set(head, 0);
    const spaces = zstdRle(0x20, 300 * 1024);
    // A raw block (type 0) with the JSON first, then the RLE blocks of the spaces.
    const raw = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3, ...[(head.length << 3) & 0xff, (head.length >> 5) & 0xff, (head.length >> 13) & 0xff], ...head, ...spaces.subarray(6)];
    const r = await importArchive(store, archive([good(), { name: 'lab/state/runtime.json', data: body, zstd: new Uint8Array(raw) }]));
    expect(r.lab).toBe('evil');
    expect(readFileSync(join(store.root, 'evil/state/runtime.json'))).toEqual(Buffer.from(body));
  });

  it('accepts the well-formed archive these are made from, and --as refuses a taken name', async () => {
    const r = await importArchive(store, archive([good()]));
    expect(r.lab).toBe('evil');
    expect(tree(store.root)).toEqual(['evil/lab.yaml']);
    await expect(importArchive(store, archive([good()]), { as: 'evil' })).rejects.toThrow(/already exists/);
    await expect(importArchive(store, archive([good()]), { as: '../up' })).rejects.toThrow(/not a lab name/);
    await expect(checkArchive(store, archive([good()]), { as: 'fresh' })).resolves.toMatchObject({ name: 'fresh', renamedFrom: 'evil' });
    expect(listZip(archive([good()])).map((e) => e.name)).toEqual(['manifest.json', 'lab/lab.yaml']);
  });
});
