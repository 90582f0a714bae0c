/**
 * Big lab files load in bounded time (issues 15 and 16). Before: a flat mapping of 1 MiB of
 * unknown keys took 28 s (every error was located by a search through its mapping), a 16 MiB
 * one about 88 s, and nothing limited lab.yaml's size. Now a file past 8 MiB is refused at once
 * with file:line:column, at most 100 errors are reported, and a 20,000-hub lab loads well
 * within the bound (a generous one: only a stall breaks it). A one-node change formats only
 * that node, and gives the text a whole new format gives.
 */
import { describe, expect, it } from 'vitest';
import { MAX_LAB_FILE_CHARS, MAX_REPORTED_ERRORS, formatLabErrors, loadLabText } from '../../devices/lab/load.js';
import { validateLab } from '../../devices/lab/normalize.js';
import type { LabFile } from '../../devices/lab/schema.js';
import { formatLabFile, formatLabFileReusing } from '../../server/lab-yaml.js';

const BOUND_MS = 10_000;

function hubLab(n: number): string {
  const lines = ['wirelab: 1', 'name: big', '', 'nodes:'];
  for (let i = 0; i < n; i++) lines.push(`  hub${i}:`, '    kind: hub');
  return lines.join('\n') + '\n';
}

function flatMap(chars: number): string {
  const parts = ['wirelab: 1\nname: big\n'];
  let len = parts[0]!.length;
  for (let i = 0; len < chars; i++) {
    const line = `key${i}: value\n`;
    parts.push(line);
    len += line.length;
  }
  return parts.join('');
}

function timed<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

describe('big lab files', () => {
  it('loads a 20,000-hub lab', () => {
    const { value: r, ms } = timed(() => loadLabText(hubLab(20_000), 'big/lab.yaml', { folderName: 'big' }));
    if (!r.ok) throw new Error(formatLabErrors(r.errors));
    expect(Object.keys(r.lab.nodes)).toHaveLength(20_000);
    expect(r.lab.nodes['hub19999']?.interfaces).toHaveLength(4);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('refuses a 1 MiB mapping of unknown keys quickly, with at most 100 errors', () => {
    const { value: r, ms } = timed(() => loadLabText(flatMap(1 << 20), 'big/lab.yaml'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.length).toBe(MAX_REPORTED_ERRORS + 1);
    expect(formatLabErrors(r.errors.slice(0, 1))).toBe('big/lab.yaml:3:1: key0: unknown key "key0"; the keys here are wirelab, name, description, time, seed, networks, nodes, links, checks, snapshots, clone-of');
    expect(r.errors.at(-1)!.message).toMatch(/^and \d+ more errors not shown/);
    expect(ms).toBeLessThan(BOUND_MS);
  }, 60_000);

  it('locates the errors of a small file the same way (by the library) and of a big one in its text', () => {
    const small = loadLabText('wirelab: 1\nname: big\nnodes:\n  h1:\n    kind: hub\n    portz: 3\n', 'big/lab.yaml');
    expect(small.ok ? '' : formatLabErrors(small.errors)).toBe('big/lab.yaml:6:5: nodes.h1.portz: unknown key "portz"; did you mean ports?');
    const text = hubLab(50_000).replace('  hub49999:\n    kind: hub\n', '  hub49999:\n    kind: hub\n    portz: 3\n');
    expect(text.length).toBeGreaterThan(1 << 20);
    const big = loadLabText(text, 'big/lab.yaml');
    expect(big.ok ? '' : formatLabErrors(big.errors)).toBe('big/lab.yaml:100005:5: nodes.hub49999.portz: unknown key "portz"; did you mean ports?');
  });

  it('refuses a 16 MiB file at once, saying where the limit falls', () => {
    const { value: r, ms } = timed(() => loadLabText(flatMap(16 << 20), 'big/lab.yaml'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(1);
    expect(formatLabErrors(r.errors)).toMatch(/^big\/lab\.yaml:\d+:\d+: \(file\): the file is larger than 8 MiB \(16\.0 MiB\), the most a lab file may hold$/);
    expect(ms).toBeLessThan(1_000);
    expect(MAX_LAB_FILE_CHARS).toBe(8 << 20);
    const capped = loadLabText(hubLab(10), 'big/lab.yaml', { maxChars: 100 });
    expect(capped.ok ? '' : formatLabErrors(capped.errors)).toBe(`big/lab.yaml:11:6: (file): the file is larger than 100 bytes (${hubLab(10).length} bytes), the most a lab file may hold`);
  }, 60_000);

  it('formats a one-node change of a big lab as a whole new format does', () => {
    const r = loadLabText(hubLab(2_000), 'big/lab.yaml', { folderName: 'big' });
    if (!r.ok) throw new Error(formatLabErrors(r.errors));
    const first = formatLabFileReusing(r.lab.file, null);
    const file = structuredClone(r.lab.file) as LabFile;
    file.nodes!['hub7'] = { kind: 'hub', ports: 8, ui: { x: 1, y: 2 } };
    delete file.nodes!['hub8'];
    const v = validateLab(file, { folderName: 'big' });
    if (!v.ok) throw new Error('invalid');
    const again = formatLabFileReusing(v.lab.file, first);
    expect(again.text).toBe(formatLabFile(v.lab.file));
    expect(again.text).toContain('  hub7:\n    kind: hub\n    ports: 8\n    ui: { x: 1, y: 2 }\n  hub9:\n');
    expect(again.entries.get('nodes\u0000hub1')).toBe(first.entries.get('nodes\u0000hub1'));
  });
});
