/**
 * The trace panel's display filter: a small subset of Wireshark's display filter language.
 *
 *   icmp                      protocol names: eth vlan ieee8021ad llc stp arp ip icmp udp tcp dhcp dns malformed
 *   ip.addr == 10.0.0.1       ip.addr / ip.src / ip.dst, with an address or a subnet (10.0.0.0/24)
 *   udp.port == 53            udp.port / udp.srcport / udp.dstport, same for tcp
 *   eth.addr == 02:00:...     eth.addr / eth.src / eth.dst
 *   vlan.id == 10, ieee8021ad.id == 100, frame.len > 100, ip.ttl < 5
 *   link contains "sw1"       link and info are text: == or contains
 *   a && b, a || b, !a, (a), and/or/not
 *
 * `x != v` means "not (x == v)" for every field, as Wireshark 4 reads it, so `ip.addr != 10.0.0.1`
 * hides every frame from or to that address. Fields are those of the frame's own headers:
 * unlike Wireshark, addresses and ports quoted inside an ICMP error do not match, and an IP
 * fragment is only `ip` (the decoder does not look into fragments). Compiling gives a predicate over trace records, or
 * an error with the position it was found at.
 */
import { parseIp4OrPrefix } from '../../../devices/wire/bytes.js';
import { P, type StoredRecord } from './records.js';

export type Predicate = (r: StoredRecord) => boolean;
export type CompiledFilter = { ok: true; test: Predicate | null } | { ok: false; error: string; at: number };

const PROTOCOL_BITS: Record<string, number> = {
  eth: P.eth,
  ethernet: P.eth,
  vlan: P.vlan,
  '802.1q': P.vlan,
  ieee8021ad: P.qinq,
  llc: P.llc,
  stp: P.stp,
  arp: P.arp,
  ip: P.ip,
  ipv4: P.ip,
  icmp: P.icmp,
  udp: P.udp,
  tcp: P.tcp,
  dhcp: P.dhcp,
  bootp: P.dhcp,
  dns: P.dns,
  malformed: P.malformed,
};
export const FILTER_PROTOCOLS = Object.keys(PROTOCOL_BITS);

type Kind = 'ip' | 'mac' | 'number' | 'text';
interface FieldDef {
  kind: Kind;
  /** The field's values in the record (a frame has two addresses, two ports...); absent ones left out. */
  values: (r: StoredRecord) => (string | number)[];
}

const nums = (...vs: number[]) => vs.filter((v) => v >= 0);
const strs = (...vs: string[]) => vs.filter((v) => v !== '');

export const FILTER_FIELDS: Record<string, FieldDef> = {
  'ip.addr': { kind: 'ip', values: (r) => nums(r.ipSrc, r.ipDst) },
  'ip.src': { kind: 'ip', values: (r) => nums(r.ipSrc) },
  'ip.dst': { kind: 'ip', values: (r) => nums(r.ipDst) },
  'ip.ttl': { kind: 'number', values: (r) => nums(r.ipTtl) },
  'ip.proto': { kind: 'number', values: (r) => nums(r.ipProto) },
  'eth.addr': { kind: 'mac', values: (r) => strs(r.ethSrc, r.ethDst) },
  'eth.src': { kind: 'mac', values: (r) => strs(r.ethSrc) },
  'eth.dst': { kind: 'mac', values: (r) => strs(r.ethDst) },
  'arp.addr': { kind: 'ip', values: (r) => nums(r.arpSrc, r.arpDst) },
  'udp.port': { kind: 'number', values: (r) => nums(r.udpSrc, r.udpDst) },
  'udp.srcport': { kind: 'number', values: (r) => nums(r.udpSrc) },
  'udp.dstport': { kind: 'number', values: (r) => nums(r.udpDst) },
  'tcp.port': { kind: 'number', values: (r) => nums(r.tcpSrc, r.tcpDst) },
  'tcp.srcport': { kind: 'number', values: (r) => nums(r.tcpSrc) },
  'tcp.dstport': { kind: 'number', values: (r) => nums(r.tcpDst) },
  'icmp.type': { kind: 'number', values: (r) => nums(r.icmpType) },
  'vlan.id': { kind: 'number', values: (r) => nums(r.vlan, r.vlanInner) },
  'ieee8021ad.id': { kind: 'number', values: (r) => nums(r.serviceVlan) },
  'frame.len': { kind: 'number', values: (r) => [r.length] },
  link: { kind: 'text', values: (r) => [r.link] },
  info: { kind: 'text', values: (r) => [r.info] },
  protocol: { kind: 'text', values: (r) => [r.protocol] },
};

