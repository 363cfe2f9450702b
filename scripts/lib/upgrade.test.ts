import test from 'ava';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { captureIo } from '../../harness/testing/capture-io.ts';
import { UsageError } from '../../harness/errors/index.ts';
import { failingScenario, report, scenario, target } from '../../harness/report/testing/fixtures.ts';
import type { RunReport } from '../../harness/report/index.ts';
import { jumpWarning, nodeImageKubernetes, parseUpgradeArgs, runUpgrade, skippedMinors, type UpgradeDeps } from './upgrade.ts';
import type { BedLike, FlowBedOptions } from './deps.ts';
import { tempDir } from '../../harness/testing/temp-dir.ts';

const NOW = new Date('2026-11-23T03:00:00.000Z');
// Kubernetes ranges as in istio.io's supported-releases table.
const RANGES: Record<string, string[]> = {
  '1.24': ['1.28', '1.29', '1.30', '1.31'], '1.27': ['1.29', '1.30', '1.31', '1.32', '1.33'], '1.28': ['1.30', '1.31', '1.32', '1.33', '1.34'],
  '1.29': ['1.31', '1.32', '1.33', '1.34', '1.35'], '1.30': ['1.32', '1.33', '1.34', '1.35', '1.36'],
};
const resolveIstio = (spec: string) => {
  const version = ({ '1.24': '1.24.6', '1.27': '1.27.7', '1.28': '1.28.4', '1.29': '1.29.9', '1.30': '1.30.5' } as Record<string, string>)[spec] ?? spec;
  const minor = version.split('.').slice(0, 2).join('.');
  return { version, minor, kubernetes: RANGES[minor] ?? [] };
};

function world(reports: Record<string, RunReport | Error>, node: string | null = '1.34') {
  const log: string[] = [];
  let bedOptions: FlowBedOptions | null = null;
  const bed: BedLike = {
    name: 'podpath',
    context: 'kind-podpath',
    async [Symbol.asyncDispose]() {
      log.push('dispose');
    },
  };
  const deps: UpgradeDeps<BedLike> = {
    resolveIstio,
    nodeKubernetes: () => node,
    now: () => NOW,
    async up(options) {
      bedOptions = options;
      log.push(`up ${options.istio}`);
      return bed;
    },
    async upgradeIstio(b, to, options) {
      log.push(`upgrade ${b.name} ${to}${options.canary ? ' canary' : ''}`);
    },
    async runSuite(options) {
      log.push(`run ${options.istio.join(',')} reuse=${options.reuse} ${path.basename(options.resultsDir)}`);
      // The suite must reuse the very cluster this flow brought up and upgraded.
      if (options.name !== 'podpath' || options.connectTimeout !== '1s') throw new Error(`wrong bed ${options.name} ${options.connectTimeout}`);
      const r = reports[options.istio[0]];
      if (r instanceof Error) throw r;
      return { report: r, runDir: path.join(options.resultsDir, r.run.id) };
    },
  };
  return { log, deps, bedOptions: () => bedOptions };
}

const onA = () => report([target('1.29.9', [scenario(), scenario({ id: 'externalname-5701-collision' })])], { id: 'A' });
const onBRegressed = () => report([target('1.30.5', [scenario(), failingScenario()])], { id: 'B' });
const onBSame = () => report([target('1.30.5', [scenario(), scenario({ id: 'externalname-5701-collision' })])], { id: 'B' });

test('parses flags and requires --from and --to', (t) => {
  const o = parseUpgradeArgs(['--from', '1.29', '--to', '1.30', '--canary', '--scenario', 'tcp']);
  t.like(o, { from: '1.29', to: '1.30', canary: true, name: 'podpath', connectTimeout: '1s', keep: false });
  t.throws(() => parseUpgradeArgs(['--from', '1.29']), { instanceOf: UsageError, message: /needs --from A and --to B/ });
  t.throws(() => parseUpgradeArgs(['--from', '1.29', '--to', '1.30', 'extra']), { instanceOf: UsageError });
  t.true(parseUpgradeArgs(['-h']).help);
});

