/**
 * A reader for the plain subset of YAML that lab files are written in: block mappings and
 * sequences indented with spaces, single-line flow collections, plain and quoted single-line
 * scalars, comments. On a big lab it is tens of times faster than the `yaml` library (about a
 * microsecond a byte before its code is warm, which made reading a 10,000-node lab.yaml cost
 * seconds). It gives up (returns null) on anything outside the subset — anchors, aliases, tags,
 * block scalars, scalars or flow collections over several lines, explicit keys, directives,
 * document markers, tabs, carriage returns, duplicate or merge keys — and the loader then reads
 * the file with the library, which is also what locates errors. Inside the subset the value is
 * the one `parseDocument(text).toJS()` gives with the core schema (tests/unit/lab-plain-yaml
 * compares the two on generated documents).
 */

/** Thrown to give up; caught at the top. */
class NotPlain {}
const NOT_PLAIN = new NotPlain();

function giveUp(): never {
  throw NOT_PLAIN;
}

/** Characters the subset never holds: tabs, CR, other controls, BOM, Unicode line breaks. */
const UNSUPPORTED_CHARS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;

/** yaml's limit on an implicit key's length (longer ones are an error there). */
const MAX_KEY = 1000;

const DQ_ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  e: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
};

const NULL_RE = /^(?:~|[Nn]ull|NULL)$/;
const BOOL_RE = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const OCT_RE = /^0o[0-7]+$/;
const INT_RE = /^[-+]?[0-9]+$/;
const HEX_RE = /^0x[0-9a-fA-F]+$/;
const INF_NAN_RE = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const EXP_RE = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT_RE = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
const HEX_DIGITS_RE = /^[0-9a-fA-F]+$/;

