/**
 * lab.yaml as people like to read it: keys in the schema's order (wirelab, name, description,
 * ..., networks, nodes, links, checks; kind first in a node), short collections on one line
 * (`[pc2:eth0, sw1:e1]`, `{ ip: 10.1.0.10/24, gateway: 10.1.0.1 }`), a blank line between the
 * sections. The same file always gives the same text, so diffs of saved labs stay small.
 */
import { Document, type Node as YamlNode, type Pair, isMap, isScalar, isSeq } from 'yaml';
import type { z } from 'zod';
import { NetworkSchema, NodeSchema } from '../devices/lab/file-schema.js';
import { type LabFile, LabFileSchema } from '../devices/lab/schema.js';

/** Longest line a collection may take in flow style, indentation included. */
const FLOW_WIDTH = 100;
const SECTIONS = new Set(['networks', 'nodes', 'links', 'checks', 'snapshots', 'clone-of']);

const TO_STRING = { lineWidth: 0, flowCollectionPadding: true, indentSeq: true } as const;

/** The formatted text of each node and network (`section\0name`) and other top-level key (`\0key`), with the value it was formatted from. */
type EntryTexts = Map<string, { value: unknown; text: string }>;

/** lab.yaml text with the file it was formatted from (lab files are never edited in place). */
export interface FormattedLabFile {
  readonly file: LabFile;
  readonly text: string;
  /** Each node's and network's text, so a change of one node formats only that node. */
  readonly entries: EntryTexts;
}

export function formatLabFile(file: LabFile): string {
  return formatLabFileReusing(file, null).text;
}

/**
 * The file as pieces: each top-level key on its own, and each node and network on its own (the
 * yaml library takes tens of microseconds a node, seconds for a 25,000-node lab; a one-node edit
 * now formats one node). The pieces join to what one document of the whole file prints.
 */
function formatPieces(file: LabFile, known: EntryTexts | null, entries: EntryTexts): { text: string; pending: (() => void)[] } {
  const root = file as unknown as Record<string, unknown>;
  // Only the root keys' order here (orderLike of every link or node is a union's safeParse each):
  // each section is put in order when it has changed.
  const order = orderLike(Object.fromEntries(Object.keys(root).map((k) => [k, root[k] === undefined ? undefined : true])), LabFileSchema) as Record<string, unknown>;
  const out: string[] = [];
  const pending: (() => void)[] = [];
  if (Object.keys(order).length === 0) out.push(new Document({}).toString(TO_STRING));
  for (const key of Object.keys(order)) {
    const value = root[key];
    const lead = SECTIONS.has(key) ? '\n' : '';
    if (ENTRY_SECTIONS.has(key) && isRecord(value) && Object.keys(value).length > 0) {
      out.push(`${lead}${formatScalarKey(key)}:\n`);
      for (const [name, v] of Object.entries(value)) {
        if (v === undefined) continue;
        const id = `${key}\u0000${name}`;
        const old = known?.get(id);
        if (old !== undefined && sameData(old.value, v)) {
          entries.set(id, old);
          out.push(old.text);
          continue;
        }
        const slot = out.length;
        out.push('');
        pending.push(() => {
          const text = formatEntry(key, name, v);
          entries.set(id, { value: v, text });
          out[slot] = text;
        });
      }
      continue;
    }
    const id = `\u0000${key}`;
    const old = known?.get(id);
    if (old !== undefined && sameData(old.value, value)) {
      entries.set(id, old);
      out.push(old.text);
      continue;
    }
    const doc = new Document(orderLike({ [key]: value }, LabFileSchema));
    const pair = isMap(doc.contents) ? doc.contents.items[0] : undefined;
    if (pair) {
      if (key === 'links' || key === 'checks') {
        if (isSeq(pair.value)) for (const item of pair.value.items) flowWhereShort(item as YamlNode, 2, true);
      } else if (!ENTRY_SECTIONS.has(key)) flowWhereShort(pair.value as YamlNode, 2, true);
    }
    const text = lead + doc.toString(TO_STRING);
    entries.set(id, { value, text });
    out.push(text);
  }
  return {
    pending,
    get text() {
      return out.join('');
    },
  };
}

const ENTRY_SECTIONS = new Set(['nodes', 'networks']);

/** A key as the library prints it at the root (quoted when it must be). */
function formatScalarKey(key: string): string {
  return new Document({ [key]: null }).toString(TO_STRING).replace(/: null\n$|:\n$/, '');
}

/** One node or network, indented under its section: each on its own lines, what is inside on one line where it fits. */
function formatEntry(section: string, name: string, value: unknown): string {
  const doc = new Document({ [name]: orderLike(value, section === 'nodes' ? NodeSchema : NetworkSchema) });
  const pair = isMap(doc.contents) ? doc.contents.items[0] : undefined;
  if (pair) flowWhereShort(pair.value as YamlNode, 4, section === 'networks');
  // Empty lines stay empty (inside a block scalar, added spaces could become content).
  return doc.toString(TO_STRING).replace(/^(?=.)/gm, '  ');
}

/**
 * formatLabFile(file), reusing `known`'s text for every node and network that holds the same
 * data (comparing takes a few milliseconds where formatting a big lab takes seconds).
 */
export function formatLabFileReusing(file: LabFile, known: FormattedLabFile | null): FormattedLabFile {
  if (known && sameData(known.file, file)) return known.file === file ? known : { ...known, file };
  const entries: EntryTexts = new Map();
  const pieces = formatPieces(file, known?.entries ?? null, entries);
  for (const f of pieces.pending) f();
  return { file, text: pieces.text, entries };
}

/**
 * formatLabFileReusing, giving the event loop back every few milliseconds while it formats
 * nodes anew (the first edit of a big lab loaded from disk formats all of them).
 */
export async function formatLabFileYielding(file: LabFile, known: FormattedLabFile | null, sliceMs = 20): Promise<FormattedLabFile> {
  if (known && sameData(known.file, file)) return known.file === file ? known : { ...known, file };
  const entries: EntryTexts = new Map();
  const pieces = formatPieces(file, known?.entries ?? null, entries);
  let since = performance.now();
  for (const f of pieces.pending) {
    f();
    if (performance.now() - since > sliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      since = performance.now();
    }
  }
  return { file, text: pieces.text, entries };
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
