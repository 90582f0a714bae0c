/**
 * lab.yaml text -> a validated, normalized `Lab`, or every error as `file:line:column: field: what is wrong`.
 * No file I/O here: the CLI and the server read the file and pass its text and name.
 */
import { type Document, LineCounter, type Node as YamlNode, type Pair, type YAMLMap, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, stringify } from 'yaml';
import { readPlainYaml } from './plain-yaml.js';
import { addressConflicts } from './address-conflicts.js';
import { type Lab, type LabFile, type LabIssue, type PathSegment, formatPath, validateLab } from './schema.js';

export interface LabError {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** The field at fault (`nodes.pc1.interfaces.eth0.ip`); `(syntax)` for YAML syntax errors. */
  field: string;
  message: string;
}

export interface LoadOptions {
  /** The lab's folder name, when loaded from labs/<lab>/lab.yaml: the file's name: must equal it. */
  folderName?: string;
  /** Longest text taken, in characters (default MAX_LAB_FILE_CHARS). */
  maxChars?: number;
}

/**
 * The largest lab.yaml read: 8 MiB of text, far above a 25,000-node lab (about 700 KB) and far
 * below what takes the reader seconds. Counted in characters, which never exceed the file's bytes.
 */
export const MAX_LAB_FILE_CHARS = 8 * 1024 * 1024;

/** Errors reported for one file: a compiler's habit, and what keeps a file of a million mistakes from taking minutes. */
export const MAX_REPORTED_ERRORS = 100;

/** Past this size a file the plain reader took is not read again by the library to locate its errors (about 1.6 ms a KB). */
const LIBRARY_LOCATE_CHARS = 1024 * 1024;

export type LoadResult =
  | {
      ok: true;
      lab: Lab;
      /** The parsed YAML, comments and all, for a server that edits the file in place. */
      document: Document;
      /** What loads but is likely a mistake (duplicate addresses on a segment): located like errors. */
      warnings: LabError[];
    }
  | { ok: false; errors: LabError[] };

/**
 * Parses and validates a lab file. A file with any error is refused as a whole; every error is
 * reported, sorted by position. Duplicate keys are errors (YAML says keys are unique; a silent
 * "last one wins" would hide a mistake).
 */
export function loadLabText(text: string, fileName: string, opts: LoadOptions = {}): LoadResult {
  const max = opts.maxChars ?? MAX_LAB_FILE_CHARS;
  // The readers below recurse per level: a file nested thousands deep would overflow the stack.
  // Within the size limit only, so that the more telling of the two errors is the one given.
  const deep = tooDeepAt(text.length > max ? text.slice(0, max) : text);
  if (deep >= 0) return { ok: false, errors: [{ file: fileName, ...lineColumn(text, deep), field: '(syntax)', message: TOO_DEEP }] };
  if (text.length > max) {
    const message = `the file is larger than ${formatSize(max)} (${formatSize(text.length)}), the most a lab file may hold`;
    return { ok: false, errors: [{ file: fileName, ...lineColumn(text, max), field: '(file)', message }] };
  }
  try {
    return loadChecked(text, fileName, opts);
  } catch (e) {
    // The count above is generous, but a stack overflow must still be a lab-file error, never a crash.
    if (!(e instanceof RangeError)) throw e;
    return { ok: false, errors: [{ file: fileName, line: 1, column: 1, field: '(syntax)', message: `${TOO_DEEP} (${e.message})` }] };
  }
}

/** Far deeper than any lab file needs, and far from what the recursive readers (plain-yaml, yaml, zod) can take. */
export const MAX_NESTING = 256;
const TOO_DEEP = `nested more than ${MAX_NESTING} levels deep (a lab file needs about ten)`;

/**
 * The offset where `text` first nests deeper than `max` levels, or -1. Levels are counted
 * generously without parsing: open flow brackets (even inside quotes or comments), block
 * indentation levels, and leading `- ` of compact sequences.
 */
