/**
 * Layering rules, checked on the source: libraries never reach into the CLI, so they can be used
 * (and tested) without a terminal, and harness/ never reaches into scenarios/ (scenarios are built
 * on harness/runner; bin/podpath.ts and scripts/ hand the catalogue in). Test files are exempt:
 * they may drive a library through the CLI or play the seed scenarios.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

// Static `import ... from`, `export ... from`, side-effect `import '...'` and dynamic `import('...')`.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

/** The repo-relative paths a file imports (relative specifiers only; packages and node:* are not ours). */
export function importsOf(file: string, text = readFileSync(join(ROOT, file), 'utf8')): string[] {
  return [...text.matchAll(SPECIFIER)].map((m) => m[1]).filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)));
}

function violations(dirs: readonly string[], forbidden: string): string[] {
  return dirs.flatMap((dir) => sourceFiles(dir).flatMap((file) => importsOf(file).filter((i) => i === forbidden || i.startsWith(`${forbidden}/`)).map((i) => `${file} imports ${i}`)));
}

test('the import scan sees static, re-export, side-effect and dynamic imports', (t) => {
  const text = [
    "import { a } from '../cli/output.ts';",
    "export { b } from './local.ts';",
    "import './side-effect.ts';",
    "const m = await import('../../scenarios/index.ts');",
    "import { readFileSync } from 'node:fs';",
  ].join('\n');
  t.deepEqual(importsOf('harness/runner/x.ts', text), ['harness/cli/output.ts', 'harness/runner/local.ts', 'harness/runner/side-effect.ts', 'scenarios/index.ts']);
});

test('runner, cluster, kube and report never import the CLI', (t) => {
  t.deepEqual(violations(['harness/runner', 'harness/cluster', 'harness/kube', 'harness/report'], 'harness/cli'), []);
});

test('nothing under harness/ imports scenarios/: the catalogue is passed in, so there is no cycle', (t) => {
  t.deepEqual(violations(['harness'], 'scenarios'), []);
});

test('the entry point is what joins the CLI and the catalogue', (t) => {
  t.true(importsOf('bin/podpath.ts').includes('scenarios/index.ts'));
  t.true(importsOf('bin/podpath.ts').includes('harness/cli/main.ts'));
});
