/**
 * Opening GNS3 projects: a `.gns3` file (JSON, with its project-files/ folder beside it when
 * there is one) or a `.gns3project` export (a zip; GNS3 3.x compresses its entries with zstd).
 * The project is mapped by devices/gns3/map.ts, validated as a lab, and written like an imported
 * archive: into a temporary folder renamed into place, nothing written unless it is all valid.
 * The import report is returned and kept beside lab.yaml as gns3-import.txt.
 */
import { constants as fsc, existsSync } from 'node:fs';
import { lstat, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatLabErrors, loadLabText } from '../devices/lab/load.js';
import { LAB_NAME_RE, type LabFile } from '../devices/lab/schema.js';
import { type Gns3Files, type Gns3Report, labNameFor, mapGns3Project } from '../devices/gns3/map.js';
import { formatLabFile } from './lab-yaml.js';
import type { LabStore } from './store.js';
import { writeStaged } from './snapshots-archive.js';
import { ArchiveError, DEFAULT_LIMITS, type ZipEntry, type ZipLimits, listZip, streamEntry } from './snapshots-zip.js';

export interface Gns3ImportResult {
  lab: string;
  report: Gns3Report;
  /** The report as text (also saved as gns3-import.txt in the lab's folder). */
  text: string;
}

const MAX_PROJECT_BYTES = 32 << 20;
const MAX_STARTUP_BYTES = 1 << 20;

/**
 * Reads `rel` inside the project folder `dir` without following any symbolic link below `dir`
 * (a crafted project must not make the import read, and its report print, files outside it).
 * Returns null when the file is absent, or a reason when it was refused.
 */
