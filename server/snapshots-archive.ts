/**
 * `.wlab` archives: a lab as one self-contained zip.
 *
 *   manifest.json                          format, version, lab name, every file with its size and SHA-256
 *   lab/lab.yaml                           whole (a linked clone is flattened: no clone-of)
 *   lab/state/runtime.json                 the stopped lab's saved state, when there is one
 *   lab/snapshots/<snap>/{snapshot.json, lab.yaml, state.bin, runtime.json}   with --with-snapshots
 *
 * Import checks the archive's structure (snapshots-zip.ts: names, links, declared sizes, entry
 * count) and the manifest (format, version, every file listed with the size the zip declares,
 * nothing unlisted, per-file and total caps) before it inflates anything. Then each entry is
 * inflated as a stream (on the thread pool; the event loop stays free) into a temporary folder
 * inside the labs folder, hashed as it streams and stopped at its declared size; every lab file
 * is checked against the lab schema, every snapshot's metadata and state; only then is the
 * folder renamed into place. Nothing is ever written outside the labs folder, and a failed
 * import leaves nothing behind. A name already taken is imported under another (`--as` chooses it).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { formatLabErrors, loadLabText } from '../devices/lab/load.js';
import { LAB_NAME_RE, type LabFile } from '../devices/lab/schema.js';
import { labRegistry } from '../devices/snapshot/registry.js';
import { STATE_MAGIC, decodeState } from '../devices/snapshot/runtime-state.js';
import { formatLabFile } from './lab-yaml.js';
import { asLabState } from './runtime.js';
import type { LabStore } from './store.js';
import { renameLabFile, readMeta, type SnapshotMeta } from './snapshots.js';
import {
  HERE_FILE,
  SNAPSHOT_LAB,
  SNAPSHOT_META,
  SNAPSHOT_SAVED_STATE,
  SNAPSHOT_STATE,
  SNAPSHOTS_DIR,
  isObject,
  isSnapshotName,
  listDir,
  publishDir,
  readJson,
  removeDir,
  resolveLabText,
  snapshotsDir,
  syncDir,
  tempDirBeside,
  writeDurable,
} from './snapshots-files.js';
import { ArchiveError, DEFAULT_LIMITS, type ZipEntry, type ZipLimits, listZip, readZipEntry, streamEntry, writeZip } from './snapshots-zip.js';

export { ArchiveError } from './snapshots-zip.js';

export const ARCHIVE_FORMAT = 'wirelab-archive';
export const ARCHIVE_VERSION = 1;
/** Largest lab.yaml, runtime.json or snapshot.json read from an archive. */
export const MAX_TEXT_BYTES = 16 << 20;

interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}
export interface Manifest {
  format: typeof ARCHIVE_FORMAT;
  version: typeof ARCHIVE_VERSION;
  /** lab.yaml format version of the files inside. */
  wirelab: 1;
  lab: string;
  exportedAt: string;
  withSnapshots: boolean;
  /** The snapshot the lab was at. */
  current: string | null;
  files: ManifestFile[];
}

type Json = Record<string, unknown>;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const utf8 = (s: string) => new TextEncoder().encode(s);

/** A lab file's text without clone-of: a flattened linked clone stands on its own. */
function flatten(text: string): string {
  if (!text.includes('clone-of')) return text;
  const data = parseYaml(text) as Json;
  if (!isObject(data) || !('clone-of' in data)) return text;
  delete data['clone-of'];
  return formatLabFile(data as unknown as LabFile);
}

export interface ExportOptions {
  withSnapshots?: boolean;
}

