/**
 * Editing a node or network spec in a form: a deep copy the form writes into, with helpers to
 * set nested keys (creating the objects on the way) and to drop what the user emptied, so the
 * spec sent back has no keys the user did not mean.
 */
export type Json = Record<string, unknown>;

export const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads `obj.a.b.c`. */
export function getIn(obj: Json, path: string[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** Writes `obj.a.b.c = value`; `undefined` or '' removes the key, and then any object left empty on the way. */
export function setIn(obj: Json, path: string[], value: unknown): void {
  const chain: Json[] = [obj];
  let cur = obj;
  for (const k of path.slice(0, -1)) {
    if (!isObj(cur[k])) {
      if (value === undefined || value === '') return;
      cur[k] = {};
    }
    cur = cur[k] as Json;
    chain.push(cur);
  }
  const last = path[path.length - 1]!;
  if (value === undefined || value === '' || (typeof value === 'number' && Number.isNaN(value))) delete cur[last];
  else cur[last] = value;
  for (let i = chain.length - 1; i > 0; i--) {
    if (Object.keys(chain[i]!).length > 0) break;
    delete chain[i - 1]![path[i - 1]!];
  }
}

/** A number typed in a form: '' and non-numbers are "not set". */
export function numberOrUndefined(v: unknown): number | undefined {
  if (v === '' || v === null || v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Same content, whatever the key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return stable(a) === stable(b);
}
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stable(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** A plain deep copy of form data (structuredClone refuses Vue's reactive proxies). */
export function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
