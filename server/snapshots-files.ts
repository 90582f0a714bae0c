/**
 * Where snapshots live on disk, and how a linked clone's lab.yaml is read and written.
 *
 *   labs/<lab>/snapshots/<snap>/snapshot.json   name, description, when, parent, live or not
 *   labs/<lab>/snapshots/<snap>/lab.yaml        the lab file at that moment (always whole)
 *   labs/<lab>/snapshots/<snap>/state.bin       a running lab's whole runtime (gzip of encodeState)
 *   labs/<lab>/snapshots/<snap>/runtime.json    a stopped lab's saved state (DHCP leases)
 *   labs/<lab>/snapshots/.here                  the snapshot the lab was last taken at or restored to
 *
 * A linked clone's lab.yaml names its parent (`clone-of: {lab, snapshot}`) and holds only what
 * differs from the parent snapshot's lab.yaml, as a JSON merge patch (RFC 7386: objects merge,
 * null deletes, anything else replaces). The lab service reads it through `readLabFile`, which
 * gives the whole lab, and writes through `writeLabFile`, which stores the difference again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { LAB_NAME_RE, type LabFile } from '../devices/lab/schema.js';
import { formatLabFile } from './lab-yaml.js';
import type { LabStore } from './store.js';

export const SNAPSHOTS_DIR = 'snapshots';
export const SNAPSHOT_META = 'snapshot.json';
export const SNAPSHOT_LAB = 'lab.yaml';
export const SNAPSHOT_STATE = 'state.bin';
export const SNAPSHOT_SAVED_STATE = 'runtime.json';
export const HERE_FILE = '.here';

type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isSnapshotName(name: string): boolean {
  return LAB_NAME_RE.test(name);
}

export function snapshotsDir(store: LabStore, lab: string): string {
  return path.join(store.labDir(lab), SNAPSHOTS_DIR);
}

/** A snapshot's folder; the name is checked so that no path leaves the lab's folder. */
export function snapshotDir(store: LabStore, lab: string, snap: string): string {
  if (!isSnapshotName(snap)) throw new Error(`not a snapshot name: ${JSON.stringify(snap)}`);
  return path.join(snapshotsDir(store, lab), snap);
}

// ---------------------------------------------------------------- merge patches

/** RFC 7386: objects merge, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Json = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * The merge patch that turns `from` into `to` (mergePatch(from, diff) deep-equals `to`), or
 * undefined when they are equal. Lists are replaced whole, as RFC 7386 says; a null in `to`
 * cannot be expressed by a merge patch, and lab files have none.
 */
export function mergeDiff(from: unknown, to: unknown): unknown {
  if (!isObject(from) || !isObject(to)) return deepEqual(from, to) ? undefined : structuredClone(to);
  const out: Json = {};
  for (const k of Object.keys(from)) if (!(k in to) || to[k] === undefined) out[k] = null;
  for (const [k, v] of Object.entries(to)) {
    if (v === undefined) continue;
    if (!(k in from)) out[k] = structuredClone(v);
    else {
      const d = mergeDiff(from[k], v);
      if (d !== undefined) out[k] = d;
    }
  }
  return Object.keys(out).length ? out : undefined;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

// ---------------------------------------------------------------- linked clones

export interface CloneOf {
  lab: string;
  snapshot: string;
}

/** The `clone-of` of a lab file's data, when it names a lab and a snapshot. */
export function cloneOfIn(data: unknown): CloneOf | null {
  if (!isObject(data) || !isObject(data['clone-of'])) return null;
  const c = data['clone-of'];
  const lab = c['lab'];
  const snapshot = c['snapshot'];
  if (typeof lab !== 'string' || typeof snapshot !== 'string' || !LAB_NAME_RE.test(lab) || !isSnapshotName(snapshot)) return null;
  return { lab, snapshot };
}

function parseQuietly(text: string): unknown {
  try {
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 }) as unknown;
  } catch {
    return undefined;
  }
}

/** The parent snapshot's lab file data, or null when it cannot be read. */
function parentFileSync(store: LabStore, c: CloneOf): Json | null {
  let file: string;
  try {
    file = path.join(snapshotDir(store, c.lab, c.snapshot), SNAPSHOT_LAB);
  } catch {
    return null;
  }
  if (!existsSync(file)) return null;
  const data = parseQuietly(readFileSync(file, 'utf8'));
  return isObject(data) ? data : null;
}

/**
 * A linked clone's whole lab file: the parent snapshot's file with the clone's patch applied.
 * Any other text is returned as it is (a broken patch, or a missing parent, is then reported
 * by the lab loader as the file's errors).
 */
export function resolveLabText(store: LabStore, text: string): string {
  if (!text.includes('clone-of')) return text;
  const data = parseQuietly(text);
  const c = cloneOfIn(data);
  if (!c) return text;
  const parent = parentFileSync(store, c);
  if (!parent) return text;
  const merged = mergePatch(parent, data) as Json;
  return formatLabFile(merged as unknown as LabFile);
}

/** What a lab file holds when stored: for a linked clone, its difference from the parent snapshot. */
export function storedLabText(store: LabStore, text: string): string {
  if (!text.includes('clone-of')) return text;
  const data = parseQuietly(text);
  const c = cloneOfIn(data);
  if (!c || !isObject(data)) return text;
  const parent = parentFileSync(store, c);
  // Without its parent the clone keeps its whole file: it stays valid on its own.
  if (!parent) return text;
  const diff = (mergeDiff(parent, data) ?? {}) as Json;
  const patch: Json = { wirelab: data['wirelab'], name: data['name'], 'clone-of': data['clone-of'] };
  for (const [k, v] of Object.entries(diff)) if (!(k in patch)) patch[k] = v;
  return formatLabFile(patch as unknown as LabFile);
}

/** lab.yaml as the lab service sees it: whole, for linked clones too. */
export async function readLabFile(store: LabStore, lab: string): Promise<string | null> {
  const text = await store.read(lab);
  return text === null ? null : resolveLabText(store, text);
}

/** Writes lab.yaml (atomically, by the store); a linked clone's file is stored as its difference. */
export async function writeLabFile(store: LabStore, lab: string, text: string): Promise<void> {
  await store.write(lab, storedLabText(store, text));
}

// ---------------------------------------------------------------- atomic folders and files

let tempCounter = 0;

/** A fresh temporary folder beside `finalDir` (a name that is never a lab or snapshot). */
export async function tempDirBeside(finalDir: string): Promise<string> {
  const dir = path.join(path.dirname(finalDir), `.wirelab-tmp-${process.pid}-${Date.now()}-${++tempCounter}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Writes a file and flushes it to disk. */
export async function writeDurable(file: string, data: string | Uint8Array): Promise<void> {
  const fh = await open(file, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Replaces a file atomically (temporary file, flush, rename). */
export async function replaceFile(file: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path.dirname(file)}/.wirelab-tmp-${process.pid}-${++tempCounter}-${path.basename(file)}`;
  try {
    await writeDurable(temp, data);
    await rename(temp, file);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  await syncDir(path.dirname(file));
}

export async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r').catch(() => null);
  if (d) {
    await d.sync().catch(() => undefined);
    await d.close();
  }
}

/** Makes a folder written in full under a temporary name the real one, in one rename. */
export async function publishDir(temp: string, finalDir: string): Promise<void> {
  await syncDir(temp);
  await rename(temp, finalDir);
  await syncDir(path.dirname(finalDir));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export async function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [] as string[]);
}
