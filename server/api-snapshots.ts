/**
 * The API of snapshots, clones, export and import (SPEC sections 6 and 7), as routes of the
 * route table in api.ts (so the OpenAPI document has them too).
 *
 *   GET    /labs/{lab}/snapshots                      the snapshot tree (parent, children, lock, current)
 *   POST   /labs/{lab}/snapshots                      take one {name?, description?} (a running lab: live)
 *   GET    /labs/{lab}/snapshots/{snap}
 *   PATCH  /labs/{lab}/snapshots/{snap}               {description}
 *   DELETE /labs/{lab}/snapshots/{snap}               409 naming the linked clones that use it
 *   POST   /labs/{lab}/snapshots/{snap}/restore
 *   POST   /labs/{lab}/clone                          {name?, linked?, snapshot?, description?}
 *   POST   /labs/{lab}/nodes/{node}/clone             {name?, snapshot?, ui?}
 *   POST   /labs/{lab}/export                         {withSnapshots?} -> the .wlab archive (also GET ?withSnapshots=true)
 *   POST   /labs/import                               {archive: base64, as?} or {gns3: <.gns3 JSON>, as?}
 *                                                     or {archive, fileName: "x.gns3project"}
 *   GET    /clones                                    every linked clone and the lab snapshot it is made from
 *                                                     (the labs page shows "Clone of" without opening each lab)
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { LabViewSchema, NodeViewSchema } from './api-schemas.js';
import type { ApiContext, Route } from './api.js';
import { ApiError, badField } from './errors.js';
import type { LabService } from './labs.js';
import { ArchiveError, exportLab, importArchive } from './snapshots-archive.js';
import { importGns3Json, importGns3Project } from './gns3-import.js';
import { SnapshotService } from './snapshots.js';
import { SnapshotError } from '../devices/snapshot/graph.js';

export const SnapshotViewSchema = z.object({
  name: z.string(),
  description: z.string(),
  createdAt: z.string().meta({ description: 'When it was taken (ISO 8601)' }),
  parent: z.string().nullable().meta({ description: 'The snapshot the lab was at when this one was taken' }),
  children: z.array(z.string()),
  live: z.boolean().meta({ description: 'Taken while the lab ran: restoring brings the running lab back exactly' }),
  auto: z.boolean().meta({ description: 'Taken by the lab\'s snapshots: {every, keep} schedule' }),
  engineTimeNs: z.number().nullable(),
  sizeBytes: z.number().int(),
  lockedBy: z.array(z.string()).meta({ description: 'Linked clones made from it; it cannot be deleted while there are any' }),
  current: z.boolean().meta({ description: 'The lab is at this snapshot (last taken or restored)' }),
});
export const SnapshotCreateSchema = z.strictObject({ name: z.string().optional(), description: z.string().optional() });
export const SnapshotPatchSchema = z.strictObject({ description: z.string() });
export const RestoreResultSchema = z.object({ lab: LabViewSchema, snapshot: SnapshotViewSchema, restoredObjects: z.number().int().nullable() });
export const CloneRequestSchema = z.strictObject({
  name: z.string().optional().meta({ description: 'The clone\'s name (default LAB-clone, LAB-clone-2, ...)' }),
  linked: z.boolean().optional().meta({ description: 'Store only the differences from the parent snapshot (which is then locked)' }),
  snapshot: z.string().optional().meta({ description: 'Clone from this snapshot; a linked clone without one takes a snapshot first' }),
  description: z.string().optional(),
});
export const CloneResultSchema = z.object({ lab: LabViewSchema, warnings: z.array(z.string()) });
export const NodeCloneRequestSchema = z.strictObject({
  name: z.string().optional(),
  snapshot: z.string().optional(),
  ui: z.object({ x: z.number(), y: z.number() }).optional(),
});
export const LinkedCloneSchema = z.object({
  lab: z.string().meta({ description: 'The linked clone' }),
  parent: z.object({ lab: z.string(), snapshot: z.string() }).meta({ description: 'The lab snapshot it stores its differences from (locked while it exists)' }),
});
export const ExportRequestSchema = z.strictObject({ withSnapshots: z.boolean().optional() });
export const ImportRequestSchema = z.strictObject({
  archive: z.string().optional().meta({ description: 'A .wlab archive (or with fileName *.gns3project a GNS3 export), base64' }),
  fileName: z.string().optional().meta({ description: 'The archive\'s file name; *.gns3project marks a GNS3 export' }),
  gns3: z.record(z.string(), z.unknown()).optional().meta({ description: 'The JSON of a GNS3 .gns3 project file' }),
  as: z.string().optional().meta({ description: 'Import under this name (default: the archive\'s, or NAME-2 when taken)' }),
});
export const ImportResultSchema = z.object({
  lab: LabViewSchema,
  renamedFrom: z.string().nullable(),
  snapshots: z.array(z.string()),
  notes: z.array(z.string()),
  gns3Report: z
    .object({ project: z.string(), gns3Version: z.string().nullable(), mapped: z.array(z.string()), approximated: z.array(z.string()), unsupported: z.array(z.string()) })
    .nullable(),
});

const services = new WeakMap<LabService, SnapshotService>();

/** The snapshot service of a lab service (one each, made on first use). */
export function snapshotService(labs: LabService): SnapshotService {
  let s = services.get(labs);
  if (!s) {
    s = new SnapshotService(labs);
    services.set(labs, s);
  }
  return s;
}

