/**
 * The IOS command parser: commands are declared as patterns, expanded into one tree per mode,
 * and a typed line is walked down that tree the way IOS does it: keywords may be abbreviated to
 * any unambiguous prefix, parameters are checked by type, `?` lists what may come next, Tab
 * completes a keyword, and a line that does not fit is answered with IOS's own markers
 * (`% Invalid input detected at '^' marker.` with the caret under the first character that did
 * not fit, `% Incomplete command.`, `% Ambiguous command:  "..."`).
 *
 * Pattern syntax: `ip address <addr:ip> <mask:mask> [secondary]`
 *   word          a keyword
 *   <name:type>   a parameter: ip, mask, wildcard, word, line (the rest of the line), host (a name
 *                 or an address), iface (an interface of the device, `g0/1` or `GigabitEthernet 0/1`),
 *                 vlans (`1,10-20`), or a number range `1-4094`
 *   [ ... ]       optional;  ( a | b )  one of
 */
import { parseIp4 } from '../../wire/bytes.js';

export interface Token {
  text: string;
  /** Column of the token's first character in the line. */
  start: number;
}

export function tokenize(line: string): Token[] {
  const out: Token[] = [];
  const re = /\S+/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) out.push({ text: m[0], start: m.index });
  return out;
}

/** Interface names the parser resolves against a device. */
export interface IfaceResolver {
  /** The long type names (GigabitEthernet, Ethernet, ...) the device has, for help and completion. */
  types(): { name: string; help: string }[];
  /**
   * The device's interface for a typed name: `g0/1`, `gi0/1.10`, `GigabitEthernet0/1`, or the type
   * and number as two words. `ok` with the model name, or how many characters were understood.
   */
  resolve(typeWord: string, number: string | null): { ok: true; name: string } | { ok: false; at: number };
}

export type ParamType =
  | { t: 'ip' }
  | { t: 'mask' }
  | { t: 'wildcard' }
  | { t: 'word' }
  | { t: 'line' }
  | { t: 'host' }
  | { t: 'iface' }
  | { t: 'vlans' }
  | { t: 'num'; lo: number; hi: number };

export interface GrammarNode {
  keyword?: string;
  param?: ParamType;
  /** Argument name a parameter is stored under (keywords are stored under themselves). */
  name: string;
  help: string;
  children: GrammarNode[];
  run?: Handler;
  /** Commands that exist but are not listed by `?` (wirelab extensions in running-config). */
  hidden?: boolean;
}

export class Args {
  readonly values = new Map<string, string>();
  /** Every keyword and parameter in order, as canonical words (for messages). */
  readonly words: string[] = [];
  has(name: string): boolean {
    return this.values.has(name);
  }
  get(name: string): string {
    const v = this.values.get(name);
    if (v === undefined) throw new Error(`no argument ${name}`);
    return v;
  }
  opt(name: string): string | undefined {
    return this.values.get(name);
  }
  num(name: string): number {
    return Number(this.get(name));
  }
}

export type Handler = (a: Args) => void;

export type ParseResult =
  | { ok: true; node: GrammarNode; args: Args }
  | { ok: false; kind: 'invalid'; at: number }
  | { ok: false; kind: 'incomplete' }
  | { ok: false; kind: 'ambiguous' };

// ------------------------------------------------------------------ patterns

type PatternItem = { kind: 'kw'; word: string; hidden: boolean } | { kind: 'param'; name: string; type: ParamType } | { kind: 'opt'; alts: PatternItem[][] } | { kind: 'alt'; alts: PatternItem[][] };

function parseType(s: string): ParamType {
  const range = /^(\d+)-(\d+)$/.exec(s);
  if (range) return { t: 'num', lo: Number(range[1]), hi: Number(range[2]) };
  switch (s) {
    case 'ip':
    case 'mask':
    case 'wildcard':
    case 'word':
    case 'line':
    case 'host':
    case 'iface':
    case 'vlans':
      return { t: s };
  }
  throw new Error(`unknown parameter type ${s}`);
}

