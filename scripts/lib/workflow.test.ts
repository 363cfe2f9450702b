import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

type Step = { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = { 'runs-on': string; needs?: string | string[]; if?: string; outputs?: Record<string, string>; strategy?: { 'fail-fast'?: boolean; matrix?: Record<string, unknown> }; steps: Step[] };
type Workflow = { on: Record<string, unknown>; jobs: Record<string, Job> };

const root = new URL('../../', import.meta.url);
const load = async (name: string) => parse(await readFile(new URL(`.github/workflows/${name}`, root), 'utf8')) as Workflow;
const runs = (job: Job) => job.steps.map((s) => s.run ?? '');
const indexOf = (job: Job, match: (s: Step) => boolean) => job.steps.findIndex(match);

test('nightly: a first job lists the versions with podpath versions --json', async (t) => {
  const wf = await load('nightly.yml');
  t.truthy((wf.on.schedule as unknown[])[0]);
  t.true('workflow_dispatch' in wf.on);
  const list = wf.jobs.versions;
  t.regex(list.outputs?.istio ?? '', /steps\.list\.outputs\.istio/);
  const script = list.steps.find((s) => s.run?.includes('GITHUB_OUTPUT'))!;
  t.regex(script.run!, /npx podpath versions --json \| jq -c '\[\.versions\[\]\.newest\]'/);
  t.false(script.run!.includes('${{'), 'the manual input reaches the script through env only');
});

test('nightly: one job per version from that list, each freeing disk, uploading its results and pruning', async (t) => {
  const job = (await load('nightly.yml')).jobs.run;
  t.is(job.needs, 'versions');
  t.is(job.strategy?.['fail-fast'], false, 'one broken version must not cancel the others');
  t.is(job.strategy?.matrix?.istio, '${{ fromJSON(needs.versions.outputs.istio) }}');
  t.is(job.steps.find((s) => s.uses?.startsWith('actions/setup-node'))?.with?.['node-version'], 24);
  const ci = runs(job).findIndex((r) => r.trim() === 'npm ci');
  const free = indexOf(job, (s) => s.name === 'Free disk');
  const nightly = runs(job).findIndex((r) => r.includes('scripts/nightly.ts'));
  const upload = indexOf(job, (s) => s.uses?.startsWith('actions/upload-artifact') ?? false);
  const prune = indexOf(job, (s) => /docker system prune --all --force --volumes/.test(s.run ?? ''));
  t.true(ci >= 0 && free > ci && nightly > free && upload > nightly && prune > upload, `order: ${[ci, free, nightly, upload, prune]}`);
  t.regex(runs(job)[free], /docker system prune/);
  t.regex(runs(job)[nightly], /--istio "\$ISTIO"/);
  t.is(job.steps[nightly].env?.ISTIO, '${{ matrix.istio }}');
  t.false(runs(job)[nightly].includes('${{'), 'inputs reach the script through env only');
  t.false(runs(job)[nightly].includes('|| true'), 'a failing version fails its job');
  t.is(job.steps[upload].if, 'always()');
  t.is(job.steps[upload].with?.path, 'results/');
  t.is(job.steps[upload].with?.name, 'podpath-nightly-${{ matrix.istio }}');
  t.is(job.steps[prune].if, 'always()');
});

test('nightly: one summary job merges every uploaded result, also after failed versions', async (t) => {
  const job = (await load('nightly.yml')).jobs.summary;
  t.deepEqual(job.needs, ['versions', 'run']);
  t.regex(job.if ?? '', /!cancelled\(\)/);
  const download = job.steps.find((s) => s.uses?.startsWith('actions/download-artifact'));
  t.is(download?.with?.pattern, 'podpath-nightly-*');
  const merge = job.steps.find((s) => s.run?.includes('scripts/nightly-summary.ts'));
  t.regex(merge?.run ?? '', new RegExp(`nightly-summary\\.ts ${download?.with?.path} --istio "\\$ISTIO"`));
  t.is(merge?.env?.ISTIO, '${{ needs.versions.outputs.istio }}', 'a version with no upload is listed as failed');
});

test('e2e: pull requests touching the live path run the two seed scenarios on the newest Istio', async (t) => {
  const wf = await load('e2e.yml');
  t.deepEqual(Object.keys(wf.on), ['pull_request']);
  t.deepEqual((wf.on.pull_request as { paths: string[] }).paths, ['harness/runner/**', 'harness/kube/**', 'harness/cluster/**', 'manifests/**', 'scenarios/**']);
  const [job] = Object.values(wf.jobs);
  const run = runs(job).find((r) => r.includes('podpath run')) ?? '';
  t.regex(run, /--istio "\$\(npx podpath versions --newest\)"/);
  t.regex(run, /--scenario '\^tcp-pod-ip-baseline\$'/);
  t.regex(run, /--scenario '\^externalname-5701-collision\$'/);
  t.is(job.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))?.if, 'always()');
});

test('e2e: every command the workflow runs is one README.md documents', async (t) => {
  const readme = await readFile(new URL('README.md', root), 'utf8');
  const [job] = Object.values((await load('e2e.yml')).jobs);
  const lines = runs(job).flatMap((r) => r.split('\n')).map((l) => l.trim()).filter(Boolean);
  t.true(lines.length >= 3);
  for (const line of lines) t.true(readme.includes(line), `README.md does not show: ${line}`);
});

// Decided before the tests run so a missing actionlint shows as a skip in the summary, never as a pass.
const actionlint = process.env.ACTIONLINT || 'actionlint';
const hasActionlint = spawnSync(actionlint, ['-version']).status === 0;
if (!hasActionlint) console.warn(`workflow.test.ts: actionlint not found (set ACTIONLINT or put it on PATH; .ci/run installs it with 'go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12'): the actionlint test is skipped`);

(hasActionlint ? test : test.skip)('actionlint accepts every workflow', (t) => {
  const files = ['ci.yml', 'nightly.yml', 'e2e.yml'].map((f) => fileURLToPath(new URL(`.github/workflows/${f}`, root)));
  const result = spawnSync(actionlint, ['-no-color', ...files], { encoding: 'utf8' });
  t.is(result.status, 0, `${result.stdout}${result.stderr}`);
});
