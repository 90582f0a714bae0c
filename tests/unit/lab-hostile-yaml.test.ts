/**
 * Hostile but small lab files: each is an ordinary lab-file error at file:line:column, never a
 * thrown exception or a silently dropped part.
 */
import { describe, expect, test } from 'vitest';
import { formatLabErrors, loadLabText } from '../../devices/lab/load.js';

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