function parsePattern(pattern: string): PatternItem[][] {
  const tokens = pattern.match(/<[^>]+>|[[\]()|]|[^\s[\]()|<>]+/g) ?? [];
  let i = 0;
  const seq = (): PatternItem[][] => {
    // Returns alternatives (split by '|') of sequences, up to a closing bracket.
    const alts: PatternItem[][] = [[]];
    while (i < tokens.length) {
      const t = tokens[i]!;
      if (t === ']' || t === ')') break;
      i++;
      if (t === '|') {
        alts.push([]);
        continue;
      }
      const cur = alts[alts.length - 1]!;
      if (t === '[' || t === '(') {
        const inner = seq();
        const close = tokens[i++];
        if (close !== (t === '[' ? ']' : ')')) throw new Error(`pattern ${pattern}: unbalanced ${t}`);
        cur.push({ kind: t === '[' ? 'opt' : 'alt', alts: inner });
        continue;
      }
      if (t.startsWith('<')) {
        const m = /^<([a-z][a-zA-Z0-9]*):([^>]+)>$/.exec(t);
        if (!m) throw new Error(`pattern ${pattern}: bad parameter ${t}`);
        cur.push({ kind: 'param', name: m[1]!, type: parseType(m[2]!) });
        continue;
      }
      const hidden = t.startsWith('!');
      cur.push({ kind: 'kw', word: hidden ? t.slice(1) : t, hidden });
    }
    return alts;
  };
  const alts = seq();
  if (i !== tokens.length) throw new Error(`pattern ${pattern}: stray ${tokens[i]}`);
  return alts;
}

type Flat = { kind: 'kw'; word: string; hidden: boolean } | { kind: 'param'; name: string; type: ParamType };

function expand(items: PatternItem[]): Flat[][] {
  let out: Flat[][] = [[]];
  for (const it of items) {
    if (it.kind === 'kw' || it.kind === 'param') {
      out = out.map((s) => [...s, it]);
      continue;
    }
    const choices = it.alts.flatMap((a) => expand(a));
    if (it.kind === 'opt') choices.unshift([]);
    const next: Flat[][] = [];
    for (const s of out) for (const c of choices) next.push([...s, ...c]);
    out = next;
  }
  return out;
}

function sameType(a: ParamType, b: ParamType): boolean {
  return a.t === b.t && (a.t !== 'num' || (b.t === 'num' && a.lo === b.lo && a.hi === b.hi));
}

/** One mode's commands. */
export class Grammar {
  readonly root: GrammarNode = { name: '', help: '', children: [] };

  constructor(private readonly helpText: (path: string[], word: string) => string) {}

  /** Declares a command; `help` names help texts for this command's keywords and parameters. */
  add(pattern: string, run: Handler, help: Record<string, string> = {}): this {
    for (const alt of parsePattern(pattern)) {
      for (const seq of expand(alt)) {
        let node = this.root;
        const path: string[] = [];
        for (const f of seq) {
          let child = node.children.find((c) =>
            f.kind === 'kw' ? c.keyword === f.word : c.param !== undefined && c.name === f.name && sameType(c.param, f.type),
          );
          if (!child) {
            const word = f.kind === 'kw' ? f.word : `<${f.name}>`;
            child =
              f.kind === 'kw'
                ? { keyword: f.word, name: f.word, help: help[f.word] ?? this.helpText(path, f.word), children: [], ...(f.hidden ? { hidden: true } : {}) }
                : { param: f.type, name: f.name, help: help[f.name] ?? this.helpText(path, word), children: [] };
            node.children.push(child);
          }
          path.push(f.kind === 'kw' ? f.word : `<${f.name}>`);
          node = child;
        }
        if (node.run) throw new Error(`command declared twice: ${seq.map((f) => (f.kind === 'kw' ? f.word : `<${f.name}>`)).join(' ')}`);
        node.run = run;
      }
    }
    return this;
  }
}

// ------------------------------------------------------------------ matching

type Match = { ok: true; consumed: number; value: string } | { ok: false; at: number };

/** How far an address-like text is an IPv4 address: a full match, or the offset of the first bad character. */
function matchIp(text: string): Match {
  let octets = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c >= '0' && c <= '9') {
      value = value * 10 + (c.charCodeAt(0) - 48);
      digits++;
      if (digits > 3 || value > 255) return { ok: false, at: i };
      continue;
    }
    if (c === '.' && digits > 0 && octets < 3) {
      octets++;
      digits = 0;
      value = 0;
      continue;
    }
    return { ok: false, at: i };
  }
  if (octets !== 3 || digits === 0) return { ok: false, at: text.length };
  return { ok: true, consumed: 1, value: text };
}

function isMask(ip: number): boolean {
  const inv = ~ip >>> 0;
  return (inv & (inv + 1)) === 0;
}

/** VLAN lists as IOS writes them: `10`, `10,20`, `1-5,7`; each 1..4094. */
export function parseVlanList(text: string): number[] | null {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part);
    if (!m) return null;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (a < 1 || b > 4094 || a > b) return null;
    for (let v = a; v <= b; v++) out.add(v);
  }
  return [...out].sort((x, y) => x - y);
}

