/**
 * lab.yaml as people like to read it: keys in the schema's order (wirelab, name, description,
 * ..., networks, nodes, links, checks; kind first in a node), short collections on one line
 * (`[pc2:eth0, sw1:e1]`, `{ ip: 10.1.0.10/24, gateway: 10.1.0.1 }`), a blank line between the
 * sections. The same file always gives the same text, so diffs of saved labs stay small.
 */
import { Document, type Node as YamlNode, type Pair, isMap, isScalar, isSeq } from 'yaml';
import type { z } from 'zod';
import { type LabFile, LabFileSchema } from '../devices/lab/schema.js';

/** Longest line a collection may take in flow style, indentation included. */
const FLOW_WIDTH = 100;
const SECTIONS = new Set(['networks', 'nodes', 'links', 'checks', 'snapshots', 'clone-of']);

export function formatLabFile(file: LabFile): string {
  const ordered = orderLike(file, LabFileSchema);
  const doc = new Document(ordered);
  const root = doc.contents;
  if (isMap(root)) {
    for (const pair of root.items) {
      const key = keyName(pair);
      if (SECTIONS.has(key)) {
        const k = isScalar(pair.key) ? pair.key : doc.createNode(key);
        k.spaceBefore = true;
        pair.key = k;
      }
      if (key === 'nodes' || key === 'networks') {
        // Each node or network on its own lines; what is inside may go on one line.
        if (isMap(pair.value)) for (const entry of pair.value.items) flowWhereShort(entry.value as YamlNode, 4, key === 'networks');
      } else if (key === 'links' || key === 'checks') {
        if (isSeq(pair.value)) for (const item of pair.value.items) flowWhereShort(item as YamlNode, 2, true);
      } else if (pair.value) flowWhereShort(pair.value as YamlNode, 2, true);
    }
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true, indentSeq: true });
}

/** lab.yaml text with the file it was formatted from (lab files are never edited in place). */
export interface FormattedLabFile {
  readonly file: LabFile;
  readonly text: string;
}

/**
 * formatLabFile(file), reusing `known`'s text when its file holds the same data: the text
 * depends only on the keys (in their order) and the values, and comparing them takes a few
 * milliseconds where formatting a 1,000-host lab takes tens to hundreds.
 */
export function formatLabFileReusing(file: LabFile, known: FormattedLabFile | null): FormattedLabFile {
  if (known && sameData(known.file, file)) return { file, text: known.text };
  return { file, text: formatLabFile(file) };
}

/** The same keys in the same order and the same values (Object.is: -0 is written as -0). */
function sameData(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i] || !sameData(ra[ka[i]!], rb[kb[i]!])) return false;
  return true;
}

function keyName(pair: Pair<unknown, unknown>): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

/**
 * Marks collections that fit on one line as flow style, innermost first; returns the one-line
 * length of `node`, or Infinity when it stays in block style.
 */
function flowWhereShort(node: YamlNode | null | undefined, indent: number, self: boolean): number {
  if (!node) return 4;
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'string') return v.includes('\n') ? Infinity : v.length + (/^[\w./:@-]*$/.test(v) ? 0 : 2);
    return String(v).length;
  }
  if (isMap(node) || isSeq(node)) {
    let total = 4;
    let fits = true;
    for (const item of node.items) {
      let len: number;
      if (isMap(node)) {
        const pair = item as Pair<unknown, unknown>;
        len = keyName(pair).length + 2 + flowWhereShort(pair.value as YamlNode, indent + 2, true);
      } else len = flowWhereShort(item as YamlNode, indent + 2, true);
      if (len === Infinity) fits = false;
      total += len + 2;
    }
    if (!self || !fits || indent + total > FLOW_WIDTH) return Infinity;
    node.flow = true;
    return total;
  }
  return Infinity;
}

// ---------------------------------------------------------------- key order

interface Def {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
  items?: z.ZodType[];
  options?: z.ZodType[];
  in?: z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** A copy of `value` with every mapping's keys in the order its schema declares them. */
export function orderLike(value: unknown, schema: z.ZodType): unknown {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
      return orderLike(value, def.innerType!);
    case 'pipe':
      return orderLike(value, def.in!);
    case 'object': {
      if (!isRecord(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(def.shape!)) if (k in value && value[k] !== undefined) out[k] = orderLike(value[k], s);
      for (const [k, v] of Object.entries(value)) if (!(k in out) && v !== undefined) out[k] = v;
      return out;
    }
    case 'record': {
      if (!isRecord(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = orderLike(v, def.valueType!);
      return out;
    }
    case 'array':
      return Array.isArray(value) ? value.map((v) => orderLike(v, def.element!)) : value;
    case 'tuple':
      return Array.isArray(value) ? value.map((v, i) => (def.items![i] ? orderLike(v, def.items![i]!) : v)) : value;
    case 'union': {
      const match = def.options!.find((o) => o.safeParse(value).success);
      return match ? orderLike(value, match) : value;
    }
    default:
      return value;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
