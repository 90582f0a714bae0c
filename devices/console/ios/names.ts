/**
 * Interface names: lab.yaml's short ones (`g0/1`, `g0/1.20`, `e3`) and IOS's (`GigabitEthernet0/1`
 * in running-config and `show ip interface brief`, `Gi0/1` in narrow tables). A user may type any
 * unambiguous prefix of the type (`g`, `gi`, `gig`, `GigabitEthernet`), with or without a space
 * before the number.
 */
import type { IfaceResolver } from './grammar.js';

const TYPES: { prefixes: string[]; long: string; short: string; help: string }[] = [
  { prefixes: ['g', 'gi', 'gig', 'ge'], long: 'GigabitEthernet', short: 'Gi', help: 'GigabitEthernet IEEE 802.3z' },
  { prefixes: ['f', 'fa'], long: 'FastEthernet', short: 'Fa', help: 'FastEthernet IEEE 802.3' },
  { prefixes: ['te', 'ten'], long: 'TenGigabitEthernet', short: 'Te', help: 'Ten Gigabit Ethernet' },
  { prefixes: ['e', 'et', 'eth'], long: 'Ethernet', short: 'Et', help: 'IEEE 802.3' },
  { prefixes: ['s', 'se'], long: 'Serial', short: 'Se', help: 'Serial' },
];

/** Splits `g0/1.20` into its type letters and its number. */
export function splitName(model: string): { prefix: string; number: string } {
  const m = /^([a-z-]+)(.*)$/.exec(model);
  return m ? { prefix: m[1]!, number: m[2]! } : { prefix: model, number: '' };
}

function typeOf(prefix: string): { long: string; short: string; help: string } {
  const t = TYPES.find((x) => x.prefixes.includes(prefix) || x.long.toLowerCase() === prefix);
  if (t) return t;
  const cap = prefix.charAt(0).toUpperCase() + prefix.slice(1);
  return { long: cap, short: cap.slice(0, 2), help: cap };
}

/** `g0/1` -> `GigabitEthernet0/1`. */
export function longName(model: string): string {
  const { prefix, number } = splitName(model);
  return typeOf(prefix).long + number;
}

/** `g0/1` -> `Gi0/1`. */
export function shortName(model: string): string {
  const { prefix, number } = splitName(model);
  return typeOf(prefix).short + number;
}

/**
 * Resolves typed names against a device's interfaces. `allowNewSubinterface` lets `g0/1.30`
 * name a sub-interface that does not exist yet when g0/1 does (`interface g0/1.30` creates it).
 */
export class DeviceIfaces implements IfaceResolver {
  constructor(
    private readonly names: () => readonly string[],
    private readonly allowNewSubinterface: () => boolean = () => false,
  ) {}

  types(): { name: string; help: string }[] {
    const seen = new Map<string, string>();
    for (const n of this.names()) {
      const t = typeOf(splitName(n).prefix);
      seen.set(t.long, t.help);
    }
    return [...seen].map(([name, help]) => ({ name, help }));
  }

  resolve(typeWord: string, number: string | null): { ok: true; name: string } | { ok: false; at: number } {
    const word = typeWord.toLowerCase();
    const names = this.names();
    // The model prefixes whose long name (or the prefix itself) the typed word abbreviates.
    const prefixes = new Set<string>();
    const seen = new Set<string>();
    let best = 0;
    for (const n of names) {
      const prefix = prefixOf(n);
      if (seen.has(prefix)) continue;
      seen.add(prefix);
      const t = typeOf(prefix);
      if (t.long.toLowerCase().startsWith(word) || prefix === word || TYPES.find((x) => x.long === t.long)?.prefixes.includes(word)) prefixes.add(prefix);
      else best = Math.max(best, commonPrefix(t.long.toLowerCase(), word));
    }
    if (prefixes.size === 0) return { ok: false, at: best };
    const longs = new Set([...prefixes].map((p) => typeOf(p).long));
    if (longs.size > 1) return { ok: false, at: word.length };
    if (number === null) return { ok: false, at: typeWord.length };
    const num = number.trim();
    const all = new Set(names);
    for (const p of prefixes) {
      const candidate = p + num;
      if (all.has(candidate)) return { ok: true, name: candidate };
      const dot = candidate.indexOf('.');
      if (dot > 0 && all.has(candidate.slice(0, dot)) && /^\.[1-9]\d{0,9}$/.test(candidate.slice(dot)) && this.allowNewSubinterface()) {
        return { ok: true, name: candidate };
      }
    }
    // Point at the first character of the number that names nothing.
    let at = 0;
    for (const p of prefixes) {
      for (const n of names) if (n.startsWith(p)) at = Math.max(at, commonPrefix(n.slice(p.length), num));
    }
    return { ok: false, at: typeWord.length + Math.min(at, num.length) };
  }
}

/** The type letters of a name (`g` of `g0/1.20`). */
function prefixOf(name: string): string {
  let i = 0;
  while (i < name.length) {
    const c = name.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || c === 45)) break;
    i++;
  }
  return name.slice(0, i);
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