export class Parser {
  constructor(readonly ifaces: IfaceResolver) {}

  private matchParam(type: ParamType, tokens: Token[], i: number, line: string): Match {
    const text = tokens[i]!.text;
    switch (type.t) {
      case 'ip':
      case 'wildcard': {
        return matchIp(text);
      }
      case 'mask': {
        const m = matchIp(text);
        if (!m.ok) return m;
        return isMask(parseIp4(text)!) ? m : { ok: false, at: 0 };
      }
      case 'num': {
        const bad = text.search(/\D/);
        if (bad >= 0) return { ok: false, at: bad };
        const n = Number(text);
        return n >= type.lo && n <= type.hi && text.length <= 10 ? { ok: true, consumed: 1, value: String(n) } : { ok: false, at: 0 };
      }
      case 'word':
        return { ok: true, consumed: 1, value: text };
      case 'host':
        return /^[A-Za-z0-9][A-Za-z0-9.\-_]*$/.test(text) ? { ok: true, consumed: 1, value: text } : { ok: false, at: 0 };
      case 'line':
        return { ok: true, consumed: tokens.length - i, value: line.slice(tokens[i]!.start).trimEnd() };
      case 'vlans': {
        if (text === 'all' || text === 'none') return { ok: true, consumed: 1, value: text };
        return parseVlanList(text) ? { ok: true, consumed: 1, value: text } : { ok: false, at: Math.max(0, text.search(/[^0-9,-]/)) };
      }
      case 'iface': {
        const m = /^([A-Za-z-]+)(.*)$/.exec(text);
        if (!m) return { ok: false, at: 0 };
        if (m[2] === '') {
          // "GigabitEthernet 0/1": type and number as two words.
          const next = tokens[i + 1];
          if (next === undefined) {
            const r = this.ifaces.resolve(m[1]!, null);
            return r.ok ? { ok: true, consumed: 1, value: r.name } : { ok: false, at: r.at };
          }
          const r = this.ifaces.resolve(m[1]!, next.text);
          if (r.ok) return { ok: true, consumed: 2, value: r.name };
          // A failure inside the number is reported under the second word.
          return { ok: false, at: r.at >= m[1]!.length ? next.start - tokens[i]!.start + (r.at - m[1]!.length) : r.at };
        }
        const r = this.ifaces.resolve(m[1]!, m[2]!);
        return r.ok ? { ok: true, consumed: 1, value: r.name } : { ok: false, at: r.at };
      }
    }
  }

  /** Walks `tokens` down from `root`. */
  parse(root: GrammarNode, line: string, tokens: Token[] = tokenize(line)): ParseResult {
    const args = new Args();
    let node = root;
    let i = 0;
    while (i < tokens.length) {
      const tok = tokens[i]!;
      const lower = tok.text.toLowerCase();
      const kws = node.children.filter((c) => c.keyword !== undefined && c.keyword.toLowerCase().startsWith(lower));
      const exact = kws.find((c) => c.keyword!.toLowerCase() === lower);
      let next: GrammarNode | undefined;
      let consumed = 1;
      let value = tok.text;
      if (exact) next = exact;
      else if (kws.length === 1) next = kws[0];
      else if (kws.length > 1) return { ok: false, kind: 'ambiguous' };
      if (next) value = next.keyword!;
      else {
        let furthest = 0;
        for (const c of node.children) {
          if (!c.param) continue;
          const m = this.matchParam(c.param, tokens, i, line);
          if (m.ok) {
            next = c;
            consumed = m.consumed;
            value = m.value;
            break;
          }
          furthest = Math.max(furthest, m.at);
        }
        if (!next) {
          for (const c of node.children) if (c.keyword) furthest = Math.max(furthest, commonPrefix(c.keyword.toLowerCase(), lower));
          return { ok: false, kind: 'invalid', at: tok.start + Math.min(furthest, tok.text.length) };
        }
      }
      args.values.set(next.name, value);
      args.words.push(value);
      node = next;
      i += consumed;
    }
    if (!node.run) return { ok: false, kind: 'incomplete' };
    return { ok: true, node, args };
  }