async function readInside(dir: string, rel: string): Promise<{ text: string } | { refused: string } | null> {
  const parts = rel.split('/');
  let at = dir;
  for (let i = 0; i < parts.length; i++) {
    at = path.join(at, parts[i]!);
    const st = await lstat(at).catch(() => null);
    if (!st) return null;
    const shown = parts.slice(0, i + 1).join('/');
    if (st.isSymbolicLink()) return { refused: `${shown}: not read, it is a symbolic link (nothing outside the project is read)` };
    if (i < parts.length - 1 ? !st.isDirectory() : !st.isFile()) return null;
  }
  // O_NOFOLLOW: should the file be swapped for a link after the lstat, the open fails instead.
  const fh = await open(at, fsc.O_RDONLY | fsc.O_NOFOLLOW).catch((e: NodeJS.ErrnoException) => e);
  if (!('read' in fh)) return fh.code === 'ELOOP' ? { refused: `${rel}: not read, it is a symbolic link (nothing outside the project is read)` } : null;
  try {
    const st = await fh.stat();
    if (!st.isFile()) return null;
    if (st.size > MAX_STARTUP_BYTES) throw new ArchiveError('a startup file larger than 1 MiB', rel);
    return { text: (await fh.readFile()).toString('utf8') };
  } finally {
    await fh.close();
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseProject(text: string, where: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ArchiveError(`is not JSON: ${(e as Error).message}`, where);
  }
  if (!isObj(data)) throw new ArchiveError('is not a GNS3 project (not a JSON object)', where);
  return data;
}

/** Node ids and dynamips ids of the project's nodes, to find their startup files. */
function nodesOf(project: Record<string, unknown>): { id: string; type: string; dynamipsId: number | null }[] {
  const topo = isObj(project['topology']) ? project['topology'] : {};
  const out: { id: string; type: string; dynamipsId: number | null }[] = [];
  for (const n of Array.isArray(topo['nodes']) ? topo['nodes'] : []) {
    if (!isObj(n) || typeof n['node_id'] !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(n['node_id'])) continue;
    const props = isObj(n['properties']) ? n['properties'] : {};
    out.push({ id: n['node_id'], type: String(n['node_type']), dynamipsId: typeof props['dynamips_id'] === 'number' ? props['dynamips_id'] : null });
  }
  return out;
}

/** Where GNS3 keeps each node's startup file, relative to the project folder (2.x and older layouts). */
function startupPaths(n: { id: string; type: string; dynamipsId: number | null }): { kind: 'vpcs' | 'ios'; paths: string[] } | null {
  if (n.type === 'vpcs') return { kind: 'vpcs', paths: [`project-files/vpcs/${n.id}/startup.vpc`] };
  if (n.type === 'dynamips') {
    const d = n.dynamipsId;
    const files = d === null ? [] : [`project-files/dynamips/${n.id}/configs/i${d}_startup-config.cfg`, `project-files/dynamips/configs/i${d}_startup-config.cfg`];
    return { kind: 'ios', paths: files };
  }
  if (n.type === 'iou') return { kind: 'ios', paths: [`project-files/iou/${n.id}/startup-config.cfg`] };
  return null;
}

/** Maps a project and checks the lab it makes; nothing is written. */
export function mapChecked(project: Record<string, unknown>, files: Gns3Files, name: string): { file: LabFile; text: string; report: Gns3Report } {
  let mapped;
  try {
    mapped = mapGns3Project(project, files);
  } catch (e) {
    throw new ArchiveError((e as Error).message);
  }
  mapped.file.name = name;
  const text = formatLabFile(mapped.file);
  const r = loadLabText(text, `${name}/lab.yaml`, { folderName: name });
  if (!r.ok) throw new ArchiveError(`the GNS3 project maps to a lab wirelab refuses:\n${formatLabErrors(r.errors)}`);
  return { file: mapped.file, text, report: mapped.report };
}

export function reportText(r: Gns3Report, lab: string): string {
  const lines = [`GNS3 project "${r.project}"${r.gns3Version ? ` (GNS3 ${r.gns3Version})` : ''} imported as lab ${lab}`, ''];
  const section = (title: string, items: string[]) => {
    lines.push(`${title} (${items.length}):`);
    for (const i of items) lines.push(`  - ${i}`);
    if (items.length === 0) lines.push('  (none)');
    lines.push('');
  };
  section('mapped', r.mapped);
  section('approximated', r.approximated);
  section('not imported', r.unsupported);
  return lines.join('\n');
}

export interface Gns3ImportOptions {
  as?: string;
  limits?: ZipLimits;
}

function chooseName(store: LabStore, wanted: string | undefined, project: Record<string, unknown>): string {
  const taken = (n: string) => existsSync(store.labDir(n));
  if (wanted !== undefined) {
    if (!LAB_NAME_RE.test(wanted)) throw new ArchiveError(`--as ${JSON.stringify(wanted)} is not a lab name (1..63 lowercase letters, digits, - or _)`);
    if (taken(wanted)) throw new ArchiveError(`a lab (or folder) named ${wanted} already exists in ${store.root}`);
    return wanted;
  }
  const base = labNameFor(typeof project['name'] === 'string' ? project['name'] : 'gns3-import');
  if (!taken(base)) return base;
  for (let i = 2; ; i++) if (!taken(`${base.slice(0, 56)}-${i}`)) return `${base.slice(0, 56)}-${i}`;
}

async function finish(store: LabStore, project: Record<string, unknown>, files: Gns3Files, opts: Gns3ImportOptions, refused: string[] = []): Promise<Gns3ImportResult> {
  const name = chooseName(store, opts.as, project);
  const { text, report } = mapChecked(project, files, name);
  report.unsupported.push(...refused);
  const rep = reportText(report, name);
  await writeStaged(store, { name, files: [{ rel: 'lab.yaml', data: new TextEncoder().encode(text) }, { rel: 'gns3-import.txt', data: new TextEncoder().encode(rep) }] });
  return { lab: name, report, text: rep };
}

/** Imports a .gns3 project file; startup files are read from the project-files/ folder beside it. */
export async function importGns3File(store: LabStore, file: string, opts: Gns3ImportOptions = {}): Promise<Gns3ImportResult> {
  const bytes = await readFile(file);
  if (bytes.length > MAX_PROJECT_BYTES) throw new ArchiveError(`the project file is larger than ${MAX_PROJECT_BYTES} bytes`, path.basename(file));
  const project = parseProject(bytes.toString('utf8'), path.basename(file));
  const dir = path.dirname(path.resolve(file));
  const files: Gns3Files = { vpcs: new Map(), ios: new Map() };
  const refused = new Set<string>();
  for (const n of nodesOf(project)) {
    const where = startupPaths(n);
    if (!where) continue;
    for (const rel of where.paths) {
      const got = await readInside(dir, rel);
      if (got === null) continue;
      if ('refused' in got) {
        refused.add(got.refused);
        continue;
      }
      (where.kind === 'vpcs' ? files.vpcs : files.ios).set(n.id, got.text);
      break;
    }
  }
  return finish(store, project, files, opts, [...refused]);
}

/** Imports a GNS3 project from its JSON text alone (the API's `{gns3: ...}` body). */
export async function importGns3Json(store: LabStore, project: unknown, opts: Gns3ImportOptions = {}): Promise<Gns3ImportResult> {
  if (!isObj(project)) throw new ArchiveError('is not a GNS3 project (not a JSON object)', 'gns3');
  return finish(store, project, { vpcs: new Map(), ios: new Map() }, opts);
}

/** An entry's text, inflated as a stream (as .wlab entries are) so many startup files do not hold the event loop. */
async function entryText(bytes: Uint8Array, e: ZipEntry, limits: ZipLimits): Promise<string> {
  const parts: Uint8Array[] = [];
  await streamEntry(bytes, e, (chunk) => void parts.push(chunk), limits);
  return new TextDecoder().decode(Buffer.concat(parts));
}

/** Imports a .gns3project archive (zip, deflate or zstd entries), checked like any archive. */
export async function importGns3Project(store: LabStore, bytes: Uint8Array, opts: Gns3ImportOptions = {}): Promise<Gns3ImportResult> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const entries = listZip(bytes, limits);
  const top = entries.filter((e) => !e.dir && !e.name.includes('/') && e.name.endsWith('.gns3'));
  if (top.length !== 1) throw new ArchiveError(top.length === 0 ? 'not a GNS3 project archive: no .gns3 file at its top' : `the archive has ${top.length} .gns3 files at its top; a project has one`);
  const pe = top[0]!;
  if (pe.size > MAX_PROJECT_BYTES) throw new ArchiveError(`is larger than ${MAX_PROJECT_BYTES} bytes`, pe.name);
  const project = parseProject(await entryText(bytes, pe, limits), pe.name);
  const byName = new Map(entries.filter((e) => !e.dir).map((e) => [e.name, e] as const));
  const files: Gns3Files = { vpcs: new Map(), ios: new Map() };
  for (const n of nodesOf(project)) {
    const where = startupPaths(n);
    if (!where) continue;
    for (const rel of where.paths) {
      const e = byName.get(rel);
      if (!e) continue;
      if (e.size > 1 << 20) throw new ArchiveError('a startup file larger than 1 MiB', e.name);
      (where.kind === 'vpcs' ? files.vpcs : files.ios).set(n.id, await entryText(bytes, e, limits));
      break;
    }
  }
  return finish(store, project, files, opts);
}
