/** Snapshots, clones, export and import. */
import { z } from 'zod';
import { LabViewSchema } from './labs.js';

export const SnapshotViewSchema = z.strictObject({
  name: z.string(),
  description: z.string(),
  createdAt: z.string().meta({ description: 'When it was taken (ISO 8601)' }),
  parent: z.string().nullable().meta({ description: 'The snapshot the lab was at when this one was taken' }),
  children: z.array(z.string()),
  live: z.boolean().meta({ description: 'Taken while the lab ran: restoring brings the running lab back exactly' }),
  auto: z.boolean().meta({ description: 'Taken by the lab\'s snapshots: {every, keep} schedule' }),
  engineTimeNs: z.number().nullable(),
  sizeBytes: z.number().int().meta({ description: 'Bytes on disk' }),
  lockedBy: z.array(z.string()).meta({ description: 'Linked clones made from it; it cannot be deleted while there are any' }),
  current: z.boolean().meta({ description: 'The lab is at this snapshot (last taken or restored)' }),
});
export const SnapshotCreateSchema = z.strictObject({ name: z.string().optional(), description: z.string().optional() });
export const SnapshotPatchSchema = z.strictObject({ description: z.string() });
export const RestoreResultSchema = z.strictObject({ lab: LabViewSchema, snapshot: SnapshotViewSchema, restoredObjects: z.number().int().nullable() });
export const CloneRequestSchema = z.strictObject({
  name: z.string().optional().meta({ description: 'The clone\'s name (default LAB-clone, LAB-clone-2, ...)' }),
  linked: z.boolean().optional().meta({ description: 'Store only the differences from the parent snapshot (which is then locked)' }),
  snapshot: z.string().optional().meta({ description: 'Clone from this snapshot; a linked clone without one takes a snapshot first' }),
  description: z.string().optional(),
});
export const CloneResultSchema = z.strictObject({ lab: LabViewSchema, warnings: z.array(z.string()) });
export const NodeCloneRequestSchema = z.strictObject({
  name: z.string().optional(),
  snapshot: z.string().optional(),
  ui: z.object({ x: z.number(), y: z.number() }).optional(),
});
export const LinkedCloneSchema = z.strictObject({
  lab: z.string().meta({ description: 'The linked clone' }),
  parent: z.strictObject({ lab: z.string(), snapshot: z.string() }).meta({ description: 'The lab snapshot it stores its differences from (locked while it exists)' }),
});
export const ExportRequestSchema = z.strictObject({ withSnapshots: z.boolean().optional() });
export const ImportRequestSchema = z.strictObject({
  archive: z.string().optional().meta({ description: 'A .wlab archive (or with fileName *.gns3project a GNS3 export), base64' }),
  fileName: z.string().optional().meta({ description: 'The archive\'s file name; *.gns3project marks a GNS3 export' }),
  gns3: z.record(z.string(), z.unknown()).optional().meta({ description: 'The JSON of a GNS3 .gns3 project file' }),
  as: z.string().optional().meta({ description: 'Import under this name (default: the archive\'s, or NAME-2 when taken)' }),
});
export const Gns3ReportSchema = z.strictObject({
  project: z.string(),
  gns3Version: z.string().nullable(),
  mapped: z.array(z.string()).meta({ description: 'What became what: "PC1 (vpcs) -> host PC1"' }),
  approximated: z.array(z.string()).meta({ description: 'Mapped, but not exactly as GNS3 has it' }),
  unsupported: z.array(z.string()).meta({ description: 'Left out, with why' }),
});
export const ImportResultSchema = z.strictObject({
  lab: LabViewSchema,
  renamedFrom: z.string().nullable(),
  snapshots: z.array(z.string()),
  notes: z.array(z.string()),
  gns3Report: Gns3ReportSchema.nullable(),
});

export type SnapshotView = z.infer<typeof SnapshotViewSchema>;
export type RestoreResult = z.infer<typeof RestoreResultSchema>;
export type CloneRequest = z.infer<typeof CloneRequestSchema>;
export type CloneResult = z.infer<typeof CloneResultSchema>;
export type LinkedClone = z.infer<typeof LinkedCloneSchema>;
export type Gns3ReportView = z.infer<typeof Gns3ReportSchema>;
export type ImportResult = z.infer<typeof ImportResultSchema>;