/** The lab as a .wlab archive. */
export async function exportLab(store: LabStore, lab: string, opts: ExportOptions = {}): Promise<{ bytes: Uint8Array; manifest: Manifest }> {
  const raw = await store.read(lab);
  if (raw === null) throw new ArchiveError(`no lab named ${lab}`);
  const files: { name: string; data: Uint8Array }[] = [];
  files.push({ name: 'lab/lab.yaml', data: utf8(flatten(resolveLabText(store, raw))) });
  const saved = await store.readState(lab);
  if (saved !== undefined && asLabState(saved)) files.push({ name: 'lab/state/runtime.json', data: utf8(JSON.stringify(saved, null, 1) + '\n') });
  let current: string | null = null;
  if (opts.withSnapshots) {
    const dir = snapshotsDir(store, lab);
    const here = await readJson(path.join(dir, HERE_FILE));
    if (isObject(here) && typeof here['snapshot'] === 'string') current = here['snapshot'];
    for (const snap of (await listDir(dir)).sort()) {
      if (!isSnapshotName(snap) || (await readMeta(path.join(dir, snap))) === null) continue;
      for (const f of [SNAPSHOT_META, SNAPSHOT_LAB, SNAPSHOT_STATE, SNAPSHOT_SAVED_STATE]) {
        let data: Uint8Array;
        try {
          data = await readFile(path.join(dir, snap, f));
        } catch {
          continue;
        }
        if (f === SNAPSHOT_LAB) data = utf8(flatten(new TextDecoder().decode(data)));
        files.push({ name: `lab/snapshots/${snap}/${f}`, data });
      }
    }
  }
  const manifest: Manifest = {
    format: ARCHIVE_FORMAT,
    version: ARCHIVE_VERSION,
    wirelab: 1,
    lab,
    exportedAt: new Date().toISOString(),
    withSnapshots: opts.withSnapshots === true,
    current,
    files: files.map((f) => ({ path: f.name, size: f.data.length, sha256: sha256(f.data) })),
  };
  const bytes = writeZip([{ name: 'manifest.json', data: utf8(JSON.stringify(manifest, null, 2) + '\n') }, ...files]);
  return { bytes, manifest };
}

export interface ImportOptions {
  /** The name to import under (refused if taken). */
  as?: string;
  limits?: ZipLimits;
}

export interface ImportResult {
  lab: string;
  /** The archive's own lab name, when it was imported under another. */
  renamedFrom: string | null;
  snapshots: string[];
  /** What import changed or left out, in words. */
  notes: string[];
}

/** A checked archive, staged in a temporary folder. */
interface Staged {
  name: string;
  renamedFrom: string | null;
  snapshots: string[];
  notes: string[];
}

const SNAPSHOT_FILE_RE = /^lab\/snapshots\/([^/]+)\/(snapshot\.json|lab\.yaml|state\.bin|runtime\.json)$/;

/**
 * Every file an archive may hold is text (lab.yaml, runtime.json, snapshot.json; at most
 * MAX_TEXT_BYTES) or a live snapshot's state.bin (at most the entry cap, 128 MiB by default);
 * these are checked on the sizes the central directory and the manifest declare, before a byte
 * is inflated, and again as each entry inflates.
 */
const isText = (p: string) => !p.endsWith(`/${SNAPSHOT_STATE}`);

