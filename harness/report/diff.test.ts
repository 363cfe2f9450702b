import test from 'ava';
import { diffReports, renderDiff, hasRegressions, pairTargets } from './diff.ts';
import { collisionPath, echoedPath, failingScenario, inboundServer, passthroughClient, probe, report, scenario, skippedScenario, target } from './testing/fixtures.ts';
import type { RunReport, ScenarioReport } from './schema.ts';

const collisionPassing = (): ScenarioReport => scenario({ id: 'externalname-5701-collision', title: 'ExternalName collision' });

function runs(before: ScenarioReport[], after: ScenarioReport[], versions: [string, string] = ['1.20.8', '1.21.5']): [RunReport, RunReport] {
  return [report([target(versions[0], before)], { id: 'A' }), report([target(versions[1], after)], { id: 'B' })];
}

test('pass → fail is a regression, with the path change spelled out', (t) => {
  const diff = diffReports(...runs([collisionPassing()], [failingScenario()]));
  t.is(diff.counts.regression, 1);
  t.true(hasRegressions(diff));
  const [entry] = diff.entries;
  t.is(entry.kind, 'regression');
  t.is(entry.scenario, 'externalname-5701-collision');
  t.is(entry.probe, 'pod-ip-5701');
  t.deepEqual(entry.changes, [
    'verdict pass → fail',
    'outcome echoed → closed-after-connect',
    'responder manager/manager-7948dffbdd-p44xx → nobody',
    'client - PassthroughCluster → UF,URX outbound|5701||app-ext.app.svc.cluster.local',
    'server - inbound|5701|| → absent',
  ]);
});

test('fail → pass is a fix and not a regression', (t) => {
  const diff = diffReports(...runs([failingScenario()], [collisionPassing()]));
  t.deepEqual(diff.entries.map((e) => e.kind), ['fix']);
  t.false(hasRegressions(diff));
  t.regex(diff.entries[0].changes.join('\n'), /client UF,URX outbound\|5701\|\|app-ext\.app\.svc\.cluster\.local → - PassthroughCluster/);
});

test('same verdict but a different cluster or flags is changed behaviour', (t) => {
  const observeA = scenario({ id: 'serviceentry-dns-5701-collision', status: 'observed', probes: [probe({ verdict: 'observe', observed: [echoedPath()] })] });
  const observeB = scenario({ id: 'serviceentry-dns-5701-collision', status: 'observed', probes: [probe({ verdict: 'observe', observed: [collisionPath()] })] });
  const inboundRenamed = scenario({ probes: [probe({ observed: [{ ...echoedPath(), server: { ...inboundServer(), cluster: 'inbound|5701|tcp-hazelcast|manager.manager.svc.cluster.local' } }] })] });
  const diff = diffReports(...runs([observeA, scenario()], [observeB, inboundRenamed]));
  t.deepEqual(diff.entries.map((e) => [e.kind, e.scenario]), [
    ['changed', 'serviceentry-dns-5701-collision'],
    ['changed', 'tcp-pod-ip-baseline'],
  ]);
  t.deepEqual(diff.entries[1].changes, ['server - inbound|5701|| → - inbound|5701|tcp-hazelcast|manager.manager.svc.cluster.local']);
  t.false(hasRegressions(diff));
});

test('flags alone changing is reported', (t) => {
  const withFlags = scenario({ probes: [probe({ observed: [{ ...echoedPath(), client: { ...passthroughClient(), flags: ['DC'] } }] })] });
  const diff = diffReports(...runs([scenario()], [withFlags]));
  t.deepEqual(diff.entries[0].changes, ['client - PassthroughCluster → DC PassthroughCluster']);
});

test('identical runs have no entries and count everything as unchanged', (t) => {
  const diff = diffReports(...runs([scenario(), failingScenario()], [scenario(), failingScenario()]));
  t.deepEqual(diff.entries, []);
  t.is(diff.counts.unchanged, 2);
});

test('added, removed and skipped on one side', (t) => {
  const skippedBaseline = { ...skippedScenario(), id: 'tcp-pod-ip-baseline' };
  const diff = diffReports(...runs([scenario(), collisionPassing()], [skippedBaseline, scenario({ id: 'fix-drop-port' })]));
  const kinds = Object.fromEntries(diff.entries.map((e) => [e.scenario, e.kind]));
  t.deepEqual(kinds, { 'tcp-pod-ip-baseline': 'skipped', 'externalname-5701-collision': 'removed', 'fix-drop-port': 'added' });
  const skipped = diff.entries.find((e) => e.kind === 'skipped');
  t.deepEqual(skipped?.changes, ['verdict pass → skipped', 'skip reason: applies to istio >=1.24; this target is 1.20.8']);
  t.false(hasRegressions(diff));
});

test('targets pair by equal version first, then in version order', (t) => {
  const a = report([target('1.29.2', []), target('1.28.4', []), target('1.30.1', [])]);
  const b = report([target('1.31.0', []), target('1.30.1', []), target('1.29.9', [])]);
  t.deepEqual(
    pairTargets(a, b).map(([x, y]) => `${x?.istio.version ?? '-'}>${y?.istio.version ?? '-'}`),
    ['1.30.1>1.30.1', '1.28.4>1.29.9', '1.29.2>1.31.0'],
  );
  const c = report([target('1.20.8', [])]);
  t.deepEqual(pairTargets(a, c).map(([x, y]) => `${x?.istio.version ?? '-'}>${y?.istio.version ?? '-'}`), ['1.28.4>1.20.8', '1.29.2>-', '1.30.1>-']);
});

