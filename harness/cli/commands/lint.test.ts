import test from 'ava';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { main } from '../main.ts';
import { captureIo } from '../../testing/capture-io.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const seed = (name: string) => join(root, 'harness/lint/fixtures/seed', `${name}.yaml`);

async function run(argv: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}) {
  const cap = captureIo(options);
  const code = await main(['lint', ...argv], cap.io);
  return { code, stdout: cap.stdout, stderr: cap.stderr };
}

test('the broken seed exits 1 with the PP001 error grouped under its file', async (t) => {
  const r = await run([seed('broken')]);
  t.is(r.code, 1);
  const lines = r.stdout.split('\n');
  t.is(lines[0], seed('broken'), 'first line is the file heading');
  t.regex(r.stdout, /error\s+PP001 externalname-ports\s+Service\/app\/app-ext\s+\S+broken\.yaml:103/);
  t.regex(r.stdout, /fix: Drop port 5701/);
  t.regex(r.stdout, /1 error, 3 warnings, 3 info/);
  t.false(r.stdout.includes('\u001b['), 'no colour when NO_COLOR / not a TTY');
});

test('every seed fix exits 0', async (t) => {
  for (const fix of ['fix-drop-port', 'fix-exportto-dot', 'fix-sidecar-egress', 'fix-virtualservice', 'fix-distinct-ports']) {
    const r = await run([seed(fix), '--istio', '1.20']);
    t.is(r.code, 0, `${fix}: ${r.stdout}`);
  }
});

test('--istio and --pilot-env change the verdict', async (t) => {
  t.is((await run([seed('broken'), '--istio', '1.22'])).code, 0);
  t.is((await run([seed('broken'), '--istio', '1.22', '--pilot-env', 'ENABLE_EXTERNAL_NAME_ALIAS=false'])).code, 1);
  t.is((await run([seed('broken'), '--istio', '1.24'])).code, 0);
});

test('--json prints one finding object per line with the contract keys', async (t) => {
  const r = await run([seed('broken'), '--json']);
  t.is(r.code, 1);
  const objects = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.is(objects.length, 7);
  for (const o of objects) t.deepEqual(Object.keys(o), ['rule', 'name', 'severity', 'resource', 'file', 'line', 'message', 'fix']);
  t.like(objects.find((o) => o.rule === 'PP001'), { name: 'externalname-ports', severity: 'error', resource: 'Service/app/app-ext', file: seed('broken'), line: 103 });
});

test('stdin: - and the default when stdin is piped, shown as <stdin>', async (t) => {
  const text = 'apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: x}\nspec:\n  ports:\n  - {name: hazelcast, port: 5701}\n';
  for (const argv of [['-'], []]) {
    const r = await run([...argv, '--json'], { stdin: text });
    t.is(r.code, 0);
    const objects = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    t.like(objects.find((o) => o.rule === 'PP004'), { file: '<stdin>', line: 6 });
  }
});