// ---------------------------------------------------------------- tokens

type TokType = 'word' | 'string' | 'op' | 'lparen' | 'rparen' | 'and' | 'or' | 'not' | 'end';
interface Tok {
  type: TokType;
  text: string;
  at: number;
}

class FilterSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const OPS: Record<string, string> = { '==': '==', '!=': '!=', '>=': '>=', '<=': '<=', '>': '>', '<': '<', eq: '==', ne: '!=', ge: '>=', le: '<=', gt: '>', lt: '<', contains: 'contains' };

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
      continue;
    }
    const two = s.slice(i, i + 2);
    if (two === '&&') out.push({ type: 'and', text: two, at: i }), (i += 2);
    else if (two === '||') out.push({ type: 'or', text: two, at: i }), (i += 2);
    else if (two === '==' || two === '!=' || two === '>=' || two === '<=') out.push({ type: 'op', text: two, at: i }), (i += 2);
    else if (c === '>' || c === '<') out.push({ type: 'op', text: c, at: i }), i++;
    else if (c === '!') out.push({ type: 'not', text: c, at: i }), i++;
    else if (c === '(') out.push({ type: 'lparen', text: c, at: i }), i++;
    else if (c === ')') out.push({ type: 'rparen', text: c, at: i }), i++;
    else if (c === '"') {
      let j = i + 1;
      let text = '';
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\' && j + 1 < s.length) j++;
        text += s[j];
        j++;
      }
      if (j >= s.length) throw new FilterSyntaxError('this quoted text has no closing "', i);
      out.push({ type: 'string', text, at: i });
      i = j + 1;
    } else if (/[A-Za-z0-9_.:/\-]/.test(c)) {
      let j = i;
      while (j < s.length && /[A-Za-z0-9_.:/\-]/.test(s[j]!)) j++;
      const text = s.slice(i, j);
      const lower = text.toLowerCase();
      if (lower === 'and') out.push({ type: 'and', text, at: i });
      else if (lower === 'or') out.push({ type: 'or', text, at: i });
      else if (lower === 'not') out.push({ type: 'not', text, at: i });
      else if (lower in OPS && lower.length > 1 && !/[.:/]/.test(lower)) out.push({ type: 'op', text: lower, at: i });
      else out.push({ type: 'word', text, at: i });
      i = j;
    } else throw new FilterSyntaxError(`unexpected character ${JSON.stringify(c)}`, i);
  }
  out.push({ type: 'end', text: '', at: s.length });
  return out;
}

// ---------------------------------------------------------------- values

/** `02:00:5e:00:00:01`, `02-00-5E-00-00-01` or `0200.5e00.0001`, as lower-case colon form. */
export function normalizeMac(s: string): string | null {
  const hex = s.toLowerCase().replace(/[:.-]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) return null;
  if (!/^([0-9a-f]{2}([:-])){5}[0-9a-f]{2}$/i.test(s) && !/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i.test(s)) return null;
  return hex.match(/../g)!.join(':');
}

type Matcher = (v: string | number) => boolean;

function valueMatcher(name: string, def: FieldDef, op: string, tok: Tok): Matcher {
  const text = tok.text;
  const bad = (what: string) => new FilterSyntaxError(`${name} takes ${what}, not ${JSON.stringify(text)}`, tok.at);
  if (op === 'contains') {
    if (def.kind !== 'text') throw new FilterSyntaxError(`contains works on text fields (link, info, protocol), not ${name}`, tok.at);
    const needle = text.toLowerCase();
    return (v) => String(v).toLowerCase().includes(needle);
  }
  switch (def.kind) {
    case 'ip': {
      const subnet = parseIp4OrPrefix(text);
      if (subnet === null) throw bad('an IPv4 address or subnet (10.0.0.1, 10.0.0.0/24)');
      if (op !== '==') throw new FilterSyntaxError(`${name} compares with == or !=`, tok.at);
      const size = 2 ** (32 - subnet.prefix);
      const base = Math.floor(subnet.ip / size) * size;
      return (v) => typeof v === 'number' && v >= base && v < base + size;
    }
    case 'mac': {
      const mac = normalizeMac(text);
      if (mac === null) throw bad('a MAC address (02:00:5e:00:00:01)');
      if (op !== '==') throw new FilterSyntaxError(`${name} compares with == or !=`, tok.at);
      return (v) => String(v).toLowerCase() === mac;
    }
    case 'number': {
      if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) throw bad('a number');
      const n = Number(text);
      const num = (v: string | number) => (typeof v === 'number' ? v : Number(v));
      if (op === '==') return (v) => num(v) === n;
      if (op === '>') return (v) => num(v) > n;
      if (op === '<') return (v) => num(v) < n;
      if (op === '>=') return (v) => num(v) >= n;
      return (v) => num(v) <= n;
    }
    case 'text': {
      if (op !== '==') throw new FilterSyntaxError(`${name} compares with == or contains`, tok.at);
      return (v) => String(v) === text;
    }
  }
}

