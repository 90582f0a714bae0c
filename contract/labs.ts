/**
 * Labs, nodes, networks, links and checks: the request bodies (the lab.yaml schemas of
 * devices/lab/schema.ts, plus a name where the name becomes a key) and the views the server answers.
 */
import { z } from 'zod';
import { CheckSchema, LabFileSchema, LinkLongSchema, NetworkSchema, NodeNameSchema, NodeSchema } from '../devices/lab/schema.js';

// ---------------------------------------------------------------- requests

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

// ---------------------------------------------------------------- views

export const NODE_KINDS = ['host', 'switch', 'router', 'hub', 'cloud'] as const;
export const NETWORK_TYPES = ['nat', 'host-only', 'bridged', 'segment'] as const;

export const LabStatusSchema = z.enum(['stopped', 'running', 'invalid']);
export const LabSummarySchema = z.strictObject({
  name: z.string(),
  description: z.string(),
  status: LabStatusSchema,
  nodeCount: z.number().int(),
  linkCount: z.number().int(),
});
export const NodeInterfaceViewSchema = z.strictObject({
  name: z.string(),
  mac: z.string(),
  network: z.string().nullable().meta({ description: 'The network its network: key plugs it into, or null' }),
  link: z.string().nullable().meta({ description: 'The id of the link cabled to it, or null' }),
});
export const NodeViewSchema = z.strictObject({
  name: z.string(),
  kind: z.enum(NODE_KINDS),
  status: z.enum(['running', 'stopped']),
  console: z.number().int().nullable().meta({ description: 'Telnet console port on loopback: where it listens while the lab runs (the next free port when another lab holds the lab model\'s), the lab model\'s while stopped; null while the lab runs and the node has no port of its own (consoleNote says why)' }),
  consoleShared: z.number().int().nullable().meta({ description: 'While the lab runs and the node has no telnet port of its own: the server\'s shared telnet console port, where typing lab/node reaches it; else null' }),
  consoleNote: z.string().nullable().meta({ description: 'Why the node has no telnet port of its own while its lab runs, and how to reach its console; else null' }),
  ui: z.strictObject({ x: z.number(), y: z.number() }).nullable(),
  interfaces: z.array(NodeInterfaceViewSchema),
  spec: NodeSchema,
});
export const NetworkViewSchema = z.strictObject({
  name: z.string(),
  type: z.enum(NETWORK_TYPES),
  subnet: z.string().nullable(),
  attached: z.array(z.string()),
  spec: NetworkSchema,
});
export const IMPAIRMENT_KEYS = ['delay', 'jitter', 'loss', 'duplicate', 'corrupt', 'rate'] as const;
export const ImpairmentsViewSchema = z.strictObject({
  delay: z.string().optional(),
  jitter: z.string().optional(),
  loss: z.string().optional(),
  duplicate: z.string().optional(),
  corrupt: z.string().optional(),
  rate: z.string().optional(),
});
export const LinkViewSchema = z.strictObject({
  id: z.string().meta({ description: 'pc1:eth0--sw1:e1, or pc1:eth0--vmnet8 for a link to a network' }),
  endpoints: z.tuple([z.string(), z.string()]),
  suspended: z.boolean(),
  impairments: ImpairmentsViewSchema,
  origin: z.enum(['link', 'network-key']).meta({ description: 'link: written in links:; network-key: implied by an interface\'s network: key' }),
});
/** One interface's address as a node has it now (running) or as lab.yaml gives it (stopped). */
export const InterfaceAddressSchema = z.strictObject({
  name: z.string().meta({ description: 'eth0, g0/1, g0/1.10 (a sub-interface)' }),
  address: z.string().nullable().meta({ description: '10.0.0.5/24, or null: none (yet)' }),
  source: z.enum(['static', 'dhcp', 'none']).meta({ description: 'How the address is had: written in lab.yaml (static), leased (dhcp), none' }),
  gateway: z.string().nullable().meta({ description: 'The default gateway out of this interface (hosts), or null' }),
  dhcp: z
    .strictObject({
      state: z.string().meta({ description: 'The DHCP client\'s state: init, selecting, requesting, bound, renewing, rebinding, failed, stopped' }),
      server: z.string().nullable().meta({ description: 'The server that leased the address' }),
      leaseS: z.number().nullable().meta({ description: 'Lease time the server gave, in seconds; null: infinite' }),
      remainingS: z.number().nullable().meta({ description: 'Seconds of lease left, whole; null: infinite' }),
    })
    .nullable()
    .meta({ description: 'The lease, for a running host\'s DHCP interface; null otherwise' }),
  status: z.enum(['up', 'down', 'administratively down']).nullable().meta({ description: 'A running router\'s interface as IOS shows it; null otherwise' }),
});
export const NodeAddressesSchema = z.strictObject({
  node: z.string(),
  kind: z.enum(NODE_KINDS),
  running: z.boolean().meta({ description: 'true: the running node\'s live addresses; false: what lab.yaml configures (lab or node stopped)' }),
  interfaces: z.array(InterfaceAddressSchema).meta({ description: 'Hosts and routers (sub-interfaces included); empty for switches (no management address), hubs and clouds' }),
});
export const LabProblemSchema = z.strictObject({
  file: z.string(),
  line: z.number(),
  column: z.number(),
  field: z.string(),
  message: z.string(),
  text: z.string().meta({ description: 'The problem in one line, as the command line prints it' }),
  severity: z.enum(['error', 'warning']).meta({ description: 'error: the file does not load; warning: it loads, but is likely a mistake (a duplicate address)' }),
});
export const LabViewSchema = LabSummarySchema.extend({
  problems: z.array(LabProblemSchema).nullable().meta({ description: 'Why lab.yaml on disk does not load (a hand edit), or null' }),
  warnings: z.array(LabProblemSchema).meta({ description: 'What loads but is likely a mistake: two interfaces of one segment with the same address' }),
  file: LabFileSchema.nullable(),
  nodes: z.array(NodeViewSchema),
  networks: z.array(NetworkViewSchema),
  links: z.array(LinkViewSchema),
});
/** A check as written in lab.yaml, with its place in the list and its name (given or made up). */
export const CheckViewSchema = z.strictObject({
  ...CheckSchema.shape,
  index: z.number().int(),
  name: z.string().optional(),
});
export const CheckResultSchema = z.strictObject({
  name: z.string(),
  kind: z.string(),
  expect: z.enum(['success', 'failure']),
  ok: z.boolean().meta({ description: 'What happened: the check\'s condition held' }),
  passed: z.boolean().meta({ description: 'ok matched expect' }),
  detail: z.string(),
  durationNs: z.number().meta({ description: 'Lab time the check took' }),
});

export type LabStatus = z.infer<typeof LabStatusSchema>;
export type LabSummary = z.infer<typeof LabSummarySchema>;
export type NodeKind = (typeof NODE_KINDS)[number];
export type NetworkType = (typeof NETWORK_TYPES)[number];
export type NodeInterfaceView = z.infer<typeof NodeInterfaceViewSchema>;
export type NodeView = z.infer<typeof NodeViewSchema>;
export type NetworkView = z.infer<typeof NetworkViewSchema>;
export type Impairments = z.infer<typeof ImpairmentsViewSchema>;
export type LinkView = z.infer<typeof LinkViewSchema>;
export type LabProblem = z.infer<typeof LabProblemSchema>;
export type LabView = z.infer<typeof LabViewSchema>;
export type CheckView = z.infer<typeof CheckViewSchema>;
export type CheckResult = z.infer<typeof CheckResultSchema>;
export type InterfaceAddress = z.infer<typeof InterfaceAddressSchema>;
export type NodeAddresses = z.infer<typeof NodeAddressesSchema>;
