/**
 * `wirelab export LAB FILE.wlab [--with-snapshots]` and `wirelab import FILE [--as NAME]`
 * (docs/cli.md): .wlab archives, and GNS3 projects (.gns3, .gns3project).
 */
import { writeFile, readFile, rename, unlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse, UsageError } from './cli.js';
import { LabStore } from './store.js';
import { ArchiveError, exportLab, importArchive } from './snapshots-archive.js';
import { importGns3File, importGns3Project } from './gns3-import.js';
import { LabNotFound, locateLab } from './lab-files.js';

const EXPORT_HELP = `usage: wirelab export LAB FILE.wlab [--with-snapshots] [--labs ./labs]

Writes the lab as one self-contained archive (a zip with a manifest): lab.yaml (a linked clone
flattened into an independent lab), the saved state, and with --with-snapshots its snapshots.
LAB is a lab's name in --labs or its folder.`;

const IMPORT_HELP = `usage: wirelab import FILE [--as NAME] [--labs ./labs]

Imports a .wlab archive, a GNS3 project file (.gns3, with its project-files/ folder when it is
beside it) or a GNS3 export (.gns3project, deflate or zstd). Everything is checked before
anything is written (format and version, every lab file, names, sizes, links, zip bombs), and
nothing is written outside --labs. A lab whose name is taken is imported under another name;
--as chooses it. A GNS3 import prints what was mapped and what was not.`;

export async function exportCommand(args: string[]): Promise<number> {
  const parsed = parse(args, { labs: { type: 'string' }, 'with-snapshots': { type: 'boolean' } }, EXPORT_HELP);
  if (!parsed) return 0;
  const [labArg, out, extra] = parsed.positionals;
  if (!labArg || !out || extra !== undefined) throw new UsageError(`expected LAB and FILE.wlab\n\n${EXPORT_HELP}`);
  const labsDir = (parsed.values['labs'] as string | undefined) ?? './labs';
  let located;
  try {
    located = locateLab(labArg, labsDir);
  } catch (e) {
    if (!(e instanceof LabNotFound)) throw e;
    console.error(`wirelab export: ${e.message}`);
    return 2;
  }
  const store = new LabStore(path.dirname(located.dir));
  const lab = path.basename(located.dir);
  try {
    const { bytes, manifest } = await exportLab(store, lab, { withSnapshots: parsed.values['with-snapshots'] === true });
    // Written beside the target and renamed: a reader never sees half an archive.
    const temp = `${out}.partial-${process.pid}`;
    await writeFile(temp, bytes);
    await rename(temp, out).catch(async (e: unknown) => {
      await unlink(temp).catch(() => undefined);
      throw e;
    });
    const snaps = new Set(manifest.files.map((f) => /^lab\/snapshots\/([^/]+)\//.exec(f.path)?.[1]).filter(Boolean)).size;
    console.log(`exported lab ${lab} to ${out} (${bytes.length} bytes, ${manifest.files.length} files${manifest.withSnapshots ? `, ${snaps} snapshot${snaps === 1 ? '' : 's'}` : ''})`);
    return 0;
  } catch (e) {
    if (e instanceof ArchiveError) {
      console.error(`wirelab export: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

export async function importCommand(args: string[]): Promise<number> {
  const parsed = parse(args, { labs: { type: 'string' }, as: { type: 'string' } }, IMPORT_HELP);
  if (!parsed) return 0;
  const [file, extra] = parsed.positionals;
  if (!file || extra !== undefined) throw new UsageError(`expected one FILE\n\n${IMPORT_HELP}`);
  const store = new LabStore((parsed.values['labs'] as string | undefined) ?? './labs');
  const as = parsed.values['as'] as string | undefined;
  const opts = as !== undefined ? { as } : {};
  try {
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) {
      console.error(`wirelab import: ${file}: no such file`);
      return 1;
    }
    if (file.endsWith('.gns3')) {
      const r = await importGns3File(store, file, opts);
      console.log(r.text);
      return 0;
    }
    if (st.size > 256 << 20) {
      console.error(`wirelab import: ${file}: ${st.size} bytes; at most ${256 << 20} are read`);
      return 1;
    }
    const bytes = new Uint8Array(await readFile(file));
    if (file.endsWith('.gns3project')) {
      const r = await importGns3Project(store, bytes, opts);
      console.log(r.text);
      return 0;
    }
    const r = await importArchive(store, bytes, opts);
    console.log(`imported lab ${r.lab}${r.renamedFrom ? ` (the archive's lab ${r.renamedFrom})` : ''} into ${store.root}${r.snapshots.length ? ` with ${r.snapshots.length} snapshot${r.snapshots.length === 1 ? '' : 's'}` : ''}`);
    for (const n of r.notes) console.log(`  note: ${n}`);
    return 0;
  } catch (e) {
    // A file-system failure too (a full disk while a big entry inflates): the temporary folder is gone.
    if (e instanceof ArchiveError || typeof (e as NodeJS.ErrnoException).code === 'string') {
      console.error(`wirelab import: ${file}: ${(e as Error).message}\nnothing was written.`);
      return 1;
    }
    throw e;
  }
}