/** The archive's structure and manifest, checked without inflating anything but the manifest (at most 1 MiB). */
function planArchive(bytes: Uint8Array, limits: ZipLimits): { manifest: Json; original: string; files: { entry: ZipEntry; listed: ManifestFile }[] } {
  const entries = listZip(bytes, limits);
  const byName = new Map(entries.filter((e) => !e.dir).map((e) => [e.name, e] as const));
  const manifestEntry = byName.get('manifest.json');
  if (!manifestEntry) throw new ArchiveError('not a wirelab archive: there is no manifest.json');
  if (manifestEntry.size > 1 << 20) throw new ArchiveError('manifest.json is larger than 1 MiB', 'manifest.json');
  let manifest: Json;
  try {
    manifest = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readZipEntry(bytes, manifestEntry, limits))) as Json;
  } catch (e) {
    if (e instanceof ArchiveError) throw e;
    throw new ArchiveError('is not JSON', 'manifest.json');
  }
  if (!isObject(manifest) || manifest['format'] !== ARCHIVE_FORMAT) throw new ArchiveError(`not a wirelab archive (format is not ${ARCHIVE_FORMAT})`, 'manifest.json');
  if (manifest['version'] !== ARCHIVE_VERSION) {
    throw new ArchiveError(`archive version ${JSON.stringify(manifest['version'])}; this wirelab reads version ${ARCHIVE_VERSION}`, 'manifest.json');
  }
  if (manifest['wirelab'] !== 1) throw new ArchiveError(`lab format version ${JSON.stringify(manifest['wirelab'])}; this wirelab reads version 1`, 'manifest.json');
  const original = manifest['lab'];
  if (typeof original !== 'string' || !LAB_NAME_RE.test(original)) throw new ArchiveError('lab is not a lab name', 'manifest.json');
  const listed = manifest['files'];
  if (!Array.isArray(listed)) throw new ArchiveError('files is not a list', 'manifest.json');
  const inManifest = new Map<string, ManifestFile>();
  for (const f of listed) {
    if (!isObject(f) || typeof f['path'] !== 'string' || !Number.isSafeInteger(f['size']) || (f['size'] as number) < 0 || typeof f['sha256'] !== 'string') {
      throw new ArchiveError('a files entry is not {path, size, sha256}', 'manifest.json');
    }
    inManifest.set(f['path'], f as unknown as ManifestFile);
  }
  const known = (p: string) => p === 'lab/lab.yaml' || p === 'lab/state/runtime.json' || SNAPSHOT_FILE_RE.test(p);
  for (const e of entries) {
    if (e.dir || e.name === 'manifest.json') continue;
    if (!inManifest.has(e.name)) throw new ArchiveError('refused: the file is not in the manifest', e.name);
    if (!known(e.name)) throw new ArchiveError('refused: a wirelab archive has no such file', e.name);
  }
  const files: { entry: ZipEntry; listed: ManifestFile }[] = [];
  for (const [p, f] of inManifest) {
    const e = byName.get(p);
    if (!e) throw new ArchiveError('is listed in the manifest but missing from the archive', p);
    if (!known(p)) throw new ArchiveError('refused: a wirelab archive has no such file', p);
    if (e.size !== f.size) throw new ArchiveError(`is ${e.size} bytes, the manifest says ${f.size}`, p);
    if (isText(p) && e.size > MAX_TEXT_BYTES) throw new ArchiveError(`refused: ${e.size} bytes once inflated; a lab file, runtime.json or snapshot.json may have at most ${MAX_TEXT_BYTES}`, p);
    files.push({ entry: e, listed: f });
  }
  if (!byName.has('lab/lab.yaml')) throw new ArchiveError('the archive has no lab/lab.yaml');
  return { manifest, original, files };
}

/** The lab-folder path of an archive file (lab/x -> x). */
const relOf = (p: string) => p.slice('lab/'.length);

/**
 * Checks a .wlab archive through and through, inflating it into `temp` (a folder in the labs
 * folder) as it goes, entry by entry, hashed as it streams: no entry is ever held whole in
 * memory but the lab files being validated. Throws ArchiveError naming the first problem; the
 * caller removes `temp` then.
 */
