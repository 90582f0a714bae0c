/**
 * The plain-YAML reader against the `yaml` library: whatever it accepts, it must read exactly as
 * parseDocument(...).toJS() does, on a document the library reads without an error or warning;
 * everything else it must refuse, so that the loader falls back on the library.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument, stringify } from 'yaml';
import { readPlainYaml } from '../../devices/lab/plain-yaml.js';
import { labFileToYaml, loadLabText } from '../../devices/lab/load.js';
import { campusLab, flatLab } from '../bench/devices.bench.js';

function library(text: string): { clean: boolean; value: unknown } {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const clean = doc.errors.length === 0 && doc.warnings.length === 0;
  return { clean, value: clean ? doc.toJS({ maxAliasCount: 100 }) : undefined };
}

/** The property every text must have; returns whether the reader took it. */
function agrees(text: string): boolean {
  const plain = readPlainYaml(text);
  if (plain === null) return false;
  const lib = library(text);
  expect(lib.clean, `accepted a document the library refuses:\n${text}`).toBe(true);
  expect(plain.value, `read differently:\n${text}`).toStrictEqual(lib.value);
  return true;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = `${dir}/${e}`;
    return statSync(p).isDirectory() ? yamlFiles(p) : p.endsWith('.yaml') ? [p] : [];
  });
}

