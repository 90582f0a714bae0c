/**
 * Own `__proto__` keys in parsed JSON or YAML data: zod's records skip them, so the validator
 * refuses them itself (a lab would otherwise lose the node silently).
 */
import type { PathSegment } from './issues.js';

/** Paths of every own `__proto__` key in parsed JSON or YAML data (paths built only for those). */
export function protoKeyPaths(input: unknown): PathSegment[][] {
  type At = { v: object; up: At | null; key: PathSegment };
  const pathOf = (a: At | null): PathSegment[] => {
    const path: PathSegment[] = [];
    for (let x = a; x && x.up; x = x.up) path.unshift(x.key);
    return path;
  };
  const found: PathSegment[][] = [];
  if (typeof input !== 'object' || input === null || !hasProtoKey(input)) return found;
  const stack: At[] = [{ v: input, up: null, key: '' }];
  while (stack.length > 0) {
    const at = stack.pop()!;
    if (!Array.isArray(at.v) && Object.hasOwn(at.v, '__proto__')) found.push([...pathOf(at), '__proto__']);
    for (const [k, item] of Object.entries(at.v)) {
      if (typeof item === 'object' && item !== null) stack.push({ v: item as object, up: at, key: Array.isArray(at.v) ? Number(k) : k });
    }
  }
  return found;
}

/** Whether any object under `input` has an own `__proto__` key: one cheap walk (a big lab has many objects), paths only when one does. */
function hasProtoKey(input: object): boolean {
  const stack: object[] = [input];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === 'object' && item !== null) stack.push(item as object);
      continue;
    }
    if (Object.hasOwn(v, '__proto__')) return true;
    for (const k in v) {
      const item = (v as Record<string, unknown>)[k];
      if (typeof item === 'object' && item !== null) stack.push(item);
    }
  }
  return false;
}