// ---------------------------------------------------------------- parser

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok {
    return this.toks[this.i]!;
  }
  private take(): Tok {
    return this.toks[this.i++]!;
  }

  parse(): Predicate {
    const p = this.or();
    const t = this.peek();
    if (t.type !== 'end') throw new FilterSyntaxError(t.type === 'rparen' ? 'this ) has no matching (' : `expected && or || before ${JSON.stringify(t.text)}`, t.at);
    return p;
  }

  private or(): Predicate {
    let left = this.and();
    while (this.peek().type === 'or') {
      this.take();
      const l = left;
      const r = this.and();
      left = (rec) => l(rec) || r(rec);
    }
    return left;
  }

  private and(): Predicate {
    let left = this.not();
    while (this.peek().type === 'and') {
      this.take();
      const l = left;
      const r = this.not();
      left = (rec) => l(rec) && r(rec);
    }
    return left;
  }

  private not(): Predicate {
    if (this.peek().type === 'not') {
      this.take();
      const inner = this.not();
      return (rec) => !inner(rec);
    }
    return this.primary();
  }

  private primary(): Predicate {
    const t = this.take();
    if (t.type === 'lparen') {
      const inner = this.or();
      const close = this.take();
      if (close.type !== 'rparen') throw new FilterSyntaxError('expected ) to close the (', close.at);
      return inner;
    }
    if (t.type === 'end') throw new FilterSyntaxError('the filter ends where a protocol or field was expected', t.at);
    if (t.type !== 'word') throw new FilterSyntaxError(`expected a protocol or field, not ${JSON.stringify(t.text)}`, t.at);
    const name = t.text.toLowerCase();
    const def = FILTER_FIELDS[name];
    if (this.peek().type === 'op') {
      if (!def) throw new FilterSyntaxError(unknownName(t.text, true), t.at);
      const op = OPS[this.take().text]!;
      const v = this.take();
      if (v.type !== 'word' && v.type !== 'string') throw new FilterSyntaxError(`expected a value after ${op}`, v.at);
      const negate = op === '!=';
      const m = valueMatcher(name, def, negate ? '==' : op, v);
      const values = def.values;
      const any: Predicate = (rec) => {
        const vs = values(rec);
        for (let i = 0; i < vs.length; i++) if (m(vs[i]!)) return true;
        return false;
      };
      return negate ? (rec) => !any(rec) : any;
    }
    const bit = PROTOCOL_BITS[name];
    if (bit !== undefined) return (rec) => (rec.protocols & bit) !== 0;
    if (def) return (rec) => def.values(rec).length > 0;
    throw new FilterSyntaxError(unknownName(t.text, false), t.at);
  }
}

function unknownName(text: string, withOp: boolean): string {
  if (withOp && PROTOCOL_BITS[text.toLowerCase()] !== undefined) return `${text} is a protocol; compare one of its fields (${Object.keys(FILTER_FIELDS).filter((f) => f.startsWith(text.toLowerCase() + '.')).join(', ') || 'none'})`;
  return `unknown protocol or field ${JSON.stringify(text)}; protocols: ${FILTER_PROTOCOLS.join(' ')}; fields: ${Object.keys(FILTER_FIELDS).join(' ')}`;
}

export function compileFilter(text: string): CompiledFilter {
  if (text.trim() === '') return { ok: true, test: null };
  try {
    return { ok: true, test: new Parser(tokenize(text)).parse() };
  } catch (e) {
    if (e instanceof FilterSyntaxError) return { ok: false, error: e.message, at: e.at };
    throw e;
  }
}
