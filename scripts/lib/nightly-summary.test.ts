import test from 'ava';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { captureIo } from '../../harness/testing/capture-io.ts';
import { UsageError } from '../../harness/errors/index.ts';
import { failingScenario, report, scenario, target } from '../../harness/report/testing/fixtures.ts';
import type { RunReport } from '../../harness/report/index.ts';
import { parseNightlyArgs, runNightly, type NightlyDeps } from './nightly.ts';
import { parseSummaryArgs, runNightlySummary } from './nightly-summary.ts';

const latest: Record<string, string> = { '1.28': '1.28.10', '1.29': '1.29.9', '1.30': '1.30.5' };
const resolveIstio = (spec: string) => ({ version: latest[spec] ?? spec, minor: spec });
const passing = (v: string) => report([target(v, [scenario()])], { id: `20261123T0205${v.replaceAll('.', '')}Z-run` });
const failing = (v: string) => report([target(v, [scenario(), failingScenario()])], { id: `20261123T0205${v.replaceAll('.', '')}Z-run` });

/** One matrix job: scripts/nightly.ts --istio SPEC with results/ in its own artifact dir. */
async function job(root: string, spec: string, outcome: RunReport | Error, minute: number) {
  const cwd = path.join(root, `podpath-nightly-${spec}`);
  await mkdir(cwd, { recursive: true });
  const runSuite: NightlyDeps['runSuite'] = async (options) => {
    if (outcome instanceof Error) throw outcome;
    const runDir = path.join(options.resultsDir, outcome.run.id);
    await mkdir(runDir, { recursive: true });
    await writeFile(path.join(runDir, 'report.json'), JSON.stringify(outcome));
    return { report: outcome, runDir };
  };
  const io = captureIo({ cwd });
  await runNightly(parseNightlyArgs(['--istio', spec], () => []), { runSuite, resolveIstio, now: () => new Date(`2026-11-23T02:0${minute}:00Z`) }, io.io);
}

async function workspace(t: { teardown(fn: () => unknown): void }) {
  const root = await mkdtemp(path.join(tmpdir(), 'podpath-nightly-summary-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  return root;
}

test('merges one nightly per matrix job into one table, newest version first; all pass → 0', async (t) => {
  const root = await workspace(t);
  await job(root, '1.29', passing('1.29.9'), 1);
  await job(root, '1.30', passing('1.30.5'), 2);
  const stepSummary = path.join(root, 'step.md');
  const io = captureIo({ cwd: root, env: { GITHUB_STEP_SUMMARY: stepSummary } });
  const code = await runNightlySummary(parseSummaryArgs(['.', '--istio', '["1.30","1.29"]']), io.io);
  t.is(code, 0, io.stderr);
  const summary = await readFile(path.join(root, 'summary.md'), 'utf8');
  t.regex(summary, /^# podpath nightly 20261123T020100Z \(2 jobs\)/);
  t.regex(summary, /✅ \*\*all 2 Istio versions passed\*\*/);
  const rows = summary.split('\n').filter((l) => /^\| 1\.\d+/.test(l));
  t.deepEqual(rows.map((r) => r.split('|')[1].trim()), ['1.30.5', '1.29.9']);
  t.regex(rows[0], /\| ✅ passed \| 1 \| 0 \|.*`podpath-nightly-1\.30\/results\/nightly-20261123T020200Z\/istio-1\.30\.5\/20261123T0205/);
  t.is(await readFile(stepSummary, 'utf8'), `${summary}\n`);
});

test('a failing version, a version that could not run and a job that uploaded nothing all fail the merge', async (t) => {
  const root = await workspace(t);
  await job(root, '1.28', new Error('kind create cluster failed: no space left on device'), 1);
  await job(root, '1.29', failing('1.29.9'), 2);
  const io = captureIo({ cwd: root });
  const code = await runNightlySummary(parseSummaryArgs([root, '--istio', '1.30,1.29,1.28', '--out', path.join(root, 'merged.md')]), io.io);
  t.is(code, 1);
  const summary = await readFile(path.join(root, 'merged.md'), 'utf8');
  t.regex(summary, /❌ \*\*3 of 3 Istio versions failed\*\*/);
  t.regex(summary, /\| 1\.29\.9 \| ❌ failed \| 1 \| 1 \|/);
  t.regex(summary, /\| 1\.28\.10 \| 💥 kind create cluster failed: no space left on device \|/);
  t.regex(summary, /\| 1\.30 \| 💥 no results uploaded/);
});

test('a version whose report.json is missing is a failure, not a pass', async (t) => {
  const root = await workspace(t);
  await job(root, '1.30', passing('1.30.5'), 1);
  await rm(path.join(root, 'podpath-nightly-1.30/results/nightly-20261123T020100Z/istio-1.30.5'), { recursive: true });
  const io = captureIo({ cwd: root });
  t.is(await runNightlySummary(parseSummaryArgs(['.']), io.io), 1);
  t.regex(await readFile(path.join(root, 'summary.md'), 'utf8'), /1\.30\.5 \| 💥 no report\.json/);
});

test('nothing to merge is a failure; bad arguments are usage errors', async (t) => {
  const root = await workspace(t);
  const io = captureIo({ cwd: root });
  t.is(await runNightlySummary(parseSummaryArgs(['.']), io.io), 1);
  t.regex(io.stderr, /no nightly\.json/);
  t.throws(() => parseSummaryArgs([]), { instanceOf: UsageError });
  t.throws(() => parseSummaryArgs(['.', '--istio', '[1.30']), { instanceOf: UsageError });
  t.deepEqual(parseSummaryArgs(['.', '--istio', '1.29, 1.30']).istio, ['1.29', '1.30']);
});