describe('plain YAML reader', () => {
  it('reads the lab files the server and the benches write, and agrees on every lab file of the repository', () => {
    expect(agrees(labFileToYaml(flatLab('flat', 50)))).toBe(true);
    expect(agrees(labFileToYaml(campusLab(3, 4)))).toBe(true);
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const files = [...yamlFiles(`${root}labs`), ...yamlFiles(`${root}tests/fixtures`)];
    expect(files.length).toBeGreaterThan(50);
    const taken = files.filter((f) => agrees(readFileSync(f, 'utf8')));
    expect(taken.length).toBeGreaterThan(20);
  });

  it('reads what a person writes by hand: comments, flow collections, quotes, compact sequences', () => {
    const text = [
      '# a lab',
      'wirelab: 1',
      'name: office   # the folder',
      'nodes:',
      '  pc1: { kind: host, interfaces: { eth0: { ip: dhcp } }, ui: { x: 100, y: -3.5 } }',
      '  "sw 1":',
      '    kind: switch',
      '',
      '    interfaces:',
      "      e7: { mode: trunk, allowed: [10, 20], native: 1 }",
      '  r1:',
      '    routes:',
      '    - { to: 0.0.0.0/0, via: 192.168.145.2 }',
      '    -   to: 10.0.0.0/8',
      '        via: 10.1.0.1',
      '    nat:',
      'links:',
      '  - [pc1:eth0, "sw 1:e1"]',
      "  - { endpoints: ['a:b', c:d], delay: 5ms, loss: 0.5% }",
      '  - - x',
      '    - - y',
      '      - ~',
      'checks:',
      '  - name: "tab\\t, quote \\" and \\u00e9"',
      "    http: { from: pc2, url: 'http://10.1.0.10/it''s', contains: a#b }",
      '  -',
      '  - pingall:',
      'numbers: [0o17, 0x1F, +12, -0, 1e3, .5, 5., .inf, -.Inf, .NaN, 1_000, 017, 3.0]',
      'words: [true, False, NULL, ~, yes, no, on, "1"]',
      'empty: { a: [], b: {} }',
    ].join('\n');
    expect(agrees(text)).toBe(true);
    expect(readPlainYaml(text)!.value).toMatchObject({ name: 'office', nodes: { 'sw 1': { kind: 'switch' }, r1: { nat: null } }, checks: [{ name: 'tab\t, quote " and é' }, null, { pingall: null }] });
  });

  it('refuses what it does not read, so that the library reads it', () => {
    const refused = [
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      'a: |\n  text\n',
      'a: >\n  text\n',
      'a: one\n  two\n',
      'a: "one\n  two"\n',
      'a: [1,\n  2]\n',
      '? a\n: 1\n',
      '%YAML 1.2\n---\na: 1\n',
      '---\na: 1\n',
      'a: 1\n...\n',
      'a:\tb\n',
      'a: 1\r\nb: 2\r\n',
      'a: 1\na: 2\n',
      'a: 1\n"a": 2\n',
      'x: { a: 1, a: 2 }\n',
      '<<: { a: 1 }\n',
      '__proto__: 1\n',
      'a: b: c\n',
      'a: - b\n',
      '- a\n- b\n',
      'a: [1, 2,]\n',
      'a: {"b":1}\n',
      'a: [b: 1]\n',
      'a: "x"y\n',
      'a: "\\q"\n',
      ' a: 1\n',
      '',
      '# only a comment\n',
    ];
    for (const text of refused) expect(readPlainYaml(text), JSON.stringify(text)).toBeNull();
  });

  it('agrees with the library on generated documents, and on mangled ones', () => {
    const key = fc.oneof(fc.constantFrom('a', 'b', 'kind', 'e0', 'g0/1.20', '1', 'true', '~', 'x y', 'a:b', '#c', "it's", '"q"', '-', '-1', '0x1F', '1.0', ' s'), fc.string({ maxLength: 6 }));
    const scalar = fc.oneof(
      fc.constantFrom('dhcp', '10.1.0.10/24', 'pc1:eth0', '5ms', '0.5%', 'a # b', 'a#b', 'null', 'True', '0o17', '.5', '1e3', '-', '- x', ': x', '[x]', '{y}', "'", '"', '\\', 'é', '', ' x ', 'x: y'),
      fc.string({ maxLength: 8 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, scalar, tie('list'), tie('map')),
      list: fc.array(tie('node'), { maxLength: 4 }),
      map: fc.dictionary(key, tie('node'), { maxKeys: 4 }),
    })).map;
    const options = fc.record({
      indent: fc.constantFrom(2, 4),
      indentSeq: fc.boolean(),
      flowLevel: fc.constantFrom(0, 1, 2, 3),
      defaultStringType: fc.constantFrom('PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE'),
      lineWidth: fc.constantFrom(0, 20),
    }) as fc.Arbitrary<Parameters<typeof stringify>[2] & object>;
    let taken = 0;
    fc.assert(
      fc.property(value, options, (v, o) => {
        if (agrees(stringify(v, o))) taken++;
      }),
      { numRuns: 1500, seed: 20260101 },
    );
    expect(taken).toBeGreaterThan(500);
    const edit = fc.record({ at: fc.nat(), cut: fc.nat({ max: 3 }), put: fc.constantFrom('', ' ', '  ', ':', ': ', '-', '- ', '#', ' #', "'", '"', '[', ']', '{', '}', ',', '\n', '\n  ', '?', '&', '*', '!', '|', '>', '\\', 'x', '1', '.') });
    fc.assert(
      fc.property(value, options, fc.array(edit, { minLength: 1, maxLength: 3 }), (v, o, edits) => {
        let text = stringify(v, o);
        for (const e of edits) {
          const at = text.length === 0 ? 0 : e.at % text.length;
          text = text.slice(0, at) + e.put + text.slice(at + e.cut);
        }
        agrees(text);
      }),
      { numRuns: 3000, seed: 20260102 },
    );
  });

  it('is what the loader reads big files with: the same lab, and the same errors when there are some', () => {
    const text = labFileToYaml(flatLab('flat', 200));
    const r = loadLabText(text, 'flat/lab.yaml', { folderName: 'flat' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.document.toJS()).toStrictEqual(library(text).value);
    const broken = text.replace('ip: 10.0.0.17/16', 'ip: 10.0.0.300/16').replace('sw1:e3\n', 'sw9:e3\n');
    const b = loadLabText(broken, 'flat/lab.yaml', { folderName: 'flat' });
    expect(b.ok).toBe(false);
    if (b.ok) return;
    expect(b.errors.map((e) => `${e.line}:${e.column}: ${e.field}: ${e.message}`)).toEqual([
      expect.stringMatching(/^\d+:13: nodes\.h7\.interfaces\.eth0\.ip: "10\.0\.0\.300\/16": /),
      expect.stringMatching(/^\d+:7: links\[3\]\[1\]: no node named "sw9"/),
    ]);
  });
});
