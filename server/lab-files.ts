/**
 * Finding and reading a lab from the command line: LAB is a lab's name in the labs folder, a lab
 * folder, or a lab.yaml path (docs/cli.md).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadLabText, formatLabErrors, type LabError } from '../devices/lab/load.js';
import type { Lab } from '../devices/lab/schema.js';
import { LabStore } from './store.js';
import { resolveLabText } from './snapshots-files.js';

export interface LocatedLab {
  /** The lab folder. */
  dir: string;
  file: string;
}

export function locateLab(arg: string, labsDir: string): LocatedLab {
  const candidates = [arg, join(labsDir, arg)];
  for (const c of candidates) {
    if (!existsSync(c)) continue;
    const st = statSync(c);
    if (st.isDirectory()) {
      const file = join(c, 'lab.yaml');
      if (existsSync(file)) return { dir: resolve(c), file: resolve(file) };
    } else if (st.isFile()) return { dir: resolve(dirname(c)), file: resolve(c) };
  }
  throw new LabNotFound(`no lab '${arg}': not a lab.yaml, a folder with one, or a lab in ${labsDir}`);
}

export class LabNotFound extends Error {}

export type ReadLab = { ok: true; lab: Lab; located: LocatedLab; warnings: LabError[] } | { ok: false; errors: LabError[]; text: string };

/** Reads and validates a lab file; the lab's name must equal its folder's when it is a lab.yaml. */
export function readLab(located: LocatedLab): ReadLab {
  // A linked clone stores only its differences from its parent snapshot: read it whole.
  const text = resolveLabText(new LabStore(dirname(located.dir)), readFileSync(located.file, 'utf8'));
  const shown = located.file.startsWith(process.cwd() + '/') ? located.file.slice(process.cwd().length + 1) : located.file;
  const folderName = basename(located.file) === 'lab.yaml' ? basename(located.dir) : undefined;
  const r = loadLabText(text, shown, folderName !== undefined ? { folderName } : {});
  if (!r.ok) return { ok: false, errors: r.errors, text: formatLabErrors(r.errors) };
  return { ok: true, lab: r.lab, located, warnings: r.warnings };
}
