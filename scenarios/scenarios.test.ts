import test from 'ava';
import { EXTRAS } from '../manifests/topology.ts';
import { externalNameCreatesListener } from '../harness/lint/index.ts';
import { expectationFor, skipReason, validateScenario, extrasFor, type Scenario, type TargetInfo } from '../harness/runner/index.ts';
import { SCENARIOS } from './index.ts';

const byId = (id: string): Scenario => {
  const s = SCENARIOS.find((x) => x.id === id);
  if (!s) throw new Error(`no scenario ${id}`);
  return s;
};
const target = (istio: string, pilotEnv: Record<string, string> = {}): TargetInfo => ({ istio, pilotEnv });

test('every scenario is well-formed, uniquely named and applies only known extras', (t) => {
  for (const s of SCENARIOS) t.deepEqual(validateScenario(s), [], s.id);
  t.is(new Set(SCENARIOS.map((s) => s.id)).size, SCENARIOS.length);
  for (const s of SCENARIOS) for (const e of extrasFor(s)) t.true((EXTRAS as readonly string[]).includes(e), `${s.id}: ${e}`);
});

test('the seed suite of issue 7 is all there', (t) => {
  const ids = SCENARIOS.map((s) => s.id);
  for (const id of ['tcp-pod-ip-baseline', 'externalname-5701-collision', 'serviceentry-dns-5701-collision', 'fix-drop-port', 'fix-exportto-dot', 'fix-sidecar-egress',
    'fix-virtualservice', 'fix-distinct-ports', 'http-pod-ip-clusterip-permissive', 'http-pod-ip-clusterip-strict', 'http-pod-ip-headless-permissive', 'http-pod-ip-headless-strict']) {
    t.true(ids.includes(id), id);
  }
});

test('the ExternalName collision is expected exactly where istiod builds the listener (lint agrees)', (t) => {
  const s = byId('externalname-5701-collision');
  for (const minor of [20, 21, 22, 23, 24, 25, 30]) {
    for (const env of [{}, { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }, { ENABLE_EXTERNAL_NAME_ALIAS: 'true' }] as Array<Record<string, string>>) {
      const version = `1.${minor}.0`;
      const rule = expectationFor(s, s.probes[0], target(version, env));
      const listener = externalNameCreatesListener(version, env);
      const label = `${version} ${JSON.stringify(env)}`;
      t.truthy(rule, label);
      if (listener === 'unknown') {
        t.truthy(rule?.observe, `${label}: not pinned where the flag is reported removed`);
      } else {
        t.is(rule?.outcome, listener ? 'closed-after-connect' : 'echoed', label);
        t.is(rule?.observe, undefined, label);
      }
    }
  }
});

test('collision rows: UF,URX to app-ext, no server entry, explain captured; never a duration', (t) => {
  const rule = expectationFor(byId('externalname-5701-collision-alias-off'), byId('externalname-5701-collision-alias-off').probes[0], target('1.22.8', { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }));
  t.deepEqual(rule?.client, { cluster: 'outbound', name: 'outbound|5701||app-ext.app.svc.cluster.local', flags: ['UF', 'URX'] });
  t.is(rule?.server, 'absent');
  t.is(rule?.explain, 'captured');
  t.false(JSON.stringify(SCENARIOS).includes('durationMs'));
});

test('the inbound cluster is named per era: inbound|5701|tcp-hazelcast|FQDN before 1.8, inbound|5701|| after', (t) => {
  const s = byId('tcp-pod-ip-baseline');
  const old = expectationFor(s, s.probes[0], target('1.7.8'));
  const modern = expectationFor(s, s.probes[0], target('1.8.0'));
  t.deepEqual(old?.server, { cluster: 'inbound', name: 'inbound|5701|tcp-hazelcast|app.app.svc.cluster.local', flags: [] });
  t.deepEqual(modern?.server, { cluster: 'inbound', name: 'inbound|5701||', flags: [] });
  t.deepEqual(modern?.client, { cluster: 'passthrough', name: 'PassthroughCluster', flags: [] });
});

test('fixes run where the collision happens and are skipped elsewhere with the reason', (t) => {
  for (const s of SCENARIOS.filter((x) => x.id.startsWith('fix-'))) {
    t.is(skipReason(s, target('1.22.8', { ENABLE_EXTERNAL_NAME_ALIAS: 'false' })), null, s.id);
    t.is(skipReason(s, target('1.20.8', { ENABLE_EXTERNAL_NAME_ALIAS: 'false' })), null, s.id);
    t.regex(skipReason(s, target('1.30.5', { ENABLE_EXTERNAL_NAME_ALIAS: 'false' })) ?? '', /applies only to Istio <1\.24; this bed runs 1\.30\.5/);
    t.regex(skipReason(s, target('1.22.8')) ?? '', /needs istiod env ENABLE_EXTERNAL_NAME_ALIAS=false; this bed has no extra istiod env/);
    const rule = expectationFor(s, s.probes[0], target('1.22.8', { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }));
    t.is(rule?.outcome, 'echoed', s.id);
    t.is(rule?.client?.name, 'PassthroughCluster', s.id);
  }
  t.deepEqual(byId('fix-virtualservice').apply, ['fix-virtualservice'], 'the VirtualService fix has no ExternalName');
  t.deepEqual(byId('fix-sidecar-egress').apply, ['app-ext-externalname', 'fix-sidecar-egress']);
});

test('STRICT scenarios apply strict-mtls; the ClusterIP case expects the listener-level reject', (t) => {
  const s = byId('http-pod-ip-clusterip-strict');
  t.deepEqual(extrasFor(s), ['strict-mtls']);
  const rule = expectationFor(s, s.probes[0], target('1.30.5'));
  t.deepEqual(rule?.server, { flags: ['NR'], details: 'filter_chain_not_found' });
  t.is(rule?.httpStatus, 503);
  t.deepEqual(extrasFor(byId('http-pod-ip-clusterip-permissive')), []);
});

test('observe rows always say why', (t) => {
  for (const s of SCENARIOS) for (const r of [...s.expect, ...s.probes.flatMap((p) => p.expect ?? [])]) if (r.observe !== undefined) t.true(r.observe.length > 20, s.id);
});
