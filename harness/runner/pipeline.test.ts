import test from 'ava';
import { SCENARIOS } from '../../scenarios/index.ts';
import { changedFrom, configVersion, consecutive, DEFAULT_PIPELINE, durationMs, probeTimeoutMs, runAttempt, type PipelineOptions } from './pipeline.ts';
import { isExclusive, scenario } from './scenario.ts';
import { LoopbackMesh } from './testing/loopback-mesh.ts';
import { LOOPBACK_BUDGETS } from './testing/budgets.ts';

// Block 127.0.24.0/24 belongs to this file.
const BLOCK = 24;
const FAST: PipelineOptions = { ...DEFAULT_PIPELINE, ...LOOPBACK_BUDGETS, keepOnFailure: false };

test('durations: Envoy text → ms; probes outlast connectTimeout (Istio default 10 s when unknown)', (t) => {
  t.is(durationMs('1s'), 1000);
  t.is(durationMs('250ms'), 250);
  t.is(durationMs('1.5s'), 1500);
  t.is(durationMs('2m'), 120_000);
  t.is(durationMs('soon'), null);
  t.is(durationMs(null), null);
  const bed = (connectTimeout: string | null) => ({ meshConfig: { connectTimeout, accessLogEncoding: 'TEXT' as const } }) as Parameters<typeof probeTimeoutMs>[0];
  t.is(probeTimeoutMs(bed('1s'), 5000), 6000);
  t.is(probeTimeoutMs(bed(null), 5000), 15_000);
});

test('consecutive: ok only after N matches in a row; a miss starts over', (t) => {
  const answers = [true, true, false, true, true, true];
  let i = 0;
  const p = consecutive(() => ({ ok: answers[i++], state: 's' }), 3);
  t.deepEqual(answers.map(() => p(null).ok), [false, false, false, false, false, true]);
});

test('config version: from the listeners and clusters dumps, in both key styles', (t) => {
  const dump = { configs: [{ '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump', version_info: 'a/1' }, { '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', versionInfo: 'a/2' }, { '@type': 'x.RoutesConfigDump', version_info: 'r' }] };
  t.is(configVersion(dump), 'a/1 a/2');
  t.is(configVersion({ configs: [] }), null);
  t.is(configVersion(null), null);
  t.true(changedFrom('a/0 a/0')(dump).ok);
  t.false(changedFrom('a/1 a/2')(dump).ok);
  t.true(changedFrom(null)(dump).ok, 'no version recorded before: nothing to wait for');
});

test('only scenarios that change nothing may run beside others', (t) => {
  t.false(isExclusive(SCENARIOS.find((s) => s.id === 'tcp-pod-ip-baseline')!));
  t.true(isExclusive(SCENARIOS.find((s) => s.id === 'externalname-5701-collision')!));
  t.true(isExclusive(SCENARIOS.find((s) => s.id === 'http-pod-ip-headless-strict')!), 'STRICT applies strict-mtls');
});

test('the collision is probed only once the push landed: propagation delay does not leak into the result', async (t) => {
  const mesh = await LoopbackMesh.start({ block: BLOCK, istio: '1.20.8', propagationMs: 150 });
  t.teardown(() => mesh.close());
  const s = SCENARIOS.find((x) => x.id === 'externalname-5701-collision')!;
  const r = await runAttempt(mesh, s, 1, FAST);
  t.is(r.status, 'passed', JSON.stringify(r.probes.map((p) => p.mismatches)));
  t.true((r.timings.converge ?? 0) >= 100, 'it waited for the push');
  t.deepEqual(mesh.connections.map((c) => c.cluster), ['outbound|5701||app-ext.app.svc.cluster.local']);
  t.deepEqual(mesh.applied, []);
});

test('--keep leaves a failed scenario\'s extras applied and says so', async (t) => {
  const mesh = await LoopbackMesh.start({ block: BLOCK, istio: '1.20.8' });
  t.teardown(() => mesh.close());
  const wrong = scenario('wrong', 'wrong').apply('app-ext-externalname')
    .probe({ name: 'p', from: 'manager', to: { pod: 'app' }, port: 5701, protocol: 'tcp' })
    .expect('*', { outcome: 'echoed' }).build();
  const r = await runAttempt(mesh, wrong, 1, { ...FAST, keepOnFailure: true });
  t.is(r.status, 'failed');
  t.deepEqual(r.kept, ['app-ext-externalname']);
  t.deepEqual(mesh.applied, ['app-ext-externalname']);
});

/** The mesh with some of its methods replaced: the pipeline sees one bed. */
function tampered(mesh: LoopbackMesh, overrides: Partial<Pick<LoopbackMesh, 'probe' | 'waitForConfig'>>): LoopbackMesh {
  return new Proxy(mesh, {
    get(target, key) {
      if (key in overrides) return overrides[key as keyof typeof overrides];
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const threeAttempts = scenario('three-attempts', 'one probe, three connections')
  .probe({ name: 'manager → app pod IP:5701', from: 'manager', to: { pod: 'app' }, port: 5701, protocol: 'tcp', count: 3 })
  .expect('*', { outcome: 'echoed', responder: 'target' })
  .build();

test('count 3 where one attempt fails is a failed probe that names the attempt; all three passing is a pass', async (t) => {
  const mesh = await LoopbackMesh.start({ block: BLOCK, istio: '1.20.8' });
  t.teardown(() => mesh.close());
  const passing = await runAttempt(mesh, threeAttempts, 1, FAST);
  t.is(passing.status, 'passed', JSON.stringify(passing.probes.map((p) => p.mismatches)));
  t.is(passing.probes[0].observed.length, 3);
  // The second connection is refused; the other two are echoed by the target as expected.
  const bed = tampered(mesh, {
    probe: async (...args: Parameters<LoopbackMesh['probe']>) => (await mesh.probe(...args)).map((r, i) => (i === 1 ? { ...r, outcome: 'refused' as const, responder: undefined } : r)),
  });
  const r = await runAttempt(bed, threeAttempts, 1, FAST);
  t.is(r.status, 'failed');
  t.is(r.probes[0].verdict, 'fail');
  t.deepEqual(r.probes[0].mismatches, ['attempt 2: expected outcome echoed, saw refused', `attempt 2: expected ${r.probes[0].to.pod} to answer, saw nobody`]);
});

test('a convergence note saying the config never converged fails a probe whose observation passed', async (t) => {
  const mesh = await LoopbackMesh.start({ block: BLOCK, istio: '1.20.8' });
  t.teardown(() => mesh.close());
  const s = SCENARIOS.find((x) => x.id === 'externalname-5701-collision')!;
  // The collision happens as expected, but the bed never confirmed the client's config converged.
  const bed = tampered(mesh, {
    waitForConfig: async (...args: Parameters<LoopbackMesh['waitForConfig']>) => {
      await mesh.waitForConfig(...args).catch(() => undefined);
      throw new Error('did not converge in 5s');
    },
  });
  const r = await runAttempt(bed, s, 1, { ...FAST, pushWindowMs: 500 });
  t.is(r.status, 'failed');
  const [probe] = r.probes;
  t.is(probe.verdict, 'fail');
  t.regex(probe.mismatches[0], /^config did not converge: explain .* → captured \(did not converge in 5s\)$/);
  t.is(probe.mismatches.filter((m) => !m.startsWith('config did not converge')).length, 0, `the observation itself matched: ${probe.mismatches.join('; ')}`);
});
