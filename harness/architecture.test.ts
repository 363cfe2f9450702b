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
import { AGENT_FILES } from '../manifests/topology.ts';

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

test('the client-node wrapper does not load the bed\'s manifests: harness/manifests does, on top of it', (t) => {
  t.deepEqual([...violations(['harness/kube'], 'harness/manifests'), ...violations(['harness/kube'], 'manifests')], []);
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

// --- The file that ships into pods ---------------------------------------------------------------
// Pods have no node_modules and no package.json: the agent runs from its ConfigMap, which holds the
// agent and exactly the files it imports. Host code uses the probe contract, never the agent itself.

const AGENT = 'harness/workload/agent.ts';
// Static and re-export `from`, side-effect `import '...'`, dynamic `import('...')` and `require('...')`.
const ANY_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+|\brequire\s*\(\s*)['"`]([^'"`]+)['"`]/gm;
const COMPUTED_IMPORT = /\bimport\s*\(\s*[^'"`\s)]|\brequire\s*\(\s*[^'"`\s)]/;

/** Every specifier a file names, and whether it also imports something computed (which no scan can follow). */
export function specifiersOf(text: string): { specifiers: string[]; computed: boolean } {
  // Comment lines can name imports in prose; only code lines count.
  const code = text.split('\n').filter((line) => !/^\s*(?:\/\/|\/\*|\*)/.test(line)).join('\n');
  return { specifiers: [...code.matchAll(ANY_SPECIFIER)].map((m) => m[1]), computed: COMPUTED_IMPORT.test(code) };
}

const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, string> };

/** The repo path a specifier names (relative, or this package by name through its exports), else null (node:* or a dependency). */
export function resolveSpecifier(file: string, specifier: string): string | null {
  if (specifier.startsWith('.')) return relative(ROOT, resolve(ROOT, dirname(file), specifier));
  if (specifier === PACKAGE.name || specifier.startsWith(`${PACKAGE.name}/`)) {
    const target = PACKAGE.exports[`.${specifier.slice(PACKAGE.name.length)}`];
    return target ? relative(ROOT, resolve(ROOT, target)) : null;
  }
  return null;
}

/** The files `entry` loads, transitively, and every specifier on the way that is not node:* nor one of them. */
export function importClosure(entry: string, read: (file: string) => string): { files: string[]; foreign: string[] } {
  const files = new Set<string>([entry]);
  const foreign: string[] = [];
  for (const file of files) {
    const { specifiers, computed } = specifiersOf(read(file));
    if (computed) foreign.push(`${file}: a computed import()`);
    for (const specifier of specifiers) {
      if (specifier.startsWith('node:')) continue;
      const target = specifier.startsWith('.') ? resolveSpecifier(file, specifier) : null;
      if (target === null) foreign.push(`${file}: ${specifier}`);
      else files.add(target);
    }
  }
  return { files: [...files].sort(), foreign };
}

const readRepo = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

test('the closure scan follows relative imports and reports packages, bare builtins and computed imports', (t) => {
  const tree: Record<string, string> = {
    'harness/workload/agent.ts': "import net from 'node:net';\nimport { a } from '../probe/contract.ts';\n// import x from 'yaml';\n/* import y from 'execa'; */",
    'harness/probe/contract.ts': "export { b } from './b.ts';\nimport 'fs';\nconst m = await import(name);",
    'harness/probe/b.ts': "const y = require('yaml');\nconst z = await import('node:os');",
  };
  t.deepEqual(importClosure('harness/workload/agent.ts', (f) => tree[f]), {
    files: ['harness/probe/b.ts', 'harness/probe/contract.ts', 'harness/workload/agent.ts'],
    foreign: ['harness/probe/contract.ts: a computed import()', 'harness/probe/contract.ts: fs', 'harness/probe/b.ts: yaml'],
  });
  t.is(resolveSpecifier('harness/index.test.ts', 'podpath/agent'), AGENT, 'the package subpath is the agent too');
});

test('the agent\'s import closure needs only node:* (pods have no node_modules)', (t) => {
  const { files, foreign } = importClosure(AGENT, readRepo);
  t.deepEqual(foreign, []);
  t.true(files.includes('harness/probe/contract.ts'), 'the agent is built from the probe contract');
});

test('the agent ConfigMap ships exactly the agent\'s import closure', (t) => {
  const shipped = AGENT_FILES.map((f) => `harness/${f.path}`).sort();
  t.deepEqual(shipped, importClosure(AGENT, readRepo).files);
  t.is(new Set(AGENT_FILES.map((f) => f.key)).size, AGENT_FILES.length, 'one key per file');
});

// Test support that runs the real agent in-process (the loopback bed's pods, a probe through the
// API server's pod proxy) and the test of the package's podpath/agent entry. Nothing else.
const AGENT_IMPORTERS = ['harness/index.test.ts', 'harness/kube/client.test.ts', 'harness/runner/testing/loopback-mesh.ts'];

/** Files outside harness/workload that import the agent (relatively or as podpath/agent). */
export function agentImporters(files: readonly string[], read: (file: string) => string): string[] {
  return files.filter((f) => !f.startsWith('harness/workload/') && specifiersOf(read(f)).specifiers.some((s) => resolveSpecifier(f, s) === AGENT));
}

test('no host code imports the agent: only the listed test support that runs it', (t) => {
  const files = ['bin', 'harness', 'scenarios', 'scripts', 'bench', 'manifests', 'oracle'].flatMap((dir) => sourceFiles(dir, true));
  t.deepEqual(agentImporters(files, readRepo), AGENT_IMPORTERS);
  t.deepEqual(agentImporters(['harness/probe/answer.ts'], () => "import type { ProbeResult } from '../workload/agent.ts';"), ['harness/probe/answer.ts'], 'a type-only import counts too');
});

// --- Test support: one testing/ folder per part ---------------------------------------------------

// Benchmarks are not shipped either: they may drive the loopback test double.
const isTest = (file: string): boolean => file.endsWith('.test.ts') || file.includes('/testing/') || file.startsWith('bench/');
// Entry points whose only importers are tests: the package's library module and the pod's agent.
const ENTRY_POINTS = ['harness/index.ts', AGENT];

/** Code that only tests use but lives outside a testing/ folder, and shipped code that imports test support. */
export function testingViolations(files: readonly string[], read: (file: string) => string): string[] {
  const importers = new Map<string, string[]>();
  for (const file of files) for (const target of importsOf(file, read(file))) importers.set(target, [...(importers.get(target) ?? []), file]);
  const problems: string[] = [];
  for (const file of files) {
    if (isTest(file)) continue;
    for (const target of importsOf(file, read(file))) if (target.includes('/testing/')) problems.push(`${file} (shipped) imports test support ${target}`);
    const users = importers.get(file) ?? [];
    if (file.startsWith('harness/') && !ENTRY_POINTS.includes(file) && users.length > 0 && users.every(isTest)) problems.push(`${file} is used by tests only: move it to a testing/ folder`);
  }
  return problems;
}

test('the testing/ convention check sees test-only code outside testing/ and shipped code importing test support', (t) => {
  const tree: Record<string, string> = {
    'harness/report/test-fixtures.ts': "export const r = 1;",
    'harness/report/diff.test.ts': "import { r } from './test-fixtures.ts';\nimport { d } from './diff.ts';",
    'harness/report/diff.ts': "import { fake } from './testing/fake.ts';\nexport const d = 1;",
    'harness/report/index.ts': "export { d } from './diff.ts';",
    'harness/index.ts': "export * from './report/index.ts';",
    'harness/report/testing/fake.ts': "export const fake = 1;",
  };
  t.deepEqual(testingViolations(Object.keys(tree), (f) => tree[f]), [
    'harness/report/test-fixtures.ts is used by tests only: move it to a testing/ folder',
    'harness/report/diff.ts (shipped) imports test support harness/report/testing/fake.ts',
  ]);
});

test('test support lives in testing/ folders, and nothing shipped imports it', (t) => {
  const files = ['bin', 'harness', 'scenarios', 'scripts', 'bench', 'manifests', 'oracle'].flatMap((dir) => sourceFiles(dir, true));
  t.deepEqual(testingViolations(files, readRepo), []);
});
