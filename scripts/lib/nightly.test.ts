import test from 'ava';
import { mkdtemp, readFile, readdir, writeFile, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { captureIo } from '../../harness/testing/capture-io.ts';
import { EnvironmentError, InterruptedError, UsageError } from '../../harness/errors/index.ts';
import { failingScenario, report, scenario, target } from '../../harness/report/testing/fixtures.ts';
import type { RunReport } from '../../harness/report/index.ts';
import { parseNightlyArgs, runNightly, type NightlyDeps } from './nightly.ts';
import type { SuiteOptions } from './deps.ts';
import { tempDir } from '../../harness/testing/temp-dir.ts';

const NOW = new Date('2026-11-23T02:00:00.000Z');
const supported = () => ['1.28', '1.29', '1.30'];
const resolveIstio = (spec: string) => {
  const latest: Record<string, string> = { '1.28': '1.28.4', '1.29': '1.29.9', '1.30': '1.30.5' };
  const version = latest[spec] ?? spec;
  if (!/^1\.(28|29|30)\.\d+$/.test(version)) throw new UsageError(`podpath does not know Istio ${spec}`);
  return { version, minor: version.split('.').slice(0, 2).join('.') };
};

function fakeSuite(outcomes: Record<string, RunReport | Error>) {
  const calls: SuiteOptions[] = [];
  const runSuite: NightlyDeps['runSuite'] = async (options) => {
    calls.push(options);
    const outcome = outcomes[options.istio[0]];
    if (outcome instanceof Error) throw outcome;
    // As the runner does: a run where no bed came up writes nothing.
    const written = !outcome.targets.every((t) => t.bed === 'unavailable');
    return { report: outcome, runDir: path.join(options.resultsDir, outcome.run.id), written };
  };
  return { calls, runSuite };
}

const passing = (v: string) => report([target(v, [scenario()])], { id: `run-${v}` });
const failing = (v: string) => report([target(v, [scenario(), failingScenario()])], { id: `run-${v}` });

test('parses flags: default matrix is every supported minor; lists and repeats', (t) => {
  t.deepEqual(parseNightlyArgs([], supported).istio, ['1.28', '1.29', '1.30']);
  const o = parseNightlyArgs(['--istio', '1.29,1.30', '--scenario', 'tcp', '--scenario', '!fix', '--repeat', '3', '--dry-run'], supported);
  t.deepEqual(o.istio, ['1.29', '1.30']);
  t.deepEqual(o.scenarios, ['tcp', '!fix']);
  t.is(o.repeat, 3);
  t.true(o.dryRun);
  t.throws(() => parseNightlyArgs(['--repeat', '0'], supported), { instanceOf: UsageError, message: /--repeat/ });
  t.throws(() => parseNightlyArgs(['--bogus'], supported), { instanceOf: UsageError });
  t.throws(() => parseNightlyArgs(['--log-encoding', 'xml'], supported), { instanceOf: UsageError });
  t.true(parseNightlyArgs(['--help'], supported).help);
});

test('one runSuite per version with its own results dir, then a combined summary; all pass → 0', async (t) => {
  const cwd = await tempDir('podpath-nightly-');
  const suite = fakeSuite({ '1.29.9': passing('1.29.9'), '1.30.5': passing('1.30.5') });
  const stepSummary = path.join(cwd, 'step.md');
  const io = captureIo({ cwd, env: { NO_COLOR: '1', GITHUB_STEP_SUMMARY: stepSummary } });
  const code = await runNightly(parseNightlyArgs(['--istio', '1.29,1.30'], supported), { runSuite: suite.runSuite, resolveIstio, now: () => NOW }, io.io);
  t.is(code, 0);
  t.deepEqual(suite.calls.map((c) => [c.istio, path.relative(cwd, c.resultsDir), c.reuse, c.keep, c.dryRun]), [
    [['1.29.9'], 'results/nightly-20261123T020000Z/istio-1.29.9', false, false, false],
    [['1.30.5'], 'results/nightly-20261123T020000Z/istio-1.30.5', false, false, false],
  ]);
  const summary = await readFile(path.join(cwd, 'results/nightly-20261123T020000Z/summary.md'), 'utf8');
  t.regex(summary, /✅ \*\*all 2 Istio versions passed\*\*/);
  t.regex(summary, /^\| 1\.30\.5 \| ✅ passed \| 1 \| 0 \| 0 \| 0 \| 0 \| - \| `istio-1\.30\.5\/run-1\.30\.5` \|$/m);
  t.is(await readFile(stepSummary, 'utf8'), summary + '\n');
  const matrix = await readFile(path.join(cwd, 'results/nightly-20261123T020000Z/matrix.html'), 'utf8');
  t.regex(matrix, /<a class="cell" href="istio-1\.30\.5\/run-1\.30\.5\/report\.html#istio--1\.30\.5--/);
});

test('a failing version and a version that could not run both fail the night, and the others still run', async (t) => {
  const cwd = await tempDir('podpath-nightly-');
  const suite = fakeSuite({ '1.28.4': new EnvironmentError('kind create cluster failed: no space left on device'), '1.29.9': failing('1.29.9'), '1.30.5': passing('1.30.5') });
  const io = captureIo({ cwd });
  const code = await runNightly(parseNightlyArgs([], supported), { runSuite: suite.runSuite, resolveIstio, now: () => NOW }, io.io);
  t.is(code, 1);
  t.is(suite.calls.length, 3);
  t.regex(io.stderr, /Istio 1\.28\.4: could not run: kind create cluster failed/);
  const summary = await readFile(path.join(cwd, 'results/nightly-20261123T020000Z/summary.md'), 'utf8');
  t.regex(summary, /❌ \*\*2 of 3 Istio versions failed\*\*/);
  t.regex(summary, /\| 1\.28\.4 \| 💥 kind create cluster failed: no space left on device \|/);
  t.regex(summary, /\| 1\.29\.9 \| ❌ failed \| 1 \| 1 \|/);
});

test('an unknown version fails before any cluster is made', async (t) => {
  const suite = fakeSuite({});
  await t.throwsAsync(runNightly(parseNightlyArgs(['--istio', '1.30,1.99'], supported), { runSuite: suite.runSuite, resolveIstio, now: () => NOW }, captureIo().io), { instanceOf: UsageError });
  t.is(suite.calls.length, 0);
});

test('Ctrl-C during a version stops the matrix with 130 and still summarises', async (t) => {
  const cwd = await tempDir('podpath-nightly-');
  const suite = fakeSuite({ '1.28.4': passing('1.28.4'), '1.29.9': new InterruptedError('interrupted'), '1.30.5': passing('1.30.5') });
  const io = captureIo({ cwd });
  t.is(await runNightly(parseNightlyArgs([], supported), { runSuite: suite.runSuite, resolveIstio, now: () => NOW }, io.io), 130);
  t.is(suite.calls.length, 2);
  t.regex(await readFile(path.join(cwd, 'results/nightly-20261123T020000Z/summary.md'), 'utf8'), /1\.29\.9 \| 💥 interrupted/);
});

test('--baseline diffs each version against the latest earlier run: a regression fails the night', async (t) => {
  const cwd = await tempDir('podpath-nightly-');
  const previous = path.join(cwd, 'results/nightly-20261122T020000Z/istio-1.30.5/20261122T020500.000Z-aaaa');
  await mkdir(previous, { recursive: true });
  const earlier = report([target('1.30.5', [scenario(), scenario({ id: 'externalname-5701-collision' })])]);
  await writeFile(path.join(previous, 'report.json'), JSON.stringify(earlier));
  const suite = fakeSuite({ '1.30.5': failing('1.30.5') });
  const io = captureIo({ cwd });
  const code = await runNightly(parseNightlyArgs(['--istio', '1.30', '--baseline', 'results/nightly-20261122T020000Z'], supported), { runSuite: suite.runSuite, resolveIstio, now: () => NOW }, io.io);
  t.is(code, 1);
  const summary = await readFile(path.join(cwd, 'results/nightly-20261123T020000Z/summary.md'), 'utf8');
  t.regex(summary, /## Changes against the baseline/);
  t.regex(summary, /Regressions \(passed before, fail now\): 1/);
});

test('--dry-run passes dryRun down and writes nothing itself', async (t) => {
  const cwd = await tempDir('podpath-nightly-');
  const suite = fakeSuite({ '1.30.5': passing('1.30.5') });
  const io = captureIo({ cwd });
  await runNightly(parseNightlyArgs(['--istio', '1.30', '--dry-run'], supported), { runSuite: suite.runSuite, resolveIstio, now: () => NOW }, io.io);
  t.true(suite.calls[0].dryRun);
  t.deepEqual(await readdir(cwd), []);
  t.regex(io.stdout, /dry run: would write .*summary\.md/);
});

test('a version whose bed never came up is "could not run" with the reason, not a version of failed scenarios', async (t) => {
  const cwd = await mkdtemp(path.join(tmpdir(), 'podpath-nightly-'));
  t.teardown(() => rm(cwd, { recursive: true, force: true }));
  const noBed = report([{ ...target('1.28.4', [failingScenario()]), cluster: 'podpath-1-28', bed: 'unavailable', bedError: 'Docker is not installed' }], { id: 'run-1.28.4' });
  const suite = fakeSuite({ '1.28.4': noBed, '1.30.5': passing('1.30.5') });
  const io = captureIo({ cwd });
  const code = await runNightly(parseNightlyArgs(['--istio', '1.28,1.30'], supported), { runSuite: suite.runSuite, resolveIstio, now: () => NOW }, io.io);
  t.is(code, 1);
  t.regex(io.stderr, /Istio 1\.28\.4: could not run: bed podpath-1-28 \(Istio 1\.28\.4\) was unavailable: Docker is not installed/);
  const summary = await readFile(path.join(cwd, 'results/nightly-20261123T020000Z/summary.md'), 'utf8');
  t.regex(summary, /\| 1\.28\.4 \| 💥 bed podpath-1-28 \(Istio 1\.28\.4\) was unavailable: Docker is not installed \|/);
});
