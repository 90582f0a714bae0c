/**
 * The wording of a lab's problems: zod's issues turned into the messages the loader prints, so the
 * API and `wirelab check` word their errors the same way; and the path notation that locates them.
 */
import type { z } from 'zod';

/** Marks the unknown-key message so `describeZodIssues` can split it per key and suggest a spelling. */
export const UNKNOWN_KEY = 'unknown key; the keys here are: ';

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'nothing (an empty value)';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

export type PathSegment = string | number;

/** One thing wrong with a lab, located by its path in the file; `at` says whether the key or its value is to blame. */
export interface LabIssue {
  path: PathSegment[];
  message: string;
  at: 'key' | 'value';
}

/** `nodes.r1.interfaces["g0/2.20"].ip`, `links[2].delay`. */
export function formatPath(path: readonly PathSegment[]): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (/^[A-Za-z0-9_/-]+$/.test(seg)) s += s === '' ? seg : `.${seg}`;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s === '' ? '(top)' : s;
}

/** zod's own wording starts like this; messages written in this file never do. */
const ZOD_DEFAULT = /^(Invalid|Too (big|small)|Unrecognized key)/;

/**
 * zod issues (parsed with `reportInput: true`, so values can be quoted) as lab issues: one per
 * unknown key with a suggested spelling, "missing" for absent required keys, and for a union the
 * branch the value was evidently meant to be.
 */
export function describeZodIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PathSegment[] = []): LabIssue[] {
  const out: LabIssue[] = [];
  for (const iss of issues) describeIssue(iss, [...prefix, ...(iss.path as PathSegment[])], out);
  return out;
}

function describeIssue(iss: z.core.$ZodIssue, path: PathSegment[], out: LabIssue[]): void {
  const custom = !ZOD_DEFAULT.test(iss.message);
  switch (iss.code) {
    case 'unrecognized_keys': {
      const known = iss.message.startsWith(UNKNOWN_KEY) ? iss.message.slice(UNKNOWN_KEY.length).split(', ') : [];
      // A mapping of a million unknown keys: each named up to a point, then counted (they are reported a hundred at most).
      const named = iss.keys.slice(0, MAX_UNKNOWN_KEYS_NAMED);
      for (const key of named) out.push({ path: [...path, key], at: 'key', message: unknownKeyMessage(key, known) });
      const more = iss.keys.length - named.length;
      if (more > 0) out.push({ path, at: 'value', message: `and ${more} more unknown keys` });
      return;
    }
    case 'invalid_key': {
      const inner = describeZodIssues(iss.issues);
      for (const i of inner) out.push({ path, at: 'key', message: i.message });
      return;
    }
    case 'invalid_union': {
      if (iss.discriminator !== undefined) {
        const options = (iss as { options?: unknown[] }).options ?? [];
        const given = isRecord(iss.input) ? iss.input[iss.discriminator] : undefined;
        const list = options.map(String).join(', ');
        out.push({
          path,
          at: 'value',
          message: given === undefined ? `missing: ${iss.discriminator} is one of ${list}` : `unknown ${iss.discriminator} ${describeValue(given)}; it is one of ${list}`,
        });
        return;
      }
      // The branch the user evidently meant is the one that got past its root type check.
      const meant = iss.errors.filter((branch) => !branch.some((b) => b.path.length === 0 && (b.code === 'invalid_type' || b.code === 'invalid_value' || b.code === 'too_small' || b.code === 'too_big')));
      if (meant.length === 1) {
        for (const b of meant[0]!) describeIssue(b, [...path, ...(b.path as PathSegment[])], out);
        return;
      }
      out.push({ path, at: 'value', message: custom ? iss.message : `not a valid value: ${describeValue(iss.input)}` });
      return;
    }
  }
  if (iss.code === 'invalid_type' && iss.input === undefined) {
    out.push({ path, at: 'value', message: custom ? iss.message : 'missing: this key is required' });
    return;
  }
  const at = iss.code === 'custom' && iss.params?.['at'] === 'key' ? 'key' : 'value';
  out.push({ path, at, message: custom ? iss.message : defaultMessage(iss) });
}

function defaultMessage(iss: z.core.$ZodIssue): string {
  const got = describeValue(iss.input);
  switch (iss.code) {
    case 'invalid_type': {
      const expected: Record<string, string> = {
        string: 'text',
        number: 'a number',
        int: 'a whole number',
        boolean: 'true or false',
        object: 'a mapping (key: value)',
        record: 'a mapping (key: value)',
        array: 'a list [..]',
        tuple: 'a list [..]',
      };
      return `expected ${expected[iss.expected] ?? iss.expected}, got ${got}`;
    }
    case 'too_small':
      if (iss.origin === 'array') return `needs at least ${iss.minimum} item${iss.minimum === 1 ? '' : 's'}`;
      if (iss.origin === 'string') return iss.minimum === 1 ? 'must not be empty' : `needs at least ${iss.minimum} characters`;
      return `must be at least ${iss.minimum}, not ${got}`;
    case 'too_big':
      if (iss.origin === 'array') return `has more than ${iss.maximum} items`;
      if (iss.origin === 'string') return `is longer than ${iss.maximum} characters`;
      return `must be at most ${iss.maximum}, not ${got}`;
    case 'invalid_value':
      return iss.values.length === 1 ? `must be ${describeValue(iss.values[0])}, not ${got}` : `is one of ${iss.values.map(String).join(', ')}; not ${got}`;
    case 'not_multiple_of':
      return `must be a multiple of ${iss.divisor}, not ${got}`;
    case 'invalid_format':
      return `${got} does not have the expected form`;
    default:
      return iss.message;
  }
}

/** Unknown keys of one mapping described one by one; the rest are counted in one issue. */
export const MAX_UNKNOWN_KEYS_NAMED = 1000;

function unknownKeyMessage(key: string, known: string[]): string {
  const close = known.filter((k) => {
    const most = Math.max(1, Math.floor(k.length / 4));
    return Math.abs(k.length - key.length) <= most && editDistance(k, key) <= most;
  });
  if (close.length > 0) return `unknown key ${JSON.stringify(key)}; did you mean ${close.join(' or ')}?`;
  return known.length > 0 ? `unknown key ${JSON.stringify(key)}; the keys here are ${known.join(', ')}` : `unknown key ${JSON.stringify(key)}`;
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