const p = (req: Request, name: string): string => String(req.params[name]);

/** Turns a snapshot or archive failure into the API's error shape. */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ArchiveError) throw new ApiError(400, e.message, [{ field: e.entry ?? 'archive', message: e.message }]);
    if (e instanceof SnapshotError) throw new ApiError(409, e.message);
    throw e;
  }
}

export function snapshotRoutes({ labs }: Pick<ApiContext, 'labs'>): Route[] {
  const snaps = snapshotService(labs);
  const R: Route[] = [];
  const add = (r: Route) => R.push(r);
  const arrayOf = (s: z.ZodType) => z.array(s);

  add({ method: 'get', path: '/labs/{lab}/snapshots', tag: 'snapshots', summary: 'The lab\'s snapshots, oldest first, as a tree (parent, children)', response: arrayOf(SnapshotViewSchema), errors: [404, 409], handler: (req) => snaps.list(p(req, 'lab')) });
  add({
    method: 'post', path: '/labs/{lab}/snapshots', tag: 'snapshots', summary: 'Take a snapshot (of a running lab: its whole runtime, live)',
    body: { schema: SnapshotCreateSchema, optional: true }, response: SnapshotViewSchema, status: 201, errors: [404, 409],
    handler: (req) => guarded(() => snaps.take(p(req, 'lab'), (req.body ?? {}) as Record<string, unknown>)),
  });
  add({ method: 'get', path: '/labs/{lab}/snapshots/{snap}', tag: 'snapshots', summary: 'A snapshot', response: SnapshotViewSchema, errors: [404, 409], handler: (req) => snaps.view(p(req, 'lab'), p(req, 'snap')) });
  add({
    method: 'patch', path: '/labs/{lab}/snapshots/{snap}', tag: 'snapshots', summary: 'Change a snapshot\'s description',
    body: { schema: SnapshotPatchSchema }, response: SnapshotViewSchema, errors: [404, 409],
    handler: (req) => snaps.describe(p(req, 'lab'), p(req, 'snap'), req.body),
  });
  add({
    method: 'delete', path: '/labs/{lab}/snapshots/{snap}', tag: 'snapshots', summary: 'Delete a snapshot (409 while linked clones use it; its children move up to its parent)', status: 204, errors: [404, 409],
    handler: (req) => snaps.remove(p(req, 'lab'), p(req, 'snap')),
  });
  add({
    method: 'post', path: '/labs/{lab}/snapshots/{snap}/restore', tag: 'snapshots', summary: 'Restore a snapshot: a live one leaves the lab running exactly as it was; one of a stopped lab leaves it stopped',
    response: RestoreResultSchema, errors: [404, 409],
    handler: (req) => guarded(() => snaps.restore(p(req, 'lab'), p(req, 'snap'))),
  });
  add({
    method: 'post', path: '/labs/{lab}/clone', tag: 'snapshots', summary: 'Clone the lab: full (independent) or linked (only its differences from a snapshot, which is then locked)',
    body: { schema: CloneRequestSchema, optional: true }, response: CloneResultSchema, status: 201, errors: [404, 409],
    handler: (req) => guarded(() => snaps.cloneLab(p(req, 'lab'), req.body)),
  });
  add({
    method: 'post', path: '/labs/{lab}/nodes/{node}/clone', tag: 'nodes', summary: 'Clone a node inside its lab (new name and MACs, same settings, no cables)',
    body: { schema: NodeCloneRequestSchema, optional: true }, response: NodeViewSchema, status: 201, errors: [404, 409],
    handler: (req) => guarded(() => snaps.cloneNode(p(req, 'lab'), p(req, 'node'), req.body)),
  });
  add({
    method: 'get', path: '/clones', tag: 'snapshots', summary: 'Every linked clone on the server and the lab snapshot it is made from',
    response: arrayOf(LinkedCloneSchema),
    handler: async () => {
      const out: { lab: string; parent: { lab: string; snapshot: string } }[] = [];
      for (const [key, clones] of await snaps.linkedClones()) {
        const cut = key.indexOf('/');
        for (const lab of clones) out.push({ lab, parent: { lab: key.slice(0, cut), snapshot: key.slice(cut + 1) } });
      }
      return out.sort((a, b) => a.lab.localeCompare(b.lab));
    },
  });
  const sendArchive = async (lab: string, withSnapshots: boolean, res: Response) => {
    labs.lab(lab);
    const { bytes } = await guarded(() => exportLab(labs.store, lab, { withSnapshots }));
    res.status(200);
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Disposition', `attachment; filename="${lab}.wlab"`);
    res.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  };
  add({
    method: 'post', path: '/labs/{lab}/export', tag: 'snapshots', summary: 'The lab as a .wlab archive (a linked clone flattened; snapshots with withSnapshots)',
    body: { schema: ExportRequestSchema, optional: true }, produces: 'application/zip', errors: [404, 409],
    handler: async (req, res) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      for (const k of Object.keys(b)) if (k !== 'withSnapshots') throw badField(k, `unknown key ${JSON.stringify(k)}; the key here is withSnapshots`);
      if (b['withSnapshots'] !== undefined && typeof b['withSnapshots'] !== 'boolean') throw badField('withSnapshots', 'withSnapshots is true or false');
      await sendArchive(p(req, 'lab'), b['withSnapshots'] === true, res);
    },
  });
  add({
    method: 'get', path: '/labs/{lab}/export', tag: 'snapshots', summary: 'The lab as a .wlab archive, for a download link (?withSnapshots=true)',
    produces: 'application/zip', errors: [404, 409],
    handler: (req, res) => sendArchive(p(req, 'lab'), req.query['withSnapshots'] === 'true' || req.query['withSnapshots'] === '1', res),
  });
  add({
    method: 'post', path: '/labs/import', tag: 'snapshots', summary: 'Import a .wlab archive or a GNS3 project; checked through before anything is written',
    body: { schema: ImportRequestSchema }, response: ImportResultSchema, status: 201, errors: [409],
    handler: (req) =>
      guarded(async () => {
        const b = req.body as Record<string, unknown> | undefined;
        if (typeof b !== 'object' || b === null || Array.isArray(b)) throw badField('(body)', 'expected {archive: base64, as?} or {gns3: {...}, as?}');
        for (const k of Object.keys(b)) if (!['archive', 'fileName', 'gns3', 'as'].includes(k)) throw badField(k, `unknown key ${JSON.stringify(k)}; the keys here are archive, fileName, gns3, as`);
        if (b['as'] !== undefined && typeof b['as'] !== 'string') throw badField('as', 'as is a lab name');
        const opts = typeof b['as'] === 'string' ? { as: b['as'] } : {};
        if ((b['archive'] === undefined) === (b['gns3'] === undefined)) throw badField('(body)', 'send archive (base64) or gns3 (a project\'s JSON), one of the two');
        let lab: string;
        let result: { renamedFrom: string | null; snapshots: string[]; notes: string[]; gns3Report: unknown } = { renamedFrom: null, snapshots: [], notes: [], gns3Report: null };
        if (b['gns3'] !== undefined) {
          const r = await importGns3Json(labs.store, b['gns3'], opts);
          lab = r.lab;
          result.gns3Report = r.report;
        } else {
          if (typeof b['archive'] !== 'string' || !/^[A-Za-z0-9+/=\s]*$/.test(b['archive'])) throw badField('archive', 'the archive is base64 text');
          const bytes = new Uint8Array(Buffer.from(b['archive'], 'base64'));
          if (typeof b['fileName'] === 'string' && b['fileName'].endsWith('.gns3project')) {
            const r = await importGns3Project(labs.store, bytes, opts);
            lab = r.lab;
            result.gns3Report = r.report;
          } else {
            const r = await importArchive(labs.store, bytes, opts);
            lab = r.lab;
            result = { ...result, renamedFrom: r.renamedFrom, snapshots: r.snapshots, notes: r.notes };
          }
        }
        await labs.refresh();
        return { lab: await waitForLab(labs, lab), ...result };
      }),
  });
  return R;
}

/** The imported lab's view, once the lab service has seen its folder (it rescans the labs folder on change). */
async function waitForLab(labs: LabService, name: string): Promise<unknown> {
  for (let i = 0; i < 200; i++) {
    if (labs.has(name)) return labs.view(name);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new ApiError(500, `lab ${name} was written but the server has not picked it up`);
}
