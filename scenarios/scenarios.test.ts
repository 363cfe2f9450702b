import test from 'ava';
import { EXTRAS } from '../manifests/topology.ts';
import { externalNameCreatesListener } from '../harness/lint/index.ts';
import { bedFeatures, defaultFeatures, expectationFor, skipReason, validateScenario, extrasFor, type Scenario, type TargetInfo } from '../harness/runner/index.ts';
import { SCENARIOS } from './index.ts';
import { goldenMinors } from '../oracle/goldens.ts';

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

test('the seed suite is all there', (t) => {
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
        t.truthy(rule?.observe, `${label}: not pinned where lint cannot tell`);
      } else {
        t.is(rule?.outcome, listener ? 'closed-after-connect' : 'echoed', label);
        t.is(rule?.observe, undefined, label);
      }
    }
  }
});

test('keyed on the features istiod reports, the ExternalName rows agree with lint for both scenarios, on the bed each is for', (t) => {
  for (const id of ['externalname-5701-collision', 'externalname-5701-collision-alias-off']) {
    const s = byId(id);
    for (const minor of [19, 20, 21, 22, 23, 24, 25, 30]) {
      for (const env of [{}, { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }, { ENABLE_EXTERNAL_NAME_ALIAS: 'true' }] as Array<Record<string, string>>) {
        const version = `1.${minor}.0`;
        // The bed was asked for no env: only what istiod reports may decide.
        const rule = expectationFor(s, s.probes[0], { istio: version, pilotEnv: {}, features: defaultFeatures(version, env) });
        const label = `${id} ${version} istiod ${JSON.stringify(env)}`;
        t.truthy(rule?.when, `${label}: a feature row decides`);
        t.is(rule?.outcome, externalNameCreatesListener(version, env) === true ? 'closed-after-connect' : 'echoed', label);
        t.is(rule?.observe, undefined, label);
      }
    }
  }
});

test('the ServiceEntry rows follow DNS capture and auto-allocation where the features were read', (t) => {
  const s = byId('serviceentry-dns-5701-collision');
  const withMesh = (version: string, proxyMetadata: Record<string, string>, env: Record<string, string> = {}): TargetInfo =>
    ({ istio: version, pilotEnv: {}, features: bedFeatures(version, { env, mesh: { defaultConfig: { proxyMetadata } } }) });
  // Istio's defaults (no DNS capture): the collision, pinned where goldens exist.
  t.like(expectationFor(s, s.probes[0], withMesh('1.30.0', {})), { outcome: 'closed-after-connect', observe: undefined });
  t.truthy(expectationFor(s, s.probes[0], withMesh('1.28.0', {}))?.observe, 'no goldens for 1.28');
  // DNS capture on a 1.25+ bed (auto-allocation on by default): the listener binds the allocated address.
  t.is(expectationFor(s, s.probes[0], withMesh('1.30.0', { ISTIO_META_DNS_CAPTURE: 'true' }))?.outcome, 'echoed');
  // DNS capture on 1.24 without auto-allocation: still the wildcard listener.
  t.is(expectationFor(s, s.probes[0], withMesh('1.24.0', { ISTIO_META_DNS_CAPTURE: 'true' }))?.outcome, 'closed-after-connect');
  t.is(expectationFor(s, s.probes[0], withMesh('1.24.0', { ISTIO_META_DNS_CAPTURE: 'true' }, { PILOT_ENABLE_IP_AUTOALLOCATE: 'true' }))?.outcome, 'echoed');
});

