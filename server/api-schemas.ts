/**
 * Schemas of the API's bodies and answers. Request bodies reuse the lab.yaml schemas of
 * devices/lab/schema.ts (the server validates them by putting them into the lab and validating
 * the whole lab); answers are described here. The OpenAPI document is generated from both.
 */
import { z } from 'zod';
import {
  CheckSchema,
  LabFileSchema,
  LinkLongSchema,
  LinkSchema,
  NetworkSchema,
  NodeNameSchema,
  NodeSchema,
} from '../devices/lab/schema.js';
import { TraceFilterSchema, WsClientMessageSchema } from './ws.js';

export const ErrorSchema = z.object({
  error: z.string(),
  details: z.array(
    z.object({
      field: z.string().optional().meta({ description: 'The field at fault inside the request body (interfaces.eth0.ip), (body), or a URL parameter' }),
      path: z.string().optional().meta({ description: 'Where the field is in lab.yaml, when the body is part of a lab' }),
      message: z.string(),
    }),
  ),
});

const withName = <T extends z.ZodObject>(o: T) => o.extend({ name: NodeNameSchema });
/** A node as in lab.yaml plus its name. */
export const NodeCreateSchema = z.discriminatedUnion(
  'kind',
  NodeSchema.options.map((o) => withName(o)) as unknown as [z.ZodObject, ...z.ZodObject[]],
);
export const NetworkCreateSchema = z.discriminatedUnion(
  'type',
  NetworkSchema.options.map((o) => withName(o as z.ZodObject)) as unknown as [z.ZodObject, ...z.ZodObject[]],
);
export const ImpairmentsSchema = LinkLongSchema.omit({ endpoints: true, suspended: true });
/** Any subset of a link's long form; null removes a field (JSON merge patch). */
export const LinkPatchSchema = z.record(z.string(), z.unknown()).meta({ description: 'JSON merge patch of the link in its long form: endpoints, delay, jitter, loss, duplicate, corrupt, rate, suspended; null removes one' });
export const MergePatchSchema = z.record(z.string(), z.unknown()).meta({ description: 'JSON merge patch (RFC 7386) of the object as written in lab.yaml; null removes a key' });

export const RunChecksSchema = z.strictObject({ only: z.array(z.string()).optional().meta({ description: 'Names of the checks to run; all when absent' }) });

export const CaptureRequestSchema = z.union([
  z.strictObject({ link: z.string(), maxBytes: z.number().int().min(4096).optional() }),
  z.strictObject({ node: NodeNameSchema, interface: z.string(), maxBytes: z.number().int().min(4096).optional() }),
]);

const LabStatusSchema = z.enum(['stopped', 'running', 'invalid']);
export const LabSummarySchema = z.object({
  name: z.string(),
  description: z.string(),
  status: LabStatusSchema,
  nodeCount: z.number().int(),
  linkCount: z.number().int(),
});
export const NodeViewSchema = z.object({
  name: z.string(),
  kind: z.enum(['host', 'switch', 'router', 'hub', 'cloud']),
  status: z.enum(['running', 'stopped']),
  console: z.number().int().meta({ description: 'Telnet console port on loopback: where it listens while the lab runs (the next free port when another lab holds the lab model\'s), the lab model\'s while stopped' }),
  ui: z.object({ x: z.number(), y: z.number() }).nullable(),
  interfaces: z.array(z.object({ name: z.string(), mac: z.string(), network: z.string().nullable(), link: z.string().nullable() })),
  spec: NodeSchema,
});
export const NetworkViewSchema = z.object({
  name: z.string(),
  type: z.enum(['nat', 'host-only', 'bridged', 'segment']),
  subnet: z.string().nullable(),
  attached: z.array(z.string()),
  spec: NetworkSchema,
});
export const LinkViewSchema = z.object({
  id: z.string().meta({ description: 'pc1:eth0--sw1:e1, or pc1:eth0--vmnet8 for a link to a network' }),
  endpoints: z.tuple([z.string(), z.string()]),
  suspended: z.boolean(),
  impairments: z.object({
    delay: z.string().optional(),
    jitter: z.string().optional(),
    loss: z.string().optional(),
    duplicate: z.string().optional(),
    corrupt: z.string().optional(),
    rate: z.string().optional(),
  }),
  origin: z.enum(['link', 'network-key']),
});
export const LabViewSchema = LabSummarySchema.extend({
  problems: z
    .array(z.object({ file: z.string(), line: z.number(), column: z.number(), field: z.string(), message: z.string(), text: z.string() }))
    .nullable()
    .meta({ description: 'Why lab.yaml on disk does not load (a hand edit), or null' }),
  file: LabFileSchema.nullable(),
  nodes: z.array(NodeViewSchema),
  networks: z.array(NetworkViewSchema),
  links: z.array(LinkViewSchema),
});
export const CheckViewSchema = z.intersection(z.object({ index: z.number().int(), name: z.string() }), CheckSchema);
export const CheckResultSchema = z.object({
  name: z.string(),
  kind: z.string(),
  expect: z.enum(['success', 'failure']),
  ok: z.boolean(),
  passed: z.boolean(),
  detail: z.string(),
  durationNs: z.number().meta({ description: 'Lab time the check took' }),
});
export const CaptureViewSchema = z.object({
  id: z.string(),
  lab: z.string(),
  link: z.string().nullable(),
  node: z.string().nullable(),
  interface: z.string().nullable(),
  state: z.enum(['running', 'stopped']),
  frames: z.number().int(),
  bytes: z.number().int(),
  dropped: z.number().int(),
  maxBytes: z.number().int(),
  url: z.string(),
});

/** Named schemas: components of the OpenAPI document. */
export const COMPONENTS: Record<string, z.ZodType> = {
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
