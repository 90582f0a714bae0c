/**
 * Hostile but small lab files: each is an ordinary lab-file error at file:line:column, never a
 * thrown exception or a silently dropped part.
 */
import { describe, expect, test } from 'vitest';
import { MAX_NESTING, formatLabErrors, loadLabText } from '../../devices/lab/load.js';

describe('__proto__ and other built-in names', () => {
  test('a __proto__ node in lab.yaml is refused where it is', () => {
    const r = loadLabText('wirelab: 1\nname: p\nnodes:\n  pc1:\n    kind: host\n  __proto__:\n    kind: host\n', 'lab.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatLabErrors(r.errors)).toContain('lab.yaml:6:3: nodes.__proto__: "__proto__" cannot be a name');
  });

  test('a __proto__ key in JSON data is refused', () => {
    const r = loadLabText('{"wirelab": 1, "name": "p", "networks": {"__proto__": {"type": "segment"}}}', 'lab.yaml');
    expect(r.ok).toBe(false);
  });

  test('nodes named constructor and valueOf load, and missing ones stay missing', () => {
    const r = loadLabText('wirelab: 1\nname: p\nnodes:\n  constructor:\n    kind: host\n  valueOf:\n    kind: switch\n', 'lab.yaml');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Object.keys(r.lab.nodes).sort()).toEqual(['constructor', 'valueOf']);
    expect(r.lab.nodes['toString']).toBeUndefined();
    expect(r.lab.networks['hasOwnProperty']).toBeUndefined();
    expect(r.lab.file.nodes?.['toString']).toBeUndefined();
  });

  test('an interface naming an access list `constructor` that is not defined is an error', () => {
    const r = loadLabText('wirelab: 1\nname: p\nnodes:\n  r1:\n    kind: router\n    interfaces:\n      g0/0:\n        acl-in: constructor\n', 'lab.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatLabErrors(r.errors)).toContain('no access list named "constructor"');
  });
});

describe('deep nesting', () => {
  const head = 'wirelab: 1\nname: p\n';
  const cases: [string, string, string][] = [
    ['5,000 [ then 5,000 ]', head + 'description: ' + '['.repeat(5000) + ']'.repeat(5000) + '\n', 'lab.yaml:3:'],
    ['5,000 unclosed {', head + 'nodes: ' + '{a: '.repeat(5000) + '\n', 'lab.yaml:3:'],
    ['a flow sequence over many lines', head + 'description: [\n' + '[\n'.repeat(5000) + ']\n'.repeat(5001), 'lab.yaml:'],
    ['3,000 indented block levels', head + 'description:\n' + Array.from({ length: 3000 }, (_, i) => ' '.repeat(i * 2) + '- ').join('\n') + '\n', 'lab.yaml:'],
    ['3,000 compact sequences on one line', head + 'description:\n  ' + '- '.repeat(3000) + 'x\n', 'lab.yaml:4:'],
  ];
  for (const [what, text, where] of cases) {
    test(`${what}: a lab-file error at its line and column, not a RangeError`, () => {
      const r = loadLabText(text, 'lab.yaml');
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const shown = formatLabErrors(r.errors);
      expect(shown.startsWith(where), shown).toBe(true);
      expect(shown).toContain(`nested more than ${MAX_NESTING} levels deep`);
    });
  }

  test('nesting below the limit is read and judged as usual', () => {
    const r = loadLabText(head + 'description: ' + '['.repeat(200) + ']'.repeat(200) + '\n', 'lab.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatLabErrors(r.errors)).toBe('lab.yaml:3:14: description: expected text, got a list');
  });
});