test('under outboundTrafficPolicy REGISTRY_ONLY pod-IP TCP goes to BlackHoleCluster (observed), except where a listener captures it first', (t) => {
  const registryOnly = (version: string, env: Record<string, string> = {}): TargetInfo =>
    ({ istio: version, pilotEnv: {}, features: bedFeatures(version, { env, mesh: { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } } }) });
  for (const id of ['tcp-pod-ip-baseline', 'fix-drop-port', 'externalname-5701-collision']) {
    const s = byId(id);
    for (const p of s.probes) {
      const rule = expectationFor(s, p, registryOnly('1.22.8'));
      t.is(rule?.client?.name, 'BlackHoleCluster', `${id}: ${p.name}`);
      t.truthy(rule?.observe, `${id}: not pinned without a golden or a live run`);
    }
  }
  const captured = expectationFor(byId('externalname-5701-collision'), byId('externalname-5701-collision').probes[0], registryOnly('1.22.8', { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }));
  t.is(captured?.client?.cluster, 'outbound', 'the ExternalName listener owns 5701 before the catch-all');
  const se = byId('serviceentry-dns-5701-collision');
  t.is(expectationFor(se, se.probes[0], registryOnly('1.30.0'))?.client?.cluster, 'outbound', 'the ServiceEntry wildcard listener, too');
});

test('on >= 1.24 the baseline is pinned even on a bed installed with ENABLE_EXTERNAL_NAME_ALIAS=false (istiod ignores it)', (t) => {
  const s = byId('externalname-5701-collision');
  for (const version of ['1.24.0', '1.28.4', '1.30.1']) {
    const rule = expectationFor(s, s.probes[0], target(version, { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }));
    t.is(rule?.outcome, 'echoed', version);
    t.is(rule?.explain, 'passthrough', version);
    t.is(rule?.observe, undefined, `${version}: pinned, not observed`);
  }
});

test('the ServiceEntry collision is pinned on every minor istiod goldens cover, observed on the others', (t) => {
  const s = byId('serviceentry-dns-5701-collision');
  const covered = goldenMinors().filter((m) => m !== '1.20');
  t.true(covered.length > 0, 'no goldens for >= 1.24');
  // The goldens (oracle/goldens.test.ts) hold a pinned row to istiod; an observe row is only for minors without them.
  for (const minor of ['1.24', '1.25', '1.26', '1.27', '1.28', '1.29', '1.30', '1.31']) {
    const rule = expectationFor(s, s.probes[0], target(`${minor}.0`));
    t.is(rule?.outcome, 'closed-after-connect', minor);
    if (covered.includes(minor)) t.is(rule?.observe, undefined, `${minor} has istiod goldens: pin the row`);
    else if (Number(minor.split('.')[1]) >= 28) t.truthy(rule?.observe, `${minor} has no goldens: observe, do not pin`);
  }
});

test('collision rows: UF,URX to app-ext, no server entry, explain captured; never a duration', (t) => {
  const rule = expectationFor(byId('externalname-5701-collision-alias-off'), byId('externalname-5701-collision-alias-off').probes[0], target('1.22.8', { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }));
  t.deepEqual(rule?.client, { cluster: 'outbound', name: 'outbound|5701||app-ext.app.svc.cluster.local', flags: ['UF', 'URX'] });
  t.is(rule?.server, 'absent');
  t.is(rule?.explain, 'captured');
  t.false(JSON.stringify(SCENARIOS).includes('durationMs'));
});

test('the inbound cluster is named per era: inbound|5701|tcp-hazelcast|FQDN before 1.8 (as in the Hazelcast incident logs), inbound|5701|| after', (t) => {
  const s = byId('tcp-pod-ip-baseline');
  const old = expectationFor(s, s.probes[0], target('1.7.8'));
  const modern = expectationFor(s, s.probes[0], target('1.8.0'));
  t.deepEqual(old?.server, { cluster: 'inbound', name: 'inbound|5701|tcp-hazelcast|manager.manager.svc.cluster.local', flags: [] });
  t.deepEqual(modern?.server, { cluster: 'inbound', name: 'inbound|5701||', flags: [] });
  t.deepEqual(modern?.client, { cluster: 'passthrough', name: 'PassthroughCluster', flags: [] });
  t.deepEqual(expectationFor(s, s.probes[1], target('1.7.8'))?.server, { cluster: 'inbound', name: 'inbound|5701|tcp-hazelcast|app.app.svc.cluster.local', flags: [] }, 'the app probe names app\'s Service');
});

