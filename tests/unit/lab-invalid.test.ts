import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatLabError, loadLabText } from '../../devices/lab/index.js';

/**
 * Every broken lab in tests/fixtures/labs-invalid is refused with exactly the errors listed for
 * it in expected.json (file:line:column: field: message), and nothing else.
 */
const dir = fileURLToPath(new URL('../fixtures/labs-invalid/', import.meta.url));
const expected = JSON.parse(readFileSync(`${dir}expected.json`, 'utf8')) as Record<string, { folder?: string; errors: string[] }>;
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

describe('broken lab files', () => {
  it('has an expectation for every fixture, and a fixture for every expectation', () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
    expect(Object.keys(expected).sort()).toEqual(files);
  });

  for (const file of files) {
    it(`refuses ${file}`, () => {
      const want = expected[file]!;
      const result = loadLabText(readFileSync(dir + file, 'utf8'), 'lab.yaml', want.folder ? { folderName: want.folder } : {});
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.errors.map(formatLabError)).toEqual(want.errors);
    });
  }
});
