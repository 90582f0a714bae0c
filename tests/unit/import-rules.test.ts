/**
 * The import rules of import-rules.json (README.md, Architecture) hold for every .ts and .vue file
 * of the folders it names: each import is read with the TypeScript parser, told apart as type-only
 * or runtime, resolved to a folder of the repository, a Node built-in or a package, and checked.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Rule {
  from: string;
  forbid?: string[];
  only?: string[];
  typesOnly?: string[];
  except?: string[];
  why: string;
}
interface Rules {
  scan: string[];
  rules: Rule[];
}

interface Import {
  /** As written in the source. */
  specifier: string;
  /** A repository path ('devices/wire/ipv4.ts'), 'node:fs' for a built-in, or a package name. */
  target: string;
  typeOnly: boolean;
  line: number;
}

const BUILTINS = new Set(builtinModules);

/** Where an import leads, in the terms the rules use. */
function resolveTarget(fromFile: string, specifier: string): string {
  if (specifier.startsWith('.')) return posix.normalize(posix.join(posix.dirname(fromFile), specifier));
  if (specifier.startsWith('node:') || BUILTINS.has(specifier.split('/')[0]!)) return `node:${specifier.replace(/^node:/, '')}`;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Every import and re-export of one source text, dynamic `import()` included. */
function importsOf(file: string, text: string): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Import[] = [];
  const add = (spec: ts.Expression | undefined, typeOnly: boolean, at: ts.Node) => {
    if (!spec || !ts.isStringLiteralLike(spec)) return;
    const line = source.getLineAndCharacterOfPosition(at.getStart(source)).line + 1;
    out.push({ specifier: spec.text, target: resolveTarget(file, spec.text), typeOnly, line });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      // `import { type A, type B }` is erased like `import type`; a default or namespace import is not.
      const allNamedAreTypes =
        !!clause && !clause.name && !!clause.namedBindings && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, !!clause && (clause.isTypeOnly || allNamedAreTypes), node);
    } else if (ts.isExportDeclaration(node)) {
      const clause = node.exportClause;
      const allNamedAreTypes = !!clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, node.isTypeOnly || allNamedAreTypes, node);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly, node);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false, node); // import('x') loads code at run time
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal as ts.Expression, true, node); // `import('x').T` in a type
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** The TypeScript of a file: a .vue file's <script> blocks, each at its own lines. */
function scriptOf(file: string, text: string): string {
  if (!file.endsWith('.vue')) return text;
  // Blank out everything but the scripts, keeping newlines so line numbers stay true.
  const blank = (part: string) => part.replace(/[^\n]/g, ' ');
  let out = '';
  let at = 0;
  for (const m of text.matchAll(/(<script\b[^>]*>)([\s\S]*?)<\/script>/g)) {
    const start = m.index! + m[1]!.length;
    out += blank(text.slice(at, start)) + m[2]!;
    at = start + m[2]!.length;
  }
  return out + blank(text.slice(at));
}

function matches(target: string, pattern: string): boolean {
  if (pattern === 'node:') return target.startsWith('node:');
  if (pattern.endsWith('/')) return target.startsWith(pattern);
  return target === pattern;
}

/** What is wrong with one import under one rule, or null. */
function breaks(rule: Rule, imp: Import): string | null {
  if (rule.except?.some((p) => matches(imp.target, p))) return null;
  if (rule.forbid?.some((p) => matches(imp.target, p))) return `may not import ${imp.specifier}`;
  if (rule.only && !rule.only.some((p) => matches(imp.target, p))) return `may import only ${rule.only.join(', ')}, not ${imp.specifier}`;
  if (!imp.typeOnly && rule.typesOnly?.some((p) => matches(imp.target, p))) return `may import ${imp.specifier} only as types (import type)`;
  return null;
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(join(ROOT, d), { withFileTypes: true })) {
      const rel = posix.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(rel);
      } else if (/\.(ts|vue)$/.test(e.name)) out.push(rel);
    }
  };
  walk(dir.replace(/\/$/, ''));
  return out;
}

const rules = JSON.parse(readFileSync(join(ROOT, 'import-rules.json'), 'utf8')) as Rules;

describe('import rules (import-rules.json)', () => {
  it('hold for every file of the folders they cover', () => {
    const problems: string[] = [];
    let scanned = 0;
    for (const dir of rules.scan) {
      for (const file of sourceFiles(dir)) {
        scanned++;
        const text = scriptOf(file, readFileSync(join(ROOT, file), 'utf8'));
        for (const imp of importsOf(file, text)) {
          for (const rule of rules.rules) {
            if (!file.startsWith(rule.from)) continue;
            const wrong = breaks(rule, imp);
            if (wrong) problems.push(`${file}:${imp.line}: ${wrong} (${rule.from}: ${rule.why})`);
          }
        }
      }
    }
    expect(scanned).toBeGreaterThan(100);
    expect(problems, `imports that break import-rules.json:\n${problems.join('\n')}`).toEqual([]);
  });

  it('tell type-only imports from runtime ones, dynamic import() included', () => {
    const text = [
      "import type { A } from '../server/a.js';",
      "import { type B, type C } from '../server/b.js';",
      "import { type D, E } from '../server/c.js';",
      "import F, { type G } from '../server/d.js';",
      "export type { H } from '../server/e.js';",
      "export { I } from '../server/f.js';",
      "import '../server/g.js';",
      "const m = await import('../server/h.js');",
      "let s: import('node:stream').Duplex;",
      "import { readFileSync } from 'fs';",
      "import z from 'zod/mini';",
    ].join('\n');
    const found = importsOf('devices/x.ts', text).map((i) => `${i.line} ${i.target} ${i.typeOnly ? 'type' : 'runtime'}`);
    expect(found).toEqual([
      '1 server/a.js type',
      '2 server/b.js type',
      '3 server/c.js runtime',
      '4 server/d.js runtime',
      '5 server/e.js type',
      '6 server/f.js runtime',
      '7 server/g.js runtime',
      '8 server/h.js runtime',
      '9 node:stream type',
      '10 node:fs runtime',
      '11 zod runtime',
    ]);
  });

  it('break on what each kind of rule forbids', () => {
    const at = (specifier: string, target: string, typeOnly: boolean) => ({ specifier, target, typeOnly, line: 1 });
    const [devices, wire, contract, client] = rules.rules;
    expect(breaks(devices!, at('node:fs', 'node:fs', true))).toMatch(/may not import/);
    expect(breaks(devices!, at('../../server/x.js', 'server/x.js', true))).toMatch(/may not import/);
    expect(breaks(wire!, at('../engine/x.js', 'devices/engine/x.js', true))).toMatch(/may not import/);
    expect(breaks(wire!, at('./ipv4.js', 'devices/wire/ipv4.js', false))).toBeNull();
    expect(breaks(contract!, at('express', 'express', false))).toMatch(/may import only/);
    expect(breaks(contract!, at('zod', 'zod', false))).toBeNull();
    expect(breaks(client!, at('../../../devices/engine/x.js', 'devices/engine/x.js', false))).toMatch(/only as types/);
    expect(breaks(client!, at('../../../devices/engine/x.js', 'devices/engine/x.js', true))).toBeNull();
    expect(breaks(client!, at('../../../devices/wire/x.js', 'devices/wire/x.js', false))).toBeNull();
  });
});