  /** IOS `?`: what may follow the line typed so far. */
  help(root: GrammarNode, line: string): { lines: string[] } | { error: ParseResult & { ok: false } } | { unrecognized: true } {
    const tokens = tokenize(line);
    const partial = line.length > 0 && !/\s$/.test(line) ? tokens.pop() : undefined;
    const walked = this.walk(root, line, tokens);
    if ('error' in walked) return walked;
    const node = walked.node;
    if (partial !== undefined) {
      const lower = partial.text.toLowerCase();
      const words = node.children.filter((c) => c.keyword !== undefined && !c.hidden && c.keyword.toLowerCase().startsWith(lower)).map((c) => c.keyword!);
      for (const c of node.children) {
        if (c.param?.t === 'iface') for (const t of this.ifaces.types()) if (t.name.toLowerCase().startsWith(lower)) words.push(t.name);
      }
      if (words.length === 0) return { unrecognized: true };
      return { lines: [words.map((w) => `${w}  `).join(''), ''] };
    }
    const rows: [string, string][] = [];
    for (const c of node.children) {
      if (c.hidden) continue;
      if (c.keyword !== undefined) rows.push([c.keyword, c.help]);
      else if (c.param!.t === 'iface') for (const t of this.ifaces.types()) rows.push([t.name, t.help]);
      else rows.push([paramLabel(c.param!), c.help]);
    }
    rows.sort((a, b) => (isLabel(a[0]) === isLabel(b[0]) ? a[0].localeCompare(b[0]) : isLabel(a[0]) ? 1 : -1));
    if (node.run) rows.push(['<cr>', '']);
    const width = Math.max(...rows.map((r) => r[0].length));
    return { lines: [...rows.map(([w, h]) => (h ? `  ${w.padEnd(width)}  ${h}` : `  ${w}`)), ''] };
  }

  /** IOS Tab: the line with its last word completed, or null. */
  complete(root: GrammarNode, line: string): string | null {
    if (line === '' || /\s$/.test(line)) return null;
    const tokens = tokenize(line);
    const partial = tokens.pop()!;
    const walked = this.walk(root, line, tokens);
    if ('error' in walked) return null;
    const lower = partial.text.toLowerCase();
    const words = walked.node.children.filter((c) => c.keyword !== undefined && !c.hidden && c.keyword.toLowerCase().startsWith(lower)).map((c) => c.keyword!);
    for (const c of walked.node.children) {
      if (c.param?.t !== 'iface') continue;
      const m = /^([A-Za-z-]+)(.*)$/.exec(partial.text);
      if (!m) continue;
      const types = this.ifaces.types().filter((t) => t.name.toLowerCase().startsWith(m[1]!.toLowerCase()));
      if (types.length === 1 && (m[2] === '' || this.ifaces.resolve(m[1]!, m[2]!).ok)) {
        return `${line.slice(0, partial.start)}${types[0]!.name}${m[2]}${m[2] === '' ? '' : ' '}`;
      }
    }
    const exact = words.find((w) => w.toLowerCase() === lower);
    const word = exact ?? (words.length === 1 ? words[0] : undefined);
    if (word === undefined) return null;
    return `${line.slice(0, partial.start)}${word} `;
  }

  /** The node reached by whole tokens (parameters included), or the error on the way. */
  private walk(root: GrammarNode, line: string, tokens: Token[]): { node: GrammarNode } | { error: ParseResult & { ok: false } } {
    if (tokens.length === 0) return { node: root };
    // Parsed in a view where every node is executable, so a prefix of a command is not "incomplete".
    const r = this.parse(markAllRunnable(root), line, tokens);
    if (r.ok) return { node: unmark(r.node) };
    return { error: r };
  }
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function paramLabel(p: ParamType): string {
  switch (p.t) {
    case 'ip':
    case 'mask':
    case 'wildcard':
      return 'A.B.C.D';
    case 'num':
      return `<${p.lo}-${p.hi}>`;
    case 'line':
      return 'LINE';
    case 'vlans':
      return 'WORD';
    default:
      return 'WORD';
  }
}

function isLabel(w: string): boolean {
  return /^[A-Z<]/.test(w) && w !== w.toLowerCase();
}

/** A view of a tree in which every node is executable; `unmark` maps back to the real node. */
const RUNNABLE = new WeakMap<GrammarNode, GrammarNode>();
const ORIGINAL = new WeakMap<GrammarNode, GrammarNode>();
const NOOP: Handler = () => {};

function markAllRunnable(node: GrammarNode): GrammarNode {
  let m = RUNNABLE.get(node);
  if (m) return m;
  m = { ...node, run: NOOP, children: [] };
  RUNNABLE.set(node, m);
  ORIGINAL.set(m, node);
  m.children = node.children.map(markAllRunnable);
  return m;
}

function unmark(node: GrammarNode): GrammarNode {
  return ORIGINAL.get(node) ?? node;
}
