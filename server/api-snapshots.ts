/**
 * The API of snapshots, clones, export and import (docs/api.md, Snapshots), as routes of the
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
import {
  CloneRequestSchema,
  CloneResultSchema,
  ExportRequestSchema,
  ImportRequestSchema,
  ImportResultSchema,
  LinkedCloneSchema,
  NodeCloneRequestSchema,
  NodeViewSchema,
  RestoreResultSchema,
  SnapshotCreateSchema,
  SnapshotPatchSchema,
  SnapshotViewSchema,
  type ImportResult,
  type LabView,
  type LinkedClone,
} from '../contract/index.js';
import { type ApiContext, type Route, jsonRoute } from './api.js';
import { ApiError, badField } from './errors.js';
import type { LabService } from './labs.js';
import { ArchiveError, MAX_CONCURRENT_IMPORTS, exportLab, importArchive, importSlot } from './snapshots-archive.js';
import { importGns3Json, importGns3Project } from './gns3-import.js';
import { SnapshotService } from './snapshots.js';
import { SnapshotError } from '../devices/snapshot/graph.js';

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

export function snapshotRoutes({ labs, log }: Pick<ApiContext, 'labs' | 'log'>): Route[] {
  const snaps = snapshotService(labs);
  const R: Route[] = [];
  const add = (r: Route) => R.push(r);
  const arrayOf = <S extends z.ZodType>(s: S) => z.array(s);

  add(jsonRoute({ method: 'get', path: '/labs/{lab}/snapshots', tag: 'snapshots', summary: 'The lab\'s snapshots, oldest first, as a tree (parent, children)', response: arrayOf(SnapshotViewSchema), errors: [404, 409], handler: (req) => snaps.list(p(req, 'lab')) }));
  add(jsonRoute({
    method: 'post', path: '/labs/{lab}/snapshots', tag: 'snapshots', summary: 'Take a snapshot (of a running lab: its whole runtime, live)',
    body: { schema: SnapshotCreateSchema, optional: true }, response: SnapshotViewSchema, status: 201, errors: [404, 409],
    handler: (req) => guarded(() => snaps.take(p(req, 'lab'), (req.body ?? {}) as Record<string, unknown>)),
  }));
  add(jsonRoute({ method: 'get', path: '/labs/{lab}/snapshots/{snap}', tag: 'snapshots', summary: 'A snapshot', response: SnapshotViewSchema, errors: [404, 409], handler: (req) => snaps.view(p(req, 'lab'), p(req, 'snap')) }));
  add(jsonRoute({
    method: 'patch', path: '/labs/{lab}/snapshots/{snap}', tag: 'snapshots', summary: 'Change a snapshot\'s description',
    body: { schema: SnapshotPatchSchema }, response: SnapshotViewSchema, errors: [404, 409],
    handler: (req) => snaps.describe(p(req, 'lab'), p(req, 'snap'), req.body),
  }));
  add({
    method: 'delete', path: '/labs/{lab}/snapshots/{snap}', tag: 'snapshots', summary: 'Delete a snapshot (409 while linked clones use it; its children move up to its parent)', status: 204, errors: [404, 409],
    handler: (req) => snaps.remove(p(req, 'lab'), p(req, 'snap')),
  });
  add(jsonRoute({
    method: 'post', path: '/labs/{lab}/snapshots/{snap}/restore', tag: 'snapshots', summary: 'Restore a snapshot: a live one leaves the lab running exactly as it was; one of a stopped lab leaves it stopped',
    response: RestoreResultSchema, errors: [404, 409],
    handler: (req) => guarded(() => snaps.restore(p(req, 'lab'), p(req, 'snap'))),
  }));
  add(jsonRoute({
    method: 'post', path: '/labs/{lab}/clone', tag: 'snapshots', summary: 'Clone the lab: full (independent) or linked (only its differences from a snapshot, which is then locked)',
    body: { schema: CloneRequestSchema, optional: true }, response: CloneResultSchema, status: 201, errors: [404, 409],
    handler: (req) => guarded(() => snaps.cloneLab(p(req, 'lab'), req.body)),
  }));
  add(jsonRoute({
    method: 'post', path: '/labs/{lab}/nodes/{node}/clone', tag: 'nodes', summary: 'Clone a node inside its lab (new name and MACs, same settings, no cables)',
    body: { schema: NodeCloneRequestSchema, optional: true }, response: NodeViewSchema, status: 201, errors: [404, 409],
    handler: (req) => guarded(() => snaps.cloneNode(p(req, 'lab'), p(req, 'node'), req.body)),
  }));
  add(jsonRoute({
    method: 'get', path: '/clones', tag: 'snapshots', summary: 'Every linked clone on the server and the lab snapshot it is made from',
    response: arrayOf(LinkedCloneSchema),
    handler: async () => {
      const out: LinkedClone[] = [];
      for (const [key, clones] of await snaps.linkedClones()) {
        const cut = key.indexOf('/');
        for (const lab of clones) out.push({ lab, parent: { lab: key.slice(0, cut), snapshot: key.slice(cut + 1) } });
      }
      return out.sort((a, b) => a.lab.localeCompare(b.lab));
    },
  }));
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
  add(jsonRoute({
    method: 'post', path: '/labs/import', tag: 'snapshots', summary: 'Import a .wlab archive or a GNS3 project; checked through before anything is written',
    body: { schema: ImportRequestSchema }, response: ImportResultSchema, status: 201, errors: [409, 503],
    handler: async (req, res) => {
      const release = importSlot();
      if (!release) {
        res.setHeader('Retry-After', '5');
        throw new ApiError(503, `${MAX_CONCURRENT_IMPORTS} imports are running, the most this server runs at once; try again in a few seconds`, [{ field: '(body)', message: 'the server is busy importing' }]);
      }
      try {
        return await guarded(async () => {
          const b = req.body as Record<string, unknown> | undefined;
          if (typeof b !== 'object' || b === null || Array.isArray(b)) throw badField('(body)', 'expected {archive: base64, as?} or {gns3: {...}, as?}');
          for (const k of Object.keys(b)) if (!['archive', 'fileName', 'gns3', 'as'].includes(k)) throw badField(k, `unknown key ${JSON.stringify(k)}; the keys here are archive, fileName, gns3, as`);
          if (b['as'] !== undefined && typeof b['as'] !== 'string') throw badField('as', 'as is a lab name');
          const opts = typeof b['as'] === 'string' ? { as: b['as'] } : {};
          if ((b['archive'] === undefined) === (b['gns3'] === undefined)) throw badField('(body)', 'send archive (base64) or gns3 (a project\'s JSON), one of the two');
          let lab: string;
          let source: 'gns3' | 'gns3project' | 'wlab';
          let result: Omit<ImportResult, 'lab'> = { renamedFrom: null, snapshots: [], notes: [], gns3Report: null };
          if (b['gns3'] !== undefined) {
            const r = await importGns3Json(labs.store, b['gns3'], opts);
            lab = r.lab;
            source = 'gns3';
            result.gns3Report = r.report;
          } else {
            if (typeof b['archive'] !== 'string' || !/^[A-Za-z0-9+/=\s]*$/.test(b['archive'])) throw badField('archive', 'the archive is base64 text');
            const bytes = new Uint8Array(Buffer.from(b['archive'], 'base64'));
            if (typeof b['fileName'] === 'string' && b['fileName'].endsWith('.gns3project')) {
              const r = await importGns3Project(labs.store, bytes, opts);
              lab = r.lab;
              source = 'gns3project';
              result.gns3Report = r.report;
            } else {
              const r = await importArchive(labs.store, bytes, opts);
              lab = r.lab;
              source = 'wlab';
              result = { ...result, renamedFrom: r.renamedFrom, snapshots: r.snapshots, notes: r.notes };
            }
          }
          log?.info({ lab, renamedFrom: result.renamedFrom, snapshots: result.snapshots.length, source }, 'lab imported');
          await labs.refresh();
          return { lab: await waitForLab(labs, lab), ...result };
        });
      } finally {
        release();
      }
    },
  }));
  return R;
}

/** The imported lab's view, once the lab service has seen its folder (it rescans the labs folder on change). */
async function waitForLab(labs: LabService, name: string): Promise<LabView> {
  for (let i = 0; i < 200; i++) {
    if (labs.has(name)) return labs.view(name);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new ApiError(500, `lab ${name} was written but the server has not picked it up`);
}