async function stageArchive(store: LabStore, bytes: Uint8Array, temp: string, opts: ImportOptions): Promise<Staged> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const { manifest, original, files: planned } = planArchive(bytes, limits);

  // The name it lands under.
  let name = original;
  let renamedFrom: string | null = null;
  const notes: string[] = [];
  // A folder of that name, lab or not, is never written into.
  const taken = (n: string) => existsSync(store.labDir(n));
  if (opts.as !== undefined) {
    if (!LAB_NAME_RE.test(opts.as)) throw new ArchiveError(`--as ${JSON.stringify(opts.as)} is not a lab name (1..63 lowercase letters, digits, - or _)`);
    if (taken(opts.as)) throw new ArchiveError(`a lab (or folder) named ${opts.as} already exists in ${store.root}`);
    name = opts.as;
  } else if (taken(name)) {
    let i = 2;
    const base = name.slice(0, 56);
    while (taken(`${base}-${i}`)) i++;
    name = `${base}-${i}`;
    notes.push(`a lab named ${original} exists: imported as ${name}`);
  }
  if (name !== original) renamedFrom = original;

  // Every file inflated into the temporary folder and checked against the manifest; the small
  // text files first, so that a broken one is refused before a big state.bin is inflated.
  const content = new Set<string>();
  for (const { entry, listed } of [...planned].sort((a, b) => Number(!isText(a.entry.name)) - Number(!isText(b.entry.name)))) {
    const target = inside(temp, relOf(entry.name));
    await mkdir(path.dirname(target), { recursive: true });
    const hash = createHash('sha256');
    const fh = await open(target, 'wx', 0o644);
    try {
      await streamEntry(bytes, entry, async (chunk) => {
        hash.update(chunk);
        await fh.write(chunk);
      }, limits);
    } finally {
      await fh.close();
    }
    if (hash.digest('hex') !== listed.sha256) throw new ArchiveError('does not match its SHA-256 in the manifest', entry.name);
    content.add(entry.name);
  }
  const fileOf = (p: string) => inside(temp, relOf(p));

  const text = async (p: string): Promise<string> => {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(await readFile(fileOf(p)));
    } catch {
      throw new ArchiveError('is not UTF-8 text', p);
    }
  };
  /** A lab file from the archive, renamed when needed, validated as the lab's, and put back renamed. */
  const labText = async (p: string): Promise<void> => {
    const r0 = loadLabText(await text(p), p, {});
    if (!r0.ok) throw new ArchiveError(`is not a valid lab file:\n${formatLabErrors(r0.errors)}`, p);
    if (r0.lab.cloneOf) throw new ArchiveError('names a parent (clone-of): a linked clone is flattened when exported, so this archive was not made by export', p);
    if (r0.lab.name !== original) throw new ArchiveError(`is lab ${r0.lab.name}, the manifest says ${original}`, p);
    // Parsing is the costly part (YAML): a second time only when a rename changes the text.
    if (renamedFrom === null) return;
    const file = structuredClone(r0.lab.file) as unknown as Json;
    renameLabFile(file, original, name);
    const t = formatLabFile(file as unknown as LabFile);
    const r = loadLabText(t, p, { folderName: name });
    if (!r.ok) throw new ArchiveError(`is not a valid lab file:\n${formatLabErrors(r.errors)}`, p);
    await overwrite(fileOf(p), t);
  };
  const savedState = async (p: string, what: string): Promise<void> => {
    let s: unknown;
    try {
      s = JSON.parse(await text(p));
    } catch {
      throw new ArchiveError('is not JSON', p);
    }
    if (!asLabState(s)) throw new ArchiveError(what, p);
  };

  await labText('lab/lab.yaml');
  if (content.has('lab/state/runtime.json')) {
    await savedState('lab/state/runtime.json', 'is not a saved lab state ({version: 1, dhcp: {...}})');
    if (renamedFrom !== null) {
      await unlink(fileOf('lab/state/runtime.json'));
      notes.push('the saved DHCP leases were left out: they belong to the MACs of the original name');
    }
  }

  const snaps = new Map<string, Set<string>>();
  for (const p of content) {
    const m = SNAPSHOT_FILE_RE.exec(p);
    if (!m) continue;
    if (!isSnapshotName(m[1]!)) throw new ArchiveError('refused: not a snapshot name', p);
    if (!snaps.has(m[1]!)) snaps.set(m[1]!, new Set());
    snaps.get(m[1]!)!.add(m[2]!);
  }
  const metas = new Map<string, SnapshotMeta>();
  for (const [snap, have] of snaps) {
    const dir = `lab/snapshots/${snap}`;
    if (!have.has(SNAPSHOT_META) || !have.has(SNAPSHOT_LAB)) throw new ArchiveError(`snapshot ${snap} lacks snapshot.json or lab.yaml`, dir);
    let meta: Json;
    try {
      meta = JSON.parse(await text(`${dir}/${SNAPSHOT_META}`)) as Json;
    } catch {
      throw new ArchiveError('is not JSON', `${dir}/${SNAPSHOT_META}`);
    }
    if (!isObject(meta) || meta['format'] !== 'wirelab-snapshot' || meta['version'] !== 1 || meta['name'] !== snap || typeof meta['createdAt'] !== 'string' || typeof meta['live'] !== 'boolean') {
      throw new ArchiveError('is not the metadata of this snapshot', `${dir}/${SNAPSHOT_META}`);
    }
    metas.set(snap, meta as unknown as SnapshotMeta);
  }
  const snapshots: string[] = [];
  for (const [snap, meta] of metas) {
    const dir = `lab/snapshots/${snap}`;
    const have = snaps.get(snap)!;
    if (meta.parent !== null && !metas.has(meta.parent)) meta.parent = null;
    await labText(`${dir}/${SNAPSHOT_LAB}`);
    if (have.has(SNAPSHOT_STATE)) {
      if (!meta.live) throw new ArchiveError('a snapshot of a stopped lab has no state.bin', `${dir}/${SNAPSHOT_STATE}`);
      await checkState(fileOf(`${dir}/${SNAPSHOT_STATE}`), `${dir}/${SNAPSHOT_STATE}`, limits);
      if (renamedFrom !== null) {
        // A running lab's state holds the devices' MACs, derived from the old name.
        await unlink(fileOf(`${dir}/${SNAPSHOT_STATE}`));
        meta.live = false;
        meta.engineTimeNs = null;
        notes.push(`snapshot ${snap} was taken running: imported under a new name, it keeps its lab.yaml but not the running state`);
      }
    } else if (meta.live) throw new ArchiveError(`snapshot ${snap} was taken running but has no state.bin`, dir);
    if (have.has(SNAPSHOT_SAVED_STATE)) {
      await savedState(`${dir}/${SNAPSHOT_SAVED_STATE}`, 'is not a saved lab state');
      if (renamedFrom !== null) await unlink(fileOf(`${dir}/${SNAPSHOT_SAVED_STATE}`));
    }
    await overwrite(fileOf(`${dir}/${SNAPSHOT_META}`), JSON.stringify(meta, null, 2) + '\n');
    snapshots.push(snap);
  }
  const current = manifest['current'];
  if (typeof current === 'string' && metas.has(current)) await writeDurable(path.join(temp, SNAPSHOTS_DIR, HERE_FILE), JSON.stringify({ snapshot: current }) + '\n');
  return { name, renamedFrom, snapshots: snapshots.sort(), notes };
}