test('up on A, run, upgrade, run on B, diff, dispose: in that order; a regression exits 1', async (t) => {
  const cwd = await tempDir('podpath-upgrade-');
  const w = world({ '1.29.9': onA(), '1.30.5': onBRegressed() });
  const io = captureIo({ cwd });
  const code = await runUpgrade(parseUpgradeArgs(['--from', '1.29', '--to', '1.30']), w.deps, io.io);
  t.is(code, 1);
  t.deepEqual(w.log, ['up 1.29.9', 'run 1.29.9 reuse=true from-1.29.9', 'upgrade podpath 1.30.5', 'run 1.30.5 reuse=true to-1.30.5', 'dispose']);
  t.like(w.bedOptions(), { name: 'podpath', connectTimeout: '1s', keep: false, reuse: false });
  t.regex(io.stdout, /externalname-5701-collision \/ pod-ip-5701 {2}\[istio 1\.29\.9 → 1\.30\.5\]/);
  t.regex(io.stdout, /client - PassthroughCluster → UF,URX outbound\|5701\|\|app-ext\.app\.svc\.cluster\.local/);
  const root = path.join(cwd, 'results/upgrade-20261123T030000Z');
  t.regex(io.stdout, /page: results\/upgrade-20261123T030000Z\/upgrade\.html \(both versions' grid and every changed path\)/);
  t.regex(await readFile(path.join(root, 'diff.txt'), 'utf8'), /1 regression/);
  t.is((JSON.parse(await readFile(path.join(root, 'diff.json'), 'utf8')) as { counts: { regression: number } }).counts.regression, 1);
  // One page: the grid of both versions and the changed probes drawn side by side; summary.md from the same model.
  t.deepEqual((await readdir(root)).filter((f) => !f.startsWith('from-') && !f.startsWith('to-')).sort(), ['diff.json', 'diff.txt', 'summary.md', 'upgrade.html']);
  const page = await readFile(path.join(root, 'upgrade.html'), 'utf8');
  t.regex(page, /✗ Regressions \(passed before, fail now\): 1/);
  t.regex(page, /href="to-1\.30\.5\/[^"]+\/report\.html#istio--1\.30\.5--externalname-5701-collision--pod-ip-5701"/);
  t.regex(page, /<table class="matrix">/);
  t.regex(page, /<a class="cell" href="from-1\.29\.9\/A\/report\.html#istio--1\.29\.9--externalname-5701-collision" title="externalname-5701-collision on Istio 1\.29\.9: passed/);
  t.is(page.match(/class="cell"/g)?.length, 4, '2 scenarios × 2 versions');
  const summary = await readFile(path.join(root, 'summary.md'), 'utf8');
  t.regex(summary, /^# podpath upgrade ❌ \*\*regressions\*\*: Istio 1\.29\.9 → 1\.30\.5/);
  t.regex(summary, /\| `externalname-5701-collision` \| \[✅ passed\]\(from-1\.29\.9\/A\/report\.html#istio--1\.29\.9--externalname-5701-collision\) \| \[❌ failed\]\(to-1\.30\.5\/B\/report\.html#/);
  t.regex(summary, /## Regressions \(passed before, fail now\): 1\n\n- `externalname-5701-collision \/ pod-ip-5701` \(Istio 1\.29\.9 → 1\.30\.5\)/);
  t.regex(summary, /`path expected passthrough; observed passthrough → captured\(app-ext\.app\.svc\.cluster\.local\)`/);
});

test('no regression exits 0; --canary reaches upgradeIstio', async (t) => {
  const cwd = await tempDir('podpath-upgrade-');
  const w = world({ '1.29.9': onA(), '1.30.5': onBSame() });
  const stepSummary = path.join(cwd, 'step-summary.md');
  t.is(await runUpgrade(parseUpgradeArgs(['--from', '1.29', '--to', '1.30', '--canary']), w.deps, captureIo({ cwd, env: { GITHUB_STEP_SUMMARY: stepSummary } }).io), 0);
  t.true(w.log.includes('upgrade podpath 1.30.5 canary'));
  const summary = await readFile(stepSummary, 'utf8');
  t.regex(summary, /^# podpath upgrade ✅ \*\*no regression\*\*/, 'the job summary gets the comparison');
  t.regex(summary, /No probe changed path\./);
});

test('the bed is disposed even when a run fails', async (t) => {
  const cwd = await tempDir('podpath-upgrade-');
  const w = world({ '1.29.9': onA(), '1.30.5': new Error('runner exploded') });
  await t.throwsAsync(runUpgrade(parseUpgradeArgs(['--from', '1.29', '--to', '1.30']), w.deps, captureIo({ cwd }).io), { message: 'runner exploded' });
  t.is(w.log.at(-1), 'dispose');
  t.deepEqual(await readdir(cwd), []);
});

test('same version on both sides is a usage error before anything starts', async (t) => {
  const w = world({});
  await t.throwsAsync(runUpgrade(parseUpgradeArgs(['--from', '1.30', '--to', '1.30.5']), w.deps, captureIo().io), { instanceOf: UsageError, message: /nothing to upgrade/ });
  t.deepEqual(w.log, []);
});

test('--dry-run passes dryRun to up and both runs and writes no diff files', async (t) => {
  const cwd = await tempDir('podpath-upgrade-');
  const w = world({ '1.29.9': onA(), '1.30.5': onBSame() });
  const io = captureIo({ cwd });
  await runUpgrade(parseUpgradeArgs(['--from', '1.29', '--to', '1.30', '--dry-run']), w.deps, io.io);
  t.true(w.bedOptions()?.dryRun);
  t.deepEqual(await readdir(cwd), []);
  t.regex(io.stdout, /\(dry run\)/);
});

test('skipped minors and the jump Istio documents per method: in place one minor, by revision two', (t) => {
  t.deepEqual(skippedMinors('1.29', '1.30'), []);
  t.deepEqual(skippedMinors('1.28', '1.30'), ['1.29']);
  t.deepEqual(skippedMinors('1.27', '1.30'), ['1.28', '1.29']);
  t.deepEqual(skippedMinors('1.30', '1.28'), [], 'a downgrade skips nothing upward');
  const r = (spec: string) => resolveIstio(spec);
  t.is(jumpWarning(r('1.29'), r('1.30'), false), null);
  t.regex(jumpWarning(r('1.28'), r('1.30'), false) ?? '', /^Istio 1\.28 → 1\.30 skips 1\.29: an in-place upgrade supports one minor version at a time/);
  t.is(jumpWarning(r('1.28'), r('1.30'), true), null, 'a revision upgrade may jump two minors');
  t.regex(jumpWarning(r('1.27'), r('1.30'), true) ?? '', /skips 1\.28, 1\.29: a revision \(canary\) upgrade supports jumping at most two minor versions/);
});

test('node image → Kubernetes minor', (t) => {
  t.is(nodeImageKubernetes('kindest/node:v1.30.10@sha256:4de75d0e82481ea846c0ed1de86328d821c1e6a6a91ac37bf804e5313670e507'), '1.30');
  t.is(nodeImageKubernetes('kindest/node:v1.36.1'), '1.36');
  t.is(nodeImageKubernetes('something-else'), null);
});

test('a jump larger than the method supports is run, with a warning naming the skipped minors', async (t) => {
  const cwd = await tempDir('podpath-upgrade-');
  const w = world({ '1.28.4': onA(), '1.30.5': onBSame() });
  const io = captureIo({ cwd });
  await runUpgrade(parseUpgradeArgs(['--from', '1.28', '--to', '1.30']), w.deps, io.io);
  t.regex(io.stderr, /upgrade: warning: Istio 1\.28 → 1\.30 skips 1\.29: an in-place upgrade supports one minor version at a time/);
  const canary = captureIo({ cwd });
  await runUpgrade(parseUpgradeArgs(['--from', '1.28', '--to', '1.30', '--canary']), world({ '1.28.4': onA(), '1.30.5': onBSame() }).deps, canary.io);
  t.notRegex(canary.stderr, /warning/);
});

test('a new cluster gets the newest Kubernetes both versions support', async (t) => {
  const cwd = await tempDir('podpath-upgrade-');
  const w = world({ '1.28.4': onA(), '1.30.5': onBSame() });
  await runUpgrade(parseUpgradeArgs(['--from', '1.28', '--to', '1.30']), w.deps, captureIo({ cwd }).io);
  t.is(w.bedOptions()?.k8s, '1.34', '1.28 supports up to 1.34, 1.30 from 1.32');
});

test('refuses a target whose Kubernetes range excludes the bed\'s node, before any run', async (t) => {
  const cwd = await tempDir('podpath-upgrade-');
  // A reused 1.24 bed on Kubernetes 1.29: Istio 1.30 supports 1.32–1.36.
  const w = world({ '1.24.6': onA(), '1.30.5': onBSame() }, '1.29');
  const error = await t.throwsAsync(runUpgrade(parseUpgradeArgs(['--from', '1.24', '--to', '1.30', '--reuse', '--canary']), w.deps, captureIo({ cwd }).io), { instanceOf: UsageError });
  t.regex(error?.message ?? '', /refusing to upgrade kind cluster podpath to Istio 1\.30\.5: its node runs Kubernetes 1\.29, and Istio 1\.30 supports Kubernetes 1\.32–1\.36/);
  t.deepEqual(w.log, ['up 1.24.6', 'dispose'], 'no suite ran, nothing was upgraded, the bed was released');
});

test('versions with no Kubernetes in common are refused before a cluster is created', async (t) => {
  const w = world({});
  await t.throwsAsync(runUpgrade(parseUpgradeArgs(['--from', '1.24', '--to', '1.30']), w.deps, captureIo().io), { instanceOf: UsageError, message: /support no Kubernetes version in common/ });
  t.deepEqual(w.log, []);
});