export function tooDeepAt(text: string, max = MAX_NESTING): number {
  const indents: number[] = [];
  let flow = 0;
  let col = 0;
  let dashes = 0;
  /** 0: in the indentation; 1: in leading `- `s; 2: past them (most characters: two tests each). */
  let state = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      state = 0;
      col = 0;
      dashes = 0;
      continue;
    }
    if (state !== 2) {
      if (state === 0) {
        if (c === 32) {
          col++;
          continue;
        }
        state = 1;
        if (c !== 35 && c !== 13) {
          while (indents.length > 0 && indents[indents.length - 1]! >= col) indents.pop();
          indents.push(col);
        }
      }
      const next = text.charCodeAt(i + 1);
      if (c === 45 && (next === 32 || next === 10 || Number.isNaN(next))) dashes++;
      else if (c !== 32) state = 2;
      if (indents.length + dashes + flow > max) return i;
    }
    if (c === 91 || c === 123) {
      if (++flow + indents.length + dashes > max) return i;
    } else if ((c === 93 || c === 125) && flow > 0) flow--;
  }
  return -1;
}

function formatSize(chars: number): string {
  if (chars < 1024) return `${chars} bytes`;
  return chars >= 1024 * 1024 ? `${(chars / (1024 * 1024)).toFixed(chars % (1024 * 1024) === 0 ? 0 : 1)} MiB` : `${Math.ceil(chars / 1024)} KiB`;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

function loadChecked(text: string, fileName: string, opts: LoadOptions): LoadResult {
  // Lab files are nearly always plain YAML, which readPlainYaml reads many times faster than the
  // library. A file it does not take, or that is not a valid lab, is read again with the
  // library, whose document locates every error.
  const plain = readPlainYaml(text);
  if (plain !== null) {
    const result = validateLab(plain.value, opts);
    if (result.ok) return loaded(result.lab, text, fileName);
    if (text.length > LIBRARY_LOCATE_CHARS) {
      const shown = result.issues.slice(0, MAX_REPORTED_ERRORS);
      const errors = shown.map((i) => ({ file: fileName, ...lineColumn(text, textOffset(text, i.path)), field: formatPath(i.path), message: i.message }));
      return { ok: false, errors: withMore(sortErrors(errors), result.issues.length - shown.length, fileName) };
    }
  }
  const { doc, lines } = parseLabDocument(text);
  const errors: LabError[] = [];
  const at = (offset: number, field: string, message: string) => {
    const pos = lines.linePos(offset);
    errors.push({ file: fileName, line: pos.line, column: pos.col, field, message });
  };

  let syntaxBroken = false;
  for (const e of [...doc.errors, ...doc.warnings]) {
    if (e.code === 'DUPLICATE_KEY') {
      const found = pathAtOffset(doc, e.pos[0]);
      const first = found?.first;
      const where = first !== undefined ? ` (first at line ${lines.linePos(first).line})` : '';
      at(e.pos[0], found ? formatPath(found.path) : '(syntax)', `duplicate key${where}`);
    } else {
      syntaxBroken = true;
      const message = e.code === 'MULTIPLE_DOCS' ? 'a lab file holds one YAML document; this one has a second after ---' : e.message;
      at(e.pos[0], '(syntax)', message.replace(/\s+/g, ' ').trim());
    }
  }
  if (syntaxBroken) return { ok: false, errors: sortErrors(errors) };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    at(0, '(syntax)', e instanceof Error ? e.message : String(e));
    return { ok: false, errors: sortErrors(errors) };
  }

  const result = validateLab(data, opts);
  const issues = result.ok ? [] : result.issues;
  const keys = new KeyIndex();
  for (const issue of issues.slice(0, MAX_REPORTED_ERRORS)) at(issueOffset(doc, issue, keys), formatPath(issue.path), issue.message);
  if (errors.length > 0 || !result.ok) return { ok: false, errors: withMore(sortErrors(dedupe(errors)), issues.length - MAX_REPORTED_ERRORS, fileName) };
  return { ok: true, lab: result.lab, document: doc, warnings: locateIssues(doc, lines, fileName, addressConflicts(result.lab)) };
}