test('baseline, collisions and fixes probe manager → the OTHER manager pod IP:5701, pinned', (t) => {
  const tcp = SCENARIOS.filter((s) => s.id === 'tcp-pod-ip-baseline' || s.id.includes('5701-collision') || s.id.startsWith('fix-'));
  t.is(tcp.length, 9);
  for (const s of tcp) {
    t.deepEqual(s.probes[0].to, { pod: 'other-manager' }, s.id);
    t.is(s.probes[0].from, 'manager', s.id);
    t.is(s.probes[0].port, 5701, s.id);
    t.is(s.probes[0].protocol, 'tcp', s.id);
  }
  const baseline = byId('tcp-pod-ip-baseline');
  for (const p of baseline.probes) t.is(expectationFor(baseline, p, target('1.30.5'))?.observe, undefined, `${p.name} is pinned`);
});

test('no scenario needs a headless Service except the headless ones, which apply manager-headless', (t) => {
  for (const s of SCENARIOS) {
    const headless = s.id.startsWith('http-pod-ip-headless-');
    t.is(extrasFor(s).includes('manager-headless'), headless, s.id);
    if (!headless) t.false(JSON.stringify(s).includes('manager-headless'), `${s.id} expects nothing of manager-headless`);
  }
  t.deepEqual(extrasFor(byId('http-pod-ip-headless-strict')), ['strict-mtls', 'manager-headless']);
  t.deepEqual(extrasFor(byId('http-pod-ip-headless-permissive')), ['manager-headless']);
});

test('ClusterIP HTTP scenarios are pinned: PERMISSIVE 200 via PassthroughCluster, STRICT 503 with the server NR reject', (t) => {
  const permissive = byId('http-pod-ip-clusterip-permissive');
  const p = expectationFor(permissive, permissive.probes[0], target('1.30.5'));
  t.is(p?.observe, undefined);
  t.like(p, { outcome: 'answered', httpStatus: 200, responder: 'target', client: { cluster: 'passthrough', name: 'PassthroughCluster', flags: [] } });
  t.deepEqual(p?.server, { cluster: 'inbound', name: 'inbound|8080||', flags: [] });
  const strict = byId('http-pod-ip-clusterip-strict');
  t.is(expectationFor(strict, strict.probes[0], target('1.30.5'))?.observe, undefined);
});

test('headless scenarios (istiod goldens): per-pod Host → the headless cluster, pinned in both modes; pod-IP Host → PassthroughCluster like ClusterIP', (t) => {
  const permissive = byId('http-pod-ip-headless-permissive');
  const [byName, byIp] = permissive.probes;
  t.regex(byName.httpHost ?? '', /^manager-1\.manager-headless\.manager\.svc\.cluster\.local:8080$/);
  t.is(byIp.httpHost, undefined, 'the pod IP as dialled is the Host');
  const strict = byId('http-pod-ip-headless-strict');
  for (const s of [permissive, strict]) {
    const pinned = expectationFor(s, s.probes[0], target('1.30.5'));
    t.is(pinned?.observe, undefined, s.id);
    t.deepEqual(pinned?.client, { cluster: 'outbound', name: 'outbound|8080||manager-headless.manager.svc.cluster.local', flags: [] }, s.id);
    const byPodIp = expectationFor(s, s.probes[1], target('1.30.5'));
    t.is(byPodIp?.observe, undefined, s.id);
    t.is(byPodIp?.client?.name, 'PassthroughCluster', s.id);
  }
  t.is(expectationFor(strict, strict.probes[1], target('1.30.5'))?.httpStatus, 503, 'STRICT rejects the plaintext passthrough');
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
  t.deepEqual(rule?.client, { cluster: 'passthrough', name: 'PassthroughCluster' }, 'client flags not pinned');
  t.deepEqual(extrasFor(byId('http-pod-ip-clusterip-permissive')), []);
});

test('observe rows always say why', (t) => {
  for (const s of SCENARIOS) for (const r of [...s.expect, ...s.probes.flatMap((p) => p.expect ?? [])]) if (r.observe !== undefined) t.true(r.observe.length > 20, s.id);
});