test('invalid YAML exits 2 naming file:line:col, without a stack', async (t) => {
  const r = await run(['-'], { stdin: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nkind: Pod\n' });
  t.is(r.code, 2);
  t.regex(r.stderr, /^podpath: lint: <stdin>:5:1: /);
  t.false(r.stderr.includes('    at '));
  t.is(r.stdout, '');
});

test('unreadable input and bad flags exit 2', async (t) => {
  const missing = await run(['/nonexistent/podpath-lint.yaml']);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /lint: \/nonexistent\/podpath-lint\.yaml: no such file/);
  t.is((await run([seed('broken'), '--istio', 'newest'])).code, 2);
  const env = await run([seed('broken'), '--pilot-env', 'NOEQUALS']);
  t.is(env.code, 2);
  t.regex(env.stderr, /--pilot-env needs K=V/);
  t.is((await run(['-', '-'], { stdin: '' })).code, 2);
});

test('a directory stands for its YAML files; an empty one is an error', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'podpath-lint-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'sub'));
  await mkdir(join(dir, 'empty'));
  await writeFile(join(dir, 'sub', 'a.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: x}\nspec:\n  ports: [{port: 7000}]\n');
  await writeFile(join(dir, 'notes.txt'), 'not yaml: [');
  await writeFile(join(dir, 'values.yaml'), 'replicaCount: 2\n');
  const r = await run([dir, '--json']);
  t.is(r.code, 0);
  const objects = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.deepEqual([...new Set(objects.map((o) => o.file))], [join(dir, 'sub', 'a.yaml')], 'notes.txt is not read');
  t.like(objects.find((o) => o.rule === 'PP004'), { line: 5 });
  t.is(r.stderr, `podpath: lint: ${join(dir, 'values.yaml')}:1: skipped: a mapping without kind is not a Kubernetes object\n`);
  t.is((await run([join(dir, 'empty')])).code, 2);
});

test('no findings says so', async (t) => {
  const r = await run(['-'], { stdin: '' });
  t.is(r.code, 0);
  t.is(r.stdout, 'No findings.\n');
});

test('--help lists the rules and exit codes', async (t) => {
  const r = await run(['--help']);
  t.is(r.code, 0);
  for (const id of ['PP001', 'PP002', 'PP003', 'PP004', 'PP005', 'PP006']) t.true(r.stdout.includes(id), id);
  t.regex(r.stdout, /Exit codes: 0 no error-level finding, 1 at least one error, 2 usage error, an unreadable file, or nothing\s+could be linted/);
});

test('as a child process: exit code, stdout, and colour only when forced', async (t) => {
  const cli = join(root, 'bin/podpath.ts');
  const r = await execa('npx', ['node', cli, 'lint', seed('broken')], { cwd: root, reject: false, env: { NO_COLOR: '1' } });
  t.is(r.exitCode, 1);
  t.regex(r.stdout, /PP001/);
  const coloured = await execa('npx', ['node', cli, 'lint', seed('broken')], { cwd: root, reject: false, env: { FORCE_COLOR: '1', NO_COLOR: '' } });
  t.is(coloured.exitCode, 1);
  t.true(coloured.stdout.includes('\u001b['), 'FORCE_COLOR paints');
  const piped = await execa('npx', ['node', cli, 'lint', '--json'], { cwd: root, reject: false, input: 'kind: Service\nmetadata: {name: a}\nkind: Pod\n' });
  t.is(piped.exitCode, 2);
  t.regex(piped.stderr, /^podpath: lint: <stdin>:3:1: Map keys must be unique/m);
});

test('a directory with one Helm template among good manifests: the template is an input error, the rest is linted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-lint-dir-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a-broken.yaml'), readFileSync(seed('broken'), 'utf8'));
  // What a chart's templates/service.yaml looks like before helm template renders it.
  writeFileSync(join(dir, 'b-service.yaml'), 'apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ include "chart.fullname" . }}\n  labels:\n    {{- include "chart.labels" . | nindent 4 }}\nspec:\n  ports:\n  - port: {{ .Values.service.port }}\n');
  const r = await run([dir, '--istio', '1.20']);
  t.is(r.code, 1, 'the seed manifests are still linted: PP001 error');
  t.regex(r.stdout, /PP001/);
  t.regex(r.stderr, /^podpath: lint: .*b-service\.yaml:\d+:\d+: .*\(input error: this document was not linted\)$/m);
  // Only templates: nothing could be linted, exit 2 at the end.
  rmSync(join(dir, 'a-broken.yaml'));
  const only = await run([dir]);
  t.is(only.code, 2);
  t.regex(only.stderr, /nothing could be linted/);
});

test('--istio outside the known versions is refused, naming the range', async (t) => {
  for (const version of ['2.0', '1.99', '0.8']) {
    const r = await run([seed('broken'), '--istio', version]);
    t.is(r.code, 2, version);
    t.regex(r.stderr, /outside the versions podpath knows \(1\.0 to 1\.\d+\)/, version);
  }
  t.is((await run([seed('broken'), '--istio', '1.0'])).code, 1);
});

test('input is capped: stdin or files beyond --max-input-size exit 2 naming the cap, before YAML parsing', async (t) => {
  const big = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\ndata:\n${Array.from({ length: 400 }, (_, i) => `  k${i}: v\n`).join('')}`;
  const piped = await run(['-', '--max-input-size', '1K'], { stdin: big });
  t.is(piped.code, 2);
  t.regex(piped.stderr, /^podpath: lint: stdin is more than the 1 KiB input cap \(--max-input-size\)/);
  const dir = await mkdtemp(join(tmpdir(), 'podpath-lint-cap-'));
  try {
    await writeFile(join(dir, 'a.yaml'), big);
    const file = await run([dir, '--max-input-size', '1K']);
    t.is(file.code, 2);
    t.regex(file.stderr, /a\.yaml is more than the 1 KiB input cap/);
    t.is((await run([dir])).code, 0, 'the default cap is far above a real manifest');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
