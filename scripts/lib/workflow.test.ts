import test from 'ava';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

type Step = { uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Workflow = { on: Record<string, unknown>; jobs: Record<string, { 'runs-on': string; steps: Step[] }> };

test('nightly workflow: scheduled and manual, Node 24, npm ci, the nightly script, results uploaded always', async (t) => {
  const wf = parse(await readFile(new URL('../../.github/workflows/nightly.yml', import.meta.url), 'utf8')) as Workflow;
  t.truthy((wf.on.schedule as unknown[])[0]);
  t.true('workflow_dispatch' in wf.on);
  const [job] = Object.values(wf.jobs);
  t.regex(job['runs-on'], /^ubuntu-/);
  const steps = job.steps;
  t.is(steps.find((s) => s.uses?.startsWith('actions/setup-node'))?.with?.['node-version'], 24);
  const runs = steps.map((s) => s.run ?? '');
  const ci = runs.findIndex((r) => r.trim() === 'npm ci');
  const nightly = runs.findIndex((r) => r.includes('scripts/nightly.ts'));
  t.true(ci >= 0 && nightly > ci);
  t.false(runs[nightly].includes('${{'), 'inputs reach the script through env only');
  t.false(runs[nightly].includes('|| true'), 'a failing night fails the job');
  const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact'));
  t.is(upload?.if, 'always()');
  t.is(upload?.with?.path, 'results/');
});
