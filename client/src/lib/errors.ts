import { ApiError } from '../api/http.js';

/** An error as a notice: the server's message, and each field's complaint on its own line. */
export function describeError(e: unknown): { text: string; details: string[] } {
  if (e instanceof ApiError) {
    return { text: e.message, details: e.details.map((d) => (d.field && d.field !== '(body)' ? `${d.field}: ${d.message}` : d.message)) };
  }
  return { text: e instanceof Error ? e.message : String(e), details: [] };
}

/** Field messages by field path, for forms. */
export function fieldErrors(e: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (e instanceof ApiError) for (const d of e.details) if (d.field) out[d.field] = out[d.field] ? `${out[d.field]}; ${d.message}` : d.message;
  return out;
}

/** A field path as the server writes it (devices/lab/schema.ts formatPath): interfaces["g0/2.20"].ip. */
export function fieldPath(...segs: (string | number)[]): string {
  let s = '';
  for (const seg of segs) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (/^[A-Za-z0-9_/-]+$/.test(seg)) s += s === '' ? seg : `.${seg}`;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s === '' ? '(top)' : s;
}