/** The core schema's resolution of a plain scalar (YAML 1.2, as the `yaml` library does it). */
export function resolvePlainScalar(raw: string): unknown {
  const c = raw.charCodeAt(0);
  // Most scalars in a lab file are names: skip the tests a scalar starting with another letter cannot pass.
  if (c >= 0x61 /* a */ && c <= 0x7a /* z */ && c !== 0x6e /* n */ && c !== 0x74 /* t */ && c !== 0x66 /* f */) return raw;
  if (c === 0x7e || c === 0x6e || c === 0x4e) return NULL_RE.test(raw) ? null : raw;
  if (c === 0x74 || c === 0x54 || c === 0x66 || c === 0x46) return BOOL_RE.test(raw) ? c === 0x74 || c === 0x54 : raw;
  const numeric = c === 0x2b /* + */ || c === 0x2d /* - */ || c === 0x2e /* . */ || (c >= 0x30 && c <= 0x39);
  if (!numeric) return raw;
  if (OCT_RE.test(raw)) return parseInt(raw.substring(2), 8);
  if (INT_RE.test(raw)) return parseInt(raw, 10);
  if (HEX_RE.test(raw)) return parseInt(raw.substring(2), 16);
  if (INF_NAN_RE.test(raw)) {
    return raw.slice(-3).toLowerCase() === 'nan' ? NaN : raw[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (EXP_RE.test(raw) || FLOAT_RE.test(raw)) return parseFloat(raw);
  return raw;
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * The reader walks the text once. Where a function has more to say than its value, it leaves it
 * in fields: `end` (where an inline value ends), `nextPos`/`nextIndent` (the next line with
 * content after a block node, indent -1 at the end), and the key fields after `key()`.
 */
/** Lab files nest a handful of levels; a deeper flow collection is left to the library (and its error). */
const MAX_FLOW_DEPTH = 64;

class Reader {
  private readonly n: number;
  private end = 0;
  private nextPos = 0;
  private nextIndent = 0;
  private keyString = '';
  private keyPlain = false;
  private keyEnd = 0;
  /** Flow collections open around the one being read; past MAX_FLOW_DEPTH the library reads it (and refuses it). */
  private flowDepth = 0;

  constructor(private readonly s: string) {
    this.n = s.length;
  }

  document(): unknown {
    this.nextContent(-1);
    if (this.nextIndent !== 0) giveUp();
    const value = this.blockMap(0, this.nextPos);
    // A block mapping at column 0 ends only at the end of the text.
    return value;
  }

  // ------------------------------------------------------------ lines

  private lineEnd(p: number): number {
    const e = this.s.indexOf('\n', p);
    return e < 0 ? this.n : e;
  }

  private skipSpaces(p: number): number {
    const s = this.s;
    while (p < this.n && s.charCodeAt(p) === 0x20) p++;
    return p;
  }

  /** `eol` is a line's '\n' (or -1 before the first line, or the end): finds the next line with content. */
  private nextContent(eol: number): void {
    const s = this.s;
    let p = eol;
    for (;;) {
      if (p >= this.n) break;
      const start = p + 1;
      const q = this.skipSpaces(start);
      if (q >= this.n) break;
      const c = s.charCodeAt(q);
      if (c === 0x0a) {
        p = q;
        continue;
      }
      if (c === 0x23 /* # */) {
        p = this.lineEnd(q);
        continue;
      }
      // Document markers and directives start a line at column 0.
      if (q === start && (c === 0x25 /* % */ || ((s.startsWith('---', q) || s.startsWith('...', q)) && this.isBlank(q + 3)))) giveUp();
      this.nextPos = q;
      this.nextIndent = q - start;
      return;
    }
    this.nextPos = this.n;
    this.nextIndent = -1;
  }

  /** Whitespace, a line end or the end of the text at p. */
  private isBlank(p: number): boolean {
    if (p >= this.n) return true;
    const c = this.s.charCodeAt(p);
    return c === 0x20 || c === 0x0a;
  }

  /** Nothing but a line end or a comment at p (after spaces). */
  private restIsEmpty(p: number): boolean {
    if (p >= this.n) return true;
    const c = this.s.charCodeAt(p);
    return c === 0x0a || c === 0x23;
  }

  /** After a value: only spaces and a comment may follow on its line. Returns the line's end. */
  private endLine(p: number): number {
    const q = this.skipSpaces(p);
    if (q >= this.n) return this.n;
    const c = this.s.charCodeAt(q);
    if (c === 0x0a) return q;
    if (c === 0x23 && q > p) return this.lineEnd(q);
    return giveUp();
  }

  private isSeqItem(p: number): boolean {
    return this.s.charCodeAt(p) === 0x2d /* - */ && this.isBlank(p + 1);
  }

  // ------------------------------------------------------------ block collections

  /** A block mapping whose keys sit at column `col`, the first one at p. */
  private blockMap(col: number, p: number): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    for (;;) {
      if (!this.key(p)) giveUp();
      const name = this.keyString;
      this.checkKey(map, name);
      const q = this.skipSpaces(this.keyEnd);
      let value: unknown;
      if (this.restIsEmpty(q)) value = this.nested(col, q >= this.n ? this.n : this.lineEnd(q), true);
      else {
        value = this.inlineValue(q);
        this.nextContent(this.endLine(this.end));
      }
      map[name] = value;
      if (this.nextIndent === col) {
        p = this.nextPos;
        continue;
      }
      if (this.nextIndent < col) return map;
      return giveUp();
    }
  }

  /** A block sequence whose dashes sit at column `col`, the first one at p. */
  private blockSeq(col: number, p: number): unknown[] {
    const items: unknown[] = [];
    for (;;) {
      const lineStart = p - col;
      const q = this.skipSpaces(p + 1);
      if (this.restIsEmpty(q)) items.push(this.nested(col, q >= this.n ? this.n : this.lineEnd(q), false));
      else items.push(this.compact(q - lineStart, q));
      if (this.nextIndent === col && this.isSeqItem(this.nextPos)) {
        p = this.nextPos;
        continue;
      }
      if (this.nextIndent <= col) return items;
      return giveUp();
    }
  }

  /**
   * The value of a key or dash with nothing after it on its line: a block node indented
   * further, a sequence at the key's own column (a mapping's value only), or null.
   */
  private nested(col: number, eol: number, inMap: boolean): unknown {
    this.nextContent(eol);
    if (this.nextIndent > col) return this.compact(this.nextIndent, this.nextPos);
    if (inMap && this.nextIndent === col && this.isSeqItem(this.nextPos)) return this.blockSeq(col, this.nextPos);
    return null;
  }

  /** A node starting at p, at column col: a block sequence or mapping, or a value alone on its line. */
  private compact(col: number, p: number): unknown {
    if (this.isSeqItem(p)) return this.blockSeq(col, p);
    if (this.key(p)) return this.blockMap(col, p);
    const value = this.inlineValue(p);
    this.nextContent(this.endLine(this.end));
    return value;
  }

  /**
   * A key for `map`: a second key of the same value is a duplicate (the library's test), and
   * one that only prints the same (1 and "1") is left to the library too. `<<` is a merge key
   * where merging is on, and `__proto__` an accessor of plain objects.
   */
  private checkKey(map: Record<string, unknown>, name: string): void {
    if (hasOwn.call(map, name) || name === '__proto__' || (this.keyPlain && name === '<<')) giveUp();
  }

  /**
   * Whether an implicit key (plain or quoted, then `:` and a space or the line's end) starts at
   * p; if so its JS name and where its `:` ends are in the key fields.
   */
  private key(p: number): boolean {
    const s = this.s;
    const c = s.charCodeAt(p);
    if (c === 0x22 || c === 0x27) {
      const value = c === 0x22 ? this.doubleQuoted(p) : this.singleQuoted(p);
      const q = this.skipSpaces(this.end);
      if (s.charCodeAt(q) !== 0x3a /* : */ || !this.isBlank(q + 1)) return false;
      if (q - p > MAX_KEY) giveUp();
      this.keyString = value;
      this.keyPlain = false;
      this.keyEnd = q + 1;
      return true;
    }
    if (!this.plainStart(p, false)) return false;
    let q = p;
    for (; ; q++) {
      if (q >= this.n) return false;
      const d = s.charCodeAt(q);
      // The line ends, or a comment starts, before any `: `: a value, not a key.
      if (d === 0x0a || (d === 0x23 && s.charCodeAt(q - 1) === 0x20)) return false;
      if (d === 0x3a && this.isBlank(q + 1)) break;
    }
    if (q - p > MAX_KEY) giveUp();
    let e = q;
    while (e > p && s.charCodeAt(e - 1) === 0x20) e--;
    this.keyString = keyName(resolvePlainScalar(s.slice(p, e)));
    this.keyPlain = true;
    this.keyEnd = q + 1;
    return true;
  }

  /** Whether a plain scalar may start at p (YAML's rules for its first character). */
  private plainStart(p: number, flow: boolean): boolean {
    const s = this.s;
    const c = s[p];
    if (c === undefined) return false;
    if ('[]{},#&*!|>\'"%@`'.includes(c)) return false;
    if (c === '-' || c === '?' || c === ':') {
      const d = s[p + 1];
      if (d === undefined || d === ' ' || d === '\n') return false;
      if (flow && ',[]{}'.includes(d)) return false;
    }
    return true;
  }

  /** A scalar or flow collection on one line, at p (not blank); `end` is where it ends. */
  private inlineValue(p: number): unknown {
    const s = this.s;
    const c = s.charCodeAt(p);
    if (c === 0x22) return this.doubleQuoted(p);
    if (c === 0x27) return this.singleQuoted(p);
    if (c === 0x5b /* [ */) return this.flowSeq(p);
    if (c === 0x7b /* { */) return this.flowMap(p);
    if (!this.plainStart(p, false)) giveUp();
    const eol = this.lineEnd(p);
    let last = p;
    for (let q = p; q < eol; q++) {
      const d = s.charCodeAt(q);
      if (d === 0x20) {
        if (s.charCodeAt(q + 1) === 0x23) break;
        continue;
      }
      // `a: b: c` nests a mapping in a compact one: an error in YAML.
      if (d === 0x3a && this.isBlank(q + 1)) giveUp();
      last = q;
    }
    this.end = last + 1;
    return resolvePlainScalar(s.slice(p, last + 1));
  }

  // ------------------------------------------------------------ flow collections (one line)

  private flowSeq(p: number): unknown[] {
    const s = this.s;
    const items: unknown[] = [];
    if (++this.flowDepth > MAX_FLOW_DEPTH) giveUp();
    let q = this.skipSpaces(p + 1);
    if (s.charCodeAt(q) === 0x5d /* ] */) {
      this.end = q + 1;
      this.flowDepth--;
      return items;
    }
    for (;;) {
      items.push(this.flowNode(q));
      q = this.skipSpaces(this.end);
      const c = s.charCodeAt(q);
      if (c === 0x5d) {
        this.end = q + 1;
        this.flowDepth--;
        return items;
      }
      if (c !== 0x2c /* , */) giveUp();
      q = this.skipSpaces(q + 1);
    }
  }

  private flowMap(p: number): Record<string, unknown> {
    const s = this.s;
    const map: Record<string, unknown> = {};
    if (++this.flowDepth > MAX_FLOW_DEPTH) giveUp();
    let q = this.skipSpaces(p + 1);
    if (s.charCodeAt(q) === 0x7d /* } */) {
      this.end = q + 1;
      this.flowDepth--;
      return map;
    }
    for (;;) {
      let name: string;
      const c = s.charCodeAt(q);
      if (c === 0x22 || c === 0x27) {
        name = c === 0x22 ? this.doubleQuoted(q) : this.singleQuoted(q);
        this.keyPlain = false;
      } else {
        name = keyName(resolvePlainScalar(this.flowPlain(q)));
        this.keyPlain = true;
      }
      const colon = this.skipSpaces(this.end);
      if (s.charCodeAt(colon) !== 0x3a || s.charCodeAt(colon + 1) !== 0x20) giveUp();
      this.checkKey(map, name);
      map[name] = this.flowNode(this.skipSpaces(colon + 1));
      q = this.skipSpaces(this.end);
      const d = s.charCodeAt(q);
      if (d === 0x7d) {
        this.end = q + 1;
        this.flowDepth--;
        return map;
      }
      if (d !== 0x2c) giveUp();
      q = this.skipSpaces(q + 1);
    }
  }

  private flowNode(p: number): unknown {
    const c = this.s.charCodeAt(p);
    if (c === 0x5b) return this.flowSeq(p);
    if (c === 0x7b) return this.flowMap(p);
    if (c === 0x22) return this.doubleQuoted(p);
    if (c === 0x27) return this.singleQuoted(p);
    return resolvePlainScalar(this.flowPlain(p));
  }

  /** The text of a plain scalar inside a flow collection: it ends at `,`, `]`, `}`, `: ` or a comment. */
  private flowPlain(p: number): string {
    const s = this.s;
    if (!this.plainStart(p, true)) giveUp();
    let last = p;
    let q = p;
    for (; q < this.n; q++) {
      const d = s.charCodeAt(q);
      if (d === 0x0a) giveUp();
      if (d === 0x2c || d === 0x5d || d === 0x7d || d === 0x5b || d === 0x7b) break;
      if (d === 0x20) {
        if (s.charCodeAt(q + 1) === 0x23) giveUp();
        continue;
      }
      if (d === 0x3a) {
        const e = s.charCodeAt(q + 1);
        if (e === 0x20) break;
        if (q + 1 >= this.n || e === 0x0a || e === 0x2c || e === 0x5d || e === 0x7d || e === 0x5b || e === 0x7b) giveUp();
      }
      last = q;
    }
    if (q >= this.n) giveUp();
    this.end = last + 1;
    return s.slice(p, last + 1);
  }

  // ------------------------------------------------------------ quoted scalars (one line)

  private doubleQuoted(p: number): string {
    const s = this.s;
    let out = '';
    let from = p + 1;
    for (let q = p + 1; ; q++) {
      if (q >= this.n) giveUp();
      const c = s.charCodeAt(q);
      if (c === 0x0a) giveUp();
      if (c === 0x22) {
        this.end = q + 1;
        return out + s.slice(from, q);
      }
      if (c !== 0x5c /* \ */) continue;
      out += s.slice(from, q);
      const e = s[q + 1];
      if (e === undefined) giveUp();
      const simple = DQ_ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        q++;
      } else if (e === 'x' || e === 'u' || e === 'U') {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = s.substr(q + 2, len);
        if (hex.length !== len || !HEX_DIGITS_RE.test(hex)) giveUp();
        const code = parseInt(hex, 16);
        if (code > 0x10ffff) giveUp();
        out += String.fromCodePoint(code);
        q += 1 + len;
      } else giveUp();
      from = q + 1;
    }
  }

  private singleQuoted(p: number): string {
    const s = this.s;
    let out = '';
    let from = p + 1;
    for (let q = p + 1; ; q++) {
      if (q >= this.n) giveUp();
      const c = s.charCodeAt(q);
      if (c === 0x0a) giveUp();
      if (c !== 0x27) continue;
      if (s.charCodeAt(q + 1) === 0x27) {
        out += s.slice(from, q + 1);
        from = q + 2;
        q++;
        continue;
      }
      this.end = q + 1;
      return out + s.slice(from, q);
    }
  }
}

/** A JS object key as yaml's toJS makes it from a scalar key. */
function keyName(value: unknown): string {
  return value === null ? '' : String(value);
}

/**
 * The data of a YAML document written in the plain subset (see the top of this file), or null
 * when the text is outside it.
 */
export function readPlainYaml(text: string): { value: unknown } | null {
  if (UNSUPPORTED_CHARS.test(text)) return null;
  try {
    return { value: new Reader(text).document() };
  } catch (e) {
    if (e === NOT_PLAIN) return null;
    throw e;
  }
}
