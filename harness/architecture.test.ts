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

function sourceFiles(dir: string, withTests = false): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && (withTests || !e.name.endsWith('.test.ts')))
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

// A cast through unknown to a kube client hides a stand-in that no longer matches KubeApi; implement the interface instead.
const KUBE_CAST = /\bas\s+unknown\s+as\s+(?:KubeClient|KubeApi)\b/;

export function kubeCasts(file: string, text: string): string[] {
  return text.split('\n').flatMap((line, i) => (KUBE_CAST.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : []));
}

test('the cast scan sees a cast to KubeClient or KubeApi and nothing else', (t) => {
  t.deepEqual(kubeCasts('x.ts', 'ok\n  kube: async () => fake as unknown as KubeClient,\nconst a = b as unknown as KubeApi;\nconst w = watch as unknown as { t: 1 };'), [
    'x.ts:2: kube: async () => fake as unknown as KubeClient,',
    'x.ts:3: const a = b as unknown as KubeApi;',
  ]);
});

test('no code or test casts a stand-in to KubeClient: KubeClient, PlanKube and FakeKube implement KubeApi', (t) => {
  const files = ['bin', 'harness', 'scenarios', 'scripts', 'bench'].flatMap((dir) => sourceFiles(dir, true)).filter((f) => f !== 'harness/architecture.test.ts');
  t.deepEqual(files.flatMap((f) => kubeCasts(f, readFileSync(join(ROOT, f), 'utf8'))), []);
});
