/** Packet captures of a running lab. */
import { z } from 'zod';
import { NodeNameSchema } from '../devices/lab/schema.js';

export const CaptureRequestSchema = z.union([
  z.strictObject({ link: z.string(), maxBytes: z.number().int().min(4096).optional() }),
  z.strictObject({ node: NodeNameSchema, interface: z.string(), maxBytes: z.number().int().min(4096).optional() }),
]);

export const CaptureViewSchema = z.strictObject({
  id: z.string(),
  lab: z.string(),
  link: z.string().nullable(),
  node: z.string().nullable(),
  interface: z.string().nullable(),
  state: z.enum(['running', 'stopped']),
  frames: z.number().int(),
  bytes: z.number().int(),
  dropped: z.number().int().meta({ description: 'Frames not written because the size cap was reached' }),
  maxBytes: z.number().int(),
  url: z.string(),
});

export type CaptureView = z.infer<typeof CaptureViewSchema>;