/** The lab's warnings (duplicate addresses), located in its text; the text is parsed again only when there is one. */
export function labWarnings(lab: Lab, text: string | null, fileName: string): LabError[] {
  const issues = addressConflicts(lab);
  if (issues.length === 0) return [];
  if (text === null) return issues.map((i) => ({ file: fileName, line: 0, column: 0, field: formatPath(i.path), message: i.message }));
  const { doc, lines } = parseLabDocument(text);
  return locateIssues(doc, lines, fileName, issues);
}

function locateIssues(doc: Document, lines: LineCounter, fileName: string, issues: readonly LabIssue[]): LabError[] {
  const keys = new KeyIndex();
  return sortErrors(
    issues.map((i) => {
      const pos = lines.linePos(issueOffset(doc, i, keys));
      return { file: fileName, line: pos.line, column: pos.col, field: formatPath(i.path), message: i.message };
    }),
  );
}

/** A lab that loaded, with its document parsed only if someone asks for it. */
function loaded(lab: Lab, text: string, fileName: string): LoadResult {
  let doc: Document | undefined;
  return {
    ok: true,
    lab,
    get document(): Document {
      doc ??= parseLabDocument(text).doc;
      return doc;
    },
    warnings: labWarnings(lab, text, fileName),
  };
}

/**
 * The library's document of a lab file. Its own duplicate-key test compares each key with every
 * earlier one of its mapping (seconds on a mapping of ten thousand nodes), so keys are first
 * compared here in one pass, and only a file that has equal keys is parsed again for the
 * library's own report of them.
 */
function parseLabDocument(text: string): { doc: Document; lines: LineCounter } {
  let lines = new LineCounter();
  let doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  if (mayHaveDuplicateKeys(doc.contents)) {
    lines = new LineCounter();
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  }
  return { doc, lines };
}

/** Whether a mapping holds two scalar keys of equal value (the library's own test of duplicates), anywhere under `node`. */
function mayHaveDuplicateKeys(node: unknown): boolean {
  const stack: unknown[] = [node];
  while (stack.length > 0) {
    const n = stack.pop();
    if (isMap(n)) {
      const seen = new Set<unknown>();
      for (const pair of n.items) {
        const k: unknown = pair.key;
        if (isScalar(k)) {
          if (seen.has(k.value)) return true;
          seen.add(k.value);
        } else if (k !== null && typeof k === 'object') stack.push(k);
        stack.push(pair.value);
      }
    } else if (isSeq(n)) for (const item of n.items) stack.push(item);
  }
  return false;
}

