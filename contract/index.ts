/**
 * The API contract: zod schemas of every request body and every answer ("view") of the HTTP
 * API under /api/v1 and of the WebSocket channel. The server builds its answers as the types
 * inferred here and generates its OpenAPI document from these schemas; the client imports the
 * types (`import type`, never the schemas at run time). No Node built-ins here.
 */
import type { z } from 'zod';
import { CheckSchema, LabFileSchema, LinkSchema, NetworkSchema, NodeSchema } from '../devices/lab/schema.js';
import { CaptureRequestSchema, CaptureViewSchema } from './captures.js';
import { ErrorSchema } from './errors.js';
import {
  CheckResultSchema,
  CheckViewSchema,
  ImpairmentsSchema,
  LabSummarySchema,
  LabViewSchema,
  LinkViewSchema,
  NetworkCreateSchema,
  NetworkViewSchema,
  NodeCreateSchema,
  NodeViewSchema,
  RunChecksSchema,
} from './labs.js';
import { TraceFilterSchema, WsClientMessageSchema } from './ws.js';

export * from './captures.js';
export * from './errors.js';
export * from './labs.js';
export * from './networks.js';
export * from './snapshots.js';
export * from './ws.js';
export { CheckSchema, LabFileSchema, LinkSchema, NetworkSchema, NodeSchema };
export type { CheckSpec, LabFile, LinkSpec, NetworkSpec, NodeSpec } from '../devices/lab/schema.js';

/** The schemas that have a name: the components of the OpenAPI document (the others are written out where used). */
export const NAMED_SCHEMAS: Record<string, z.ZodType> = {
  Error: ErrorSchema,
  LabFile: LabFileSchema,
  Node: NodeSchema,
  NodeCreate: NodeCreateSchema,
  Network: NetworkSchema,
  NetworkCreate: NetworkCreateSchema,
  Link: LinkSchema,
  Impairments: ImpairmentsSchema,
  Check: CheckSchema,
  CaptureRequest: CaptureRequestSchema,
  RunChecks: RunChecksSchema,
  LabSummary: LabSummarySchema,
  LabView: LabViewSchema,
  NodeView: NodeViewSchema,
  NetworkView: NetworkViewSchema,
  LinkView: LinkViewSchema,
  CheckView: CheckViewSchema,
  CheckResult: CheckResultSchema,
  CaptureView: CaptureViewSchema,
  TraceFilter: TraceFilterSchema,
  WsClientMessage: WsClientMessageSchema,
};
