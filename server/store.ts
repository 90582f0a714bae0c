/**
 * The labs directory on disk: one folder per lab holding `lab.yaml`, `state/` and `snapshots/`.
 *
 * Every write replaces a file atomically (a temporary file in the same folder, flushed to disk,
 * renamed over the old one), so a crash or a SIGKILL at any instant leaves either the old file
 * or the new one, never a torn mix. Every path is built from a validated lab name and checked to
 * stay inside the labs directory.
 */
import { type FSWatcher, watch } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { LAB_NAME_RE } from '../devices/lab/schema.js';

export const LAB_FILE = 'lab.yaml';
const STATE_FILE = 'runtime.json';
/** Temporary files of interrupted writes start like this; they are swept at start. */
const TEMP_PREFIX = '.wirelab-tmp-';

export class InvalidLabName extends Error {}

/** Per process, not per store: two stores over one folder never pick the same temporary name. */
let tempCounter = 0;

export class LabStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /**
   * Creates the labs directory if needed and removes the leftovers of writes a crash interrupted:
   * temporary files and folders in the labs folder (imports), each lab's folder, its state and
   * its snapshots. Only at start: while the server runs, a temporary name is a write in progress.
   */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const dirs = [this.root];
    for (const name of await this.listNames()) dirs.push(this.labDir(name), path.join(this.labDir(name), 'state'), path.join(this.labDir(name), 'snapshots'));
    for (const dir of dirs) {
      let entries: string[];
      try {
        entries = await readdir(dir);
      } catch {
        continue;
      }
      for (const e of entries) if (isStaleTemp(e)) await rm(path.join(dir, e), { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** The folder of a lab; throws InvalidLabName for anything but a valid lab name. */
  labDir(name: string): string {
    if (!isLabName(name)) throw new InvalidLabName(`not a lab name: ${JSON.stringify(name)}`);
    const dir = path.resolve(this.root, name);
    // Belt and braces: the name rules already exclude separators and dots-only names.
    if (path.dirname(dir) !== this.root) throw new InvalidLabName(`not a lab name: ${JSON.stringify(name)}`);
    return dir;
  }

  labFile(name: string): string {
    return path.join(this.labDir(name), LAB_FILE);
  }

  /** Names of the folders that hold a lab.yaml, sorted. */
  async listNames(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    const names: string[] = [];
    for (const e of entries) {
      if (!e.isDirectory() || !isLabName(e.name)) continue;
      if ((await readText(path.join(this.root, e.name, LAB_FILE))) !== null) names.push(e.name);
    }
    return names.sort();
  }

  async exists(name: string): Promise<boolean> {
    return (await readText(this.labFile(name))) !== null;
  }

  /** lab.yaml's text, or null when there is none. */
  async read(name: string): Promise<string | null> {
    return readText(this.labFile(name));
  }

  /** Writes lab.yaml atomically, creating the lab's folder if needed. */
  async write(name: string, text: string): Promise<void> {
    const dir = this.labDir(name);
    await mkdir(dir, { recursive: true });
    await this.atomicWrite(dir, LAB_FILE, text);
  }

  /** Deletes a lab's folder with everything in it. */
  async remove(name: string): Promise<void> {
    await rm(this.labDir(name), { recursive: true, force: true });
  }

  async readState(name: string): Promise<unknown> {
    const text = await readText(path.join(this.labDir(name), 'state', STATE_FILE));
    if (text === null) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }

  async writeState(name: string, state: unknown): Promise<void> {
    const dir = path.join(this.labDir(name), 'state');
    await mkdir(dir, { recursive: true });
    await this.atomicWrite(dir, STATE_FILE, JSON.stringify(state ?? null, null, 1) + '\n');
  }

  /**
   * Calls `onChange` when the lab's lab.yaml may have changed. The folder is watched, not the
   * file: an atomic save (ours or an editor's) replaces the file, and a watch on the old inode
   * would go quiet.
   */
  watchLab(name: string, onChange: () => void): FSWatcher | null {
    try {
      const w = watch(this.labDir(name), { persistent: false }, (_event, file) => {
        if (file === null || file === LAB_FILE) onChange();
      });
      w.on('error', () => w.close());
      return w;
    } catch {
      return null;
    }
  }

  /** Calls `onChange` when folders may have appeared in or gone from the labs directory. */
  watchRoot(onChange: () => void): FSWatcher | null {
    try {
      const w = watch(this.root, { persistent: false }, () => onChange());
      w.on('error', () => w.close());
      return w;
    } catch {
      return null;
    }
  }

  private async atomicWrite(dir: string, file: string, text: string): Promise<void> {
    const temp = path.join(dir, `${TEMP_PREFIX}${process.pid}-${++tempCounter}-${file}`);
    const fh = await open(temp, 'wx', 0o644);
    try {
      await fh.writeFile(text, 'utf8');
      // The data must be on disk before the rename makes it the file, or a power cut could leave an empty lab.yaml.
      await fh.sync();
    } catch (e) {
      await fh.close();
      await unlink(temp).catch(() => undefined);
      throw e;
    }
    await fh.close();
    try {
      await rename(temp, path.join(dir, file));
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw e;
    }
    // Make the rename itself durable.
    const d = await open(dir, 'r').catch(() => null);
    if (d) {
      await d.sync().catch(() => undefined);
      await d.close();
    }
  }
}

/**
 * A temporary name (`.wirelab-tmp-<pid>-...`) no live write can own: ours (nothing is in progress
 * at start) or a process that is gone. Another process's (a CLI import) is left alone.
 */
function isStaleTemp(name: string): boolean {
  if (!name.startsWith(TEMP_PREFIX)) return false;
  const pid = Number(/^(\d+)-/.exec(name.slice(TEMP_PREFIX.length))?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'EPERM';
  }
}

export function isLabName(name: string): boolean {
  return LAB_NAME_RE.test(name);
}

async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}