export function formatLabError(e: LabError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.field}: ${e.message}`;
}

/** A warning as compilers print one: `lab.yaml:7:22: warning: nodes.pc1.interfaces.eth0.ip: duplicate address...`. */
export function formatLabWarning(e: LabError): string {
  return `${e.file}:${e.line}:${e.column}: warning: ${e.field}: ${e.message}`;
}

/** One error per line. */
export function formatLabErrors(errors: readonly LabError[]): string {
  return errors.map(formatLabError).join('\n');
}

/** A lab file's text from its file model (comments are not kept: edit `document` to keep them). */
export function labFileToYaml(file: LabFile): string {
  return stringify(file, { lineWidth: 0 });
}

/** `errors`, then one line saying how many more there are (when there are). */
function withMore(errors: LabError[], more: number, fileName: string): LabError[] {
  if (more <= 0) return errors;
  const last = errors[errors.length - 1];
  return [...errors, { file: fileName, line: last?.line ?? 1, column: last?.column ?? 1, field: '(file)', message: `and ${more} more errors not shown (fix these first)` }];
}

/**
 * Where a path's keys are in a big plain file, found in its text: each key after the one
 * before it (`name:` at a line's start after spaces, a dash or in a flow mapping). A key not
 * found leaves the error at the last one that was.
 */
function textOffset(text: string, path: readonly PathSegment[]): number {
  let at = 0;
  for (const seg of path) {
    if (typeof seg !== 'string') continue;
    let from = at;
    for (;;) {
      const i = text.indexOf(`${seg}:`, from);
      if (i < 0) return at;
      const before = i === 0 ? 10 : text.charCodeAt(i - 1);
      // A key starts a line (after spaces or a dash) or follows `{`, `,` or a space in a flow mapping.
      if (before === 10 || before === 32 || before === 123 || before === 44 || before === 34 || before === 39) {
        at = before === 34 || before === 39 ? i - 1 : i;
        break;
      }
      from = i + 1;
    }
  }
  return at;
}

/** Each mapping's keys by name, made once per mapping that an error is looked up in (a find per error was quadratic). */
class KeyIndex {
  private readonly maps = new WeakMap<object, Map<string, Pair>>();

  find(map: YAMLMap, name: string): Pair | undefined {
    let index = this.maps.get(map);
    if (index === undefined) {
      index = new Map();
      for (const p of map.items) {
        const k = keyText(p.key);
        if (k !== undefined && !index.has(k)) index.set(k, p);
      }
      this.maps.set(map, index);
    }
    return index.get(name);
  }
}

function sortErrors(errors: LabError[]): LabError[] {
  return errors.map((e, i) => ({ e, i })).sort((a, b) => a.e.line - b.e.line || a.e.column - b.e.column || a.i - b.i).map((x) => x.e);
}

function dedupe(errors: LabError[]): LabError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = formatLabError(e);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/**
 * Where an issue is in the source: the offending key or value when the path exists; when it
 * does not (a missing required key), the key of the deepest mapping that does, so the user is
 * sent to the node or network that lacks it.
 */
function issueOffset(doc: Document, issue: LabIssue, keys = new KeyIndex()): number {
  let node: unknown = doc.contents;
  let lastKeyOffset: number | undefined;
  let keyOffset: number | undefined;
  let reached = 0;
  for (const seg of issue.path) {
    if (isAlias(node)) node = node.resolve(doc);
    keyOffset = undefined;
    if (isMap(node)) {
      const pair = keys.find(node, String(seg));
      if (!pair) break;
      keyOffset = (pair.key as YamlNode | null)?.range?.[0];
      if (keyOffset !== undefined) lastKeyOffset = keyOffset;
      node = pair.value ?? undefined;
      if (node === undefined) {
        reached++;
        break;
      }
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      lastKeyOffset = (node as YamlNode | null)?.range?.[0] ?? lastKeyOffset;
    } else break;
    reached++;
  }
  const complete = reached === issue.path.length;
  if (complete && issue.at === 'key' && keyOffset !== undefined) return keyOffset;
  if (complete) {
    const start = (node as YamlNode | undefined)?.range?.[0];
    if (start !== undefined) return start;
  }
  return lastKeyOffset ?? (doc.contents as YamlNode | null)?.range?.[0] ?? 0;
}

/**
 * The path to the key at `offset` (a duplicate key), and where that key first appears in its
 * mapping.
 */
function pathAtOffset(doc: Document, offset: number): { path: PathSegment[]; first: number | undefined } | undefined {
  const path: PathSegment[] = [];
  let node: unknown = doc.contents;
  for (;;) {
    if (isMap(node)) {
      let next: unknown;
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const k = pair.key as YamlNode | null;
        const name = keyText(k);
        if (k?.range && offset >= k.range[0] && offset < k.range[1] && name !== undefined) {
          const first = node.items.find((p) => keyText(p.key) === name);
          path.push(name);
          return { path, first: first && first !== pair ? (first.key as YamlNode).range?.[0] : undefined };
        }
        const v = pair.value as YamlNode | null;
        if (v?.range && offset >= v.range[0] && offset < v.range[2] && name !== undefined) {
          path.push(name);
          next = v;
          break;
        }
      }
      if (next === undefined) return undefined;
      node = next;
    } else if (isSeq(node)) {
      const i = node.items.findIndex((it) => {
        const r = (it as YamlNode | null)?.range;
        return r != null && offset >= r[0] && offset < r[2];
      });
      if (i < 0) return undefined;
      path.push(i);
      node = node.items[i];
    } else return undefined;
  }
}