/** A path inside `dir`; names were checked, this keeps any future mistake inside the folder too. */
function inside(dir: string, rel: string): string {
  const target = path.resolve(dir, rel);
  if (!target.startsWith(dir + path.sep)) throw new ArchiveError('refused: a path outside the lab folder', rel);
  return target;
}

async function overwrite(file: string, data: string): Promise<void> {
  await unlink(file);
  await writeDurable(file, data);
}

/** Flushes every file under `dir` to disk (the streamed entries are written unflushed until they are known good). */
async function syncTree(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await syncTree(p);
    else {
      const fh = await open(p, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  }
  await syncDir(dir);
}

/**
 * A live snapshot's state: gzip that inflates (as a stream, on the thread pool) within the entry
 * cap to a state file of known classes.
 */
async function checkState(file: string, where: string, limits: ZipLimits): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    await pipeline(createReadStream(file), createGunzip(), async function* (source: AsyncIterable<Buffer>) {
      for await (const c of source) {
        // Not a state file: refused on its first bytes, not after inflating all of it.
        if (size === 0 && c.length >= STATE_MAGIC.length && c.subarray(0, STATE_MAGIC.length).toString('latin1') !== STATE_MAGIC) {
          throw new ArchiveError('not a wirelab runtime state file', where);
        }
        size += c.length;
        if (size > limits.maxEntryBytes) throw new ArchiveError(`inflates to more than ${limits.maxEntryBytes} bytes`, where);
        chunks.push(c);
      }
      yield* [];
    });
  } catch (e) {
    if (e instanceof ArchiveError) throw e;
    throw new ArchiveError(`is not a gzip stream: ${(e as Error).message}`, where);
  }
  let state;
  try {
    state = decodeState(Buffer.concat(chunks, size));
  } catch (e) {
    throw new ArchiveError((e as Error).message, where);
  }
  const registry = labRegistry();
  for (const shape of state.graph.data.shapes) {
    const cls = shape[0]!;
    if (cls !== '' && cls !== '*' && !registry.forName(cls)) throw new ArchiveError(`holds objects of class ${cls}, unknown to this wirelab`, where);
  }
}

