import avaTest from 'ava';
import { onLoopbackAliases } from '../testing/loopback.ts';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureIo } from '../testing/capture-io.ts';
import { terminalSink } from '../cli/suite-output.ts';
import { diffReports, hasRegressions, readReport, type RunReport } from '../report/index.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { recordingSink, runSuite, scenario, selectScenarios, groupTargets, combineAttempts, type BedSpec, type RunOptions, type Scenario } from './index.ts';
import { LoopbackMesh, type Interference } from './testing/loopback-mesh.ts';
import { LOOPBACK_BUDGETS } from './testing/budgets.ts';
import { nodeImageKubernetes, openLiveBed } from './suite.ts';
import { Plan } from '../exec/index.ts';
import { resolveIstio } from '../cluster/index.ts';

// Block 127.0.21.0/24 belongs to this file (each test file its own block; ports are ephemeral).
const BLOCK = 21;
// Where 127.0.BLOCK.x cannot be bound (macOS without aliases), every test here is skipped with the reason.
const test = await onLoopbackAliases(avaTest, [`127.0.${BLOCK}.1`]);

function options(resultsDir: string, overrides: Partial<RunOptions> = {}): RunOptions {
  return { scenarios: [], istio: ['1.20'], reuse: false, keep: false, pauseOnFailure: false, repeat: 1, concurrency: 1, resultsDir, dryRun: false, logEncoding: 'text', ...overrides };
}

function harness(t: { teardown(fn: () => void): void }, extra: { interfere?: Interference } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-suite-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const beds: LoopbackMesh[] = [];
  const specs: BedSpec[] = [];
  return {
    dir,
    beds,
    specs,
    deps: (scenarios: readonly Scenario[]) => ({
      scenarios,
      openBed: async (spec: BedSpec) => {
        specs.push(spec);
        // Propagation and log delays make a runner that sleeps instead of waiting fail these tests.
        const bed = await LoopbackMesh.start({ block: BLOCK, istio: spec.istio, pilotEnv: spec.pilotEnv, propagationMs: 60, logDelayMs: 40, interfere: extra.interfere });
        beds.push(bed);
        return bed;
      },
      pipeline: LOOPBACK_BUDGETS,
    }),
  };
}

const wrongExpectation = scenario('collision-expected-to-be-harmless', 'A deliberately wrong expectation: baseline with app-ext applied')
  .apply('app-ext-externalname')
  .probe({ name: 'manager → app pod IP:5701', from: 'manager', to: { pod: 'app' }, port: 5701, protocol: 'tcp' })
  .expect('*', { outcome: 'echoed', responder: 'target', client: { cluster: 'passthrough', name: 'PassthroughCluster', flags: [] }, explain: 'passthrough' })
  .build();

const baselineOnly = SCENARIOS.filter((s) => s.id === 'tcp-pod-ip-baseline');

test('the runner tells its sink each scenario start, each judged probe and the verdict, in that order', async (t) => {
  const h = harness(t);
  const sink = recordingSink();
  const { report } = await runSuite(options(h.dir, { scenarios: ['^tcp-pod-ip-baseline$'] }), sink, h.deps(SCENARIOS));
  const story = sink.events.filter((e) => e.type !== 'progress' && e.type !== 'message').map((e) =>
    e.type === 'scenario-started' ? `start ${e.scenario} ${e.attempt}/${e.attempts}` : e.type === 'probe-observed' ? `probe ${e.probe.name} ${e.probe.verdict}` : e.type === 'verdict' ? `verdict ${e.report.id} ${e.report.status} [${e.target}]` : 'other');
  const probes = report.targets[0].scenarios[0].probes;
  t.true(probes.length >= 2);
  t.deepEqual(story, ['start tcp-pod-ip-baseline 1/1', ...probes.map((p) => `probe ${p.name} pass`), 'verdict tcp-pod-ip-baseline passed [1.20.8]']);
  t.true(sink.events.some((e) => e.type === 'progress' && e.total === 1));
  t.true(sink.events.some((e) => e.type === 'message' && e.level === 'info' && /redact/.test(e.text)), 'the redaction note goes to the sink too');
});

