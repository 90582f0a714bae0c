/**
 * The WebSocket channel (/api/v1/ws): what a client sends, and what the server sends back.
 * Trace records are written as JSON bytes by hand on the hot path (server/trace.ts); their
 * schema here is what those bytes hold.
 */
import { z } from 'zod';
import { LAB_NAME_RE } from '../devices/lab/schema.js';
import type { Layer } from '../devices/trace/decode.js';
import { ErrorDetailSchema } from './errors.js';

const Id = z.string().min(1).max(64);
const LabName = z.string().regex(LAB_NAME_RE, 'not a lab name');
export const TraceFilterSchema = z.strictObject({
  protocol: z
    .union([z.string().max(16), z.array(z.string().max(16)).max(16)])
    .optional()
    .meta({ description: 'One protocol or several (any of them matches): arp, icmp, udp, tcp, dhcp, dns, stp, ip, vlan...' }),
  address: z.string().max(64).optional().meta({ description: 'An IPv4 address, a subnet (10.0.0.0/24) or a MAC: either end of the frame' }),
  port: z.number().int().min(1).max(65535).optional().meta({ description: 'A TCP or UDP port: either end' }),
});
export const WsClientMessageSchema = z.discriminatedUnion('op', [
  z.discriminatedUnion('channel', [
    z.strictObject({ op: z.literal('subscribe'), id: Id, channel: z.literal('lab'), lab: LabName.optional() }),
    z.strictObject({
      op: z.literal('subscribe'),
      id: Id,
      channel: z.literal('trace'),
      lab: LabName,
      link: z.string().max(200).optional(),
      filter: TraceFilterSchema.optional(),
      raw: z.boolean().optional(),
    }),
    z.strictObject({
      op: z.literal('subscribe'),
      id: Id,
      channel: z.literal('console'),
      lab: LabName,
      node: z.string().min(1).max(64),
      cols: z.number().int().min(10).max(1000).optional(),
      rows: z.number().int().min(2).max(1000).optional(),
    }),
  ]),
  z.strictObject({ op: z.literal('unsubscribe'), id: Id }),
  z.strictObject({ op: z.literal('input'), id: Id, data: z.string().max(16384) }),
  z.strictObject({ op: z.literal('resize'), id: Id, cols: z.number().int().min(10).max(1000), rows: z.number().int().min(2).max(1000) }),
]);

/** One frame as the trace channel sends it. */
export const TraceRecordSchema = z.strictObject({
  time: z.number().meta({ description: 'Lab clock, ns' }),
  link: z.string(),
  from: z.string(),
  to: z.string(),
  length: z.number(),
  protocol: z.string(),
  src: z.string(),
  dst: z.string(),
  info: z.string(),
  layers: z.array(z.custom<Layer>()).meta({ description: 'The decoded layers, outermost first (devices/trace/decode.ts)' }),
  raw: z.string().optional().meta({ description: 'The frame\'s bytes, base64 (subscriptions with raw: true)' }),
});

/** Events of the lab channel (server/lab-registry.ts and devices/lab/runtime.ts): a type and what it is about. */
export const LabEventSchema = z.looseObject({ type: z.string() });

export const WsServerMessageSchema = z.union([
  z.strictObject({ type: z.literal('hello'), version: z.number(), labs: z.array(z.string()) }),
  z.strictObject({
    type: z.literal('subscribed'),
    id: z.string(),
    channel: z.string(),
    lab: z.string().nullable(),
    link: z.string().nullable().optional(),
    node: z.string().optional(),
    running: z.boolean().optional(),
  }),
  z.strictObject({ type: z.literal('unsubscribed'), id: z.string() }),
  z.strictObject({ type: z.literal('event'), id: z.string(), lab: z.string(), event: LabEventSchema }),
  z.strictObject({ type: z.literal('trace'), id: z.string(), dropped: z.number(), droppedTotal: z.number(), records: z.array(TraceRecordSchema) }),
  z.strictObject({ type: z.literal('console'), id: z.string(), data: z.string() }),
  z.strictObject({ type: z.literal('closed'), id: z.string(), reason: z.string() }),
  z.strictObject({ type: z.literal('error'), id: z.string().optional(), error: z.string(), details: z.array(ErrorDetailSchema) }),
]);

export type TraceFilter = z.infer<typeof TraceFilterSchema>;
export type WsClientMessage = z.infer<typeof WsClientMessageSchema>;
export type TraceRecord = z.infer<typeof TraceRecordSchema>;
export type LabEvent = z.infer<typeof LabEventSchema>;
export type WsServerMessage = z.infer<typeof WsServerMessageSchema>;
export type { Layer } from '../devices/trace/decode.js';
