import avaTest from 'ava';
import { onLoopbackAliases } from '../testing/loopback.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { changedFrom, configVersion, consecutive, DEFAULT_PIPELINE, durationMs, probeTimeoutMs, runAttempt, type PipelineOptions } from './pipeline.ts';
import { isExclusive, scenario } from './scenario.ts';
import { LoopbackMesh } from './testing/loopback-mesh.ts';
import type { PodInfo } from './mesh-bed.ts';
import type { ProbeResult } from '../probe/index.ts';
import { MtlsHistory } from './pooled.ts';
import { parseLogText } from '../accesslog/index.ts';
import { LOOPBACK_BUDGETS } from './testing/budgets.ts';

// Block 127.0.24.0/24 belongs to this file.
const BLOCK = 24;
// Where 127.0.BLOCK.x cannot be bound (macOS without aliases), every test here is skipped with the reason.
const test = await onLoopbackAliases(avaTest, [`127.0.${BLOCK}.1`]);
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

/** The double with some methods replaced; every other call goes to the double itself (its state stays one). */
function withOverrides(mesh: LoopbackMesh, overrides: Partial<Record<keyof LoopbackMesh, unknown>>): LoopbackMesh {
  return new Proxy(mesh, {
    get(target, key) {
      if (Object.hasOwn(overrides, key)) return overrides[key as keyof LoopbackMesh];
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The double, with the agent's answer replaced: what a broken or mismatched agent could send back. */
function answering(mesh: LoopbackMesh, answer: (real: ProbeResult[]) => unknown): LoopbackMesh {
  return withOverrides(mesh, { probe: async (...args: Parameters<LoopbackMesh['probe']>) => answer(await mesh.probe(...args)) as ProbeResult[] });
}

test('an empty probe answer, too few results or an unknown outcome is a harness error, never a pass', async (t) => {
  const mesh = await LoopbackMesh.start({ block: BLOCK, istio: '1.22.8' });
  t.teardown(() => mesh.close());
  const baseline = scenario('twice', 'two connections to app').probe({ name: 'p', from: 'manager', to: { pod: 'app' }, port: 5701, protocol: 'tcp', count: 2 })
    .expect('*', { outcome: 'echoed', responder: 'target' }).build();
  const cases: Array<[string, (real: ProbeResult[]) => unknown, RegExp]> = [
    ['empty', () => [], /with 0 results for 2 connections/],
    ['too few', (real) => real.slice(0, 1), /with 1 result for 2 connections/],
    ['unknown outcome', (real) => real.map((r) => ({ ...r, outcome: 'ok' })), /outcome "ok", not one of/],
  ];
  for (const [label, answer, message] of cases) {
    const r = await runAttempt(answering(mesh, answer), baseline, 1, FAST);
    t.is(r.status, 'failed', label);
    t.regex(r.error ?? '', message, label);
  }
  t.is((await runAttempt(mesh, baseline, 1, FAST)).status, 'passed', 'the same scenario passes on real answers');
});

test('a scenario with zero observations is never passed, even when the answer slips past the check', async (t) => {
  const mesh = await LoopbackMesh.start({ block: BLOCK, istio: '1.22.8' });
  t.teardown(() => mesh.close());
  // count 0 is not a valid request, but a scenario must not pass on it either.
  const none = scenario('none', 'asks for nothing').probe({ name: 'p', from: 'manager', to: { pod: 'app' }, port: 5701, protocol: 'tcp', count: 0 })
    .expect('*', { outcome: 'echoed' }).build();
  const silent = withOverrides(mesh, { probe: async () => [] });
  const r = await runAttempt(silent, none, 1, FAST);
  t.is(r.status, 'failed');
  t.deepEqual(r.probes[0].observed, []);
  t.is(r.probes[0].verdict, 'fail');
  t.regex(r.probes[0].mismatches.join('\n'), /no connection was observed/);
});

/**
 * The double, with its client sidecar's /clusters view replaced: PassthroughCluster holds a pooled
 * host for `held` reads, then drops it (Envoy's ORIGINAL_DST cleanup). Every read and probe is recorded in order.
 */
function pooling(mesh: LoopbackMesh, host: () => string, held: number, events: string[]): LoopbackMesh {
  let reads = 0;
  return withOverrides(mesh, {
    sidecarClusters: async (pod: { name: string }) => {
      events.push(`clusters ${pod.name}`);
      return reads++ < held ? `PassthroughCluster::added_via_api::true\nPassthroughCluster::${host()}::cx_active::0\n` : 'PassthroughCluster::added_via_api::true\n';
    },
    probe: async (...args: Parameters<LoopbackMesh['probe']>) => (events.push(`probe ${args[1].target}`), mesh.probe(...args)),
  });
}

test('before an HTTP probe in another mTLS mode, the client sidecar drops its pooled PassthroughCluster connections, and the probe says so', async (t) => {
  const mesh = await LoopbackMesh.start({ block: BLOCK, istio: '1.24.3' });
  t.teardown(() => mesh.close());
  const app = (await mesh.pods('app'))[0];
  const events: string[] = [];
  const bed = pooling(mesh, () => `${app.ip}:8080`, 2, events);
  const history = new MtlsHistory();
  const permissive = SCENARIOS.find((x) => x.id === 'http-pod-ip-clusterip-permissive')!;
  const strict = SCENARIOS.find((x) => x.id === 'http-pod-ip-clusterip-strict')!;
  const options = { ...FAST, mtlsHistory: history };

  const first = await runAttempt(bed, permissive, 1, options);
  t.is(first.status, 'passed', JSON.stringify(first.probes.map((p) => p.mismatches)));
  // The stand-ins, like Envoy, stamp and log one x-request-id per request: both entries carry it.
  const [observed] = first.probes[0].observed;
  const requestIdOf = (line: string | undefined) => parseLogText(line ?? '', { source: 't', pod: 'p' }).entries[0]?.requestId ?? null;
  t.truthy(requestIdOf(observed.client?.line), observed.client?.line);
  t.is(requestIdOf(observed.server?.line), requestIdOf(observed.client?.line));
  t.regex(first.probes[0].notes?.[0] ?? '', /mTLS of earlier HTTP probes unknown, now PERMISSIVE: waited [\d.]+s \(3 reads of pilot-agent request GET clusters\) until the client sidecar's PassthroughCluster dropped host 127\.0\.24\.21:8080/);

  events.length = 0;
  const again = await runAttempt(bed, permissive, 1, options);
  t.is(again.probes[0].notes, undefined, 'same mode as the last probes: nothing to drop');
  t.false(events.some((e) => e.startsWith('clusters')));

  events.length = 0;
  const r = await runAttempt(pooling(mesh, () => `${app.ip}:8080`, 1, events), strict, 1, options);
  t.is(r.status, 'passed', JSON.stringify(r.probes.map((p) => p.mismatches)));
  t.regex(r.probes[0].notes?.[0] ?? '', /mTLS was PERMISSIVE, now STRICT: waited .* dropped host 127\.0\.24\.21:8080/);
  const probeAt = events.findIndex((e) => e.startsWith('probe'));
  t.deepEqual(events.slice(0, probeAt), ['clusters manager-7948dffbdd-p44xx', 'clusters manager-7948dffbdd-p44xx'], 'read until the host was gone, then probed');
});

test('a pooled host that never goes is a harness error, not a probe that may ride the old connection', async (t) => {
  const mesh = await LoopbackMesh.start({ block: BLOCK, istio: '1.24.3' });
  t.teardown(() => mesh.close());
  const app = (await mesh.pods('app'))[0];
  const events: string[] = [];
  const strict = SCENARIOS.find((x) => x.id === 'http-pod-ip-clusterip-strict')!;
  const r = await runAttempt(pooling(mesh, () => `${app.ip}:8080`, Number.POSITIVE_INFINITY, events), strict, 1, { ...FAST, poolDrainTimeoutMs: 300 });
  t.is(r.status, 'failed');
  t.regex(r.error ?? '', /still holds PassthroughCluster host 127\.0\.24\.21:8080 after 0s .*could ride a pooled upstream connection/);
  t.false(events.some((e) => e.startsWith('probe')), 'no probe was sent');
  t.deepEqual(mesh.applied, [], 'the STRICT policy was removed again');
  const history = new MtlsHistory();
  await runAttempt(pooling(mesh, () => `${app.ip}:8080`, Number.POSITIVE_INFINITY, []), strict, 1, { ...FAST, poolDrainTimeoutMs: 300, mtlsHistory: history });
  t.deepEqual(history.switchTo('STRICT'), { drain: true, from: 'unknown' }, 'after a failed drain the next STRICT probes check again');
});

test('the dry run shows the clusters read and the wait before an HTTP probe', async (t) => {
  const { Plan } = await import('../exec/index.ts');
  const { LiveMeshBed } = await import('./mesh-bed.ts');
  const { PlanKube } = await import('./plan-kube.ts');
  const { extraDocuments } = await import('../manifests/index.ts');
  const plan = new Plan();
  const bed = new LiveMeshBed({ name: 'podpath', target: { istio: '1.24.3', pilotEnv: {} }, kubernetes: null, meshConfig: { connectTimeout: '1s', accessLogEncoding: 'TEXT' }, plan, kube: new PlanKube(plan), extraDocuments });
  await runAttempt(bed, SCENARIOS.find((x) => x.id === 'http-pod-ip-clusterip-strict')!, 1, FAST);
  const steps = plan.render();
  const read = steps.indexOf('pilot-agent request GET clusters');
  t.true(read > 0, steps);
  t.regex(steps, /PassthroughCluster lists no host <app-pod-1 IP>:8080/);
  t.true(read < steps.indexOf('/probe'), 'before the probe');
});

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
  const bed = withOverrides(mesh, {
    probe: async (...args: Parameters<LoopbackMesh['probe']>) => (await mesh.probe(...args)).map((r, i) => (i === 1 ? { ...r, outcome: 'refused' as const, responder: undefined } : r)),
  });
  const r = await runAttempt(bed, threeAttempts, 1, FAST);
  t.is(r.status, 'failed');
  t.is(r.probes[0].verdict, 'fail');
  t.deepEqual(r.probes[0].mismatches, ['attempt 2: expected outcome echoed, saw refused', `attempt 2: expected ${r.probes[0].to.pod} to answer, saw nobody`]);
});

const halfPinned = scenario('half-pinned', 'one probe checked, one only observed')
  .probe({ name: 'manager → app pod IP:5701', from: 'manager', to: { pod: 'app' }, port: 5701, protocol: 'tcp' })
  .probe({ name: 'manager → idle pod IP:8080', from: 'manager', to: { pod: 'idle' }, port: 8080, protocol: 'http', expect: [{ versions: '*', outcome: 'answered', observe: 'not pinned yet' }] })
  .expect('*', { outcome: 'echoed', responder: 'target' })
  .build();

test('one probe passed and one only observed is partial, not passed; all observed is observed', async (t) => {
  const mesh = await LoopbackMesh.start({ block: BLOCK, istio: '1.20.8' });
  t.teardown(() => mesh.close());
  const r = await runAttempt(mesh, halfPinned, 1, FAST);
  t.deepEqual(r.probes.map((p) => p.verdict), ['pass', 'observe'], JSON.stringify(r.probes.map((p) => p.mismatches)));
  t.is(r.status, 'partial');
  const onlyObserved = { ...halfPinned, probes: halfPinned.probes.slice(1) };
  t.is((await runAttempt(mesh, onlyObserved, 1, FAST)).status, 'observed');
  t.is((await runAttempt(mesh, { ...halfPinned, probes: halfPinned.probes.slice(0, 1) }, 1, FAST)).status, 'passed');
});

test('a convergence note saying the config never converged fails a probe whose observation passed', async (t) => {
  const mesh = await LoopbackMesh.start({ block: BLOCK, istio: '1.20.8' });
  t.teardown(() => mesh.close());
  const s = SCENARIOS.find((x) => x.id === 'externalname-5701-collision')!;
  // The collision happens as expected, but the bed never confirmed the client's config converged.
  const bed = withOverrides(mesh, {
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

test('an entry an earlier connection logged from the same source port before the probe is not taken for the probe\'s', async (t) => {
  const mesh = await LoopbackMesh.start({ block: BLOCK, istio: '1.22.8', pilotEnv: { ENABLE_EXTERNAL_NAME_ALIAS: 'false' } });
  t.teardown(() => mesh.close());
  const s = SCENARIOS.find((x) => x.id === 'fix-sidecar-egress')!;
  const one = { ...s, probes: s.probes.slice(0, 1).map((p) => ({ ...p, count: 1 })) };
  // The kernel gives a freed source port to the next socket: the probe's socket gets the one an
  // earlier collision connection used, whose UF,URX entry lies inside the log window before it.
  const [client, other] = await mesh.pods('manager');
  const reused = `${client.ip}:40000`;
  let real: string | null = null;
  let earlier: string | null = null;
  const bed = withOverrides(mesh, {
    probe: async (...args: Parameters<LoopbackMesh['probe']>) => {
      const results = await mesh.probe(...args);
      real = results[0].localAddress;
      return results.map((r) => ({ ...r, localAddress: reused }));
    },
    sidecarLog: async (pod: PodInfo, since: Date) => {
      const text = await mesh.sidecarLog(pod, since);
      if (pod.name !== client.name) return text;
      earlier ??= `[${new Date().toISOString()}] "- - -" 0 UF,URX - - "-" 0 0 1 - "-" "-" "-" "-" "127.0.${BLOCK}.31:5701" outbound|5701||app-ext.app.svc.cluster.local - ${other.ip}:5701 ${reused} - -\n`;
      return earlier + (real ? text.replaceAll(` ${real} `, ` ${reused} `) : text);
    },
  });
  const r = await runAttempt(bed, one, 1, FAST);
  t.not(real, null, 'the probe ran');
  t.deepEqual(mesh.connections.map((c) => c.cluster), ['PassthroughCluster'], 'the double routed the probe past the catch-all');
  t.is(r.status, 'passed', JSON.stringify(r.probes.map((p) => p.mismatches)));
  t.is(r.probes[0].observed[0].client?.cluster, 'PassthroughCluster');
});