test('seed scenarios pass on the double; the collision is only seen after convergence', async (t) => {
  const h = harness(t);
  const io = captureIo();
  const { report, runDir } = await runSuite(options(h.dir, { scenarios: ['^tcp-pod-ip-baseline$', '^externalname-5701-collision$'] }), terminalSink(io.io), h.deps(SCENARIOS));
  const [target] = report.targets;
  t.deepEqual(target.scenarios.map((s) => [s.id, s.status]), [['tcp-pod-ip-baseline', 'passed'], ['externalname-5701-collision', 'passed']]);
  const collision = target.scenarios[1].probes[0];
  t.deepEqual(collision.observed[0].client?.flags, ['UF', 'URX']);
  t.is(collision.observed[0].client?.cluster, 'outbound|5701||app-ext.app.svc.cluster.local');
  t.is(collision.observed[0].server, null);
  t.is(collision.prediction?.verdict, 'captured');
  const baseline = target.scenarios[0].probes[0];
  t.is(baseline.observed.length, 2, 'count: 2 opens two connections');
  t.regex(baseline.observed[0].server?.line ?? '', /inbound\|5701\|\|/);
  t.true(target.scenarios[1].timings.converge !== undefined && target.scenarios[1].timings.cleanup !== undefined);
  t.deepEqual(h.beds[0].applied, [], 'extras removed after the scenario');
  t.regex(io.stdout, /✔ passed\s+tcp-pod-ip-baseline \[1\.20\.8\]/);
  const loaded = await readReport(runDir);
  t.is(loaded.report.totals.passed, 2);
  t.is(loaded.report.run.podpathVersion, (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version);
  t.is(loaded.report.targets[0].istio.meshConfig.connectTimeout, '1s', 'the report says the test mesh used 1s');
  t.is(loaded.report.targets[0].kind, null, 'the double is no kind cluster: it says so, nothing is made up');
  t.is(loaded.report.targets[0].nodeImage, null);
  t.deepEqual(loaded.report.targets[0].mtls, { mode: 'PERMISSIVE', policy: null }, 'what the double starts with');
  t.true(existsSync(join(runDir, 'junit.xml')) && existsSync(join(runDir, 'bundle.tar.gz')));
});

test('HTTP to pod IPs on the double (1.24 routed by the istiod golden, 1.29 by the fallback table): passthrough unless the Host is a headless per-pod name', async (t) => {
  const h = harness(t);
  const { report } = await runSuite(options(h.dir, { istio: ['1.24', '1.29'], scenarios: ['^http-pod-ip-'] }), terminalSink(captureIo().io), h.deps(SCENARIOS));
  t.is(report.targets.length, 2);
  for (const target of report.targets) {
    const byId = new Map(target.scenarios.map((s) => [s.id, s]));
    const v = target.istio.version;
    for (const id of ['http-pod-ip-clusterip-permissive', 'http-pod-ip-clusterip-strict', 'http-pod-ip-headless-permissive', 'http-pod-ip-headless-strict']) {
      const r = byId.get(id);
      t.is(r?.status, 'passed', `${v} ${id}: ${JSON.stringify({ error: r?.error, mismatches: r?.probes.map((p) => p.mismatches) })}`);
    }
    const strict = byId.get('http-pod-ip-clusterip-strict')!.probes[0].observed[0];
    t.regex(strict.client?.line ?? '', / 503 UC .* PassthroughCluster /, v);
    t.regex(strict.server?.line ?? '', /NR filter_chain_not_found/, v);
    const [byName, byIp] = byId.get('http-pod-ip-headless-strict')!.probes;
    t.is(byName.observed[0].client?.cluster, 'outbound|8080||manager-headless.manager.svc.cluster.local', v);
    t.regex(byName.observed[0].server?.line ?? '', / 200 .*inbound\|8080\|\|/, `${v}: STRICT let the "mTLS" connection in`);
    t.is(byIp.observed[0].client?.cluster, 'PassthroughCluster', v);
    t.regex(byIp.observed[0].server?.line ?? '', /NR filter_chain_not_found/, v);
  }
  t.true(h.beds.some((b) => b.target.istio.startsWith('1.24') && [...b.routedBy].some((s) => s.startsWith('oracle/goldens/1.24/'))), 'the 1.24 bed routed by istiod goldens');
  // 1.29 has no goldens (oracle/versions.ts: the module proxy serves no 1.29 commit): the table answered.
  t.true(h.beds.some((b) => b.target.istio.startsWith('1.29') && b.routedBy.size === 0), 'the 1.29 bed routed by the fallback table');
  t.deepEqual(h.beds.flatMap((b) => b.applied), [], 'manager-headless and strict-mtls removed after their scenarios');
});

test('a failing scenario reports every mismatch and writes both logs, explain and events as evidence', async (t) => {
  const h = harness(t);
  const io = captureIo();
  const { report, runDir } = await runSuite(options(h.dir), terminalSink(io.io), h.deps([wrongExpectation]));
  const s = report.targets[0].scenarios[0];
  t.is(s.status, 'failed');
  t.is(report.totals.failed, 1);
  t.true(s.probes[0].mismatches.some((m) => m.startsWith('expected outcome echoed, saw closed-after-connect')));
  t.true(s.probes[0].mismatches[0].startsWith('config did not converge: explain 127.0.21.21:5701 → passthrough'), 'the wait says what it waited for');
  t.true(s.probes[0].mismatches.includes('explain: expected verdict passthrough, predicted captured'));
  const files = s.evidence.map((e) => e.split('/').at(-1));
  t.deepEqual(files.sort(), ['client-sidecar.log', 'events.txt', 'explain.txt', 'server-sidecar.log']);
  const clientLog = readFileSync(join(runDir, s.evidence.find((e) => e.endsWith('client-sidecar.log'))!), 'utf8');
  t.regex(clientLog, /0 UF,URX .* outbound\|5701\|\|app-ext\.app\.svc\.cluster\.local/);
  const explainText = readFileSync(join(runDir, s.evidence.find((e) => e.endsWith('explain.txt'))!), 'utf8');
  t.regex(explainText, /: captured/);
  t.regex(explainText, /cluster: .*STRICT_DNS/);
  t.deepEqual(h.beds[0].applied, [], 'the failed scenario still cleaned up');
  t.regex(io.stdout, /✘ failed\s+collision-expected-to-be-harmless/);
  t.regex(io.stdout, /expected outcome echoed, saw closed-after-connect/);
  t.regex(io.stdout, /manager → app pod IP:5701: path expected passthrough, observed captured\(app-ext\.app\.svc\.cluster\.local\)/, 'the verdict line names both paths');
});

test('--repeat marks a scenario whose attempts disagree as flaky', async (t) => {
  // Every second connection the client stand-in drops: attempt 1 passes, attempt 2 fails.
  const h = harness(t, { interfere: ({ index }) => (index % 2 === 1 ? 'close' : undefined) });
  const { report } = await runSuite(options(h.dir, { repeat: 2 }), terminalSink(captureIo().io), h.deps(baselineOnly.map((s) => ({ ...s, probes: [{ ...s.probes[0], count: 1 }] }))));
  const s = report.targets[0].scenarios[0];
  t.is(s.status, 'flaky');
  t.deepEqual(s.attempts, [{ attempt: 1, status: 'passed' }, { attempt: 2, status: 'failed' }]);
  t.is(report.totals.flaky, 1);
  t.true(s.probes[0].mismatches.length > 0, 'the failing attempt is what the report shows');
});

test('scenarios outside their version range are skipped with the reason, without a bed', async (t) => {
  const h = harness(t);
  const io = captureIo();
  const { report } = await runSuite(options(h.dir, { istio: ['1.30'], scenarios: ['alias-off', 'fix-drop-port'] }), terminalSink(io.io), h.deps(SCENARIOS));
  const statuses = report.targets.flatMap((x) => x.scenarios.map((s) => [s.id, s.status, s.skipReason]));
  t.deepEqual(statuses.map((s) => s[1]), ['skipped', 'skipped']);
  t.regex(String(statuses[0][2]), /applies only to Istio <1\.24.*this bed runs 1\.30\.\d+/);
  t.is(h.specs.length, 0, 'no bed brought up for nothing');
  t.regex(io.stdout, /- skipped\s+externalname-5701-collision-alias-off \[1\.30\.\d+ \(ENABLE_EXTERNAL_NAME_ALIAS=false\)\]: applies only to Istio <1\.24/);
  t.is(report.targets[0].istio.pilotEnv.ENABLE_EXTERNAL_NAME_ALIAS, 'false');
});

test('Ctrl-C mid-probe removes the extras, skips the rest and writes a partial report marked interrupted', async (t) => {
  const controller = new AbortController();
  const h = harness(t, {
    interfere: () => {
      setTimeout(() => controller.abort(), 50);
      return 'hang';
    },
  });
  const { report, runDir } = await runSuite(options(h.dir, { signal: controller.signal }), terminalSink(captureIo().io), h.deps([wrongExpectation, ...baselineOnly]));
  t.true(report.run.interrupted);
  t.deepEqual(h.beds[0].applied, [], 'app-ext removed after Ctrl-C');
  const [first, second] = report.targets[0].scenarios;
  t.is(first.status, 'skipped');
  t.is(first.skipReason, 'interrupted while running (its extras were removed)');
  t.is(second.status, 'skipped');
  t.is(second.skipReason, 'not run: the run was interrupted');
  const loaded = await readReport(runDir);
  t.true(loaded.report.run.interrupted);
  t.false(readdirSync(h.dir).some((f) => f.startsWith('.tmp-')), 'no temporary directory left behind');
});

test('diff between a passing and a failing run lists the regression', async (t) => {
  const h = harness(t);
  const good = await runSuite(options(h.dir), terminalSink(captureIo().io), h.deps([{ ...wrongExpectation, apply: [] }]));
  const bad = await runSuite(options(h.dir), terminalSink(captureIo().io), h.deps([wrongExpectation]));
  const diff = diffReports(good.report as RunReport, bad.report as RunReport);
  t.is(diff.counts.regression, 1);
  const entry = diff.entries.find((e) => e.kind === 'regression');
  t.is(entry?.scenario, 'collision-expected-to-be-harmless');
  t.true(hasRegressions(diff));
});

test('selection: regexes include, ! excludes, nothing matching is a usage error', (t) => {
  const ids = (p: string[]) => selectScenarios(SCENARIOS, p).map((s) => s.id);
  t.true(ids(['^fix-']).every((id) => id.startsWith('fix-')));
  t.false(ids(['!^fix-']).some((id) => id.startsWith('fix-')));
  t.deepEqual(ids(['collision', '!alias|serviceentry']), ['externalname-5701-collision']);
  t.throws(() => selectScenarios(SCENARIOS, ['nope']), { message: /no scenario matches 'nope'/ });
  t.throws(() => selectScenarios(SCENARIOS, ['(']), { message: /not a valid regular expression/ });
});

test('grouping: one bed per version and istiod env, names kept valid for kind', (t) => {
  const groups = groupTargets(['1.22.8', '1.20.8'], SCENARIOS, 'podpath');
  t.is(groups.length, 4);
  t.deepEqual(groups.map((g) => Object.keys(g.pilotEnv).length), [0, 1, 0, 1]);
  t.true(groups.every((g) => /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(g.name)));
  t.is(new Set(groups.map((g) => g.name)).size, 4);
  t.deepEqual(groupTargets(['1.30.5'], baselineOnly, 'podpath').map((g) => g.name), ['podpath']);
  t.deepEqual(groupTargets(['1.22.8'], SCENARIOS, 'podpath', true).map((g) => g.name), ['podpath', 'podpath'], '--reuse: every env group attaches to the one bed');
});

test('attempt statuses combine: agreement keeps the status, pass+fail is flaky', (t) => {
  t.is(combineAttempts(['passed', 'passed']), 'passed');
  t.is(combineAttempts(['failed', 'failed']), 'failed');
  t.is(combineAttempts(['passed', 'failed']), 'flaky');
  t.is(combineAttempts(['observed', 'observed']), 'observed');
  t.is(combineAttempts(['partial', 'partial']), 'partial');
  t.is(combineAttempts(['passed', 'partial']), 'partial', 'an attempt that checked less is the honest summary');
  t.is(combineAttempts(['passed', 'observed']), 'partial');
  t.is(combineAttempts(['partial', 'failed']), 'flaky');
});

test('--concurrency runs scenarios that change nothing side by side; the report keeps the suite order', async (t) => {
  const h = harness(t);
  const base = baselineOnly[0];
  const copies = [base, { ...base, id: 'tcp-pod-ip-baseline-copy' }, SCENARIOS.find((s) => s.id === 'externalname-5701-collision')!, { ...base, id: 'tcp-pod-ip-baseline-after' }];
  const { report } = await runSuite(options(h.dir, { concurrency: 3 }), terminalSink(captureIo().io), h.deps(copies));
  t.deepEqual(report.targets[0].scenarios.map((s) => [s.id, s.status]), [
    ['tcp-pod-ip-baseline', 'passed'], ['tcp-pod-ip-baseline-copy', 'passed'], ['externalname-5701-collision', 'passed'], ['tcp-pod-ip-baseline-after', 'passed'],
  ]);
});

test('--reuse on a bed running another version: expectations and skips follow what the bed runs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-suite-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const io = captureIo();
  const { report } = await runSuite(options(dir, { istio: ['1.30'], reuse: true, scenarios: ['^externalname-5701-collision$', '^fix-drop-port$'] }), terminalSink(io.io), {
    scenarios: SCENARIOS,
    // The bed says it runs 1.20.8 with the alias off (what a marker would say), whatever was asked.
    openBed: async () => LoopbackMesh.start({ block: BLOCK, istio: '1.20.8' }),
    pipeline: LOOPBACK_BUDGETS,
  });
  const target = report.targets.find((x) => x.scenarios.some((s) => s.id === 'externalname-5701-collision'))!;
  t.is(target.istio.version, '1.20.8');
  const s = target.scenarios.find((x) => x.id === 'externalname-5701-collision')!;
  t.is(s.status, 'passed');
  t.deepEqual(s.probes[0].observed[0].client?.flags, ['UF', 'URX'], 'judged as 1.20: the collision is expected and seen');
  t.regex(io.stderr, /runs Istio 1\.20\.8 with no extra istiod env \(asked: 1\.30\.\d+/);
});

test('a dry run records the kind release and node image its plan would create the cluster with', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-suite-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const plan = new Plan();
  const bed = await openLiveBed({ name: 'podpath', istio: '1.20', pilotEnv: {}, logEncoding: 'text', connectTimeout: '1s', reuse: false, keep: false, plan, preload: false }, { env: { XDG_CACHE_HOME: join(dir, 'cache') }, workDir: (name) => join(dir, 'cache', name) });
  try {
    const release = resolveIstio('1.20');
    t.is(bed.kind, release.kind);
    t.is(bed.nodeImage, release.kindNodeImage);
    t.is(bed.kubernetes, release.node.kubernetes, 'the Kubernetes release the node image carries');
    t.deepEqual(bed.mtls, { mode: 'PERMISSIVE', policy: null }, 'the plan lists no PeerAuthentication: Istio\'s default');
    t.true(plan.steps.some((s) => s.kind === 'api' && /list PeerAuthentication .* in istio-system/.test(s.text)), 'and the plan shows the read');
    t.true(plan.steps.some((s) => s.kind === 'api' && s.text === 'list Deployment (apps/v1) in istio-system'), "the plan shows the read of istiod's env");
    t.true(plan.steps.some((s) => s.kind === 'api' && s.text === 'read ConfigMap istio-system/istio'), 'and of the mesh config');
    t.is(bed.target.features, null, 'a dry run reads nothing: version rows decide');
    t.true(plan.steps.some((s) => s.text.includes(`kind cluster podpath (${release.kindNodeImage})`)), 'the image the plan creates the cluster with');
  } finally {
    await bed[Symbol.asyncDispose]();
  }
});

test('nodeImageKubernetes reads the release from kindest/node tags and nothing else', (t) => {
  t.is(nodeImageKubernetes('kindest/node:v1.36.1@sha256:' + 'a'.repeat(64)), '1.36.1');
  t.is(nodeImageKubernetes('kindest/node:v1.30.10'), '1.30.10');
  t.is(nodeImageKubernetes(''), null);
  t.is(nodeImageKubernetes('example.com/node:v1.30.0'), null);
});