/** Stages an archive in a fresh temporary folder of the labs folder; the folder is removed if anything fails. */
async function staged<T>(store: LabStore, bytes: Uint8Array, opts: ImportOptions, then: (s: Staged, temp: string) => Promise<T>): Promise<T> {
  const made = await mkdir(store.root, { recursive: true });
  const temp = await tempDirBeside(path.join(store.root, 'import'));
  try {
    return await then(await stageArchive(store, bytes, temp, opts), temp);
  } catch (e) {
    await removeDir(temp);
    // A labs folder made for this import goes too (rmdir: only while empty).
    for (let d = path.resolve(store.root); made !== undefined; d = path.dirname(d)) {
      if (!(await rmdir(d).then(() => true, () => false)) || d === path.resolve(made)) break;
    }
    throw e;
  } finally {
    if (existsSync(temp)) await removeDir(temp);
  }
}

/** Checks a .wlab archive through and through, writing nothing that stays; throws ArchiveError naming the first problem. */
export function checkArchive(store: LabStore, bytes: Uint8Array, opts: ImportOptions = {}): Promise<Staged> {
  return staged(store, bytes, opts, async (s) => s);
}

/**
 * Imports a .wlab archive into the labs folder: staged in a temporary folder, renamed into place
 * once all of it is valid, removed otherwise.
 */
export function importArchive(store: LabStore, bytes: Uint8Array, opts: ImportOptions = {}): Promise<ImportResult> {
  return staged(store, bytes, opts, async (s, temp) => {
    await syncTree(temp);
    const finalDir = store.labDir(s.name);
    if (existsSync(finalDir)) throw new ArchiveError(`a lab (or folder) named ${s.name} appeared meanwhile`);
    await publishDir(temp, finalDir);
    return { lab: s.name, renamedFrom: s.renamedFrom, snapshots: s.snapshots, notes: s.notes };
  });
}

/** Imports running at once on a server; more are turned away (503) rather than queued. */
export const MAX_CONCURRENT_IMPORTS = 2;
let importsRunning = 0;

/**
 * One of the import slots, as the function that gives it back, or null when all are taken.
 * Two at a time: each inflates on libuv's thread pool (4 threads by default), which the rest of
 * the server's file I/O shares.
 */
export function importSlot(): (() => void) | null {
  if (importsRunning >= MAX_CONCURRENT_IMPORTS) return null;
  importsRunning++;
  let given = false;
  return () => {
    if (!given) importsRunning--;
    given = true;
  };
}

/** Writes a checked lab into a temporary folder in the labs folder, then renames it into place. */
export async function writeStaged(store: LabStore, staged: { name: string; files: { rel: string; data: Uint8Array }[] }): Promise<void> {
  await mkdir(store.root, { recursive: true });
  const finalDir = store.labDir(staged.name);
  const temp = await tempDirBeside(finalDir);
  try {
    for (const f of staged.files) {
      const target = path.resolve(temp, f.rel);
      // Names were checked; this keeps any future mistake inside the folder too.
      if (!target.startsWith(temp + path.sep)) throw new ArchiveError('refused: a path outside the lab folder', f.rel);
      await mkdir(path.dirname(target), { recursive: true });
      await writeDurable(target, f.data);
    }
    if (existsSync(finalDir)) throw new ArchiveError(`a lab (or folder) named ${staged.name} appeared meanwhile`);
    await publishDir(temp, finalDir);
  } catch (e) {
    await removeDir(temp);
    throw e;
  }
}