test('human rendering groups by kind and reads as an upgrade view', (t) => {
  const diff = diffReports(...runs([collisionPassing(), scenario()], [failingScenario(), scenario({ id: 'fix-drop-port' })]));
  const text = renderDiff(diff);
  t.regex(text, /^podpath diff: A A \(istio 1\.20\.8\) → B B \(istio 1\.21\.5\)$/m);
  t.regex(text, /Regressions \(passed before, fail now\): 1\n {2}externalname-5701-collision \/ pod-ip-5701 {2}\[istio 1\.20\.8 → 1\.21\.5\]\n {6}verdict pass → fail/);
  t.regex(text, /^1 regression, 0 fixes, 0 changed, 0 skipped on one side, 1 only in B, 1 only in A, 0 unchanged\.$/m);
});

test('beds with istiod env pair with their like, not with the plain bed of the same version', (t) => {
  const env = { ENABLE_EXTERNAL_NAME_ALIAS: 'false' };
  const a = report([target('1.22.3', [scenario()]), target('1.22.3', [failingScenario()], { istio: { version: '1.22.3', pilotEnv: env, meshConfig: { connectTimeout: '1s', accessLogEncoding: 'TEXT' } } })]);
  const b = report([target('1.23.1', [failingScenario()], { istio: { version: '1.23.1', pilotEnv: env, meshConfig: { connectTimeout: '1s', accessLogEncoding: 'TEXT' } } }), target('1.23.1', [scenario()])]);
  const diff = diffReports(a, b);
  t.deepEqual(diff.pairs, [
    { a: '1.22.3', b: '1.23.1' },
    { a: '1.22.3+ENABLE_EXTERNAL_NAME_ALIAS=false', b: '1.23.1+ENABLE_EXTERNAL_NAME_ALIAS=false' },
  ]);
  t.deepEqual(diff.entries, []);
  t.is(diff.counts.unchanged, 2);
});

test('skipped before and running now is listed as skipped on one side, with the new verdict', (t) => {
  const skippedCollision = { ...skippedScenario(), id: 'externalname-5701-collision' };
  const diff = diffReports(...runs([skippedCollision], [failingScenario()]));
  t.is(diff.entries.length, 1);
  t.is(diff.entries[0].kind, 'skipped');
  t.is(diff.entries[0].probe, 'pod-ip-5701');
  t.is(diff.entries[0].changes[0], 'verdict skipped → fail');
  t.false(hasRegressions(diff));
});

test('a scenario that errored in B (failed, no probes) but passed in A is a regression', (t) => {
  const errored: ScenarioReport = { ...collisionPassing(), status: 'failed', probes: [], error: 'apply app-ext-externalname failed with HTTP 403 Forbidden' };
  const diff = diffReports(...runs([collisionPassing()], [errored]));
  t.deepEqual(diff.entries.map((e) => [e.kind, e.scenario, e.probe]), [['regression', 'externalname-5701-collision', 'pod-ip-5701']]);
  t.is(diff.entries[0].changes[0], 'verdict pass → fail');
  t.true(hasRegressions(diff));
  // And back: errored in A, passing in B is a fix, not a regression.
  const back = diffReports(...runs([errored], [collisionPassing()]));
  t.deepEqual(back.entries.map((e) => e.kind), ['fix']);
  t.false(hasRegressions(back));
});

test('only pass → fail counts as a regression: observe → fail, fail → fail and pass → observe do not', (t) => {
  const withVerdict = (verdict: 'pass' | 'fail' | 'observe', status: ScenarioReport['status']) => scenario({ status, probes: [probe({ verdict })] });
  const kindOf = (a: ScenarioReport, b: ScenarioReport) => diffReports(...runs([a], [b])).entries.map((e) => e.kind);
  t.deepEqual(kindOf(withVerdict('pass', 'passed'), withVerdict('fail', 'failed')), ['regression']);
  t.deepEqual(kindOf(withVerdict('observe', 'observed'), withVerdict('fail', 'failed')), ['changed']);
  t.deepEqual(kindOf(withVerdict('fail', 'failed'), withVerdict('fail', 'failed')), []);
  t.deepEqual(kindOf(withVerdict('pass', 'passed'), withVerdict('observe', 'observed')), ['changed']);
});

test('an HTTP status change with the same outcome is changed behaviour, named in the outcome', (t) => {
  const answered = (status: number) => scenario({ probes: [probe({ observed: [{ ...echoedPath(), outcome: 'answered', httpStatus: status }] })] });
  const diff = diffReports(...runs([answered(200)], [answered(503)]));
  t.deepEqual(diff.entries.map((e) => e.kind), ['changed']);
  t.deepEqual(diff.entries[0].changes, ['outcome answered HTTP 200 → answered HTTP 503']);
});
